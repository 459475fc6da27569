/*
 * Device regions (issue 11): no fd a Map hands out reaches beyond the
 * region the policy names, unless the policy says so.
 *
 * A pci region's fd is its BAR's sysfs resourceN, which the kernel
 * bounds by the whole BAR; so a region that is part of a BAR is served
 * by Read and Write, and its Map is refused (EPERM, with the numbers)
 * unless it says whole_bar = yes.  map = no makes any region (pci or
 * mem) registers only.  Offsets are checked without wrapping: a region
 * based at 0x10000 with no size used to grant offset 2^64 - 0x10000 at
 * BAR offset 0.
 *
 * The BAR is a stand-in sysfs tree (sysfs = DIR, a seam of the policy):
 * function 0000:00:01.0 with a 1 MiB memory BAR 0, whose resource0 is a
 * 1 MiB regular file.  What an fd reaches is measured by mapping it at
 * offsets outside the region and reading bytes the test put in the
 * file.  /dev/mem is a sparse stand-in file with the recorded table
 * iomem-q35.txt, as in test_mem.c.  The kernel's own resourceN and
 * /dev/mem are tried in make check-vm (tests/vm/guest-test.sh).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

#define KIB		1024ull
#define MIB		(1024ull * 1024)
#define PAGE		(4 * KIB)

#define FAKE_PCI	"0000:00:01.0"
#define FAKE_BAR0	0xd0000000ull
#define EDU_BAR0	0xfe900000ull	/* in iomem-q35.txt, no driver */

TestSuite(devregion, .fini = h_cleanup, .timeout = 60);

static void
put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	cr_assert(fd >= 0, "open %s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static char bar_path[600];

/* The stand-in tree; its BAR file at bar_path, a marker in each page. */
static const char *
fake_sysfs(void)
{
	static char root[256];
	char dir[512], path[600], text[1024];
	size_t off = 0;
	uint64_t pg;
	uint32_t v;
	int i, fd;

	snprintf(root, sizeof(root), "%s", h_path("sysfs"));
	cr_assert_eq(mkdir(root, 0755), 0);
	snprintf(dir, sizeof(dir), "%s/%s", root, FAKE_PCI);
	cr_assert_eq(mkdir(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/vendor", dir);
	put(path, "0x1234\n");
	snprintf(path, sizeof(path), "%s/device", dir);
	put(path, "0x11e8\n");
	for (i = 0; i < 7; i++) {
		uint64_t start = i == 0 ? FAKE_BAR0 : 0;

		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    "0x%016llx 0x%016llx 0x%016llx\n",
		    (unsigned long long)start,
		    (unsigned long long)(start ? start + MIB - 1 : 0),
		    start ? 0x40200ull : 0ull);
	}
	snprintf(path, sizeof(path), "%s/resource", dir);
	put(path, text);
	snprintf(bar_path, sizeof(bar_path), "%s/resource0", dir);
	put(bar_path, "");
	cr_assert_eq(truncate(bar_path, (off_t)MIB), 0);
	/* Each page starts with 0xba000000 + its number. */
	fd = open(bar_path, O_WRONLY | O_CLOEXEC);
	cr_assert(fd >= 0);
	for (pg = 0; pg < MIB / PAGE; pg++) {
		v = 0xba000000u + (uint32_t)pg;
		cr_assert_eq(pwrite(fd, &v, 4, (off_t)(pg * PAGE)), 4);
	}
	close(fd);
	return root;
}

/* The 32-bit word of the BAR file at off. */
static uint32_t
bar_word(uint64_t off)
{
	uint32_t v = 0;
	int fd = open(bar_path, O_RDONLY | O_CLOEXEC);

	cr_assert(fd >= 0);
	cr_assert_eq(pread(fd, &v, 4, (off_t)off), 4);
	close(fd);
	return v;
}

/* [zero] and a pci region NAME of the stand-in BAR 0, with more keys. */
static const char *
pci_region(const char *name, const char *sysfs, const char *more)
{
	static char bufs[8][512];
	static unsigned int next;
	char *b = bufs[next++ % 8];

	snprintf(b, sizeof(bufs[0]), "[region %s]\ndevice = pci\npci = %s\n"
	    "bar = 0\nsysfs = %s\nprotection = rw\nshared = yes\n"
	    "users = *\n%s\n", name, FAKE_PCI, sysfs, more);
	return b;
}

static const char *
conf(const char *a, const char *b, const char *c, const char *d)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "[daemon]\nsocket_mode = 0666\n\n"
	    "[zero]\nusers = *\n\n%s%s%s%s", a, b ? b : "", c ? c : "",
	    d ? d : "");
	return buf;
}

