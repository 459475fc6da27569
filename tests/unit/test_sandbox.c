#include "config.h"

/*
 * The sandbox: the seccomp allow-list and the privilege drop, each in a
 * child of its own, since neither can be undone.
 *
 * A forbidden call must kill the child with SIGSYS, and must not have
 * happened (the file it would create is not there); an allowed one must
 * work under the filter; --seccomp=log lets the forbidden call through.
 * The drop runs to user nobody (every Debian system has it) when the
 * tests run as root, and /proc/self/status is read back: no capability
 * in any set, no_new_privs, the filter, the uid and gid, no groups.
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <grp.h>

#include <criterion/criterion.h>

#include "devices.h"
#include "engine.h"
#include "sandbox.h"
#include "helpers.h"

#define NOBODY		65534
#define WAIT_MS		10000

TestSuite(sandbox, .timeout = 30);

/* Exit codes of a child: 0 when all went as it should. */
enum {
	C_OK = 0,
	C_SETUP = 90,		/* the sandbox could not be set up */
	C_FAILED,		/* an allowed call failed */
	C_WRONG,		/* an allowed call did something else */
	C_ALIVE,		/* a forbidden call returned */
};

static int
wait_child(pid_t pid)
{
	int st, i;
	pid_t r;

	for (i = 0; i < WAIT_MS / 5; i++) {
		r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return st;
		cr_assert(r == 0, "waitpid: %s", strerror(errno));
		usleep(5000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	cr_assert_fail("the child did not end within %d ms", WAIT_MS);
	return -1;
}

static const char *
status_text(int st)
{
	static char buf[96];

	if (WIFEXITED(st))
		snprintf(buf, sizeof(buf), "exit status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, sizeof(buf), "signal %d (%s)", WTERMSIG(st),
		    strsignal(WTERMSIG(st)));
	else
		snprintf(buf, sizeof(buf), "wait status %#x", st);
	return buf;
}

/*
 * The filter alone, as when mmapd does not start as root: no_new_privs,
 * then the allow-list; then fn.  The child's wait status.
 */
static int
filtered(enum sandbox_action act, int (*fn)(void))
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    sandbox_filter(act) < 0)
			_exit(C_SETUP);
		/* _exit: no atexit handler runs under the filter. */
		_exit(fn());
	}
	return wait_child(pid);
}

static void
expect_sigsys(int (*fn)(void), const char *what)
{
	int st = filtered(SANDBOX_KILL, fn);

	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS,
	    "%s under the filter: %s, not SIGSYS", what, status_text(st));
}

static void
expect_ok(enum sandbox_action act, int (*fn)(void), const char *what)
{
	int st = filtered(act, fn);

	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == C_OK,
	    "%s under the filter: %s", what, status_text(st));
}

/* ---------------------------------------------------------------------
 * Forbidden calls: SIGSYS
 * --------------------------------------------------------------------- */

/*
 * A path that does not exist: were execve allowed it would fail with
 * ENOENT and the child live on, so only the filter can kill it here
 * (an existing binary would die of SIGSYS in its loader's mmap of
 * PROT_EXEC whether or not execve itself were allowed).
 */
static int
do_execve(void)
{
	char *const argv[] = { (char *)"none", NULL };
	char *const envp[] = { NULL };

	execve("/nonexistent/mmapd-sandbox-test", argv, envp);
	return C_ALIVE;
}

Test(sandbox, execve_is_killed)
{
	expect_sigsys(do_execve, "execve");
}

static char new_file[64];

static int
do_create(void)
{
	if (open(new_file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600) >= 0)
		return C_ALIVE;
	return C_ALIVE;
}

Test(sandbox, open_for_writing_is_killed)
{
	int fd;

	snprintf(new_file, sizeof(new_file), "/tmp/mmapd-sandbox.XXXXXX");
	fd = mkstemp(new_file);
	cr_assert(fd >= 0, "mkstemp: %s", strerror(errno));
	close(fd);
	cr_assert_eq(unlink(new_file), 0);

	expect_sigsys(do_create, "open(O_WRONLY | O_CREAT) of a new file");
	cr_assert(access(new_file, F_OK) < 0 && errno == ENOENT,
	    "%s was created", new_file);
}

static int
do_open_rdwr(void)
{
	open("/dev/null", O_RDWR | O_CLOEXEC);
	return C_ALIVE;
}

static int
do_open_trunc(void)
{
	open("/dev/null", O_RDONLY | O_TRUNC | O_CLOEXEC);
	return C_ALIVE;
}

Test(sandbox, open_read_write_or_truncate_is_killed)
{
	expect_sigsys(do_open_rdwr, "open(O_RDWR) of /dev/null");
	expect_sigsys(do_open_trunc, "open(O_RDONLY | O_TRUNC)");
}

