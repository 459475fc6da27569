#include "config.h"

/*
 * The reply queue: replies go out whole, in the order queued, each with
 * its fd, which the queue closes once sent; a full socket keeps the rest
 * queued; a queue dropped closes what it held.  On a real SOCK_SEQPACKET
 * socketpair, counting this process's fds.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "helpers.h"
#include "outq.h"
#include "wire.h"

/* sv[0]: the daemon's end, non-blocking; sv[1]: the client's. */
static void
pair(int sv[2])
{
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv),
	    0, "socketpair: %s", strerror(errno));
	cr_assert_eq(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
}

/* Receive one packet: its first byte and whether an fd came with it. */
static int
recv_one(int sock, int *had_fd)
{
	uint8_t buf[WIRE_MAX];
	int fds[WIRE_MAX_FDS];
	size_t nfds = 0;
	ssize_t n;

	n = wire_recv(sock, buf, sizeof(buf), fds, &nfds);
	cr_assert_gt(n, 0, "wire_recv: %zd", n);
	*had_fd = nfds == 1;
	wire_close_fds(fds, &nfds);
	return buf[0];
}

Test(outq, in_order_with_fds)
{
	struct outq q;
	uint8_t pkt[100];
	int sv[2], before, i, had;

	pair(sv);
	outq_init(&q);
	before = fd_count();
	for (i = 0; i < 5; i++) {
		memset(pkt, i + 1, sizeof(pkt));
		cr_assert_eq(outq_push(&q, pkt, (size_t)10 * (i + 1),
		    i % 2 ? -1 : open("/dev/null", O_RDONLY | O_CLOEXEC)), 0);
	}
	cr_assert_eq(outq_len(&q), 5);
	cr_assert_eq(fd_count(), before + 3, "the queue holds its 3 fds");
	cr_assert_eq(outq_flush(&q, sv[0]), 0);
	cr_assert_eq(outq_len(&q), 0);
	cr_assert_eq(fd_count(), before, "a sent reply's fd was not closed");
	for (i = 0; i < 5; i++) {
		cr_assert_eq(recv_one(sv[1], &had), i + 1, "out of order");
		cr_assert_eq(had, i % 2 == 0, "reply %d: fd %d", i, had);
	}
	/* An empty queue flushes to nothing. */
	cr_assert_eq(outq_flush(&q, sv[0]), 0);
	close(sv[0]);
	close(sv[1]);
}

/* A full socket: -EAGAIN, the rest stays, and goes once there is room. */
Test(outq, full_socket_keeps_the_rest)
{
	struct outq q;
	uint8_t pkt[WIRE_MAX];
	unsigned int sent = 0, i;
	int sv[2], before, had, err;

	pair(sv);
	/* A small buffer, so that a few packets fill it on any machine. */
	cr_assert_eq(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF,
	    &(int){ 16384 }, sizeof(int)), 0);
	outq_init(&q);
	before = fd_count();
	for (i = 0; i < 200; i++) {
		memset(pkt, (int)(i & 0xff), sizeof(pkt));
		cr_assert_eq(outq_push(&q, pkt, sizeof(pkt),
		    open("/dev/null", O_RDONLY | O_CLOEXEC)), 0);
	}
	err = outq_flush(&q, sv[0]);
	cr_assert_eq(err, -EAGAIN, "flush: %d", err);
	cr_assert(outq_len(&q) > 0 && outq_len(&q) < 200,
	    "%u left", outq_len(&q));
	cr_assert_eq(fd_count(), before + (int)outq_len(&q),
	    "fds of sent replies stay open");

	/* The client reads everything, in order, while the queue drains. */
	while (sent < 200) {
		cr_assert_eq(recv_one(sv[1], &had), (int)(sent & 0xff),
		    "reply %u out of order", sent);
		cr_assert(had);
		sent++;
		err = outq_flush(&q, sv[0]);
		cr_assert(err == 0 || err == -EAGAIN, "flush: %d", err);
	}
	cr_assert_eq(outq_len(&q), 0);
	cr_assert_eq(fd_count(), before);
	close(sv[0]);
	close(sv[1]);
}

/* The peer gone: the error, and nothing lost from the queue. */
Test(outq, peer_gone)
{
	struct outq q;
	uint8_t pkt[8] = { 1 };
	int sv[2], before;

	pair(sv);
	outq_init(&q);
	before = fd_count();
	close(sv[1]);
	cr_assert_eq(outq_push(&q, pkt, sizeof(pkt),
	    open("/dev/null", O_RDONLY | O_CLOEXEC)), 0);
	cr_assert_eq(outq_flush(&q, sv[0]), -EPIPE);
	cr_assert_eq(outq_len(&q), 1);
	outq_clear(&q);
	cr_assert_eq(outq_len(&q), 0);
	cr_assert_eq(fd_count(), before - 1, "outq_clear left an fd open");
	/* Usable again after a clear. */
	cr_assert_eq(outq_push(&q, pkt, sizeof(pkt), -1), 0);
	cr_assert_eq(outq_len(&q), 1);
	outq_clear(&q);
	close(sv[0]);
}