/*
 * A Map: its errno (0 granted), its message into msg, the Grant's
 * mmap_offset into *moff, its fd into *rfd (-1 when none).
 */
static int
map_as(int fd, const char *device, uint64_t offset, uint64_t size,
    char *msg, size_t len, uint64_t *moff, int *rfd)
{
	Reply *r;
	int err;

	*rfd = -1;
	r = raw_map(fd, 1, device, offset, size, 1, 1, NULL, rfd);
	err = (int)r->error;
	snprintf(msg, len, "%s", r->message ? r->message : "");
	if (moff != NULL && r->grant != NULL)
		*moff = r->grant->mmap_offset;
	reply_free(r);
	return err;
}

static int
read_as(int fd, const char *device, uint64_t offset, uint64_t *value,
    char *msg, size_t len)
{
	Reply *r = raw_read(fd, 2, device, offset, 32);
	int err = (int)r->error;

	snprintf(msg, len, "%s", r->message ? r->message : "");
	if (err == 0 && r->read != NULL)
		*value = r->read->value;
	reply_free(r);
	return err;
}

/* The fd, mapped read-only at off: its first word, or -errno. */
static int64_t
reach(int fd, uint64_t off)
{
	uint32_t v;
	void *p;

	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, (off_t)off);
	if (p == MAP_FAILED)
		return -errno;
	v = *(volatile uint32_t *)p;
	munmap(p, PAGE);
	return v;
}

static void
expect_in(const char *msg, const char *needle)
{
	cr_expect(strstr(msg, needle) != NULL, "no '%s' in '%s'", needle,
	    msg);
}

/* ------------------------------------------------------------------------ */

/*
 * A region of one page of a 1 MiB BAR: no fd goes out, to root or to
 * anyone else, and the refusal says what the fd would reach, what the
 * region is, and that Read and Write serve it, which they do.
 */
Test(devregion, subrange_map_refused)
{
	const char *sysfs = fake_sysfs();
	char msg[512];
	uint64_t v = 0;
	int fd, rfd, i;

	h_start(conf(pci_region("page", sysfs, "base = 0x1000\nsize = 4K\n"),
	    NULL, NULL, NULL));
	for (i = 0; i < 2; i++) {
		fd = i == 0 ? raw_connect() : raw_connect_as(H_OTHER, H_OTHER);
		raw_hello(fd);
		cr_assert_eq(map_as(fd, "page", 0, PAGE, msg, sizeof(msg),
		    NULL, &rfd), EPERM, "%s: %s", i ? "uid 65533" : "root",
		    msg);
		cr_assert_eq(rfd, -1, "a refusal carried an fd");
		expect_in(msg, "region page is base 0x1000 size 0x1000 of "
		    "BAR 0 of " FAKE_PCI);
		expect_in(msg, "the whole BAR (0x100000 bytes)");
		expect_in(msg, "Read and Write serve the region");
		expect_in(msg, "whole_bar = yes");

		/* Read and Write reach the region's bytes, and only them. */
		cr_assert_eq(read_as(fd, "page", 0, &v, msg, sizeof(msg)), 0,
		    "%s", msg);
		cr_assert_eq(v, 0xba000001u, "Read at 0 gave %#llx, not the "
		    "BAR's page 1", (unsigned long long)v);
		cr_assert_eq(read_as(fd, "page", PAGE, &v, msg, sizeof(msg)),
		    EINVAL, "Read one page past the region: %s", msg);
		expect_in(msg, "offset 0x1000 size 0x4 is outside page "
		    "(0x1000 bytes from base 0x1000)");
		close(fd);
	}
	fd = raw_connect();
	raw_hello(fd);
	reply_free(raw_write(fd, 3, "page", 8, 32, 0x5eed));
	cr_assert_eq(bar_word(0x1008), 0x5eed, "Write landed elsewhere");
	close(fd);
	cr_assert_eq(h_log_count("audit: event=deny", "device=page ",
	    "errno=EPERM "), 2);
	cr_assert_eq(h_log_count("event=grant"), 0);
	cr_assert_eq(h_status_leases(), 0);
	h_stop();
}

