/*
 * A connection's replies waiting to go out.  A reply takes the bytes it
 * packs to, not a whole packet: most are a few dozen bytes, and a
 * client that does not read keeps only its queue's worth.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outq.h"
#include "wire.h"

struct outq_reply {
	struct outq_reply *next;
	unsigned int nfds;		/* fds in SCM_RIGHTS: fds[] */
	void *note;
	int event;
	size_t len;
	uint8_t *buf;			/* after fds[] */
	int fds[];
};

static void
fds_close(const int *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		close(fds[i]);
}

void
outq_init(struct outq *q)
{
	q->head = NULL;
	q->tail = &q->head;
	q->n = 0;
	q->events = 0;
	q->done = NULL;
	q->sock = NULL;
	q->arg = NULL;
}

void
outq_set_sock(struct outq *q, outq_sock_fn *sock)
{
	q->sock = sock;
}

void
outq_set_done(struct outq *q, outq_done_fn *done, void *arg)
{
	q->done = done;
	q->arg = arg;
}

/* The note's end when the reply never goes. */
static void
note_drop(struct outq *q, void *note, int err)
{
	if (note != NULL && q->done != NULL)
		(void)q->done(q->arg, note, err, NULL, NULL);
}

int
outq_push(struct outq *q, const uint8_t *buf, size_t len, int fd)
{
	return outq_push_note(q, buf, len, fd, NULL);
}

static int
outq_append(struct outq *q, const uint8_t *buf, size_t len, const int *fds,
    size_t nfds, void *note, int event)
{
	struct outq_reply *r;

	r = malloc(sizeof(*r) + nfds * sizeof(int) + len);
	if (r == NULL) {
		fds_close(fds, nfds);
		note_drop(q, note, -ENOMEM);
		return -ENOMEM;
	}
	r->next = NULL;
	r->nfds = (unsigned int)nfds;
	if (nfds > 0)
		memcpy(r->fds, fds, nfds * sizeof(int));
	r->note = note;
	r->event = event;
	r->len = len;
	r->buf = (uint8_t *)(r->fds + nfds);
	memcpy(r->buf, buf, len);
	*q->tail = r;
	q->tail = &r->next;
	q->n++;
	q->events += event;
	return 0;
}

int
outq_push_note(struct outq *q, const uint8_t *buf, size_t len, int fd,
    void *note)
{
	return outq_append(q, buf, len, &fd, fd >= 0 ? 1 : 0, note, 0);
}

int
outq_push_fds(struct outq *q, const uint8_t *buf, size_t len, const int *fds,
    size_t nfds, void *note)
{
	return outq_append(q, buf, len, fds, nfds, note, 0);
}

int
outq_push_event(struct outq *q, const uint8_t *buf, size_t len)
{
	return outq_append(q, buf, len, NULL, 0, NULL, 1);
}

static void
outq_pop(struct outq *q)
{
	struct outq_reply *r = q->head;

	q->head = r->next;
	if (q->head == NULL)
		q->tail = &q->head;
	q->n--;
	if (r->event)
		q->events--;
	fds_close(r->fds, r->nfds);
	note_drop(q, r->note, -ECANCELED);
	free(r);
}

/*
 * The head could not go: its note's owner may give a reply to send
 * instead (a grant whose fd could not be passed becomes its refusal).
 * 0: replaced; else the send's error stands.
 */
static int
outq_replace(struct outq *q, int err)
{
	struct outq_reply *r = q->head, *nr;
	uint8_t buf[WIRE_MAX];
	size_t len = 0;
	void *note = r->note;

	r->note = NULL;
	if (q->done(q->arg, note, err, buf, &len) != 1 || len > WIRE_MAX)
		return err;
	/* The fds go first: the new packet is sent without them. */
	fds_close(r->fds, r->nfds);
	r->nfds = 0;
	nr = realloc(r, sizeof(*r) + len);
	if (nr == NULL) {
		r->len = 0;	/* nothing sane left to send */
		return -ENOMEM;
	}
	nr->len = len;
	nr->buf = (uint8_t *)nr->fds;
	memcpy(nr->buf, buf, len);
	q->head = nr;
	if (nr->next == NULL)
		q->tail = &nr->next;
	return 0;
}

int
outq_flush(struct outq *q, int sock)
{
	struct outq_reply *r;
	int err;

	while ((r = q->head) != NULL) {
		if (q->sock != NULL)
			q->sock(q->arg, (unsigned int)r->nfds, 0);
		err = wire_send_fds(sock, r->buf, r->len, r->fds, r->nfds);
		if (err == 0 && q->sock != NULL)
			q->sock(q->arg, (unsigned int)r->nfds, 1);
		if (err == -EAGAIN || (err && (r->note == NULL ||
		    q->done == NULL)))
			return err;
		if (err) {
			err = outq_replace(q, err);
			if (err)
				return err;
			continue;
		}
		if (r->note != NULL && q->done != NULL)
			(void)q->done(q->arg, r->note, 0, NULL, NULL);
		r->note = NULL;
		outq_pop(q);
	}
	return 0;
}

void
outq_clear(struct outq *q)
{
	while (q->head != NULL)
		outq_pop(q);
}
