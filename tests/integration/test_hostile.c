/*
 * Hostile and broken clients against a real mmapd.  Every one is
 * answered with an error reply or a disconnect; throughout, another
 * client holds a lease on a named region from a connection of its own,
 * and afterwards the daemon is alive and serving, that lease is still
 * listed, its memory (attached again by name from a new connection)
 * still holds what was written, and the daemon's open-fd count is back
 * to what it was before.  This process's own fds are counted too, so
 * libmmapclient is checked for leaks on the way.
 *
 * Each case runs alone on a daemon of its own, and all of them run in
 * sequence on one daemon (all_in_sequence).  The daemon runs on its
 * built-in default: zero for everyone up to 64 MiB.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"
#include "wire.h"

#define KIB	1024ull
#define MIB	(1024ull * 1024)
#define KEEP	"keep"		/* the named region the bystander holds */
#define KEEP_BYTE 0x77

/*
 * The kernel counts fds in flight per sending user, against the
 * sender's RLIMIT_NOFILE.  A daemon at a limit of 40 run as nobody, as
 * the other test binaries' daemons are, had its grants refused
 * (ETOOMANYREFS, once a reset) whenever those held 40 fds in flight
 * (test_quota's and test_limits' floods): connection_flood's daemon
 * runs as a user of its own, which no other test runs mmapd as (not
 * test_limits' games either).
 */
#define LIMITED_USER	"news"		/* in Debian's base-passwd */

TestSuite(hostile, .fini = h_cleanup, .timeout = 60);

/* The bystander: a lease held from a connection of its own throughout. */
static struct {
	int self_fds;			/* this process's fds before it all */
	int daemon_fds;			/* the daemon's, with the bystander */
	struct mmapclient *c;
	struct mmapclient_region *r;
} K;

#define k_clients_wait(n)	h_clients_wait_on(K.c, (n))
#define k_leases_wait(n)	h_leases_wait_on(K.c, (n))

static void hostile_begin_limited(int nofile);

static void
hostile_begin(void)
{
	hostile_begin_limited(0);
}

static void
hostile_begin_limited(int nofile)
{
	static const char *const limited_user[] = { "--user", LIMITED_USER,
	    NULL };
	struct mmapclient_request req = {
		.device = "zero", .size = 64 * KIB, .region = KEEP,
		.flags = MMAPCLIENT_SHARED | MMAPCLIENT_WRITE,
	};
	int err;

	signal(SIGPIPE, SIG_IGN);
	K.self_fds = h_self_fds();
	if (nofile > 0 && geteuid() == 0) {
		if (getpwnam(LIMITED_USER) == NULL)
			cr_skip_test("no user %s here to run mmapd as",
			    LIMITED_USER);
		h_start_limited_args(NULL, nofile, limited_user);
		h_log_expect("sandbox: running as " LIMITED_USER " ");
	} else if (nofile > 0) {
		h_start_limited(NULL, nofile);
	} else {
		h_start(NULL);
	}
	K.c = h_connect();
	err = mmapclient_map(K.c, &req, &K.r);
	cr_assert_eq(err, 0, "the bystander's map: %s (%s)", strerror(-err),
	    mmapclient_error(K.c));
	memset(K.r->addr, KEEP_BYTE, K.r->size);
	/*
	 * The start-up probe's connection gone, so the count is the
	 * bystander's alone; Status through its own connection from here on,
	 * so no connection of the harness's is open when fds are counted.
	 */
	cr_assert_eq(k_clients_wait(1), 1, "clients: the bystander alone");
	K.daemon_fds = h_fds();
}

