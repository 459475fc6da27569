/*
 * examples/mmapclient-poll, the event-loop pattern of libmmapclient(3),
 * run against a real mmapd: eight Maps in flight on one connection,
 * completed through poll(2) and mmapclient_dispatch(), each region
 * written and read back, then eight Releases the same way.  The daemon
 * must have granted and released each one (its audit lines) and hold
 * nothing after.  Its revoke handler runs against a fake daemon in
 * test_client_events.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "harness.h"

TestSuite(example, .fini = h_cleanup, .timeout = 60);

static const char conf[] =
	"[limits]\n"
	"grants_in_flight = 8\n"
	"[zero]\n"
	"users = *\n"
	"shared = yes\n";

/* Lines of text holding needle. */
static int
lines_with(const char *text, const char *needle)
{
	const char *p;
	int n = 0;

	for (p = text; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

Test(example, poll_loop_maps_and_releases_eight)
{
	const char *bin = getenv("EXAMPLE_BIN");
	struct ctl r;

	cr_assert(bin != NULL && bin[0], "EXAMPLE_BIN is not set");
	ctl_need_nobody();
	h_start(conf);
	h_run(&r, bin, CTL_NOBODY, "-n", "8", "-s", "16384", h_sock());
	cr_assert_eq(r.status, 0, "mmapclient-poll exited %d; stdout:\n%s\n"
	    "stderr:\n%s", r.status, r.out, r.err);
	cr_assert(strstr(r.out, "8 maps in flight\n") != NULL, "%s", r.out);
	cr_assert(strstr(r.out, "8 releases in flight\n") != NULL, "%s",
	    r.out);
	cr_assert_eq(lines_with(r.out, "mapped lease "), 8, "%s", r.out);
	cr_assert_eq(lines_with(r.out, ": 16384 bytes at "), 8, "%s", r.out);
	cr_assert_eq(lines_with(r.out, "released lease "), 8, "%s", r.out);
	cr_assert_str_eq(r.err, "");
	ctl_free(&r);
	/* The daemon's word: eight grants to uid 65534, eight releases. */
	cr_assert_eq(h_log_wait(8, "event=grant", "uid=65534 ",
	    "result=ok"), 8);
	cr_assert_eq(h_log_wait(8, "event=release", "uid=65534 "), 8);
	cr_assert_eq(h_leases_wait(0), 0);
	h_stop();
}
