/*
 * libmmapclient's revoke handler against a real mmapd revoking leases
 * (mmapclient_revoke(), mmapctl revoke): the handler of the holding
 * connection is told of each lease, with its region, the reason, the
 * deadline and the enforcement, releases it from dispatch, and the
 * daemon logs the Release as one in time (revoke=revoking); a
 * connection that set no handler is sent no event at all, its socket
 * stays silent and its synchronous calls go on; mmapctl map --hold
 * releases a revoked lease and exits 3; examples/mmapclient-poll -w
 * releases everything revoked and ends.  The same against a fake
 * daemon, with its lies, is test_client_events.c.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "harness.h"

TestSuite(client_revoke, .fini = h_cleanup, .timeout = 60);

/* Ten seconds to release: well past any wait here. */
static const char conf[] =
	"[zero]\n"
	"users = *\n"
	"shared = yes\n"
	"revoke_seconds = 10\n"
	"on_revoke = log\n";

static const struct mmapclient_request shared = {
	.device = "zero", .size = 4096,
	.flags = MMAPCLIENT_SHARED | MMAPCLIENT_WRITE,
};

/* What the handler saw, and the Releases it sent. */
struct seen {
	int n;
	int with_region;
	int released;		/* their callbacks, all 0 */
	int bad;
	char reason[128];
	int64_t deadline;
	uint32_t seconds;
	enum mmapclient_enforce enforce;
};

static void
released(struct mmapclient *c, const struct mmapclient_result *res,
    void *arg)
{
	struct seen *s = arg;

	(void)c;
	if (res->error)
		s->bad++;
	s->released++;
}

static void
on_revoke(struct mmapclient *c, const struct mmapclient_revoking *ev,
    void *arg)
{
	struct seen *s = arg;

	s->n++;
	snprintf(s->reason, sizeof(s->reason), "%s", ev->reason);
	s->deadline = ev->deadline_unix_sec;
	s->seconds = ev->seconds;
	s->enforce = ev->enforce;
	if (ev->region == NULL)
		return;
	if (ev->region->lease_id != ev->lease_id)
		s->bad++;
	s->with_region++;
	if (mmapclient_release_async(c, ev->region, released, s) != 0)
		s->bad++;
}

static void
mapped(struct mmapclient *c, const struct mmapclient_result *res, void *arg)
{
	int *n = arg;

	(void)c;
	cr_assert_eq(res->error, 0, "map: %s", res->message);
	(*n)++;
}

/* poll(2) and dispatch until *n reaches want. */
static void
dispatch_until(struct mmapclient *c, const int *n, int want)
{
	struct pollfd p = { .fd = mmapclient_fd(c), .events = POLLIN };
	int64_t end = h_now_ms() + H_WAIT_MS;

	while (*n < want) {
		cr_assert_lt(h_now_ms(), end, "%d of %d within %d ms", *n,
		    want, H_WAIT_MS);
		cr_assert_geq(poll(&p, 1, H_WAIT_MS), 0);
		cr_assert_geq(mmapclient_dispatch(c), 0, "%s",
		    mmapclient_error(c));
	}
}

/*
 * Four leases of one connection with a handler, and one of a connection
 * without: revoking the uid's leases tells the first of its four (each
 * with its region), whose handler releases them in time; the second is
 * told nothing, and its synchronous calls go on.
 */
