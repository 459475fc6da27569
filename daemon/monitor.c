/*
 * The monitor: mmapd's main process, privileged, doing almost nothing.
 *
 * mmapd starts as one process (main.c): the policy, the devices, the
 * listening socket.  Then it forks.  The child is the worker: it drops
 * to the run user with no capabilities, loads the seccomp allow-list and
 * serves every client (server.c and all that it calls).  The parent is
 * the monitor, this file: it keeps CAP_SYS_RAWIO and CAP_KILL alone and
 * an allow-list of its own (monitor-sandbox.c), and it has three jobs:
 *
 *	SIGHUP		read the policy file itself, open what it names and
 *			hand the worker the text and the fds (reload_run)
 *	PMSG_KILL	SIGKILL the peer of a client connection the worker
 *			hands over, found from the connection, never from a
 *			pid the worker names (kill_peer)
 *	SIGTERM, SIGINT	passed to the worker; its exit is mmapd's
 *
 * It parses no client input.  What it reads from the worker is one of
 * three fixed-size messages on ctl and one on rpc (privsep-msg.h); any
 * other packet means the worker is not itself any more, and the monitor
 * kills it and exits non-zero, taking mmapd down for the service manager
 * to restart, rather than go on beside a worker it cannot trust.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "listen.h"
#include "log.h"
#include "monitor.h"
#include "notify.h"
#include "privsep-msg.h"

struct monitor {
	struct monitor_config *cfg;
	int sigfd;
	uint32_t gen;		/* of the last policy sent */
	int reloading;		/* sent, not yet applied */
	int reload_again;	/* a SIGHUP came meanwhile */
	int stopping;		/* SIGTERM or SIGINT passed on */
	int ctl_open, rpc_open;
};

/* ---------------------------------------------------------------------
 * Reload: the policy, what it names opened, sent to the worker
 * --------------------------------------------------------------------- */

/*
 * The file's text and the policy parsed from it; *text NULL with
 * *builtin set for the built-in policy.  0, or -errno (logged).
 */
static int
reload_read(const struct monitor_config *cfg, char **text, size_t *len,
    int *builtin, struct policy **pol)
{
	struct policy_errors errs = { 0 };
	int err;

	*text = NULL;
	*len = 0;
	*builtin = 0;
	if (cfg->config_none) {
		*builtin = 1;
		return policy_default(pol);
	}
	err = policy_text_read(cfg->config_path, text, len);
	if (err == -ENOENT && !cfg->config_given) {
		log_info("SIGHUP: %s does not exist: the built-in policy",
		    cfg->config_path);
		*builtin = 1;
		return policy_default(pol);
	}
	if (err) {
		log_err("SIGHUP: %s: %s", cfg->config_path, strerror(-err));
		return err;
	}
	err = policy_parse(*text, *len, pol, &errs);
	if (err) {
		policy_log_errors(cfg->config_path, &errs);
		if (errs.n == 0)
			log_err("%s: %s", cfg->config_path, strerror(-err));
		free(*text);
		*text = NULL;
	} else {
		policy_log_warnings(cfg->config_path, *pol);
	}
	policy_errors_free(&errs);
	return err;
}

/* A device's fds in the order of their mask bits: see privsep-msg.h. */
static unsigned int
dev_fds(const struct map_device *dev, int iomem_fd, int fds[PMSG_FDS_MAX],
    uint32_t *mask)
{
	unsigned int n = 0;
	int i;

	*mask = 0;
	for (i = 0; i < MAP_CACHE_NR; i++)
		if (dev->fd[i] >= 0) {
			*mask |= 1u << i;
			fds[n++] = dev->fd[i];
		}
	for (i = 0; i < MAP_CACHE_NR; i++)
		if (dev->fd_ro[i] >= 0) {
			*mask |= PMSG_FD_RO(i);
			fds[n++] = dev->fd_ro[i];
		}
	if (iomem_fd >= 0) {
		*mask |= PMSG_FD_IOMEM;
		fds[n++] = iomem_fd;
	}
	return n;
}

static int
send_text(struct monitor *m, const char *text, size_t len)
{
	struct pmsg msg;
	size_t off = 0, k;
	int err;

	while (off < len) {
		k = len - off < PMSG_TEXT_CHUNK ? len - off : PMSG_TEXT_CHUNK;
		memset(&msg, 0, sizeof(msg));
		msg.type = PMSG_POLICY;
		msg.u.policy.gen = m->gen;
		msg.u.policy.total = (uint32_t)len;
		msg.u.policy.offset = (uint32_t)off;
		msg.u.policy.len = (uint32_t)k;
		memcpy(msg.u.policy.data, text + off, k);
		err = pmsg_send(m->cfg->ctl, &msg, NULL, 0);
		if (err)
			return err;
		off += k;
	}
	return 0;
}