static void
hostile_end(void)
{
	struct mmapclient_request req = {
		.device = "zero", .size = 64 * KIB, .region = KEEP,
		.flags = MMAPCLIENT_SHARED,
	};
	struct mmapclient_lease *l = NULL;
	struct mmapclient_region *q = NULL;
	struct mmapclient *c2;
	size_t n = 0;
	int err, fds;

	cr_assert(h_alive(), "mmapd died");

	/* A newcomer is served, and sees the bystander's memory intact. */
	c2 = h_connect();
	err = mmapclient_map(c2, &req, &q);
	cr_assert_eq(err, 0, "a new client's map: %s (%s)", strerror(-err),
	    mmapclient_error(c2));
	cr_assert(h_all(q->addr, q->size, KEEP_BYTE),
	    "the bystander's region lost what it held");
	cr_assert_eq(mmapclient_release(c2, q), 0);
	mmapclient_close(c2);

	/* The bystander's connection and lease are as they were. */
	err = mmapclient_list(K.c, &l, &n);
	cr_assert_eq(err, 0, "the bystander's List: %s (%s)", strerror(-err),
	    mmapclient_error(K.c));
	cr_assert_eq(n, 1, "the bystander sees %zu leases", n);
	cr_assert_eq(l[0].id, K.r->lease_id);
	cr_assert_eq(l[0].pid, getpid());
	mmapclient_leases_free(l);
	cr_assert(h_all(K.r->addr, K.r->size, KEEP_BYTE));
	cr_assert_eq(k_leases_wait(1), 1, "leases other than the bystander's "
	    "are left");
	cr_assert_eq(k_clients_wait(1), 1, "connections are left open");

	/* Every fd the daemon took for all this is closed again. */
	fds = h_fds_wait(K.daemon_fds);
	cr_assert_eq(fds, K.daemon_fds, "mmapd holds %d fds, %d before",
	    fds, K.daemon_fds);

	cr_assert_eq(mmapclient_release(K.c, K.r), 0);
	mmapclient_close(K.c);
	h_stop();
	cr_assert_eq(h_self_fds(), K.self_fds, "this process has %d fds, %d "
	    "before: libmmapclient or the test leaks", h_self_fds(),
	    K.self_fds);
}

/* Expect an error reply (and then maybe an end) or an end at once. */
static void
expect_error_or_end(int fd, const char *what, int want)
{
	int rfd = -1, err = 0;
	Reply *r;

	r = raw_recv(fd, &rfd, &err);
	if (r == NULL)
		return;		/* a disconnect is an answer */
	cr_assert_eq(rfd, -1, "%s: an fd came back", what);
	cr_assert_neq(r->error, 0, "%s: answered with success (body %d)",
	    what, (int)r->body_case);
	cr_assert_eq(r->body_case, MMAPD__V1__REPLY__BODY__NOT_SET,
	    "%s: an error reply with a body", what);
	if (want != 0)
		cr_assert_eq(r->error, want, "%s: errno %d (%s), not %d", what,
		    r->error, r->message, want);
	reply_free(r);
}

/* A refused Map: its errno, no fd, no body, and a deny audit line. */
static void
map_refused(int fd, uint64_t id, const char *device, uint64_t offset,
    uint64_t size, int shared, int want, const char *errname)
{
	int rfd = -1;
	Reply *r;

	r = raw_map(fd, id, device, offset, size, shared, 1, NULL, &rfd);
	cr_assert_eq(r->error, want, "Map %s offset %#llx size %#llx: errno "
	    "%d (%s), not %s", device, (unsigned long long)offset,
	    (unsigned long long)size, r->error, r->message, errname);
	cr_assert_eq(rfd, -1);
	cr_assert_eq(r->body_case, MMAPD__V1__REPLY__BODY__NOT_SET);
	cr_assert_str_neq(r->message, "");
	reply_free(r);
}

static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* ----------------------------------------------------------------------
 * The cases
 * ---------------------------------------------------------------------- */

