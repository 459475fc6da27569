/*
 * The worker's side of the privileged monitor (mmapd runs as two
 * processes: see monitor.c).  The worker asks; the monitor checks
 * everything it is told and does only what the policy it read itself
 * allows.
 */
#ifndef MMAPD_PRIVSEP_H
#define MMAPD_PRIVSEP_H

/*
 * Have the monitor send SIGKILL to the peer process of conn_fd, a client
 * connection accepted on mmapd's socket.  The monitor finds the process
 * from the fd itself (SO_PEERPIDFD, else SO_PEERCRED and pidfd_open),
 * never from a pid the worker names, and refuses an fd that is not such
 * a connection.  reason goes into the monitor's log line.  0 once the
 * signal was sent; -ESRCH when the process is gone; -ENOSYS when there
 * is no monitor; -ETIMEDOUT when the monitor did not answer within a
 * second; -EINVAL when conn_fd is not such a connection, -EPERM when its
 * peer is mmapd itself or init; another -errno on failure.
 */
int privsep_kill(int conn_fd, const char *reason);

/* The worker's end of the rpc socket (made non-blocking).  0 or -errno. */
int privsep_init(int rpc);

#endif /* MMAPD_PRIVSEP_H */
