/*
 * The integration harness: see harness.h.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"
#include "wire.h"

#define MAX_KIDS	64
#define LOG_TAIL	12000	/* bytes of a log shown in a failure */

static struct {
	char dir[128];
	char sock[192];
	char log[192];
	char conf[192];
	pid_t pid;		/* the daemon, 0 when none runs */
	int clean;		/* the last daemon was stopped and checked */
	pid_t kids[MAX_KIDS];
	size_t n_kids;
	unsigned int seq;	/* for the names of output files */
} H;

/* ----------------------------------------------------------------------
 * Small things
 * ---------------------------------------------------------------------- */

/*
 * What the harness hands out (connections, mmapctl's output) stays
 * reachable from here, so that a test aborted by a failed assertion does
 * not add LeakSanitizer reports about its own locals to its failure:
 * leaks of libmmapclient's insides are still reported.  Never
 * dereferenced.
 */
static void *kept[256];
static size_t n_kept;

static void
keep(void *p)
{
	if (p != NULL && n_kept < sizeof(kept) / sizeof(kept[0]))
		kept[n_kept++] = p;
}

static void
unkeep(void *p)
{
	size_t i;

	for (i = 0; i < n_kept; i++) {
		if (kept[i] == p) {
			kept[i] = kept[--n_kept];
			return;
		}
	}
}

int64_t
h_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
h_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static const char *
env_need(const char *name)
{
	const char *v = getenv(name);

	cr_assert(v != NULL && *v != '\0',
	    "%s is not set: run the integration tests through make check", name);
	return v;
}

/*
 * A program of the build tree: $env, or else found from this test's own
 * path, BUILDDIR/tests/integration/test_*, as BUILDDIR/rel.
 */
static const char *
build_bin(const char *env, const char *rel, char *buf, size_t len)
{
	const char *v = getenv(env);
	char exe[PATH_MAX], *p;
	ssize_t n;
	int i;

	if (v != NULL && *v != '\0')
		return v;
	if (buf[0] != '\0')
		return buf;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	cr_assert(n > 0, "%s is not set, and /proc/self/exe: %s", env,
	    strerror(errno));
	exe[n] = '\0';
	/* Up from the program, tests/integration/, tests/. */
	for (i = 0; i < 3; i++) {
		p = strrchr(exe, '/');
		cr_assert(p != NULL && p != exe, "%s is not set, and %s is not "
		    "in BUILDDIR/tests/integration/", env, exe);
		*p = '\0';
	}
	cr_assert(strlen(exe) + 1 + strlen(rel) < len, "%s: path too long", exe);
	memcpy(buf, exe, strlen(exe));
	buf[strlen(exe)] = '/';
	memcpy(buf + strlen(exe) + 1, rel, strlen(rel) + 1);
	cr_assert(access(buf, X_OK) == 0, "%s is not set, and %s: %s", env,
	    buf, strerror(errno));
	return buf;
}

static const char *
mmapd_bin(void)
{
	static char buf[PATH_MAX];

	return build_bin("MMAPD_BIN", "daemon/mmapd", buf, sizeof(buf));
}

static const char *
mmapctl_bin(void)
{
	static char buf[PATH_MAX];

	return build_bin("MMAPCTL_BIN", "client/mmapctl", buf, sizeof(buf));
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (f == NULL)
		return strdup("");
	for (;;) {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap + 1);
			cr_assert(buf != NULL);
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

/* The end of a long text, for failure messages. */
static const char *
tail(const char *s)
{
	size_t n = strlen(s);

	return n > LOG_TAIL ? s + n - LOG_TAIL : s;
}

int
h_all(const void *p, size_t n, uint8_t v)
{
	const volatile uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != v)
			return 0;
	return 1;
}

/* ----------------------------------------------------------------------
 * Children
 * ---------------------------------------------------------------------- */

void
h_track(pid_t pid)
{
	if (H.n_kids < MAX_KIDS)
		H.kids[H.n_kids++] = pid;
}

void
h_untrack(pid_t pid)
{
	size_t i;

	for (i = 0; i < H.n_kids; i++) {
		if (H.kids[i] == pid) {
			H.kids[i] = H.kids[--H.n_kids];
			return;
		}
	}
}

int
h_wait(pid_t pid, int ms)
{
	int64_t end = h_now_ms() + ms;
	int st;
	pid_t r;

	for (;;) {
		r = waitpid(pid, &st, WNOHANG);
		if (r == pid) {
			h_untrack(pid);
			return st;
		}
		if (r < 0 && errno != EINTR)
			return -1;
		if (h_now_ms() >= end)
			return -1;
		h_sleep_ms(5);
	}
}

/*
 * In a child before exec: die with the test, no fd of the test's but
 * 0, 1 and 2 (and pass[0..n) as 3.., for socket activation), stdin from
 * /dev/null, nothing of the environment that would change how mmapd
 * logs, where the client connects or whom mmapd tells it is ready.
 */
static void
child_prepare(int out, int err, const int *pass, int n)
{
	int null = open("/dev/null", O_RDONLY);
	int hi[H_MAX_LISTEN];
	int i;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Out of the way of 3.. first: pass[] may hold any numbers. */
	for (i = 0; i < n; i++)
		if ((hi[i] = fcntl(pass[i], F_DUPFD, 64)) < 0)
			_exit(126);
	if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 ||
	    dup2(err, 2) < 0)
		_exit(126);
	for (i = 0; i < n; i++)
		if (dup2(hi[i], 3 + i) < 0)
			_exit(126);
	close_range(3 + (unsigned int)n, ~0u, 0);
	signal(SIGPIPE, SIG_DFL);
	unsetenv("JOURNAL_STREAM");
	unsetenv("MMAPD_SOCKET");
	unsetenv("NOTIFY_SOCKET");
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
}

/* What h_next_env and h_next_listen_fds ask of the next mmapd. */
static struct h_next {
	const char *env[8][2];
	int n_env;
	int listen[H_MAX_LISTEN];
	int n_listen;
	int wrong_pid;
} upcoming;