/*
 * whole_bar = yes: the Map is granted at the region's page, and its fd
 * reaches the whole BAR, as the key says; the grant is logged so.
 * A region that is the whole BAR maps without a word.
 */
Test(devregion, whole_bar_grants_the_bar)
{
	const char *sysfs = fake_sysfs();
	char msg[512];
	uint64_t moff = 0;
	int fd, rfd;

	h_start(conf(pci_region("wide", sysfs, "base = 0x1000\nsize = 4K\n"
	    "whole_bar = yes\n"), pci_region("all", sysfs, ""), NULL, NULL));
	fd = raw_connect_as(H_OTHER, H_OTHER);
	raw_hello(fd);
	cr_assert_eq(map_as(fd, "wide", 0, PAGE, msg, sizeof(msg), &moff,
	    &rfd), 0, "%s", msg);
	cr_assert_geq(rfd, 0);
	cr_assert_eq(moff, 0x1000);
	cr_assert_eq(reach(rfd, moff), 0xba000001u);
	/* What whole_bar = yes gives away: the BAR's other pages. */
	cr_assert_eq(reach(rfd, 0), 0xba000000u);
	cr_assert_eq(reach(rfd, 0xff000), 0xba0000ffu);
	close(rfd);
	h_log_wait(1, "audit: event=whole-bar", "uid=65533 ");
	h_log_expect("event=whole-bar", "region wide (base 0x1000 size "
	    "0x1000) went out as all of BAR 0 of " FAKE_PCI " (0x100000 "
	    "bytes)");

	cr_assert_eq(map_as(fd, "all", 0x80000, PAGE, msg, sizeof(msg),
	    &moff, &rfd), 0, "%s", msg);
	cr_assert_eq(moff, 0x80000);
	cr_assert_eq(reach(rfd, moff), 0xba000080u);
	close(rfd);
	close(fd);
	h_log_wait(2, "audit: event=grant", "result=ok");
	cr_assert_eq(h_log_count("event=whole-bar"), 1, "the whole BAR's "
	    "region was logged as whole_bar");
	h_stop();
}

/*
 * Offsets that wrap: a region based at 0x10000 with no size runs to the
 * BAR's end (0xf0000 bytes).  2^64 - 0x10000 used to be granted at BAR
 * offset 0; now it and every offset at or past the end is EINVAL with
 * the numbers, for Map and Read alike, with or without whole_bar.
 */
