/*
 * The worker's side of the kill request: the connection's fd goes to
 * the monitor on the rpc socket, which answers each request in turn
 * (monitor.c, kill_peer).  Nothing here waits: the request is queued on
 * the socket, and its answer is read when the loop sees the socket
 * readable; the caller matches the two by their sequence number.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "privsep.h"
#include "privsep-msg.h"

static int rpc_fd = -1;
static uint32_t rpc_seq;

int
privsep_init(int rpc)
{
	int fl = fcntl(rpc, F_GETFL);

	if (fl < 0 || fcntl(rpc, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	rpc_fd = rpc;
	return 0;
}

int
privsep_kill_send(int conn_fd, const char *reason, uint32_t *seq)
{
	struct pmsg msg;
	int err;

	if (rpc_fd < 0)
		return -ENOSYS;
	memset(&msg, 0, sizeof(msg));
	msg.type = PMSG_KILL;
	msg.u.kill.seq = rpc_seq + 1;
	snprintf(msg.u.kill.reason, sizeof(msg.u.kill.reason), "%s",
	    reason != NULL ? reason : "");
	/*
	 * The lines held so far first: the monitor logs the kill at once.
	 * The socket is non-blocking: a full one is -EAGAIN, not a wait.
	 */
	log_flush();
	err = pmsg_send(rpc_fd, &msg, &conn_fd, 1);
	if (err)
		return err;
	*seq = ++rpc_seq;
	return 0;
}

int
privsep_kill_replies(privsep_reply_fn *fn, void *arg)
{
	struct pmsg msg;
	int fds[PMSG_FDS_MAX], err, res;

	if (rpc_fd < 0)
		return -ENOSYS;
	for (;;) {
		err = pmsg_recv(rpc_fd, MSG_DONTWAIT, 1u << PMSG_KILL_REPLY,
		    &msg, fds);
		if (err == -EAGAIN)
			return 0;
		if (err)
			return err;
		/* The monitor's word is an errno or 0, nothing else. */
		res = msg.u.kill_reply.err;
		if (res > 0 || res <= -4096)
			res = -EPROTO;
		fn(arg, msg.u.kill_reply.seq, res, msg.u.kill_reply.pid);
	}
}
