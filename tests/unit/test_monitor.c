/*
 * The monitor (daemon/monitor.c) driven from the worker's side: the test
 * plays the worker on the two socketpairs, the real monitor_run() runs
 * in a forked child under its own capabilities and seccomp filter, a
 * sleeping child stands for the worker process it watches, and mmapd's
 * listening socket is a real one in a temporary folder.
 *
 * What it shows: privsep_kill_send() and privsep_kill_replies()
 * (daemon/privsep.c, the worker's real side) kill the process at the
 * other end of a connection accepted on that socket, and nothing else (a
 * socketpair, a pipe, another socket's connection, the listening socket,
 * an outgoing connection, the worker's own connection are refused and
 * their processes live on); kills queue without waiting while the
 * monitor is stopped, until the socket is full (EAGAIN), and are answered
 * in order; no message the worker may send names a path, and one that
 * tries (a device message sent the wrong way, with a path and fds) is a
 * protocol error that opens nothing; truncated, oversized and unknown
 * packets end the worker and the monitor (exit 1); a reload asked by the
 * worker reads the policy file alone and opens what it names.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "helpers.h"
#include "log.h"
#include "monitor.h"
#include "privsep.h"
#include "privsep-msg.h"

#define WAIT_MS	5000

static struct {
	char dir[64];
	char sock[128];
	char conf[128];
	int listen;		/* mmapd's listening socket, as in main.c */
	int ctl, rpc;		/* the worker's ends: the test's */
	pid_t worker;		/* the process the monitor watches */
	pid_t monitor;
	pid_t kids[8];
	int n_kids;
} R = { .listen = -1, .ctl = -1, .rpc = -1 };

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
listen_at(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	cr_assert(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "bind "
	    "%s: %s", path, strerror(errno));
	cr_assert_eq(listen(fd, 8), 0);
	return fd;
}

static int
connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		_exit(3);
	return fd;
}

/* A child that connects to path (unless NULL) and sleeps until killed. */
static pid_t
sleeper(const char *path)
{
	int ready[2];
	char c = 0;
	pid_t pid;

	cr_assert_eq(pipe(ready), 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		/* Never outlives the test, whatever ends it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		close(ready[0]);
		if (path != NULL)
			(void)connect_to(path);
		(void)write(ready[1], &c, 1);
		for (;;)
			pause();
	}
	close(ready[1]);
	cr_assert_eq(read(ready[0], &c, 1), 1);
	close(ready[0]);
	R.kids[R.n_kids++] = pid;
	return pid;
}

/* Still running (not a zombie): waitpid says nothing yet. */
static int
alive(pid_t pid)
{
	int st;

	return waitpid(pid, &st, WNOHANG) == 0;
}

/* Wait for a child's end; its status, or -1 after WAIT_MS. */
static int
wait_for(pid_t pid)
{
	int64_t end = now_ms() + WAIT_MS;
	int st;

	while (now_ms() < end) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return st;
		usleep(5000);
	}
	return -1;
}

static void
write_conf(const char *text)
{
	int fd = open(R.conf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/*
 * The rig: a listening socket, a worker stand-in (connected to it when
 * worker_connects), the monitor forked on the socketpairs.
 */
static void
rig(int worker_connects)
{
	int ctl[2], rpc[2];
	sigset_t set;

	snprintf(R.dir, sizeof(R.dir), "/tmp/mmapd-mon.XXXXXX");
	cr_assert_not_null(mkdtemp(R.dir));
	snprintf(R.sock, sizeof(R.sock), "%s/mmapd.sock", R.dir);
	snprintf(R.conf, sizeof(R.conf), "%s/mmapd.conf", R.dir);
	write_conf("[zero]\nusers = *\n");
	R.listen = listen_at(R.sock);
	R.worker = sleeper(worker_connects ? R.sock : NULL);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
	    ctl), 0);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
	    rpc), 0);
	R.monitor = fork();
	cr_assert(R.monitor >= 0);
	if (R.monitor == 0) {
		struct monitor_config mc = {
			.config_path = R.conf,
			.config_given = 1,
			.ctl = ctl[0],
			.rpc = rpc[0],
			.worker = R.worker,
			.iomem_fd = -1,
			.seccomp = SANDBOX_KILL,
			.root = geteuid() == 0,
		};

		close(ctl[1]);
		close(rpc[1]);
		mc.listen_len = sizeof(mc.listen_addr);
		if (getsockname(R.listen, (struct sockaddr *)&mc.listen_addr,
		    &mc.listen_len) < 0)
			_exit(4);
		close(R.listen);
		mc.worker_pidfd = pidfd_open(R.worker, 0);
		if (mc.worker_pidfd < 0)
			_exit(5);
		sigemptyset(&set);
		sigaddset(&set, SIGHUP);
		sigaddset(&set, SIGTERM);
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGCHLD);
		sigprocmask(SIG_BLOCK, &set, NULL);
		log_init();
		exit(monitor_run(&mc));
	}
	close(ctl[0]);
	close(rpc[0]);
	R.ctl = ctl[1];
	R.rpc = rpc[1];
	cr_assert_eq(privsep_init(R.rpc), 0);
}

