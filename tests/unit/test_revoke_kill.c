/*
 * The kills in flight (daemon/revoke-kill.c) with the test as the
 * monitor: the real worker side (revoke_kill(), revoke_kill_run(),
 * revoke_kill_answers(), privsep.c) on one end of a socketpair, the test
 * reading the requests and answering on the other, stderr (the log) a
 * file the test reads.
 *
 * What it shows: each answer's audit lines carry the lease and holder
 * the kill was asked for, written when the answer comes; an answer to no
 * kill is logged and dropped; one that does not come is logged failed
 * (ETIMEDOUT) at PRIVSEP_WAIT_MS, and when it comes after all it is
 * logged as late; past REVOKE_KILLS_MAX kills awaiting an answer a kill
 * fails at once (EAGAIN) without a request; the leases of one holder
 * share one request in one revoke_run(), each with its line; an answer
 * that is no errno is EPROTO; the monitor's end closed is -ECONNRESET.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "conns.h"
#include "daemon.h"
#include "log.h"
#include "privsep.h"
#include "privsep-msg.h"
#include "revoke.h"

static struct {
	int mon;		/* the test's end: the monitor's */
	int conn;		/* stands for the holder's connection */
	char log[64];
	int saved;
	struct session s;
	struct lease l;
} T = { .mon = -1, .conn = -1, .saved = -1 };

static void
setup(void)
{
	int sv[2], fd;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv),
	    0);
	cr_assert_eq(privsep_init(sv[1]), 0);
	T.mon = sv[0];
	T.conn = open("/dev/null", O_RDONLY | O_CLOEXEC);
	cr_assert_geq(T.conn, 0);
	snprintf(T.log, sizeof(T.log), "/tmp/mmapd-rk.XXXXXX");
	fd = mkstemp(T.log);
	cr_assert_geq(fd, 0);
	T.saved = dup(STDERR_FILENO);
	cr_assert_eq(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
	unsetenv("JOURNAL_STREAM");
	log_init();
	log_set_timestamps(0);
	T.s.fd = T.conn;
	T.s.peer.uid = 1000;
	T.s.peer.gid = 1000;
	T.s.peer.pid = 4242;
	snprintf(T.s.name, sizeof(T.s.name), "holder");
	T.l.owner = &T.s;
	T.l.id = 7;
	snprintf(T.l.revoke_reason, sizeof(T.l.revoke_reason), "maintenance");
}

static void
teardown(void)
{
	if (T.saved >= 0)
		(void)dup2(T.saved, STDERR_FILENO);
	if (T.saved >= 0)
		close(T.saved);
	if (T.mon >= 0)
		close(T.mon);
	if (T.conn >= 0)
		close(T.conn);
	if (T.log[0] != '\0')
		unlink(T.log);
}

TestSuite(revoke_kill, .init = setup, .fini = teardown, .timeout = 30);

/* Lines of the log holding every needle (NULL-terminated). */
static int
count_v(const char *const *needles)
{
	char line[2048];
	FILE *f = fopen(T.log, "r");
	int n = 0, i, all;

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		for (all = 1, i = 0; needles[i] != NULL && all; i++)
			all = strstr(line, needles[i]) != NULL;
		n += all;
	}
	fclose(f);
	return n;
}
#define count(...)	count_v((const char *const[]){ __VA_ARGS__, NULL })

/* The next request, as the monitor reads it: its seq; its fd closed. */
static uint32_t
request(void)
{
	struct pmsg m;
	int fds[PMSG_FDS_MAX], err;

	err = pmsg_recv(T.mon, MSG_DONTWAIT, 1u << PMSG_KILL, &m, fds);
	cr_assert_eq(err, 0, "no request: %s", strerror(-err));
	cr_assert_eq(m.nfds, 1);
	close(fds[0]);
	cr_assert_str_eq(m.u.kill.reason, "maintenance");
	return m.u.kill.seq;
}

static void
answer(uint32_t seq, int err)
{
	struct pmsg m;

	memset(&m, 0, sizeof(m));
	m.type = PMSG_KILL_REPLY;
	m.u.kill_reply.seq = seq;
	m.u.kill_reply.err = err;
	m.u.kill_reply.pid = 4242;
	cr_assert_eq(pmsg_send(T.mon, &m, NULL, 0), 0);
}

