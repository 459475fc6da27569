/*
 * mmapd --check-config FILE --explain REQUEST against a real mmapd: for
 * each request, the running daemon is asked as uid 65534 and the offline
 * explanation is asked about the same user, on the same policy file;
 * both must give the same errno and, on a refusal, the same message,
 * word for word.  The exit status must say allowed (0) or refused (1),
 * and a bad request or a bad file must say 2.
 *
 * The policy covers every stage a refusal can come from: the request
 * itself, no such entry, each key of an entry (users, max_size, shared,
 * protection), a region's range, a Map whose fd would reach beyond its
 * region, the engine's own checks on zero, and a [shm] section's
 * writers and readers, before and after its writer made the memory.
 * /dev/mem is a sparse file, as in test_regs.c.  A pci region's BAR is
 * a stand-in sysfs tree, as in test_devregion.c; --explain is told the
 * BAR's size (bar N), which only the opened BAR knows.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

#define STANDIN_SIZE	(8ull << 30)
#define NOBODY_ID	"65534:65534,65534"	/* as connect_nobody() */

#define OPEN_EITHER	MMAPD__V1__REGION_OPEN__OPEN_EITHER
#define OPEN_ATTACH	MMAPD__V1__REGION_OPEN__OPEN_ATTACH

TestSuite(explain, .fini = h_cleanup, .timeout = 120);

static const char *
conf_text(void)
{
	static char buf[2048];

	snprintf(buf, sizeof(buf),
	    "[daemon]\nsocket_mode = 0666\n\n"
	    "[zero]\nusers = *\nmax_size = 1M\nshared = yes\n"
	    "protection = rw\n\n"
	    "[mem]\npath = %s\niomem = %s\nusers = root\nmax_size = 1M\n"
	    "shared = yes\nprotection = rw\n\n"
	    "[region edu]\ndevice = mem\nbase = 0xfe900000\nsize = 1M\n"
	    "users = root\nprotection = rw\nshared = yes\n\n"
	    "[region open]\ndevice = mem\nbase = 0xfe900000\nsize = 64K\n"
	    "users = *\nprotection = rw\nshared = yes\n\n"
	    "[region ro]\ndevice = mem\nbase = 0xfe900000\nsize = 4K\n"
	    "users = *\nprotection = r\nshared = no\n\n"
	    "[shm board]\nsize = 64K\nwriters = 0\nreaders = 65534\n",
	    h_sparse("devmem", STANDIN_SIZE), h_data("iomem-q35.txt"));
	return buf;
}

static int
connect_nobody(void)
{
	const gid_t g = H_NOBODY;

	return raw_connect_as_groups(H_NOBODY, H_NOBODY, &g, 1);
}

struct answer {
	int err;		/* 0 granted, else the errno */
	char msg[512];
};

/* The daemon's answer r, taken into a and freed. */
static void
answer_take(Reply *r, struct answer *a)
{
	a->err = (int)r->error;
	snprintf(a->msg, sizeof(a->msg), "%s", r->message ? r->message : "");
	reply_free(r);
}

static void
daemon_map(int fd, const char *device, uint64_t offset, uint64_t size,
    int shared, int write, int cache, const char *region, int open,
    struct answer *a)
{
	static uint64_t id;
	Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Map m = MMAPD__V1__MAP__INIT;
	Reply *r;
	int rfd = -1;

	m.device = (char *)device;
	m.offset = offset;
	m.size = size;
	m.shared = shared;
	m.write = write;
	m.cache = (Mmapd__V1__CacheMode)cache;
	m.region = (char *)(region ? region : "");
	m.open = (Mmapd__V1__RegionOpen)open;
	req.request_id = ++id;
	req.body_case = MMAPD__V1__REQUEST__BODY_MAP;
	req.map = &m;
	r = raw_call(fd, &req, &rfd);
	if (rfd >= 0)
		close(rfd);
	answer_take(r, a);
}

static void
daemon_reg(int fd, const char *device, uint64_t offset, uint32_t width,
    int write, uint64_t value, struct answer *a)
{
	static uint64_t id = 1000;
	Reply *r;

	r = write ? raw_write(fd, ++id, device, offset, width, value) :
	    raw_read(fd, ++id, device, offset, width);
	answer_take(r, a);
}

static void
daemon_modify(int fd, const char *device, uint64_t offset, uint32_t width,
    uint64_t clear, uint64_t set, struct answer *a)
{
	static uint64_t id = 2000;

	answer_take(raw_modify(fd, ++id, device, offset, width, clear, set),
	    a);
}

