/*
 * No client can hurt another: the attacks of issue 10, findings 2 and 3,
 * against a real mmapd, with their effect on the others measured.
 *
 * Grants in flight.  Every fd mmapd sends is charged to mmapd's user
 * until its receiver reads it, and past mmapd's RLIMIT_NOFILE the kernel
 * refuses every further fd (ETOOMANYREFS).  A uid that pipelines Map and
 * Release and never reads used to take them all, and every other
 * client's Map was answered by a closed connection.  Now its grants in
 * flight are bounded per connection and per uid, and another uid's Map
 * is granted at once.  A grant whose fd still cannot go (another process
 * of mmapd's user holds the fds in flight) is refused with that errno,
 * logged so, and undone: never audited as ok.
 *
 * Connections.  One uid filling [limits] connections with idle
 * connections locked root and everyone out.  Now a uid has at most
 * connections_per_uid, the last connections_reserved are root's and
 * admin_group's, and a connection without a lease that sends nothing for
 * idle_seconds is closed.
 *
 * The attacker is uid 65534, or H_OTHER, through raw_connect_as().
 * The kernel counts fds in flight per sending user, and the other
 * tests' daemons, run at the same time, are all nobody: the tests of
 * fds in flight run mmapd as a user of their own (INFLIGHT_USER), so
 * that neither they nor the others see each other's fds.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"
#include "wire.h"

TestSuite(limits, .fini = h_cleanup, .timeout = 90);

#define INFLIGHT_USER	"games"		/* in Debian's base-passwd */

/* mmapd at RLIMIT_NOFILE nofile, as INFLIGHT_USER; its uid. */
static uid_t
start_inflight(const char *conf, int nofile)
{
	static const char *const extra[] = { "--user", INFLIGHT_USER, NULL };
	struct passwd *pw = getpwnam(INFLIGHT_USER);

	if (pw == NULL)
		cr_skip_test("no user %s here to run mmapd as", INFLIGHT_USER);
	h_start_limited_args(conf, nofile, extra);
	h_log_expect("sandbox: running as " INFLIGHT_USER " ");
	return pw->pw_uid;
}

#define CONF_HEAD \
	"[daemon]\nsocket_mode = 0666\n\n[zero]\nusers = *\nmax_size = 1M\n\n"

/* ----------------------------------------------------------------------
 * Requests packed by hand, to pipeline them
 * ---------------------------------------------------------------------- */

static size_t
pack_map(uint64_t id, uint8_t *buf)
{
	Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Map m = MMAPD__V1__MAP__INIT;

	m.device = (char *)"zero";
	m.size = 4096;
	req.request_id = id;
	req.body_case = MMAPD__V1__REQUEST__BODY_MAP;
	req.map = &m;
	return mmapd__v1__request__pack(&req, buf);
}

static size_t
pack_release(uint64_t id, uint64_t lease, uint8_t *buf)
{
	Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Release rel = MMAPD__V1__RELEASE__INIT;

	rel.lease_id = lease;
	req.request_id = id;
	req.body_case = MMAPD__V1__REQUEST__BODY_RELEASE;
	req.release = &rel;
	return mmapd__v1__request__pack(&req, buf);
}

/* One Map, read, released: the lease id the next Map will get. */
static uint64_t
next_lease(int fd, uint64_t id)
{
	Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Release rel = MMAPD__V1__RELEASE__INIT;
	uint64_t lease;
	Reply *rep;
	int rfd;

	rep = raw_map(fd, id, "zero", 0, 4096, 0, 0, "", &rfd);
	cr_assert_eq(rep->error, 0, "the attacker's first map: %s",
	    rep->message);
	lease = rep->grant->lease_id;
	close(rfd);
	reply_free(rep);
	rel.lease_id = lease;
	req.request_id = id + 1;
	req.body_case = MMAPD__V1__REQUEST__BODY_RELEASE;
	req.release = &rel;
	rep = raw_call(fd, &req, NULL);
	cr_assert_eq(rep->error, 0, "%s", rep->message);
	reply_free(rep);
	return lease + 1;
}

/*
 * The attack: Map, then Release of the lease that Map will get, again
 * and again, never reading a reply, until mmapd reads no more (the
 * socket stays full for 300 ms).  Returns the pairs sent.
 */