void
h_next_env(const char *name, const char *value)
{
	cr_assert(upcoming.n_env < 8, "h_next_env: too many variables");
	upcoming.env[upcoming.n_env][0] = name;
	upcoming.env[upcoming.n_env][1] = value;
	upcoming.n_env++;
}

void
h_next_listen_fds(const int *fds, int n, int wrong_pid)
{
	int i;

	cr_assert(n >= 0 && n <= H_MAX_LISTEN, "h_next_listen_fds: %d fds", n);
	for (i = 0; i < n; i++)
		upcoming.listen[i] = fds[i];
	upcoming.n_listen = n;
	upcoming.wrong_pid = wrong_pid;
}

/*
 * Supplementary groups mmapd starts with when the suite runs as root,
 * as under a login shell or sudo (disk and video, say): the drop must
 * clear them, and h_start_args checks it did.  The test machine's root
 * has none of its own, so without these a drop that skipped setgroups
 * would pass.
 */
static const gid_t start_groups[] = { 6, 44 };

/*
 * In mmapd's child, after child_prepare: the groups above, and
 * systemd's variables.
 */
static void
child_next(void)
{
	char num[32];
	int i;

	if (geteuid() == 0 && setgroups(sizeof(start_groups) /
	    sizeof(start_groups[0]), start_groups) < 0)
		_exit(126);
	if (upcoming.n_listen > 0) {
		snprintf(num, sizeof(num), "%d", upcoming.n_listen);
		setenv("LISTEN_FDS", num, 1);
		snprintf(num, sizeof(num), "%d",
		    (int)(upcoming.wrong_pid ? getppid() : getpid()));
		setenv("LISTEN_PID", num, 1);
	}
	for (i = 0; i < upcoming.n_env; i++)
		setenv(upcoming.env[i][0], upcoming.env[i][1], 1);
}

/* ----------------------------------------------------------------------
 * The folder
 * ---------------------------------------------------------------------- */

const char *
h_dir(void)
{
	const char *tmp = getenv("TMPDIR");
	struct stat st;

	if (H.dir[0] != '\0')
		return H.dir;
	/*
	 * sun_path holds 108 bytes: keep the folder's name short.  uid
	 * 65534 must be able to pass through TMPDIR to reach the socket.
	 */
	if (tmp == NULL || *tmp == '\0' || strlen(tmp) > 60 ||
	    stat(tmp, &st) < 0 || !S_ISDIR(st.st_mode) ||
	    (st.st_mode & S_IXOTH) == 0)
		tmp = "/tmp";
	snprintf(H.dir, sizeof(H.dir), "%s/mmapd-it.XXXXXX", tmp);
	cr_assert(mkdtemp(H.dir) != NULL, "mkdtemp %s: %s", H.dir,
	    strerror(errno));
	/* uid 65534 must reach the socket and read the files. */
	cr_assert(chmod(H.dir, 0755) == 0, "chmod %s: %s", H.dir,
	    strerror(errno));
	snprintf(H.sock, sizeof(H.sock), "%s/mmapd.sock", H.dir);
	snprintf(H.log, sizeof(H.log), "%s/mmapd.log", H.dir);
	snprintf(H.conf, sizeof(H.conf), "%s/mmapd.conf", H.dir);
	return H.dir;
}

const char *
h_path(const char *name)
{
	static char bufs[8][256];
	static unsigned int next;
	char *b = bufs[next++ % 8];

	snprintf(b, sizeof(bufs[0]), "%s/%s", h_dir(), name);
	return b;
}

static void
write_file(const char *path, const char *text)
{
	size_t len = strlen(text);
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert(fd >= 0, "open %s: %s", path, strerror(errno));
	cr_assert(write(fd, text, len) == (ssize_t)len, "write %s: %s", path,
	    strerror(errno));
	close(fd);
}

const char *
h_write(const char *name, const char *text)
{
	const char *path = h_path(name);

	write_file(path, text);
	return path;
}

char *
h_read(const char *path)
{
	return slurp(path);
}

const char *
h_data(const char *name)
{
	static char bufs[4][PATH_MAX];
	static unsigned int next;
	char *b = bufs[next++ % 4];

	snprintf(b, PATH_MAX, "%s/%s", env_need("MMAPD_TEST_DATA"), name);
	cr_assert(access(b, R_OK) == 0, "%s: %s", b, strerror(errno));
	return b;
}