static void
unrig(void)
{
	int i, st;

	if (R.monitor > 0) {
		kill(R.monitor, SIGKILL);
		waitpid(R.monitor, &st, 0);
	}
	for (i = 0; i < R.n_kids; i++) {
		kill(R.kids[i], SIGKILL);
		waitpid(R.kids[i], &st, 0);
	}
	if (R.ctl >= 0)
		close(R.ctl);
	if (R.rpc >= 0)
		close(R.rpc);
	if (R.listen >= 0)
		close(R.listen);
	if (R.dir[0] != '\0') {
		unlink(R.sock);
		unlink(R.conf);
		rmdir(R.dir);
	}
	memset(&R, 0, sizeof(R));
}

TestSuite(monitor, .fini = unrig, .timeout = 60);

static int
accept_one(int lfd)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	int fd;

	cr_assert_eq(poll(&p, 1, WAIT_MS), 1, "no connection came");
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	cr_assert(fd >= 0, "accept: %s", strerror(errno));
	return fd;
}

/* ----------------------------------------------------------------------
 * privsep_kill_send, privsep_kill_replies
 * ---------------------------------------------------------------------- */

static uint32_t got_seq;
static int got_err, got_n;

static void
got_answer(void *arg, uint32_t seq, int err, pid_t pid)
{
	(void)arg;
	(void)pid;
	got_seq = seq;
	got_err = err;
	got_n++;
}

/*
 * A kill asked, and its answer waited for here as the loop would (the
 * socket readable, then every answer read): its err.
 */
static int
kill_sync(int fd, const char *reason)
{
	struct pollfd p = { .fd = R.rpc, .events = POLLIN };
	uint32_t seq = 0;
	int err;

	err = privsep_kill_send(fd, reason, &seq);
	cr_assert_eq(err, 0, "%s: privsep_kill_send: %s", reason,
	    strerror(-err));
	got_n = 0;
	cr_assert_eq(poll(&p, 1, WAIT_MS), 1, "%s: no answer in %d ms",
	    reason, WAIT_MS);
	err = privsep_kill_replies(got_answer, NULL);
	cr_assert_eq(err, 0, "%s: privsep_kill_replies: %s", reason,
	    strerror(-err));
	cr_assert_eq(got_n, 1, "%s: %d answers to one request", reason,
	    got_n);
	cr_assert_eq(got_seq, seq, "%s: the answer is to %u, not %u",
	    reason, (unsigned)got_seq, (unsigned)seq);
	return got_err;
}

Test(monitor, kill_reaches_the_peer_of_a_client_connection)
{
	pid_t victim;
	int fd, st;

	rig(0);
	victim = sleeper(R.sock);
	fd = accept_one(R.listen);
	cr_assert_eq(kill_sync(fd, "test: a client"), 0);
	st = wait_for(victim);
	cr_assert(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	    "the client (pid %d) was not killed by SIGKILL: status %#x",
	    (int)victim, (unsigned)st);
	R.n_kids--;		/* reaped */
	/* Gone already: ESRCH, or refused as a connection with no peer. */
	st = kill_sync(fd, "test: again");
	cr_assert(st == -ESRCH || st == 0, "a second kill: %s", strerror(-st));
	close(fd);
	cr_assert(alive(R.monitor) && alive(R.worker));
}