#define WHO	"lease=7 uid=1000 user=\"\" gid=1000 pid=4242 client=holder "

Test(revoke_kill, the_answer_writes_the_lines_of_the_kill_it_answers)
{
	uint32_t seq;

	revoke_kill(&T.l, "uid=1000 user=\"\" gid=1000 pid=4242 "
	    "client=holder");
	seq = request();
	/* Nothing is logged until the answer comes. */
	cr_assert_eq(count("event=revoke-kill"), 0);
	/* The lease may be gone by then: the lines need nothing of it. */
	memset(&T.l, 0, sizeof(T.l));
	answer(seq + 100, 0);
	answer(seq, 0);
	cr_assert_eq(revoke_kill_answers(NULL), 0);
	cr_assert_eq(count("privsep: an answer to kill request ",
	    "which no kill waits for", "dropped"), 1);
	cr_assert_eq(count("audit: event=revoke-kill " WHO
	    "result=ok errno=0"), 1);
	cr_assert_eq(count("event=revoke-expired"), 0);
	/* Answered: nothing left to time out. */
	cr_assert_eq(revoke_kill_run(conns_now_ms() + 10 * PRIVSEP_WAIT_MS),
	    -1);
}

Test(revoke_kill, a_refusal_keeps_the_lease)
{
	revoke_kill(&T.l, "uid=1000 user=\"\" gid=1000 pid=4242 "
	    "client=holder");
	answer(request(), -ESRCH);
	cr_assert_eq(revoke_kill_answers(NULL), 0);
	cr_assert_eq(count("audit: event=revoke-kill " WHO "result=failed "
	    "errno=ESRCH msg=\"No such process: the lease is kept, listed as "
	    "revoked\""), 1);
	cr_assert_eq(count("audit: event=revoke-expired " WHO "reason="
	    "maintenance on_revoke=kill msg=\"still held at its deadline: "
	    "kept, listed as revoked\""), 1);
}

Test(revoke_kill, an_answer_that_is_no_errno_is_eproto)
{
	revoke_kill(&T.l, "uid=1000 user=\"\" gid=1000 pid=4242 "
	    "client=holder");
	answer(request(), 5);
	cr_assert_eq(revoke_kill_answers(NULL), 0);
	cr_assert_eq(count("event=revoke-kill " WHO "result=failed "
	    "errno=EPROTO"), 1);
}

Test(revoke_kill, no_answer_times_out_and_a_late_one_is_logged)
{
	int64_t due, now;
	uint32_t seq;

	revoke_kill(&T.l, "uid=1000 user=\"\" gid=1000 pid=4242 "
	    "client=holder");
	seq = request();
	/* Read after the kill was asked: its due time is at most 1 s on. */
	now = conns_now_ms();
	due = revoke_kill_run(now);
	cr_assert(due > 0 && due <= PRIVSEP_WAIT_MS, "due in %lld ms",
	    (long long)due);
	cr_assert_eq(revoke_kill_answers(NULL), 0);	/* none yet */
	cr_assert_eq(count("event=revoke-kill"), 0);
	cr_assert_eq(revoke_kill_run(now + PRIVSEP_WAIT_MS + 1), -1);
	cr_assert_eq(count("audit: event=revoke-kill " WHO "result=failed "
	    "errno=ETIMEDOUT msg=\"the monitor did not answer within 1000 ms: "
	    "the lease is kept, listed as revoked\""), 1);
	cr_assert_eq(count("event=revoke-expired " WHO), 1);
	/* Logged once, however often the timer runs. */
	cr_assert_eq(revoke_kill_run(now + 3 * PRIVSEP_WAIT_MS), -1);
	cr_assert_eq(count("errno=ETIMEDOUT"), 1);
	answer(seq, 0);
	cr_assert_eq(revoke_kill_answers(NULL), 0);
	cr_assert_eq(count("revoke: lease=7 ", "the monitor answered its kill",
	    "SIGKILL sent (pid 4242)"), 1);
	cr_assert_eq(count("event=revoke-kill"), 1);
}

