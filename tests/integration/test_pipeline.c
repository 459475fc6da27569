/*
 * Requests in flight against a real mmapd: sixteen Maps sent at once on
 * one connection before any reply is read, completed through
 * mmapclient_dispatch(), each with a region of its own that reads and
 * writes, their lease ids distinct and listed by the daemon; then
 * sixteen Releases the same way, after which the daemon holds nothing.
 * With the default [limits], what the daemon refuses beyond its
 * grants_in_flight completes with -EAGAIN and its message, and the
 * connection goes on.  Synchronous calls made while async ones are in
 * flight get their own replies; the completions they read wait for
 * dispatch.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

#define N	16
#define SIZE	8192

TestSuite(pipeline, .fini = h_cleanup, .timeout = 60);

static const char conf_wide[] =
	"[limits]\n"
	"requests_in_flight = 16\n"
	"grants_in_flight = 16\n"
	"[zero]\n"
	"users = *\n"
	"shared = yes\n";

static const char conf_default[] =
	"[zero]\n"
	"users = *\n"
	"shared = yes\n";

static const struct mmapclient_request shared = {
	.device = "zero", .size = SIZE,
	.flags = MMAPCLIENT_SHARED | MMAPCLIENT_WRITE,
};

/* Every callback's result, in the order they ran. */
struct ends {
	int n;
	uint64_t id[2 * N];
	int error[2 * N];
	uint64_t lease[2 * N];
	struct mmapclient_region *region[2 * N];
	char msg[2 * N][256];
};

static void
on_end(struct mmapclient *c, const struct mmapclient_result *res, void *arg)
{
	struct ends *e = arg;

	(void)c;
	cr_assert_lt(e->n, 2 * N, "more callbacks than requests");
	e->id[e->n] = res->request_id;
	e->error[e->n] = res->error;
	e->lease[e->n] = res->lease_id;
	e->region[e->n] = res->region;
	snprintf(e->msg[e->n], sizeof(e->msg[0]), "%s", res->message);
	e->n++;
}

/* poll(2) and dispatch until want callbacks have run; dispatch calls. */
static int
dispatch_until(struct mmapclient *c, struct ends *e, int want)
{
	struct pollfd p = { .fd = mmapclient_fd(c), .events = POLLIN };
	int64_t end = h_now_ms() + H_WAIT_MS;
	int calls = 0, r;

	while (e->n < want) {
		cr_assert_lt(h_now_ms(), end, "%d of %d callbacks within %d "
		    "ms", e->n, want, H_WAIT_MS);
		cr_assert_geq(poll(&p, 1, H_WAIT_MS), 0);
		r = mmapclient_dispatch(c);
		cr_assert_geq(r, 0, "dispatch: %d: %s", r,
		    mmapclient_error(c));
		calls++;
	}
	return calls;
}

/* The memory is there, shared and writable, and its own. */
static void
region_prove(const struct mmapclient_region *r, int k)
{
	volatile unsigned char *p = r->addr;
	size_t i;

	cr_assert_eq(r->size, SIZE);
	cr_assert_eq(r->kind, MMAPCLIENT_KIND_SHMEM);
	for (i = 0; i < r->size; i++)
		cr_assert_eq(p[i], 0, "fresh memory of lease %llu is not zero",
		    (unsigned long long)r->lease_id);
	for (i = 0; i < r->size; i++)
		p[i] = (unsigned char)(k + 1);
}