static int
send_mem(struct monitor *m, const struct mem_device *mem, const char *path)
{
	struct pmsg msg;
	int fds[PMSG_FDS_MAX];
	unsigned int n;

	memset(&msg, 0, sizeof(msg));
	msg.type = PMSG_MEM;
	msg.u.mem.gen = m->gen;
	n = dev_fds(&mem->dev, mem->iomem_fd, fds, &msg.u.mem.fdmask);
	msg.u.mem.cache = (uint32_t)mem->cache;
	msg.u.mem.addr_bits = mem->addr_bits;
	msg.u.mem.phys_bits = mem->phys_bits;
	msg.u.mem.access = mem->dev.access;
	snprintf(msg.u.mem.path, sizeof(msg.u.mem.path), "%s", path);
	return pmsg_send(m->cfg->ctl, &msg, fds, n);
}

static int
send_pci(struct monitor *m, const struct pci_region *r)
{
	struct pmsg msg;
	int fds[PMSG_FDS_MAX];
	unsigned int n;

	memset(&msg, 0, sizeof(msg));
	msg.type = PMSG_PCI;
	msg.u.pci.gen = m->gen;
	n = dev_fds(&r->pci.dev, r->pci.iomem_fd, fds, &msg.u.pci.fdmask);
	snprintf(msg.u.pci.name, sizeof(msg.u.pci.name), "%s", r->name);
	snprintf(msg.u.pci.address, sizeof(msg.u.pci.address), "%s",
	    r->pci.address);
	msg.u.pci.bar = r->pci.bar;
	msg.u.pci.access = r->pci.dev.access;
	msg.u.pci.prefetch = (uint32_t)r->pci.prefetch;
	msg.u.pci.start = r->pci.start;
	msg.u.pci.len = r->pci.len;
	msg.u.pci.span = r->pci.span;
	return pmsg_send(m->cfg->ctl, &msg, fds, n);
}

static const char *
mem_path_of(const struct policy *pol)
{
	const struct policy_entry *e = policy_find(pol, "mem");

	return e != NULL && e->kind == POLICY_MEM && e->path ? e->path :
	    "/dev/mem";
}

/*
 * SIGHUP: read, open, send.  The worker parses the same text and swaps
 * in the policy with these devices, or keeps its own and says why; its
 * PMSG_APPLIED ends the reload (READY=1).  The monitor keeps none of it.
 * -errno only when the worker could not be told: mmapd then stops.
 */
static int
reload_run(struct monitor *m)
{
	const struct monitor_config *cfg = m->cfg;
	struct pci_region *pcis = NULL;
	struct mem_device mem;
	struct policy *pol = NULL;
	struct pmsg msg;
	char *text = NULL;
	size_t len, n_pcis = 0, i;
	int builtin, have_mem = 0, err;
	const int *kept = cfg->iomem_fd >= 0 ? &cfg->iomem_fd : NULL;

	if (m->reloading) {
		m->reload_again = 1;
		return 0;
	}
	(void)notify_reloading("reloading the policy");
	log_info("SIGHUP: reading %s", cfg->config_none ? "the built-in "
	    "policy" : cfg->config_path);
	if (reload_read(cfg, &text, &len, &builtin, &pol) < 0) {
		log_err("SIGHUP: %s is broken: keeping the policy in force",
		    cfg->config_path);
		(void)notify_send("READY=1\nSTATUS=the new policy is broken: "
		    "keeping the one in force");
		return 0;
	}
	if (!cfg->user_fixed && cfg->run_user != NULL && pol->user != NULL &&
	    strcmp(pol->user, cfg->run_user) != 0)
		log_warn("SIGHUP: [daemon] user = %s: mmapd runs as %s until "
		    "it restarts", pol->user, cfg->run_user);
	if (mem_open_policy(pol, kept, &mem) == 0)
		have_mem = 1;
	err = pcis_open(pol, kept, &pcis, &n_pcis);
	if (err) {
		log_err("SIGHUP: %s: keeping the policy in force",
		    strerror(-err));
		(void)notify_send("READY=1");
		goto out;
	}

	m->gen++;
	err = send_text(m, text, len);
	if (err == 0 && have_mem)
		err = send_mem(m, &mem, mem_path_of(pol));
	for (i = 0; err == 0 && i < n_pcis; i++)
		err = send_pci(m, &pcis[i]);
	if (err == 0) {
		memset(&msg, 0, sizeof(msg));
		msg.type = PMSG_COMMIT;
		msg.u.commit.gen = m->gen;
		msg.u.commit.builtin = (uint32_t)builtin;
		msg.u.commit.have_mem = (uint32_t)have_mem;
		msg.u.commit.n_pci = (uint32_t)n_pcis;
		err = pmsg_send(cfg->ctl, &msg, NULL, 0);
	}
	if (err)
		log_err("SIGHUP: cannot hand the worker the new policy: %s",
		    strerror(-err));
	else
		m->reloading = 1;
out:
	/* The worker holds its own copies now; the monitor keeps none. */
	if (have_mem)
		mem_device_close(&mem);
	pcis_close(pcis, n_pcis);
	policy_free(pol);
	free(text);
	return err;
}