const char *
h_sparse(const char *name, uint64_t size)
{
	const char *path = h_path(name);
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert(fd >= 0, "open %s: %s", path, strerror(errno));
	cr_assert(ftruncate(fd, (off_t)size) == 0, "ftruncate %s: %s", path,
	    strerror(errno));
	close(fd);
	return path;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* ----------------------------------------------------------------------
 * The daemon
 * ---------------------------------------------------------------------- */

const char *
h_sock(void)
{
	h_dir();
	return H.sock;
}

pid_t
h_pid(void)
{
	return H.pid;
}

int
h_alive(void)
{
	int st;

	if (H.pid <= 0)
		return 0;
	return waitpid(H.pid, &st, WNOHANG) == 0;
}

void
h_signal(int sig)
{
	cr_assert(H.pid > 0, "no daemon runs");
	cr_assert(kill(H.pid, sig) == 0, "kill %d: %s", (int)H.pid,
	    strerror(errno));
}

void
h_rewrite_conf(const char *conf)
{
	h_dir();
	/* Written whole under another name, then renamed: never half-read. */
	write_file(h_path("mmapd.conf.new"), conf);
	cr_assert(rename(h_path("mmapd.conf.new"), H.conf) == 0);
}

static int
sock_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static const char *
wait_text(int st)
{
	static char buf[64];

	if (st == -1)
		return "still running";
	if (WIFEXITED(st))
		snprintf(buf, sizeof(buf), "exit status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, sizeof(buf), "killed by signal %d (%s)",
		    WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		snprintf(buf, sizeof(buf), "wait status 0x%x", st);
	return buf;
}

static char default_conf[PATH_MAX];
static int journal;		/* the next start sets JOURNAL_STREAM */
static int nofile;		/* the next start's RLIMIT_NOFILE, or 0 */
static int has_no_config;	/* mmapd --help lists --no-config */
static char seccomp_arg[64];	/* --seccomp=$MMAPD_TEST_SECCOMP */

const char *
h_default_conf_path(void)
{
	const char *const args[] = { "--help", NULL };
	char *path = default_conf, *out = NULL, *p, *e;
	struct h_next saved;

	if (path[0] != '\0')
		return path;
	/* usage(): "-c, --config FILE     policy file (default PATH;" */
	memcpy(&saved, &upcoming, sizeof(saved));	/* for the start, not for this */
	memset(&upcoming, 0, sizeof(upcoming));
	h_run_mmapd("help.out", args, &out);
	memcpy(&upcoming, &saved, sizeof(upcoming));
	has_no_config = strstr(out, "--no-config") != NULL;
	p = strstr(out, "--config");
	if (p != NULL)
		p = strstr(p, "(default ");
	if (p != NULL) {
		p += strlen("(default ");
		e = p + strcspn(p, ";)\n");
		snprintf(path, sizeof(default_conf), "%.*s", (int)(e - p), p);
	} else {
		snprintf(path, sizeof(default_conf), "/etc/mmapd/mmapd.conf");
	}
	free(out);
	return path;
}

pid_t
h_spawn_mmapd(const char *name, const char *const *argv)
{
	const char *bin = mmapd_bin();
	const char *out = h_path(name);
	char *args[32];
	size_t n = 0;
	pid_t pid;
	int fd;

	args[n++] = (char *)bin;
	/* As h_start: a later --user in argv wins. */
	if (geteuid() == 0) {
		args[n++] = (char *)"--user";
		args[n++] = (char *)H_DAEMON_USER;
	}
	for (; *argv != NULL && n < 31; argv++)
		args[n++] = (char *)*argv;
	args[n] = NULL;
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert(fd >= 0, "open %s: %s", out, strerror(errno));
	pid = fork();
	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		child_prepare(fd, fd, upcoming.listen, upcoming.n_listen);
		child_next();
		execv(bin, args);
		fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	memset(&upcoming, 0, sizeof(upcoming));
	close(fd);
	h_track(pid);
	return pid;
}

int
h_run_mmapd(const char *name, const char *const *argv, char **output)
{
	const char *out = h_path(name);
	pid_t pid;
	int st;

	pid = h_spawn_mmapd(name, argv);
	st = h_wait(pid, H_WAIT_MS);
	if (st == -1) {
		kill(pid, SIGKILL);
		h_wait(pid, H_WAIT_MS);
	}
	if (output != NULL)
		*output = slurp(out);
	cr_assert(st != -1, "%s %s did not end within %d ms", mmapd_bin(),
	    argv[0] ? argv[0] : "", H_WAIT_MS);
	return st;
}

/*
 * mmapd, started as root with start_groups: once it has dropped root
 * (setresuid is the drop's last change of ids), none may be left
 * ("Groups:" holds nothing but whitespace).  Socket activation answers
 * a connection before mmapd has run at all, so wait for the drop.
 */
static void
groups_none(pid_t pid)
{
	char path[64], *st, *g, *e;
	int64_t end = h_now_ms() + H_WAIT_MS;

	if (geteuid() != 0)
		return;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	for (;;) {
		st = slurp(path);
		if (st[0] == '\0') {
			/* Gone already: what ended it is the test's to say. */
			free(st);
			return;
		}
		/* Dropped, and filtered: every suite runs the worker so. */
		if (strstr(st, "\nUid:\t0\t") == NULL &&
		    strstr(st, "\nSeccomp:\t2\n") != NULL)
			break;
		free(st);
		cr_assert(h_now_ms() < end, "mmapd's worker did not drop root "
		    "and enter its filter within %d ms", H_WAIT_MS);
		h_sleep_ms(10);
	}
	g = strstr(st, "\nGroups:");
	cr_assert(g != NULL, "no Groups line in %s", path);
	g += strlen("\nGroups:");
	e = strchr(g, '\n');
	if (e != NULL)
		*e = '\0';
	cr_assert(strspn(g, " \t") == strlen(g), "mmapd started with groups "
	    "6 and 44 and kept some after the drop: Groups:%s", g);
	free(st);
}

void
h_start_args(const char *conf, const char *const *extra)
{
	const char *bin = mmapd_bin();
	const char *def;
	char *args[32], *log;
	size_t n = 0;
	int64_t end;
	pid_t pid;
	int fd, st;

	cr_assert(H.pid == 0, "a daemon runs already");
	h_dir();
	args[n++] = (char *)bin;
	if (conf != NULL) {
		write_file(H.conf, conf);
		args[n++] = (char *)"-c";
		args[n++] = H.conf;
	} else {
		/*
		 * Without -c, mmapd reads its default file when it exists
		 * and falls back on the built-in policy when it does not,
		 * the path tested here.  Where the file exists, --no-config
		 * asks for the built-in policy outright, if this mmapd has it.
		 */
		def = h_default_conf_path();
		if (access(def, F_OK) == 0) {
			if (!has_no_config) {
				h_cleanup();
				cr_skip_test("%s exists on this machine: mmapd "
				    "would read it instead of its built-in "
				    "default", def);
			}
			args[n++] = (char *)"--no-config";
		}
	}
	args[n++] = (char *)"-s";
	args[n++] = H.sock;
	/*
	 * The whole suite runs sandboxed: as root, mmapd drops to nobody
	 * (the build machines have no mmapd user); the seccomp filter kills
	 * unless MMAPD_TEST_SECCOMP=log asks for the kernel's log instead.
	 */
	if (geteuid() == 0) {
		args[n++] = (char *)"--user";
		args[n++] = (char *)H_DAEMON_USER;
	}
	if (getenv("MMAPD_TEST_SECCOMP") != NULL) {
		snprintf(seccomp_arg, sizeof(seccomp_arg), "--seccomp=%s",
		    getenv("MMAPD_TEST_SECCOMP"));
		args[n++] = seccomp_arg;
	}
	for (; extra != NULL && *extra != NULL && n < 31; extra++)
		args[n++] = (char *)*extra;
	args[n] = NULL;

	fd = open(H.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	cr_assert(fd >= 0, "open %s: %s", H.log, strerror(errno));
	pid = fork();
	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		child_prepare(fd, fd, upcoming.listen, upcoming.n_listen);
		child_next();
		if (journal) {
			struct stat sb;
			char js[64];

			if (fstat(2, &sb) < 0)
				_exit(126);
			snprintf(js, sizeof(js), "%llu:%llu",
			    (unsigned long long)sb.st_dev,
			    (unsigned long long)sb.st_ino);
			setenv("JOURNAL_STREAM", js, 1);
		}
		if (nofile > 0) {
			struct rlimit rl = { (rlim_t)nofile, (rlim_t)nofile };

			if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
				_exit(126);
		}
		execv(bin, args);
		fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	journal = 0;
	nofile = 0;
	memset(&upcoming, 0, sizeof(upcoming));
	close(fd);
	H.pid = pid;
	H.clean = 0;

	/* Ready when the socket takes a connection. */
	end = h_now_ms() + H_WAIT_MS;
	for (;;) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			H.pid = 0;
			H.clean = 1;
			log = h_log();
			cr_assert_fail("mmapd died at start-up (%s); its log:\n%s",
			    wait_text(st), tail(log));
		}
		fd = sock_connect(H.sock);
		if (fd >= 0) {
			close(fd);
			groups_none(h_worker_pid());
			return;
		}
		if (h_now_ms() >= end) {
			log = h_log();
			cr_assert_fail("mmapd did not accept a connection on %s "
			    "within %d ms; its log:\n%s", H.sock, H_WAIT_MS,
			    tail(log));
		}
		h_sleep_ms(10);
	}
}

void
h_start(const char *conf)
{
	h_start_args(conf, NULL);
}

void
h_start_limited(const char *conf, int n)
{
	nofile = n;
	h_start_args(conf, NULL);
}

void
h_start_limited_args(const char *conf, int n, const char *const *extra)
{
	nofile = n;
	h_start_args(conf, extra);
}

void
h_start_journal(const char *conf)
{
	journal = 1;
	h_start_args(conf, NULL);
}

static const char *const sanitizer_marks[] = {
	"ERROR: AddressSanitizer",
	"ERROR: LeakSanitizer",
	"runtime error:",
	"WARNING: ThreadSanitizer",
	NULL,
};

void
h_stop_with(int sig)
{
	const char *const *m;
	char *log;
	int st;

	h_signal(sig);
	st = h_wait(H.pid, H_WAIT_MS);
	if (st == -1) {
		kill(H.pid, SIGKILL);
		h_wait(H.pid, H_WAIT_MS);
		H.pid = 0;
		log = h_log();
		cr_assert_fail("mmapd did not exit within %d ms of signal %d; "
		    "its log:\n%s", H_WAIT_MS, sig, tail(log));
	}
	H.pid = 0;
	log = h_log();
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "mmapd ended with %s after signal %d, not exit status 0; its "
	    "log:\n%s", wait_text(st), sig, tail(log));
	for (m = sanitizer_marks; *m != NULL; m++)
		cr_assert(strstr(log, *m) == NULL,
		    "sanitizer report (%s) in mmapd's log:\n%s", *m, tail(log));
	free(log);
	H.clean = 1;
}

