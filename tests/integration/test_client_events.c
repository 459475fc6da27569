/*
 * libmmapclient's events and requests in flight, against a fake daemon
 * that says what the test scripts: Revoking events (after a Grant, in
 * the middle of a synchronous call, to a connection that asked for
 * none, naming lease 0, with an fd), replies for a request not in
 * flight, a reply twice.  The fake is a child of the test listening in
 * the test's folder; it writes what it was asked to a file, one line
 * a request, and exits with the number of Releases it got.
 *
 * What is proved: an event reaches the revoke handler with its lease,
 * the region this connection mapped of it, the reason, the deadline and
 * the enforcement, only from mmapclient_dispatch(); a synchronous call
 * that reads an event while waiting queues it and returns its own
 * reply; Hello asks for events only once a handler is set; every lie
 * breaks the connection with -EPROTO, the callbacks of the requests in
 * flight run with that error, no fd stays open; mmapctl map --hold
 * prints the revocation, unmaps, releases and exits 3.  The same with
 * a real mmapd, for pipelining, is test_pipeline.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
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

#define LEASE0		100	/* the fake's first lease id */
#define REASON		"revoked by the test"
#define DEADLINE	1900000000
#define SECONDS		7

TestSuite(client_events, .fini = h_cleanup, .timeout = 60);

/* What the fake does besides answering. */
struct fake {
	int event_after_map;	/* a Revoking of a lease after its Grant */
	int event_on_hello;	/* one after a Hello with events on */
	int event_before_status;	/* a Revoking, then the StatusReply */
	int event_always;	/* send them to a connection that asked none */
	int lease_zero;		/* the event names lease 0 */
	int event_fd;		/* the event comes with /dev/null */
	int stray_map;		/* answer Map number N as id + 1000 */
	int twice_release;	/* answer each Release twice */
};

/* ---------------------------------------------------------------------
 * The fake daemon
 * --------------------------------------------------------------------- */

static int
wait_in(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, H_WAIT_MS) == 1;
}

/*
 * Send one reply: 0, or -1 when it could not be sent.  A client that
 * broke the connection is gone: that is no failure of the fake's.
 */
static int
reply_out(int sock, Reply *r, int fd)
{
	uint8_t buf[WIRE_MAX];
	size_t len = mmapd__v1__reply__get_packed_size(r);
	int err;

	if (len > sizeof(buf))
		return -1;
	mmapd__v1__reply__pack(r, buf);
	err = raw_send_bytes(sock, buf, len, &fd, fd < 0 ? 0 : 1);
	return err == 0 || err == -EPIPE || err == -ECONNRESET ? 0 : -1;
}

static int
event_out(int sock, const struct fake *f, uint64_t lease)
{
	Mmapd__V1__Revoking rv = MMAPD__V1__REVOKING__INIT;
	Mmapd__V1__Event ev = MMAPD__V1__EVENT__INIT;
	Reply r = MMAPD__V1__REPLY__INIT;
	int fd = -1, err;

	rv.lease_id = f->lease_zero ? 0 : lease;
	/* A control character: the library makes it a space. */
	rv.reason = (char *)REASON "\n";
	rv.deadline_unix_sec = DEADLINE;
	rv.seconds = SECONDS;
	rv.enforce = MMAPD__V1__REVOKE_ENFORCE__ENFORCE_LOG;
	ev.kind_case = MMAPD__V1__EVENT__KIND_REVOKING;
	ev.revoking = &rv;
	r.body_case = MMAPD__V1__REPLY__BODY_EVENT;
	r.event = &ev;
	if (f->event_fd)
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	err = reply_out(sock, &r, fd);
	if (fd >= 0)
		close(fd);
	return err;
}