static void
act_random_bytes(void)
{
	uint8_t buf[1024];
	uint64_t s = 0x9e3779b97f4a7c15ull;
	Mmapd__V1__Request *dec;
	size_t len, i;
	int seed, fd;

	for (seed = 0; seed < 20; seed++) {
		len = 1 + xorshift(&s) % sizeof(buf);
		for (i = 0; i < len; i++)
			buf[i] = (uint8_t)xorshift(&s);
		fd = raw_connect();
		cr_assert_eq(raw_send_bytes(fd, buf, len, NULL, 0), 0);
		dec = mmapd__v1__request__unpack(NULL, len, buf);
		if (dec == NULL) {
			/* Garbage: an error (EBADMSG) and the end, or the end. */
			expect_error_or_end(fd, "random bytes", EBADMSG);
			cr_assert(raw_closed(fd, H_WAIT_MS), "random bytes: "
			    "the connection stayed open");
		} else {
			/* By chance a request: any answer, but an answer. */
			mmapd__v1__request__free_unpacked(dec, NULL);
			cr_assert(raw_closed(fd, 200) || h_alive());
		}
		close(fd);
	}
}

static void
act_oversized_packet(void)
{
	uint8_t buf[5000];
	int fd = raw_connect();

	memset(buf, 0x08, sizeof(buf));
	cr_assert_eq(raw_send_bytes(fd, buf, sizeof(buf), NULL, 0), 0,
	    "a 5000-byte packet could not be sent");
	expect_error_or_end(fd, "5000-byte packet", EMSGSIZE);
	cr_assert(raw_closed(fd, H_WAIT_MS), "after an oversized packet the "
	    "connection stayed open");
	close(fd);
}

static void
act_truncated_protobuf(void)
{
	Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Map m = MMAPD__V1__MAP__INIT;
	uint8_t buf[WIRE_MAX];
	size_t len;
	int fd;

	m.device = (char *)"zero";
	m.size = 4096;
	m.shared = 1;
	m.region = (char *)"a-long-enough-region-name";
	req.request_id = 5;
	req.body_case = MMAPD__V1__REQUEST__BODY_MAP;
	req.map = &m;
	len = mmapd__v1__request__pack(&req, buf);
	/* Cut inside the region name: a length that overruns the packet. */
	len -= 7;
	cr_assert_null(mmapd__v1__request__unpack(NULL, len, buf),
	    "the cut request still decodes");
	fd = raw_connect();
	cr_assert_eq(raw_send_bytes(fd, buf, len, NULL, 0), 0);
	expect_error_or_end(fd, "truncated protobuf", EBADMSG);
	cr_assert(raw_closed(fd, H_WAIT_MS), "after a truncated request the "
	    "connection stayed open");
	close(fd);
}

/*
 * No body, or a body this daemon does not know (field 15, which decodes
 * as none): EINVAL, as mmapd.proto says ("Exactly one must be set; a
 * Request with none gets EINVAL"), and the connection goes on.
 */
static void
act_unknown_request_type(void)
{
	static const uint8_t none[] = { 0x08, 0x2a };		/* id 42 */
	static const uint8_t unknown[] = { 0x08, 0x2b, 0x7a, 0x00 }; /* id 43, field 15 */
	Reply *r;
	int fd = raw_connect();

	raw_hello(fd);
	cr_assert_eq(raw_send_bytes(fd, none, sizeof(none), NULL, 0), 0);
	r = raw_recv(fd, NULL, NULL);
	cr_assert_not_null(r, "a Request with no body: disconnected");
	cr_assert_eq(r->request_id, 42);
	cr_assert_neq(r->error, 0, "a Request with no body succeeded");
	cr_expect_eq(r->error, EINVAL, "a Request with no body: errno %d "
	    "(%s), not EINVAL as mmapd.proto says", r->error, r->message);
	reply_free(r);

	cr_assert_eq(raw_send_bytes(fd, unknown, sizeof(unknown), NULL, 0), 0);
	r = raw_recv(fd, NULL, NULL);
	cr_assert_not_null(r, "a Request of an unknown type: disconnected");
	cr_assert_eq(r->request_id, 43);
	cr_assert_neq(r->error, 0, "a Request of an unknown type succeeded");
	cr_expect_eq(r->error, EINVAL, "a Request of an unknown type: errno "
	    "%d (%s), not EINVAL", r->error, r->message);
	reply_free(r);

	/* Refused, not dropped: the connection still works. */
	r = raw_status(fd, 44);
	cr_assert_eq(r->error, 0);
	reply_free(r);
	close(fd);
}