/* ---------------------------------------------------------------------
 * Kill: the peer of a connection to mmapd's socket, and no one else
 * --------------------------------------------------------------------- */

/*
 * Is fd a connection accepted on mmapd's listening socket?  An AF_UNIX
 * SOCK_SEQPACKET socket, not listening, bound to the listener's address
 * (an accepted socket carries its listener's; a socket that connected
 * out, a socketpair's end, another daemon's connection do not).
 */
static int
kill_check_conn(const struct monitor_config *cfg, int fd)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	struct stat st;
	int v, err;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISSOCK(st.st_mode))
		return -ENOTSOCK;
	if ((err = listen_sockopt(fd, SO_DOMAIN, &v)) < 0)
		return err;
	if (v != AF_UNIX)
		return -EINVAL;
	if ((err = listen_sockopt(fd, SO_TYPE, &v)) < 0)
		return err;
	if (v != SOCK_SEQPACKET)
		return -EINVAL;
	if ((err = listen_sockopt(fd, SO_ACCEPTCONN, &v)) < 0)
		return err;
	if (v != 0)
		return -EINVAL;
	memset(&sa, 0, sizeof(sa));
	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		return -errno;
	if (cfg->listen_len <= sizeof(sa_family_t) ||
	    len != cfg->listen_len || memcmp(&sa, &cfg->listen_addr, len) != 0)
		return -EINVAL;
	return 0;
}

/*
 * The peer's pidfd and pid.  SO_PEERPIDFD names the very process that
 * connected (Linux 6.5); else SO_PEERCRED's pid is opened, and then the
 * connection must still have its peer and SO_PEERCRED the same pid, so
 * the pid is not one reused since the peer went.
 */
static int
kill_peer_pidfd(int fd, int *pidfd, pid_t *pid)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	struct pollfd p = { .fd = fd, .events = POLLRDHUP };
	int pfd;

	*pidfd = -1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return -errno;
	*pid = cr.pid;
	/* 0: the peer is in another pid namespace, or none. */
	if (cr.pid <= 0)
		return -ESRCH;
	len = sizeof(pfd);
	if (getsockopt(fd, SOL_SOCKET, MONITOR_SO_PEERPIDFD, &pfd, &len) == 0) {
		*pidfd = pfd;
		return 0;
	}
	if (errno != ENOPROTOOPT)
		return -errno;
	pfd = pidfd_open(cr.pid, 0);
	if (pfd < 0)
		return -errno;
	len = sizeof(cr);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 ||
	    cr.pid != *pid || poll(&p, 1, 0) != 0) {
		close(pfd);
		return -ESRCH;
	}
	*pidfd = pfd;
	return 0;
}

static int
kill_peer(const struct monitor_config *cfg, int fd, const char *reason,
    pid_t *pidp)
{
	char q[96];
	pid_t pid = 0;
	int pidfd = -1, err;

	*pidp = 0;
	err = kill_check_conn(cfg, fd);
	if (err) {
		log_warn("monitor: kill (%s) refused: the fd is not a "
		    "connection to mmapd's socket (%s)", log_quote(reason, q,
		    sizeof(q)), strerror(-err));
		return err == -ENOTSOCK ? err : -EINVAL;
	}
	err = kill_peer_pidfd(fd, &pidfd, &pid);
	if (err == 0 && (pid == getpid() || pid == 1 || pid == cfg->worker)) {
		log_warn("monitor: kill (%s) refused: pid %d is mmapd or init",
		    log_quote(reason, q, sizeof(q)), (int)pid);
		err = -EPERM;
	}
	if (err == 0 && pidfd_send_signal(pidfd, SIGKILL, NULL, 0) < 0)
		err = -errno;
	if (pidfd >= 0)
		close(pidfd);
	if (err == 0)
		log_notice("monitor: SIGKILL sent to pid %d, the peer of a "
		    "client connection (%s)", (int)pid,
		    log_quote(reason, q, sizeof(q)));
	else if (err != -EPERM || pid == 0)
		log_warn("monitor: kill of pid %d (%s): %s", (int)pid,
		    log_quote(reason, q, sizeof(q)), strerror(-err));
	*pidp = pid;
	return err;
}

