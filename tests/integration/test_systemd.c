/*
 * mmapd under systemd, without systemd: the test plays the manager.
 *
 * Notification: a datagram socket of the test's own is NOTIFY_SOCKET (a
 * path, or an abstract "@name"); READY=1 with a STATUS= must come from
 * mmapd's own pid, RELOADING=1 with MONOTONIC_USEC then READY=1 around a
 * SIGHUP, a new STATUS= when the counts change, STOPPING=1 on SIGTERM.
 *
 * Socket activation: the test binds and listens, passes the socket as
 * fd 3 with LISTEN_FDS=1 and LISTEN_PID set in the child, and a client
 * maps through it; mmapd leaves the file in place at exit.  A passed fd
 * that is not one listening AF_UNIX SOCK_SEQPACKET socket stops mmapd
 * at start with a message saying what it is; LISTEN_PID of another
 * process is not for mmapd.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

#define MIB	(1024ull * 1024)
#define CONF	"[zero]\nusers = *\n"
/* The longest mmapd may take to send a changed STATUS= on its own. */
#define STATUS_WAIT_MS	11000	/* two periods of 5 s, and some */

TestSuite(systemd, .fini = h_cleanup, .timeout = 45);

/* ----------------------------------------------------------------------
 * The manager's end of NOTIFY_SOCKET
 * ---------------------------------------------------------------------- */

static struct {
	int fd;
	pid_t pid;		/* the daemon: the only sender allowed */
	char name[108];		/* what NOTIFY_SOCKET says */
	char dir[64];		/* the folder of a path socket, or "" */
	char seen[4096];	/* every message so far, for failures */
} N = { .fd = -1 };

/* Bind the socket systemd would have; abstract: "@name", else a path. */
static const char *
notify_listen(int abstract)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	int on = 1;

	if (abstract) {
		snprintf(N.name, sizeof(N.name), "@mmapd-test-notify-%d-%ld",
		    (int)getpid(), (long)time(NULL));
		memcpy(sa.sun_path + 1, N.name + 1, strlen(N.name) - 1);
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    strlen(N.name));
	} else {
		/*
		 * As systemd's /run/systemd/notify: a socket anyone may
		 * write to, in a folder anyone may search, for mmapd sends
		 * after dropping to its user (libsystemd connects per
		 * message).  The harness's own folder is root's alone.
		 */
		snprintf(N.dir, sizeof(N.dir), "%s/mmapd-notify.XXXXXX",
		    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
		cr_assert(mkdtemp(N.dir) != NULL, "mkdtemp: %s",
		    strerror(errno));
		cr_assert(chmod(N.dir, 0755) == 0, "chmod %s: %s", N.dir,
		    strerror(errno));
		snprintf(N.name, sizeof(N.name), "%s/notify", N.dir);
		memcpy(sa.sun_path, N.name, strlen(N.name) + 1);
		len = sizeof(sa);
	}
	N.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert(N.fd >= 0, "socket: %s", strerror(errno));
	/* The manager learns who sent each message, as for NotifyAccess=main. */
	cr_assert(setsockopt(N.fd, SOL_SOCKET, SO_PASSCRED, &on,
	    sizeof(on)) == 0, "SO_PASSCRED: %s", strerror(errno));
	cr_assert(bind(N.fd, (struct sockaddr *)&sa, len) == 0, "bind %s: %s",
	    N.name, strerror(errno));
	if (!abstract)
		cr_assert(chmod(N.name, 0777) == 0, "chmod %s: %s", N.name,
		    strerror(errno));
	N.seen[0] = '\0';
	return N.name;
}

static void
notify_done(void)
{
	if (N.fd >= 0)
		close(N.fd);
	N.fd = -1;
	if (N.dir[0] != '\0') {
		unlink(N.name);
		rmdir(N.dir);
		N.dir[0] = '\0';
	}
}

/*
 * The next message within ms, NUL-terminated in buf; 0 on a timeout.
 * Its sender must be the daemon.
 */
static int
notify_recv(char *buf, size_t len, int ms)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(struct ucred))];
	} ctl;
	struct iovec iov = { buf, len - 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = &ctl, .msg_controllen = sizeof(ctl),
	};
	struct pollfd p = { .fd = N.fd, .events = POLLIN };
	struct cmsghdr *c;
	struct ucred cred = { 0 };
	ssize_t n;
	int got = 0;

	if (poll(&p, 1, ms) <= 0)
		return 0;
	n = recvmsg(N.fd, &msg, MSG_DONTWAIT);
	cr_assert(n >= 0, "recvmsg: %s", strerror(errno));
	buf[n] = '\0';
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_CREDENTIALS) {
			memcpy(&cred, CMSG_DATA(c), sizeof(cred));
			got = 1;
		}
	}
	cr_assert(got, "a notification without credentials: \"%s\"", buf);
	cr_assert(cred.pid == N.pid, "\"%s\" came from pid %d, not from "
	    "mmapd (pid %d)", buf, (int)cred.pid, (int)N.pid);
	snprintf(N.seen + strlen(N.seen), sizeof(N.seen) - strlen(N.seen),
	    "[%s] ", buf);
	return 1;
}

