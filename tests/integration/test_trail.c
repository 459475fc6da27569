/*
 * The audit trail is complete (issue 11): every lease that ends says so
 * (event=release ... reason=request, disconnect, shutdown), audit lines
 * and List name the user beside the uid and the client its Hello named,
 * the longest lines keep every field, and refusals carry the numbers
 * that fix the request and the file that could not be opened.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

TestSuite(trail, .fini = h_cleanup, .timeout = 30);

#define KIB	1024ull

static const char everyone[] = "[zero]\nusers = *\nmax_size = 1M\n";

static struct mmapclient_region *
map_ok(struct mmapclient *c, uint64_t size)
{
	struct mmapclient_request req = {
		.device = "zero", .size = size,
		.flags = MMAPCLIENT_SHARED | MMAPCLIENT_WRITE,
	};
	struct mmapclient_region *r = NULL;
	int err;

	err = mmapclient_map(c, &req, &r);
	cr_assert_eq(err, 0, "map: %s", mmapclient_error(c));
	return r;
}

static const char *
lease_f(uint64_t id)
{
	static char b[2][40];
	static int k;

	k ^= 1;
	snprintf(b[k], sizeof(b[k]), "lease=%llu ", (unsigned long long)id);
	return b[k];
}

/* "client=NAME " for this process, as libmmapclient names it. */
static const char *
client_f(void)
{
	static char b[300];

	snprintf(b, sizeof(b), "client=%s ", program_invocation_short_name);
	return b;
}

/* The lease id of a mmapctl map --hold, from its "lease N:" line. */
static uint64_t
bg_lease(const struct ctl_bg *b)
{
	char *out = h_read(b->out);
	unsigned long long id = 0;

	cr_assert(sscanf(out, "lease %llu:", &id) == 1, "%s", out);
	free(out);
	return id;
}

/*
 * A Release, a client killed while it holds a lease, a client mmapd
 * hangs up on, and a daemon that stops with one held: each lease ends
 * with one release line, whose reason says which.
 */
Test(trail, release_lines_say_why_the_lease_ended)
{
	struct mmapclient_region *a, *b;
	struct mmapclient *c;
	struct ctl_bg bg;
	struct ctl r;
	uint64_t id_a, id_b, id_bg, id_raw;
	Reply *rep;
	int fd, rfd = -1;

	ctl_need_nobody();
	h_start(everyone);
	c = h_connect();
	a = map_ok(c, 64 * KIB);
	id_a = a->lease_id;
	cr_assert_eq(mmapclient_release(c, a), 0);
	cr_assert_eq(h_log_wait(1, "audit: event=release ", lease_f(id_a)),
	    1);
	h_log_expect("audit: event=release ", lease_f(id_a),
	    "uid=0 user=root gid=0 ", h_pidf(getpid()),
	    client_f(), "device=zero ", "size=65536 ",
	    "reason=request");

	/* Killed while it holds a lease: SIGKILL, no Release sent. */
	ctl_spawn(&bg, CTL_NOBODY, "map", "--dev", "zero", "--size", "64K",
	    "--shared", "--hold");
	ctl_bg_wait(&bg, "holding lease");
	id_bg = bg_lease(&bg);
	cr_assert_eq(h_log_count("audit: event=release ", lease_f(id_bg)), 0,
	    "released before its client died");
	ctl_bg_stop(&bg, SIGKILL, &r);
	cr_expect_eq(r.status, 128 + SIGKILL, "exit %d", r.status);
	ctl_free(&r);
	cr_assert_eq(h_log_wait(1, "audit: event=release ", lease_f(id_bg)),
	    1, "no release line for the dead client's lease:\n%s", h_log());
	h_log_expect("audit: event=release ", lease_f(id_bg),
	    "uid=65534 user=nobody gid=65534 ", "client=\"mmapctl ",
	    "reason=disconnect");
	cr_expect_eq(h_leases_wait_on(c, 0), 0);

	/* Held by a client mmapd hangs up on: a packet that is no request. */
	fd = raw_connect();
	raw_hello(fd);
	rep = raw_map(fd, 2, "zero", 0, 4096, 1, 1, NULL, &rfd);
	cr_assert_eq(rep->error, 0, "%s", rep->message);
	id_raw = rep->grant->lease_id;
	reply_free(rep);
	close(rfd);
	cr_assert_eq(raw_send_bytes(fd, "\xff\xff\xff", 3, NULL, 0), 0);
	cr_assert(raw_closed(fd, H_WAIT_MS), "mmapd kept the connection");
	close(fd);
	cr_assert_eq(h_log_wait(1, "audit: event=release ", lease_f(id_raw)),
	    1);
	/* Its user's name came from c, the uid's first connection. */
	h_log_expect("audit: event=release ", lease_f(id_raw),
	    "uid=0 user=root gid=0 ", "client=integration-raw ",
	    "reason=protocol");

	/* Held when mmapd stops. */
	b = map_ok(c, 4 * KIB);
	id_b = b->lease_id;
	h_stop();
	h_log_expect("audit: event=release ", lease_f(id_b), "reason=shutdown");
	/* One line each. */
	cr_expect_eq(h_log_count("event=release ", lease_f(id_a)), 1);
	cr_expect_eq(h_log_count("event=release ", lease_f(id_bg)), 1);
	cr_expect_eq(h_log_count("event=release ", lease_f(id_b)), 1);
	cr_expect_eq(h_log_count("event=release ", lease_f(id_raw)), 1);
	mmapclient_region_free(b);
	mmapclient_close(c);
}