/* ---------------------------------------------------------------------
 * The worker's messages
 * --------------------------------------------------------------------- */

/*
 * The worker's sd_notify text: only STATUS= lines (control bytes made
 * spaces), STOPPING=1, and READY=1 when no reload is under way: the
 * monitor says READY=1 itself once the worker applied a new policy.
 */
static void
notify_forward(struct monitor *m, struct pmsg_notify *n)
{
	char out[sizeof(n->text)], *line, *save = NULL, *p;
	size_t len = 0, k;

	if (memchr(n->text, '\0', sizeof(n->text)) == NULL)
		return;
	out[0] = '\0';
	for (line = strtok_r(n->text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "STATUS=", 7) == 0) {
			for (p = line + 7; *p != '\0'; p++)
				if ((unsigned char)*p < 0x20 || *p == 0x7f)
					*p = ' ';
		} else if (strcmp(line, "STOPPING=1") != 0 &&
		    (strcmp(line, "READY=1") != 0 || m->reloading)) {
			continue;
		}
		k = strlen(line);
		if (len + k + 2 > sizeof(out))
			break;
		memcpy(out + len, line, k);
		len += k;
		out[len++] = '\n';
		out[len] = '\0';
	}
	if (len > 0) {
		out[len - 1] = '\0';
		(void)notify_send("%s", out);
	}
}

static void
applied(struct monitor *m, const struct pmsg_applied *a)
{
	if (!m->reloading || a->gen != m->gen)
		return;
	m->reloading = 0;
	if (a->err == 0) {
		log_info("SIGHUP: the worker serves the new policy, %u entries",
		    a->entries);
		(void)notify_send("READY=1\nSTATUS=serving %u clients, %u "
		    "leases", a->clients, a->leases);
	} else {
		log_err("SIGHUP: the worker kept the policy in force: %s",
		    strerror(-a->err));
		(void)notify_send("READY=1\nSTATUS=serving %u clients, %u "
		    "leases; the reload failed: %s", a->clients, a->leases,
		    strerror(-a->err));
	}
}

/* 0, or -errno: the worker is broken or gone. */
static int
ctl_event(struct monitor *m)
{
	struct pmsg msg;
	int fds[PMSG_FDS_MAX], err;

	for (;;) {
		err = pmsg_recv(m->cfg->ctl, MSG_DONTWAIT,
		    (1u << PMSG_APPLIED) | (1u << PMSG_NOTIFY) |
		    (1u << PMSG_RELOAD), &msg, fds);
		if (err == -EAGAIN)
			return 0;
		if (err)
			return err;
		switch (msg.type) {
		case PMSG_APPLIED:
			applied(m, &msg.u.applied);
			if (!m->reloading && m->reload_again) {
				m->reload_again = 0;
				if ((err = reload_run(m)) < 0)
					return err;
			}
			break;
		case PMSG_NOTIFY:
			notify_forward(m, &msg.u.notify);
			break;
		case PMSG_RELOAD:
			log_info("monitor: the worker got SIGHUP: reloading");
			if ((err = reload_run(m)) < 0)
				return err;
			break;
		}
	}
}

static int
rpc_event(struct monitor *m)
{
	struct pmsg msg, reply;
	int fds[PMSG_FDS_MAX], err;
	pid_t pid;

	err = pmsg_recv(m->cfg->rpc, MSG_DONTWAIT, 1u << PMSG_KILL, &msg, fds);
	if (err == -EAGAIN)
		return 0;
	if (err)
		return err;
	msg.u.kill.reason[sizeof(msg.u.kill.reason) - 1] = '\0';
	err = kill_peer(m->cfg, fds[0], msg.u.kill.reason, &pid);
	close(fds[0]);
	memset(&reply, 0, sizeof(reply));
	reply.type = PMSG_KILL_REPLY;
	reply.u.kill_reply.seq = msg.u.kill.seq;
	reply.u.kill_reply.err = err;
	reply.u.kill_reply.pid = pid;
	return pmsg_send(m->cfg->rpc, &reply, NULL, 0);
}

/* ---------------------------------------------------------------------
 * The loop
 * --------------------------------------------------------------------- */

