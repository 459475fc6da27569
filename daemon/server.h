/* The event loop's face to main.c. */
#ifndef MMAPD_SERVER_H
#define MMAPD_SERVER_H

struct mmapd;
struct listener;

struct server_config {
	/* Listening already (main.c opened it before the fork); closed here. */
	struct listener *listener;
	/* SIGHUP: read the policy again; keep the old one if it is broken. */
	void (*reload)(struct mmapd *d);
	/*
	 * Called once the socket listens and every loop handle (poll, timer,
	 * signals) is set up, before the loop runs: main.c drops privileges
	 * and loads the seccomp filter here.  <0 stops the start-up.
	 */
	int (*ready)(struct mmapd *d);
	/*
	 * The monitor's ctl socket (monitor.c), or -1: ctl_event runs when
	 * it is readable; <0 stops the loop (the monitor is gone).
	 */
	int ctl_fd;
	int (*ctl_event)(struct mmapd *d);
	/*
	 * The monitor's rpc socket (privsep.c), or -1: rpc_event runs when
	 * it is readable (the answers to kills); <0 stops the loop.
	 */
	int rpc_fd;
	int (*rpc_event)(struct mmapd *d);
};

/* Serve until SIGTERM or SIGINT.  0 then, or a negative errno at start. */
int server_run(struct mmapd *d, const struct server_config *cfg);

#endif /* MMAPD_SERVER_H */
