/*
 * libmmapclient: what comes from the daemon.  One packet at a time: the
 * reply to a call in flight, matched by its request id and held against
 * what that call asked for, or, with request id 0, the daemon's last
 * word before it closes the connection, or an event.  A packet that
 * breaks the protocol breaks the connection (-EPROTO); every fd that
 * came with a packet is used or closed here.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "wire.h"

const char *
request_name(int body)
{
	switch (body) {
	case MMAPD__V1__REQUEST__BODY_HELLO:
		return "Hello";
	case MMAPD__V1__REQUEST__BODY_MAP:
		return "Map";
	case MMAPD__V1__REQUEST__BODY_RELEASE:
		return "Release";
	case MMAPD__V1__REQUEST__BODY_LIST:
		return "List";
	case MMAPD__V1__REQUEST__BODY_STATUS:
		return "Status";
	case MMAPD__V1__REQUEST__BODY_READ:
		return "Read";
	case MMAPD__V1__REQUEST__BODY_WRITE:
		return "Write";
	case MMAPD__V1__REQUEST__BODY_REVOKE:
		return "Revoke";
	case MMAPD__V1__REQUEST__BODY_MODIFY:
		return "Modify";
	default:
		return "(no body)";
	}
}

const char *
reply_name(int body)
{
	switch (body) {
	case MMAPD__V1__REPLY__BODY__NOT_SET:
		return "no body";
	case MMAPD__V1__REPLY__BODY_HELLO:
		return "a HelloReply";
	case MMAPD__V1__REPLY__BODY_GRANT:
		return "a Grant";
	case MMAPD__V1__REPLY__BODY_RELEASE:
		return "an Ack";
	case MMAPD__V1__REPLY__BODY_LIST:
		return "a ListReply";
	case MMAPD__V1__REPLY__BODY_STATUS:
		return "a StatusReply";
	case MMAPD__V1__REPLY__BODY_READ:
		return "a ReadReply";
	case MMAPD__V1__REPLY__BODY_WRITE:
		return "an Ack of Write";
	case MMAPD__V1__REPLY__BODY_REVOKE:
		return "a RevokeReply";
	case MMAPD__V1__REPLY__BODY_MODIFY:
		return "a ModifyReply";
	case MMAPD__V1__REPLY__BODY_EVENT:
		return "an Event";
	default:
		return "an unknown body";
	}
}

/* The reply body a call is answered with. */
static int
call_expect(const struct call *k)
{
	switch (k->kind) {
	case CALL_MAP:
		return MMAPD__V1__REPLY__BODY_GRANT;
	case CALL_READ:
		return MMAPD__V1__REPLY__BODY_READ;
	case CALL_QUIET:
		return MMAPD__V1__REPLY__BODY_RELEASE;
	case CALL_ACK:
		return k->body == MMAPD__V1__REQUEST__BODY_WRITE ?
		    MMAPD__V1__REPLY__BODY_WRITE :
		    MMAPD__V1__REPLY__BODY_RELEASE;
	default:
		return k->expect;
	}
}

/*
 * What a packet that names no call answers, for the messages: the
 * daemon answers in order, so the oldest call in flight.
 */
static const char *
oldest_name(struct mmapclient *c)
{
	struct call *k = call_oldest(c);

	return k ? request_name(k->body) : "a request";
}

/* A reply for an id not in flight: a lie, or a reply twice. */
static int
stray_reply(struct mmapclient *c, uint64_t id)
{
	struct call *k = call_oldest(c);

	if (k != NULL && c->in_flight == 1)
		return conn_break(c, -EPROTO, "the reply to %s request %llu is "
		    "for request %llu", request_name(k->body),
		    (unsigned long long)k->id, (unsigned long long)id);
	if (k != NULL)
		return conn_break(c, -EPROTO, "a reply is for request %llu, "
		    "none of the %zu in flight (the oldest %llu)",
		    (unsigned long long)id, c->in_flight,
		    (unsigned long long)k->id);
	return conn_break(c, -EPROTO, "a reply is for request %llu, and no "
	    "request is in flight", (unsigned long long)id);
}

/* The reason as one line of text: control characters become spaces. */
static void
text_line(char *dst, size_t cap, const char *src)
{
	size_t i;

	for (i = 0; src[i] && i + 1 < cap; i++) {
		unsigned char ch = (unsigned char)src[i];

		dst[i] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
	}
	dst[i] = '\0';
}

