/*
 * privsep_kill(), the worker's side: the connection's fd goes to the
 * monitor on the rpc socket, which answers each request in turn
 * (monitor.c, kill_peer).  The loop waits at most PRIVSEP_WAIT_MS for
 * the answer; one that comes later is told apart by its sequence number
 * and dropped.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"
#include "privsep.h"
#include "privsep-msg.h"

#define PRIVSEP_WAIT_MS	1000

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

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
privsep_kill(int conn_fd, const char *reason)
{
	struct pmsg msg;
	struct pollfd p;
	int fds[PMSG_FDS_MAX], err;
	int64_t end, left;

	if (rpc_fd < 0)
		return -ENOSYS;
	memset(&msg, 0, sizeof(msg));
	msg.type = PMSG_KILL;
	msg.u.kill.seq = ++rpc_seq;
	snprintf(msg.u.kill.reason, sizeof(msg.u.kill.reason), "%s",
	    reason != NULL ? reason : "");
	err = pmsg_send(rpc_fd, &msg, &conn_fd, 1);
	if (err)
		return err;
	end = now_ms() + PRIVSEP_WAIT_MS;
	for (;;) {
		err = pmsg_recv(rpc_fd, MSG_DONTWAIT, 1u << PMSG_KILL_REPLY,
		    &msg, fds);
		if (err == 0 && msg.u.kill_reply.seq == rpc_seq)
			return msg.u.kill_reply.err <= 0 &&
			    msg.u.kill_reply.err > -4096 ?
			    msg.u.kill_reply.err : -EPROTO;
		if (err == 0)
			continue;	/* an answer given up on before */
		if (err != -EAGAIN)
			return err;
		left = end - now_ms();
		if (left <= 0)
			break;
		p.fd = rpc_fd;
		p.events = POLLIN;
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return -errno;
	}
	log_err("privsep: the monitor did not answer a kill in %d ms",
	    PRIVSEP_WAIT_MS);
	return -ETIMEDOUT;
}