/* What done was told, in order: the note (an int) and the error. */
static struct {
	int notes[8];
	int errs[8];
	int n;
	int replace;		/* pack a replacement on failure */
} told;

static int
done_record(void *arg, void *note, int err, uint8_t *buf, size_t *len)
{
	(void)arg;
	cr_assert_lt(told.n, 8);
	told.notes[told.n] = *(int *)note;
	told.errs[told.n] = err;
	told.n++;
	free(note);
	if (buf == NULL || !told.replace)
		return 0;
	buf[0] = 0xee;
	*len = 1;
	return 1;
}

static int *
note_new(int v)
{
	int *p = malloc(sizeof(*p));

	cr_assert_not_null(p);
	*p = v;
	return p;
}

/*
 * Notes: done hears of each reply once, after its send; one whose fd
 * cannot go (here a closed fd number: EBADF) is replaced by what done
 * packs, sent without the fd, in its place; one still queued when the
 * queue is cleared is told -ECANCELED.
 */
Test(outq, notes_told_after_send)
{
	struct outq q;
	uint8_t pkt[4];
	int sv[2], bad, had, before;

	pair(sv);
	outq_init(&q);
	outq_set_done(&q, done_record, NULL);
	memset(&told, 0, sizeof(told));
	told.replace = 1;
	bad = open("/dev/null", O_RDONLY | O_CLOEXEC);
	cr_assert_geq(bad, 0);
	close(bad);
	before = fd_count();

	pkt[0] = 1;
	cr_assert_eq(outq_push_note(&q, pkt, 1, open("/dev/null",
	    O_RDONLY | O_CLOEXEC), note_new(1)), 0);
	pkt[0] = 2;
	cr_assert_eq(outq_push_note(&q, pkt, 1, bad, note_new(2)), 0);
	pkt[0] = 3;
	cr_assert_eq(outq_push(&q, pkt, 1, -1), 0);
	cr_assert_eq(told.n, 0, "told before anything was sent");
	cr_assert_eq(outq_flush(&q, sv[0]), 0);
	cr_assert_eq(told.n, 2);
	cr_assert_eq(told.notes[0], 1);
	cr_assert_eq(told.errs[0], 0);
	cr_assert_eq(told.notes[1], 2);
	cr_assert_eq(told.errs[1], -EBADF);

	cr_assert_eq(recv_one(sv[1], &had), 1);
	cr_assert(had);
	cr_assert_eq(recv_one(sv[1], &had), 0xee, "not the replacement");
	cr_assert(!had);
	cr_assert_eq(recv_one(sv[1], &had), 3);
	cr_assert_eq(fd_count(), before);

	/* Unsent at a clear: told so, and its fd closed. */
	close(sv[1]);
	cr_assert_eq(outq_push_note(&q, pkt, 1, open("/dev/null",
	    O_RDONLY | O_CLOEXEC), note_new(4)), 0);
	told.replace = 0;
	cr_assert_eq(outq_flush(&q, sv[0]), -EPIPE);
	cr_assert_eq(told.n, 3);
	cr_assert_eq(told.errs[2], -EPIPE, "a failure done did not replace");
	outq_clear(&q);
	cr_assert_eq(told.n, 3, "a note told twice");
	cr_assert_eq(fd_count(), before - 1);
	close(sv[0]);
}

/*
 * Events go out in order with the replies but are counted apart:
 * requests_in_flight bounds outq_replies(), and a revocation's events
 * never make a client's requests refused.
 */
Test(outq, events_counted_apart)
{
	struct outq q;
	uint8_t pkt[8];
	int sv[2], had, i;

	pair(sv);
	outq_init(&q);
	memset(pkt, 1, sizeof(pkt));
	cr_assert_eq(outq_push(&q, pkt, sizeof(pkt), -1), 0);
	memset(pkt, 2, sizeof(pkt));
	cr_assert_eq(outq_push_event(&q, pkt, sizeof(pkt)), 0);
	cr_assert_eq(outq_push_event(&q, pkt, sizeof(pkt)), 0);
	memset(pkt, 3, sizeof(pkt));
	cr_assert_eq(outq_push(&q, pkt, sizeof(pkt), -1), 0);
	cr_assert_eq(outq_len(&q), 4);
	cr_assert_eq(outq_replies(&q), 2);
	cr_assert_eq(outq_events(&q), 2);
	cr_assert_eq(outq_flush(&q, sv[0]), 0);
	cr_assert_eq(outq_len(&q), 0);
	cr_assert_eq(outq_events(&q), 0);
	cr_assert_eq(outq_replies(&q), 0);
	for (i = 0; i < 4; i++)
		cr_assert_eq(recv_one(sv[1], &had), i == 0 ? 1 : i < 3 ? 2 : 3);
	/* Dropped unsent, an event is uncounted too. */
	cr_assert_eq(outq_push_event(&q, pkt, sizeof(pkt)), 0);
	outq_clear(&q);
	cr_assert_eq(outq_events(&q), 0);
	close(sv[0]);
	close(sv[1]);
}
