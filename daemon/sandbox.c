/*
 * The sandbox: the privilege drop, then the seccomp allow-list.
 *
 * main.c runs both once the policy is read, every device it names is
 * open and the socket listens (server.c's ready hook), in that order:
 * the drop needs setgroups, setresuid and prctl, which the filter then
 * forbids.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <seccomp.h>

#include "log.h"
#include "nss.h"
#include "sandbox.h"
#include "sandbox-int.h"

/* asm-generic/socket.h, Linux 6.16; glibc's headers may not have it. */
#ifndef SO_PASSRIGHTS
#define SO_PASSRIGHTS	83
#endif

/* Built with ASan (and LSan): see allow_sanitizer below. */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_SANITIZERS	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_SANITIZERS	1
#endif
#endif

int
sandbox_action_parse(const char *s, enum sandbox_action *out)
{
	if (strcmp(s, "kill") == 0)
		*out = SANDBOX_KILL;
	else if (strcmp(s, "log") == 0)
		*out = SANDBOX_LOG;
	else
		return -EINVAL;
	return 0;
}

/* ---------------------------------------------------------------------
 * The user
 * --------------------------------------------------------------------- */

/*
 * By name, else, for digits only, by uid: "65534" names nobody as well.
 * Root is refused: dropping to it would drop nothing.
 */
int
sandbox_user_find(const char *name, struct sandbox_user *u)
{
	struct nss_user nu;
	unsigned long id;
	char *end;
	int rc;

	memset(u, 0, sizeof(*u));
	if (*name == '\0' || strlen(name) >= sizeof(u->name))
		return -ENOENT;
	rc = nss_user_by_name(name, &nu);
	if (rc == -ENOENT && name[strspn(name, "0123456789")] == '\0') {
		errno = 0;
		id = strtoul(name, &end, 10);
		if (errno == 0 && *end == '\0' && id < UINT32_MAX)
			rc = nss_user_by_uid((uid_t)id, &nu);
	}
	if (rc < 0)
		return rc;
	snprintf(u->name, sizeof(u->name), "%s", nu.name);
	u->uid = nu.uid;
	u->gid = nu.gid;
	return u->uid == 0 ? -EPERM : 0;
}

/* ---------------------------------------------------------------------
 * Capabilities
 * --------------------------------------------------------------------- */

/*
 * Empty the bounding set.  A capability that cannot be dropped (EPERM:
 * CAP_SETPCAP is gone) is counted in *left; a capability already out of
 * the set needs nothing.
 */
static int
caps_bound_drop(unsigned int *left)
{
	unsigned long cap;
	int r;

	*left = 0;
	/* PR_CAPBSET_READ says EINVAL past the kernel's last capability. */
	for (cap = 0;; cap++) {
		r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
		if (r < 0)
			return errno == EINVAL && cap > 0 ? 0 : -errno;
		if (r == 0)
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0)
			continue;
		if (errno != EPERM)
			return -errno;
		(*left)++;
	}
}

static int
caps_bound_count(void)
{
	unsigned long cap;
	int r, n = 0;

	for (cap = 0;; cap++) {
		r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
		if (r < 0)
			return errno == EINVAL && cap > 0 ? n : -errno;
		n += r;
	}
}

/* Effective, permitted, inheritable and ambient: all empty. */
static int
caps_clear(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) < 0)
		return -errno;
	/* Ambient capabilities go with permitted ones; EINVAL: none here. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL)
		return -errno;
	return 0;
}

static int
caps_none(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	size_t i;

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	for (i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (data[i].effective || data[i].permitted ||
		    data[i].inheritable)
			return 0;
	return 1;
}

/* ---------------------------------------------------------------------
 * The drop
 * --------------------------------------------------------------------- */