/* mmapd --check-config conf --explain request: its status and answer. */
static int
explain(const char *request, struct answer *a, char **outp)
{
	const char *argv[] = {
		"--check-config", h_path("mmapd.conf"), "--explain", request,
		NULL,
	};
	char *out = NULL, *p, *e;
	int st;

	st = h_run_mmapd("explain", argv, &out);
	cr_assert(WIFEXITED(st), "--explain '%s' did not exit: %d", request,
	    st);
	a->err = -1;
	a->msg[0] = '\0';
	if (strstr(out, "\ndecision: allowed\n") != NULL)
		a->err = 0;
	p = strstr(out, "\ndecision: refused ");
	if (p != NULL && (p = strstr(p, "(errno ")) != NULL)
		a->err = atoi(p + 7);
	p = strstr(out, "\nmessage: ");
	if (p != NULL) {
		p += strlen("\nmessage: ");
		e = strchr(p, '\n');
		snprintf(a->msg, sizeof(a->msg), "%.*s",
		    (int)(e ? e - p : (long)strlen(p)), p);
	}
	*outp = out;
	return WEXITSTATUS(st);
}

/* The daemon's answer d and the explanation of request must agree. */
static void
agree(const char *request, const struct answer *d)
{
	struct answer x;
	char *out = NULL;
	int status;

	status = explain(request, &x, &out);
	cr_expect_eq(x.err, d->err, "'%s': --explain says errno %d, mmapd "
	    "answered %d (%s)\n%s", request, x.err, d->err, d->msg, out);
	cr_expect_eq(status, d->err == 0 ? 0 : 1, "'%s': exit %d\n%s",
	    request, status, out);
	if (d->err != 0)
		cr_expect_str_eq(x.msg, d->msg, "'%s': --explain says \"%s\", "
		    "mmapd \"%s\"", request, x.msg, d->msg);
	free(out);
}