Test(pipeline, sixteen_maps_then_sixteen_releases_in_flight)
{
	struct ends e = { .n = 0 };
	struct mmapclient *c;
	int fds0, i, j, calls;

	h_start(conf_wide);
	c = h_connect();
	fds0 = h_self_fds();
	for (i = 0; i < N; i++)
		cr_assert_eq(mmapclient_map_async(c, &shared, on_end, &e), 0,
		    "map_async %d: %s", i, mmapclient_error(c));
	/* Nothing is read before the last is sent. */
	cr_assert_eq(mmapclient_in_flight(c), N);
	cr_assert_eq(e.n, 0);

	calls = dispatch_until(c, &e, N);
	cr_log_info("%d maps completed in %d dispatch calls", N, calls);
	cr_assert_eq(mmapclient_in_flight(c), 0);
	for (i = 0; i < N; i++) {
		cr_assert_eq(e.error[i], 0, "map %d: %s", i, e.msg[i]);
		cr_assert_str_eq(e.msg[i], "");
		cr_assert_not_null(e.region[i]);
		cr_assert_eq(e.lease[i], e.region[i]->lease_id);
		/* The daemon answers in order: ids as sent. */
		if (i > 0)
			cr_assert_eq(e.id[i], e.id[i - 1] + 1);
		for (j = 0; j < i; j++)
			cr_assert_neq(e.lease[i], e.lease[j], "leases %d and "
			    "%d are both %llu", i, j,
			    (unsigned long long)e.lease[i]);
		region_prove(e.region[i], i);
	}
	/* Each its own memory: no write above landed in another. */
	for (i = 0; i < N; i++)
		cr_assert(h_all(e.region[i]->addr, SIZE, (uint8_t)(i + 1)),
		    "region %d holds another's bytes", i);
	/* The fds were mapped and closed, none kept. */
	cr_assert_eq(h_self_fds(), fds0, "%d fds, %d before the maps",
	    h_self_fds(), fds0);
	cr_assert_eq(h_leases_wait_on(c, N), N);

	for (i = 0; i < N; i++)
		cr_assert_eq(mmapclient_release_async(c, e.region[i], on_end,
		    &e), 0, "release_async %d: %s", i, mmapclient_error(c));
	cr_assert_eq(mmapclient_in_flight(c), N);
	dispatch_until(c, &e, 2 * N);
	for (i = N; i < 2 * N; i++) {
		cr_assert_eq(e.error[i], 0, "release %d: %s", i - N, e.msg[i]);
		cr_assert_eq(e.lease[i], e.lease[i - N]);
		cr_assert_null(e.region[i]);
	}
	cr_assert_eq(h_leases_wait_on(c, 0), 0);
	h_log_expect("audit:", "event=release", "lease=");
	mmapclient_close(c);
	h_stop();
}

/*
 * The default grants_in_flight (8): the ninth Map, read by the daemon
 * before the client has read a reply, is refused with EAGAIN; the
 * connection goes on and the rest are granted.
 */
Test(pipeline, beyond_grants_in_flight_completes_with_eagain)
{
	struct mmapclient_region *r = NULL;
	struct ends e = { .n = 0 };
	struct mmapclient *c;
	int i, ok = 0;

	h_start(conf_default);
	c = h_connect();
	for (i = 0; i < N; i++)
		cr_assert_eq(mmapclient_map_async(c, &shared, on_end, &e), 0,
		    "map_async %d: %s", i, mmapclient_error(c));
	/* Not a byte read until the daemon has refused one. */
	cr_assert_eq(h_log_wait(1, "errno=EAGAIN ", "msg=\"8 grants in flight "
	    "on this connection (limit 8): read the replies\""), 1);
	dispatch_until(c, &e, N);
	for (i = 0; i < N; i++) {
		if (i == 8) {
			cr_assert_eq(e.error[i], -EAGAIN, "map 8 gave %d",
			    e.error[i]);
			cr_assert_str_eq(e.msg[i], "8 grants in flight on this "
			    "connection (limit 8): read the replies");
			cr_assert_null(e.region[i]);
			continue;
		}
		cr_assert_eq(e.error[i], 0, "map %d: %s", i, e.msg[i]);
		ok++;
	}
	cr_assert_eq(ok, N - 1);
	cr_assert_eq(h_leases_wait_on(c, N - 1), N - 1);
	/* Still usable, synchronously too. */
	cr_assert_eq(mmapclient_map(c, &shared, &r), 0, "%s",
	    mmapclient_error(c));
	cr_assert_eq(mmapclient_release(c, r), 0);
	for (i = 0; i < N; i++)
		if (e.region[i])
			cr_assert_eq(mmapclient_release(c, e.region[i]), 0);
	cr_assert_eq(h_leases_wait_on(c, 0), 0);
	mmapclient_close(c);
	h_stop();
}

/*
 * A synchronous Status and Map in the middle of four async Maps: each
 * gets its own reply; the async completions they read are queued, run
 * by the next dispatch, in order.
 */
Test(pipeline, sync_calls_between_async_ones)
{
	struct mmapclient_status *st = NULL;
	struct mmapclient_region *r = NULL;
	struct ends e = { .n = 0 };
	struct mmapclient *c;
	int i;

	h_start(conf_wide);
	c = h_connect();
	for (i = 0; i < 4; i++)
		cr_assert_eq(mmapclient_map_async(c, &shared, on_end, &e), 0);
	cr_assert_eq(mmapclient_status(c, &st), 0, "%s", mmapclient_error(c));
	/* The four Grants came before the StatusReply: mapped, queued. */
	cr_assert_eq(st->leases, 4);
	mmapclient_status_free(st);
	cr_assert_eq(mmapclient_pending(c), 4);
	cr_assert_eq(mmapclient_in_flight(c), 0);
	cr_assert_eq(e.n, 0, "a callback ran inside a synchronous call");
	cr_assert_eq(mmapclient_map(c, &shared, &r), 0, "%s",
	    mmapclient_error(c));
	cr_assert_eq(mmapclient_dispatch(c), 4);
	cr_assert_eq(mmapclient_dispatch(c), 0);
	for (i = 0; i < 4; i++) {
		cr_assert_eq(e.error[i], 0, "%s", e.msg[i]);
		cr_assert_lt(e.lease[i], r->lease_id);
		if (i > 0)
			cr_assert_gt(e.lease[i], e.lease[i - 1]);
		cr_assert_eq(mmapclient_release(c, e.region[i]), 0);
	}
	cr_assert_eq(mmapclient_release(c, r), 0);
	cr_assert_eq(h_leases_wait_on(c, 0), 0);
	mmapclient_close(c);
	h_stop();
}