/* A sealed 4 KiB memfd, as mmapd grants shared zero memory. */
static int
grant_out(int sock, uint64_t id, uint64_t lease)
{
	Mmapd__V1__Grant g = MMAPD__V1__GRANT__INIT;
	Reply r = MMAPD__V1__REPLY__INIT;
	int fd, err;

	fd = memfd_create("fake-grant", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0 || ftruncate(fd, 4096) < 0 || fcntl(fd, F_ADD_SEALS,
	    F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0)
		return -1;
	g.lease_id = lease;
	g.size = 4096;
	g.mmap_flags = MAP_SHARED;
	g.prot = PROT_READ | PROT_WRITE;
	g.fd_kind = MMAPD__V1__FD_KIND__FD_KIND_SHMEM;
	g.cache = MMAPD__V1__CACHE_MODE__CACHE_CACHED;
	r.request_id = id;
	r.body_case = MMAPD__V1__REPLY__BODY_GRANT;
	r.grant = &g;
	err = reply_out(sock, &r, fd);
	close(fd);
	return err;
}

struct fake_state {
	int events;		/* the last Hello asked for events */
	int maps;
	int releases;
	uint64_t lease;		/* the last granted */
	FILE *log;
};

static int
fake_answer(int sock, const struct fake *f, struct fake_state *st,
    const Request *q)
{
	Mmapd__V1__HelloReply hr = MMAPD__V1__HELLO_REPLY__INIT;
	Mmapd__V1__StatusReply sr = MMAPD__V1__STATUS_REPLY__INIT;
	Mmapd__V1__Ack ack = MMAPD__V1__ACK__INIT;
	Reply r = MMAPD__V1__REPLY__INIT;
	int send_events;

	r.request_id = q->request_id;
	switch (q->body_case) {
	case MMAPD__V1__REQUEST__BODY_HELLO:
		st->events = q->hello->events;
		fprintf(st->log, "hello %llu events=%d\n",
		    (unsigned long long)q->request_id, st->events);
		hr.server_version = (char *)"fake";
		hr.protocol_major = MMAPCLIENT_PROTOCOL_MAJOR;
		r.body_case = MMAPD__V1__REPLY__BODY_HELLO;
		r.hello = &hr;
		if (reply_out(sock, &r, -1))
			return 104;
		if (f->event_on_hello && st->events && st->lease &&
		    event_out(sock, f, st->lease))
			return 105;
		return 0;
	case MMAPD__V1__REQUEST__BODY_MAP:
		st->maps++;
		st->lease = LEASE0 + (uint64_t)st->maps - 1;
		fprintf(st->log, "map %llu\n",
		    (unsigned long long)q->request_id);
		if (grant_out(sock, q->request_id +
		    (st->maps == f->stray_map ? 1000 : 0), st->lease))
			return 104;
		send_events = st->events || f->event_always;
		if (f->event_after_map && send_events &&
		    event_out(sock, f, st->lease))
			return 105;
		return 0;
	case MMAPD__V1__REQUEST__BODY_RELEASE:
		st->releases++;
		fprintf(st->log, "release %llu lease %llu\n",
		    (unsigned long long)q->request_id,
		    (unsigned long long)q->release->lease_id);
		r.body_case = MMAPD__V1__REPLY__BODY_RELEASE;
		r.release = &ack;
		if (reply_out(sock, &r, -1))
			return 104;
		if (f->twice_release && reply_out(sock, &r, -1))
			return 104;
		return 0;
	case MMAPD__V1__REQUEST__BODY_STATUS:
		fprintf(st->log, "status %llu\n",
		    (unsigned long long)q->request_id);
		if (f->event_before_status && event_out(sock, f, st->lease))
			return 105;
		sr.version = (char *)"fake";
		r.body_case = MMAPD__V1__REPLY__BODY_STATUS;
		r.status = &sr;
		return reply_out(sock, &r, -1) ? 104 : 0;
	default:
		return 103;
	}
}

static int
fake_serve(int lfd, const struct fake *f)
{
	struct fake_state st = { .events = 0 };
	uint8_t buf[WIRE_MAX];
	int fds[WIRE_MAX_FDS];
	size_t nfds;
	int sock, rc;
	Request *q;
	ssize_t n;

	st.log = fopen(h_path("fake.log"), "we");
	if (st.log == NULL)
		return 109;
	setvbuf(st.log, NULL, _IOLBF, 0);
	if (!wait_in(lfd))
		return 110;
	sock = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (sock < 0)
		return 111;
	close(lfd);
	for (;;) {
		if (!wait_in(sock))
			return 112;
		n = wire_recv(sock, buf, sizeof(buf), fds, &nfds);
		if (n == 0 || n == -ECONNRESET)
			return st.releases;
		if (n < 0)
			return 113;
		wire_close_fds(fds, &nfds);
		q = mmapd__v1__request__unpack(NULL, (size_t)n, buf);
		if (q == NULL)
			return 114;
		rc = fake_answer(sock, f, &st, q);
		mmapd__v1__request__free_unpacked(q, NULL);
		if (rc)
			return rc;
	}
}

static pid_t
fake_start(const struct fake *f)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	pid_t pid;
	int lfd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", h_sock());
	unlink(sa.sun_path);
	unlink(h_path("fake.log"));
	lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	cr_assert(lfd >= 0, "socket: %s", strerror(errno));
	cr_assert(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
	    "bind %s: %s", sa.sun_path, strerror(errno));
	cr_assert(listen(lfd, 4) == 0, "listen: %s", strerror(errno));
	pid = fork();
	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0)
		_exit(fake_serve(lfd, f));
	h_track(pid);
	close(lfd);
	return pid;
}

