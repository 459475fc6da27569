/*
 * mmapd: options, the policy, the devices, the socket, then two
 * processes.
 *
 * mmapd runs in the foreground and logs to stderr; systemd supervises it.
 * Start-up, in order: the policy; every device it names, opened here as
 * root; the listening socket (listen.c).  Then it forks (split()): the
 * child is the worker, which in ready() drops to an unprivileged user
 * and loads the seccomp allow-list (sandbox.c) and serves the clients
 * (server.c); the parent is the monitor (monitor.c), which keeps two
 * capabilities, reads the policy again on SIGHUP and opens what it names
 * for the worker (worker.c), and kills clients' processes the worker
 * asks it to (privsep.c).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conns.h"
#include "daemon.h"
#include "explain.h"
#include "journal.h"
#include "listen.h"
#include "log.h"
#include "monitor.h"
#include "notify.h"
#include "privsep.h"
#include "reaper.h"
#include "regs.h"
#include "revoke.h"
#include "sandbox.h"
#include "server.h"
#include "worker.h"

#define DEFAULT_CONFIG	SYSCONFDIR "/mmapd/mmapd.conf"
#define DEFAULT_SOCKET	RUNSTATEDIR "/mmapd/mmapd.sock"

static const char *config_path = DEFAULT_CONFIG;
static const char *check_path;	/* --check-config */
static const char *explain_req;	/* --explain */
static int log_journal_opt;	/* --log-journal */
static int log_stamps_opt;	/* --log-timestamps */
static int config_given;
static int config_none;		/* --no-config: the built-in policy */
static const char *user_opt;	/* --user; NULL: the policy's, or mmapd */
static struct sandbox_user run_user;	/* found at start-up, as root */
static enum sandbox_action seccomp_action = SANDBOX_KILL;

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: mmapd [-f] [-c FILE | --no-config] [-s SOCKET] [--user USER]\n"
	    "             [--seccomp=kill|log] [--log-journal]\n"
	    "             [--log-timestamps]\n"
	    "       mmapd --check-config FILE [--explain REQUEST]\n"
	    "\n"
	    "  -c, --config FILE     policy file (default %s;\n"
	    "                        when it does not exist, a built-in default:\n"
	    "                        zero for everyone up to 64 MiB, nothing else)\n"
	    "      --no-config       use the built-in policy, whatever files exist\n"
	    "  -s, --socket PATH     listening socket (default %s)\n"
	    "  -u, --user USER       the user to run as once the devices are\n"
	    "                        open and the socket listens, when started\n"
	    "                        as root (default: [daemon] user, else %s)\n"
	    "      --log-journal     audit records to journald as entries of\n"
	    "                        their own, even when stderr is not its\n"
	    "                        stream (under systemd they go there anyway)\n"
	    "      --log-timestamps  lines on stderr start with the time (they\n"
	    "                        do when stderr is a terminal)\n"
	    "      --seccomp=kill|log  a system call outside the allow-list\n"
	    "                        kills mmapd (kill, the default) or is\n"
	    "                        logged by the kernel and allowed (log:\n"
	    "                        for finding what the list lacks)\n"
	    "  -f, --foreground      accepted for compatibility: mmapd always\n"
	    "                        runs in the foreground\n"
	    "      --check-config FILE  check a policy file and say what is wrong\n"
	    "      --explain 'USER map DEVICE [offset N] [size N] [r|rw] [shared]\n"
	    "                [cache C] [region NAME [create|attach] [exists]]'\n"
	    "      --explain 'USER read|write DEVICE OFFSET [VALUE] [WIDTH]'\n"
	    "      --explain 'USER modify DEVICE OFFSET [set N] [clear N]\n"
	    "                [WIDTH]'\n"
	    "                        with --check-config: judge one request\n"
	    "                        against FILE as mmapd would (exit 0\n"
	    "                        allowed, 1 refused, 2 bad request or file)\n"
	    "  -V, --version         print the version\n"
	    "  -h, --help            this text\n",
	    DEFAULT_CONFIG, DEFAULT_SOCKET, SANDBOX_DEFAULT_USER);
}

/*
 * The policy from the file, or the built-in one when no file was named
 * and the default file does not exist.
 */
static int
policy_read(struct policy **out)
{
	struct policy_errors errs = { 0 };
	int err;

	if (config_none)
		return policy_default(out);
	err = policy_load(config_path, out, &errs);
	if (err == -ENOENT && !config_given) {
		policy_errors_free(&errs);
		log_info("%s does not exist: using the built-in policy",
		    config_path);
		return policy_default(out);
	}
	if (err) {
		policy_log_errors(config_path, &errs);
		if (errs.n == 0)
			log_err("%s: %s", config_path, strerror(-err));
	} else
		policy_log_warnings(config_path, *out);
	policy_errors_free(&errs);
	return err;
}