static void
act_wrong_protocol_version(void)
{
	Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Hello h = MMAPD__V1__HELLO__INIT;
	Reply *r;
	int fd = raw_connect();

	h.protocol_major = 2;
	h.protocol_minor = 0;
	h.client_name = (char *)"from the future";
	req.request_id = 9;
	req.body_case = MMAPD__V1__REQUEST__BODY_HELLO;
	req.hello = &h;
	r = raw_call(fd, &req, NULL);
	cr_assert_eq(r->error, EPROTONOSUPPORT, "Hello 2.0: errno %d (%s)",
	    r->error, r->message);
	cr_assert_eq(r->body_case, MMAPD__V1__REPLY__BODY__NOT_SET);
	cr_assert(strstr(r->message, "1.0") != NULL, "the message does not "
	    "say what is spoken: %s", r->message);
	reply_free(r);
	close(fd);
}

static void
act_size_zero(void)
{
	int fd = raw_connect();

	raw_hello(fd);
	map_refused(fd, 2, "zero", 0, 0, 0, EINVAL, "EINVAL");
	map_refused(fd, 3, "zero", 0, 0, 1, EINVAL, "EINVAL");
	h_log_expect("audit: event=deny", "size=0 ", "errno=EINVAL ");
	close(fd);
}

static void
act_size_2_63(void)
{
	int fd = raw_connect();

	raw_hello(fd);
	map_refused(fd, 2, "zero", 0, 1ull << 63, 0, EFBIG, "EFBIG");
	map_refused(fd, 3, "zero", 0, UINT64_MAX, 1, EFBIG, "EFBIG");
	/* Just over the default 64 MiB cap. */
	map_refused(fd, 4, "zero", 0, 64 * MIB + 1, 1, EFBIG, "EFBIG");
	h_log_expect("audit: event=deny", "size=9223372036854775808 ",
	    "errno=EFBIG ");
	close(fd);
}

/*
 * offset + size past 2^64 on zero: the engine's do_mmap() check,
 * EOVERFLOW as the kernel gives it for any file.  (On mem and regions:
 * test_mem.c.)  An unaligned offset: EINVAL.
 */
static void
act_offset_wrap(void)
{
	int fd = raw_connect();

	raw_hello(fd);
	map_refused(fd, 2, "zero", 0xfffffffffffff000ull, 0x2000, 1, EOVERFLOW,
	    "EOVERFLOW");
	map_refused(fd, 3, "zero", 0xfffffffffffff000ull, 0x1000, 0, EOVERFLOW,
	    "EOVERFLOW");
	map_refused(fd, 4, "zero", 0x123, 0x1000, 0, EINVAL, "EINVAL");
	close(fd);
}

/*
 * Names and enums out of range: EINVAL, and a name that tries to forge an
 * audit line is quoted on its own line.
 */
static void
act_bad_names(void)
{
	static const char nl_forged[] = "\nmmapd: audit: event=grant lease=999";
	const char *forged = nl_forged + 1;
	char long_name[80], *log;
	Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Map m = MMAPD__V1__MAP__INIT;
	Reply *r;
	int fd = raw_connect();

	raw_hello(fd);
	memset(long_name, 'n', 64);
	long_name[64] = '\0';
	map_refused(fd, 2, "", 0, 4096, 0, EINVAL, "EINVAL");
	map_refused(fd, 3, long_name, 0, 4096, 0, EINVAL, "EINVAL");
	map_refused(fd, 4, "no\nmmapd: audit: event=grant lease=999 uid=0",
	    0, 4096, 0, ENODEV, "ENODEV");
	log = h_log();
	cr_assert(strncmp(log, forged, strlen(forged)) != 0 &&
	    strstr(log, forged - 1) == NULL,
	    "a device name forged an audit line:\n%s", log);
	free(log);

	/* A region name on a private map, and one too long. */
	m.device = (char *)"zero";
	m.size = 4096;
	m.region = (char *)"private-name";
	req.request_id = 5;
	req.body_case = MMAPD__V1__REQUEST__BODY_MAP;
	req.map = &m;
	r = raw_call(fd, &req, NULL);
	cr_assert_eq(r->error, EINVAL, "region on a private map: %d (%s)",
	    r->error, r->message);
	reply_free(r);
	m.shared = 1;
	m.region = long_name;
	req.request_id = 6;
	r = raw_call(fd, &req, NULL);
	cr_assert_eq(r->error, EINVAL, "64-byte region name: %d (%s)",
	    r->error, r->message);
	reply_free(r);

	/* A cache mode that does not exist. */
	m.region = (char *)"";
	m.cache = (Mmapd__V1__CacheMode)9;
	req.request_id = 7;
	r = raw_call(fd, &req, NULL);
	cr_assert_eq(r->error, EINVAL, "cache mode 9: %d (%s)", r->error,
	    r->message);
	reply_free(r);
	close(fd);
}