/* The fake's exit code (its Releases); its log into *log (malloc'd). */
static int
fake_end(pid_t pid, char **log)
{
	int st = h_wait(pid, H_WAIT_MS);

	cr_assert(st != -1, "the fake daemon did not end within %d ms",
	    H_WAIT_MS);
	h_untrack(pid);
	cr_assert(WIFEXITED(st), "the fake daemon died of signal %d",
	    WTERMSIG(st));
	cr_assert(WEXITSTATUS(st) < 100, "the fake daemon failed: %d",
	    WEXITSTATUS(st));
	if (log)
		*log = h_read(h_path("fake.log"));
	return WEXITSTATUS(st);
}

/* ---------------------------------------------------------------------
 * The client's side
 * --------------------------------------------------------------------- */

static const struct mmapclient_request shared4k = {
	.device = "zero", .size = 4096,
	.flags = MMAPCLIENT_SHARED | MMAPCLIENT_WRITE,
};

/* What the revoke handler saw. */
struct seen {
	int n;
	uint64_t lease;
	struct mmapclient_region *region;
	char reason[256];
	int64_t deadline;
	uint32_t seconds;
	enum mmapclient_enforce enforce;
	int release;		/* release the region from the handler */
	int release_err;
};

static void
on_revoke(struct mmapclient *c, const struct mmapclient_revoking *ev,
    void *arg)
{
	struct seen *s = arg;

	s->n++;
	s->lease = ev->lease_id;
	s->region = ev->region;
	snprintf(s->reason, sizeof(s->reason), "%s", ev->reason);
	s->deadline = ev->deadline_unix_sec;
	s->seconds = ev->seconds;
	s->enforce = ev->enforce;
	/* A synchronous call from inside a callback. */
	if (s->release && ev->region)
		s->release_err = mmapclient_release(c, ev->region);
}

/* What async callbacks saw, by request. */
struct ends {
	int n;
	int error[8];
	uint64_t lease[8];
	struct mmapclient_region *region[8];
	char msg[8][512];
};

static void
on_end(struct mmapclient *c, const struct mmapclient_result *res, void *arg)
{
	struct ends *e = arg;

	(void)c;
	cr_assert_lt(e->n, 8);
	e->error[e->n] = res->error;
	e->lease[e->n] = res->lease_id;
	e->region[e->n] = res->region;
	snprintf(e->msg[e->n], sizeof(e->msg[0]), "%s", res->message);
	e->n++;
}

/* poll + dispatch until cond holds or dispatch fails; its last result. */
#define DISPATCH_UNTIL(c, cond) dispatch_until((c), &(cond), 1)

static int
dispatch_until(struct mmapclient *c, const int *n, int want)
{
	struct pollfd p = { .fd = mmapclient_fd(c), .events = POLLIN };
	int64_t end = h_now_ms() + H_WAIT_MS;
	int r = 0;

	while (*n < want) {
		cr_assert_lt(h_now_ms(), end, "nothing within %d ms",
		    H_WAIT_MS);
		cr_assert_geq(poll(&p, 1, H_WAIT_MS), 0);
		r = mmapclient_dispatch(c);
		if (r < 0)
			break;
	}
	return r;
}

static struct mmapclient *
connect_fake(void)
{
	struct mmapclient *c = NULL;
	int err = mmapclient_connect(h_sock(), &c);

	cr_assert_eq(err, 0, "connect to the fake: %s",
	    mmapclient_error(NULL));
	return c;
}

/*
 * A Revoking that follows a Grant: the synchronous Map returns its own
 * region and queues the event; only dispatch runs the handler, which
 * gets the lease, this connection's region of it, the reason as one
 * line, the deadline and the enforcement, and may release the region
 * right there.
 */