/* msg holds line as a whole line. */
static int
has_line(const char *msg, const char *line)
{
	size_t n = strlen(line);
	const char *p;

	for (p = msg; (p = strstr(p, line)) != NULL; p++)
		if ((p == msg || p[-1] == '\n') &&
		    (p[n] == '\0' || p[n] == '\n'))
			return 1;
	return 0;
}

/* The next message holding line (a whole line) within ms, into buf. */
static void
notify_expect(const char *line, char *buf, size_t len, int ms)
{
	int64_t end = h_now_ms() + ms;
	int left;

	for (;;) {
		left = (int)(end - h_now_ms());
		cr_assert(left > 0 && notify_recv(buf, len, left),
		    "no \"%s\" from mmapd within %d ms; it sent: %s", line, ms,
		    N.seen[0] ? N.seen : "nothing");
		if (has_line(buf, line))
			return;
	}
}

/* The value of NAME= in msg, or NULL. */
static const char *
field(const char *msg, const char *name, char *out, size_t len)
{
	size_t n = strlen(name);
	const char *p = msg;

	for (;;) {
		if (strncmp(p, name, n) == 0 && p[n] == '=') {
			snprintf(out, len, "%.*s", (int)strcspn(p + n + 1, "\n"),
			    p + n + 1);
			return out;
		}
		p = strchr(p, '\n');
		if (p == NULL)
			return NULL;
		p++;
	}
}

static uint64_t
monotonic_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000;
}

static struct mmapclient_region *
map_zero(struct mmapclient *c)
{
	struct mmapclient_request req = { .device = "zero", .size = MIB };
	struct mmapclient_region *r = NULL;
	int err;

	err = mmapclient_map(c, &req, &r);
	cr_assert_eq(err, 0, "map zero: %s (%s)", strerror(-err),
	    mmapclient_error(c));
	cr_assert(h_all(r->addr, r->size, 0));
	return r;
}

/* ----------------------------------------------------------------------
 * Notification
 * ---------------------------------------------------------------------- */

Test(systemd, notify_ready_reload_stop)
{
	struct mmapclient *c;
	struct mmapclient_region *r;
	char msg[512], v[64];
	uint64_t before, after, at;

	h_next_env("NOTIFY_SOCKET", notify_listen(0));
	h_start(CONF);
	N.pid = h_pid();
	notify_expect("READY=1", msg, sizeof(msg), H_WAIT_MS);
	/* Sent before the loop ran: no client was accepted yet. */
	cr_assert(has_line(msg, "STATUS=serving 0 clients, 0 leases"),
	    "READY=1 came with \"%s\", not the STATUS= expected", msg);

	c = h_connect();
	r = map_zero(c);
	cr_assert_eq(h_leases_wait_on(c, 1), 1);
	cr_assert_eq(h_clients_wait_on(c, 1), 1);

	before = monotonic_usec();
	h_signal(SIGHUP);
	notify_expect("RELOADING=1", msg, sizeof(msg), H_WAIT_MS);
	after = monotonic_usec();
	cr_assert(field(msg, "MONOTONIC_USEC", v, sizeof(v)) != NULL,
	    "RELOADING=1 without MONOTONIC_USEC: \"%s\"", msg);
	at = strtoull(v, NULL, 10);
	cr_assert(at >= before && at <= after, "MONOTONIC_USEC=%s is not "
	    "between %llu and %llu, when SIGHUP was sent and RELOADING=1 "
	    "came", v, (unsigned long long)before, (unsigned long long)after);
	notify_expect("READY=1", msg, sizeof(msg), H_WAIT_MS);
	cr_assert(has_line(msg, "STATUS=serving 1 clients, 1 leases"),
	    "READY=1 after the reload came with \"%s\"", msg);
	h_log_expect("SIGHUP: policy reloaded");

	mmapclient_release(c, r);
	mmapclient_close(c);
	h_stop();
	/* h_stop saw the exit: every message is in the socket by now. */
	notify_expect("STOPPING=1", msg, sizeof(msg), 100);
	cr_assert(strstr(msg, "STATUS=SIGTERM: stopping") != NULL,
	    "STOPPING=1 came with \"%s\"", msg);
	cr_assert(!notify_recv(msg, sizeof(msg), 0),
	    "mmapd said \"%s\" after STOPPING=1", msg);
	notify_done();
}

