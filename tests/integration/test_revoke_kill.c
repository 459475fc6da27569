/*
 * on_revoke = kill against a real mmapd: the worker asks the monitor to
 * kill the holder and never waits for the answer (daemon/revoke-kill.c).
 *
 * revoke_kill.holder_is_killed: a holder that does not release dies of
 * SIGKILL at its deadline, and the audit says revoke-kill result=ok.
 *
 * revoke_kill.slow_monitor_stalls_no_one: the monitor is stopped
 * (SIGSTOP) before the deadline, so the kill's answer cannot come; another
 * client's Status is answered as fast as ever across the deadline and the
 * PRIVSEP_WAIT_MS after it (a worker that waited for the answer stalled
 * every client for 1 s there).  The kill is logged as failed with
 * ETIMEDOUT, the lease kept; the monitor, continued, still kills the
 * holder, and the worker logs that late answer; nothing crashed.
 *
 * revoke_kill.a_holders_leases_share_one_kill: 70 leases of one holder
 * revoked at once cost one request and one SIGKILL, a line each.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"
#include "wire.h"

TestSuite(revoke_kill, .fini = h_cleanup, .timeout = 60);

/* A revoked holder has 1 s to release, and is killed then. */
#define CONF_KILL \
	"[zero]\n" \
	"users = *\n" \
	"revoke_seconds = 1\n" \
	"on_revoke = kill\n"

/* The worst Status round trip allowed; waiting for the answer took 1 s. */
#define FAST_MS		400

static char *
lease_f(uint64_t id)
{
	static char buf[4][32];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "lease=%llu ",
	    (unsigned long long)id);
	return buf[k];
}

/* Root revokes lease through its own connection. */
static void
root_revokes(uint64_t lease)
{
	struct mmapclient_revoke_what w = { .lease_id = lease,
	    .reason = "stop" };
	struct mmapclient *c = h_connect();

	cr_assert_eq(mmapclient_revoke(c, &w), 1, "revoke: %s",
	    mmapclient_error(c));
	mmapclient_close(c);
}

/* Root revokes every lease of uid 65534: how many. */
static int
root_revokes_nobody(void)
{
	struct mmapclient_revoke_what w = { .by_uid = 1, .uid = H_NOBODY,
	    .reason = "stop" };
	struct mmapclient *c = h_connect();
	int n = mmapclient_revoke(c, &w);

	cr_assert_geq(n, 0, "revoke: %s", mmapclient_error(c));
	mmapclient_close(c);
	return n;
}

/* pid's end within H_WAIT_MS: it must be SIGKILL. */
static void
expect_killed(pid_t pid)
{
	int st = h_wait(pid, H_WAIT_MS);

	cr_assert_neq(st, -1, "the holder (pid %d) is alive %d ms later",
	    (int)pid, H_WAIT_MS);
	h_untrack(pid);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	    "the holder ended with status %#x, not SIGKILL", (unsigned)st);
}

Test(revoke_kill, holder_is_killed)
{
	uint64_t lease = 0;
	pid_t pid;

	h_start(CONF_KILL);
	pid = h_holder(&lease, 1, 4096, 0);
	root_revokes(lease);
	h_log_expect("event=revoke ", lease_f(lease), "on_revoke=kill");
	expect_killed(pid);
	cr_assert_eq(h_log_wait(1, "event=revoke-kill ", lease_f(lease),
	    h_pidf(pid), "result=ok errno=0"), 1, "no revoke-kill result=ok "
	    "line within %d ms", H_WAIT_MS);
	/* Its connection's end released the lease; nothing was kept. */
	cr_assert_eq(h_log_wait(1, "event=release ", lease_f(lease)), 1);
	cr_assert_eq(h_log_count("event=revoke-expired"), 0);
	cr_assert_eq(h_log_count("result=failed"), 0);
	h_stop();
}