/*
 * Regions whose Map would hand out more than the region: the file is
 * right, but its author should know what goes out (see daemon/reach.h).
 * Returns how many warnings it printed.
 */
static unsigned int
check_reach(const char *path, const struct policy *pol)
{
	const struct policy_entry *e;
	char span[96];
	unsigned int n = 0;
	size_t i;

	for (i = 0; i < pol->n_entries; i++) {
		e = &pol->entries[i];
		if (e->kind != POLICY_REGION || e->regs_only)
			continue;
		if (e->size != 0)
			snprintf(span, sizeof(span), "base %#llx size %#llx",
			    (unsigned long long)e->base,
			    (unsigned long long)e->size);
		else
			snprintf(span, sizeof(span), "base %#llx to the end "
			    "of the BAR", (unsigned long long)e->base);
		if (!e->is_pci && (e->raw_who.everyone ||
		    e->raw_who.n_uids > 0 || e->raw_who.n_gids > 0)) {
			fprintf(stderr, "%s:%u: warning: [region %s]: a Map "
			    "hands raw_fd_users and raw_fd_groups /dev/mem "
			    "itself, which reaches all non-RAM physical "
			    "memory, not only %s\n", path, e->line, e->name,
			    span);
			n++;
		}
		if (!e->is_pci || (e->base == 0 && e->size == 0))
			continue;
		n++;
		if (e->whole_bar)
			fprintf(stderr, "%s:%u: warning: [region %s]: "
			    "whole_bar = yes: a Map hands out all of BAR %u, "
			    "not only %s\n", path, e->line, e->name, e->bar,
			    span);
		else
			fprintf(stderr, "%s:%u: warning: [region %s]: %s is "
			    "part of BAR %u: its Maps are refused unless that "
			    "is the whole BAR (a Map hands out the whole BAR); "
			    "Read and Write serve it.  Say map = no, or "
			    "whole_bar = yes to map it\n", path, e->line,
			    e->name, span, e->bar);
	}
	return n;
}

static int
check_config(const char *path, const char *explain)
{
	struct policy_errors errs = { 0 }, warns = { 0 };
	struct policy *pol = NULL;
	size_t i, n;
	int err;

	err = policy_load(path, &pol, &errs);
	for (i = 0; i < errs.n; i++) {
		if (errs.v[i].line)
			fprintf(stderr, "%s:%u: %s\n", path, errs.v[i].line,
			    errs.v[i].msg);
		else
			fprintf(stderr, "%s: %s\n", path, errs.v[i].msg);
	}
	if (err && errs.n == 0)
		fprintf(stderr, "%s: %s\n", path, strerror(-err));
	policy_errors_free(&errs);
	if (err)
		return explain != NULL ? EXPLAIN_USAGE : 1;
	if (explain != NULL) {
		err = explain_run(path, pol, explain);
		policy_free(pol);
		return err;
	}
	/* Warnings do not fail the check: such a file is served. */
	n = check_reach(path, pol);
	if (policy_warnings(pol, &warns) < 0) {
		fprintf(stderr, "%s: out of memory\n", path);
		policy_errors_free(&warns);
		policy_free(pol);
		return 1;
	}
	for (i = 0; i < warns.n; i++)
		fprintf(stderr, "%s:%u: warning: %s\n", path, warns.v[i].line,
		    warns.v[i].msg);
	n += warns.n;
	printf("%s: ok, %zu entries, %zu warning%s\n", path, pol->n_entries,
	    n, n == 1 ? "" : "s");
	policy_errors_free(&warns);
	policy_free(pol);
	return 0;
}

/* /dev/mem as the policy says; a failure only withdraws it. */
static void
mem_open(struct mmapd *d)
{
	const struct policy_entry *e = policy_find(d->policy, "mem");

	if (mem_open_policy(d->policy, NULL, &d->mem) < 0)
		return;
	d->have_mem = 1;
	worker_mem_strict(d, e != NULL && e->kind == POLICY_MEM && e->path ?
	    e->path : "/dev/mem");
}

/*
 * The user to become, looked up before anything is opened, so that a
 * missing one stops mmapd before it has touched a device or a socket.
 */
static int
user_choose(const struct policy *pol)
{
	const char *name = user_opt;
	int err;

	if (geteuid() != 0)
		return 0;
	if (name == NULL)
		name = pol->user != NULL ? pol->user : SANDBOX_DEFAULT_USER;
	err = sandbox_user_find(name, &run_user);
	switch (err) {
	case 0:
		return 0;
	case -ENOENT:
		log_err("user %s does not exist: create it (with "
		    "systemd-sysusers, or useradd --system) or name another "
		    "with --user or [daemon] user", name);
		break;
	case -EPERM:
		log_err("user %s is root: mmapd drops root once set up; name "
		    "an unprivileged user with --user or [daemon] user", name);
		break;
	default:
		log_err("user %s: cannot look it up: %s", name, strerror(-err));
		break;
	}
	return err;
}