Test(client_events, revoke_reaches_the_handler_from_dispatch)
{
	struct fake f = { .event_after_map = 1 };
	struct seen s = { .release = 1 };
	struct mmapclient_region *r = NULL;
	struct mmapclient *c;
	int fds0, err;
	char *log;
	pid_t pid;

	fds0 = h_self_fds();
	pid = fake_start(&f);
	c = connect_fake();
	err = mmapclient_on_revoke(c, on_revoke, &s);
	cr_assert_eq(err, 0, "on_revoke: %s", mmapclient_error(c));
	err = mmapclient_map(c, &shared4k, &r);
	cr_assert_eq(err, 0, "map: %s", mmapclient_error(c));
	cr_assert_eq(r->lease_id, LEASE0);
	/* Read already, by the Map waiting for its Grant or right after. */
	if (mmapclient_pending(c) == 0) {
		struct pollfd p = { .fd = mmapclient_fd(c), .events = POLLIN };

		cr_assert_eq(poll(&p, 1, H_WAIT_MS), 1, "no event came");
	}
	cr_assert_eq(s.n, 0, "the handler ran outside dispatch");

	err = DISPATCH_UNTIL(c, s.n);
	cr_assert_eq(err, 1, "dispatch gave %d: %s", err, mmapclient_error(c));
	cr_assert_eq(s.n, 1);
	cr_assert_eq(s.lease, LEASE0);
	cr_assert_eq(s.region, r, "the handler got region %p, not %p",
	    (void *)s.region, (void *)r);
	cr_assert_str_eq(s.reason, REASON " ");
	cr_assert_eq(s.deadline, DEADLINE);
	cr_assert_eq(s.seconds, SECONDS);
	cr_assert_eq(s.enforce, MMAPCLIENT_ENFORCE_LOG);
	cr_assert_eq(s.release_err, 0, "release from the handler: %s",
	    mmapclient_error(c));
	cr_assert_eq(mmapclient_pending(c), 0);
	cr_assert_eq(mmapclient_in_flight(c), 0);
	mmapclient_close(c);

	cr_assert_eq(fake_end(pid, &log), 1, "the fake got no Release");
	/* Events asked by a second Hello, once a handler was set. */
	cr_assert(strstr(log, "hello 1 events=0\nhello 2 events=1\nmap 3\n"
	    "release 4 lease 100\n") != NULL, "the fake was asked:\n%s",
	    log);
	free(log);
	cr_assert_eq(h_self_fds(), fds0);
}

/*
 * A synchronous Status during which a Revoking comes before its reply:
 * the event is queued, never taken for the reply, and the region it
 * names, released since, is no longer handed to the handler.
 */
Test(client_events, sync_call_queues_an_event_read_while_waiting)
{
	struct fake f = { .event_before_status = 1 };
	struct mmapclient_status *st = NULL;
	struct mmapclient_region *r = NULL;
	struct seen s = { .n = 0 };
	struct mmapclient *c;
	pid_t pid;
	int err;

	pid = fake_start(&f);
	c = connect_fake();
	cr_assert_eq(mmapclient_on_revoke(c, on_revoke, &s), 0);
	cr_assert_eq(mmapclient_map(c, &shared4k, &r), 0, "%s",
	    mmapclient_error(c));
	err = mmapclient_status(c, &st);
	cr_assert_eq(err, 0, "status: %d: %s", err, mmapclient_error(c));
	cr_assert_str_eq(st->version, "fake");
	mmapclient_status_free(st);
	cr_assert_eq(mmapclient_pending(c), 1, "the event was not queued");
	cr_assert_eq(s.n, 0);

	cr_assert_eq(mmapclient_release(c, r), 0, "%s", mmapclient_error(c));
	cr_assert_eq(mmapclient_dispatch(c), 1);
	cr_assert_eq(s.n, 1);
	cr_assert_eq(s.lease, LEASE0);
	cr_assert_null(s.region, "a released region was handed over");
	mmapclient_close(c);
	cr_assert_eq(fake_end(pid, NULL), 1);
}

/* Without a handler, Hello asks for none; an event then is a lie. */
Test(client_events, event_not_asked_for_breaks)
{
	struct fake f = { .event_after_map = 1, .event_always = 1 };
	struct mmapclient_status *st = NULL;
	struct mmapclient_region *r = NULL;
	struct mmapclient *c;
	char *log;
	pid_t pid;
	int err;

	pid = fake_start(&f);
	c = connect_fake();
	cr_assert_eq(mmapclient_map(c, &shared4k, &r), 0, "%s",
	    mmapclient_error(c));
	err = mmapclient_status(c, &st);
	cr_assert_eq(err, -EPROTO, "status gave %d", err);
	cr_assert_null(st);
	cr_assert_str_eq(mmapclient_error(c), "the daemon sent an event, but "
	    "this connection asked for none");
	cr_assert_eq(mmapclient_dispatch(c), -EPROTO);
	mmapclient_close(c);
	mmapclient_region_free(r);
	cr_assert_eq(fake_end(pid, &log), 0);
	cr_assert(strstr(log, "hello 1 events=0\n") != NULL, "%s", log);
	cr_assert(strstr(log, "events=1") == NULL, "%s", log);
	free(log);
}

