/*
 * The monitor: mmapd's main process, beside the sandboxed worker it
 * forked (see monitor.c).
 */
#ifndef MMAPD_MONITOR_H
#define MMAPD_MONITOR_H

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include "sandbox.h"

/* asm-generic/socket.h, Linux 6.5; glibc 2.36's headers lack it. */
#define MONITOR_SO_PEERPIDFD	77

struct monitor_config {
	const char *config_path;
	int config_given;	/* -c: a missing file is an error */
	int config_none;	/* --no-config: nothing to read */
	const char *run_user;	/* whom the worker runs as, for a log line */
	int user_fixed;		/* --user: [daemon] user does not count */
	int ctl, rpc;		/* the monitor's ends of the socketpairs */
	pid_t worker;
	int worker_pidfd;
	/* mmapd's listening socket: a connection to kill is one of its. */
	struct sockaddr_un listen_addr;
	socklen_t listen_len;
	int iomem_fd;		/* /proc/iomem, opened at start-up, or -1 */
	enum sandbox_action seccomp;
	int root;		/* started as root: keep the two capabilities */
};

/*
 * Be the monitor until the worker ends: give up all but the kept
 * capabilities, load the monitor's allow-list, then serve signals and
 * the worker's messages.  SIGHUP, SIGTERM, SIGINT and SIGCHLD must be
 * blocked already (they are read from a signalfd).  Returns the exit
 * status for mmapd: the worker's when it stopped cleanly, else non-zero.
 */
int monitor_run(struct monitor_config *cfg);

/* monitor-sandbox.c: the capabilities, no_new_privs, the allow-list. */
int monitor_sandbox(enum sandbox_action act, int root);

#endif /* MMAPD_MONITOR_H */
