/*
 * What a client's fds, and the fds mmapd inherits, may do to it.
 *
 * The slow fd: a TCP socket on loopback whose peer never reads, with
 * SO_LINGER {1, N s} and megabytes queued.  Its last close() waits out
 * the linger time (the kernel's sk_stream_wait_close), so a daemon that
 * closes it on its loop stops serving everyone for N seconds.  A client
 * sends it in SCM_RIGHTS with a Status; then ANOTHER client, of another
 * uid, asks for Status and must be answered within a second while the
 * attack would hold it for ten.
 *
 * Both of mmapd's ways are run: the kernel refusing fds (SO_PASSRIGHTS,
 * Linux 6.16: the client's sendmsg fails with EPERM and nothing arrives)
 * and, through the test seam MMAPD_TEST_NO_PASSRIGHTS=1, the reaper
 * thread that closes what arrives where the kernel cannot refuse it.
 * There the attack is shown to bite the reaper (the fds queued behind
 * the slow one stay open until the peer goes) but never the loop.
 *
 * And the inherited fd: a pipe left open across exec by mmapd's parent
 * is closed at start-up; a socket passed with LISTEN_FDS stays.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/logging.h>

#include "harness.h"

/* A write to a pipe no one reads must give EPIPE, not kill the test. */
static void
suite_init(void)
{
	signal(SIGPIPE, SIG_IGN);
}

TestSuite(fdpass, .init = suite_init, .fini = h_cleanup, .timeout = 90);

#define SEAM		"MMAPD_TEST_NO_PASSRIGHTS"
#define MAX_FDS		253	/* SCM_MAX_FD: most fds in one packet */
#define LINGER_S	10	/* what the attack would cost everyone */
#define SERVED_MS	1000	/* what the other client may wait at most */
#define REAPER_MAX	1024	/* daemon/reaper.h */

/* Status, id 7, as the wire has it (test_hostile.c's). */
static const uint8_t status_req[] = { 0x08, 0x07, 0x32, 0x00 };

/* The slow fd and the peer that never reads, kept by the test. */
struct slow {
	int fd;			/* to be sent; its last close lingers */
	int peer;		/* the accepted end: never read */
	size_t queued;		/* bytes left unsent in fd */
};

/*
 * A TCP connection on 127.0.0.1 whose accepting end never reads, the
 * other end with linger_s of SO_LINGER and as much queued as it takes.
 */
static void
slow_make(struct slow *s, int linger_s)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct linger lg = { .l_onoff = 1, .l_linger = linger_s };
	socklen_t len = sizeof(sa);
	static char chunk[64 * 1024];
	int l, small = 4096, big = 4 * 1024 * 1024;
	ssize_t n;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(l >= 0, "socket: %s", strerror(errno));
	/* A small window: the sender's buffer holds what is queued. */
	(void)setsockopt(l, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	cr_assert(bind(l, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(l, (struct sockaddr *)&sa, &len) == 0 &&
	    listen(l, 1) == 0, "TCP listen on 127.0.0.1: %s",
	    strerror(errno));
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(s->fd >= 0);
	/* As root, past wmem_max: a few MB stay queued. */
	(void)setsockopt(s->fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
	cr_assert(connect(s->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
	    "connect 127.0.0.1:%u: %s", ntohs(sa.sin_port), strerror(errno));
	s->peer = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	cr_assert(s->peer >= 0, "accept: %s", strerror(errno));
	close(l);
	cr_assert(setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg,
	    sizeof(lg)) == 0, "SO_LINGER: %s", strerror(errno));
	s->queued = 0;
	memset(chunk, 'x', sizeof(chunk));
	for (;;) {
		n = send(s->fd, chunk, sizeof(chunk), MSG_DONTWAIT |
		    MSG_NOSIGNAL);
		if (n < 0)
			break;
		s->queued += (size_t)n;
	}
	cr_assert(errno == EAGAIN, "send: %s", strerror(errno));
	cr_assert_gt(s->queued, 1024 * 1024, "only %zu bytes queued",
	    s->queued);
}

/* Our copy of the slow fd, closed at once (linger 0: reset). */
static void
slow_drop_own(struct slow *s)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	(void)setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(s->fd);
	s->fd = -1;
}

/* The peer goes: a reset ends any close still lingering. */
static void
slow_end(struct slow *s)
{
	if (s->fd >= 0)
		slow_drop_own(s);
	close(s->peer);
	s->peer = -1;
}

/* Status with n fds in SCM_RIGHTS (repeats allowed); 0 or -errno. */
static int
send_with_fds(int sock, const int *fds, size_t n)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {
		.iov_base = (void *)status_req,
		.iov_len = sizeof(status_req),
	};
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = CMSG_SPACE(sizeof(int) * n),
	};
	struct cmsghdr *cmsg;

	cr_assert(n > 0 && n <= MAX_FDS);
	memset(&ctl, 0, sizeof(ctl));
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * n);
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
		return -errno;
	return 0;
}