Test(devregion, offsets_do_not_wrap)
{
	const char *sysfs = fake_sysfs();
	static const uint64_t bad[] = {
		0xf0000, 0xf0000 + PAGE, UINT64_MAX & ~(PAGE - 1),
		(uint64_t)0 - 0x10000, (uint64_t)0 - 0x10000 + 0x1000,
	};
	char msg[512];
	uint64_t moff = 0, v = 0;
	size_t i;
	int fd, rfd;

	h_start(conf(pci_region("tail", sysfs, "base = 0x10000\n"
	    "whole_bar = yes\n"), pci_region("tail-regs", sysfs,
	    "base = 0x10000\n"), NULL, NULL));
	fd = raw_connect();
	raw_hello(fd);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(map_as(fd, "tail", bad[i], PAGE, msg,
		    sizeof(msg), &moff, &rfd), EINVAL, "Map tail at %#llx: "
		    "%s (mmap_offset %#llx)", (unsigned long long)bad[i], msg,
		    (unsigned long long)moff);
		cr_assert_eq(rfd, -1);
		expect_in(msg, "is outside tail (0xf0000 bytes from base "
		    "0x10000)");
		cr_assert_eq(map_as(fd, "tail-regs", bad[i], PAGE, msg,
		    sizeof(msg), NULL, &rfd), EINVAL, "Map tail-regs at "
		    "%#llx: %s", (unsigned long long)bad[i], msg);
		cr_assert_eq(read_as(fd, "tail-regs", bad[i], &v, msg,
		    sizeof(msg)), EINVAL, "Read tail-regs at %#llx: %s",
		    (unsigned long long)bad[i], msg);
	}
	/* A Map straddling the end. */
	cr_assert_eq(map_as(fd, "tail", 0xef000, 2 * PAGE, msg, sizeof(msg),
	    NULL, &rfd), EINVAL, "%s", msg);

	/* The last page and the last register are the BAR's. */
	cr_assert_eq(map_as(fd, "tail", 0xef000, PAGE, msg, sizeof(msg),
	    &moff, &rfd), 0, "%s", msg);
	cr_assert_eq(moff, 0xff000);
	cr_assert_eq(reach(rfd, moff), 0xba0000ffu);
	close(rfd);
	cr_assert_eq(read_as(fd, "tail-regs", 0, &v, msg, sizeof(msg)), 0,
	    "%s", msg);
	cr_assert_eq(v, 0xba000010u);
	cr_assert_eq(read_as(fd, "tail-regs", 0xef000, &v, msg, sizeof(msg)),
	    0, "%s", msg);
	cr_assert_eq(v, 0xba0000ffu);
	/* Without whole_bar, a range inside is refused for reaching beyond. */
	cr_assert_eq(map_as(fd, "tail-regs", 0, PAGE, msg, sizeof(msg), NULL,
	    &rfd), EPERM, "%s", msg);
	expect_in(msg, "base 0x10000 size 0xf0000 of BAR 0");
	close(fd);
	cr_assert_eq(h_log_count("audit: event=grant", "result=ok"), 1);
	h_stop();
}

/* [mem] on the stand-in, regions of it, and pci regions with map = no. */
static const char *
mem_conf(const char *sysfs)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "[daemon]\nsocket_mode = 0666\n\n"
	    "[zero]\nusers = *\n\n"
	    "[mem]\npath = %s\niomem = %s\nusers = root\n"
	    "raw_fd_users = root\nmax_size = 1M\nshared = yes\n"
	    "protection = rw\n\n"
	    "[region phys]\ndevice = mem\nbase = 0xfe900000\nsize = 64K\n"
	    "users = *\nraw_fd_users = root\nprotection = rw\nshared = yes\n\n"
	    "[region phys-regs]\ndevice = mem\nbase = 0xfe900000\n"
	    "size = 64K\nusers = *\nprotection = rw\nshared = yes\n"
	    "map = no\n\n"
	    "%s",
	    h_sparse("devmem", 8ull << 30), h_data("iomem-q35.txt"),
	    pci_region("bar-regs", sysfs, "map = no\n"));
	return buf;
}

/*
 * map = no: registers only, for pci and mem regions, whoever asks (root
 * is in raw_fd_users of [mem] and of phys, not of phys-regs).
 */
