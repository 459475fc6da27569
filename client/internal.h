/*
 * libmmapclient's insides, shared by its .c files and by nothing else:
 * the connection, the region handles behind the public struct, and the
 * one request/reply exchange every call goes through.
 */
#ifndef MMAPCLIENT_INTERNAL_H
#define MMAPCLIENT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

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

struct mmapclient {
	int fd;			/* the socket */
	uint64_t next_id;	/* request id of the next request; from 1 */
	int broken;		/* 0, or the negative errno every call now gets */
	char broken_msg[MSG_MAX];	/* the message that goes with broken */
	char msg[MSG_MAX];	/* the last failure's message */
	struct region *regions;	/* mapped regions granted on this connection */
};

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
 * Send req (its request_id is set here) and receive its reply.  Returns 0
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