/* What the drop promised, read back from the kernel. */
static int
drop_verify(const struct sandbox_user *u)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	int n;

	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
		return -errno;
	if (ru != u->uid || eu != u->uid || su != u->uid ||
	    rg != u->gid || eg != u->gid || sg != u->gid) {
		log_err("sandbox: uids %u/%u/%u and gids %u/%u/%u after the "
		    "drop, not %u and %u", (unsigned)ru, (unsigned)eu,
		    (unsigned)su, (unsigned)rg, (unsigned)eg, (unsigned)sg,
		    (unsigned)u->uid, (unsigned)u->gid);
		return -EPERM;
	}
	n = getgroups(0, NULL);
	if (n != 0) {
		log_err("sandbox: %d supplementary groups left after the drop",
		    n);
		return n < 0 ? -errno : -EPERM;
	}
	if (caps_none() != 1 || caps_bound_count() != 0) {
		log_err("sandbox: capabilities left after the drop");
		return -EPERM;
	}
	/* The classic check: root must be out of reach for good. */
	if (setresuid(0, 0, 0) == 0 || setresgid(0, 0, 0) == 0) {
		log_err("sandbox: could become root again after the drop");
		return -EPERM;
	}
	return 0;
}

static int
no_new_privs(void)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return -EPERM;
	return 0;
}

/* Not started as root: no user to change to, but what can go, goes. */
static int
drop_unprivileged(void)
{
	unsigned int left;
	int err;

	log_info("sandbox: not started as root: keeps running as uid %u "
	    "(gid %u)", (unsigned)geteuid(), (unsigned)getegid());
	err = caps_bound_drop(&left);
	if (err == 0)
		err = caps_clear();
	if (err == 0)
		err = no_new_privs();
	if (err) {
		log_err("sandbox: cannot drop capabilities or set "
		    "no_new_privs: %s", strerror(-err));
		return err;
	}
	if (left > 0)
		log_info("sandbox: %u capabilities stay in the bounding set "
		    "(dropping them needs CAP_SETPCAP); no_new_privs keeps "
		    "them out of reach", left);
	return 0;
}

int
sandbox_drop(const struct sandbox_user *u)
{
	unsigned int left;
	int err;

	if (geteuid() != 0)
		return drop_unprivileged();
	if (u == NULL || u->uid == 0)
		return -EINVAL;

	if (setgroups(0, NULL) < 0) {
		err = -errno;
		log_err("sandbox: cannot clear the supplementary groups: %s",
		    strerror(-err));
		return err;
	}
	if (setresgid(u->gid, u->gid, u->gid) < 0) {
		err = -errno;
		log_err("sandbox: cannot change to gid %u: %s",
		    (unsigned)u->gid, strerror(-err));
		return err;
	}
	/* Dropping from the bounding set needs CAP_SETPCAP: still root. */
	err = caps_bound_drop(&left);
	if (err == 0 && left > 0)
		err = -EPERM;
	if (err) {
		log_err("sandbox: cannot empty the capability bounding set "
		    "(%u left): %s", left, strerror(-err));
		return err;
	}
	/* setresuid() away from 0 then clears every capability we hold. */
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0 ||
	    setresuid(u->uid, u->uid, u->uid) < 0) {
		err = -errno;
		log_err("sandbox: cannot change to user %s (uid %u): %s",
		    u->name, (unsigned)u->uid, strerror(-err));
		return err;
	}
	err = caps_clear();
	if (err == 0)
		err = no_new_privs();
	if (err) {
		log_err("sandbox: cannot drop capabilities or set "
		    "no_new_privs: %s", strerror(-err));
		return err;
	}
	err = drop_verify(u);
	if (err)
		return err;
	/*
	 * The process is not dumpable now (setresuid away from root made it
	 * so), and it stays that way: another process of the same user must
	 * not ptrace it or take its device fds (pidfd_getfd, /proc/PID/fd).
	 * Nothing here needs it dumpable.  shm.c's shm_open_for() still
	 * reopens a memfd through /proc/self/fd/N: the kernel lets a process
	 * into its own fd folder whatever its dumpable flag
	 * (proc_fd_permission()), and the memfd is this user's own, made
	 * after the drop.  LeakSanitizer, in a sanitizer build, makes the
	 * process dumpable itself for its exit check (prctl, which the
	 * sanitizer part of the allow-list permits).
	 */
	log_info("sandbox: running as %s (uid %u, gid %u), no supplementary "
	    "groups, no capabilities, no_new_privs", u->name,
	    (unsigned)u->uid, (unsigned)u->gid);
	return 0;
}