Test(monitor, kill_refuses_what_is_not_a_client_connection)
{
	char other[160];
	pid_t v_pair, v_other, v_out;
	int sp[2], pp[2], lother, a_other, out, fd_worker, err;

	rig(1);
	/* The worker stand-in's own connection: its peer is the worker. */
	fd_worker = accept_one(R.listen);

	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp),
	    0);
	v_pair = fork();
	if (v_pair == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		close(sp[0]);
		for (;;)
			pause();
	}
	R.kids[R.n_kids++] = v_pair;
	close(sp[1]);
	cr_assert_eq(pipe2(pp, O_CLOEXEC), 0);

	snprintf(other, sizeof(other), "%s/other.sock", R.dir);
	lother = listen_at(other);
	v_other = sleeper(other);
	a_other = accept_one(lother);

	/* An outgoing connection to mmapd's socket: its peer is the test. */
	v_out = sleeper(NULL);
	out = connect_to(R.sock);

	err = kill_sync(sp[0], "test: a socketpair");
	cr_assert_eq(err, -EINVAL, "socketpair: %s", strerror(-err));
	err = kill_sync(pp[0], "test: a pipe");
	cr_assert_eq(err, -ENOTSOCK, "pipe: %s", strerror(-err));
	err = kill_sync(a_other, "test: another socket's connection");
	cr_assert_eq(err, -EINVAL, "another socket: %s", strerror(-err));
	err = kill_sync(R.listen, "test: the listening socket");
	cr_assert_eq(err, -EINVAL, "listener: %s", strerror(-err));
	err = kill_sync(out, "test: an outgoing connection");
	cr_assert_eq(err, -EINVAL, "outgoing: %s", strerror(-err));
	err = kill_sync(fd_worker, "test: the worker's own connection");
	cr_assert_eq(err, -EPERM, "the worker: %s", strerror(-err));

	cr_assert(alive(v_pair), "the socketpair's holder was killed");
	cr_assert(alive(v_other), "the other socket's client was killed");
	cr_assert(alive(v_out));
	cr_assert(alive(R.worker), "the worker was killed");
	cr_assert(alive(R.monitor), "a refused kill ended the monitor");
	close(sp[0]);
	close(pp[0]);
	close(pp[1]);
	close(a_other);
	close(lother);
	close(out);
	close(fd_worker);
	unlink(other);
}

/*
 * The worker never waits for the monitor: with the monitor stopped
 * (SIGSTOP), requests queue on the rpc socket, each send returning at
 * once, until the socket is full, which is -EAGAIN, not a wait.  The
 * monitor continued answers every one, in order, and one read takes
 * every answer waiting.
 */
static uint32_t seqs[4096];
static int errs[4096], n_seqs;

static void
note_answer(void *arg, uint32_t seq, int err, pid_t pid)
{
	(void)arg;
	(void)pid;
	if (n_seqs < 4096) {
		seqs[n_seqs] = seq;
		errs[n_seqs] = err;
	}
	n_seqs++;
}