void
h_stop(void)
{
	h_stop_with(SIGTERM);
}

void
h_cleanup(void)
{
	size_t i;
	char *log;
	int st;

	for (i = 0; i < H.n_kids; i++) {
		kill(H.kids[i], SIGKILL);
		waitpid(H.kids[i], &st, 0);
	}
	H.n_kids = 0;
	if (H.pid > 0) {
		kill(H.pid, SIGKILL);
		waitpid(H.pid, &st, 0);
		H.pid = 0;
	}
	if (H.dir[0] != '\0' && !H.clean) {
		log = slurp(H.log);
		if (*log != '\0')
			fprintf(stderr, "---- mmapd log (%s) ----\n%s"
			    "---- end of mmapd log ----\n", H.log, tail(log));
		free(log);
	}
	if (H.dir[0] != '\0' && getenv("MMAPD_TEST_KEEP") == NULL)
		nftw(H.dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	memset(&H, 0, sizeof(H));
	memset(&upcoming, 0, sizeof(upcoming));
}

/* ----------------------------------------------------------------------
 * fds and the log
 * ---------------------------------------------------------------------- */

static int
count_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	cr_assert(d != NULL, "opendir %s: %s", path, strerror(errno));
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* The first child of pid, or 0 (children: CONFIG_PROC_CHILDREN). */
static pid_t
child_of(pid_t pid)
{
	char path[64], *text;
	long v;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid,
	    (int)pid);
	text = slurp(path);
	v = strtol(text, NULL, 10);
	free(text);
	return v > 0 ? (pid_t)v : 0;
}

pid_t
h_worker_pid(void)
{
	int64_t end = h_now_ms() + H_WAIT_MS;
	pid_t w;

	cr_assert(H.pid > 0, "no daemon runs");
	while ((w = child_of(H.pid)) == 0) {
		cr_assert(h_now_ms() < end, "mmapd (pid %d) has no worker "
		    "child after %d ms", (int)H.pid, H_WAIT_MS);
		h_sleep_ms(10);
	}
	return w;
}

int
h_fds(void)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)h_worker_pid());
	return count_dir(path);
}

int
h_self_fds(void)
{
	/* Less the one opendir() holds while it counts. */
	return count_dir("/proc/self/fd") - 1;
}

int
h_fds_wait(int want)
{
	int64_t end = h_now_ms() + H_WAIT_MS;
	int n;

	for (;;) {
		n = h_fds();
		if (n == want || h_now_ms() >= end)
			return n;
		h_sleep_ms(10);
	}
}