Test(devregion, map_no_is_registers_only)
{
	const char *sysfs = fake_sysfs();
	char msg[512];
	uint64_t v = 0;
	int fd, rfd;

	h_start(mem_conf(sysfs));
	fd = raw_connect();
	raw_hello(fd);
	cr_assert_eq(map_as(fd, "bar-regs", 0, PAGE, msg, sizeof(msg), NULL,
	    &rfd), EPERM, "%s", msg);
	cr_assert_eq(rfd, -1);
	expect_in(msg, "bar-regs serves Read and Write only (map = no)");
	cr_assert_eq(read_as(fd, "bar-regs", 0x2000, &v, msg, sizeof(msg)), 0,
	    "%s", msg);
	cr_assert_eq(v, 0xba000002u);

	cr_assert_eq(map_as(fd, "phys-regs", 0, PAGE, msg, sizeof(msg), NULL,
	    &rfd), EPERM, "%s", msg);
	cr_assert_eq(rfd, -1);
	expect_in(msg, "phys-regs serves Read and Write only (map = no)");
	cr_assert_eq(read_as(fd, "phys-regs", 0x10, &v, msg, sizeof(msg)), 0,
	    "%s", msg);
	close(fd);
	cr_assert_eq(h_log_count("event=grant"), 0);
	h_stop();
}

/* map = no in [mem]: even raw_fd_users' root gets registers only. */
Test(devregion, mem_map_no)
{
	char buf[1024], msg[512];
	uint64_t v = 1;
	int fd, rfd;

	snprintf(buf, sizeof(buf), "[daemon]\nsocket_mode = 0666\n\n"
	    "[mem]\npath = %s\niomem = %s\nusers = root\nmax_size = 1M\n"
	    "shared = yes\nprotection = rw\nmap = no\n",
	    h_sparse("devmem", 8ull << 30), h_data("iomem-q35.txt"));
	h_start(buf);
	fd = raw_connect();
	raw_hello(fd);
	cr_assert_eq(map_as(fd, "mem", EDU_BAR0, PAGE, msg, sizeof(msg), NULL,
	    &rfd), EPERM, "%s", msg);
	cr_assert_eq(rfd, -1);
	expect_in(msg, "mem serves Read and Write only (map = no)");
	cr_assert_eq(read_as(fd, "mem", EDU_BAR0, &v, msg, sizeof(msg)), 0,
	    "%s", msg);
	cr_assert_eq(v, 0);
	close(fd);
	cr_assert_eq(h_log_count("event=grant"), 0);
	h_stop();
}

/*
 * A mem region's Map hands out /dev/mem itself (kind device, the raw
 * fd), which reaches every page of it: only raw_fd_users get it, the
 * grant is logged root-equivalent, and the refusal to anyone else gives
 * the region's numbers and says Read and Write serve it.
 */
Test(devregion, mem_region_map_is_the_raw_fd)
{
	const char *sysfs = fake_sysfs();
	char msg[512];
	uint64_t moff = 0;
	int fd, rfd;

	h_start(mem_conf(sysfs));
	fd = raw_connect_as(H_OTHER, H_OTHER);
	raw_hello(fd);
	cr_assert_eq(map_as(fd, "phys", 0, PAGE, msg, sizeof(msg), NULL,
	    &rfd), EPERM, "%s", msg);
	cr_assert_eq(rfd, -1);
	expect_in(msg, "region phys is base 0xfe900000 size 0x10000 of "
	    "/dev/mem");
	expect_in(msg, "all non-RAM physical memory");
	expect_in(msg, "Read and Write serve the region");
	expect_in(msg, "raw_fd_users");
	close(fd);

	/* Root's raw fd: it maps the stand-in far outside the region. */
	fd = raw_connect();
	raw_hello(fd);
	cr_assert_eq(map_as(fd, "phys", 0, PAGE, msg, sizeof(msg), &moff,
	    &rfd), 0, "%s", msg);
	cr_assert_eq(moff, EDU_BAR0);
	cr_assert_geq(reach(rfd, 0), 0, "the raw fd did not map offset 0");
	cr_assert_geq(reach(rfd, EDU_BAR0 + MIB), 0);
	close(rfd);
	close(fd);
	h_log_wait(1, "audit: event=raw-fd", "uid=0 ", "root-equivalent");
	h_stop();
}