Test(systemd, notify_abstract_status_follows_leases)
{
	struct mmapclient *c;
	struct mmapclient_region *r;
	char msg[512];

	h_next_env("NOTIFY_SOCKET", notify_listen(1));
	h_start(CONF);
	N.pid = h_pid();
	notify_expect("READY=1", msg, sizeof(msg), H_WAIT_MS);

	/* No SIGHUP: mmapd sends a new STATUS= when the numbers change. */
	c = h_connect();
	r = map_zero(c);
	notify_expect("STATUS=serving 1 clients, 1 leases", msg, sizeof(msg),
	    STATUS_WAIT_MS);
	cr_assert(!has_line(msg, "READY=1"), "READY=1 again: \"%s\"", msg);
	mmapclient_release(c, r);
	mmapclient_close(c);
	notify_expect("STATUS=serving 0 clients, 0 leases", msg, sizeof(msg),
	    STATUS_WAIT_MS);

	h_stop_with(SIGINT);
	notify_expect("STOPPING=1", msg, sizeof(msg), 100);
	notify_done();
}

Test(systemd, notify_socket_missing_is_not_fatal)
{
	h_next_env("NOTIFY_SOCKET", "/nonexistent-mmapd-test/notify");
	h_start(CONF);
	h_log_expect("NOTIFY_SOCKET", "No such file or directory");
	h_log_expect("listening on ");
	h_stop();
	/* Said once, not for every message. */
	cr_assert_eq(h_log_count("NOTIFY_SOCKET"), 1);
}

Test(systemd, no_notify_socket_sends_nothing)
{
	char msg[512];

	/* Bound, but not named to mmapd: nothing may arrive. */
	notify_listen(0);
	h_start(CONF);
	/*
	 * The socket takes connections a moment before mmapd handles
	 * signals: that moment is what READY=1 marks, and "listening on".
	 */
	h_log_expect("listening on ");
	h_signal(SIGHUP);
	h_log_expect("SIGHUP: policy reloaded");
	h_stop();
	cr_assert(!notify_recv(msg, sizeof(msg), 0), "mmapd sent \"%s\" "
	    "without NOTIFY_SOCKET", msg);
	cr_assert_eq(h_log_count("NOTIFY_SOCKET"), 0);
	notify_done();
}

/* ----------------------------------------------------------------------
 * Socket activation
 * ---------------------------------------------------------------------- */

/* A socket as mmapd.socket would make it: type, at path, listening or not. */
static int
sock_make(int type, const char *path, int listening)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	cr_assert(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	cr_assert(fd >= 0, "socket: %s", strerror(errno));
	cr_assert(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
	    "bind %s: %s", path, strerror(errno));
	cr_assert(chmod(path, 0660) == 0);
	if (listening)
		cr_assert(listen(fd, 16) == 0, "listen: %s", strerror(errno));
	return fd;
}

static ino_t
inode_of(const char *path)
{
	struct stat st;

	cr_assert(lstat(path, &st) == 0, "%s: %s", path, strerror(errno));
	cr_assert(S_ISSOCK(st.st_mode), "%s is not a socket", path);
	return st.st_ino;
}

/* mmapd's fds with NOTIFY_SOCKET set, once the harness's probe is gone. */
static int
daemon_fds(void)
{
	struct mmapclient *c = h_connect();
	int n;

	cr_assert_eq(h_clients_wait_on(c, 1), 1);
	n = h_fds();
	mmapclient_close(c);
	cr_assert_eq(h_clients_wait(1), 1);	/* h_clients_wait's own */
	return n - 1;
}