/* Wait (H_WAIT_MS) until mmapd's state in /proc/PID/stat is want. */
static void
daemon_state_wait(char want)
{
	int64_t end = h_now_ms() + H_WAIT_MS;
	char path[64], *text, *p;
	char state = '?';

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)h_worker_pid());
	for (;;) {
		text = h_read(path);
		p = strrchr(text, ')');
		state = p != NULL && p[1] == ' ' ? p[2] : '?';
		free(text);
		if (state == want || h_now_ms() >= end)
			break;
		h_sleep_ms(5);
	}
	cr_assert_eq(state, want, "mmapd's state is %c, not %c", state,
	    want);
}

/*
 * Send the slow fd with a Status and let go of ours, so that mmapd's is
 * the last reference: an attacker's own close could otherwise come
 * after mmapd's and take the linger itself.  mmapd is stopped
 * (SIGSTOP) meanwhile, so the order is sure.  0 or the send's -errno.
 */
static int
send_slow(int sock, struct slow *s)
{
	int err;

	cr_assert_eq(kill(h_worker_pid(), SIGSTOP), 0);
	daemon_state_wait('T');
	err = send_with_fds(sock, &s->fd, 1);
	if (err == 0) {
		/* In flight: the packet holds the socket, ours is not last. */
		close(s->fd);
		s->fd = -1;
	}
	cr_assert_eq(kill(h_worker_pid(), SIGCONT), 0);
	daemon_state_wait('S');
	return err;
}

/*
 * The bystander: a client of another uid asks for Status and the time
 * to its answer is returned.  Waits up to 3 * LINGER_S, so that with the
 * fix undone the figure the attack costs is what the test reports.
 */
static int64_t
other_status_ms(void)
{
	struct pollfd p;
	int64_t t0, ms;
	Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Status st = MMAPD__V1__STATUS__INIT;
	Reply *r;
	int fd;

	fd = raw_connect_as(H_OTHER, H_OTHER);
	req.request_id = 42;
	req.body_case = MMAPD__V1__REQUEST__BODY_STATUS;
	req.status = &st;
	t0 = h_now_ms();
	raw_send(fd, &req);
	p.fd = fd;
	p.events = POLLIN;
	cr_assert(poll(&p, 1, 3 * LINGER_S * 1000) == 1,
	    "uid %u's Status: no answer in %d s", H_OTHER, 3 * LINGER_S);
	ms = h_now_ms() - t0;
	cr_log_info("uid %u's Status answered in %lld ms", H_OTHER,
	    (long long)ms);
	r = raw_recv(fd, NULL, NULL);
	cr_assert_not_null(r, "uid %u: disconnected", H_OTHER);
	cr_assert_eq(r->error, 0, "uid %u's Status: %d (%s)", H_OTHER,
	    r->error, r->message);
	reply_free(r);
	close(fd);
	return ms;
}

/* Whether any process holds the pipe's read end (write gives EPIPE). */
static int
pipe_read_end_open(int wfd)
{
	return !(write(wfd, "x", 1) < 0 && errno == EPIPE);
}

/*
 * The daemon's fd count with one connection of the test's open, *keep,
 * once Status on it says it is the only one: no connection of the
 * harness's is left in the count.  *keep stays open until the end.
 */
static int
baseline_fds(int *keep)
{
	int64_t end = h_now_ms() + H_WAIT_MS;
	uint32_t clients = 0;
	Reply *r;

	*keep = raw_connect();
	for (;;) {
		r = raw_status(*keep, 1);
		cr_assert_eq(r->error, 0);
		clients = r->status->clients;
		reply_free(r);
		if (clients == 1 || h_now_ms() >= end)
			break;
		h_sleep_ms(10);
	}
	cr_assert_eq(clients, 1, "%u connections, not the test's alone",
	    clients);
	/*
	 * A connection counted out may keep its fd to the end of the loop's
	 * turn (libuv closes handles last): one more turn, and it is gone.
	 */
	r = raw_status(*keep, 2);
	reply_free(r);
	return h_fds();
}