static int
do_socket_inet(void)
{
	socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	return C_ALIVE;
}

Test(sandbox, socket_af_inet_is_killed)
{
	expect_sigsys(do_socket_inet, "socket(AF_INET)");
}

static void *page;

static int
do_mprotect_exec(void)
{
	mprotect(page, 4096, PROT_READ | PROT_EXEC);
	return C_ALIVE;
}

Test(sandbox, mprotect_exec_is_killed)
{
	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert(page != MAP_FAILED);
	expect_sigsys(do_mprotect_exec, "mprotect(PROT_EXEC)");
	munmap(page, 4096);
}

static int
do_mmap_exec(void)
{
	mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	return C_ALIVE;
}

Test(sandbox, mmap_exec_is_killed)
{
	expect_sigsys(do_mmap_exec, "mmap(PROT_EXEC)");
}

static int
do_ioctl_other(void)
{
	int n = 0;

	/* FIONREAD: harmless, but not one libuv needs. */
	ioctl(0, FIONREAD, &n);
	return C_ALIVE;
}

Test(sandbox, other_ioctls_are_killed)
{
	expect_sigsys(do_ioctl_other, "ioctl(FIONREAD)");
}

/* ---------------------------------------------------------------------
 * What mmapd does: allowed
 * --------------------------------------------------------------------- */

/*
 * The engine and /dev/zero, opened before the filter as mmapd opens its
 * devices before it; the child inherits them.
 */
static struct map_engine zeng;
static struct map_device zdev;

static void
zero_open(void)
{
	engine_open_zero(&zeng);
	cr_assert_eq(zero_device_open(&zdev, "/dev/zero", O_RDWR), 0);
}

static void
zero_close(void)
{
	map_device_close(&zdev);
	engine_close(&zeng);
}

/*
 * A shared zero map made by engine_map() itself, so that this list and
 * the engine's system calls cannot drift apart; its fd mapped, and
 * opened again read-only as shm.c's shm_open_for() does (shm.c cannot
 * be linked here without the whole session).  The memfd's read-write
 * fd is mapped writable; the read-only one sees what was written.
 */
static int
memfd_by_engine(size_t size)
{
	struct map_request req = {
		.dev = &zdev, .offset = 0, .size = size,
		.flags = MAP_DESC_SHARED | MAP_DESC_WRITE,
		.cache = MAP_CACHE_DEFAULT,
		.peer = { .uid = 1000, .gid = 100, .pid = 4242 },
	};
	struct map_result res;
	char path[64];
	uint8_t *p;
	int ro;

	if (engine_map(&zeng, &req, &res) < 0 || res.kind != MAP_KIND_SHMEM)
		return C_FAILED;
	/* The seals hold: the size is fixed. */
	if (ftruncate(res.fd, (off_t)size * 2) == 0 || errno != EPERM)
		return C_WRONG;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, res.fd, 0);
	if (p == MAP_FAILED)
		return C_FAILED;
	memset(p, 0x5a, size);
	if (munmap(p, size) < 0)
		return C_FAILED;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", res.fd);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	if (ro < 0)
		return C_FAILED;
	p = mmap(NULL, size, PROT_READ, MAP_SHARED, ro, 0);
	if (p == MAP_FAILED || p[size - 1] != 0x5a)
		return C_WRONG;
	if (fcntl(ro, F_DUPFD_CLOEXEC, 0) < 0)
		return C_FAILED;
	engine_result_close(&res);
	return C_OK;
}

static int
do_memfd(void)
{
	return memfd_by_engine(65536);
}

Test(sandbox, memfd_seals_and_mappings_work)
{
	zero_open();
	expect_ok(SANDBOX_KILL, do_memfd, "a sealed memfd, mapped");
	zero_close();
}

static int
do_unix_socket(void)
{
	int fd;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return C_FAILED;
	return close(fd) < 0 ? C_FAILED : C_OK;
}

Test(sandbox, unix_socket_works)
{
	expect_ok(SANDBOX_KILL, do_unix_socket, "socket(AF_UNIX)");
}

/* A reload: the policy file, read-only; and the filter is in place. */
static char data_file[4096];

static int
do_read_only_open(void)
{
	char buf[4096];
	ssize_t n;
	struct stat st;
	int fd;

	fd = open(data_file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) < 0)
		return C_FAILED;
	n = read(fd, buf, sizeof(buf));
	if (n <= 0 || lseek(fd, 0, SEEK_SET) != 0)
		return C_FAILED;
	close(fd);

	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return C_FAILED;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return C_FAILED;
	buf[n] = '\0';
	if (strstr(buf, "\nNoNewPrivs:\t1\n") == NULL ||
	    strstr(buf, "\nSeccomp:\t2\n") == NULL)
		return C_WRONG;
	return C_OK;
}