/* Mappings of mmapd's memfds in this process (/memfd:dev/zero). */
static int
memfd_maps(void)
{
	char *maps = h_read("/proc/self/maps"), *p;
	int n = 0;

	for (p = maps; (p = strstr(p, "/memfd:dev/zero")) != NULL; p++)
		n++;
	free(maps);
	return n;
}

/*
 * Closing with requests in flight and completions queued: no callback
 * runs, the regions no one was handed are unmapped, and the daemon ends
 * the leases.
 */
Test(pipeline, close_with_requests_in_flight)
{
	struct mmapclient_status *st = NULL;
	struct ends e = { .n = 0 };
	struct mmapclient *c, *o;
	int fds0, i;

	h_start(conf_wide);
	o = h_connect();
	c = h_connect();
	fds0 = h_self_fds();
	for (i = 0; i < 4; i++)
		cr_assert_eq(mmapclient_map_async(c, &shared, on_end, &e), 0);
	/* Two read and queued by a Status, two left on the socket. */
	cr_assert_eq(mmapclient_status(c, &st), 0);
	mmapclient_status_free(st);
	for (i = 0; i < 2; i++)
		cr_assert_eq(mmapclient_map_async(c, &shared, on_end, &e), 0);
	cr_assert_eq(h_leases_wait_on(o, 6), 6);
	cr_assert_eq(memfd_maps(), 4, "the Status mapped %d", memfd_maps());
	mmapclient_close(c);
	cr_assert_eq(e.n, 0, "a callback ran in mmapclient_close()");
	cr_assert_eq(memfd_maps(), 0, "%d regions no one was handed are "
	    "still mapped", memfd_maps());
	cr_assert_eq(h_leases_wait_on(o, 0), 0);
	cr_assert_eq(h_self_fds(), fds0 - 1);
	mmapclient_close(o);
	h_stop();
}

/* What the Reads' callbacks were told, in order. */
struct reads {
	int n;
	int bad;		/* out of order, or not the refusal due */
	uint64_t last;
};

static void
on_read(struct mmapclient *c, const struct mmapclient_result *res,
    void *arg)
{
	struct reads *r = arg;

	(void)c;
	if (res->request_id <= r->last || res->error != -EINVAL ||
	    strstr(res->message, "zero") == NULL)
		r->bad++;
	r->last = res->request_id;
	r->n++;
}

/*
 * A hundred requests in flight at once, past the sizes the library's
 * tables start with: Reads of "zero", which the daemon refuses (EINVAL:
 * no registers) without a grant, so no limit of its own stops them.
 * Each completes once, in order, with the daemon's refusal; then a
 * Map still works.
 */
Test(pipeline, a_hundred_in_flight)
{
	struct mmapclient_region *r = NULL;
	struct reads rd = { .n = 0 };
	struct pollfd p;
	struct mmapclient *c;
	int64_t end;
	int i;

	h_start(conf_wide);
	c = h_connect();
	for (i = 0; i < 100; i++)
		cr_assert_eq(mmapclient_read_async(c, "zero", 0, 32, on_read,
		    &rd), 0, "read_async %d: %s", i, mmapclient_error(c));
	cr_assert_eq(mmapclient_in_flight(c), 100);
	p = (struct pollfd){ .fd = mmapclient_fd(c), .events = POLLIN };
	end = h_now_ms() + H_WAIT_MS;
	while (rd.n < 100 && h_now_ms() < end) {
		cr_assert_geq(poll(&p, 1, H_WAIT_MS), 0);
		cr_assert_geq(mmapclient_dispatch(c), 0, "%s",
		    mmapclient_error(c));
	}
	cr_assert_eq(rd.n, 100, "%d of 100 completed", rd.n);
	cr_assert_eq(rd.bad, 0, "%d out of order or not EINVAL", rd.bad);
	cr_assert_eq(mmapclient_in_flight(c), 0);
	cr_assert_eq(mmapclient_map(c, &shared, &r), 0, "%s",
	    mmapclient_error(c));
	cr_assert_eq(mmapclient_release(c, r), 0);
	mmapclient_close(c);
	h_stop();
}