static unsigned int
flood(int fd, uint64_t lease)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int64_t end = h_now_ms() + H_WAIT_MS;
	uint8_t buf[2][256];
	size_t len[2];
	uint64_t id = 100;
	unsigned int pairs = 0, half = 0;

	/* As small as the kernel allows: little waits in it. */
	cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &(int){ 1 },
	    sizeof(int)), 0);
	for (;;) {
		len[0] = pack_map(id, buf[0]);
		len[1] = pack_release(id + 1, lease, buf[1]);
		if (send(fd, buf[half], len[half], MSG_DONTWAIT |
		    MSG_NOSIGNAL) >= 0) {
			if (half == 1) {
				id += 2;
				lease++;
				pairs++;
			}
			half ^= 1;
			continue;
		}
		if (errno == EPIPE || errno == ECONNRESET)
			return pairs;	/* the old mmapd drops the attacker */
		cr_assert_eq(errno, EAGAIN, "send: %s", strerror(errno));
		if (poll(&p, 1, 300) == 0)
			return pairs;
		cr_assert_lt(h_now_ms(), end, "mmapd still reads a client "
		    "that never reads, after %u pairs", pairs);
	}
}

/*
 * What a flooding connection holds unread, up to the first refusal: the
 * fds that came before it, all sent while none was read.  The fds are
 * closed; the reply after it is left unread.  -1 when no reply is
 * refused (then every reply queued was read).
 */
static int
fds_before_refusal(int fd, int *refusals_eagain)
{
	uint8_t buf[WIRE_MAX];
	int fds[WIRE_MAX_FDS], n = 0;
	size_t nfds;
	ssize_t len;
	Reply *rep;

	for (;;) {
		nfds = 0;
		len = wire_recv(fd, buf, sizeof(buf), fds, &nfds);
		if (len == -EAGAIN || len <= 0)
			return -1;
		rep = mmapd__v1__reply__unpack(NULL, (size_t)len, buf);
		cr_assert_not_null(rep);
		n += (int)nfds;
		wire_close_fds(fds, &nfds);
		/* A Release of a lease that guess missed: ENOENT. */
		if (rep->error != 0 && rep->error != ENOENT) {
			cr_assert_eq(rep->error, EAGAIN, "a refusal with %d: "
			    "%s", rep->error, rep->message);
			(*refusals_eagain)++;
			reply_free(rep);
			return n;
		}
		reply_free(rep);
	}
}

/* A Map from another client: granted, and its memory works; how long. */
static int64_t
victim_map(struct mmapclient *c)
{
	struct mmapclient_request req = {
		.device = "zero", .size = 64 * 1024,
		.flags = MMAPCLIENT_WRITE | MMAPCLIENT_SHARED,
	};
	struct mmapclient_region *r = NULL;
	int64_t t0 = h_now_ms(), ms;
	int err;

	err = mmapclient_map(c, &req, &r);
	ms = h_now_ms() - t0;
	cr_assert_eq(err, 0, "another client's map during the attack: %s "
	    "(%s), after %lld ms", strerror(-err), mmapclient_error(c),
	    (long long)ms);
	memset(r->addr, 0x5c, r->size);
	cr_assert(h_all(r->addr, r->size, 0x5c));
	cr_assert_eq(mmapclient_release(c, r), 0, "%s", mmapclient_error(c));
	return ms;
}

/* The same raw, as another uid: the fd it gets maps and holds bytes. */
static int64_t
victim_map_raw(uid_t uid)
{
	int64_t t0 = h_now_ms(), ms;
	Reply *rep;
	int fd, rfd = -1;
	uint8_t *p;

	fd = raw_connect_as(uid, uid);
	rep = raw_map(fd, 1, "zero", 0, 4096, 1, 1, "", &rfd);
	ms = h_now_ms() - t0;
	cr_assert_eq(rep->error, 0, "uid %u's map during the attack: %s",
	    (unsigned)uid, rep->message);
	cr_assert_geq(rfd, 0, "uid %u's grant came without an fd",
	    (unsigned)uid);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, rfd, 0);
	cr_assert_neq(p, MAP_FAILED, "mmap of uid %u's grant: %s",
	    (unsigned)uid, strerror(errno));
	memset(p, 0xa7, 4096);
	cr_assert(h_all(p, 4096, 0xa7));
	munmap(p, 4096);
	close(rfd);
	reply_free(rep);
	close(fd);
	return ms;
}

