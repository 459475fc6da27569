/*
 * The kills in flight: on_revoke = kill asked of the monitor and not yet
 * answered.  The request goes at once (privsep_kill_send()); what the
 * audit lines of its result need (the leases, their holder, the reasons)
 * is kept here under the request's sequence number, and the lines are
 * written when the answer comes, from the loop: the leases and their
 * connection may be gone by then (a kill that worked ends the
 * connection, often before its answer is read).
 *
 * The leases of one holder whose deadlines pass in the same
 * revoke_run() share one request: one SIGKILL, one line for each lease.
 * (A session cannot end within revoke_run(), so its pointer names it
 * there, and only there.)
 *
 * The table is fixed, REVOKE_KILLS_MAX requests: past it a kill fails,
 * and says so, rather than memory growing while the monitor is slow;
 * the leases a request keeps are leases the daemon holds or held, each
 * one once.  An answer that does not come within PRIVSEP_WAIT_MS is
 * logged as failed (ETIMEDOUT); its slot is kept until it does come,
 * since the monitor still acts on the request, and that late answer is
 * logged too.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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

struct kill_lease {
	uint64_t id;
	char reason[sizeof(((struct lease *)0)->revoke_reason)];
};

struct kill_wait {
	int state;
	uint32_t seq;
	unsigned int pass;		/* the revoke_run() that asked it */
	const struct session *owner;	/* compared in that pass only */
	int64_t due_ms;			/* sent + PRIVSEP_WAIT_MS */
	char who[WHO_LEN];		/* audit_who() of the holder */
	struct kill_lease *leases;
	size_t n_leases, cap;
};

static struct kill_wait kills[REVOKE_KILLS_MAX];
static unsigned int kill_pass;

/*
 * The kill of lease failed: the lines the kill's failure always wrote,
 * the lease kept as on_revoke = log keeps it.
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

/* l's lines wait for k's answer.  0 or -ENOMEM. */
static int
kill_add(struct kill_wait *k, const struct lease *l)
{
	struct kill_lease *v;
	size_t cap;

	if (k->n_leases == k->cap) {
		cap = k->cap ? 2 * k->cap : 4;
		v = realloc(k->leases, cap * sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		k->leases = v;
		k->cap = cap;
	}
	v = &k->leases[k->n_leases++];
	v->id = l->id;
	snprintf(v->reason, sizeof(v->reason), "%s", l->revoke_reason);
	return 0;
}

static void
kill_free(struct kill_wait *k)
{
	free(k->leases);
	memset(k, 0, sizeof(*k));
}

/*
 * The request of l's holder asked in this pass, or a new one.  0; or
 * -errno, and why in msg.
 */
static int
kill_ask(const struct lease *l, const char *who, struct kill_wait **kp,
    char *msg, size_t len)
{
	struct kill_wait *k = NULL;
	uint32_t seq;
	size_t i;
	int err;

	for (i = 0; i < REVOKE_KILLS_MAX; i++) {
		if (kills[i].state == KILL_WAITING &&
		    kills[i].pass == kill_pass && kills[i].owner == l->owner) {
			*kp = &kills[i];
			return 0;
		}
		if (k == NULL && kills[i].state == KILL_FREE)
			k = &kills[i];
	}
	if (k == NULL) {
		snprintf(msg, len, "the kills of %u holders wait for the "
		    "monitor's answer already", (unsigned)REVOKE_KILLS_MAX);
		return -EAGAIN;
	}
	err = privsep_kill_send(l->owner->fd, l->revoke_reason, &seq);
	if (err) {
		snprintf(msg, len, "%s", err == -ENOSYS ? "no privileged "
		    "monitor to send SIGKILL" : err == -EAGAIN ? "the "
		    "monitor's socket is full" : strerror(-err));
		return err;
	}
	k->state = KILL_WAITING;
	k->seq = seq;
	k->pass = kill_pass;
	k->owner = l->owner;
	k->due_ms = conns_now_ms() + PRIVSEP_WAIT_MS;
	snprintf(k->who, sizeof(k->who), "%s", who);
	*kp = k;
	return 0;
}

void
revoke_kill(const struct lease *l, const char *who)
{
	struct kill_wait *k;
	char msg[96];
	int err;

	err = kill_ask(l, who, &k, msg, sizeof(msg));
	if (err == 0 && (err = kill_add(k, l)) < 0)
		snprintf(msg, sizeof(msg), "out of memory to wait for the "
		    "monitor's answer");
	if (err)
		kill_failed(l->id, who, l->revoke_reason, err, msg);
}

int64_t
revoke_kill_run(int64_t now)
{
	struct kill_wait *k;
	int64_t due = -1;
	char msg[96];
	size_t i, j;

	kill_pass++;		/* sessions may end from here on */
	for (i = 0; i < REVOKE_KILLS_MAX; i++) {
		k = &kills[i];
		k->owner = NULL;
		if (k->state != KILL_WAITING)
			continue;
		if (k->due_ms > now) {
			if (due < 0 || k->due_ms - now < due)
				due = k->due_ms - now;
			continue;
		}
		snprintf(msg, sizeof(msg), "the monitor did not answer within "
		    "%d ms", PRIVSEP_WAIT_MS);
		for (j = 0; j < k->n_leases; j++)
			kill_failed(k->leases[j].id, k->who,
			    k->leases[j].reason, -ETIMEDOUT, msg);
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
	for (i = 0; i < k->n_leases; i++) {
		if (k->state == KILL_LATE)
			/* Its failure is logged; what the monitor did. */
			log_warn("revoke: lease=%llu %s: the monitor answered "
			    "its kill %lld ms after it was asked, past the %d "
			    "ms given: %s%s (pid %d)",
			    (unsigned long long)k->leases[i].id, k->who,
			    (long long)(conns_now_ms() - k->due_ms +
			    PRIVSEP_WAIT_MS), PRIVSEP_WAIT_MS,
			    err == 0 ? "SIGKILL sent" : "failed: ",
			    err == 0 ? "" : strerror(-err), (int)pid);
		else if (err == 0)
			log_notice("audit: event=revoke-kill lease=%llu %s "
			    "result=ok errno=0",
			    (unsigned long long)k->leases[i].id, k->who);
		else
			kill_failed(k->leases[i].id, k->who,
			    k->leases[i].reason, err, strerror(-err));
	}
	kill_free(k);
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