Test(monitor, kills_queue_without_waiting_and_are_answered_in_order)
{
	struct pollfd p = { .events = POLLIN };
	uint32_t first = 0, seq;
	int64_t t, worst = 0, end;
	int pp[2], n = 0, err = 0, i;

	rig(0);
	cr_assert_eq(pipe2(pp, O_CLOEXEC), 0);
	cr_assert_eq(kill(R.monitor, SIGSTOP), 0);
	while (n < 4096) {
		t = now_ms();
		err = privsep_kill_send(pp[0], "test: queued", &seq);
		t = now_ms() - t;
		worst = t > worst ? t : worst;
		if (err)
			break;
		if (n++ == 0)
			first = seq;
		cr_assert_eq(seq, first + (uint32_t)n - 1);
	}
	kill(R.monitor, SIGCONT);
	fprintf(stderr, "monitor: %d kills queued while it was stopped, the "
	    "slowest send %lld ms; then: %s\n", n, (long long)worst,
	    strerror(-err));
	cr_assert(err == -EAGAIN || err == -ETOOMANYREFS, "after %d "
	    "requests: %s", n, strerror(-err));
	cr_assert_gt(n, 1);
	cr_assert_lt(worst, 500, "a send took %lld ms with the monitor "
	    "stopped", (long long)worst);
	n_seqs = 0;
	p.fd = R.rpc;
	end = now_ms() + WAIT_MS;
	while (n_seqs < n && now_ms() < end) {
		if (poll(&p, 1, 100) < 0)
			continue;
		cr_assert_eq(privsep_kill_replies(note_answer, NULL), 0);
	}
	cr_assert_eq(n_seqs, n, "%d answers to %d requests", n_seqs, n);
	for (i = 0; i < n; i++) {
		cr_assert_eq(seqs[i], first + (uint32_t)i);
		cr_assert_eq(errs[i], -ENOTSOCK);
	}
	/* Room again: the next goes. */
	cr_assert_eq(kill_sync(pp[0], "test: after"), -ENOTSOCK);
	cr_assert(alive(R.monitor) && alive(R.worker));
	close(pp[0]);
	close(pp[1]);
}

/* ----------------------------------------------------------------------
 * Broken messages
 * ---------------------------------------------------------------------- */

/* The monitor ends with status 1 and takes the worker with it. */
static void
expect_worker_ended(const char *what)
{
	int st = wait_for(R.monitor);

	cr_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 1,
	    "%s: the monitor did not exit 1 (status %#x)", what, (unsigned)st);
	R.monitor = 0;
	st = wait_for(R.worker);
	cr_assert(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	    "%s: the worker was not killed (status %#x)", what, (unsigned)st);
	/* Reaped: out of the list (the worker is the first). */
	R.kids[0] = R.kids[--R.n_kids];
}

static void
send_raw(int sock, const void *buf, size_t len, const int *fds,
    unsigned int nfds)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} cm;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds > 0) {
		memset(&cm, 0, sizeof(cm));
		msg.msg_control = cm.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm.h.cmsg_level = SOL_SOCKET;
		cm.h.cmsg_type = SCM_RIGHTS;
		cm.h.cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(&cm.h), fds, sizeof(int) * nfds);
	}
	cr_assert_eq(sendmsg(sock, &msg, 0), (ssize_t)len, "sendmsg: %s",
	    strerror(errno));
}

Test(monitor, truncated_oversized_and_unknown_packets_end_the_worker)
{
	static struct pmsg m;	/* zeroes */
	static uint8_t big[sizeof(struct pmsg) + 64];
	int chan;

	for (int i = 0; i < 8; i++) {
		pid_t client;

		rig(0);
		client = sleeper(R.sock);
		chan = i % 2 ? R.rpc : R.ctl;
		memset(&m, 0, sizeof(m));
		switch (i / 2) {
		case 0:		/* truncated: a kill without its reason */
			m.type = PMSG_KILL;
			send_raw(chan, &m, 12, NULL, 0);
			break;
		case 1:		/* larger than any message */
			memset(big, 0xa5, sizeof(big));
			send_raw(chan, big, sizeof(big), NULL, 0);
			break;
		case 2:		/* a type no one sends, at a message's size */
			m.type = 77;
			send_raw(chan, &m, pmsg_size(PMSG_RELOAD), NULL, 0);
			break;
		case 3:		/* a well-formed type of the other channel */
			m.type = i % 2 ? PMSG_RELOAD : PMSG_KILL;
			send_raw(chan, &m, pmsg_size(m.type), NULL, 0);
			break;
		}
		expect_worker_ended(i % 2 ? "rpc" : "ctl");
		cr_assert(alive(client), "a client was killed");
		unrig();
	}
}

/*
 * No message the worker sends names a path.  The nearest thing, a
 * device message (the monitor's to send) sent to it with a path and an
 * fd, is refused whole: the monitor ends, and the file it names was
 * never opened (inotify would have seen IN_OPEN).
 */