Test(revoke_kill, kills_awaiting_an_answer_are_bounded)
{
	struct pmsg m;
	int fds[PMSG_FDS_MAX], i;

	/* Each in a revoke_run() of its own: a request each. */
	for (i = 0; i < REVOKE_KILLS_MAX; i++) {
		revoke_kill(&T.l, "uid=1000 user=\"\" gid=1000 pid=4242 "
		    "client=holder");
		(void)revoke_kill_run(conns_now_ms());
	}
	cr_assert_eq(count("event=revoke-kill"), 0);
	revoke_kill(&T.l, "uid=1000 user=\"\" gid=1000 pid=4242 "
	    "client=holder");
	cr_assert_eq(count("event=revoke-kill " WHO "result=failed "
	    "errno=EAGAIN msg=\"the kills of 64 holders wait for the "
	    "monitor's answer already: the lease is kept"), 1);
	cr_assert_eq(count("event=revoke-expired " WHO), 1);
	/* That one sent nothing: exactly the first 64 are queued. */
	for (i = 0; i < REVOKE_KILLS_MAX; i++)
		answer(request(), 0);
	cr_assert_eq(pmsg_recv(T.mon, MSG_DONTWAIT, 1u << PMSG_KILL, &m,
	    fds), -EAGAIN);
	cr_assert_eq(revoke_kill_answers(NULL), 0);
	cr_assert_eq(count("result=ok errno=0"), REVOKE_KILLS_MAX);
	/* Every slot free again. */
	(void)revoke_kill_run(conns_now_ms());
	revoke_kill(&T.l, "uid=1000 user=\"\" gid=1000 pid=4242 "
	    "client=holder");
	answer(request(), 0);
	cr_assert_eq(revoke_kill_answers(NULL), 0);
	cr_assert_eq(count("result=ok errno=0"), REVOKE_KILLS_MAX + 1);
}

/*
 * The leases of one holder in one revoke_run() share one request, and
 * its answer writes a line for each; another holder's is a request of
 * its own, and so is the same holder's in the next revoke_run().
 */
Test(revoke_kill, one_holder_one_request_a_line_for_each_lease)
{
	struct session other = { .fd = T.conn, .peer = { .uid = 1001,
	    .gid = 1001, .pid = 5151 } };
	struct lease ol = { .id = 20, .owner = &other };
	struct pmsg m;
	uint32_t a, b;
	int fds[PMSG_FDS_MAX], id;

	snprintf(ol.revoke_reason, sizeof(ol.revoke_reason), "maintenance");
	for (id = 7; id <= 9; id++) {
		T.l.id = (uint64_t)id;
		revoke_kill(&T.l, "uid=1000 user=\"\" gid=1000 pid=4242 "
		    "client=holder");
	}
	revoke_kill(&ol, "uid=1001 user=\"\" gid=1001 pid=5151 client=x");
	a = request();
	b = request();
	cr_assert_eq(pmsg_recv(T.mon, MSG_DONTWAIT, 1u << PMSG_KILL, &m,
	    fds), -EAGAIN, "more than one request for one holder");
	(void)revoke_kill_run(conns_now_ms());
	T.l.id = 10;
	revoke_kill(&T.l, "uid=1000 user=\"\" gid=1000 pid=4242 "
	    "client=holder");
	answer(a, 0);
	answer(b, -ESRCH);
	answer(request(), 0);
	cr_assert_eq(revoke_kill_answers(NULL), 0);
	cr_assert_eq(count("event=revoke-kill ", "pid=4242 ",
	    "result=ok errno=0"), 4);
	for (id = 7; id <= 10; id++) {
		char f[32];

		snprintf(f, sizeof(f), "lease=%d ", id);
		cr_assert_eq(count("event=revoke-kill ", f, "result=ok"), 1,
		    "%s", f);
	}
	cr_assert_eq(count("event=revoke-kill lease=20 uid=1001 ",
	    "result=failed errno=ESRCH"), 1);
	cr_assert_eq(count("event=revoke-expired lease=20 "), 1);
}

Test(revoke_kill, the_monitor_gone_is_econnreset)
{
	close(T.mon);
	T.mon = -1;
	cr_assert_eq(revoke_kill_answers(NULL), -ECONNRESET);
	/* And a kill asked then fails at once, logged. */
	revoke_kill(&T.l, "uid=1000 user=\"\" gid=1000 pid=4242 "
	    "client=holder");
	cr_assert_eq(count("event=revoke-kill " WHO "result=failed "
	    "errno=EPIPE"), 1);
}
