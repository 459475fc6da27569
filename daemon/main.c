/*
 * mmapd: options, the policy, the devices, then the loop.
 *
 * mmapd runs in the foreground and logs to stderr; systemd supervises it.
 * Start-up, in order: the policy; every device it names, opened here as
 * root; the listening socket (server.c); then, in ready(), the drop to
 * an unprivileged user and the seccomp allow-list (sandbox.c).  From then
 * on no device is opened: a reload offers only what start-up opened.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conns.h"
#include "daemon.h"
#include "explain.h"
#include "journal.h"
#include "listen.h"
#include "log.h"
#include "notify.h"
#include "reaper.h"
#include "regs.h"
#include "revoke.h"
#include "sandbox.h"
#include "server.h"

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
/* What /dev/mem was opened as at start-up, for reloads to compare. */
static char *mem_path, *mem_iomem;

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
	    "                        with --check-config: judge one request\n"
	    "                        against FILE as mmapd would (exit 0\n"
	    "                        allowed, 1 refused, 2 bad request or file)\n"
	    "  -V, --version         print the version\n"
	    "  -h, --help            this text\n",
	    DEFAULT_CONFIG, DEFAULT_SOCKET, SANDBOX_DEFAULT_USER);
}

static void
errors_print(const char *path, const struct policy_errors *errs)
{
	size_t i;

	for (i = 0; i < errs->n; i++) {
		if (errs->v[i].line)
			log_err("%s:%u: %s", path, errs->v[i].line,
			    errs->v[i].msg);
		else
			log_err("%s: %s", path, errs->v[i].msg);
	}
}

/* What a policy read says that is likely not meant, as warnings. */
static void
warnings_log(const char *path, const struct policy *pol)
{
	struct policy_errors w = { 0 };
	size_t i;

	if (policy_warnings(pol, &w) < 0)
		log_warn("%s: out of memory for its warnings", path);
	for (i = 0; i < w.n; i++) {
		if (w.v[i].line)
			log_warn("%s:%u: warning: %s", path, w.v[i].line,
			    w.v[i].msg);
		else
			log_warn("%s: warning: %s", path, w.v[i].msg);
	}
	policy_errors_free(&w);
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
		errors_print(config_path, &errs);
		if (errs.n == 0)
			log_err("%s: %s", config_path, strerror(-err));
	} else
		warnings_log(config_path, *out);
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

static int
policy_wants_mem(const struct policy *pol)
{
	size_t i;

	for (i = 0; i < pol->n_entries; i++)
		if (pol->entries[i].kind == POLICY_MEM ||
		    (pol->entries[i].kind == POLICY_REGION &&
		    !pol->entries[i].is_pci))
			return 1;
	return 0;
}

/* Probe a stand-in as if it were /dev/mem, for tests (mmapd(8)). */
#define MEM_TEST_SEAM	"MMAPD_TEST_DEVMEM_PROBE"

/*
 * Raw /dev/mem fds go out only while the kernel keeps System RAM out of
 * them: ask it once, at start-up, with a RAM page it must refuse.
 */
static void
mem_strict(struct mmapd *d, const char *path)
{
	const char *seam = getenv(MEM_TEST_SEAM);
	uint64_t page;
	int rc;

	if (seam != NULL && strcmp(seam, "1") == 0) {
		/*
		 * The tests' stand-in for a kernel without STRICT_DEVMEM:
		 * a file, on which the RAM page maps (or, a FIFO, on which
		 * the answer cannot be told); the fail-safe must hold.
		 */
		log_warn("%s=1 (a test seam): the STRICT_DEVMEM probe runs on "
		    "%s although it is not /dev/mem", MEM_TEST_SEAM, path);
		rc = mem_ram_probe(&d->mem, &page);
	} else {
		rc = mem_strict_check(&d->mem, &page);
	}
	switch (rc) {
	case 1:
		d->mem_raw_ok = 1;
		log_info("mem: the kernel refuses System RAM at %#llx through "
		    "/dev/mem (STRICT_DEVMEM): raw fds may go out where the "
		    "policy says raw_fd_users", (unsigned long long)page);
		break;
	case -ENOTTY:
		/* A stand-in file: no physical memory behind it to guard. */
		d->mem_raw_ok = 1;
		log_warn("mem: %s is not /dev/mem (char 1:1): no STRICT_DEVMEM "
		    "check; its fd goes out where raw_fd_users says", path);
		break;
	case 0:
		log_err("mem: the kernel maps System RAM at %#llx through "
		    "/dev/mem: no STRICT_DEVMEM, so raw /dev/mem fds are never "
		    "handed out (Read and Write still work)",
		    (unsigned long long)page);
		break;
	default:
		log_err("mem: cannot tell whether the kernel enforces "
		    "STRICT_DEVMEM (%s): raw /dev/mem fds are never handed out",
		    strerror(-rc));
		break;
	}
}

