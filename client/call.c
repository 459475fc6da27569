/*
 * libmmapclient: requests in flight.  Every request, synchronous or
 * not, is a call: a slot keyed by its request id, sent without waiting
 * for its reply, and completed by the packet that answers it (reply.c).
 * A synchronous call then reads packets one by one until its own slot
 * is answered; whatever else they answer, or the events they carry, is
 * queued for mmapclient_dispatch() (dispatch.c).
 *
 * Nothing here allocates per request: the slots are a table that grows
 * by doubling, and the queue of callbacks gets room for every call in
 * flight when the call starts, so that answering one never fails for
 * want of memory.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"
#include "wire.h"

#define CALLS_MIN	16
/* Requests in flight on one connection, at most: a table of 4 MiB. */
#define CALLS_MAX	65536

int
readable_now(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

struct call *
call_find(struct mmapclient *c, uint64_t id)
{
	struct call *k;

	if (c->calls_cap == 0 || id == 0)
		return NULL;
	k = &c->calls[id & (c->calls_cap - 1)];
	return k->id == id ? k : NULL;
}

void
call_free(struct mmapclient *c, struct call *k)
{
	if (k->rep)
		mmapd__v1__reply__free_unpacked(k->rep, NULL);
	if (k->fd >= 0 && k->id != 0 && k->kind == CALL_REPLY)
		close(k->fd);
	while (k->nfds > 0)
		close(k->fds[--k->nfds]);
	free(k->fds);
	if (k->id != 0 && k->kind == CALL_QUIET)
		c->n_quiet--;
	memset(k, 0, sizeof(*k));
	k->fd = -1;
	c->in_flight--;
}

struct call *
call_oldest(struct mmapclient *c)
{
	struct call *best = NULL;
	size_t i;

	for (i = 0; i < c->calls_cap; i++) {
		if (c->calls[i].id != 0 && !c->calls[i].done &&
		    (best == NULL || c->calls[i].id < best->id))
			best = &c->calls[i];
	}
	return best;
}

/*
 * Double the table (or make it) and put every call where its id says.
 * Two ids in different slots of a table differ in their low bits, so
 * they still do in one twice its size.
 */
static int
calls_grow(struct mmapclient *c)
{
	size_t cap = c->calls_cap ? c->calls_cap * 2 : CALLS_MIN, i;
	struct call *v;

	if (cap > CALLS_MAX)
		return -EAGAIN;
	v = calloc(cap, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	for (i = 0; i < cap; i++)
		v[i].fd = -1;
	for (i = 0; i < c->calls_cap; i++) {
		if (c->calls[i].id != 0)
			v[c->calls[i].id & (cap - 1)] = c->calls[i];
	}
	free(c->calls);
	c->calls = v;
	c->calls_cap = cap;
	return 0;
}

int
done_reserve(struct mmapclient *c, size_t more)
{
	size_t want = c->q_len + more, cap, i;
	struct done *v;

	if (want <= c->q_cap)
		return 0;
	for (cap = c->q_cap ? c->q_cap : CALLS_MIN; cap < want; cap *= 2)
		if (cap > SIZE_MAX / 2 / sizeof(*v))
			return -ENOMEM;
	v = malloc(cap * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	/* Unwrapped, oldest first. */
	for (i = 0; i < c->q_len; i++)
		v[i] = c->q[(c->q_head + i) % c->q_cap];
	free(c->q);
	c->q = v;
	c->q_cap = cap;
	c->q_head = 0;
	return 0;
}

int
done_push(struct mmapclient *c, const struct done *d)
{
	int err = done_reserve(c, 1);

	if (err)
		return err;
	c->q[(c->q_head + c->q_len) % c->q_cap] = *d;
	c->q_len++;
	return 0;
}

void
calls_abort(struct mmapclient *c)
{
	struct call *k;
	size_t i;

	for (i = 0; i < c->calls_cap; i++) {
		k = &c->calls[i];
		if (k->id != 0 && !k->done)
			call_end_msg(c, k, c->broken, c->broken_msg);
	}
}

int
conn_read_one(struct mmapclient *c, int flags)
{
	uint8_t buf[WIRE_MAX];
	int fds[WIRE_MAX_FDS];
	size_t nfds = 0;
	ssize_t n;

	n = wire_recv_flags(c->fd, buf, sizeof(buf), fds, &nfds, flags);
	if (n == -EAGAIN)
		return 0;
	/*
	 * The kernel tells of a reset (a peer that closed with our request
	 * unread) before the packets still queued: once told, it hands
	 * them out, and the daemon's last word may be among them.
	 */
	if (n == -ECONNRESET && readable_now(c->fd)) {
		n = wire_recv_flags(c->fd, buf, sizeof(buf), fds, &nfds,
		    flags);
		if (n <= 0)
			n = -ECONNRESET;
	}
	packet_in(c, n, buf, fds, &nfds);
	if (c->broken) {
		calls_abort(c);
		return c->broken;
	}
	return 1;
}

/* Errors of a send that sent nothing and leave the connection in step. */
static int
send_error_is_transient(int err)
{
	return err == -EAGAIN || err == -ENOBUFS || err == -ENOMEM;
}

/*
 * The send failed for good.  A daemon that closed the connection may
 * have said why before (it turns away connections past its limit):
 * take in what it sent, then break c with the send's error unless
 * what came broke it already.
 */
static int
send_lost(struct mmapclient *c, int err, const char *what)
{
	uint8_t buf[WIRE_MAX];
	int fds[WIRE_MAX_FDS];
	size_t nfds = 0;
	ssize_t n;

	while ((err == -EPIPE || err == -ECONNRESET) && !c->broken &&
	    readable_now(c->fd)) {
		n = wire_recv_flags(c->fd, buf, sizeof(buf), fds, &nfds,
		    MSG_DONTWAIT);
		if (n == -ECONNRESET && readable_now(c->fd))
			continue;
		if (n <= 0) {
			wire_close_fds(fds, &nfds);
			break;
		}
		packet_in(c, n, buf, fds, &nfds);
	}
	if (!c->broken)
		conn_break(c, err, "cannot send the %s request: the "
		    "connection is lost", what);
	calls_abort(c);
	return c->broken;
}

/*
 * Send one packet without blocking.  A synchronous call waits for room,
 * taking in what comes meanwhile (the daemon stops reading a client
 * whose replies it cannot send, so waiting without reading could wait
 * for ever).
 */
static int
call_send(struct mmapclient *c, const uint8_t *buf, size_t len,
    const char *what, int wait)
{
	struct pollfd p;
	ssize_t n;
	int err;

	for (;;) {
		n = send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0 && (size_t)n == len)
			return 0;
		/* SEQPACKET sends all or nothing. */
		err = n >= 0 ? -EIO : -errno;
		if (err == -EINTR)
			continue;
		if (err == -EAGAIN && wait) {
			p = (struct pollfd){
				.fd = c->fd, .events = POLLIN | POLLOUT,
			};
			if (poll(&p, 1, -1) < 0 && errno != EINTR)
				return conn_fail(c, -errno, "cannot wait to "
				    "send the %s request", what);
			if ((p.revents & (POLLIN | POLLHUP | POLLERR)) &&
			    !(p.revents & POLLOUT) &&
			    conn_read_one(c, MSG_DONTWAIT) < 0)
				return c->broken;
			continue;
		}
		if (send_error_is_transient(err))
			return conn_fail(c, err, "cannot send the %s request",
			    what);
		return send_lost(c, err, what);
	}
}

int
call_start(struct mmapclient *c, Mmapd__V1__Request *req,
    const struct call *tmpl, uint64_t *id)
{
	const char *what = request_name(req->body_case);
	uint8_t buf[WIRE_MAX];
	struct call *k;
	size_t len;
	int err;

	if (c->broken) {
		memcpy(c->msg, c->broken_msg, sizeof(c->msg));
		return c->broken;
	}
	req->request_id = c->next_id;
	len = mmapd__v1__request__get_packed_size(req);
	if (len > WIRE_MAX)
		return conn_fail(c, -EMSGSIZE, "the %s request takes %zu "
		    "bytes, more than one %d-byte packet", what, len,
		    WIRE_MAX);
	mmapd__v1__request__pack(req, buf);

	while (c->calls_cap == 0 ||
	    c->calls[c->next_id & (c->calls_cap - 1)].id != 0) {
		err = calls_grow(c);
		if (err)
			return conn_fail(c, err, "cannot keep the %s request: "
			    "%zu requests in flight", what, c->in_flight);
	}
	/* Its end, and every other's, will have a place in the queue. */
	if (!tmpl->sync && done_reserve(c, c->in_flight + 1))
		return conn_fail(c, -ENOMEM, "cannot allocate the queue of "
		    "callbacks");

	err = call_send(c, buf, len, what, tmpl->sync);
	if (err)
		return err;
	k = &c->calls[c->next_id & (c->calls_cap - 1)];
	*k = *tmpl;
	k->id = c->next_id;
	k->body = req->body_case;
	k->done = 0;
	k->rep = NULL;
	k->fd = -1;
	k->fds = NULL;
	k->nfds = 0;
	if (k->kind == CALL_QUIET)
		c->n_quiet++;
	c->in_flight++;
	*id = c->next_id++;
	return 0;
}

int
call_wait(struct mmapclient *c, uint64_t id, struct call *out)
{
	struct call *k;

	for (;;) {
		k = call_find(c, id);
		if (k == NULL) {
			/* Only abort frees a synchronous call; it marks it. */
			memset(out, 0, sizeof(*out));
			out->fd = -1;
			out->err = c->broken ? c->broken : -EPROTO;
			return out->err;
		}
		if (k->done)
			break;
		if (c->broken)
			calls_abort(c);
		else
			(void)conn_read_one(c, 0);
	}
	*out = *k;
	/* The results are the caller's now. */
	k->rep = NULL;
	k->fd = -1;
	k->fds = NULL;
	k->nfds = 0;
	k->reg = NULL;
	call_free(c, k);
	if (out->err && c->broken == out->err)
		memcpy(c->msg, c->broken_msg, sizeof(c->msg));
	return out->err;
}

int
conn_call(struct mmapclient *c, Mmapd__V1__Request *req,
    Mmapd__V1__Reply__BodyCase expect, Mmapd__V1__Reply **out, int *fdp)
{
	struct call tmpl = {
		.kind = CALL_REPLY, .sync = 1, .fd = -1,
		.expect = (int)expect,
	};
	struct call res;
	uint64_t id;
	int err;

	*out = NULL;
	if (fdp)
		*fdp = -1;
	err = call_start(c, req, &tmpl, &id);
	if (err)
		return err;
	err = call_wait(c, id, &res);
	if (err) {
		if (res.rep)
			mmapd__v1__reply__free_unpacked(res.rep, NULL);
		if (res.fd >= 0)
			close(res.fd);
		return err;
	}
	if (res.fd >= 0 && fdp == NULL) {
		close(res.fd);
		mmapd__v1__reply__free_unpacked(res.rep, NULL);
		return conn_break(c, -EPROTO, "the Grant came without its file "
		    "descriptor");
	}
	if (fdp)
		*fdp = res.fd;
	*out = res.rep;
	return 0;
}
