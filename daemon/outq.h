/*
 * The replies of one connection waiting to go out, in request order.
 * Each holds its packet and its fds (one for a Grant, one per grant of
 * a GrantBatch), which go with it and are closed once sent or dropped.
 * The server bounds how many wait.
 */
#ifndef MMAPD_OUTQ_H
#define MMAPD_OUTQ_H

#include <stddef.h>
#include <stdint.h>

struct outq_reply;

/*
 * What becomes of a reply pushed with a note: err 0, it went out; else
 * it could not go (the send's -errno; buf NULL: the queue was cleared
 * first).  The callee takes the note.  Given buf (WIRE_MAX bytes), it
 * may pack a reply to go instead, its length in *len, and return 1: the
 * queue then sends that, without the fd.  0: the failure stands.
 */
typedef int outq_done_fn(void *arg, void *note, int err, uint8_t *buf,
    size_t *len);

/*
 * Told right before each packet's sendmsg (sent 0), and right after it
 * went out (sent 1), with the number of fds it carries.
 */
typedef void outq_sock_fn(void *arg, unsigned int nfds, int sent);

struct outq {
	struct outq_reply *head;
	struct outq_reply **tail;
	unsigned int n;
	unsigned int events;		/* of n, events: no request's reply */
	outq_done_fn *done;		/* for replies with a note */
	outq_sock_fn *sock;		/* around each send, or NULL */
	void *arg;
};

/* done may be NULL when no reply will carry a note. */
void outq_init(struct outq *q);
void outq_set_done(struct outq *q, outq_done_fn *done, void *arg);
/* The same arg as done's. */
void outq_set_sock(struct outq *q, outq_sock_fn *sock);

/*
 * Append a copy of the len bytes at buf, with fd (or -1), which the
 * queue takes in every case: on -ENOMEM it is closed.
 */
int outq_push(struct outq *q, const uint8_t *buf, size_t len, int fd);
/*
 * The same with a note, which the queue hands to done once the reply
 * went out or failed; on -ENOMEM done has had it already.
 */
int outq_push_note(struct outq *q, const uint8_t *buf, size_t len, int fd,
    void *note);

/* The same with nfds fds (a GrantBatch), all taken in every case. */
int outq_push_fds(struct outq *q, const uint8_t *buf, size_t len,
    const int *fds, size_t nfds, void *note);

/*
 * An event (no request's reply, no fd): counted apart, so that it
 * does not count against a connection's requests in flight.
 */
int outq_push_event(struct outq *q, const uint8_t *buf, size_t len);

/*
 * Send from the head while the socket takes them.  0: the queue is
 * empty; -EAGAIN: the socket is full, the rest waits; another -errno:
 * the connection failed (what is left stays queued).  A reply with a
 * note that fails is told to done first, and what done packs instead
 * is sent in its place.
 */
int outq_flush(struct outq *q, int sock);

/* Drop every reply unsent, closing their fds; notes go to done. */
void outq_clear(struct outq *q);

/* Everything waiting, events included. */
static inline unsigned int
outq_len(const struct outq *q)
{
	return q->n;
}

/* Replies to requests waiting: what requests_in_flight bounds. */
static inline unsigned int
outq_replies(const struct outq *q)
{
	return q->n - q->events;
}

static inline unsigned int
outq_events(const struct outq *q)
{
	return q->events;
}

#endif /* MMAPD_OUTQ_H */