#define ATTACKERS	6

/*
 * Finding 2.  mmapd at RLIMIT_NOFILE 128: 128 fds unread in flight
 * refuse every further one.  uid 65534 floods from six connections (a
 * socket buffer holds some 270 small replies: twice the limit from one
 * connection alone).  Root's Map and uid H_OTHER's are granted within
 * a second and their memory works; no grant failed or was logged ok
 * without going out; each flooding connection was sent at most
 * grants_in_flight (8) fds before its first refusal, and all six
 * together at most grants_in_flight_per_uid (32).
 */
Test(limits, grants_flood_others_served)
{
	struct mmapclient *k;
	int fd[ATTACKERS], n, sum = 0, eagain = 0, i;
	unsigned int pairs[ATTACKERS];
	uint64_t lease[ATTACKERS];
	int64_t ms_root, ms_other;
	char *line;

	ctl_need_nobody();
	signal(SIGPIPE, SIG_IGN);
	start_inflight(CONF_HEAD "[limits]\nleases_per_uid = 100000\n", 128);
	h_log_expect("fd limit 128; grants in flight at most 64");
	k = h_connect();

	for (i = 0; i < ATTACKERS; i++) {
		fd[i] = raw_connect_as(H_NOBODY, H_NOBODY);
		lease[i] = next_lease(fd[i], 1);
	}
	/* Later connections' guesses are off: their Releases miss. */
	for (i = 0; i < ATTACKERS; i++) {
		pairs[i] = flood(fd[i], lease[i]);
		cr_log_info("attacker %d: %u Map+Release pairs sent before "
		    "mmapd stopped reading", i, pairs[i]);
	}

	ms_root = victim_map(k);
	ms_other = victim_map_raw(H_OTHER);
	cr_log_info("during the flood: root's map took %lld ms, uid %u's "
	    "%lld ms", (long long)ms_root, H_OTHER, (long long)ms_other);
	cr_assert_lt(ms_root, 1000);
	cr_assert_lt(ms_other, 1000);
	line = h_log_line("result=failed");
	cr_assert_null(line, "a grant failed: %s", line);
	cr_assert_eq(h_log_count("ETOOMANYREFS"), 0);
	h_log_expect("audit: event=deny", "uid=65534 ", "errno=EAGAIN ",
	    "msg=\"8 grants in flight on this connection (limit 8): read "
	    "the replies\"");
	h_log_expect("audit: event=deny", "uid=65534 ", "errno=EAGAIN ",
	    "msg=\"uid 65534 has 32 grants in flight (limit 32 per uid): "
	    "read the replies\"");

	for (i = 0; i < ATTACKERS; i++) {
		n = fds_before_refusal(fd[i], &eagain);
		cr_log_info("attacker %d: %d fds before its first refusal",
		    i, n);
		cr_assert_geq(n, 0, "attacker %d was never refused", i);
		cr_assert_leq(n, 8, "attacker %d: %d fds in flight", i, n);
		sum += n;
	}
	cr_assert_leq(sum, 32, "uid 65534 had %d fds in flight", sum);
	cr_assert_eq(eagain, ATTACKERS);

	/*
	 * Every grant logged ok went out: each "result=ok" line of uid
	 * 65534 is one fd its connections were sent.  (Those sent after
	 * the first refusals, once read, are not counted above.)
	 */
	line = h_log_line("audit: event=grant", "uid=65534 ", "result=ok");
	cr_assert_not_null(line);
	free(line);

	for (i = 0; i < ATTACKERS; i++)
		close(fd[i]);
	cr_assert_eq(h_leases_wait_on(k, 0), 0);
	mmapclient_close(k);
	h_stop();
}

/*
 * A connection refused at its own bound is read again once it has read
 * its replies: the stall is its own, and ends.
 */