Test(explain, same_answer_as_the_daemon)
{
	struct answer d;
	int fd, root;

	if (geteuid() != 0)
		cr_skip_test("not root: cannot be uid 65534");
	h_start(conf_text());
	fd = connect_nobody();
	raw_hello(fd);

	/* The request itself, and no entry. */
	daemon_map(fd, "nope", 0, 4096, 0, 1, 0, NULL, 0, &d);
	cr_assert_eq(d.err, ENODEV);
	agree(NOBODY_ID " map nope size 4096", &d);

	/* Each key of [zero]: max_size; then what zero grants. */
	daemon_map(fd, "zero", 0, 2u << 20, 0, 1, 0, NULL, 0, &d);
	cr_assert_eq(d.err, EFBIG, "%s", d.msg);
	agree(NOBODY_ID " map zero size 2M", &d);
	daemon_map(fd, "zero", 0, 65536, 1, 1, 0, NULL, 0, &d);
	cr_assert_eq(d.err, 0, "%s", d.msg);
	agree(NOBODY_ID " map zero size 64K shared rw", &d);
	/* The engine's own checks, run on the real /dev/zero offline too. */
	daemon_map(fd, "zero", 0, 0, 0, 1, 0, NULL, 0, &d);
	cr_assert_eq(d.err, EINVAL, "%s", d.msg);
	agree(NOBODY_ID " map zero size 0", &d);
	daemon_map(fd, "zero", 0, 4096, 0, 1, 2, NULL, 0, &d);
	agree(NOBODY_ID " map zero size 4096 cache uncached", &d);

	/* Regions: users, shared, protection, the range, the fd's reach. */
	daemon_map(fd, "edu", 0, 4096, 1, 1, 0, NULL, 0, &d);
	cr_assert_eq(d.err, EPERM, "%s", d.msg);
	agree(NOBODY_ID " map edu size 4K shared", &d);
	daemon_map(fd, "ro", 0, 4096, 1, 0, 0, NULL, 0, &d);
	cr_assert_eq(d.err, EPERM, "%s", d.msg);
	agree(NOBODY_ID " map ro size 4K shared r", &d);
	daemon_map(fd, "open", 0, 4096, 1, 1, 0, NULL, 0, &d);
	cr_assert_eq(d.err, EPERM, "%s", d.msg);
	cr_assert(strstr(d.msg, "0xfe900000") != NULL, "%s", d.msg);
	agree(NOBODY_ID " map open size 4K shared", &d);
	daemon_map(fd, "open", 0x10000, 4096, 1, 1, 0, NULL, 0, &d);
	cr_assert_eq(d.err, EINVAL, "%s", d.msg);
	agree(NOBODY_ID " map open offset 0x10000 size 4K shared", &d);

	/* Registers. */
	daemon_reg(fd, "ro", 0x10, 32, 1, 5, &d);
	cr_assert_eq(d.err, EACCES, "%s", d.msg);
	agree(NOBODY_ID " write ro 0x10 5", &d);
	daemon_reg(fd, "open", 0x2, 32, 0, 0, &d);
	cr_assert_eq(d.err, EINVAL, "%s", d.msg);
	agree(NOBODY_ID " read open 0x2", &d);
	daemon_reg(fd, "open", 0x20000, 32, 0, 0, &d);
	cr_assert_eq(d.err, EINVAL, "%s", d.msg);
	agree(NOBODY_ID " read open 0x20000", &d);
	daemon_reg(fd, "open", 0x10, 16, 0, 0, &d);
	cr_assert_eq(d.err, 0, "%s", d.msg);
	agree(NOBODY_ID " read open 0x10 16", &d);
	daemon_reg(fd, "open", 0x10, 8, 1, 0x100, &d);
	cr_assert_eq(d.err, EINVAL, "%s", d.msg);
	agree(NOBODY_ID " write open 0x10 0x100 8", &d);
	/* Modify: decided as a Write, then its bits against the width. */
	daemon_modify(fd, "ro", 0x10, 32, 0, 1, &d);
	cr_assert_eq(d.err, EACCES, "%s", d.msg);
	agree(NOBODY_ID " modify ro 0x10 set 1", &d);
	daemon_modify(fd, "open", 0x2, 32, 0, 1, &d);
	cr_assert_eq(d.err, EINVAL, "%s", d.msg);
	agree(NOBODY_ID " modify open 0x2 set 1", &d);
	daemon_modify(fd, "open", 0x10, 8, 0x100, 0, &d);
	cr_assert_eq(d.err, EINVAL, "%s", d.msg);
	agree(NOBODY_ID " modify open 0x10 clear 0x100 8", &d);
	daemon_modify(fd, "open", 0x10, 16, 0xf0, 0x5, &d);
	cr_assert_eq(d.err, 0, "%s", d.msg);
	agree(NOBODY_ID " modify open 0x10 set 5 clear 0xf0 16", &d);
	daemon_modify(fd, "nope", 0x10, 32, 0, 1, &d);
	agree(NOBODY_ID " modify nope 0x10 set 1", &d);

	/* [shm board]: nobody reads it; before root made it, and after. */
	daemon_map(fd, "zero", 0, 65536, 1, 1, 0, "board", OPEN_EITHER, &d);
	cr_assert_eq(d.err, EACCES, "%s", d.msg);
	agree(NOBODY_ID " map zero shared size 64K rw region board", &d);
	daemon_map(fd, "zero", 0, 65536, 1, 0, 0, "board", OPEN_EITHER, &d);
	cr_assert_eq(d.err, ENOENT, "%s", d.msg);
	agree(NOBODY_ID " map zero shared size 64K r region board", &d);
	daemon_map(fd, "zero", 0, 8192, 1, 1, 0, "mine", OPEN_ATTACH, &d);
	cr_assert_eq(d.err, ENOENT, "%s", d.msg);
	agree(NOBODY_ID " map zero shared size 8K region mine attach", &d);

	root = raw_connect_as(0, 0);
	raw_hello(root);
	daemon_map(root, "zero", 0, 65536, 1, 1, 0, "board", OPEN_EITHER, &d);
	cr_assert_eq(d.err, 0, "root makes board: %s", d.msg);
	agree("0:0 map zero shared size 64K rw region board", &d);
	daemon_map(fd, "zero", 0, 65536, 1, 0, 0, "board", OPEN_ATTACH, &d);
	cr_assert_eq(d.err, 0, "nobody reads board: %s", d.msg);
	agree(NOBODY_ID " map zero shared size 64K r region board attach "
	    "exists", &d);
	daemon_map(fd, "zero", 0, 8192, 1, 0, 0, "board", OPEN_ATTACH, &d);
	cr_assert_eq(d.err, EINVAL, "%s", d.msg);
	agree(NOBODY_ID " map zero shared size 8K r region board attach "
	    "exists", &d);
	close(root);
	close(fd);
	h_stop();
}

