/*
 * mmapclient-poll: libmmapclient in an event loop, the pattern of
 * libmmapclient(3).
 *
 *	mmapclient-poll [-n COUNT] [-s SIZE] [-w] [SOCKET]
 *
 * Sends COUNT Maps of SIZE bytes of shared zero memory at once (default
 * 4 of 64 KiB), all in flight on one connection, and waits for them
 * with poll(2) on mmapclient_fd(), calling mmapclient_dispatch() when
 * it is readable.  Each region that comes is written and read back.
 * Then every region is released, again all at once, and the program
 * waits for the Acks the same way.  With -w it holds the regions until
 * the daemon revokes each one instead: the revoke handler releases a
 * revoked region at once.  Prints a line per step; exits 0, or 1 with
 * the error.
 *
 * The same loop under libuv: a uv_poll_t started on mmapclient_fd(c)
 * for UV_READABLE, whose callback calls mmapclient_dispatch(c).
 *
 * Built on its own with
 *	cc -std=c11 mmapclient-poll.c $(pkg-config --cflags --libs mmapclient)
 */
#define _POSIX_C_SOURCE 200809L	/* getopt(), poll() */

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mmapclient.h>

#define MAX_COUNT	64

struct app {
	struct mmapclient *c;
	struct mmapclient_region *r[MAX_COUNT];
	int mapped;		/* Maps completed, well or not */
	int held;		/* regions held now */
	int failed;
};

static unsigned char
pattern(size_t i, uint64_t lease)
{
	return (unsigned char)(i * 7 + lease);
}

/* A Map's end: keep the region, and prove the memory is there. */
static void
map_done(struct mmapclient *c, const struct mmapclient_result *res,
    void *arg)
{
	struct app *a = arg;
	volatile unsigned char *p;
	size_t i;

	(void)c;
	a->mapped++;
	if (res->error) {
		fprintf(stderr, "mmapclient-poll: map (request %" PRIu64 "): "
		    "%s: %s\n", res->request_id, strerror(-res->error),
		    res->message);
		a->failed = 1;
		return;
	}
	p = res->region->addr;
	for (i = 0; i < res->region->size; i++)
		p[i] = pattern(i, res->lease_id);
	for (i = 0; i < res->region->size; i++) {
		if (p[i] != pattern(i, res->lease_id)) {
			fprintf(stderr, "mmapclient-poll: lease %" PRIu64
			    ": byte %zu reads back wrong\n", res->lease_id, i);
			a->failed = 1;
		}
	}
	printf("mapped lease %" PRIu64 ": %zu bytes at %p\n", res->lease_id,
	    res->region->size, res->region->addr);
	a->r[a->held++] = res->region;
}

static void
release_done(struct mmapclient *c, const struct mmapclient_result *res,
    void *arg)
{
	struct app *a = arg;

	(void)c;
	if (res->error) {
		fprintf(stderr, "mmapclient-poll: release lease %" PRIu64
		    ": %s: %s\n", res->lease_id, strerror(-res->error),
		    res->message);
		a->failed = 1;
		return;
	}
	printf("released lease %" PRIu64 "\n", res->lease_id);
}

/* Forget r, released (or about to be) by the caller. */
static void
app_drop(struct app *a, const struct mmapclient_region *r)
{
	int i;

	for (i = 0; i < a->held; i++) {
		if (a->r[i] == r) {
			a->r[i] = a->r[--a->held];
			return;
		}
	}
}

/* The daemon takes a lease back: let it go now, before the deadline. */
static void
revoked(struct mmapclient *c, const struct mmapclient_revoking *ev, void *arg)
{
	struct app *a = arg;
	int err;

	printf("revoking lease %" PRIu64 ": %s (deadline %" PRId64 ", %s)\n",
	    ev->lease_id, ev->reason, ev->deadline_unix_sec,
	    ev->enforce == MMAPCLIENT_ENFORCE_KILL ? "kill" : "log");
	if (ev->region == NULL)
		return;
	app_drop(a, ev->region);
	err = mmapclient_release_async(c, ev->region, release_done, a);
	if (err) {
		fprintf(stderr, "mmapclient-poll: release lease %" PRIu64
		    ": %s\n", ev->lease_id, mmapclient_error(c));
		a->failed = 1;
	}
}

/* poll(2) and dispatch until done() holds: 0, or the error. */
static int
loop_until(struct app *a, int (*done)(const struct app *))
{
	struct pollfd p = { .fd = mmapclient_fd(a->c), .events = POLLIN };
	int n;

	while (!done(a)) {
		n = poll(&p, 1, 10000);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ETIMEDOUT;
		n = mmapclient_dispatch(a->c);
		if (n < 0)
			return n;
	}
	return 0;
}

static int
none_in_flight(const struct app *a)
{
	return mmapclient_in_flight(a->c) == 0;
}

static int
none_held(const struct app *a)
{
	return a->held == 0 && mmapclient_in_flight(a->c) == 0;
}

int
main(int argc, char **argv)
{
	struct mmapclient_request req = {
		.device = "zero", .size = 64 * 1024,
		.flags = MMAPCLIENT_SHARED | MMAPCLIENT_WRITE,
	};
	struct app a = { .c = NULL };
	int count = 4, wait_revoke = 0, opt, i, err;

	/* A line a step, as it happens, even into a pipe. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "n:s:w")) != -1) {
		switch (opt) {
		case 'n':
			count = atoi(optarg);
			break;
		case 's':
			req.size = strtoull(optarg, NULL, 0);
			break;
		case 'w':
			wait_revoke = 1;
			break;
		default:
			goto usage;
		}
	}
	if (count < 1 || count > MAX_COUNT || req.size == 0 ||
	    argc - optind > 1)
		goto usage;

	err = mmapclient_connect(optind < argc ? argv[optind] : NULL, &a.c);
	if (err) {
		fprintf(stderr, "mmapclient-poll: connect: %s\n",
		    mmapclient_error(NULL));
		return 1;
	}
	/* Hello again, asking for events: one round trip, before any Map. */
	err = mmapclient_on_revoke(a.c, revoked, &a);
	if (err)
		goto fail;

	for (i = 0; i < count; i++) {
		err = mmapclient_map_async(a.c, &req, map_done, &a);
		if (err)
			goto fail;
	}
	printf("%d maps in flight\n", mmapclient_in_flight(a.c));
	err = loop_until(&a, none_in_flight);
	if (err)
		goto fail;

	if (wait_revoke) {
		printf("holding %d regions until revoked\n", a.held);
		err = loop_until(&a, none_held);
		if (err)
			goto fail;
	} else {
		while (a.held > 0) {
			err = mmapclient_release_async(a.c, a.r[a.held - 1],
			    release_done, &a);
			if (err)
				goto fail;
			a.held--;
		}
		printf("%d releases in flight\n", mmapclient_in_flight(a.c));
		err = loop_until(&a, none_in_flight);
		if (err)
			goto fail;
	}
	mmapclient_close(a.c);
	return a.failed;

fail:
	fprintf(stderr, "mmapclient-poll: %s (%d): %s\n", strerror(-err), err,
	    mmapclient_error(a.c));
	for (i = 0; i < a.held; i++)
		mmapclient_region_free(a.r[i]);
	mmapclient_close(a.c);
	return 1;

usage:
	fprintf(stderr, "usage: mmapclient-poll [-n COUNT (1-%d)] [-s SIZE] "
	    "[-w] [SOCKET]\n", MAX_COUNT);
	return 2;
}
