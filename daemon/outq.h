/*
 * The replies of one connection waiting to go out, in request order.
 * Each holds its packet and at most one fd, which goes with it and is
 * closed once sent or dropped.  The server bounds how many wait.
 */
#ifndef MMAPD_OUTQ_H
#define MMAPD_OUTQ_H

#include <stddef.h>
#include <stdint.h>

struct outq_reply;

struct outq {
	struct outq_reply *head;
	struct outq_reply **tail;
	unsigned int n;
};

void outq_init(struct outq *q);

/*
 * Append a copy of the len bytes at buf, with fd (or -1), which the
 * queue takes in every case: on -ENOMEM it is closed.
 */
int outq_push(struct outq *q, const uint8_t *buf, size_t len, int fd);

/*
 * Send from the head while the socket takes them.  0: the queue is
 * empty; -EAGAIN: the socket is full, the rest waits; another -errno:
 * the connection failed (what is left stays queued).
 */
int outq_flush(struct outq *q, int sock);

/* Drop every reply unsent, closing their fds. */
void outq_clear(struct outq *q);

static inline unsigned int
outq_len(const struct outq *q)
{
	return q->n;
}

#endif /* MMAPD_OUTQ_H */