Test(systemd, socket_activation)
{
	struct mmapclient *c;
	struct mmapclient_region *r;
	char msg[512], *line;
	int lfd, own_fds, passed_fds, probe;
	ino_t ino;

	/* mmapd's fds when it binds its own socket, to compare. */
	h_next_env("NOTIFY_SOCKET", notify_listen(0));
	h_start(CONF);
	N.pid = h_pid();
	notify_expect("READY=1", msg, sizeof(msg), H_WAIT_MS);
	own_fds = daemon_fds();
	h_stop();
	h_own_socket_gone();
	notify_done();
	unlink(h_sock());	/* what mmapd could not remove as its user */

	lfd = sock_make(SOCK_SEQPACKET, h_sock(), 1);
	ino = inode_of(h_sock());
	h_next_listen_fds(&lfd, 1, 0);
	h_next_env("NOTIFY_SOCKET", notify_listen(0));
	h_start(CONF);
	N.pid = h_pid();
	notify_expect("READY=1", msg, sizeof(msg), H_WAIT_MS);
	h_log_expect("listening on ", h_sock(), "(passed by systemd)");
	line = h_log_line("passed by systemd, mode 0660");
	cr_assert(line != NULL, "mmapd did not log the mode of the socket it "
	    "was passed");
	free(line);

	c = h_connect();
	r = map_zero(c);
	cr_assert_eq(h_leases_wait_on(c, 1), 1);
	mmapclient_release(c, r);
	mmapclient_close(c);

	/* fd 3 is the listening socket: no fd more than binding its own. */
	passed_fds = daemon_fds();
	cr_assert_eq(passed_fds, own_fds, "mmapd holds %d fds on a passed "
	    "socket, %d on its own", passed_fds, own_fds);

	h_stop();
	cr_assert_eq(inode_of(h_sock()), ino, "mmapd replaced the socket "
	    "systemd passed it");
	/* Still the test's socket: it takes a connection. */
	probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		memcpy(sa.sun_path, h_sock(), strlen(h_sock()) + 1);
		cr_assert(connect(probe, (struct sockaddr *)&sa,
		    sizeof(sa)) == 0, "connect %s after mmapd stopped: %s",
		    h_sock(), strerror(errno));
	}
	close(probe);
	close(lfd);
	notify_done();
}

Test(systemd, listen_pid_of_another_process_is_ignored)
{
	const char *other = h_path("other.sock");
	int lfd;

	lfd = sock_make(SOCK_SEQPACKET, other, 1);
	h_next_listen_fds(&lfd, 1, 1);
	h_start(CONF);
	h_log_expect("listening on ", h_sock(), "(mode ");
	cr_assert_eq(h_log_count("passed by systemd"), 0);
	h_stop();
	h_own_socket_gone();
	inode_of(other);
	close(lfd);
}

/* mmapd with these fds passed (and LISTEN_FDS overridden when fds_env). */
static void
activation_refused(const int *fds, int n, const char *fds_env,
    const char *want, const char *want2)
{
	const char *own = h_path("own.sock");
	const char *const argv[] = { "--no-config", "-s", own, NULL };
	char *out = NULL;
	int st;

	h_next_listen_fds(fds, n, 0);
	if (fds_env != NULL)
		h_next_env("LISTEN_FDS", fds_env);
	st = h_run_mmapd("refused.out", argv, &out);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1,
	    "mmapd ended with wait status %#x, not exit status 1; it "
	    "said:\n%s", st, out);
	cr_assert(strstr(out, want) != NULL && (want2 == NULL ||
	    strstr(out, want2) != NULL), "mmapd did not say \"%s\"%s%s%s; "
	    "it said:\n%s", want, want2 ? " and \"" : "", want2 ? want2 : "",
	    want2 ? "\"" : "", out);
	/* Refused, not worked around: it bound no socket of its own. */
	cr_assert(access(own, F_OK) < 0, "mmapd bound %s instead", own);
	free(out);
}

Test(systemd, activation_refuses_a_file)
{
	int fd = open(h_write("not-a-socket", "x"), O_RDONLY | O_CLOEXEC);

	cr_assert(fd >= 0);
	activation_refused(&fd, 1, NULL, "fd 3 is not a socket", NULL);
	close(fd);
}

Test(systemd, activation_refuses_two_sockets)
{
	int fds[2];

	fds[0] = sock_make(SOCK_SEQPACKET, h_path("a.sock"), 1);
	fds[1] = sock_make(SOCK_SEQPACKET, h_path("b.sock"), 1);
	activation_refused(fds, 2, NULL, "LISTEN_FDS=2", "exactly one");
	inode_of(h_path("a.sock"));
	close(fds[0]);
	close(fds[1]);
}

Test(systemd, activation_refuses_a_stream_socket)
{
	int fd = sock_make(SOCK_STREAM, h_path("stream.sock"), 1);

	activation_refused(&fd, 1, NULL, "AF_UNIX SOCK_STREAM socket",
	    "ListenSequentialPacket=");
	inode_of(h_path("stream.sock"));
	close(fd);
}

Test(systemd, activation_refuses_a_socket_not_listening)
{
	int fd = sock_make(SOCK_SEQPACKET, h_path("idle.sock"), 0);

	activation_refused(&fd, 1, NULL, "fd 3 is not listening", NULL);
	close(fd);
}

Test(systemd, activation_refuses_a_bad_count)
{
	int fd = sock_make(SOCK_SEQPACKET, h_path("bad.sock"), 1);

	activation_refused(&fd, 1, "one", "LISTEN_FDS=one",
	    "not a number");
	close(fd);
}