Test(revoke_kill, slow_monitor_stalls_no_one)
{
	uint64_t lease = 0;
	int64_t start, t, worst = 0;
	pid_t pid, monitor;
	Reply *r;
	int fd, n = 0, timed_out = 0, alive;

	h_start(CONF_KILL);
	monitor = h_pid();
	pid = h_holder(&lease, 1, 4096, 0);
	fd = raw_connect();
	raw_hello(fd);
	root_revokes(lease);
	/* The deadline is 1 s away: the monitor is stopped well before. */
	cr_assert_eq(kill(monitor, SIGSTOP), 0);
	start = h_now_ms();
	/*
	 * Status after Status across the deadline and the PRIVSEP_WAIT_MS
	 * after it, until the worker gives up on the answer: one of them
	 * is in flight whenever the worker would wait.
	 */
	while (!timed_out && h_now_ms() - start < 2 * H_WAIT_MS) {
		t = h_now_ms();
		r = raw_status(fd, (uint64_t)n + 2);
		t = h_now_ms() - t;
		cr_assert_eq(r->error, 0, "Status: %s", r->message);
		reply_free(r);
		if (t > worst)
			worst = t;
		n++;
		timed_out = h_log_count("event=revoke-kill ", lease_f(lease),
		    "result=failed errno=ETIMEDOUT") > 0;
	}
	/* The kill is still queued: the holder lives until the monitor runs. */
	alive = h_wait(pid, 0) == -1;
	cr_assert_eq(kill(monitor, SIGCONT), 0);
	fprintf(stderr, "revoke_kill: worst of %d Status round trips while "
	    "the monitor was stopped: %lld ms\n", n, (long long)worst);
	cr_assert(timed_out, "no revoke-kill result=failed errno=ETIMEDOUT "
	    "line within %d ms of the revocation", 2 * H_WAIT_MS);
	cr_assert_lt(worst, FAST_MS, "a Status took %lld ms while a kill's "
	    "answer was outstanding", (long long)worst);
	cr_assert(alive, "the holder died while the monitor was stopped");
	/* Kept, listed as revoked, as when a kill fails; no ok line. */
	h_log_expect("event=revoke-expired ", lease_f(lease), "on_revoke=kill",
	    "kept, listed as revoked");
	/* The monitor still acts on the request it had queued. */
	expect_killed(pid);
	cr_assert_eq(h_log_wait(1, "revoke: ", lease_f(lease),
	    "answered its kill", "SIGKILL sent"), 1, "no line of the late "
	    "answer within %d ms", H_WAIT_MS);
	cr_assert_eq(h_log_wait(1, "event=release ", lease_f(lease)), 1);
	cr_assert_eq(h_log_count("event=revoke-kill ", "result=ok"), 0);
	cr_assert_eq(h_log_count("event=revoke-kill "), 1);
	/* Both processes are fine: still serving, and a clean stop. */
	r = raw_status(fd, 1000);
	cr_assert_eq(r->error, 0, "Status after: %s", r->message);
	reply_free(r);
	close(fd);
	h_stop();
}

/*
 * A holder of 70 leases all revoked at once: one kill is asked of the
 * monitor for all of them, one SIGKILL sent, and each lease has its
 * revoke-kill result=ok line and is released with the connection.
 */
#define MANY	70

Test(revoke_kill, a_holders_leases_share_one_kill)
{
	uint64_t lease = 0;
	pid_t pid;

	h_start(CONF_KILL);
	pid = h_holder(&lease, MANY, 4096, 0);
	cr_assert_eq(root_revokes_nobody(), MANY);
	expect_killed(pid);
	cr_assert_eq(h_log_wait(MANY, "event=release ", "revoke=revoked"),
	    MANY, "not every lease was released");
	cr_assert_eq(h_log_wait(MANY, "event=revoke-kill ", h_pidf(pid),
	    "result=ok errno=0"), MANY);
	cr_assert_eq(h_log_count("monitor: SIGKILL sent to pid "), 1);
	cr_assert_eq(h_log_count("result=failed"), 0);
	cr_assert_eq(h_log_count("event=revoke-expired"), 0);
	h_stop();
}