/* The daemon's fd count back to want within H_WAIT_MS. */
static void
fds_back_to(int want, const char *when)
{
	int n = h_fds_wait(want);

	cr_assert_eq(n, want, "%s: mmapd holds %d fds, %d before", when, n,
	    want);
}

/* ----------------------------------------------------------------------
 * Finding 1: a passed fd must not freeze the loop
 * ---------------------------------------------------------------------- */

/*
 * The kernel offers SO_PASSRIGHTS (6.16): mmapd's socket refuses fds,
 * so the attacker's sendmsg fails with EPERM and nothing reaches mmapd;
 * the connection stays usable and the other uid is served at once.
 */
Test(fdpass, slow_fd_refused_by_the_kernel)
{
	struct slow s;
	int64_t ms;
	Reply *r;
	int base, keep, fd, err;

	h_start(NULL);
	if (h_log_count("clients' fds: the kernel cannot refuse them") > 0)
		cr_skip_test("this kernel has no SO_PASSRIGHTS (Linux 6.16): "
		    "only the reaper is tested (slow_fd_goes_to_the_reaper)");
	h_log_expect("clients' fds: refused by the kernel (SO_PASSRIGHTS "
	    "off)");
	base = baseline_fds(&keep);

	slow_make(&s, LINGER_S);
	fd = raw_connect_as(H_NOBODY, H_NOBODY);
	raw_hello(fd);
	err = send_slow(fd, &s);
	if (err != 0)
		slow_drop_own(&s);
	h_sleep_ms(200);

	ms = other_status_ms();
	cr_assert_lt(ms, SERVED_MS, "uid %u's Status took %lld ms",
	    H_OTHER, (long long)ms);
	cr_assert_eq(err, -EPERM, "sendmsg with the slow fd: %s, not "
	    "EPERM", strerror(-err));
	/* Refused by the kernel, not by a disconnect: it goes on. */
	r = raw_status(fd, 8);
	cr_assert_eq(r->error, 0, "Status after the refused send: %d (%s)",
	    r->error, r->message);
	reply_free(r);
	close(fd);
	slow_end(&s);
	fds_back_to(base, "after the attack");
	close(keep);
	h_stop();
}

/*
 * Where the kernel cannot refuse (the test seam stands in for an older
 * kernel): the fds arrive, the request gets EINVAL, and the reaper, not
 * the loop, closes them.  The slow close holds the reaper: a pipe sent
 * after it stays open until the slow peer goes, which shows the attack
 * took effect; the other uid is served all the same.
 */
Test(fdpass, slow_fd_goes_to_the_reaper)
{
	struct slow s;
	int64_t ms, end;
	Reply *r;
	int base, keep, fd, err, p[2];

	h_next_env(SEAM, "1");
	h_start(NULL);
	h_log_expect(SEAM "=1 (a test seam)");
	base = baseline_fds(&keep);

	slow_make(&s, LINGER_S);
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	fd = raw_connect_as(H_NOBODY, H_NOBODY);
	raw_hello(fd);
	err = send_slow(fd, &s);
	cr_assert_eq(err, 0, "sendmsg with the slow fd: %s", strerror(-err));
	/* Queued behind the slow close. */
	cr_assert_eq(send_with_fds(fd, &p[0], 1), 0);
	close(p[0]);
	/* Time for mmapd to take both, and to stall if it were to. */
	h_sleep_ms(200);

	ms = other_status_ms();
	cr_assert_lt(ms, SERVED_MS, "uid %u's Status took %lld ms while a "
	    "client's fd lingers (%d s)", H_OTHER, (long long)ms, LINGER_S);
	/* The attacker is told, twice, and goes on. */
	r = raw_recv(fd, NULL, NULL);
	cr_assert_not_null(r, "the attacker was dropped, not refused");
	cr_assert_eq(r->error, EINVAL, "Status with an fd: %d (%s)",
	    r->error, r->message);
	cr_assert(strstr(r->message, "file descriptors are not accepted") !=
	    NULL, "the reply says: %s", r->message);
	reply_free(r);
	r = raw_recv(fd, NULL, NULL);
	cr_assert_not_null(r);
	cr_assert_eq(r->error, EINVAL);
	reply_free(r);
	r = raw_status(fd, 9);
	cr_assert_eq(r->error, 0);
	reply_free(r);
	/* The attack did bite, the reaper: the pipe is still held. */
	cr_assert(pipe_read_end_open(p[1]), "the pipe sent after the slow "
	    "fd is closed already: the slow close did not hold the reaper");

	close(fd);
	slow_end(&s);
	end = h_now_ms() + H_WAIT_MS;
	while (pipe_read_end_open(p[1]) && h_now_ms() < end)
		h_sleep_ms(10);
	cr_assert(!pipe_read_end_open(p[1]), "mmapd still holds the pipe "
	    "%d ms after the slow peer went", H_WAIT_MS);
	close(p[1]);
	fds_back_to(base, "after the attack");
	close(keep);
	h_stop();
}