/* ---------------------------------------------------------------------
 * The allow-list
 *
 * What mmapd does once set up, read off strace -f of the daemon under
 * the whole integration suite (and checked with --seccomp=log), group by
 * group; a few calls no test reaches are listed for a path that needs
 * them, and say which.  Anything else kills the process with SIGSYS, or
 * under --seccomp=log is logged by the kernel (audit type=1326, in dmesg
 * or the journal) and allowed: that is how to find what a change needs.
 * Written for x86_64; another architecture may need a call or two more
 * (unlinkat for unlink, say), which --seccomp=log shows.
 * --------------------------------------------------------------------- */

static const int allow_plain[] = {
	/* The loop (libuv): epoll, its signal pipe. */
	SCMP_SYS(epoll_wait),
	SCMP_SYS(epoll_pwait),		/* libuv >= 1.45, and arm64 */
	SCMP_SYS(epoll_ctl),
	SCMP_SYS(read),
	SCMP_SYS(write),		/* and the log, on stderr */

	/* Clients: SOCK_SEQPACKET, fds in SCM_RIGHTS (getsockopt below). */
	SCMP_SYS(accept4),
	SCMP_SYS(recvmsg),
	SCMP_SYS(sendmsg),
	SCMP_SYS(close),
	/* The reaper thread (reaper.c) waits on a condition variable. */
	SCMP_SYS(futex),

	/*
	 * Unix sockets of our own (socket below: AF_UNIX only): sd_notify's
	 * datagram, and NSS asking nscd or systemd-userdb during a reload's
	 * user and group lookups.
	 */
	SCMP_SYS(connect),
	SCMP_SYS(sendto),
	SCMP_SYS(recvfrom),
	SCMP_SYS(readv),
	SCMP_SYS(poll),
	SCMP_SYS(ppoll),

	/* Memory: malloc, and unmapping what was probed (mmap below). */
	SCMP_SYS(brk),
	SCMP_SYS(munmap),
	SCMP_SYS(mremap),

	/* Shared zero memory: a sealed memfd (fcntl below). */
	SCMP_SYS(memfd_create),
	SCMP_SYS(ftruncate),
	SCMP_SYS(fchmod),

	/*
	 * Reading files: those opened read-only (openat below), and the
	 * /proc/iomem fd kept from start-up, read again from 0 at each map.
	 */
	SCMP_SYS(newfstatat),
	SCMP_SYS(fstat),
	SCMP_SYS(lseek),
	/*
	 * nss-systemd, for a name /etc/passwd or /etc/group lacks: it walks
	 * the userdb folders (symlinks resolved by hand) and lists them.
	 */
	SCMP_SYS(readlinkat),
	SCMP_SYS(getdents64),

	/* Clocks, where the vDSO cannot answer. */
	SCMP_SYS(clock_gettime),
	SCMP_SYS(gettimeofday),
	SCMP_SYS(time),

	/*
	 * Signals: libuv's handlers and masks, regs.c's SIGBUS guard and its
	 * siglongjmp, raise() (tgkill below) for a fault that is not ours.
	 */
	SCMP_SYS(rt_sigreturn),
	SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigaction),
	SCMP_SYS(restart_syscall),
	SCMP_SYS(getpid),
	SCMP_SYS(gettid),
	SCMP_SYS(geteuid),		/* for a log line */
	/* libsystemd's sd_notify() asks who it is before each message. */
	SCMP_SYS(getuid),
	SCMP_SYS(getgid),
	SCMP_SYS(getegid),

	/* Exit: the socket file goes, where this user may remove it. */
	SCMP_SYS(unlink),
	SCMP_SYS(exit_group),
};

/*
 * What the sanitizer runtimes do on top, only in a sanitizer build
 * (configure --enable-sanitizers; the tests run under it too), never in
 * mmapd as installed.  LeakSanitizer's check at exit stops the world
 * from a clone of the process, which lists /proc/self/task, ptraces each
 * thread and waits for it while the process waits for the clone; a
 * report (leak, ASan or UBSan) reads /proc/self/maps and the binary to
 * name the code.  The runtimes make these calls themselves: open, not
 * openat; getdents, not getdents64 (and see TCGETS below).  Found by
 * running a leak, a heap overflow and a UBSan error under the filter.
 */