Test(limits, grants_read_resume)
{
	uint8_t buf[256];
	uint64_t id;
	Reply *rep;
	int fd, rfd, grants = 0, refused = 0;

	signal(SIGPIPE, SIG_IGN);
	h_start(CONF_HEAD "[limits]\ngrants_in_flight = 3\n");
	fd = raw_connect();
	for (id = 1; id <= 5; id++)
		cr_assert_eq(raw_send_bytes(fd, buf, pack_map(id, buf), NULL,
		    0), 0);
	h_log_wait(1, "errno=EAGAIN ", "msg=\"3 grants in flight on this "
	    "connection (limit 3): read the replies\"");
	for (id = 1; id <= 5; id++) {
		rep = raw_recv(fd, &rfd, NULL);
		cr_assert_not_null(rep);
		cr_assert_eq(rep->request_id, id);
		if (rep->error == 0) {
			cr_assert_geq(rfd, 0);
			close(rfd);
			grants++;
		} else {
			cr_assert_eq(rep->error, EAGAIN, "%s", rep->message);
			refused++;
		}
		reply_free(rep);
	}
	/* 1-3 granted, 4 refused, 5 read and granted once 1-4 were read. */
	cr_assert_eq(grants, 4, "%d granted, %d refused", grants, refused);
	cr_assert_eq(refused, 1);
	rep = raw_status(fd, 6);
	cr_assert_eq(rep->error, 0, "%s", rep->message);
	reply_free(rep);
	close(fd);
	h_stop();
}

/*
 * A connection that mmapd closes with grants unread leaves them in
 * flight as long as its peer keeps its end: they stay counted, so
 * reconnecting does not get round the bound.  Once the peer reads them,
 * the uid may be sent more.
 */
Test(limits, grants_of_closed_connections_count)
{
	uint8_t buf[256];
	int fd[3], i, rfd;
	uint64_t id;
	Reply *rep;
	int64_t end;

	ctl_need_nobody();
	signal(SIGPIPE, SIG_IGN);
	h_start(CONF_HEAD "[limits]\ngrants_in_flight = 4\n"
	    "grants_in_flight_per_uid = 8\n");
	for (i = 0; i < 2; i++) {
		fd[i] = raw_connect_as(H_NOBODY, H_NOBODY);
		for (id = 1; id <= 4; id++)
			cr_assert_eq(raw_send_bytes(fd[i], buf,
			    pack_map(id, buf), NULL, 0), 0);
		/* Garbage: mmapd answers EBADMSG and closes its end. */
		cr_assert_eq(raw_send_bytes(fd[i], "\xff\xff", 2, NULL, 0), 0);
		h_log_wait(4 * (i + 1), "audit: event=grant", "uid=65534 ",
		    "result=ok");
	}
	/* Both closed by mmapd; their 8 fds are still unread. */
	cr_assert_eq(h_clients_wait(1), 1);
	fd[2] = raw_connect_as(H_NOBODY, H_NOBODY);
	rep = raw_map(fd[2], 1, "zero", 0, 4096, 0, 0, "", &rfd);
	cr_assert_eq(rep->error, EAGAIN, "a ninth grant in flight: %s",
	    rep->error ? rep->message : "granted");
	cr_assert_str_eq(rep->message, "uid 65534 has 8 grants in flight "
	    "(limit 8 per uid): read the replies");
	reply_free(rep);

	/* The first reads its replies, to the end of the stream. */
	for (i = 0; i < 4; i++) {
		rep = raw_recv(fd[0], &rfd, NULL);
		cr_assert_not_null(rep);
		cr_assert_eq(rep->error, 0, "%s", rep->message);
		close(rfd);
		reply_free(rep);
	}
	rep = raw_recv(fd[0], NULL, NULL);
	cr_assert_not_null(rep, "no EBADMSG reply");
	cr_assert_eq(rep->error, EBADMSG);
	reply_free(rep);
	cr_assert(raw_closed(fd[0], H_WAIT_MS), "no end of stream");

	/* Seen read within the daemon's 20 ms poll: a grant again. */
	end = h_now_ms() + 2000;
	for (id = 2;; id++) {
		rep = raw_map(fd[2], id, "zero", 0, 4096, 0, 0, "", &rfd);
		if (rep->error == 0)
			break;
		cr_assert_eq(rep->error, EAGAIN, "%s", rep->message);
		cr_assert_lt(h_now_ms(), end, "the grants read were never "
		    "let go");
		reply_free(rep);
		h_sleep_ms(50);
	}
	close(rfd);
	reply_free(rep);
	for (i = 0; i < 3; i++)
		close(fd[i]);
	h_stop();
}