static void
expect_broken_event(const struct fake *f, const char *needle)
{
	struct mmapclient_region *r = NULL;
	struct seen s = { .n = 0 };
	struct mmapclient *c;
	int fds0, err;
	pid_t pid;

	fds0 = h_self_fds();
	pid = fake_start(f);
	c = connect_fake();
	cr_assert_eq(mmapclient_on_revoke(c, on_revoke, &s), 0);
	err = mmapclient_map(c, &shared4k, &r);
	/* The event may come with the Map's wait or after it. */
	if (err == 0)
		err = dispatch_until(c, &s.n, 1);
	cr_assert_eq(err, -EPROTO, "gave %d: %s", err, mmapclient_error(c));
	cr_assert(strstr(mmapclient_error(c), needle) != NULL, "\"%s\" "
	    "lacks \"%s\"", mmapclient_error(c), needle);
	cr_assert_eq(s.n, 0);
	mmapclient_close(c);
	mmapclient_region_free(r);
	cr_assert_eq(fake_end(pid, NULL), 0);
	cr_assert_eq(h_self_fds(), fds0, "an fd is kept");
}

Test(client_events, revoking_lease_zero_breaks)
{
	struct fake f = { .event_after_map = 1, .lease_zero = 1 };

	expect_broken_event(&f, "the Revoking event names lease 0");
}

Test(client_events, event_with_an_fd_breaks)
{
	struct fake f = { .event_after_map = 1, .event_fd = 1 };

	expect_broken_event(&f, "an event came with a file descriptor");
}

/*
 * Three Maps in flight; the second is answered for a request id never
 * sent.  The first completes with its region, the connection breaks,
 * and the other two complete with -EPROTO; nothing else stays mapped
 * and no fd stays open.
 */
Test(client_events, reply_to_unknown_request_id_breaks)
{
	struct fake f = { .stray_map = 2 };
	struct ends e = { .n = 0 };
	struct mmapclient *c;
	int fds0, err, i;
	pid_t pid;

	fds0 = h_self_fds();
	pid = fake_start(&f);
	c = connect_fake();
	for (i = 0; i < 3; i++)
		cr_assert_eq(mmapclient_map_async(c, &shared4k, on_end, &e),
		    0, "%s", mmapclient_error(c));
	cr_assert_eq(mmapclient_in_flight(c), 3);
	err = dispatch_until(c, &e.n, 3);
	cr_assert_eq(err, -EPROTO, "dispatch gave %d: %s", err,
	    mmapclient_error(c));
	cr_assert_eq(e.n, 3);
	cr_assert_eq(e.error[0], 0, "%s", e.msg[0]);
	cr_assert_not_null(e.region[0]);
	cr_assert_eq(e.lease[0], LEASE0);
	for (i = 1; i < 3; i++) {
		cr_assert_eq(e.error[i], -EPROTO);
		cr_assert_null(e.region[i]);
		cr_assert_str_eq(e.msg[i], "a reply is for request 1003, none "
		    "of the 2 in flight (the oldest 3)");
	}
	cr_assert_str_eq(mmapclient_error(c), e.msg[2]);
	cr_assert_eq(mmapclient_in_flight(c), 0);
	/* Dead: nothing more is sent. */
	cr_assert_eq(mmapclient_map_async(c, &shared4k, on_end, &e), -EPROTO);
	cr_assert_eq(mmapclient_dispatch(c), -EPROTO);
	mmapclient_close(c);
	mmapclient_region_free(e.region[0]);
	cr_assert_eq(fake_end(pid, NULL), 0);
	cr_assert_eq(h_self_fds(), fds0, "an fd is kept");
}

