/*
 * The monitor's own confinement: the two capabilities its jobs need and
 * no other, no_new_privs, and an allow-list far narrower than the
 * worker's (sandbox.c).  It accepts no connection, makes no memory, and
 * writes only to stderr; what it opens is what a policy names.
 *
 * Kept, when started as root (README, "Security model"):
 *	CAP_SYS_RAWIO	open /dev/mem when a reload names it
 *	CAP_KILL	SIGKILL a client of another uid (privsep_kill_send)
 * Not kept: CAP_SYS_ADMIN (/proc/iomem is opened once at start-up with
 * it and that fd copied for every device after), CAP_DAC_OVERRIDE and
 * CAP_DAC_READ_SEARCH (the monitor stays uid 0: /dev/mem, the sysfs
 * BAR files and the policy belong to root, and a file root does not own
 * is not one mmapd should open), CAP_SETUID and the rest.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "monitor.h"
#include "sandbox-int.h"

static const unsigned int monitor_caps[] = { CAP_SYS_RAWIO, CAP_KILL };
#define N_CAPS	(sizeof(monitor_caps) / sizeof(monitor_caps[0]))

static int
cap_kept(unsigned long cap)
{
	size_t i;

	for (i = 0; i < N_CAPS; i++)
		if (monitor_caps[i] == cap)
			return 1;
	return 0;
}

/* Every other capability out of the bounding set (needs CAP_SETPCAP). */
static int
caps_bound_keep(void)
{
	unsigned long cap;
	int r;

	for (cap = 0;; cap++) {
		r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
		if (r < 0)
			return errno == EINVAL && cap > 0 ? 0 : -errno;
		if (r == 0 || cap_kept(cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			return -errno;
	}
}

/* Effective and permitted: the kept ones (root), or none; no others. */
static int
caps_set(int root)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	size_t i;

	memset(data, 0, sizeof(data));
	for (i = 0; root && i < N_CAPS; i++) {
		data[monitor_caps[i] / 32].effective |=
		    1u << (monitor_caps[i] % 32);
		data[monitor_caps[i] / 32].permitted |=
		    1u << (monitor_caps[i] % 32);
	}
	if (syscall(SYS_capset, &hdr, data) < 0)
		return -errno;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL)
		return -errno;
	/* Read back: the kernel holds what was asked, nothing more. */
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	for (i = 0; i < _LINUX_CAPABILITY_U32S_3 * 32; i++) {
		int has = (data[i / 32].permitted >> (i % 32)) & 1;

		if (has && !(root && cap_kept(i)))
			return -EPERM;
		if (data[i / 32].inheritable)
			return -EPERM;
	}
	return 0;
}

static int
monitor_drop(int root)
{
	int err = 0;

	if (root)
		err = caps_bound_keep();
	if (err == 0)
		err = caps_set(root);
	if (err == 0 && (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1))
		err = errno ? -errno : -EPERM;
	if (err) {
		log_err("monitor: cannot give up capabilities or set "
		    "no_new_privs: %s", strerror(-err));
		return err;
	}
	if (root)
		log_info("monitor: uid 0 with CAP_SYS_RAWIO and CAP_KILL only, "
		    "no_new_privs");
	else
		log_info("monitor: not started as root: no capabilities, "
		    "no_new_privs; devices it cannot open and clients of "
		    "other uids it cannot signal are refused");
	return 0;
}

/* ---------------------------------------------------------------------
 * The allow-list: what monitor.c, the device opens (pcis.c, mem.c,
 * pci.c), the policy parser with its NSS lookups, and sd_notify call,
 * group by group; run under --seccomp=log through start, reloads that
 * open mem and pci regions, kills and stop with nothing logged, and
 * under kill by the whole integration suite and tests/unit/test_monitor.
 * --------------------------------------------------------------------- */

static const int monitor_plain[] = {
	/* Its loop: poll on the signalfd, the two sockets, the pidfd. */
	SCMP_SYS(poll),
	SCMP_SYS(ppoll),
	SCMP_SYS(read),
	SCMP_SYS(recvmsg),
	SCMP_SYS(sendmsg),
	SCMP_SYS(close),
	/* The policy and the devices it names (openat below). */
	SCMP_SYS(fstat),
	SCMP_SYS(newfstatat),
	SCMP_SYS(lseek),
	SCMP_SYS(getdents64),		/* a pci function by id; NSS */
	SCMP_SYS(readlinkat),		/* nss-systemd */
	/* NSS's sockets (nscd, systemd-userdb) and sd_notify's. */
	SCMP_SYS(connect),
	SCMP_SYS(sendto),
	SCMP_SYS(recvfrom),
	/* Whose connection: privsep_kill_send. */
	SCMP_SYS(getsockname),
	SCMP_SYS(pidfd_open),
	SCMP_SYS(pidfd_send_signal),
	/* The worker's end. */
	SCMP_SYS(waitid),
	SCMP_SYS(wait4),
	/* Memory: malloc, never executable (mmap below). */
	SCMP_SYS(brk),
	SCMP_SYS(munmap),
	SCMP_SYS(mremap),
	SCMP_SYS(futex),
	SCMP_SYS(clock_gettime),
	SCMP_SYS(gettimeofday),
	SCMP_SYS(rt_sigreturn),
	SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigaction),
	SCMP_SYS(restart_syscall),
	SCMP_SYS(getpid),
	SCMP_SYS(gettid),
	SCMP_SYS(getuid),
	SCMP_SYS(geteuid),
	SCMP_SYS(getgid),
	SCMP_SYS(getegid),
	SCMP_SYS(exit_group),
};