/*
 * Another process of mmapd's own user holds fds in flight past mmapd's
 * fd limit: the kernel refuses mmapd's next fd (ETOOMANYREFS).  The Map
 * is answered with that errno, its lease undone, the grant logged
 * failed with the errno, never ok; the connection goes on, and once the
 * fds are read a Map is granted again.
 */
Test(limits, grant_send_failure_undone)
{
	struct mmapclient_request req = {
		.device = "zero", .size = 4096, .flags = MMAPCLIENT_WRITE,
	};
	struct mmapclient_region *r = NULL;
	struct mmapclient_status *st = NULL;
	struct mmapclient *c;
	int pipefd[2], err, sent = 0;
	pid_t pid;
	uid_t uid;
	char *line;

	ctl_need_nobody();
	signal(SIGPIPE, SIG_IGN);
	uid = start_inflight(CONF_HEAD, 64);
	c = h_connect();

	/* The filler: mmapd's uid, fds in flight to a socket no one reads. */
	cr_assert_eq(pipe(pipefd), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct rlimit rl = { 4096, 4096 };
		int sv[2], null = open("/dev/null", O_RDONLY);

		close(pipefd[0]);
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || setuid(uid) < 0 ||
		    socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
			_exit(1);
		while (sent < 200 && wire_send(sv[0], "x", 1, null) == 0)
			sent++;
		if (write(pipefd[1], &sent, sizeof(sent)) < 0)
			_exit(1);
		pause();
		_exit(0);
	}
	h_track(pid);
	close(pipefd[1]);
	cr_assert_eq(read(pipefd[0], &sent, sizeof(sent)), sizeof(sent));
	close(pipefd[0]);
	cr_assert_geq(sent, 100, "the filler got only %d fds in flight",
	    sent);

	err = mmapclient_map(c, &req, &r);
	cr_assert_eq(err, -ETOOMANYREFS, "map with the fds in flight taken: "
	    "%d (%s)", err, err ? mmapclient_error(c) : "granted");
	cr_assert_null(r);
	cr_assert(strstr(mmapclient_error(c), "mmapd could not send the "
	    "grant's fd") != NULL, "%s", mmapclient_error(c));
	line = h_log_line("audit: event=grant", "result=failed",
	    "errno=ETOOMANYREFS ");
	cr_assert_not_null(line, "no failed grant line:\n%s", h_log());
	cr_assert_eq(h_log_count("audit: event=grant", "result=ok"), 0,
	    "a grant that never went out was logged ok");
	free(line);
	cr_assert_eq(mmapclient_status(c, &st), 0, "the connection went "
	    "with the grant: %s", mmapclient_error(c));
	cr_assert_eq(st->leases, 0, "the failed grant's lease is held");
	mmapclient_status_free(st);

	kill(pid, SIGKILL);
	cr_assert(WIFSIGNALED(h_wait(pid, H_WAIT_MS)));
	h_untrack(pid);
	err = mmapclient_map(c, &req, &r);
	cr_assert_eq(err, 0, "%s", mmapclient_error(c));
	h_log_expect("audit: event=grant", "result=ok");
	cr_assert_eq(mmapclient_release(c, r), 0);
	mmapclient_close(c);
	h_stop();
}

/* ----------------------------------------------------------------------
 * Connections
 * ---------------------------------------------------------------------- */

/* A connection refused: one EMFILE reply with this message, then closed. */
static void
refused(int fd, const char *msg)
{
	Reply *rep;
	int err;

	rep = raw_recv(fd, NULL, &err);
	cr_assert_not_null(rep, "no reply to a refused connection: %s",
	    strerror(-err));
	cr_assert_eq(rep->request_id, 0);
	cr_assert_eq(rep->error, EMFILE, "%d: %s", rep->error, rep->message);
	cr_assert_str_eq(rep->message, msg);
	reply_free(rep);
	cr_assert(raw_closed(fd, H_WAIT_MS), "a refused connection stays");
	close(fd);
}

static void
status_ok(int fd)
{
	Reply *rep = raw_status(fd, 7);

	cr_assert_eq(rep->error, 0, "%s", rep->message);
	cr_assert_eq(rep->body_case, MMAPD__V1__REPLY__BODY_STATUS);
	reply_free(rep);
}

#define ADMIN_GID	65530