/*
 * The reaper's queue is bounded: with it held by a slow close, packets
 * of 253 fds each fill it, and the client whose fds no longer fit is
 * dropped (with a log line) instead of read.  The fds stay queued, not
 * closed on the loop (mmapd's fd count shows them), the other uid is
 * served meanwhile, and all are closed once the slow peer goes.
 */
Test(fdpass, reaper_full_drops_the_client)
{
	struct slow s;
	int64_t ms;
	Reply *r;
	int base, keep, fd, err, i, null, fds[MAX_FDS], held, rerr;

	h_next_env(SEAM, "1");
	/* Room for the queue: the default 1024 fds would run out first. */
	h_start_limited(NULL, 4 * REAPER_MAX);
	base = baseline_fds(&keep);

	slow_make(&s, 3 * LINGER_S);
	fd = raw_connect();
	raw_hello(fd);
	cr_assert_eq(send_slow(fd, &s), 0);
	r = raw_recv(fd, NULL, NULL);
	cr_assert_not_null(r);
	cr_assert_eq(r->error, EINVAL);
	reply_free(r);

	null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	cr_assert(null >= 0);
	for (i = 0; i < MAX_FDS; i++)
		fds[i] = null;
	/* 1 + 4 * 253 = 1013 queued; the fifth packet does not fit. */
	for (i = 0; i < 4; i++) {
		cr_assert_eq(send_with_fds(fd, fds, MAX_FDS), 0);
		r = raw_recv(fd, NULL, NULL);
		cr_assert_not_null(r, "packet %d of 253 fds: dropped", i + 1);
		cr_assert_eq(r->error, EINVAL);
		reply_free(r);
	}
	err = send_with_fds(fd, fds, MAX_FDS);
	cr_assert_eq(err, 0, "sendmsg: %s", strerror(-err));
	r = raw_recv(fd, NULL, &rerr);
	cr_assert_null(r, "the fifth packet was answered (error %d): the "
	    "reaper's queue is not bounded", r ? r->error : 0);
	close(null);
	close(fd);
	h_log_expect("sent fds with a request, and the reaper has room for "
	    "11 more of the 1024: dropping the client");

	ms = other_status_ms();
	cr_assert_lt(ms, SERVED_MS, "uid %u's Status took %lld ms with the "
	    "reaper full", H_OTHER, (long long)ms);
	/* Queued, not closed on the loop. */
	held = h_fds();
	cr_assert_geq(held, base + 4 * MAX_FDS, "mmapd holds %d fds, %d "
	    "before: the queued fds were closed somewhere", held, base);

	slow_end(&s);
	fds_back_to(base, "once the slow peer went");
	close(keep);
	h_stop();
}

/* ----------------------------------------------------------------------
 * Finding 7: no inherited fd in the sandboxed daemon
 * ---------------------------------------------------------------------- */

/* Whether mmapd holds an fd on the file whose link text is want. */
static int
daemon_holds(const char *want)
{
	char path[64], link[128];
	ssize_t n;
	int fd;

	for (fd = 0; fd < 256; fd++) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)h_worker_pid(),
		    fd);
		n = readlink(path, link, sizeof(link) - 1);
		if (n < 0)
			continue;
		link[n] = '\0';
		if (strcmp(link, want) == 0)
			return 1;
	}
	return 0;
}

static void
link_of(int fd, char *buf, size_t len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, buf, len - 1);
	cr_assert(n > 0, "readlink %s: %s", path, strerror(errno));
	buf[n] = '\0';
}

/*
 * A pipe left open across exec (fd 3, with LISTEN_PID naming another
 * process, as a parent started by systemd would leave it): gone once
 * mmapd has started.
 */
Test(fdpass, inherited_pipe_closed)
{
	char want[128];
	int p[2];

	cr_assert_eq(pipe(p), 0);	/* not close-on-exec */
	link_of(p[0], want, sizeof(want));
	h_next_listen_fds(&p[0], 1, 1);
	h_start(NULL);
	close(p[0]);
	cr_assert(!daemon_holds(want), "mmapd holds the inherited %s", want);
	cr_assert(!pipe_read_end_open(p[1]), "a process holds the pipe's "
	    "read end");
	close(p[1]);
	h_stop();
}

