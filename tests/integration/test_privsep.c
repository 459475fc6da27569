/*
 * mmapd's two processes seen from outside: the monitor (mmapd's pid)
 * and the worker (its child).  Each ends with the other: the worker
 * killed, mmapd exits non-zero and says so; the monitor killed, the
 * worker stops too.  A SIGHUP sent to the worker instead of the monitor
 * still reloads, through the monitor.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

TestSuite(privsep, .fini = h_cleanup, .timeout = 60);

#define CONF	"[daemon]\nsocket_mode = 0666\n\n[zero]\nusers = *\n"

/* Wait (H_WAIT_MS) until pid is gone or a zombie; 1 when it is. */
static int
gone(pid_t pid)
{
	int64_t end = h_now_ms() + H_WAIT_MS;
	char path[64], *st, *state;
	int dead;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	for (;;) {
		st = h_read(path);
		state = strstr(st, "\nState:\t");
		dead = st[0] == '\0' || (state != NULL && state[8] == 'Z');
		free(st);
		if (dead)
			return 1;
		if (h_now_ms() >= end)
			return 0;
		usleep(10000);
	}
}

Test(privsep, worker_killed_stops_mmapd_nonzero)
{
	char pidtext[64];
	pid_t w;
	int st;

	h_start(CONF);
	w = h_worker_pid();
	cr_assert_eq(kill(w, SIGKILL), 0);
	st = h_wait(h_pid(), H_WAIT_MS);
	cr_assert_neq(st, -1, "mmapd did not exit within %d ms of its "
	    "worker's death", H_WAIT_MS);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) != 0, "mmapd ended with "
	    "status %#x after its worker was killed, not a non-zero exit",
	    (unsigned)st);
	snprintf(pidtext, sizeof(pidtext), "the worker (pid %d) was killed "
	    "by signal 9", (int)w);
	h_log_expect(pidtext);
}

Test(privsep, monitor_killed_worker_stops)
{
	pid_t w;
	int st;

	h_start(CONF);
	w = h_worker_pid();
	cr_assert_eq(kill(h_pid(), SIGKILL), 0);
	st = h_wait(h_pid(), H_WAIT_MS);
	cr_assert(st != -1 && WIFSIGNALED(st));
	cr_assert(gone(w), "the worker (pid %d) still runs %d ms after the "
	    "monitor was killed", (int)w, H_WAIT_MS);
	/* Nothing serves the socket any more. */
	cr_assert_neq(raw_connect_errno(), 0);
}

Test(privsep, sighup_to_the_worker_reloads_through_the_monitor)
{
	struct mmapclient *c;

	h_start(CONF);
	c = h_connect();
	h_rewrite_conf("[daemon]\nsocket_mode = 0666\n\n[zero]\nusers = *\n"
	    "max_size = 8K\n");
	cr_assert_eq(kill(h_worker_pid(), SIGHUP), 0);
	cr_assert_eq(h_log_wait(1, "monitor: the worker got SIGHUP"), 1);
	cr_assert_eq(h_log_wait(1, "SIGHUP: policy reloaded"), 1);
	cr_assert_eq(h_log_wait(1, "the worker serves the new policy"), 1);
	/* In force: a Map over the new max_size is refused. */
	{
		struct mmapclient_request req = {
			.device = "zero", .size = 64 * 1024,
		};
		struct mmapclient_region *r = NULL;

		cr_assert_eq(mmapclient_map(c, &req, &r), -EFBIG, "%s",
		    mmapclient_error(c));
	}
	mmapclient_close(c);
	h_stop();
}