Test(sandbox, read_only_open_works)
{
	data_path(data_file, sizeof(data_file), "policy-full.conf");
	expect_ok(SANDBOX_KILL, do_read_only_open, "a read-only open");
}

/* ---------------------------------------------------------------------
 * --seccomp=log: logged, not killed
 * --------------------------------------------------------------------- */

static int
do_forbidden_then_exit(void)
{
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return C_FAILED;
	close(fd);
	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED ||
	    mprotect(page, 4096, PROT_READ | PROT_EXEC) < 0)
		return C_FAILED;
	return C_OK;
}

Test(sandbox, log_mode_lets_forbidden_calls_run)
{
	expect_ok(SANDBOX_LOG, do_forbidden_then_exit,
	    "socket(AF_INET) and mprotect(PROT_EXEC) in log mode");
	/* The same calls in kill mode: the first one kills. */
	expect_sigsys(do_forbidden_then_exit, "the same in kill mode");
}

Test(sandbox, action_parse)
{
	enum sandbox_action a = SANDBOX_LOG;

	cr_assert_eq(sandbox_action_parse("kill", &a), 0);
	cr_assert_eq(a, SANDBOX_KILL);
	cr_assert_eq(sandbox_action_parse("log", &a), 0);
	cr_assert_eq(a, SANDBOX_LOG);
	cr_assert_eq(sandbox_action_parse("allow", &a), -EINVAL);
	cr_assert_eq(sandbox_action_parse("", &a), -EINVAL);
	cr_assert_eq(sandbox_action_parse("KILL", &a), -EINVAL);
}

/* ---------------------------------------------------------------------
 * The user
 * --------------------------------------------------------------------- */

Test(sandbox, user_find)
{
	struct sandbox_user u;

	cr_assert_eq(sandbox_user_find("nobody", &u), 0);
	cr_assert_str_eq(u.name, "nobody");
	cr_assert_eq(u.uid, NOBODY);
	cr_assert_eq(u.gid, NOBODY);
	/* A number names the user with that uid. */
	cr_assert_eq(sandbox_user_find("65534", &u), 0);
	cr_assert_str_eq(u.name, "nobody");
	cr_assert_eq(sandbox_user_find("mmapd-no-such-user", &u), -ENOENT);
	cr_assert_eq(sandbox_user_find("", &u), -ENOENT);
	/* Root drops nothing: refused. */
	cr_assert_eq(sandbox_user_find("root", &u), -EPERM);
	cr_assert_eq(sandbox_user_find("0", &u), -EPERM);
}

/* ---------------------------------------------------------------------
 * The drop
 * --------------------------------------------------------------------- */

/* The value of a "Key:\t..." line of status, or "" when absent. */
static const char *
status_field(const char *status, const char *key, char *buf, size_t len)
{
	char want[64];
	const char *p;
	size_t n;

	snprintf(want, sizeof(want), "\n%s:\t", key);
	p = strstr(status, want);
	if (p == NULL)
		return "";
	p += strlen(want);
	n = strcspn(p, "\n");
	if (n >= len)
		n = len - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}

/* Between the drop and the filter: root is gone for good. */
static int
before_filter(void)
{
	if (setuid(0) == 0 || errno != EPERM)
		return C_WRONG;
	if (setgid(0) == 0 || errno != EPERM)
		return C_WRONG;
	return C_OK;
}

/*
 * Under the filter: not dumpable, yet /proc/self/fd/N still opens a
 * memfd of our own, as session.c's shm_open_for() needs for a
 * read-only grant.
 */
static int
after_filter(void)
{
	return memfd_by_engine(4096);
}

/* Groups root holds before the drop: disk and video, say. */
static const gid_t drop_groups[] = { 6, 44 };

/*
 * In a child: the drop as mmapd makes it (to u, or none when u is
 * NULL), before_filter(), the filter, after_filter(); then the dumpable
 * flag from before the filter into *dumpablep and /proc/self/status
 * into status.  The child's wait status.
 */