/*
 * Where the log goes: stderr, and audit records to the journal when it
 * is journald's stream or --log-journal says so; the socket is made
 * now, before the sandbox (journal.h).
 */
static void
log_start(void)
{
	log_init();
	if (log_stamps_opt)
		log_set_timestamps(1);
	(void)journal_open(log_journal_opt);
}

/* server.c's ready hook: the socket listens, every device is open. */
static int
ready(struct mmapd *d)
{
	int err;

	(void)d;
	err = sandbox_drop(geteuid() == 0 ? &run_user : NULL);
	/* The drop cleared the parent-death signal split() set: again. */
	if (err == 0 && prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) < 0)
		err = -errno;
	/* Its thread is made dropped, then filtered with the loop's. */
	if (err == 0)
		err = reaper_start();
	if (err == 0)
		err = sandbox_filter(seccomp_action);
	if (err)
		log_err("start-up: the sandbox could not be set up: stopping");
	return err;
}

/* The monitor's side of split(): never returns. */
static void __attribute__((noreturn))
monitor_be(struct mmapd *d, struct listener *l, struct monitor_config *mc)
{
	struct timeval tv = { .tv_sec = 5 };
	int status;

	close(l->fd);		/* the socket file is the worker's to remove */
	/* The worker holds the devices; the monitor opens its own later. */
	pcis_close(d->pcis, d->n_pcis);
	map_device_close(&d->zero);
	if (d->have_mem)
		mem_device_close(&d->mem);
	engine_close(&d->engine);
	policy_free(d->policy);
	/* A worker that stops reading cannot hold the monitor for long. */
	if (setsockopt(mc->ctl, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		log_warn("monitor: SO_SNDTIMEO: %s", strerror(errno));
	status = monitor_run(mc);
	if (mc->iomem_fd >= 0)
		close(mc->iomem_fd);
	notify_close();
	exit(status);
}

/*
 * Two processes from here.  In the child, the worker, it returns 0 with
 * *ctl and *rpc its ends of the monitor's sockets; the parent becomes
 * the monitor and exits with the worker's status.  iomem_fd: /proc/iomem
 * opened now, while it shows addresses, for the monitor's reloads.
 */
static int
split(struct mmapd *d, struct listener *l, int iomem_fd, int *ctl, int *rpc)
{
	struct monitor_config mc = {
		.config_path = config_path,
		.config_given = config_given,
		.config_none = config_none,
		.run_user = run_user.name[0] != '\0' ? run_user.name : NULL,
		.user_fixed = user_opt != NULL,
		.iomem_fd = iomem_fd,
		.seccomp = seccomp_action,
		.root = geteuid() == 0,
	};
	int cp[2], rp[2];
	sigset_t set, old;
	pid_t pid, parent = getpid();

	mc.listen_len = sizeof(mc.listen_addr);
	if (getsockname(l->fd, (struct sockaddr *)&mc.listen_addr,
	    &mc.listen_len) < 0) {
		log_err("start-up: getsockname: %s", strerror(errno));
		return -errno;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, cp) < 0)
		return -errno;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, rp) < 0) {
		close(cp[0]);
		close(cp[1]);
		return -errno;
	}
	/* The monitor reads them from a signalfd: none may be lost before. */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);
	pid = fork();
	if (pid < 0) {
		log_err("start-up: fork: %s", strerror(errno));
		sigprocmask(SIG_SETMASK, &old, NULL);
		return -errno;
	}
	if (pid == 0) {
		close(cp[0]);
		close(rp[0]);
		if (iomem_fd >= 0)
			close(iomem_fd);
		/* The monitor gone, the worker stops (its socket says so). */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) < 0 ||
		    getppid() != parent)
			_exit(1);
		sigprocmask(SIG_SETMASK, &old, NULL);
		notify_close();
		notify_relay(worker_notify);
		*ctl = cp[1];
		*rpc = rp[1];
		return 0;
	}
	close(cp[1]);
	close(rp[1]);
	mc.ctl = cp[0];
	mc.rpc = rp[0];
	mc.worker = pid;
	mc.worker_pidfd = pidfd_open(pid, 0);
	if (mc.worker_pidfd < 0) {
		log_err("start-up: pidfd_open: %s", strerror(errno));
		kill(pid, SIGKILL);
		exit(1);
	}
	log_info("monitor: pid %d; the worker is pid %d", (int)parent,
	    (int)pid);
	monitor_be(d, l, &mc);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "user", required_argument, NULL, 'u' },
		{ "seccomp", required_argument, NULL, 'S' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "check-config", required_argument, NULL, 'C' },
		{ "explain", required_argument, NULL, 'E' },
		{ "log-journal", no_argument, NULL, 'J' },
		{ "log-timestamps", no_argument, NULL, 'T' },
		{ "no-config", no_argument, NULL, 'N' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct listener listener = { .fd = -1 };
	struct server_config cfg = {
		.listener = &listener,
		.reload = worker_reload_ask,
		.ready = ready,
		.ctl_event = worker_ctl_event,
		.rpc_event = revoke_kill_answers,
	};
	const char *socket_path = DEFAULT_SOCKET;
	struct mmapd d = { 0 };
	int c, err, iomem_fd, ctl = -1, rpc = -1, listening = 0, status = 1;

	/*
	 * First, before anything opens a file: whatever the parent left
	 * open (a pipe, a log, a socket) must not reach the sandbox.
	 */
	listen_close_inherited();
	while ((c = getopt_long(argc, argv, "c:s:u:fVh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			config_given = 1;
			break;
		case 's':
			socket_path = optarg;
			break;
		case 'u':
			user_opt = optarg;
			break;
		case 'S':
			if (sandbox_action_parse(optarg, &seccomp_action) < 0) {
				fprintf(stderr, "mmapd: --seccomp=%s: kill or log\n",
				    optarg);
				usage(stderr);
				return 2;
			}
			break;
		case 'f':
			break;
		case 'N':
			config_none = 1;
			break;
		case 'C':
			check_path = optarg;
			break;
		case 'E':
			explain_req = optarg;
			break;
		case 'J':
			log_journal_opt = 1;
			break;
		case 'T':
			log_stamps_opt = 1;
			break;
		case 'V':
			printf("mmapd %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || (config_none && config_given) ||
	    (explain_req != NULL && check_path == NULL)) {
		usage(stderr);
		return 2;
	}
	if (check_path != NULL)
		return check_config(check_path, explain_req);

	log_start();
	/* Now, while mmapd may still open sockets: see notify.h. */
	(void)notify_open();
	d.started = time(NULL);
	d.engine.zero_fd = -1;
	d.mem.iomem_fd = -1;
	if (policy_read(&d.policy) < 0)
		return 1;
	if (user_choose(d.policy) < 0) {
		policy_free(d.policy);
		return 1;
	}

	err = engine_open(&d.engine, "/dev/zero");
	if (err == 0)
		err = zero_device_open(&d.zero, "/dev/zero", O_RDWR);
	if (err) {
		log_err("/dev/zero: %s", strerror(-err));
		goto out;
	}
	/* Kept for the monitor: see mem_params. */
	iomem_fd = open("/proc/iomem", O_RDONLY | O_CLOEXEC);
	mem_open(&d);
	err = pcis_open(d.policy, NULL, &d.pcis, &d.n_pcis);
	if (err == 0)
		err = regs_init();
	if (err == 0 && (err = listen_open(&listener, socket_path,
	    d.policy)) == 0)
		listening = 1;
	if (err == 0)
		err = split(&d, &listener, iomem_fd, &ctl, &rpc);
	if (err == 0)
		err = worker_init(ctl);
	if (err == 0)
		err = privsep_init(rpc);
	if (err) {
		log_err("start-up: %s", strerror(-err));
		if (listening)
			listen_close(&listener);
		if (iomem_fd >= 0 && ctl < 0)
			close(iomem_fd);
		goto out_devices;
	}
	cfg.ctl_fd = ctl;
	cfg.rpc_fd = rpc;

	/*
	 * libuv 1.45 and later may run parts of the loop through io_uring,
	 * whose operations the seccomp filter cannot see; the filter forbids
	 * it, and this keeps libuv from setting it up before the filter.
	 */
	if (setenv("UV_USE_IO_URING", "0", 1) < 0)
		log_warn("UV_USE_IO_URING: %s", strerror(errno));
	/* Every fd mmapd sends counts against it till read: see conns.c. */
	conns_nofile(&d);
	if (server_run(&d, &cfg) == 0)
		status = 0;
	conns_end(&d);
	/* server_run() closed every client, and their leases went too. */
	if (shm_close_all(&d))
		log_warn("leases left at exit");
	lease_index_free(&d);
out_devices:
	pcis_close(d.pcis, d.n_pcis);
	map_device_close(&d.zero);
	if (d.have_mem)
		mem_device_close(&d.mem);
out:
	engine_close(&d.engine);
	policy_free(d.policy);
	if (ctl >= 0)
		close(ctl);
	if (rpc >= 0)
		close(rpc);
	notify_close();
	journal_close();
	return status;
}