char *
h_log(void)
{
	h_dir();
	return slurp(H.log);
}

static int
line_has(const char *line, size_t len, const char *const *needles)
{
	char buf[2048];

	snprintf(buf, sizeof(buf), "%.*s", (int)len, line);
	for (; *needles != NULL; needles++)
		if (strstr(buf, *needles) == NULL)
			return 0;
	return 1;
}

/* Lines holding every needle; the first one into *first when asked. */
static int
log_scan(const char *const *needles, char **first)
{
	char *log = h_log(), *p, *e;
	int n = 0;

	for (p = log; *p != '\0'; p = *e ? e + 1 : e) {
		e = strchr(p, '\n');
		if (e == NULL)
			e = p + strlen(p);
		if (line_has(p, (size_t)(e - p), needles)) {
			if (n == 0 && first != NULL)
				*first = strndup(p, (size_t)(e - p));
			n++;
		}
	}
	free(log);
	return n;
}

int
h_log_count_v(const char *const *needles)
{
	return log_scan(needles, NULL);
}

char *
h_log_line_v(const char *const *needles)
{
	char *line = NULL;

	log_scan(needles, &line);
	return line;
}

int
h_log_wait_v(int n, const char *const *needles)
{
	int64_t end = h_now_ms() + H_WAIT_MS;
	int got;

	for (;;) {
		got = log_scan(needles, NULL);
		if (got >= n || h_now_ms() >= end)
			return got;
		h_sleep_ms(10);
	}
}

void
h_log_expect_v(const char *file, int line, const char *const *needles)
{
	char want[512] = "", *log;
	const char *const *p;
	size_t len = 0;

	if (h_log_wait_v(1, needles) > 0)
		return;
	for (p = needles; *p != NULL && len + 1 < sizeof(want); p++) {
		snprintf(want + len, sizeof(want) - len, "[%s] ", *p);
		len = strlen(want);
	}
	log = h_log();
	cr_assert_fail("%s:%d: no line of mmapd's log holds %s; the log:\n%s",
	    file, line, want, tail(log));
}

const char *
h_pidf(pid_t pid)
{
	static char bufs[4][32];
	static unsigned int next;
	char *b = bufs[next++ % 4];

	snprintf(b, sizeof(bufs[0]), "pid=%d ", (int)pid);
	return b;
}

/* ----------------------------------------------------------------------
 * libmmapclient
 * ---------------------------------------------------------------------- */

struct mmapclient *
h_connect(void)
{
	struct mmapclient *c = NULL;
	int err;

	err = mmapclient_connect(h_sock(), &c);
	cr_assert(err == 0, "mmapclient_connect %s: %s (%s)", h_sock(),
	    strerror(-err), mmapclient_error(NULL));
	cr_assert(c != NULL);
	keep(c);
	return c;
}

static struct mmapclient_status *
status_of(struct mmapclient *c)
{
	struct mmapclient_status *st = NULL;
	int err;

	err = mmapclient_status(c, &st);
	cr_assert(err == 0, "mmapclient_status: %s (%s)", strerror(-err),
	    mmapclient_error(c));
	return st;
}

uint32_t
h_status_leases(void)
{
	struct mmapclient *c = h_connect();
	struct mmapclient_status *st = status_of(c);
	uint32_t n = st->leases;

	mmapclient_status_free(st);
	mmapclient_close(c);
	return n;
}

uint32_t
h_status_clients(void)
{
	struct mmapclient *c = h_connect();
	struct mmapclient_status *st = status_of(c);
	uint32_t n = st->clients;

	mmapclient_status_free(st);
	mmapclient_close(c);
	return n;
}

uint32_t
h_leases_wait(uint32_t want)
{
	int64_t end = h_now_ms() + H_WAIT_MS;
	uint32_t n;

	for (;;) {
		n = h_status_leases();
		if (n == want || h_now_ms() >= end)
			return n;
		h_sleep_ms(10);
	}
}

uint32_t
h_clients_wait(uint32_t want)
{
	int64_t end = h_now_ms() + H_WAIT_MS;
	uint32_t n;

	for (;;) {
		n = h_status_clients();
		if (n == want || h_now_ms() >= end)
			return n;
		h_sleep_ms(10);
	}
}

static uint32_t
status_wait_on(struct mmapclient *c, int leases, uint32_t want)
{
	int64_t end = h_now_ms() + H_WAIT_MS;
	struct mmapclient_status *st;
	uint32_t n;

	for (;;) {
		st = status_of(c);
		n = leases ? st->leases : st->clients;
		mmapclient_status_free(st);
		if (n == want || h_now_ms() >= end)
			return n;
		h_sleep_ms(10);
	}
}

uint32_t
h_clients_wait_on(struct mmapclient *c, uint32_t want)
{
	return status_wait_on(c, 0, want);
}

uint32_t
h_leases_wait_on(struct mmapclient *c, uint32_t want)
{
	return status_wait_on(c, 1, want);
}

/* ----------------------------------------------------------------------
 * The raw client
 * ---------------------------------------------------------------------- */

int
raw_connect(void)
{
	int fd = sock_connect(h_sock());

	cr_assert(fd >= 0, "connect %s: %s", h_sock(), strerror(-fd));
	return fd;
}

int
raw_connect_as(uid_t uid, gid_t gid)
{
	int fd;

	cr_assert_eq(geteuid(), 0, "raw_connect_as: not root");
	/* SO_PEERCRED keeps the effective ids of connect(2). */
	cr_assert(setegid(gid) == 0, "setegid %u: %s", (unsigned)gid,
	    strerror(errno));
	cr_assert(seteuid(uid) == 0, "seteuid %u: %s", (unsigned)uid,
	    strerror(errno));
	fd = sock_connect(h_sock());
	cr_assert(seteuid(0) == 0 && setegid(0) == 0, "back to root: %s",
	    strerror(errno));
	cr_assert(fd >= 0, "connect %s as uid %u: %s", h_sock(),
	    (unsigned)uid, strerror(-fd));
	return fd;
}