#ifdef SANDBOX_SANITIZERS
static const int allow_sanitizer[] = {
	SCMP_SYS(clone),		/* the tracer */
	SCMP_SYS(prctl),		/* PR_SET_PTRACER, PR_SET_DUMPABLE */
	SCMP_SYS(ptrace),
	SCMP_SYS(wait4),
	SCMP_SYS(sched_yield),
	SCMP_SYS(futex),
	SCMP_SYS(getppid),		/* the tracer watches its parent */
	SCMP_SYS(sigaltstack),
	SCMP_SYS(getdents),		/* /proc/self/task */
	SCMP_SYS(readlink),		/* /proc/self/exe */
	SCMP_SYS(exit),			/* the tracer ends */
};
#endif

static int
rule(scmp_filter_ctx ctx, int nr, unsigned int n, const struct scmp_arg_cmp *a)
{
	int rc;

	rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, n, a);
	if (rc < 0) {
		char *name = seccomp_syscall_resolve_num_arch(
		    SCMP_ARCH_NATIVE, nr);

		log_err("sandbox: cannot allow %s: %s",
		    name != NULL ? name : "a system call", strerror(-rc));
		free(name);
	}
	return rc;
}

static int
rule_list(scmp_filter_ctx ctx, const int *v, size_t n)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		rc = rule(ctx, v[i], 0, NULL);
		if (rc < 0)
			return rc;
	}
	return 0;
}

#ifdef ENABLE_COVERAGE
/*
 * Only in a gcov build (configure --enable-coverage), never in mmapd as
 * built otherwise: libgcov's exit path writes each object's counts.  It
 * opens the .gcda file with exactly O_RDWR | O_CREAT (any other flags
 * stay killed: the unit test's O_WRONLY | O_CREAT and O_RDWR still die),
 * takes a write lock (F_SETLKW) to merge with other processes, and when
 * the open fails, checks each folder of the path with access() before it
 * would mkdir: that mkdir stays killed, tests/coverage.sh makes the
 * folders and files beforehand.  Read off strace of a --coverage binary.
 */
static int
rule_coverage(scmp_filter_ctx ctx)
{
	struct scmp_arg_cmp a;
	int rc;

	a = ARG_IS(2, O_RDWR | O_CREAT);
	if ((rc = rule(ctx, SCMP_SYS(openat), 1, &a)) < 0)
		return rc;
	a = ARG_IS(1, F_SETLKW);
	if ((rc = rule(ctx, SCMP_SYS(fcntl), 1, &a)) < 0)
		return rc;
	return rule(ctx, SCMP_SYS(access), 0, NULL);
}
#endif

