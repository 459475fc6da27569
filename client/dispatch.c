/*
 * libmmapclient: the event loop's side.  mmapclient_dispatch() reads
 * what has come without blocking, a batch of packets per recvmmsg(2),
 * takes each in (reply.c), then runs the callbacks due, in the order
 * their packets came; the revoke handler and its Hello.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "internal.h"
#include "wire.h"

/* Packets one recvmmsg(2) takes; batches one dispatch reads, at most. */
#define RECV_BATCH	8
#define DISPATCH_BATCHES	8

/* The receive buffers, made at the first dispatch: about 33 KiB. */
struct rbatch {
	struct mmsghdr mm[RECV_BATCH];
	struct iovec iov[RECV_BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(int) * WIRE_MAX_FDS)];
		struct cmsghdr align;
	} ctl[RECV_BATCH];
	uint8_t data[RECV_BATCH][WIRE_MAX];
};

/*
 * One recvmmsg(2), without waiting, and every packet it brought taken
 * in.  The number of packets, 0 when none was there, or c's error.
 */
static int
batch_read(struct mmapclient *c)
{
	struct rbatch *b = c->rb;
	int fds[WIRE_MAX_FDS], i, n, reset = 0;
	size_t nfds;
	ssize_t len;

	if (b == NULL) {
		b = calloc(1, sizeof(*b));
		if (b == NULL)
			return conn_fail(c, -ENOMEM, "cannot allocate the "
			    "receive buffers");
		c->rb = b;
	}
	for (;;) {
		for (i = 0; i < RECV_BATCH; i++) {
			b->iov[i].iov_base = b->data[i];
			b->iov[i].iov_len = WIRE_MAX;
			b->mm[i].msg_hdr = (struct msghdr){
				.msg_iov = &b->iov[i],
				.msg_iovlen = 1,
				.msg_control = b->ctl[i].buf,
				.msg_controllen = sizeof(b->ctl[i].buf),
			};
			b->mm[i].msg_len = 0;
		}
		n = recvmmsg(c->fd, b->mm, RECV_BATCH,
		    MSG_DONTWAIT | MSG_CMSG_CLOEXEC, NULL);
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		/* Told of a reset first, the packets still queued next. */
		if (errno == ECONNRESET && !reset && readable_now(c->fd)) {
			reset = 1;
			continue;
		}
		len = -errno;
		nfds = 0;
		packet_in(c, len, NULL, fds, &nfds);
		calls_abort(c);
		return c->broken;
	}
	for (i = 0; i < n; i++) {
		len = wire_take_fds(&b->mm[i].msg_hdr, b->mm[i].msg_len, fds,
		    &nfds);
		/* After the end of the stream, or broken: fds closed. */
		packet_in(c, len, b->data[i], fds, &nfds);
	}
	if (c->broken) {
		calls_abort(c);
		return c->broken;
	}
	return n;
}

/* Run the callbacks due, oldest first; how many ran. */
static int
queue_run(struct mmapclient *c)
{
	struct mmapclient_result res;
	struct mmapclient_revoking ev;
	struct region *reg;
	struct done d;
	int ran = 0;

	while (c->q_len > 0) {
		/* A copy: a callback may queue more, and the ring move. */
		d = c->q[c->q_head];
		c->q_head = (c->q_head + 1) % c->q_cap;
		c->q_len--;
		if (d.event) {
			if (c->on_revoke == NULL)
				continue;
			/* Looked up now: it may have been released since. */
			reg = region_find(c, d.lease);
			ev = (struct mmapclient_revoking){
				.lease_id = d.lease,
				.region = reg ? &reg->pub : NULL,
				.reason = d.text,
				.deadline_unix_sec = d.deadline,
				.seconds = d.seconds,
				.enforce = (enum mmapclient_enforce)d.enforce,
			};
			c->on_revoke(c, &ev, c->revoke_arg);
			ran++;
			continue;
		}
		if (d.err)
			memcpy(c->msg, d.text, sizeof(c->msg));
		res = (struct mmapclient_result){
			.request_id = d.id,
			.error = d.err,
			.message = d.text,
			.region = d.reg ? &d.reg->pub : NULL,
			.lease_id = d.lease,
			.value = d.value,
		};
		d.fn(c, &res, d.arg);
		ran++;
	}
	return ran;
}

int
mmapclient_dispatch(struct mmapclient *c)
{
	int ran = 0, n = RECV_BATCH, batches = 0;

	if (c == NULL)
		return -EINVAL;
	for (;;) {
		/* Broken by any call: the requests in flight end with it. */
		if (c->broken)
			calls_abort(c);
		ran += queue_run(c);
		if (c->broken) {
			memcpy(c->msg, c->broken_msg, sizeof(c->msg));
			return c->broken;
		}
		/* Fewer than asked: the socket was empty. */
		if (n < RECV_BATCH || batches++ == DISPATCH_BATCHES)
			return ran;
		n = batch_read(c);
		if (n == -ENOMEM && !c->broken)
			return ran ? ran : n;
	}
}

int
mmapclient_pending(const struct mmapclient *c)
{
	return c ? (int)c->q_len : 0;
}

int
mmapclient_in_flight(const struct mmapclient *c)
{
	return c ? (int)c->in_flight : 0;
}

int
mmapclient_on_revoke(struct mmapclient *c, mmapclient_revoking_fn *fn,
    void *userdata)
{
	int err;

	if (c == NULL)
		return -EINVAL;
	if (fn != NULL && !c->events) {
		err = conn_hello(c, 1);
		if (err)
			return err;
	}
	c->on_revoke = fn;
	c->revoke_arg = userdata;
	return 0;
}