/* A Release of someone else's lease is refused; theirs stays. */
static void
act_release_foreign_lease(void)
{
	Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Release rel = MMAPD__V1__RELEASE__INIT;
	Reply *r;
	int fd = raw_connect(), rfd = -1;

	raw_hello(fd);
	rel.lease_id = K.r->lease_id;
	req.request_id = 3;
	req.body_case = MMAPD__V1__REQUEST__BODY_RELEASE;
	req.release = &rel;
	r = raw_call(fd, &req, NULL);
	cr_assert_eq(r->error, ENOENT, "Release of another connection's lease: "
	    "%d (%s)", r->error, r->message);
	reply_free(r);
	rel.lease_id = 0;
	req.request_id = 4;
	r = raw_call(fd, &req, NULL);
	cr_assert_eq(r->error, ENOENT);
	reply_free(r);

	/* Its own lease, twice: the second time there is none. */
	r = raw_map(fd, 5, "zero", 0, 4096, 0, 1, NULL, &rfd);
	cr_assert_eq(r->error, 0, "%s", r->message);
	close(rfd);
	rel.lease_id = r->grant->lease_id;
	reply_free(r);
	req.request_id = 6;
	r = raw_call(fd, &req, NULL);
	cr_assert_eq(r->error, 0, "Release of its own lease: %d (%s)",
	    r->error, r->message);
	cr_assert_eq(r->body_case, MMAPD__V1__REPLY__BODY_RELEASE);
	reply_free(r);
	req.request_id = 7;
	r = raw_call(fd, &req, NULL);
	cr_assert_eq(r->error, ENOENT, "a second Release: %d (%s)", r->error,
	    r->message);
	reply_free(r);
	close(fd);
}

/* Read end of a pipe: whether any process still holds it open. */
static int
pipe_reader_gone(int wfd)
{
	return write(wfd, "x", 1) == -1 && errno == EPIPE;
}

/* Wait (H_WAIT_MS) until no process holds the pipe's read end. */
static int
pipe_reader_gone_wait(int wfd)
{
	int64_t end = h_now_ms() + H_WAIT_MS;

	while (!pipe_reader_gone(wfd) && h_now_ms() < end)
		h_sleep_ms(10);
	return pipe_reader_gone(wfd);
}

/*
 * fds in SCM_RIGHTS: where the kernel has SO_PASSRIGHTS, mmapd's socket
 * refuses them and the client's sendmsg fails with EPERM; elsewhere the
 * request is refused (EINVAL) and mmapd's reaper thread closes them.
 * Either way no copy stays in the daemon: the pipe whose read end went
 * over has no reader left once ours is closed.  (test_fdpass.c tests
 * both ways, and what a slow fd does, in detail.)
 */