/* List names the user and the client that hold each lease. */
Test(trail, list_shows_user_and_client)
{
	struct mmapclient_lease *l = NULL;
	struct mmapclient_region *a;
	struct mmapclient *c;
	struct ctl_bg bg;
	struct ctl r;
	uint64_t id_bg;
	size_t n = 0, i, seen = 0;
	char want[128];

	ctl_need_nobody();
	h_start(everyone);
	c = h_connect();
	a = map_ok(c, 4 * KIB);
	ctl_spawn(&bg, CTL_NOBODY, "map", "--dev", "zero", "--size", "8K",
	    "--shared", "--hold");
	ctl_bg_wait(&bg, "holding lease");
	id_bg = bg_lease(&bg);

	cr_assert_eq(mmapclient_list(c, &l, &n), 0, "%s",
	    mmapclient_error(c));
	cr_assert_eq(n, 2, "%zu leases", n);
	for (i = 0; i < n; i++) {
		if (l[i].id == a->lease_id) {
			cr_expect_str_eq(l[i].user, "root");
			cr_expect_str_eq(l[i].client,
			    program_invocation_short_name);
			seen++;
		} else if (l[i].id == id_bg) {
			cr_expect_str_eq(l[i].user, "nobody");
			cr_expect(strncmp(l[i].client, "mmapctl ", 8) == 0,
			    "client \"%s\"", l[i].client);
			seen++;
		}
	}
	cr_expect_eq(seen, 2);
	mmapclient_leases_free(l);

	ctl_run(&r, CTL_ROOT, "--json", "list");
	cr_assert_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	snprintf(want, sizeof(want), "{\"id\":%llu,\"uid\":65534,",
	    (unsigned long long)id_bg);
	cr_expect(strstr(r.out, want) != NULL, "no %s in %s", want, r.out);
	cr_expect(strstr(r.out, "\"user\":\"nobody\",\"client\":\"mmapctl ")
	    != NULL, "%s", r.out);
	snprintf(want, sizeof(want), "\"user\":\"root\",\"client\":\"%s\"",
	    program_invocation_short_name);
	cr_expect(strstr(r.out, want) != NULL, "no %s in %s", want, r.out);
	ctl_free(&r);

	/* nobody sees its own lease alone, with its names, as a table. */
	ctl_run(&r, CTL_NOBODY, "list");
	cr_assert_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.out, " USER ") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, " CLIENT ") != NULL &&
	    strstr(r.out, " REGION\n") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, " nobody ") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, " mmapctl ") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, " root ") == NULL, "%s", r.out);
	ctl_free(&r);

	ctl_bg_stop(&bg, SIGTERM, &r);
	ctl_free(&r);
	cr_assert_eq(mmapclient_release(c, a), 0);
	mmapclient_close(c);
	h_stop();
}

/* Hello with this client name on a new raw connection as uid. */
static int
hello_as(uid_t uid, const char *name)
{
	Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Hello h = MMAPD__V1__HELLO__INIT;
	Reply *r;
	int fd = uid == 0 ? raw_connect() : raw_connect_as(uid, uid);

	h.protocol_major = 1;
	h.client_name = (char *)name;
	req.request_id = 1;
	req.body_case = MMAPD__V1__REQUEST__BODY_HELLO;
	req.hello = &h;
	r = raw_call(fd, &req, NULL);
	cr_assert_eq(r->error, 0, "%s", r->message);
	reply_free(r);
	return fd;
}

/*
 * A uid with no name is user=""; a client name with a space and a
 * newline is quoted and escaped, forging nothing.
 */
