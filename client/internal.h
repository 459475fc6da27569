/*
 * libmmapclient's insides, shared by its .c files and by nothing else:
 * the connection, the region handles behind the public struct, the
 * requests in flight (call.c) every call goes through, synchronous or
 * not, the replies and events (reply.c) and the callbacks due
 * (dispatch.c).
 */
#ifndef MMAPCLIENT_INTERNAL_H
#define MMAPCLIENT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mmapclient.h"
#include "mmapd.pb-c.h"

#define MSG_MAX		512	/* bytes of an error message, NUL included */
#define ERRNO_MAX	4095	/* the largest errno a reply may carry */

/*
 * A region handle: the public part first, so that a struct
 * mmapclient_region * converts back with region_of().  owner is the
 * connection it was granted on, NULL once that was closed.
 */
struct region {
	struct mmapclient_region pub;
	struct mmapclient *owner;
	struct region *prev;
	struct region *next;
};

/* What a call does with its reply (reply.c). */
enum call_kind {
	CALL_REPLY,	/* keeps the reply (a Grant's fd) for its waiter */
	CALL_MAP,	/* checks the Grant and maps it into reg */
	CALL_READ,	/* checks the ReadReply's value against width */
	CALL_ACK,	/* an Ack, nothing more */
	/*
	 * A quiet Release (or, to a daemon without "quiet-release", a
	 * plain one): ends silently once a later request is answered (the
	 * daemon answers in order) or its Ack comes; only a failure is
	 * told, to its callback if any (region-batch.c).
	 */
	CALL_QUIET,
};

/*
 * A request in flight: a slot of the connection's table, found by its
 * request id (id & (calls_cap - 1)).  A synchronous caller waits for
 * done and takes the results; an async one is told through fn.
 */
struct call {
	uint64_t id;		/* its request id; 0: the slot is free */
	int body;		/* the request's body case, for messages */
	int expect;		/* CALL_REPLY: the reply's body case */
	unsigned char kind;	/* enum call_kind */
	unsigned char sync;	/* a synchronous caller waits for it */
	unsigned char done;	/* sync: answered; the results are set */
	unsigned char strict;	/* quiet: a refusal breaks the connection */
	unsigned int width;	/* Read: the bits asked */
	uint64_t lease;		/* Release, Map: the lease */
	uint64_t drop_id;	/* Map: the Release of a grant not mapped */
	struct region *reg;	/* Map: the handle, made before sending */
	mmapclient_done_fn *fn;	/* async: its callback */
	void *arg;
	/* The results, for a synchronous caller. */
	int err;
	uint64_t value;		/* Read */
	Mmapd__V1__Reply *rep;	/* CALL_REPLY: the reply */
	int fd;			/* CALL_REPLY: a Grant's fd, or -1 */
	int *fds;		/* CALL_REPLY of a GrantBatch: its fds */
	size_t nfds;
};

/*
 * A callback due: a request answered (or failed with the connection),
 * or an event.  Queued in arrival order; mmapclient_dispatch() runs
 * them.
 */
struct done {
	int event;		/* 0: a request's end; 1: a Revoking event */
	mmapclient_done_fn *fn;
	void *arg;
	uint64_t id;		/* the request's id */
	int err;
	struct region *reg;	/* Map: the new region */
	uint64_t lease;		/* the lease (Map, Release, Revoking) */
	uint64_t value;		/* Read */
	int64_t deadline;	/* Revoking */
	uint32_t seconds;
	int enforce;
	char text[MSG_MAX];	/* a failure's message, or the reason */
};

struct rbatch;