/*
 * --check-config says which regions hand out more than themselves, by
 * line, and passes the file; the keys that contradict are errors.
 */
Test(devregion, check_config_warns)
{
	const char *sysfs = fake_sysfs();
	const char *good, *bad;
	char *out = NULL;
	int st;

	good = h_write("good.conf", mem_conf(sysfs));
	st = h_run_mmapd("check-good", (const char *const[]){
	    "--check-config", good, NULL }, &out);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s", out);
	cr_expect(strstr(out, "good.conf:16: warning: [region phys]: a Map "
	    "hands raw_fd_users and raw_fd_groups /dev/mem itself, which "
	    "reaches all non-RAM physical memory, not only base 0xfe900000 "
	    "size 0x10000") != NULL, "%s", out);
	cr_expect(strstr(out, "phys-regs") == NULL, "map = no warned: %s",
	    out);
	cr_expect(strstr(out, "bar-regs") == NULL, "map = no warned: %s",
	    out);
	free(out);

	good = h_write("pci.conf", conf(pci_region("page", sysfs,
	    "base = 0x1000\nsize = 4K\n"), pci_region("wide", sysfs,
	    "base = 0x10000\nwhole_bar = yes\n"), pci_region("all", sysfs,
	    ""), NULL));
	st = h_run_mmapd("check-pci", (const char *const[]){
	    "--check-config", good, NULL }, &out);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s", out);
	cr_expect(strstr(out, "pci.conf:7: warning: [region page]: base "
	    "0x1000 size 0x1000 is part of BAR 0: its Maps are refused") !=
	    NULL, "%s", out);
	cr_expect(strstr(out, "pci.conf:18: warning: [region wide]: "
	    "whole_bar = yes: a Map hands out all of BAR 0, not only base "
	    "0x10000 to the end of the BAR") != NULL, "%s", out);
	cr_expect(strstr(out, "[region all]") == NULL, "%s", out);
	cr_expect(strstr(out, "ok, 4 entries") != NULL, "%s", out);
	free(out);

	bad = h_write("bad.conf", conf(pci_region("a", sysfs,
	    "map = no\nwhole_bar = yes\n"),
	    "[region b]\ndevice = mem\nbase = 0x1000\nsize = 4K\n"
	    "users = root\nwhole_bar = yes\n\n"
	    "[region c]\ndevice = mem\nbase = 0x1000\nsize = 4K\n"
	    "users = root\nmap = no\nraw_fd_users = root\n\n"
	    "[region d]\ndevice = pci\npci = " FAKE_PCI "\nbar = 0\n"
	    "users = root\nmap = maybe\n", NULL, NULL));
	st = h_run_mmapd("check-bad", (const char *const[]){
	    "--check-config", bad, NULL }, &out);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "%s", out);
	cr_expect(strstr(out, "bad.conf:16: [region a]: whole_bar = yes "
	    "gives a Map, which map = no refuses to everyone") != NULL, "%s",
	    out);
	cr_expect(strstr(out, "bad.conf:23: [region b]: 'whole_bar' is for "
	    "regions of pci") != NULL, "%s", out);
	cr_expect(strstr(out, "bad.conf:31: [region c]: raw_fd_users and "
	    "raw_fd_groups give a Map, which map = no refuses to everyone")
	    != NULL, "%s", out);
	cr_expect(strstr(out, "bad.conf:38: map: 'maybe' is not yes or no")
	    != NULL, "%s", out);
	free(out);
}