/* Status on fd until it counts want clients (itself included). */
static void
clients_wait(int fd, uint32_t want)
{
	int64_t end = h_now_ms() + H_WAIT_MS;
	uint32_t n;
	Reply *rep;

	for (;;) {
		rep = raw_status(fd, 8);
		cr_assert_eq(rep->error, 0, "%s", rep->message);
		n = rep->status->clients;
		reply_free(rep);
		if (n == want)
			return;
		cr_assert_lt(h_now_ms(), end, "mmapd serves %u connections, "
		    "not %u", n, want);
		h_sleep_ms(10);
	}
}

/*
 * Connect and ask Status; the first reply: EMFILE's (request id 0), or
 * Status's.  NULL when the connection ended without one.
 */
static Reply *
try_status(int fd)
{
	uint8_t buf[64];
	Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Status st = MMAPD__V1__STATUS__INIT;

	struct pollfd p = { .fd = fd, .events = POLLIN };

	/*
	 * A refusal comes unasked, at once: a request sent into a socket
	 * mmapd then closes unread would turn it into ECONNRESET.
	 */
	if (poll(&p, 1, 200) > 0)
		return raw_recv(fd, NULL, NULL);
	req.request_id = 1;
	req.body_case = MMAPD__V1__REQUEST__BODY_STATUS;
	req.status = &st;
	cr_assert_eq(raw_send_bytes(fd, buf, mmapd__v1__request__pack(&req,
	    buf), NULL, 0), 0);
	return raw_recv(fd, NULL, NULL);
}

/*
 * Finding 3.  connections = 8, 3 per uid, 2 kept for root and group
 * 65530.  uid 65534 holds as many as it may: its fourth is refused, and
 * uid H_OTHER and root still connect and get Status.  Filled up to the
 * reserve by more uids, a plain uid is refused, while a member of
 * admin_group and root still get in, to the last slot.
 */
Test(limits, connections_per_uid_and_reserve)
{
	int mine[3], other, third, admin, root[2], fd, i;

	h_start(CONF_HEAD "[limits]\nconnections = 8\n"
	    "connections_per_uid = 3\nconnections_reserved = 2\n"
	    "admin_group = 65530\nidle_seconds = 0\n");
	/* The start-up probe gone, root holds the only connection. */
	root[0] = raw_connect();
	clients_wait(root[0], 1);

	for (i = 0; i < 3; i++) {
		mine[i] = raw_connect_as(H_NOBODY, H_NOBODY);
		status_ok(mine[i]);
	}
	fd = raw_connect_as(H_NOBODY, H_NOBODY);
	refused(fd, "uid 65534 has 3 connections (limit 3 per uid)");

	/* Another uid, and root, are served. */
	other = raw_connect_as(H_OTHER, H_OTHER);
	status_ok(other);
	status_ok(root[0]);

	/* 5 held; a sixth uid's fills the slots open to everyone. */
	third = raw_connect_as(65532, 65532);
	status_ok(third);
	fd = raw_connect_as(65531, 65531);
	refused(fd, "mmapd serves 6 connections (limit 8, of which the last "
	    "2 are kept for root and group 65530)");
	admin = raw_connect_as(65529, ADMIN_GID);
	status_ok(admin);
	root[1] = raw_connect();
	status_ok(root[1]);
	fd = raw_connect();
	refused(fd, "mmapd serves 8 connections (limit 8)");
	cr_assert_eq(h_log_count("audit: event=deny", "op=connect ",
	    "errno=EMFILE "), 3);
	h_log_expect("audit: event=deny", "op=connect ", "uid=0 ",
	    "msg=\"mmapd serves 8 connections (limit 8)\"");
	h_log_expect("audit: event=deny", "op=connect ", "uid=65534 ",
	    "msg=\"uid 65534 has 3 connections (limit 3 per uid)\"");

	/*
	 * The ones held are served still.  Three gone, 5 held: below the
	 * reserve again, and uid 65534 below its own limit.
	 */
	for (i = 0; i < 3; i++)
		status_ok(mine[i]);
	close(mine[0]);
	close(third);
	close(admin);
	clients_wait(root[0], 5);
	mine[0] = raw_connect_as(H_NOBODY, H_NOBODY);
	status_ok(mine[0]);
	fd = raw_connect_as(H_NOBODY, H_NOBODY);
	refused(fd, "uid 65534 has 3 connections (limit 3 per uid)");

	for (i = 0; i < 3; i++)
		close(mine[i]);
	close(other);
	close(root[0]);
	close(root[1]);
	h_stop();
}