static void
act_fds_in_ancillary_data(void)
{
	static const uint8_t status_req[] = { 0x08, 0x07, 0x32, 0x00 };	/* id 7, Status */
	int p[2], fds[20], i, fd, before, refused;
	Reply *r;

	fd = raw_connect();
	raw_hello(fd);
	/* The baseline and this connection, once earlier ones are gone. */
	before = K.daemon_fds + 1;
	cr_assert_eq(h_fds_wait(before), before, "mmapd holds %d fds, not the "
	    "%d expected", h_fds(), before);
	cr_assert_eq(pipe(p), 0);
	fds[0] = p[0];
	fds[1] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	fds[2] = dup(p[0]);
	refused = raw_send_bytes(fd, status_req, sizeof(status_req), fds, 3);
	cr_assert(refused == 0 || refused == -EPERM, "sendmsg: %s",
	    strerror(-refused));
	close(p[0]);
	close(fds[1]);
	close(fds[2]);
	if (refused == 0) {
		r = raw_recv(fd, NULL, NULL);
		cr_assert_not_null(r, "fds with a request: disconnected");
		cr_assert_eq(r->error, EINVAL, "fds with a request: errno %d "
		    "(%s)", r->error, r->message);
		reply_free(r);
	}
	cr_assert(pipe_reader_gone_wait(p[1]), "mmapd kept an fd a client "
	    "sent");
	close(p[1]);
	cr_assert_eq(h_fds(), before, "mmapd's fd count grew: %d, was %d",
	    h_fds(), before);
	/* Refused, not dropped. */
	r = raw_status(fd, 8);
	cr_assert_eq(r->error, 0);
	reply_free(r);

	/* 20 fds: more than fit the daemon's control buffer. */
	cr_assert_eq(pipe(p), 0);
	for (i = 0; i < 20; i++)
		fds[i] = dup(p[0]);
	refused = raw_send_bytes(fd, status_req, sizeof(status_req), fds, 20);
	cr_assert(refused == 0 || refused == -EPERM, "sendmsg: %s",
	    strerror(-refused));
	for (i = 0; i < 20; i++)
		close(fds[i]);
	close(p[0]);
	if (refused == 0)
		expect_error_or_end(fd, "20 fds with a request", 0);
	close(fd);
	cr_assert_eq(h_fds_wait(before - 1), before - 1, "mmapd's fd count: "
	    "%d, %d expected", h_fds(), before - 1);
	cr_assert(pipe_reader_gone_wait(p[1]), "mmapd kept an fd a client "
	    "sent");
	close(p[1]);
}

/* A child that asks for a map and never reads the answer. */
static pid_t
map_and_stop(int die_at_once)
{
	Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Map m = MMAPD__V1__MAP__INIT;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint8_t buf[256];
	size_t len;
	pid_t pid;
	int fd;

	m.device = (char *)"zero";
	m.size = MIB;
	m.shared = 1;
	m.write = 1;
	req.request_id = 1;
	req.body_case = MMAPD__V1__REQUEST__BODY_MAP;
	req.map = &m;
	len = mmapd__v1__request__pack(&req, buf);
	memcpy(sa.sun_path, h_sock(), strlen(h_sock()) + 1);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		/* Its own connection, so SO_PEERCRED names the child. */
		fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa,
		    sizeof(sa)) < 0)
			_exit(1);
		if (wire_send(fd, buf, len, -1) != 0)
			_exit(1);
		if (die_at_once)
			raise(SIGKILL);
		for (;;)
			pause();
	}
	h_track(pid);
	return pid;
}

static void
act_sigkill_mid_request(void)
{
	pid_t pid;
	int st;

	/* Granted, never read: the lease goes with the dead client. */
	pid = map_and_stop(0);
	cr_assert_eq(h_log_wait(1, "audit: event=grant", h_pidf(pid)), 1,
	    "the child's Map was not granted");
	cr_assert_eq(k_leases_wait(2), 2);
	kill(pid, SIGKILL);
	st = h_wait(pid, H_WAIT_MS);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	cr_assert_eq(k_leases_wait(1), 1, "the dead client's lease was not "
	    "released");

	/* Killed right after sending: whatever happened, nothing is left. */
	pid = map_and_stop(1);
	st = h_wait(pid, H_WAIT_MS);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "status %#x",
	    st);
	cr_assert_eq(k_leases_wait(1), 1, "the dead client's lease was not "
	    "released");
}