/*
 * SO_PEERGROUPS reads the supplementary groups of the process as it
 * connects: root takes groups[] for the connect and then its own back.
 */
int
raw_connect_as_groups(uid_t uid, gid_t gid, const gid_t *groups, int n)
{
	gid_t own[64];
	int fd, n_own;

	cr_assert_eq(geteuid(), 0, "raw_connect_as_groups: not root");
	n_own = getgroups(64, own);
	cr_assert(n_own >= 0, "getgroups: %s", strerror(errno));
	cr_assert(setgroups((size_t)n, groups) == 0, "setgroups: %s",
	    strerror(errno));
	fd = raw_connect_as(uid, gid);
	cr_assert(setgroups((size_t)n_own, own) == 0, "setgroups back: %s",
	    strerror(errno));
	return fd;
}

void
h_own_socket_gone(void)
{
	if (geteuid() == 0) {
		/*
		 * mmapd dropped to nobody, which may not remove a file from
		 * the test's root-owned folder (as from /run/mmapd): it says
		 * so, and nothing answers there (the next start replaces it).
		 */
		h_log_expect(h_sock(), "left in place", "Permission denied",
		    "the next start replaces it");
		cr_assert_eq(raw_connect_errno(), -ECONNREFUSED,
		    "something answers on the socket mmapd left");
	} else {
		cr_assert(access(h_sock(), F_OK) < 0 && errno == ENOENT,
		    "mmapd left the socket it bound itself");
	}
}

int
raw_connect_errno(void)
{
	int fd = sock_connect(h_sock());

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

void
raw_send(int fd, const Request *req)
{
	uint8_t buf[WIRE_MAX];
	size_t n = mmapd__v1__request__get_packed_size(req);
	int err;

	cr_assert(n <= sizeof(buf), "request of %zu bytes", n);
	n = mmapd__v1__request__pack(req, buf);
	if (n == 0) {
		/* An empty Request packs to nothing; send what it is. */
		buf[0] = 0x08;	/* request_id = 0 */
		buf[1] = 0x00;
		n = 2;
	}
	err = wire_send(fd, buf, n, -1);
	cr_assert(err == 0, "send: %s", strerror(-err));
}

int
raw_send_bytes(int fd, const void *buf, size_t len, const int *fds,
    size_t nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 64)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cmsg;
	ssize_t n;

	cr_assert(nfds <= 64);
	if (nfds > 0) {
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * nfds);
	}
	do {
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

Reply *
raw_recv(int fd, int *rfd, int *err)
{
	uint8_t buf[WIRE_MAX];
	int fds[WIRE_MAX_FDS];
	size_t nfds = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int64_t end = h_now_ms() + H_WAIT_MS;
	ssize_t len;
	Reply *r;
	int left, e;

	if (rfd != NULL)
		*rfd = -1;
	if (err == NULL)
		err = &e;
	*err = 0;
	for (;;) {
		left = (int)(end - h_now_ms());
		cr_assert(left > 0, "no reply from mmapd within %d ms",
		    H_WAIT_MS);
		if (poll(&p, 1, left) > 0)
			break;
	}
	len = wire_recv(fd, buf, sizeof(buf), fds, &nfds);
	if (len == 0 || len == -ECONNRESET || len == -EPIPE) {
		*err = (int)len;
		return NULL;
	}
	cr_assert(len > 0, "receiving a reply: %s", strerror((int)-len));
	r = mmapd__v1__reply__unpack(NULL, (size_t)len, buf);
	cr_assert(r != NULL, "a reply of %zd bytes does not decode", len);
	cr_assert(nfds <= 1, "a reply carried %zu fds", nfds);
	if (nfds == 1) {
		cr_assert(rfd != NULL, "an unexpected fd came with a reply "
		    "(error %d, body %d)", r->error, (int)r->body_case);
		*rfd = fds[0];
	}
	return r;
}

Reply *
raw_call(int fd, const Request *req, int *rfd)
{
	Reply *r;
	int err;

	raw_send(fd, req);
	r = raw_recv(fd, rfd, &err);
	cr_assert(r != NULL, "mmapd closed the connection instead of "
	    "answering (%s)", err ? strerror(-err) : "end of stream");
	cr_assert(r->request_id == req->request_id,
	    "reply to request %llu answers %llu",
	    (unsigned long long)req->request_id,
	    (unsigned long long)r->request_id);
	return r;
}

int
raw_closed(int fd, int ms)
{
	uint8_t buf[WIRE_MAX];
	int fds[WIRE_MAX_FDS];
	size_t nfds = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int64_t end = h_now_ms() + ms;
	ssize_t len;
	int left;

	for (;;) {
		left = (int)(end - h_now_ms());
		if (left <= 0)
			return 0;
		if (poll(&p, 1, left) <= 0)
			continue;
		len = wire_recv(fd, buf, sizeof(buf), fds, &nfds);
		wire_close_fds(fds, &nfds);
		if (len == 0 || len == -ECONNRESET || len == -EPIPE)
			return 1;
		if (len == -EAGAIN || len == -EINTR)
			continue;
		/* A reply, or garbage: go on reading to the end. */
	}
}

void
raw_hello(int fd)
{
	Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Hello h = MMAPD__V1__HELLO__INIT;
	Reply *r;

	h.protocol_major = 1;
	h.protocol_minor = 0;
	h.client_name = (char *)"integration-raw";
	req.request_id = 1;
	req.body_case = MMAPD__V1__REQUEST__BODY_HELLO;
	req.hello = &h;
	r = raw_call(fd, &req, NULL);
	cr_assert(r->error == 0, "Hello refused: %d %s", r->error, r->message);
	cr_assert(r->body_case == MMAPD__V1__REPLY__BODY_HELLO);
	reply_free(r);
}

Reply *
raw_map(int fd, uint64_t id, const char *device, uint64_t offset,
    uint64_t size, int shared, int write, const char *region, int *rfd)
{
	Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Map m = MMAPD__V1__MAP__INIT;

	m.device = (char *)device;
	m.offset = offset;
	m.size = size;
	m.shared = shared;
	m.write = write;
	m.region = (char *)(region ? region : "");
	req.request_id = id;
	req.body_case = MMAPD__V1__REQUEST__BODY_MAP;
	req.map = &m;
	return raw_call(fd, &req, rfd);
}

Reply *
raw_status(int fd, uint64_t id)
{
	Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Status s = MMAPD__V1__STATUS__INIT;

	req.request_id = id;
	req.body_case = MMAPD__V1__REQUEST__BODY_STATUS;
	req.status = &s;
	return raw_call(fd, &req, NULL);
}

Reply *
raw_read(int fd, uint64_t id, const char *device, uint64_t offset,
    uint32_t width)
{
	Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Read rd = MMAPD__V1__READ__INIT;

	rd.device = (char *)device;
	rd.offset = offset;
	rd.width = width;
	req.request_id = id;
	req.body_case = MMAPD__V1__REQUEST__BODY_READ;
	req.read = &rd;
	return raw_call(fd, &req, NULL);
}

Reply *
raw_write(int fd, uint64_t id, const char *device, uint64_t offset,
    uint32_t width, uint64_t value)
{
	Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Write wr = MMAPD__V1__WRITE__INIT;

	wr.device = (char *)device;
	wr.offset = offset;
	wr.width = width;
	wr.value = value;
	req.request_id = id;
	req.body_case = MMAPD__V1__REQUEST__BODY_WRITE;
	req.write = &wr;
	return raw_call(fd, &req, NULL);
}

/* The child of h_holder(): never returns. */
static void __attribute__((noreturn))
holder_run(int pipe_w, int n_leases, uint64_t size, int events)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Hello h = MMAPD__V1__HELLO__INIT;
	Mmapd__V1__Map m = MMAPD__V1__MAP__INIT;
	uint8_t buf[WIRE_MAX];
	uint64_t lease = 0;
	Reply *r;
	ssize_t n;
	size_t len;
	int fd, i;

	if (setresgid(H_NOBODY, H_NOBODY, H_NOBODY) < 0 ||
	    setresuid(H_NOBODY, H_NOBODY, H_NOBODY) < 0)
		_exit(3);
	if (strlen(h_sock()) >= sizeof(a.sun_path))
		_exit(4);
	memcpy(a.sun_path, h_sock(), strlen(h_sock()) + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		_exit(4);
	h.protocol_major = 1;
	h.events = events;
	h.client_name = (char *)"stubborn";
	m.device = (char *)"zero";
	m.size = size;
	m.region = (char *)"";
	for (i = 0; i <= n_leases; i++) {
		req.request_id = (uint64_t)i + 1;
		req.body_case = i ? MMAPD__V1__REQUEST__BODY_MAP :
		    MMAPD__V1__REQUEST__BODY_HELLO;
		if (i)
			req.map = &m;
		else
			req.hello = &h;
		len = mmapd__v1__request__pack(&req, buf);
		if (send(fd, buf, len, 0) != (ssize_t)len)
			_exit(5);
		n = recv(fd, buf, sizeof(buf), 0);
		r = n > 0 ? mmapd__v1__reply__unpack(NULL, (size_t)n, buf) :
		    NULL;
		if (r == NULL || r->error != 0)
			_exit(6);
		if (i == 1)
			lease = r->grant->lease_id;
		mmapd__v1__reply__free_unpacked(r, NULL);
	}
	if (write(pipe_w, &lease, sizeof(lease)) != sizeof(lease))
		_exit(7);
	/* Told to release (any event waits unread): never does. */
	for (;;)
		pause();
}

pid_t
h_holder(uint64_t *lease, int n_leases, uint64_t size, int events)
{
	int p[2];
	pid_t pid;

	cr_assert_eq(pipe(p), 0);
	pid = fork();
	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		close(p[0]);
		holder_run(p[1], n_leases, size, events);
	}
	h_track(pid);
	close(p[1]);
	cr_assert_eq(read(p[0], lease, sizeof(*lease)),
	    (ssize_t)sizeof(*lease), "the holder got no lease");
	close(p[0]);
	return pid;
}