/* 0, or -errno: mmapd must stop. */
static int
signal_event(struct monitor *m)
{
	struct signalfd_siginfo si;
	ssize_t n;

	for (;;) {
		n = read(m->sigfd, &si, sizeof(si));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n != (ssize_t)sizeof(si))
			return n < 0 ? -errno : -EIO;
		switch (si.ssi_signo) {
		case SIGHUP:
			if (!m->stopping && reload_run(m) < 0)
				return -EPIPE;
			break;
		case SIGTERM:
		case SIGINT:
			log_info("monitor: %s: stopping the worker",
			    si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
			m->stopping = 1;
			if (pidfd_send_signal(m->cfg->worker_pidfd,
			    (int)si.ssi_signo, NULL, 0) < 0 && errno != ESRCH)
				log_err("monitor: cannot signal the worker: %s",
				    strerror(errno));
			break;
		default:
			break;		/* SIGCHLD: the pidfd says it */
		}
	}
}

/* The worker ended: its status, logged, as mmapd's. */
static int
worker_reap(struct monitor *m)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PIDFD, (id_t)m->cfg->worker_pidfd, &si, WEXITED) < 0) {
		log_err("monitor: the worker (pid %d) is gone: %s",
		    (int)m->cfg->worker, strerror(errno));
		return 1;
	}
	if (si.si_code == CLD_EXITED && si.si_status == 0) {
		if (!m->stopping)
			log_warn("monitor: the worker (pid %d) stopped by "
			    "itself: stopping", (int)m->cfg->worker);
		return 0;
	}
	if (si.si_code == CLD_EXITED) {
		log_err("monitor: the worker (pid %d) exited with status %d: "
		    "stopping", (int)m->cfg->worker, si.si_status);
		return si.si_status;
	}
	log_err("monitor: the worker (pid %d) was killed by signal %d (%s): "
	    "stopping", (int)m->cfg->worker, si.si_status,
	    strsignal(si.si_status));
	return 128 + si.si_status;
}

/*
 * The worker cannot be trusted, or not reached: it goes, and mmapd with
 * it.  -EPROTO: a packet that is no message it may send on chan.
 */
static int
worker_broken(struct monitor *m, const char *chan, int err)
{
	if (err == -EPROTO)
		log_err("monitor: the worker sent a malformed or unexpected "
		    "message on %s: killing it and stopping", chan);
	else
		log_err("monitor: the worker's %s: %s: killing it and "
		    "stopping", chan, strerror(-err));
	(void)pidfd_send_signal(m->cfg->worker_pidfd, SIGKILL, NULL, 0);
	(void)worker_reap(m);
	return 1;
}

int
monitor_run(struct monitor_config *cfg)
{
	struct monitor m = { .cfg = cfg, .ctl_open = 1, .rpc_open = 1 };
	struct pollfd p[4];
	sigset_t set;
	int err;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	m.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (m.sigfd < 0)
		log_err("monitor: signalfd: %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	if (m.sigfd < 0 || monitor_sandbox(cfg->seccomp, cfg->root) < 0) {
		log_err("monitor: could not be set up: stopping");
		(void)pidfd_send_signal(cfg->worker_pidfd, SIGKILL, NULL, 0);
		(void)worker_reap(&m);
		return 1;
	}
	for (;;) {
		p[0] = (struct pollfd){ .fd = m.sigfd, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = m.ctl_open ? cfg->ctl : -1,
		    .events = POLLIN };
		p[2] = (struct pollfd){ .fd = m.rpc_open ? cfg->rpc : -1,
		    .events = POLLIN };
		p[3] = (struct pollfd){ .fd = cfg->worker_pidfd,
		    .events = POLLIN };
		if (poll(p, 4, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_err("monitor: poll: %s: stopping", strerror(errno));
			(void)pidfd_send_signal(cfg->worker_pidfd, SIGKILL,
			    NULL, 0);
			(void)worker_reap(&m);
			return 1;
		}
		if (p[0].revents && (err = signal_event(&m)) < 0)
			return worker_broken(&m, "ctl (a reload)", err);
		if (p[1].revents) {
			err = ctl_event(&m);
			if (err == -ECONNRESET)
				m.ctl_open = 0;	/* exiting: the pidfd says */
			else if (err < 0)
				return worker_broken(&m, "ctl", err);
		}
		if (p[2].revents) {
			err = rpc_event(&m);
			if (err == -ECONNRESET)
				m.rpc_open = 0;
			else if (err < 0)
				return worker_broken(&m, "rpc", err);
		}
		if (p[3].revents)
			return worker_reap(&m);
	}
}