struct mmapclient {
	int fd;			/* the socket */
	uint64_t next_id;	/* request id of the next request; from 1 */
	int broken;		/* 0, or the negative errno every call now gets */
	char broken_msg[MSG_MAX];	/* the message that goes with broken */
	char msg[MSG_MAX];	/* the last failure's message */
	struct region *regions;	/* mapped regions granted on this connection */
	/*
	 * Since 0.4.  All zero is a valid start (tests/fuzz/fuzz-reply.c
	 * makes its connection with calloc()): tables come on first use.
	 */
	struct call *calls;	/* requests in flight; calls_cap of them */
	size_t calls_cap;	/* 0, or a power of two */
	size_t in_flight;	/* slots in use */
	struct done *q;		/* callbacks due: a ring of q_cap */
	size_t q_head;
	size_t q_len;
	size_t q_cap;
	struct rbatch *rb;	/* mmapclient_dispatch()'s receive buffers */
	int events;		/* Hello asked for events */
	mmapclient_revoking_fn *on_revoke;
	void *revoke_arg;
	char name[MMAPCLIENT_NAME_MAX + 1];	/* sent in Hello */
	unsigned int features;	/* FEATURE_*: Hello's, since 0.5 */
	size_t n_quiet;		/* CALL_QUIET calls in flight */
};

/* The daemon's HelloReply features the library acts on. */
#define FEATURE_MAP_BATCH	(1u << 0)	/* "map-batch" */
#define FEATURE_QUIET_RELEASE	(1u << 1)	/* "quiet-release" */

static inline struct region *
region_of(struct mmapclient_region *r)
{
	return (struct region *)(void *)r;
}