static int
dropped(const struct sandbox_user *u, uid_t pre_uid, char *status,
    size_t len, int *dumpablep)
{
	int p[2], code, fd, st;
	size_t off = 0;
	ssize_t n;
	pid_t pid;

	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	fflush(NULL);
	pid = fork();
	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		char buf[4096];
		int dumpable;

		close(p[0]);
		/* Not root, as a developer runs it: the uid it keeps. */
		if (pre_uid != 0 && (setresgid(pre_uid, pre_uid, pre_uid) < 0 ||
		    setresuid(pre_uid, pre_uid, pre_uid) < 0))
			_exit(C_SETUP);
		/*
		 * Root with supplementary groups, as under a login shell or
		 * sudo: the drop must clear them (the test environment's
		 * root has none, so without these a drop that skipped
		 * setgroups would pass).
		 */
		if (pre_uid == 0 && setgroups(2, drop_groups) < 0)
			_exit(C_SETUP);
		if (sandbox_drop(u) < 0)
			_exit(C_SETUP);
		code = before_filter();
		dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
		if (sandbox_filter(SANDBOX_KILL) < 0)
			_exit(C_SETUP);
		if (code == C_OK)
			code = after_filter();
		if (write(p[1], &dumpable, sizeof(dumpable)) !=
		    (ssize_t)sizeof(dumpable))
			_exit(C_FAILED);
		fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			_exit(C_FAILED);
		n = read(fd, buf, sizeof(buf));
		if (n <= 0 || write(p[1], buf, (size_t)n) != n)
			_exit(C_FAILED);
		_exit(code);
	}
	close(p[1]);
	if (read(p[0], dumpablep, sizeof(*dumpablep)) !=
	    (ssize_t)sizeof(*dumpablep))
		*dumpablep = -1;
	while (off + 1 < len &&
	    (n = read(p[0], status + off, len - 1 - off)) > 0)
		off += (size_t)n;
	status[off] = '\0';
	close(p[0]);
	st = wait_child(pid);
	return st;
}

Test(sandbox, drop_to_nobody)
{
	struct sandbox_user u;
	char status[4096], f[128];
	int st, dumpable;

	if (geteuid() != 0)
		cr_skip_test("not root: there is no user to change to");
	cr_assert_eq(sandbox_user_find("nobody", &u), 0);
	zero_open();
	st = dropped(&u, 0, status, sizeof(status), &dumpable);
	zero_close();
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == C_OK,
	    "the child: %s; its status:\n%s", status_text(st), status);
	/* No other process of nobody may ptrace it or take its fds. */
	cr_assert_eq(dumpable, 0, "dumpable after the drop: %d", dumpable);

	cr_assert_str_eq(status_field(status, "Uid", f, sizeof(f)),
	    "65534\t65534\t65534\t65534");
	cr_assert_str_eq(status_field(status, "Gid", f, sizeof(f)),
	    "65534\t65534\t65534\t65534");
	/* No supplementary groups: the line holds nothing but a space. */
	cr_assert_str_eq(status_field(status, "Groups", f, sizeof(f)), " ");
	cr_assert_str_eq(status_field(status, "CapInh", f, sizeof(f)),
	    "0000000000000000");
	cr_assert_str_eq(status_field(status, "CapPrm", f, sizeof(f)),
	    "0000000000000000");
	cr_assert_str_eq(status_field(status, "CapEff", f, sizeof(f)),
	    "0000000000000000");
	cr_assert_str_eq(status_field(status, "CapBnd", f, sizeof(f)),
	    "0000000000000000");
	cr_assert_str_eq(status_field(status, "CapAmb", f, sizeof(f)),
	    "0000000000000000");
	cr_assert_str_eq(status_field(status, "NoNewPrivs", f, sizeof(f)),
	    "1");
	cr_assert_str_eq(status_field(status, "Seccomp", f, sizeof(f)), "2");
}

/*
 * Not root: the uid stays, no_new_privs and the filter still come, and
 * the capabilities it holds go (here: none, the bounding set full).
 */
Test(sandbox, drop_when_not_root)
{
	char status[4096], f[128];
	int st, dumpable;

	if (geteuid() != 0)
		cr_skip_test("not root: cannot become another user first");
	zero_open();
	st = dropped(NULL, NOBODY - 1, status, sizeof(status), &dumpable);
	zero_close();
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == C_OK,
	    "the child: %s; its status:\n%s", status_text(st), status);
	cr_assert_str_eq(status_field(status, "Uid", f, sizeof(f)),
	    "65533\t65533\t65533\t65533");
	cr_assert_str_eq(status_field(status, "CapEff", f, sizeof(f)),
	    "0000000000000000");
	cr_assert_str_eq(status_field(status, "CapPrm", f, sizeof(f)),
	    "0000000000000000");
	cr_assert_str_eq(status_field(status, "NoNewPrivs", f, sizeof(f)),
	    "1");
	cr_assert_str_eq(status_field(status, "Seccomp", f, sizeof(f)), "2");
}

/* Root with no user to become: sandbox_drop refuses to do half a drop. */
Test(sandbox, drop_as_root_needs_a_user)
{
	struct sandbox_user root = { .name = "root", .uid = 0, .gid = 0 };

	if (geteuid() != 0)
		cr_skip_test("not root");
	cr_assert_eq(sandbox_drop(NULL), -EINVAL);
	cr_assert_eq(sandbox_drop(&root), -EINVAL);
	/* Nothing changed. */
	cr_assert_eq(geteuid(), 0);
	cr_assert_eq(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 0);
}