/*
 * The attack of finding 3 with the defaults but connections = 16: one
 * uid opening connection after connection gets connections_per_uid of
 * them at most, and root and another uid still get Status.
 */
Test(limits, one_uid_cannot_fill)
{
	int fd[17], n = 0, x, err, i;
	Reply *rep;

	signal(SIGPIPE, SIG_IGN);
	h_start(CONF_HEAD "[limits]\nconnections = 16\n"
	    "connections_per_uid = 8\n");
	for (;;) {
		cr_assert_lt(n, 17, "uid 65534 got all 16 connections");
		fd[n] = raw_connect_as(H_NOBODY, H_NOBODY);
		rep = try_status(fd[n]);
		cr_assert_not_null(rep, "connection %d ended unanswered", n);
		if (rep->error != 0)
			break;
		reply_free(rep);
		n++;
	}
	cr_assert_eq(rep->error, EMFILE, "%s", rep->message);
	cr_assert_str_eq(rep->message, "uid 65534 has 8 connections (limit "
	    "8 per uid)");
	reply_free(rep);
	close(fd[n]);
	cr_log_info("uid 65534 holds %d connections", n);
	cr_assert_eq(n, 8);

	x = raw_connect();
	status_ok(x);
	close(x);
	x = raw_connect_as(H_OTHER, H_OTHER);
	status_ok(x);
	close(x);
	err = 0;
	for (i = 0; i < n; i++)
		err |= close(fd[i]);
	cr_assert_eq(err, 0);
	h_stop();
}

/*
 * idle_seconds = 1: a connection without a lease that sends nothing is
 * told why (ETIMEDOUT, request id 0) and closed after about a second;
 * one holding a lease, and one that keeps asking, stay.
 */
Test(limits, idle_closed_unless_leased)
{
	int idle, holder, busy, rfd, err;
	int64_t t0, closed_ms = -1;
	struct pollfd p;
	Reply *rep;
	uint64_t id = 10;

	h_start(CONF_HEAD "[limits]\nidle_seconds = 1\n");
	idle = raw_connect_as(H_OTHER, H_OTHER);
	status_ok(idle);
	t0 = h_now_ms();
	holder = raw_connect_as(H_OTHER, H_OTHER);
	rep = raw_map(holder, 1, "zero", 0, 4096, 0, 0, "", &rfd);
	cr_assert_eq(rep->error, 0, "%s", rep->message);
	close(rfd);
	reply_free(rep);
	busy = raw_connect();

	/* Watch for 3 s; the busy one asks every 200 ms. */
	while (h_now_ms() - t0 < 3000) {
		p.fd = idle;
		p.events = POLLIN;
		if (closed_ms < 0 && poll(&p, 1, 0) > 0) {
			closed_ms = h_now_ms() - t0;
			rep = raw_recv(idle, NULL, &err);
			cr_assert_not_null(rep, "closed without a word: %s",
			    strerror(-err));
			cr_assert_eq(rep->request_id, 0);
			cr_assert_eq(rep->error, ETIMEDOUT);
			cr_assert_str_eq(rep->message, "closed: no request for "
			    "1 s and no lease held (limit idle_seconds = 1)");
			reply_free(rep);
			cr_assert(raw_closed(idle, H_WAIT_MS));
		}
		rep = raw_status(busy, id++);
		cr_assert_eq(rep->error, 0, "%s", rep->message);
		reply_free(rep);
		h_sleep_ms(200);
	}
	cr_log_info("the idle connection was closed after %lld ms",
	    (long long)closed_ms);
	cr_assert_geq(closed_ms, 900, "closed after %lld ms",
	    (long long)closed_ms);
	cr_assert_leq(closed_ms, 2500, "closed after %lld ms",
	    (long long)closed_ms);
	h_log_expect("audit: event=close", "uid=65533 ", "reason=idle");
	cr_assert_eq(h_log_count("audit: event=close"), 1);

	/* The lease holder, quiet for 3 s, is served. */
	status_ok(holder);
	close(idle);
	close(holder);
	close(busy);
	h_stop();
}