/* /dev/mem as [mem] says, or by default; a failure only withdraws it. */
static void
mem_open(struct mmapd *d)
{
	const struct policy_entry *e = policy_find(d->policy, "mem");
	struct mem_params p = {
		.path = "/dev/mem",
		.iomem_path = "/proc/iomem",
		.access = O_RDWR,
		.cache = MAP_CACHE_DEFAULT,
	};
	int err;

	if (!policy_wants_mem(d->policy))
		return;
	if (e != NULL && e->kind == POLICY_MEM) {
		if (e->path)
			p.path = e->path;
		if (e->iomem)
			p.iomem_path = e->iomem;
		p.cache = e->cache;
	}
	err = mem_device_open(&d->mem, &p);
	if (err) {
		log_err("mem: cannot open %s or %s: %s; mem and its regions "
		    "are not offered", p.path, p.iomem_path, strerror(-err));
		return;
	}
	d->have_mem = 1;
	mem_path = strdup(p.path);
	mem_iomem = strdup(p.iomem_path);
	log_info("mem: %s opened (%s by default), table %s", p.path,
	    map_cache_name(d->mem.cache), p.iomem_path);
	mem_strict(d, p.path);
}

/*
 * What a new policy names that start-up did not open: /dev/mem, or
 * another file in its place.  Said, and left unoffered (ENODEV).
 */
static void
reload_mem(const struct mmapd *d, const struct policy *pol)
{
	const struct policy_entry *e = policy_find(pol, "mem");

	if (!policy_wants_mem(pol))
		return;
	if (!d->have_mem) {
		log_warn("SIGHUP: the new policy names /dev/mem, which was "
		    "not opened at start-up: restart mmapd to offer it");
		return;
	}
	if (e == NULL || e->kind != POLICY_MEM)
		return;
	if ((e->path && mem_path && strcmp(e->path, mem_path) != 0) ||
	    (e->iomem && mem_iomem && strcmp(e->iomem, mem_iomem) != 0))
		log_warn("SIGHUP: [mem] names %s and %s, but start-up opened "
		    "%s and %s, which stay in use: restart mmapd to change "
		    "them", e->path ? e->path : "?", e->iomem ? e->iomem : "?",
		    mem_path, mem_iomem);
}

/*
 * SIGHUP.  mmapd runs without privileges by now, so nothing is opened:
 * the new policy gets the devices opened at start-up, and what it names
 * beyond them is logged (restart mmapd) and refused with ENODEV.
 */
static void
reload(struct mmapd *d)
{
	struct policy *pol = NULL;

	if (config_none) {
		log_info("SIGHUP: running on the built-in policy: nothing to read");
		return;
	}
	log_info("SIGHUP: reading %s", config_path);
	if (policy_read(&pol) < 0) {
		log_err("SIGHUP: %s is broken: keeping the policy in force",
		    config_path);
		return;
	}
	reload_mem(d, pol);
	pcis_reload(d->pcis, d->n_pcis, pol);
	if (user_opt == NULL && run_user.name[0] != '\0' && pol->user != NULL &&
	    strcmp(pol->user, run_user.name) != 0 &&
	    strtoul(pol->user, NULL, 10) != run_user.uid)
		log_warn("SIGHUP: [daemon] user = %s: mmapd runs as %s until "
		    "it restarts", pol->user, run_user.name);
	policy_free(d->policy);
	d->policy = pol;
	shm_reload(d);
	revoke_policy_changed(d);
	log_info("SIGHUP: policy reloaded, %zu entries", pol->n_entries);
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
	/* Its thread is made dropped, then filtered with the loop's. */
	if (err == 0)
		err = reaper_start();
	if (err == 0)
		err = sandbox_filter(seccomp_action);
	if (err)
		log_err("start-up: the sandbox could not be set up: stopping");
	return err;
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
	struct server_config cfg = {
		.socket_path = DEFAULT_SOCKET,
		.reload = reload,
		.ready = ready,
	};
	struct mmapd d = { 0 };
	int c, err, status = 1;

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
			cfg.socket_path = optarg;
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
	mem_open(&d);
	err = pcis_open(d.policy, &d.pcis, &d.n_pcis);
	if (err == 0)
		err = regs_init();
	if (err) {
		log_err("start-up: %s", strerror(-err));
		goto out_devices;
	}

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
out_devices:
	pcis_close(d.pcis, d.n_pcis);
	map_device_close(&d.zero);
	if (d.have_mem)
		mem_device_close(&d.mem);
out:
	engine_close(&d.engine);
	policy_free(d.policy);
	free(mem_path);
	free(mem_iomem);
	notify_close();
	journal_close();
	return status;
}