Test(client_revoke, handler_releases_in_time_silent_without)
{
	struct mmapclient_revoke_what what = {
		.by_uid = 1, .uid = 0, .reason = "maintenance",
	};
	struct mmapclient_region *quiet_r = NULL;
	struct mmapclient_status *st = NULL;
	struct mmapclient *c, *quiet, *admin;
	struct seen s = { .n = 0 };
	struct pollfd p;
	int maps = 0, i, n;

	h_start(conf);
	c = h_connect();
	quiet = h_connect();
	admin = h_connect();
	cr_assert_eq(mmapclient_on_revoke(c, on_revoke, &s), 0, "%s",
	    mmapclient_error(c));
	for (i = 0; i < 4; i++)
		cr_assert_eq(mmapclient_map_async(c, &shared, mapped, &maps),
		    0);
	dispatch_until(c, &maps, 4);
	cr_assert_eq(mmapclient_map(quiet, &shared, &quiet_r), 0);

	n = mmapclient_revoke(admin, &what);
	cr_assert_eq(n, 5, "revoke gave %d: %s", n, mmapclient_error(admin));
	dispatch_until(c, &s.released, 4);
	cr_assert_eq(s.n, 4);
	cr_assert_eq(s.with_region, 4);
	cr_assert_eq(s.bad, 0);
	cr_assert_str_eq(s.reason, "maintenance");
	cr_assert_eq(s.enforce, MMAPCLIENT_ENFORCE_LOG);
	cr_assert_eq(s.seconds, 10);
	cr_assert_geq(s.deadline, (int64_t)time(NULL) + 5);
	cr_assert_eq(h_log_wait(4, "event=release", "reason=request",
	    "revoke=revoking"), 4);

	/* Not told: nothing on its socket; its calls go on. */
	p = (struct pollfd){ .fd = mmapclient_fd(quiet), .events = POLLIN };
	cr_assert_eq(poll(&p, 1, 200), 0, "a connection without a handler "
	    "was sent something");
	cr_assert_eq(mmapclient_status(quiet, &st), 0, "%s",
	    mmapclient_error(quiet));
	cr_assert_eq(st->leases, 1, "only quiet's lease is left");
	mmapclient_status_free(st);
	cr_assert_eq(mmapclient_pending(quiet), 0);
	cr_assert_eq(mmapclient_release(quiet, quiet_r), 0);
	mmapclient_close(quiet);
	mmapclient_close(admin);
	mmapclient_close(c);
	h_stop();
}

/* mmapctl map --hold, revoked by mmapctl revoke: released, exit 3. */
Test(client_revoke, mmapctl_hold_exits_3)
{
	struct ctl_bg b;
	struct ctl r;

	ctl_need_nobody();
	h_start(conf);
	ctl_spawn(&b, CTL_NOBODY, "map", "--dev", "zero", "--size", "4096",
	    "--shared", "--hold");
	ctl_bg_wait(&b, "holding lease 1;");
	ctl_run(&r, CTL_ROOT, "revoke", "1", "--reason", "by the test");
	cr_assert_eq(r.status, 0, "revoke: %s", r.err);
	ctl_free(&r);
	cr_assert_eq(h_log_wait(1, "event=release", "lease=1 ",
	    "revoke=revoking"), 1);
	/* No signal: it ends by itself. */
	ctl_bg_stop(&b, 0, &r);
	cr_assert_eq(r.status, 3, "mmapctl exited %d; stdout: %s; stderr: %s",
	    r.status, r.out, r.err);
	cr_assert(strstr(r.out, "revoking lease 1: by the test; deadline ")
	    != NULL, "stdout: %s", r.out);
	cr_assert(strstr(r.out, " (in 10 s), then log\nreleased lease 1\n")
	    != NULL, "stdout: %s", r.out);
	ctl_free(&r);
	cr_assert_eq(h_leases_wait(0), 0);
	h_stop();
}

/* examples/mmapclient-poll -w: everything revoked is released. */
Test(client_revoke, example_releases_on_revocation)
{
	const char *bin = getenv("EXAMPLE_BIN");
	struct mmapclient_revoke_what what = {
		.by_uid = 1, .uid = 65534, .reason = "all of nobody's",
	};
	struct mmapclient *admin;
	struct ctl_bg b;
	struct ctl r;
	int n;

	cr_assert(bin != NULL && bin[0], "EXAMPLE_BIN is not set");
	ctl_need_nobody();
	h_start(conf);
	h_spawn_v(&b, bin, CTL_NOBODY, (const char *const[]){ "-w", "-n",
	    "3", "-s", "4096", h_sock(), NULL });
	ctl_bg_wait(&b, "holding 3 regions until revoked");
	admin = h_connect();
	n = mmapclient_revoke(admin, &what);
	cr_assert_eq(n, 3, "revoke gave %d: %s", n, mmapclient_error(admin));
	cr_assert_eq(h_log_wait(3, "event=release", "revoke=revoking"), 3);
	/* No signal: it ends by itself. */
	ctl_bg_stop(&b, 0, &r);
	cr_assert_eq(r.status, 0, "mmapclient-poll exited %d; stdout:\n%s\n"
	    "stderr:\n%s", r.status, r.out, r.err);
	cr_assert(strstr(r.out, "revoking lease 3: all of nobody's "
	    "(deadline ") != NULL, "%s", r.out);
	cr_assert(strstr(r.out, "released lease 3\n") != NULL, "%s", r.out);
	ctl_free(&r);
	cr_assert_eq(h_leases_wait_on(admin, 0), 0);
	mmapclient_close(admin);
	h_stop();
}