Reply *
raw_modify(int fd, uint64_t id, const char *device, uint64_t offset,
    uint32_t width, uint64_t clear, uint64_t set)
{
	Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Modify md = MMAPD__V1__MODIFY__INIT;

	md.device = (char *)device;
	md.offset = offset;
	md.width = width;
	md.clear = clear;
	md.set = set;
	req.request_id = id;
	req.body_case = MMAPD__V1__REQUEST__BODY_MODIFY;
	req.modify = &md;
	return raw_call(fd, &req, NULL);
}

void
reply_free(Reply *r)
{
	if (r != NULL)
		mmapd__v1__reply__free_unpacked(r, NULL);
}

/* ----------------------------------------------------------------------
 * mmapctl
 * ---------------------------------------------------------------------- */

static int
in_path(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];
	const char *p, *e;

	if (path == NULL)
		path = "/usr/bin:/bin:/usr/sbin:/sbin";
	for (p = path; *p; p = *e ? e + 1 : e) {
		e = p + strcspn(p, ":");
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)(e - p), p, prog);
		if (access(buf, X_OK) == 0)
			return 1;
	}
	return 0;
}

void
ctl_need_nobody(void)
{
	const char *bin = mmapctl_bin();
	char libs[PATH_MAX], *slash;
	pid_t pid;
	int st;

	if (geteuid() != 0) {
		h_cleanup();
		cr_skip_test("not root: cannot run mmapctl as uid %d",
		    H_NOBODY);
	}
	if (!in_path("setpriv")) {
		h_cleanup();
		cr_skip_test("setpriv (util-linux) is not in PATH: cannot run "
		    "mmapctl as uid %d", H_NOBODY);
	}
	/*
	 * The build tree must be readable by uid 65534: the libtool wrapper
	 * script and .libs/ beside it.
	 */
	snprintf(libs, sizeof(libs), "%s", bin);
	slash = strrchr(libs, '/');
	if (slash != NULL)
		snprintf(slash + 1, sizeof(libs) - (size_t)(slash + 1 - libs),
		    ".libs");
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 ||
		    setresgid(H_NOBODY, H_NOBODY, H_NOBODY) < 0 ||
		    setresuid(H_NOBODY, H_NOBODY, H_NOBODY) < 0)
			_exit(2);
		if (access(bin, R_OK | X_OK) < 0)
			_exit(1);
		if (access(libs, F_OK) == 0 && access(libs, R_OK | X_OK) < 0)
			_exit(1);
		_exit(0);
	}
	st = h_wait(pid, H_WAIT_MS);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		h_cleanup();
		cr_skip_test("uid %d cannot run %s (the build tree is not "
		    "readable by it)", H_NOBODY, bin);
	}
}