Test(trail, deny_lines_name_user_and_client)
{
	char *log;
	Reply *r;
	int fd;

	h_start("[zero]\nusers = root\n");
	fd = hello_as(H_OTHER, "evil x\nmmapd: audit: event=grant");
	r = raw_map(fd, 2, "zero", 0, 4096, 0, 0, NULL, NULL);
	cr_assert_eq(r->error, EPERM, "%d %s", r->error, r->message);
	reply_free(r);
	close(fd);
	cr_assert_eq(h_log_wait(1, "audit: event=deny ", "uid=65533 "), 1);
	h_log_expect("audit: event=deny uid=65533 user=\"\" gid=65533 ",
	    "client=\"evil x\\x0ammapd: audit: event=grant\" device=zero ");
	log = h_log();
	cr_expect(strstr(log, "\nmmapd: audit: event=grant") == NULL,
	    "a client name forged a line:\n%s", log);
	free(log);
	h_stop();
}

/* Every audit line of this process: whole, within 1023 bytes. */
static int
lines_checked(void)
{
	char *log = h_log(), *p, *e;
	const char *pf = h_pidf(getpid());
	size_t len;
	int n = 0;

	for (p = log; *p != '\0'; p = *e ? e + 1 : e) {
		e = strchr(p, '\n');
		if (e == NULL)
			e = p + strlen(p);
		len = (size_t)(e - p);
		if (memmem(p, len, "audit: event=", 13) == NULL ||
		    memmem(p, len, pf, strlen(pf)) == NULL)
			continue;
		n++;
		cr_expect_leq(len, strlen("mmapd: ") + 1023, "%zu bytes: "
		    "%.*s", len, (int)len, p);
		cr_expect(memmem(p, len, "(line cut)", 10) == NULL, "%.*s",
		    (int)len, p);
		cr_expect(memmem(p, len, " user=", 6) != NULL &&
		    memmem(p, len, " client=", 8) != NULL, "%.*s", (int)len,
		    p);
		cr_expect(memmem(p, len, " result=", 8) != NULL ||
		    memmem(p, len, " reason=", 8) != NULL, "no end field: "
		    "%.*s", (int)len, p);
	}
	free(log);
	return n;
}

/*
 * The widest lines a client can cause: a client name of 255 bytes that
 * all widen when escaped, a device and region of 2000 such bytes, and a
 * grant of a region named with 63 of them, ended by a disconnect.
 */