/* Set c's message, return err (a negative errno); c stays usable. */
int conn_fail(struct mmapclient *c, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Break c for good: every later call returns err with this message.  The
 * socket is shut down, so the daemon ends the connection's leases.
 * Returns err.
 */
int conn_break(struct mmapclient *c, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Start a call: a slot made from tmpl (kind, sync, width, lease, reg,
 * fn, arg), req's request_id set, req packed and sent.  A synchronous
 * call (tmpl->sync) waits for room in the socket, reading what comes
 * meanwhile; an async one does not (-EAGAIN).  On success the slot is in
 * flight and *id is its id; on failure nothing was sent, no slot is
 * left, and tmpl->reg is still the caller's.
 */
int call_start(struct mmapclient *c, Mmapd__V1__Request *req,
    const struct call *tmpl, uint64_t *id);

/*
 * Wait for call id (started sync) to be answered, reading packets one
 * by one and taking in whatever they answer.  Its slot is copied to
 * *out and freed; returns out->err.
 */
int call_wait(struct mmapclient *c, uint64_t id, struct call *out);

/* The slot of request id, or NULL when it is not in flight. */
struct call *call_find(struct mmapclient *c, uint64_t id);

/* Free a slot. */
void call_free(struct mmapclient *c, struct call *k);

/* The oldest call in flight, or NULL. */
struct call *call_oldest(struct mmapclient *c);

/*
 * c is broken: end every call in flight with its error.  A synchronous
 * one is marked done; an async one's callback is queued.
 */
void calls_abort(struct mmapclient *c);

/*
 * Queue a callback.  Room for the end of every call in flight is made
 * when it starts (done_reserve()), so that fails only for events:
 * -ENOMEM.
 */
int done_push(struct mmapclient *c, const struct done *d);
int done_reserve(struct mmapclient *c, size_t more);

/*
 * Take in one packet received (reply.c): n its length, or the
 * receive's negative errno (0: end of stream).  Completes the call it
 * answers or queues the event it carries; breaks c when the daemon broke
 * the protocol.  Every fd that came is used or closed.  0, or c's error.
 */
int packet_in(struct mmapclient *c, ssize_t n, const uint8_t *buf,
    int *fds, size_t *nfds);

/*
 * Receive one packet (recvmsg flags: 0 waits, MSG_DONTWAIT does not) and
 * take it in.  1: one was taken in; 0: none was there; <0: c's error.
 */
int conn_read_one(struct mmapclient *c, int flags);

/* Whether a receive would not block: a packet, or the end, is there. */
int readable_now(int fd);

/* The name of a request body ("Map"), of a reply body ("a Grant"). */
const char *request_name(int body);
const char *reply_name(int body);

/* Send Hello (events on or not) and check the HelloReply. */
int conn_hello(struct mmapclient *c, int events);

/*
 * The Grant g and its fd, answering Map call k: checked (grant_check()),
 * mapped into k->reg, which joins c's regions.  On mmap(2) failing, the
 * lease is released (k->drop_id is that Release) and mmap's errno
 * returned, with c's message.  fd is closed.
 */
int map_grant(struct mmapclient *c, struct call *k, const Mmapd__V1__Grant *g,
    int fd);

/*
 * A reply to request id came: every quiet Release sent before it went
 * through (region-batch.c).
 */
/*
 * k's end with err (text: its message, for a failure): a synchronous
 * waiter marked done, else the callback queued and the slot freed.
 */
void call_end_msg(struct mmapclient *c, struct call *k, int err,
    const char *text);
void quiet_settle(struct mmapclient *c, uint64_t id);

/*
 * region.c: check req and make its Map in m and rq (-EINVAL with c's
 * message); send it, its handle allocated first (tmpl->reg).
 */
int map_request(struct mmapclient *c, const struct mmapclient_request *req,
    Mmapd__V1__Map *m, Mmapd__V1__Request *rq);
int map_start(struct mmapclient *c, const struct mmapclient_request *req,
    struct call *tmpl, uint64_t *id);

/* Unmap reg, take it off its connection's list and free it. */
void region_destroy(struct region *reg);

/* The region of lease on c, or NULL. */
struct region *region_find(struct mmapclient *c, uint64_t lease);
/* reg becomes c's region of Grant g, mapped at addr. */
void region_add(struct mmapclient *c, struct region *reg,
    const Mmapd__V1__Grant *g, void *addr);

/*
 * A synchronous call kept whole (call_start() and call_wait() of a
 * CALL_REPLY): send req (its request_id is set here) and wait for its
 * reply, taking in what else comes meanwhile.  Returns 0
 * with *out the decoded reply, whose error is 0 and whose body is of the
 * case expected (free it with mmapd__v1__reply__free_unpacked()); for a
 * Grant, *fd is its file descriptor (the caller closes it), otherwise
 * fd may be NULL and no fd came.  On failure returns a negative errno
 * with c's message set, *out is NULL, and every fd that came is closed.
 */
int conn_call(struct mmapclient *c, Mmapd__V1__Request *req,
    Mmapd__V1__Reply__BodyCase expect, Mmapd__V1__Reply **out, int *fd);

/*
 * Whether Grant g and its fd may be mapped as g says (grant.c): g's
 * values within the protocol, and fd of the kind g names (a sealed memfd,
 * /dev/zero, a character device or sysfs file), open for the access g
 * maps, reaching every byte of the map.  0, or -EPROTO with c broken and
 * its message saying what came and what was due.  Nothing is mapped.
 */
int grant_check(struct mmapclient *c, const Mmapd__V1__Grant *g, int fd);

/* Link reg into c's list of regions. */
void conn_add_region(struct mmapclient *c, struct region *reg);

/* Unlink reg from its connection's list, if it has one. */
void conn_del_region(struct region *reg);

/* Send Release for lease and receive the Ack. */
int lease_release(struct mmapclient *c, uint64_t lease);
int lease_release_quiet(struct mmapclient *c, uint64_t lease);

/*
 * Send Release for lease without waiting; no one is told how it ends
 * (sync: a synchronous caller will wait for it).  0 with *id, or an
 * error.
 */
int lease_drop(struct mmapclient *c, uint64_t lease, int sync, uint64_t *id);

/* The values a width of bits holds: 0xff for 8, ~0 for 64. */
static inline uint64_t
width_mask(unsigned int width)
{
	return width >= 64 ? UINT64_MAX : (UINT64_C(1) << width) - 1;
}

/*
 * Whether a register access is well formed, wherever it is done: width
 * 8, 16, 32 or 64 bits, offset a multiple of width / 8, value (0 for a
 * load) within width bits.  0, or -EINVAL with why (cap bytes; why may
 * be NULL) saying what is wrong.
 */
int access_check(uint64_t offset, unsigned int width, uint64_t value,
    char *why, size_t cap);

#endif /* MMAPCLIENT_INTERNAL_H */