/* prog NULL: mmapctl --socket SOCK; else prog as it is. */
static pid_t
ctl_fork_prog(const char *prog, int who, const char *const *args,
    const char *out, const char *err)
{
	const char *bin = prog ? prog : mmapctl_bin();
	static char groups[512];
	char *argv[64];
	size_t n = 0;
	pid_t pid;
	int ofd, efd;

	if (who == CTL_NOBODY || who == CTL_NOBODY_70) {
		argv[n++] = (char *)"setpriv";
		argv[n++] = (char *)"--reuid=65534";
		argv[n++] = (char *)"--regid=65534";
		if (who == CTL_NOBODY) {
			argv[n++] = (char *)"--clear-groups";
		} else {
			size_t k = strlen("--groups=");
			int g;

			memcpy(groups, "--groups=", k);
			for (g = 1001; g <= 1070; g++)
				k += (size_t)snprintf(groups + k,
				    sizeof(groups) - k, "%s%d",
				    g > 1001 ? "," : "", g);
			argv[n++] = groups;
		}
	}
	argv[n++] = (char *)bin;
	if (prog == NULL) {
		argv[n++] = (char *)"--socket";
		argv[n++] = (char *)h_sock();
	}
	for (; *args != NULL && n < 63; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;

	ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	efd = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert(ofd >= 0 && efd >= 0, "open %s: %s", out, strerror(errno));
	pid = fork();
	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		child_prepare(ofd, efd, NULL, 0);
		execvp(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(ofd);
	close(efd);
	h_track(pid);
	return pid;
}

static int
status_code(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 255;
}

void
ctl_run_v(struct ctl *r, int who, const char *const *args)
{
	h_run_v(r, NULL, who, args);
}

void
h_run_v(struct ctl *r, const char *prog, int who, const char *const *args)
{
	char out[256], err[256];
	unsigned int seq = ++H.seq;
	pid_t pid;
	int st;

	snprintf(out, sizeof(out), "%s/ctl-%u.out", h_dir(), seq);
	snprintf(err, sizeof(err), "%s/ctl-%u.err", h_dir(), seq);
	pid = ctl_fork_prog(prog, who, args, out, err);
	st = h_wait(pid, H_WAIT_MS);
	if (st == -1) {
		kill(pid, SIGKILL);
		h_wait(pid, H_WAIT_MS);
	}
	r->out = slurp(out);
	r->err = slurp(err);
	keep(r->out);
	keep(r->err);
	cr_assert(st != -1, "%s %s did not end within %d ms; stdout:\n%s\n"
	    "stderr:\n%s", prog ? prog : "mmapctl", args[0] ? args[0] : "",
	    H_WAIT_MS, r->out, r->err);
	r->status = status_code(st);
}

void
ctl_free(struct ctl *r)
{
	unkeep(r->out);
	unkeep(r->err);
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

void
ctl_spawn_v(struct ctl_bg *b, int who, const char *const *args)
{
	h_spawn_v(b, NULL, who, args);
}

void
h_spawn_v(struct ctl_bg *b, const char *prog, int who,
    const char *const *args)
{
	unsigned int seq = ++H.seq;

	snprintf(b->out, sizeof(b->out), "%s/ctl-%u.out", h_dir(), seq);
	snprintf(b->err, sizeof(b->err), "%s/ctl-%u.err", h_dir(), seq);
	b->pid = ctl_fork_prog(prog, who, args, b->out, b->err);
}

void
ctl_bg_wait(struct ctl_bg *b, const char *needle)
{
	int64_t end = h_now_ms() + H_WAIT_MS;
	char *out, *err;
	int st, done = 0;

	for (;;) {
		out = slurp(b->out);
		if (strstr(out, needle) != NULL) {
			free(out);
			return;
		}
		if (done || h_now_ms() >= end)
			break;
		free(out);
		if (waitpid(b->pid, &st, WNOHANG) == b->pid) {
			h_untrack(b->pid);
			b->pid = 0;
			done = 1;	/* one more look at what it wrote */
			continue;
		}
		h_sleep_ms(10);
	}
	err = slurp(b->err);
	cr_assert_fail("mmapctl %s before printing \"%s\"; stdout:\n%s\n"
	    "stderr:\n%s", done ? "ended" : "did not get there within 5 s",
	    needle, out, err);
}

void
ctl_bg_stop(struct ctl_bg *b, int sig, struct ctl *r)
{
	int st = 0;

	cr_assert(b->pid > 0, "mmapctl is not running");
	kill(b->pid, sig);
	st = h_wait(b->pid, H_WAIT_MS);
	if (st == -1) {
		kill(b->pid, SIGKILL);
		h_wait(b->pid, H_WAIT_MS);
	}
	b->pid = 0;
	r->out = slurp(b->out);
	r->err = slurp(b->err);
	keep(r->out);
	keep(r->err);
	cr_assert(st != -1, "mmapctl did not end within %d ms of signal %d; "
	    "stdout:\n%s\nstderr:\n%s", H_WAIT_MS, sig, r->out, r->err);
	r->status = status_code(st);
}
