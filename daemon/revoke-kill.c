/*
 * The kills in flight: on_revoke = kill asked of the monitor and not yet
 * answered.  The request goes at once (privsep_kill_send()); what the
 * audit line of its result needs (the lease, its holder, the reason) is
 * kept here under the request's sequence number, and the line is
 * written when the answer comes, from the loop: the lease and its
 * connection may be gone by then (a kill that worked ends the
 * connection, often before its answer is read).
 *
 * The table is fixed, REVOKE_KILLS_MAX: past it a kill fails, and says
 * so, rather than memory growing while the monitor is slow.  An answer
 * that does not come within PRIVSEP_WAIT_MS is logged as failed
 * (ETIMEDOUT); its slot is kept until it does come, since the monitor
 * still acts on the request, and that late answer is logged too.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conns.h"
#include "daemon.h"
#include "log.h"
#include "privsep.h"
#include "revoke.h"
#include "session-int.h"

enum {
	KILL_FREE = 0,
	KILL_WAITING,		/* asked; the timeout not yet passed */
	KILL_LATE,		/* logged as timed out; answer still due */
};

struct kill_wait {
	int state;
	uint32_t seq;
	int64_t due_ms;		/* monotonic: sent + PRIVSEP_WAIT_MS */
	uint64_t lease;
	char who[WHO_LEN];	/* audit_who() of the holder, when sent */
	char reason[sizeof(((struct lease *)0)->revoke_reason)];
};

static struct kill_wait kills[REVOKE_KILLS_MAX];

/*
 * The kill failed: the lines the kill's failure always wrote, the lease
 * kept as on_revoke = log keeps it.
 */
static void
kill_failed(uint64_t lease, const char *who, const char *reason, int err,
    const char *msg)
{
	char qr[4 * 128 + 3];

	log_warn("audit: event=revoke-kill lease=%llu %s result=failed "
	    "errno=%s msg=\"%s: the lease is kept, listed as revoked\"",
	    (unsigned long long)lease, who, audit_errno_name(err), msg);
	log_notice("audit: event=revoke-expired lease=%llu %s reason=%s "
	    "on_revoke=kill msg=\"still held at its deadline: kept, listed "
	    "as revoked\"", (unsigned long long)lease, who,
	    log_quote(reason, qr, sizeof(qr)));
}

void
revoke_kill(const struct lease *l, const char *who)
{
	struct kill_wait *k = NULL;
	char msg[96];
	uint32_t seq;
	size_t i;
	int err;

	for (i = 0; i < REVOKE_KILLS_MAX && k == NULL; i++)
		if (kills[i].state == KILL_FREE)
			k = &kills[i];
	if (k == NULL) {
		snprintf(msg, sizeof(msg), "%u kills wait for the monitor's "
		    "answer already", (unsigned)REVOKE_KILLS_MAX);
		kill_failed(l->id, who, l->revoke_reason, -EAGAIN, msg);
		return;
	}
	err = privsep_kill_send(l->owner->fd, l->revoke_reason, &seq);
	if (err) {
		kill_failed(l->id, who, l->revoke_reason, err,
		    err == -ENOSYS ? "no privileged monitor to send SIGKILL" :
		    err == -EAGAIN ? "the monitor's socket is full" :
		    strerror(-err));
		return;
	}
	k->state = KILL_WAITING;
	k->seq = seq;
	k->due_ms = conns_now_ms() + PRIVSEP_WAIT_MS;
	k->lease = l->id;
	snprintf(k->who, sizeof(k->who), "%s", who);
	snprintf(k->reason, sizeof(k->reason), "%s", l->revoke_reason);
}

int64_t
revoke_kill_run(int64_t now)
{
	struct kill_wait *k;
	int64_t due = -1;
	char msg[96];
	size_t i;

	for (i = 0; i < REVOKE_KILLS_MAX; i++) {
		k = &kills[i];
		if (k->state != KILL_WAITING)
			continue;
		if (k->due_ms > now) {
			if (due < 0 || k->due_ms - now < due)
				due = k->due_ms - now;
			continue;
		}
		snprintf(msg, sizeof(msg), "the monitor did not answer within "
		    "%d ms", PRIVSEP_WAIT_MS);
		kill_failed(k->lease, k->who, k->reason, -ETIMEDOUT, msg);
		k->state = KILL_LATE;
	}
	return due;
}

/* One answer of the monitor, in the order of the requests. */
static void
kill_answer(void *arg, uint32_t seq, int err, pid_t pid)
{
	struct kill_wait *k = NULL;
	size_t i;

	(void)arg;
	for (i = 0; i < REVOKE_KILLS_MAX && k == NULL; i++)
		if (kills[i].state != KILL_FREE && kills[i].seq == seq)
			k = &kills[i];
	if (k == NULL) {
		log_warn("privsep: an answer to kill request %u, which no "
		    "kill waits for (errno %s, pid %d): dropped",
		    (unsigned)seq, audit_errno_name(err), (int)pid);
		return;
	}
	if (k->state == KILL_LATE) {
		/* Its failure is logged; what the monitor did after all. */
		log_warn("revoke: lease=%llu %s: the monitor answered its "
		    "kill %lld ms after it was asked, past the %d ms given: "
		    "%s%s (pid %d)", (unsigned long long)k->lease, k->who,
		    (long long)(conns_now_ms() - k->due_ms + PRIVSEP_WAIT_MS),
		    PRIVSEP_WAIT_MS, err == 0 ? "SIGKILL sent" : "failed: ",
		    err == 0 ? "" : strerror(-err), (int)pid);
	} else if (err == 0) {
		log_notice("audit: event=revoke-kill lease=%llu %s result=ok "
		    "errno=0", (unsigned long long)k->lease, k->who);
	} else {
		kill_failed(k->lease, k->who, k->reason, err, strerror(-err));
	}
	k->state = KILL_FREE;
}

int
revoke_kill_answers(struct mmapd *d)
{
	int err;

	(void)d;
	err = privsep_kill_replies(kill_answer, NULL);
	if (err && err != -ECONNRESET)
		log_err("privsep: the monitor's answers: %s", strerror(-err));
	return err;
}