/* Send up to n packets without reading, as many as the socket takes. */
static int
flood(int fd, const uint8_t *pkt, size_t len, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (send(fd, pkt, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			cr_assert(errno == EAGAIN, "flood: %s", strerror(errno));
			break;
		}
	}
	return i;
}

/* Others are served promptly while a client never reads. */
static void
served_promptly(const char *while_what)
{
	struct mmapclient_request req = { .device = "zero", .size = 4 * KIB };
	struct mmapclient_status *st = NULL;
	struct mmapclient_region *r = NULL;
	struct mmapclient *c;
	int64_t t0, t, worst = 0;
	int i;

	c = h_connect();
	for (i = 0; i < 20; i++) {
		t0 = h_now_ms();
		cr_assert_eq(mmapclient_status(c, &st), 0, "%s",
		    mmapclient_error(c));
		mmapclient_status_free(st);
		cr_assert_eq(mmapclient_map(c, &req, &r), 0, "%s",
		    mmapclient_error(c));
		cr_assert_eq(mmapclient_release(c, r), 0);
		t = h_now_ms() - t0;
		if (t > worst)
			worst = t;
	}
	mmapclient_close(c);
	/*
	 * A loop stalled on the silent client would not answer at all (the
	 * suite's timeout ends the test) or, waiting on it in turn, would
	 * take seconds per request; a round takes a few ms here and tens
	 * under ASan on a loaded 2-core machine.  5 s tells the two apart
	 * without failing on a slow machine.
	 */
	cr_assert(worst < 5000, "while %s, a Status + Map + Release took %lld "
	    "ms", while_what, (long long)worst);
	cr_log_info("while %s: a Status + Map + Release took %lld ms at worst",
	    while_what, (long long)worst);
}

static void
act_never_reads_replies(void)
{
	static const uint8_t status_req[] = { 0x08, 0x07, 0x32, 0x00 };
	Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Map m = MMAPD__V1__MAP__INIT;
	uint8_t map_req[64];
	size_t len;
	int fd, sent;

	fd = raw_connect();
	sent = flood(fd, status_req, sizeof(status_req), 1000);
	cr_log_info("a client that never reads got %d Status requests in", sent);
	cr_assert(sent > 0);
	served_promptly("a client sends Status and never reads");
	close(fd);

	/*
	 * The same with Maps: every reply carries an fd, and a lease.  The
	 * leases count against the sender's uid ([limits] leases_per_uid,
	 * 256), so the flood comes from another user where it can; as this
	 * one, it stays under that limit.
	 */
	m.device = (char *)"zero";
	m.size = 4096;
	req.request_id = 1;
	req.body_case = MMAPD__V1__REQUEST__BODY_MAP;
	req.map = &m;
	len = mmapd__v1__request__pack(&req, map_req);
	if (geteuid() == 0) {
		fd = raw_connect_as(H_NOBODY, H_NOBODY);
		sent = flood(fd, map_req, len, 1000);
	} else {
		fd = raw_connect();
		sent = flood(fd, map_req, len, 200);
	}
	cr_log_info("a client that never reads got %d Map requests in", sent);
	served_promptly("a client sends Map and never reads");
	close(fd);
	cr_assert_eq(k_leases_wait(1), 1, "the silent client's leases were "
	    "not released");
}

/* Connections opened and dropped without a word. */
static void
act_silent_connections(void)
{
	int fds[50], i;

	for (i = 0; i < 50; i++)
		fds[i] = raw_connect();
	for (i = 0; i < 50; i++)
		close(fds[i]);
}

/*
 * More connections than the daemon may have fds (RLIMIT_NOFILE 40 for
 * this case): the ones past the limit are dropped, the others served,
 * and once they are gone the daemon is as before.
 */