/* Bad requests and a bad file are 2, never a decision. */
Test(explain, usage_is_2)
{
	static const char *const bad[] = {
		"65534 map",
		"no-such-user-here map zero",
		"65534 map zero size lots",
		"65534 map zero colour blue",
		"65534 poke zero",
		"65534 write open 0x10",
	};
	const char *argv[] = {
		"--check-config", NULL, "--explain", NULL, NULL,
	};
	char *out = NULL;
	size_t i;
	int st;

	argv[1] = h_write("mmapd.conf", conf_text());
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		argv[3] = bad[i];
		st = h_run_mmapd("explain", argv, &out);
		cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 2,
		    "'%s': status %d\n%s", bad[i], st, out);
		cr_expect(strstr(out, "decision:") == NULL, "%s", out);
		free(out);
	}
	argv[1] = h_write("broken.conf", "[zero]\nusers = *\nmax_size = x\n");
	argv[3] = "65534 map zero";
	st = h_run_mmapd("explain", argv, &out);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 2, "broken file: "
	    "status %d\n%s", st, out);
	free(out);
	/* --explain alone is a usage error too. */
	argv[0] = "--explain";
	argv[1] = "65534 map zero";
	argv[2] = NULL;
	st = h_run_mmapd("explain", argv, &out);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 2, "status %d\n%s", st,
	    out);
	free(out);
}

static void
put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	cr_assert(fd >= 0, "open %s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/*
 * The stand-in sysfs tree: 0000:00:01.0, vendor 0x1234 device 0x11e8,
 * a 1 MiB memory BAR 0 whose resource0 is a file of that size.
 */
static const char *
fake_sysfs(void)
{
	static char root[256];
	char dir[512], path[600], text[1024];
	size_t off = 0;
	int i, fd;

	snprintf(root, sizeof(root), "%s", h_path("sysfs"));
	snprintf(dir, sizeof(dir), "%s/0000:00:01.0", root);
	cr_assert(mkdir(root, 0755) == 0 && mkdir(dir, 0755) == 0);
	for (i = 0; i < 7; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    "0x%016llx 0x%016llx 0x%016llx\n",
		    i == 0 ? 0xd0000000ull : 0, i == 0 ? 0xd00fffffull : 0,
		    i == 0 ? 0x40200ull : 0);
	snprintf(path, sizeof(path), "%s/resource", dir);
	put(path, text);
	snprintf(path, sizeof(path), "%s/vendor", dir);
	put(path, "0x1234\n");
	snprintf(path, sizeof(path), "%s/device", dir);
	put(path, "0x11e8\n");
	snprintf(path, sizeof(path), "%s/resource0", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	cr_assert(fd >= 0 && ftruncate(fd, 1 << 20) == 0);
	close(fd);
	return root;
}

Test(explain, pci_regions_with_the_bar_size)
{
	static char text[2048];
	const char *sysfs;
	struct answer d;
	int fd;

	if (geteuid() != 0)
		cr_skip_test("not root: cannot be uid 65534");
	sysfs = fake_sysfs();
	snprintf(text, sizeof(text),
	    "[daemon]\nsocket_mode = 0666\n\n[zero]\nusers = *\n\n"
	    "[region whole]\ndevice = pci\npci = 0000:00:01.0\nbar = 0\n"
	    "sysfs = %s\nprotection = rw\nshared = yes\nusers = *\n\n"
	    "[region part]\ndevice = pci\npci = 0000:00:01.0\nbar = 0\n"
	    "sysfs = %s\nbase = 0x1000\nsize = 0x1000\nprotection = rw\n"
	    "shared = yes\nusers = *\n", sysfs, sysfs);
	h_start(text);
	fd = connect_nobody();
	raw_hello(fd);

	daemon_map(fd, "whole", 0, 4096, 1, 1, 0, NULL, 0, &d);
	cr_assert_eq(d.err, 0, "%s", d.msg);
	agree(NOBODY_ID " map whole size 4K shared bar 1M", &d);
	daemon_map(fd, "whole", 1 << 20, 4096, 1, 1, 0, NULL, 0, &d);
	cr_assert_eq(d.err, EINVAL, "%s", d.msg);
	agree(NOBODY_ID " map whole offset 1M size 4K shared bar 1M", &d);
	daemon_reg(fd, "whole", 1 << 20, 32, 0, 0, &d);
	cr_assert_eq(d.err, EINVAL, "%s", d.msg);
	agree(NOBODY_ID " read whole 0x100000 bar 1M", &d);
	/* Part of its BAR: a Map would hand out all of it. */
	daemon_map(fd, "part", 0, 4096, 1, 1, 0, NULL, 0, &d);
	cr_assert_eq(d.err, EPERM, "%s", d.msg);
	cr_assert(strstr(d.msg, "0x100000 bytes") != NULL, "%s", d.msg);
	agree(NOBODY_ID " map part size 4K shared bar 0x100000", &d);
	daemon_reg(fd, "part", 0x10, 32, 0, 0, &d);
	cr_assert_eq(d.err, 0, "%s", d.msg);
	agree(NOBODY_ID " read part 0x10 bar 1M", &d);
	close(fd);
	h_stop();
}