Test(monitor, a_message_naming_a_path_opens_nothing)
{
	struct pmsg m;
	char target[160], ev[512];
	int in, fd, wd;

	rig(0);
	snprintf(target, sizeof(target), "%s/secret", R.dir);
	fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	cr_assert(fd >= 0);
	close(fd);
	in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	cr_assert(in >= 0);
	wd = inotify_add_watch(in, target, IN_OPEN | IN_ACCESS);
	cr_assert(wd >= 0);

	memset(&m, 0, sizeof(m));
	m.type = PMSG_MEM;
	m.nfds = 1;
	m.u.mem.fdmask = 1u << MAP_CACHE_UNCACHED;
	snprintf(m.u.mem.path, sizeof(m.u.mem.path), "%s", target);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	send_raw(R.ctl, &m, pmsg_size(PMSG_MEM), &fd, 1);
	close(fd);
	expect_worker_ended("a device message to the monitor");
	cr_assert_eq(read(in, ev, sizeof(ev)), -1, "%s was opened", target);
	cr_assert_eq(errno, EAGAIN);
	close(in);
}

/* ----------------------------------------------------------------------
 * Reload
 * ---------------------------------------------------------------------- */

/* The next message on ctl, within WAIT_MS. */
static void
ctl_next(struct pmsg *m, int fds[PMSG_FDS_MAX])
{
	struct pollfd p = { .fd = R.ctl, .events = POLLIN };
	int err;

	cr_assert_eq(poll(&p, 1, WAIT_MS), 1, "the monitor sent nothing");
	err = pmsg_recv(R.ctl, MSG_DONTWAIT, (1u << PMSG_POLICY) |
	    (1u << PMSG_MEM) | (1u << PMSG_PCI) | (1u << PMSG_COMMIT), m, fds);
	cr_assert_eq(err, 0, "pmsg_recv: %s", strerror(-err));
}

/*
 * The worker can ask for a reload, no more: the monitor reads its own
 * policy file, sends its text, and opens the stand-in /dev/mem that file
 * names, the very inode.
 */
Test(monitor, a_reload_opens_what_the_policy_file_names)
{
	char conf[PATH_MAX + 512], devmem[160], iomem[PATH_MAX];
	struct pmsg m;
	struct stat a, b;
	int fds[PMSG_FDS_MAX], fd;
	unsigned int i;

	rig(0);
	snprintf(devmem, sizeof(devmem), "%s/devmem", R.dir);
	fd = open(devmem, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	cr_assert(fd >= 0);
	cr_assert_eq(ftruncate(fd, 1 << 20), 0);
	close(fd);
	data_path(iomem, sizeof(iomem), "iomem-q35.txt");
	snprintf(conf, sizeof(conf), "[zero]\nusers = *\n\n[mem]\npath = %s\n"
	    "iomem = %s\nusers = root\nmax_size = 1M\n", devmem, iomem);
	write_conf(conf);

	memset(&m, 0, sizeof(m));
	m.type = PMSG_RELOAD;
	cr_assert_eq(pmsg_send(R.ctl, &m, NULL, 0), 0);

	ctl_next(&m, fds);
	cr_assert_eq(m.type, PMSG_POLICY);
	cr_assert_eq(m.u.policy.total, strlen(conf));
	cr_assert_eq(memcmp(m.u.policy.data, conf, strlen(conf)), 0);
	ctl_next(&m, fds);
	cr_assert_eq(m.type, PMSG_MEM);
	cr_assert_str_eq(m.u.mem.path, devmem);
	cr_assert_eq(stat(devmem, &a), 0);
	cr_assert(m.nfds >= 2);
	cr_assert_eq(fstat(fds[0], &b), 0);
	cr_assert(a.st_ino == b.st_ino && a.st_dev == b.st_dev,
	    "the fd is not the file the policy names");
	for (i = 0; i < m.nfds; i++)
		close(fds[i]);
	ctl_next(&m, fds);
	cr_assert_eq(m.type, PMSG_COMMIT);
	cr_assert_eq(m.u.commit.have_mem, 1);
	cr_assert_eq(m.u.commit.n_pci, 0);
	cr_assert(alive(R.monitor));
}