static void
act_connection_flood(void)
{
	struct mmapclient_request req = {
		.device = "zero", .size = 4 * KIB, .flags = MMAPCLIENT_SHARED,
	};
	static const uint8_t status_req[] = { 0x08, 0x07, 0x32, 0x00 };
	struct mmapclient_region *r = NULL;
	struct pollfd p = { .events = POLLIN };
	int fds[100], i, err, served = 0, dropped = 0;
	Reply *rep;

	for (i = 0; i < 100; i++)
		fds[i] = raw_connect();
	for (i = 0; i < 100; i++) {
		p.fd = fds[i];
		err = raw_send_bytes(fds[i], status_req, sizeof(status_req),
		    NULL, 0);
		if (err == -EPIPE || err == -ECONNRESET) {
			dropped++;	/* closed by the daemon already */
			continue;
		}
		cr_assert_eq(err, 0, "send: %s", strerror(-err));
		cr_assert_eq(poll(&p, 1, 2000), 1, "connection %d of 100 "
		    "(%d served, %d dropped so far) got no answer and no "
		    "end within %d ms: mmapd no longer serves (%d lines "
		    "\"dropping a client\" in its log)", i, served, dropped,
		    2000, h_log_count("dropping a client"));
		rep = raw_recv(fds[i], NULL, &err);
		if (rep == NULL) {
			dropped++;
		} else {
			served++;
			reply_free(rep);
		}
	}
	cr_log_info("connection flood: %d served, %d dropped", served, dropped);
	cr_assert(dropped > 0, "no connection was dropped: the fd limit was "
	    "not reached");
	cr_assert(served > 0);
	h_log_expect("out of file descriptors");
	cr_assert(h_alive());

	/* At the limit, a map may fail, but with an answer. */
	err = mmapclient_map(K.c, &req, &r);
	if (err == 0)
		cr_assert_eq(mmapclient_release(K.c, r), 0);
	else
		cr_assert(err != -ECONNRESET && err != -EPIPE &&
		    err != -EPROTO, "the bystander's connection broke: %s",
		    mmapclient_error(K.c));
	for (i = 0; i < 100; i++)
		close(fds[i]);

	/*
	 * The daemon frees those fds only when it reads their ends: until
	 * then a new client may still be dropped.  Wait for it to serve one.
	 */
	for (i = 0; i < 200; i++) {
		int fd = raw_connect();

		err = raw_send_bytes(fd, status_req, sizeof(status_req),
		    NULL, 0);
		rep = err == 0 ? raw_recv(fd, NULL, &err) : NULL;
		close(fd);
		if (rep != NULL) {
			reply_free(rep);
			break;
		}
		usleep(10000);
	}
	cr_assert(i < 200, "mmapd did not serve again after the flood");
}

Test(hostile, connection_flood)
{
	hostile_begin_limited(40);
	act_connection_flood();
	hostile_end();
}

/* ----------------------------------------------------------------------
 * One daemon each
 * ---------------------------------------------------------------------- */

#define HOSTILE(name) \
	Test(hostile, name) \
	{ \
		hostile_begin(); \
		act_##name(); \
		hostile_end(); \
	}

HOSTILE(random_bytes)
HOSTILE(oversized_packet)
HOSTILE(truncated_protobuf)
HOSTILE(unknown_request_type)
HOSTILE(wrong_protocol_version)
HOSTILE(size_zero)
HOSTILE(size_2_63)
HOSTILE(offset_wrap)
HOSTILE(bad_names)
HOSTILE(release_foreign_lease)
HOSTILE(fds_in_ancillary_data)
HOSTILE(sigkill_mid_request)
HOSTILE(never_reads_replies)
HOSTILE(silent_connections)

/* All of them on one daemon, with the fd count checked at the end. */
Test(hostile, all_in_sequence)
{
	hostile_begin();
	act_random_bytes();
	act_oversized_packet();
	act_truncated_protobuf();
	act_unknown_request_type();
	act_wrong_protocol_version();
	act_size_zero();
	act_size_2_63();
	act_offset_wrap();
	act_bad_names();
	act_release_foreign_lease();
	act_fds_in_ancillary_data();
	act_sigkill_mid_request();
	act_never_reads_replies();
	act_silent_connections();
	hostile_end();
}
