/*
 * The worker's side of the privileged monitor (mmapd runs as two
 * processes: see monitor.c).  The worker asks; the monitor checks
 * everything it is told and does only what the policy it read itself
 * allows.
 */
#ifndef MMAPD_PRIVSEP_H
#define MMAPD_PRIVSEP_H

#include <stdint.h>
#include <sys/types.h>

/*
 * How long the worker gives the monitor to answer a kill request before
 * it logs the kill as failed (ETIMEDOUT).  The loop never waits for it.
 */
#define PRIVSEP_WAIT_MS	1000

/*
 * Ask the monitor to send SIGKILL to the peer process of conn_fd, a
 * client connection accepted on mmapd's socket, and return at once: the
 * answer comes later, through privsep_kill_replies(), under *seq.  The
 * monitor finds the process from the fd itself (SO_PEERPIDFD, else
 * SO_PEERCRED and pidfd_open), never from a pid the worker names, and
 * refuses an fd that is not such a connection.  reason goes into the
 * monitor's log line.  0 once the request is queued on the rpc socket;
 * -ENOSYS when there is no monitor; -EAGAIN when the socket is full
 * (requests the monitor has not taken yet); another -errno on failure.
 */
int privsep_kill_send(int conn_fd, const char *reason, uint32_t *seq);

/*
 * One answer: seq as privsep_kill_send() gave it; err 0 once the signal
 * was sent, -ESRCH when the process is gone, -EINVAL when the fd is not
 * such a connection, -EPERM when its peer is mmapd itself or init,
 * another -errno on failure; pid whom it was for, or 0.
 */
typedef void privsep_reply_fn(void *arg, uint32_t seq, int err, pid_t pid);

/*
 * Read every answer waiting on the rpc socket, never waiting for one,
 * and hand each to fn in the order the monitor sent them (that of the
 * requests).  0 when none is left; -ECONNRESET when the monitor is
 * gone; -EPROTO when it sent what is no answer; another -errno.
 */
int privsep_kill_replies(privsep_reply_fn *fn, void *arg);

/* The worker's end of the rpc socket (made non-blocking).  0 or -errno. */
int privsep_init(int rpc);

#endif /* MMAPD_PRIVSEP_H */