Test(trail, longest_lines_keep_every_field)
{
	char name[256], dev[2001], reg[64];
	Reply *r;
	int fd, rfd = -1;

	memset(name, '\x01', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	memset(dev, '"', sizeof(dev) - 1);
	dev[sizeof(dev) - 1] = '\0';
	memset(reg, '\x7f', sizeof(reg) - 1);
	reg[sizeof(reg) - 1] = '\0';

	h_start("[zero]\nusers = *\nmax_size = 1M\n");
	fd = hello_as(0, name);
	r = raw_map(fd, 2, dev, 0, 4096, 1, 1, dev, NULL);
	cr_assert_neq(r->error, 0);
	reply_free(r);
	r = raw_map(fd, 3, "zero", 0, 2 << 20, 1, 1, reg, NULL);
	cr_assert_eq(r->error, EFBIG, "%d %s", r->error, r->message);
	reply_free(r);
	r = raw_map(fd, 4, "zero", 0, 4096, 1, 1, reg, &rfd);
	cr_assert_eq(r->error, 0, "%d %s", r->error, r->message);
	reply_free(r);
	close(rfd);
	close(fd);
	cr_assert_eq(h_log_wait(1, "event=release ", "reason=disconnect"), 1);
	cr_expect_eq(lines_checked(), 4, "deny, deny, grant, release");
	h_stop();
}

static Reply *
call_read(int fd, const char *dev, uint64_t off)
{
	return raw_read(fd, 5, dev, off, 32);
}

/*
 * Refusals say what to change: the size asked and max_size, the range
 * asked and the region's, and the file start-up could not open.
 */
Test(trail, refusals_carry_the_numbers)
{
	char conf[2048];
	Reply *r;
	int fd;

	snprintf(conf, sizeof(conf),
	    "[zero]\nusers = *\nmax_size = 1M\n\n"
	    "[mem]\npath = %s\niomem = %s\nusers = root\nmax_size = 1M\n\n"
	    "[region win]\ndevice = mem\nbase = 0xfe900000\nsize = 64K\n"
	    "protection = rw\nshared = yes\nusers = *\n"
	    "raw_fd_users = root\n\n"
	    "[region gone]\ndevice = pci\npci = 0000:00:01.0\nbar = 0\n"
	    "sysfs = %s\nusers = *\n",
	    h_sparse("devmem", 8ull << 30), h_data("iomem-q35.txt"),
	    h_path("nosysfs"));
	h_start(conf);
	fd = raw_connect();
	raw_hello(fd);

	r = raw_map(fd, 2, "zero", 0, 2 << 20, 0, 1, NULL, NULL);
	cr_assert_eq(r->error, EFBIG, "%d %s", r->error, r->message);
	cr_expect(strstr(r->message, "size 2097152 (2 MiB)") != NULL &&
	    strstr(r->message, "max_size 1048576 (1 MiB)") != NULL, "%s",
	    r->message);
	reply_free(r);

	r = raw_map(fd, 3, "win", 60 * KIB, 8 * KIB, 1, 1, NULL, NULL);
	cr_assert_eq(r->error, EINVAL, "%d %s", r->error, r->message);
	cr_expect(strstr(r->message, "offset 0xf000 size 0x2000 is outside win "
	    "(0x10000 bytes from base 0xfe900000)") != NULL, "%s", r->message);
	reply_free(r);

	r = call_read(fd, "win", 64 * KIB);
	cr_assert_eq(r->error, EINVAL, "%d %s", r->error, r->message);
	cr_expect(strstr(r->message, "offset 0x10000 size 0x4 is outside win")
	    != NULL, "%s", r->message);
	reply_free(r);

	r = raw_map(fd, 4, "gone", 0, 4096, 0, 0, NULL, NULL);
	cr_assert_eq(r->error, ENODEV, "%d %s", r->error, r->message);
	cr_expect(strstr(r->message, "/nosysfs/0000:00:01.0/resource0 was "
	    "not opened") != NULL, "%s", r->message);
	reply_free(r);

	r = raw_read(fd, 6, "win", 2, 32);
	cr_assert_eq(r->error, EINVAL, "%d %s", r->error, r->message);
	cr_expect(strstr(r->message, "offset 0x2 is not a multiple of 4 "
	    "bytes") != NULL, "%s", r->message);
	reply_free(r);
	r = raw_write(fd, 7, "win", 0, 8, 0x1ff);
	cr_assert_eq(r->error, EINVAL, "%d %s", r->error, r->message);
	cr_expect(strstr(r->message, "value 0x1ff does not fit 8 bits") !=
	    NULL, "%s", r->message);
	reply_free(r);

	/* The same numbers in the audit lines. */
	h_log_expect("event=deny ", "errno=EFBIG ", "max_size 1048576");
	h_log_expect("event=deny ", "errno=ENODEV ", "resource0 was not");
	close(fd);
	h_stop();
}

/*
 * A program built against libmmapclient 0.1 knows the shorter struct
 * mmapclient_lease; it is bound to mmapclient_list@MMAPCLIENT_0.1,
 * which must hand it that layout: its second lease where it looks.
 */
struct lease_v01 {
	uint64_t id;
	uid_t uid;
	pid_t pid;
	const char *device;
	uint64_t offset;
	uint64_t size;
	int prot;
	int shared;
	int64_t created_unix_sec;
};

int list_v01_caller(struct mmapclient *c, struct lease_v01 **out,
    size_t *n);
__asm__(".symver list_v01_caller, mmapclient_list@MMAPCLIENT_0.1");

Test(trail, list_keeps_the_0_1_layout_for_old_programs)
{
	struct mmapclient_region *a, *b;
	struct lease_v01 *l = NULL;
	struct mmapclient *c;
	size_t n = 0;

	h_start(everyone);
	c = h_connect();
	a = map_ok(c, 4 * KIB);
	b = map_ok(c, 12 * KIB);
	cr_assert_eq(list_v01_caller(c, &l, &n), 0, "%s",
	    mmapclient_error(c));
	cr_assert_eq(n, 2);
	cr_expect_eq(l[0].id, a->lease_id);
	cr_expect_eq(l[1].id, b->lease_id);
	cr_expect_eq(l[1].size, 12 * KIB);
	cr_expect_str_eq(l[1].device, "zero");
	cr_expect_eq(l[1].uid, 0);
	cr_expect_eq(l[1].shared, 1);
	mmapclient_leases_free((struct mmapclient_lease *)(void *)l);
	cr_assert_eq(mmapclient_release(c, a), 0);
	cr_assert_eq(mmapclient_release(c, b), 0);
	mmapclient_close(c);
	h_stop();
}