/* An Ack twice: the second answers no request in flight. */
Test(client_events, reply_twice_breaks)
{
	struct fake f = { .twice_release = 1 };
	struct mmapclient_region *r = NULL;
	struct ends e = { .n = 0 };
	struct mmapclient *c;
	pid_t pid;
	int err;

	pid = fake_start(&f);
	c = connect_fake();
	cr_assert_eq(mmapclient_map(c, &shared4k, &r), 0, "%s",
	    mmapclient_error(c));
	cr_assert_eq(mmapclient_release_async(c, r, on_end, &e), 0);
	err = dispatch_until(c, &e.n, 2);
	cr_assert_eq(err, -EPROTO, "dispatch gave %d", err);
	cr_assert_eq(e.n, 1);
	cr_assert_eq(e.error[0], 0);
	cr_assert_eq(e.lease[0], LEASE0);
	cr_assert_str_eq(mmapclient_error(c), "a reply is for request 3, and "
	    "no request is in flight");
	mmapclient_close(c);
	cr_assert_eq(fake_end(pid, NULL), 1);
}

/*
 * mmapctl map --hold: a Revoking of its lease is printed; the lease is
 * unmapped and released, and mmapctl exits 3.
 */
Test(client_events, mmapctl_hold_releases_a_revoked_lease)
{
	struct fake f = { .event_on_hello = 1 };
	struct ctl r;
	char *log;
	pid_t pid;

	pid = fake_start(&f);
	ctl_run(&r, CTL_ROOT, "map", "--dev", "zero", "--size", "4096",
	    "--shared", "--hold");
	cr_assert_eq(r.status, 3, "mmapctl exited %d; stdout: %s; stderr: %s",
	    r.status, r.out, r.err);
	cr_assert(strstr(r.out, "holding lease 100; interrupt to release\n"
	    "revoking lease 100: " REASON " ; deadline 1900000000 (in 7 s), "
	    "then log\nreleased lease 100\n") != NULL, "stdout: %s", r.out);
	cr_assert_str_eq(r.err, "");
	ctl_free(&r);
	cr_assert_eq(fake_end(pid, &log), 1);
	cr_assert(strstr(log, "hello 1 events=0\nmap 2\nhello 3 events=1\n"
	    "release 4 lease 100\n") != NULL, "the fake was asked:\n%s", log);
	free(log);
}

/* The same with --json: the revocation is an object of its own. */
Test(client_events, mmapctl_hold_json_revocation)
{
	struct fake f = { .event_on_hello = 1 };
	struct ctl r;
	pid_t pid;

	pid = fake_start(&f);
	ctl_run(&r, CTL_ROOT, "--json", "map", "--dev", "zero", "--size",
	    "4096", "--shared", "--hold");
	cr_assert_eq(r.status, 3, "mmapctl exited %d; stderr: %s", r.status,
	    r.err);
	cr_assert(strstr(r.out, "\n{\"event\":\"revoking\",\"lease\":100,"
	    "\"reason\":\"" REASON " \",\"deadline_unix_sec\":1900000000,"
	    "\"seconds\":7,\"enforce\":\"log\"}\n") != NULL, "stdout: %s",
	    r.out);
	ctl_free(&r);
	cr_assert_eq(fake_end(pid, NULL), 1);
}

/*
 * examples/mmapclient-poll -w: its revoke handler releases each region
 * the daemon revokes, and it ends once none is held.
 */
Test(client_events, example_releases_what_is_revoked)
{
	const char *bin = getenv("EXAMPLE_BIN");
	struct fake f = { .event_after_map = 1 };
	struct ctl r;
	char *log;
	pid_t pid;

	cr_assert(bin != NULL && bin[0], "EXAMPLE_BIN is not set");
	pid = fake_start(&f);
	h_run(&r, bin, CTL_ROOT, "-w", "-n", "2", "-s", "4096", h_sock());
	cr_assert_eq(r.status, 0, "mmapclient-poll exited %d; stdout:\n%s\n"
	    "stderr:\n%s", r.status, r.out, r.err);
	cr_assert(strstr(r.out, "revoking lease 100: " REASON "  (deadline "
	    "1900000000, log)\n") != NULL, "%s", r.out);
	cr_assert(strstr(r.out, "revoking lease 101: ") != NULL, "%s", r.out);
	cr_assert(strstr(r.out, "released lease 100\n") != NULL, "%s", r.out);
	cr_assert(strstr(r.out, "released lease 101\n") != NULL, "%s", r.out);
	ctl_free(&r);
	cr_assert_eq(fake_end(pid, &log), 2, "the fake was asked:\n%s", log);
	cr_assert(strstr(log, "release 5 lease 100\nrelease 6 lease 101\n") !=
	    NULL, "the fake was asked:\n%s", log);
	free(log);
}