/* The rules with an argument check: each is one comparison or two. */
static int
rule_args(scmp_filter_ctx ctx)
{
	/* An open that could write, create or truncate: killed. */
	const uint64_t open_write = O_WRONLY | O_RDWR | O_CREAT | O_TRUNC |
	    O_APPEND;
	/*
	 * fcntl: dups and seals, and libuv's fallbacks for the ioctls below;
	 * no locks, owners, leases or pipe sizes.
	 */
	static const int fcntl_cmds[] = {
		F_DUPFD_CLOEXEC, F_ADD_SEALS, F_GETFL, F_SETFL, F_GETFD,
		F_SETFD,
	};
	/*
	 * ioctl: libuv's non-blocking and close-on-exec switches, and
	 * SIOCOUTQ: what a client has not read yet (conns.c).
	 */
	static const unsigned long ioctls[] = { FIONBIO, FIOCLEX, SIOCOUTQ };
	struct scmp_arg_cmp a, b[2];
	size_t i;
	int rc;

	/*
	 * Memory is never made executable: no code is loaded after start.
	 * mmap: malloc, the engine's probe of a device range, register
	 * access; mprotect: malloc growing a heap.
	 */
	a = ARG_CLEAR(2, PROT_EXEC);
	if ((rc = rule(ctx, SCMP_SYS(mmap), 1, &a)) < 0 ||
	    (rc = rule(ctx, SCMP_SYS(mprotect), 1, &a)) < 0)
		return rc;

	/*
	 * Files are opened read-only: the policy, NSS's files, a named
	 * memfd again through /proc/self/fd for a read-only grant.  mmapd
	 * runs unprivileged by now: no device or root's file opens anyway.
	 */
	a = ARG_CLEAR(2, open_write);
	if ((rc = rule(ctx, SCMP_SYS(openat), 1, &a)) < 0)
		return rc;
#ifdef SANDBOX_SANITIZERS
	/* The sanitizer runtime's own open(2) of /proc/self/{task,maps}. */
	a = ARG_CLEAR(1, open_write);
	if ((rc = rule(ctx, SCMP_SYS(open), 1, &a)) < 0)
		return rc;
#endif

	/* Sockets: AF_UNIX only (sd_notify, nscd, systemd-userdb). */
	a = ARG_IS(0, AF_UNIX);
	if ((rc = rule(ctx, SCMP_SYS(socket), 1, &a)) < 0)
		return rc;
	/* SO_PEERCRED, SO_PEERGROUPS, SO_ERROR: SOL_SOCKET only. */
	a = ARG_IS(1, SOL_SOCKET);
	if ((rc = rule(ctx, SCMP_SYS(getsockopt), 1, &a)) < 0)
		return rc;
	/*
	 * libsystemd's sd_notify() makes a datagram socket per message and
	 * sizes its send buffer: SO_SNDBUF and SO_SNDBUFFORCE only.
	 */
	b[0] = ARG_IS(1, SOL_SOCKET);
	b[1] = ARG_IS(2, SO_SNDBUF);
	if ((rc = rule(ctx, SCMP_SYS(setsockopt), 2, b)) < 0)
		return rc;
	b[1] = ARG_IS(2, SO_SNDBUFFORCE);
	if ((rc = rule(ctx, SCMP_SYS(setsockopt), 2, b)) < 0)
		return rc;
	/*
	 * inbox.c: a client socket accepted still taking fds is switched to
	 * refuse them (SO_PASSRIGHTS); one to be closed is shut down (both
	 * ways) and its queue walked with credentials on (SO_PASSCRED); a
	 * closed client's unread grants are watched on a copy, shut down
	 * both ways too (conns.c).
	 */
	b[1] = ARG_IS(2, SO_PASSRIGHTS);
	if ((rc = rule(ctx, SCMP_SYS(setsockopt), 2, b)) < 0)
		return rc;
	b[1] = ARG_IS(2, SO_PASSCRED);
	if ((rc = rule(ctx, SCMP_SYS(setsockopt), 2, b)) < 0)
		return rc;
	a = ARG_IS(1, SHUT_RDWR);
	if ((rc = rule(ctx, SCMP_SYS(shutdown), 1, &a)) < 0)
		return rc;

	for (i = 0; i < sizeof(fcntl_cmds) / sizeof(fcntl_cmds[0]); i++) {
		a = ARG_IS(1, (uint64_t)fcntl_cmds[i]);
		if ((rc = rule(ctx, SCMP_SYS(fcntl), 1, &a)) < 0)
			return rc;
	}
	for (i = 0; i < sizeof(ioctls) / sizeof(ioctls[0]); i++) {
		a = ARG_IS(1, ioctls[i]);
		if ((rc = rule(ctx, SCMP_SYS(ioctl), 1, &a)) < 0)
			return rc;
	}
#ifdef SANDBOX_SANITIZERS
	/* isatty(stderr): whether a sanitizer report gets colours. */
	a = ARG_IS(1, TCGETS);
	if ((rc = rule(ctx, SCMP_SYS(ioctl), 1, &a)) < 0)
		return rc;
#endif

	/* raise(): a signal to this process only (abort, regs.c). */
	a = ARG_IS(0, (uint64_t)getpid());
	if ((rc = rule(ctx, SCMP_SYS(tgkill), 1, &a)) < 0)
		return rc;
#ifdef ENABLE_COVERAGE
	if ((rc = rule_coverage(ctx)) < 0)
		return rc;
#endif
	return 0;
}