/*
 * LISTEN_FDS=1: the socket at fd 3 stays and is served; a pipe
 * inherited after it, at fd 4, goes.
 */
Test(fdpass, listen_fds_socket_stays_pipe_goes)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char sock_link[128], pipe_link[128];
	int pass[2], p[2], lfd, fd;
	Reply *r;

	lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	cr_assert(lfd >= 0);
	memcpy(sa.sun_path, h_sock(), strlen(h_sock()) + 1);
	cr_assert(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    chmod(h_sock(), 0666) == 0 && listen(lfd, 16) == 0,
	    "listen on %s: %s", h_sock(), strerror(errno));
	cr_assert_eq(pipe(p), 0);
	link_of(lfd, sock_link, sizeof(sock_link));
	link_of(p[0], pipe_link, sizeof(pipe_link));
	pass[0] = lfd;
	pass[1] = p[0];
	h_next_listen_fds(pass, 2, 0);
	h_next_env("LISTEN_FDS", "1");
	h_start(NULL);
	close(p[0]);
	h_log_expect("(passed by systemd)");
	cr_assert(daemon_holds(sock_link), "mmapd dropped the socket "
	    "systemd passed (%s)", sock_link);
	cr_assert(!daemon_holds(pipe_link), "mmapd holds the inherited %s",
	    pipe_link);
	cr_assert(!pipe_read_end_open(p[1]), "a process holds the pipe's "
	    "read end");
	fd = raw_connect_as(H_OTHER, H_OTHER);
	r = raw_status(fd, 1);
	cr_assert_eq(r->error, 0, "Status on the passed socket: %d (%s)",
	    r->error, r->message);
	reply_free(r);
	close(fd);
	close(p[1]);
	h_stop();
	close(lfd);
}

/* ----------------------------------------------------------------------
 * The reaper thread is sandboxed like the loop
 * ---------------------------------------------------------------------- */

/* The value of a "Key:\t..." line of a status file, or "" (static). */
static const char *
status_field(const char *text, const char *key)
{
	static char v[128];
	const char *p = strstr(text, key);
	size_t n;

	v[0] = '\0';
	if (p == NULL)
		return v;
	p += strlen(key);
	while (*p == '\t' || *p == ' ')
		p++;
	n = strcspn(p, "\n");
	if (n >= sizeof(v))
		n = sizeof(v) - 1;
	memcpy(v, p, n);
	v[n] = '\0';
	return v;
}

/*
 * Every thread of mmapd, the reaper's included, runs filtered (seccomp
 * mode 2, by TSYNC), with no_new_privs and no capability, as the
 * dropped user.
 */
Test(fdpass, every_thread_is_sandboxed)
{
	char path[320], *text;
	struct dirent *e;
	DIR *dir;
	int threads = 0;

	h_start(NULL);
	/* The socket listens before the drop: wait for the filter. */
	cr_assert_geq(h_log_wait(1, "seccomp allow-list in force"), 1,
	    "mmapd did not say its filter is in force");
	snprintf(path, sizeof(path), "/proc/%d/task", (int)h_worker_pid());
	dir = opendir(path);
	cr_assert_not_null(dir, "%s: %s", path, strerror(errno));
	while ((e = readdir(dir)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/status",
		    (int)h_worker_pid(), e->d_name);
		text = h_read(path);
		cr_assert_str_eq(status_field(text, "Seccomp:"), "2",
		    "thread %s: Seccomp %s", e->d_name,
		    status_field(text, "Seccomp:"));
		cr_assert_str_eq(status_field(text, "NoNewPrivs:"), "1",
		    "thread %s: no_new_privs not set", e->d_name);
		cr_assert_str_eq(status_field(text, "CapEff:"),
		    "0000000000000000", "thread %s: CapEff %s", e->d_name,
		    status_field(text, "CapEff:"));
		cr_assert_str_eq(status_field(text, "CapBnd:"),
		    "0000000000000000", "thread %s: CapBnd %s", e->d_name,
		    status_field(text, "CapBnd:"));
		free(text);
		threads++;
	}
	closedir(dir);
	/* The loop and the reaper (a sanitizer may add its own). */
	cr_assert_geq(threads, 2, "mmapd runs %d thread(s): no reaper",
	    threads);
	h_stop();
}