/* An event: queued for mmapclient_dispatch(). */
static int
event_in(struct mmapclient *c, const Mmapd__V1__Event *ev, size_t nfds)
{
	const Mmapd__V1__Revoking *rv;
	struct done d;

	if (!c->events)
		return conn_break(c, -EPROTO, "the daemon sent an event, but "
		    "this connection asked for none");
	if (nfds > 0)
		return conn_break(c, -EPROTO, "an event came with a file "
		    "descriptor");
	/* A kind a later daemon sends: not ours to know. */
	if (ev->kind_case != MMAPD__V1__EVENT__KIND_REVOKING)
		return 0;
	rv = ev->revoking;
	if (rv->lease_id == 0)
		return conn_break(c, -EPROTO, "the Revoking event names lease "
		    "0");
	memset(&d, 0, offsetof(struct done, text));
	d.event = 1;
	d.lease = rv->lease_id;
	d.deadline = rv->deadline_unix_sec;
	d.seconds = rv->seconds;
	d.enforce = (int)rv->enforce;
	text_line(d.text, sizeof(d.text), rv->reason);
	/* Leaving room for the end of every call in flight. */
	if (done_reserve(c, c->in_flight + 1) || done_push(c, &d))
		return conn_break(c, -ENOMEM, "cannot queue the Revoking event "
		    "of lease %llu: out of memory",
		    (unsigned long long)rv->lease_id);
	return 0;
}

/* Request id 0: the daemon's last word, or an event. */
static int
unasked_in(struct mmapclient *c, const Mmapd__V1__Reply *rep, size_t nfds)
{
	const char *msg = rep->message[0] ? rep->message : "no reason given";

	if (rep->error == EBADMSG || rep->error == EMSGSIZE)
		return conn_break(c, -rep->error, "the daemon could not parse "
		    "the %s request: %s", oldest_name(c), msg);
	if (rep->error > 0 && rep->error <= ERRNO_MAX)
		return conn_break(c, -rep->error, "the daemon %s the "
		    "connection: %s", rep->error == EMFILE ? "refused" :
		    "ended", msg);
	if (rep->error == 0 &&
	    rep->body_case == MMAPD__V1__REPLY__BODY_EVENT)
		return event_in(c, rep->event, nfds);
	return stray_reply(c, 0);
}

/* A call's end: its waiter marked, or its callback queued. */
static void
call_end(struct mmapclient *c, struct call *k, int err)
{
	call_end_msg(c, k, err, err ? c->msg : "");
}

void
call_end_msg(struct mmapclient *c, struct call *k, int err, const char *text)
{
	struct done d;

	if (k->sync) {
		k->done = 1;
		k->err = err;
		return;
	}
	if (err && k->reg) {
		free(k->reg);
		k->reg = NULL;
	}
	if (k->fn) {
		memset(&d, 0, offsetof(struct done, text));
		d.fn = k->fn;
		d.arg = k->arg;
		d.id = k->id;
		d.err = err;
		d.reg = k->reg;
		d.lease = k->lease;
		d.value = k->value;
		if (err)
			snprintf(d.text, sizeof(d.text), "%s", text);
		else
			d.text[0] = '\0';
		/* Room was made when the call started. */
		(void)done_push(c, &d);
	}
	k->reg = NULL;
	call_free(c, k);
}

/*
 * A GrantBatch's fds: one per item granted, kept with the call (only a
 * synchronous CALL_REPLY asks for one).
 */
static int
batch_fds_in(struct mmapclient *c, struct call *k,
    const Mmapd__V1__GrantBatch *gb, int *fds, size_t *nfds)
{
	size_t i, want = 0;

	for (i = 0; i < gb->n_items; i++)
		if (gb->items[i]->error == 0 && gb->items[i]->grant != NULL)
			want++;
	if (*nfds != want)
		return conn_break(c, -EPROTO, "the GrantBatch of %zu grants "
		    "came with %zu file descriptors", want, *nfds);
	if (want == 0)
		return 0;
	k->fds = malloc(want * sizeof(int));
	if (k->fds == NULL)
		return conn_break(c, -ENOMEM, "cannot keep the %zu file "
		    "descriptors of a GrantBatch", want);
	memcpy(k->fds, fds, want * sizeof(int));
	k->nfds = want;
	*nfds = 0;
	return 0;
}

/*
 * The reply to call k: held against what k asked, then taken in.  rep
 * is freed here, or kept by the call.
 */