static int
monitor_args(scmp_filter_ctx ctx)
{
	static const int fcntl_cmds[] = {
		F_DUPFD_CLOEXEC, F_GETFL, F_SETFL, F_GETFD, F_SETFD,
	};
	static const int sockopts[] = {
		SO_DOMAIN, SO_TYPE, SO_ACCEPTCONN, SO_PEERCRED,
		MONITOR_SO_PEERPIDFD, SO_SNDBUF,
	};
	struct scmp_arg_cmp a, b[2];
	size_t i;
	int rc;

	/* The log: stderr only. */
	a = ARG_IS(0, STDERR_FILENO);
	if ((rc = sandbox_allow(ctx, SCMP_SYS(write), 1, &a)) < 0 ||
	    (rc = sandbox_allow(ctx, SCMP_SYS(writev), 1, &a)) < 0)
		return rc;
	a = ARG_CLEAR(2, PROT_EXEC);
	if ((rc = sandbox_allow(ctx, SCMP_SYS(mmap), 1, &a)) < 0 ||
	    (rc = sandbox_allow(ctx, SCMP_SYS(mprotect), 1, &a)) < 0)
		return rc;
	/*
	 * Opens: read-only, or read-write for a device; never creating,
	 * truncating, appending or write-only.
	 */
	a = ARG_CLEAR(2, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND);
	if ((rc = sandbox_allow(ctx, SCMP_SYS(openat), 1, &a)) < 0)
		return rc;
	a = ARG_IS(0, AF_UNIX);
	if ((rc = sandbox_allow(ctx, SCMP_SYS(socket), 1, &a)) < 0)
		return rc;
	b[0] = ARG_IS(1, SOL_SOCKET);
	for (i = 0; i < sizeof(sockopts) / sizeof(sockopts[0]); i++) {
		b[1] = ARG_IS(2, (uint64_t)sockopts[i]);
		if ((rc = sandbox_allow(ctx, SCMP_SYS(getsockopt), 2, b)) < 0)
			return rc;
	}
	/* libsystemd's sd_notify() sizes its datagram socket's buffer. */
	b[1] = ARG_IS(2, SO_SNDBUF);
	if ((rc = sandbox_allow(ctx, SCMP_SYS(setsockopt), 2, b)) < 0)
		return rc;
	b[1] = ARG_IS(2, SO_SNDBUFFORCE);
	if ((rc = sandbox_allow(ctx, SCMP_SYS(setsockopt), 2, b)) < 0)
		return rc;
	for (i = 0; i < sizeof(fcntl_cmds) / sizeof(fcntl_cmds[0]); i++) {
		a = ARG_IS(1, (uint64_t)fcntl_cmds[i]);
		if ((rc = sandbox_allow(ctx, SCMP_SYS(fcntl), 1, &a)) < 0)
			return rc;
	}
	/* raise(): abort, to itself only. */
	a = ARG_IS(0, (uint64_t)getpid());
	if ((rc = sandbox_allow(ctx, SCMP_SYS(tgkill), 1, &a)) < 0)
		return rc;
#ifdef ENABLE_COVERAGE
	/*
	 * A gcov build only: libgcov's exit path writes the .gcda files
	 * that sandbox_allow_build() lets it open and lock; stderr alone
	 * is not enough for that.
	 */
	if ((rc = sandbox_allow(ctx, SCMP_SYS(write), 0, NULL)) < 0)
		return rc;
#endif
	return sandbox_allow_build(ctx);
}

int
monitor_sandbox(enum sandbox_action act, int root)
{
	scmp_filter_ctx ctx;
	int rc;

	rc = monitor_drop(root);
	if (rc)
		return rc;
	sandbox_nss_preload();
	ctx = seccomp_init(act == SANDBOX_LOG ? SCMP_ACT_LOG :
	    SCMP_ACT_KILL_PROCESS);
	if (ctx == NULL) {
		log_err("monitor: seccomp_init failed");
		return -ENOMEM;
	}
	rc = sandbox_allow_list(ctx, monitor_plain,
	    sizeof(monitor_plain) / sizeof(monitor_plain[0]));
	if (rc == 0)
		rc = monitor_args(ctx);
	if (rc == 0) {
		rc = seccomp_load(ctx);
		if (rc < 0)
			log_err("monitor: cannot load the seccomp filter: %s",
			    strerror(-rc));
	}
	seccomp_release(ctx);
	if (rc == 0)
		log_info("monitor: seccomp allow-list in force%s",
		    act == SANDBOX_LOG ? " (log mode)" : "");
	return rc;
}
