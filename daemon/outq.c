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
	int fd;
	size_t len;
	uint8_t buf[];
};

void
outq_init(struct outq *q)
{
	q->head = NULL;
	q->tail = &q->head;
	q->n = 0;
}

int
outq_push(struct outq *q, const uint8_t *buf, size_t len, int fd)
{
	struct outq_reply *r;

	r = malloc(sizeof(*r) + len);
	if (r == NULL) {
		if (fd >= 0)
			close(fd);
		return -ENOMEM;
	}
	r->next = NULL;
	r->fd = fd;
	r->len = len;
	memcpy(r->buf, buf, len);
	*q->tail = r;
	q->tail = &r->next;
	q->n++;
	return 0;
}

static void
outq_pop(struct outq *q)
{
	struct outq_reply *r = q->head;

	q->head = r->next;
	if (q->head == NULL)
		q->tail = &q->head;
	q->n--;
	if (r->fd >= 0)
		close(r->fd);
	free(r);
}

int
outq_flush(struct outq *q, int sock)
{
	int err;

	while (q->head != NULL) {
		err = wire_send(sock, q->head->buf, q->head->len, q->head->fd);
		if (err)
			return err;
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