static int
call_in(struct mmapclient *c, struct call *k, Mmapd__V1__Reply *rep,
    int *fds, size_t *nfds)
{
	const char *what = request_name(k->body);
	int expect = call_expect(k), err = 0, fd = -1;
	uint64_t id = k->id;

	if (rep->error != 0) {
		if (rep->error < 0 || rep->error > ERRNO_MAX)
			err = conn_break(c, -EPROTO, "the reply to %s has "
			    "error %d, not an errno value", what,
			    (int)rep->error);
		else if (*nfds > 0)
			err = conn_break(c, -EPROTO, "the refusal of %s came "
			    "with a file descriptor", what);
		else if (k->kind == CALL_QUIET && k->strict)
			err = conn_break(c, -EPROTO, "the daemon refused the "
			    "Release of lease %llu, which this connection "
			    "holds: %s", (unsigned long long)k->lease,
			    rep->message[0] ? rep->message : "no reason");
		else
			call_end(c, k, conn_fail(c, -rep->error, "%s",
			    rep->message[0] ? rep->message :
			    "the daemon gave no reason"));
		goto out;
	}
	if ((int)rep->body_case != expect) {
		err = conn_break(c, -EPROTO, "the reply to %s carries %s",
		    what, reply_name(rep->body_case));
		goto out;
	}
	if (expect == MMAPD__V1__REPLY__BODY_GRANT) {
		if (*nfds == 0)
			err = conn_break(c, -EPROTO, "the Grant came without "
			    "its file descriptor");
		/* Which of several would be the memory is anyone's guess. */
		else if (*nfds > 1)
			err = conn_break(c, -EPROTO, "the Grant came with %zu "
			    "file descriptors, not 1", *nfds);
		if (err)
			goto out;
		fd = fds[0];
		*nfds = 0;
	} else if (expect == MMAPD__V1__REPLY__BODY_GRANTS) {
		err = batch_fds_in(c, k, rep->grants, fds, nfds);
		if (err)
			goto out;
	} else if (*nfds > 0) {
		err = conn_break(c, -EPROTO, "the reply to %s came with a "
		    "file descriptor", what);
		goto out;
	}

	switch (k->kind) {
	case CALL_MAP:
		/* It may send a Release, so the table may move. */
		err = map_grant(c, k, rep->grant, fd);
		if (c->broken) {
			err = c->broken;
			goto out;
		}
		k = call_find(c, id);
		if (k != NULL)
			call_end(c, k, err);
		err = 0;
		break;
	case CALL_READ:
		/* The protocol says zero-extended: more bits is not ours. */
		if (rep->read->value & ~width_mask(k->width)) {
			err = conn_break(c, -EPROTO, "the ReadReply's value "
			    "%#llx is wider than the %u bits asked",
			    (unsigned long long)rep->read->value, k->width);
			goto out;
		}
		k->value = rep->read->value;
		call_end(c, k, 0);
		break;
	case CALL_QUIET:
		/* Went through: no one is told. */
		call_free(c, k);
		break;
	case CALL_REPLY:
		/* Only a synchronous call keeps a reply. */
		k->rep = rep;
		k->fd = fd;
		call_end(c, k, 0);
		return 0;
	default:
		call_end(c, k, 0);
		break;
	}
out:
	mmapd__v1__reply__free_unpacked(rep, NULL);
	return err;
}

int
packet_in(struct mmapclient *c, ssize_t n, const uint8_t *buf, int *fds,
    size_t *nfds)
{
	Mmapd__V1__Reply *rep;
	struct call *k;
	int err;

	if (c->broken) {
		wire_close_fds(fds, nfds);
		return c->broken;
	}
	if (n == 0) {
		wire_close_fds(fds, nfds);
		if (c->in_flight == 0)
			return conn_break(c, -ECONNRESET, "the daemon closed "
			    "the connection");
		return conn_break(c, -ECONNRESET, "the daemon closed the "
		    "connection before answering %s", oldest_name(c));
	}
	if (n == -EMSGSIZE)
		return conn_break(c, -EPROTO, "the reply to %s is larger than "
		    "%d bytes", oldest_name(c), WIRE_MAX);
	if (n == -EBADMSG)
		return conn_break(c, -EPROTO, "the reply to %s came with "
		    "ancillary data cut short or not SCM_RIGHTS (out of file "
		    "descriptors?)", oldest_name(c));
	if (n < 0)
		return conn_break(c, (int)n, "cannot receive the reply to %s",
		    oldest_name(c));

	rep = mmapd__v1__reply__unpack(NULL, (size_t)n, buf);
	if (rep == NULL) {
		wire_close_fds(fds, nfds);
		return conn_break(c, -EPROTO, "the reply to %s does not decode",
		    oldest_name(c));
	}
	if (rep->request_id == 0) {
		err = unasked_in(c, rep, *nfds);
	} else {
		k = call_find(c, rep->request_id);
		if (k != NULL && !k->done && c->n_quiet > 0)
			quiet_settle(c, rep->request_id);
		if (k == NULL || k->done) {
			err = stray_reply(c, rep->request_id);
		} else {
			err = call_in(c, k, rep, fds, nfds);
			rep = NULL;
		}
	}
	wire_close_fds(fds, nfds);
	if (rep)
		mmapd__v1__reply__free_unpacked(rep, NULL);
	return err;
}