/*
 * NSS loads a module (libnss_systemd.so, ...) the first time a lookup
 * gets that far down nsswitch.conf, with mmap(PROT_EXEC), which the
 * filter forbids; a reload looks up users and groups.  A name no one
 * has goes through every module of the passwd and group lines: they
 * are all loaded now.
 */
#define NSS_PRELOAD_NAME	"mmapd-sandbox-nss-preload"

static void
nss_preload(void)
{
	(void)getpwnam(NSS_PRELOAD_NAME);
	(void)getgrnam(NSS_PRELOAD_NAME);
	(void)getpwuid(0);
	(void)getgrgid(0);
	endpwent();
	endgrent();
}

int
sandbox_filter(enum sandbox_action act)
{
	scmp_filter_ctx ctx;
	int rc;

	nss_preload();
	ctx = seccomp_init(act == SANDBOX_LOG ? SCMP_ACT_LOG :
	    SCMP_ACT_KILL_PROCESS);
	if (ctx == NULL) {
		log_err("sandbox: seccomp_init failed");
		return -ENOMEM;
	}
	/*
	 * sandbox_drop() set no_new_privs already.  Every thread gets the
	 * filter (the reaper's too), or none does and the load fails.
	 */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (rc < 0)
		log_err("sandbox: cannot filter every thread (TSYNC): %s",
		    strerror(-rc));
	if (rc == 0)
		rc = rule_list(ctx, allow_plain,
		    sizeof(allow_plain) / sizeof(allow_plain[0]));
	if (rc == 0)
		rc = rule_args(ctx);
#ifdef SANDBOX_SANITIZERS
	if (rc == 0)
		rc = rule_list(ctx, allow_sanitizer,
		    sizeof(allow_sanitizer) / sizeof(allow_sanitizer[0]));
#endif
	if (rc == 0) {
		rc = seccomp_load(ctx);
		if (rc < 0)
			log_err("sandbox: cannot load the seccomp filter: %s",
			    strerror(-rc));
	}
	seccomp_release(ctx);
	if (rc < 0)
		return rc;
	if (act == SANDBOX_LOG)
		log_warn("sandbox: seccomp allow-list in log mode: calls "
		    "outside it are logged by the kernel (audit, type=1326) "
		    "and allowed");
	else
		log_info("sandbox: seccomp allow-list in force: any other "
		    "system call kills mmapd (SIGSYS)");
	return 0;
}

/* ---------------------------------------------------------------------
 * For the monitor's own allow-list (monitor-sandbox.c)
 * --------------------------------------------------------------------- */

int
sandbox_allow(scmp_filter_ctx ctx, int nr, unsigned int n,
    const struct scmp_arg_cmp *a)
{
	return rule(ctx, nr, n, a);
}

int
sandbox_allow_list(scmp_filter_ctx ctx, const int *v, size_t n)
{
	return rule_list(ctx, v, n);
}

/* What a sanitizer or gcov build adds, as in the worker's list. */
int
sandbox_allow_build(scmp_filter_ctx ctx)
{
	int rc = 0;

#ifdef SANDBOX_SANITIZERS
	struct scmp_arg_cmp a;

	rc = rule_list(ctx, allow_sanitizer,
	    sizeof(allow_sanitizer) / sizeof(allow_sanitizer[0]));
	a = SCMP_CMP64(1, SCMP_CMP_MASKED_EQ, (O_WRONLY | O_RDWR | O_CREAT |
	    O_TRUNC | O_APPEND) & 0xffffffffull, 0);
	if (rc == 0)
		rc = rule(ctx, SCMP_SYS(open), 1, &a);
	a = ARG_IS(1, TCGETS);
	if (rc == 0)
		rc = rule(ctx, SCMP_SYS(ioctl), 1, &a);
#endif
#ifdef ENABLE_COVERAGE
	if (rc == 0)
		rc = rule_coverage(ctx);
#endif
	(void)ctx;
	return rc;
}

void
sandbox_nss_preload(void)
{
	nss_preload();
}
