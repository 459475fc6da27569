/*
 * Taking leases back.  Four things revoke a lease: a Revoke request of
 * root or admin_group, a reload whose policy would no longer grant it,
 * its entry's max_lease_seconds running out, and its device going away
 * on reload.  Each is the same path: the lease becomes revoking, its
 * holder is told when it asked for events, and at the deadline the
 * entry's on_revoke enforces it.
 *
 * A mapping cannot be taken out of another process from userspace: the
 * holder must unmap it (cooperative), or die (kill).  log keeps the
 * lease and says so.  Shared memory other holders map is never touched:
 * only this holder's lease is.
 *
 * Nothing here ends a connection or drops a lease, so the lease list
 * can be walked while events are queued: a killed holder's connection
 * ends later, from the loop, when its socket says so.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "conns.h"
#include "daemon.h"
#include "decide.h"
#include "log.h"
#include "mmapd.pb-c.h"
#include "reach.h"
#include "revoke.h"
#include "session-int.h"

const char *
revoke_state_name(int state)
{
	switch (state) {
	case LEASE_REVOKING:
		return "revoking";
	case LEASE_REVOKED:
		return "revoked";
	default:
		return "held";
	}
}

static const char *
enforce_name(int enforce)
{
	return enforce == POLICY_REVOKE_LOG ? "log" : "kill";
}

void
revoke_arm(struct mmapd *d)
{
	if (d->revoke_ops != NULL)
		d->revoke_ops->arm(d->revoke_arg);
}

/* The lease's device and region, quoted, for an audit line. */
static const char *
lease_fields(const struct lease *l, char *buf, size_t len)
{
	char qd[QUOTE_LEN], qr[QUOTE_LEN];

	snprintf(buf, len, "device=%s region=%s",
	    log_quote(l->device, qd, sizeof(qd)),
	    log_quote(l->shm ? l->shm->name : "", qr, sizeof(qr)));
	return buf;
}

static void
notify_skipped(const struct lease *l, int err, const char *why)
{
	char who[WHO_LEN], qw[128];

	log_info("audit: event=revoke-notify lease=%llu %s result=skipped "
	    "errno=%s msg=%s", (unsigned long long)l->id,
	    audit_who(l->owner, who, sizeof(who)), audit_errno_name(err),
	    log_quote(why, qw, sizeof(qw)));
}

/*
 * Queue l's Revoking event for its holder, after its replies.  0; or
 * -ENOBUFS when REVOKE_EVENTS_MAX of its events wait unsent (the caller
 * defers it), another -errno when it cannot go at all.
 */
static int
notify_push(struct mmapd *d, struct lease *l, int64_t now)
{
	Reply r = MMAPD__V1__REPLY__INIT;
	Mmapd__V1__Event ev = MMAPD__V1__EVENT__INIT;
	Mmapd__V1__Revoking rv = MMAPD__V1__REVOKING__INIT;
	uint8_t buf[WIRE_MAX];
	char who[WHO_LEN];
	size_t len;
	int err;

	rv.lease_id = l->id;
	rv.reason = l->revoke_reason;
	rv.deadline_unix_sec = (int64_t)l->deadline;
	/* A deferred event says what is left, rounded up. */
	rv.seconds = l->deadline_ms > now ?
	    (uint32_t)((l->deadline_ms - now + 999) / 1000) : 0;
	rv.enforce = l->enforce == POLICY_REVOKE_LOG ?
	    MMAPD__V1__REVOKE_ENFORCE__ENFORCE_LOG :
	    MMAPD__V1__REVOKE_ENFORCE__ENFORCE_KILL;
	ev.kind_case = MMAPD__V1__EVENT__KIND_REVOKING;
	ev.revoking = &rv;
	r.request_id = 0;
	r.body_case = MMAPD__V1__REPLY__BODY_EVENT;
	r.event = &ev;
	/* reason is at most 127 bytes: the event fits a packet. */
	len = mmapd__v1__reply__get_packed_size(&r);
	if (len > sizeof(buf))
		return -EMSGSIZE;
	len = mmapd__v1__reply__pack(&r, buf);
	err = d->revoke_ops->event(d->revoke_arg, l->owner, buf, len);
	if (err)
		return err;
	/* deferred=1: it waited for room in the client's queue. */
	log_info("audit: event=revoke-notify lease=%llu %s result=ok errno=0 "
	    "seconds=%u deferred=%d", (unsigned long long)l->id,
	    audit_who(l->owner, who, sizeof(who)), (unsigned)rv.seconds,
	    l->notify_pending);
	l->notify_pending = 0;
	return 0;
}

/*
 * Tell the holder, if its Hello asked for events.  When its queue holds
 * REVOKE_EVENTS_MAX already, the event waits (a flag on the lease: no
 * memory grows) and goes as the queue drains (revoke_resume()); one
 * still waiting at the deadline is skipped, which the deadline does not
 * wait for.
 */
static void
revoke_notify(struct mmapd *d, struct lease *l)
{
	struct session *s = l->owner;
	int err;

	if (!s->events) {
		notify_skipped(l, -EOPNOTSUPP, "the client did not ask for "
		    "events (Hello.events)");
		return;
	}
	if (d->revoke_ops == NULL) {
		notify_skipped(l, -ENOTCONN, "no event loop");
		return;
	}
	if (l->notify_pending)
		return;			/* it goes with the newer deadline */
	err = notify_push(d, l, conns_now_ms());
	if (err == -ENOBUFS) {
		l->notify_pending = 1;
		s->events_pending = 1;
	} else if (err) {
		notify_skipped(l, err, strerror(-err));
	}
}

void
revoke_resume(struct session *s)
{
	struct mmapd *d = s->d;
	struct lease *l;
	int64_t now = conns_now_ms();

	if (d->revoke_ops == NULL)
		return;
	for (l = d->leases; l != NULL; l = l->next) {
		if (l->owner != s || !l->notify_pending)
			continue;
		if (notify_push(d, l, now) == -ENOBUFS)
			return;		/* still full: the rest wait */
	}
	s->events_pending = 0;
}

/*
 * Revoke l for reason, by whom (an audit_who() of an admin, or
 * "by=reload", "by=lifetime"), at now (monotonic ms: one value for all
 * the leases one request, reload or pass revokes, so that their
 * deadlines are one and a holder of many is killed once).  A lease
 * already revoking keeps its deadline, unless this one is sooner; one
 * revoked stays so.
 */
static void
revoke_lease(struct mmapd *d, struct lease *l, const char *reason,
    const char *by, int64_t now)
{
	const struct policy_entry *e = policy_find(d->policy, l->device);
	unsigned int grace = e != NULL ? e->revoke_seconds : l->grace;
	char who[WHO_LEN], fields[2 * QUOTE_LEN + 16], qr[4 * 128 + 3];

	if (l->state == LEASE_REVOKED)
		return;
	if (l->state == LEASE_REVOKING &&
	    l->deadline_ms <= now + (int64_t)grace * 1000)
		return;
	if (e != NULL)
		l->enforce = e->on_revoke;
	if (l->state == LEASE_HELD) {
		snprintf(l->revoke_reason, sizeof(l->revoke_reason), "%s",
		    reason);
		d->stats.revocations++;	/* Status: a lease, once */
	}
	l->state = LEASE_REVOKING;
	l->deadline_ms = now + (int64_t)grace * 1000;
	l->deadline = time(NULL) + (time_t)grace;
	log_notice("audit: event=revoke lease=%llu %s %s %s reason=%s "
	    "seconds=%u deadline=%lld on_revoke=%s",
	    (unsigned long long)l->id, audit_who(l->owner, who, sizeof(who)),
	    lease_fields(l, fields, sizeof(fields)), by,
	    log_quote(l->revoke_reason, qr, sizeof(qr)), grace,
	    (long long)l->deadline, enforce_name(l->enforce));
	revoke_notify(d, l);
	revoke_arm(d);
}

/*
 * The deadline passed with l held.  kill: the monitor is asked to
 * signal the holder, and its answer logged when it comes (revoke-kill.c);
 * its connection's end releases the lease.  Where it cannot (the process
 * gone, a monitor error), the lease is kept as log would.
 */
static void
revoke_enforce(struct mmapd *d, struct lease *l)
{
	struct session *s = l->owner;
	char who[WHO_LEN], qr[4 * 128 + 3];

	(void)d;
	audit_who(s, who, sizeof(who));
	l->state = LEASE_REVOKED;
	if (l->notify_pending) {
		l->notify_pending = 0;
		notify_skipped(l, -ENOBUFS, "the client left its events "
		    "unread until the deadline");
	}
	if (l->enforce == POLICY_REVOKE_KILL) {
		revoke_kill(l, who);
		return;
	}
	log_notice("audit: event=revoke-expired lease=%llu %s reason=%s "
	    "on_revoke=%s msg=\"still held at its deadline: kept, listed as "
	    "revoked\"", (unsigned long long)l->id, who,
	    log_quote(l->revoke_reason, qr, sizeof(qr)),
	    enforce_name(l->enforce));
}

/*
 * l's lifetime in seconds, 0: none.  Its entry's max_lease_seconds, or
 * its [shm] section's when that is shorter.
 */
static unsigned int
lease_lifetime(const struct mmapd *d, const struct lease *l)
{
	const struct policy_entry *e = policy_find(d->policy, l->device);
	const struct policy_shm *ps = NULL;
	unsigned int s = e != NULL ? e->max_lease_seconds : 0;

	if (l->shm != NULL && l->shm->declared)
		ps = policy_shm_find(d->policy, l->shm->name);
	if (ps != NULL && ps->max_lease_seconds != 0 &&
	    (s == 0 || ps->max_lease_seconds < s))
		s = ps->max_lease_seconds;
	return s;
}

/* When l's lifetime runs out (monotonic ms), or -1: it has none. */
static int64_t
lease_expiry(const struct mmapd *d, const struct lease *l)
{
	unsigned int s = lease_lifetime(d, l);

	if (s == 0 || l->state != LEASE_HELD)
		return -1;
	return l->created_ms + (int64_t)s * 1000;
}

int64_t
revoke_run(struct mmapd *d, int64_t now)
{
	struct lease *l;
	int64_t due = -1, at;
	char reason[96];

	for (l = d->leases; l != NULL; l = l->next) {
		at = lease_expiry(d, l);
		if (at >= 0 && at <= now) {
			snprintf(reason, sizeof(reason), "its lifetime ran out "
			    "(max_lease_seconds = %u)", lease_lifetime(d, l));
			revoke_lease(d, l, reason, "by=lifetime", now);
		}
		if (l->state == LEASE_REVOKING && l->deadline_ms <= now)
			revoke_enforce(d, l);
		at = l->state == LEASE_REVOKING ? l->deadline_ms :
		    lease_expiry(d, l);
		if (at >= 0 && (due < 0 || at - now < due))
			due = at > now ? at - now : 0;
	}
	/* Kills asked, here or before, whose answers are late. */
	at = revoke_kill_run(now);
	if (at >= 0 && (due < 0 || at < due))
		due = at;
	return due;
}

/*
 * Would the policy in force grant l to its holder now?  NULL if so;
 * else why not.  The checks of a Map (session-map.c) that a held lease
 * can fail: the entry, its device, the policy's check, the reach of the
 * fd, the [shm] section of a declared name.
 */
static const char *
lease_allowed(struct mmapd *d, const struct lease *l, char *msg, size_t len)
{
	struct session *s = l->owner;
	const struct policy_peer pp = peer_policy(&s->peer);
	const struct policy_entry *e = policy_find(d->policy, l->device);
	const struct policy_shm *ps;
	const struct map_device *dev;
	struct ask a;
	const struct pci_device *bar;
	const char *why = NULL;
	unsigned int flags;
	uint64_t base, size = l->size, max;

	if (e == NULL) {
		snprintf(msg, len, "the policy no longer offers %s", l->device);
		return msg;
	}
	ask_init(&a, d, s->peer.uid, s->peer.gid, s->peer.groups,
	    s->peer.n_groups);
	if (decide_device(&a, e, &dev, &base, &bar, &why) < 0) {
		/* why may point into a, which is gone on return. */
		snprintf(msg, len, "%s", why);
		return msg;
	}
	flags = (l->shared ? MAP_DESC_SHARED : 0) |
	    (l->prot & PROT_WRITE ? MAP_DESC_WRITE : 0);
	/* A lease holds whole pages: a Map of max_size gets that many. */
	if (size > e->max_size && map_size_round(e->max_size, &max) == 0 &&
	    size <= max)
		size = e->max_size;
	if (policy_check(e, &pp, l->offset, size, flags, MAP_CACHE_DEFAULT,
	    &why) < 0)
		return why;
	if (e->regs_only)
		return "the entry now says map = no";
	if (dev == &d->mem.dev && (!policy_raw_allowed(e, &pp) ||
	    !d->mem_raw_ok))
		return "its raw /dev/mem fd is no longer given to this user "
		    "(raw_fd_users, raw_fd_groups)";
	if (bar != NULL && reach_beyond(e, bar) && !e->whole_bar)
		return "the region is narrower than its BAR and no longer "
		    "says whole_bar = yes";
	if (l->shm == NULL || !l->shm->declared)
		return NULL;
	ps = policy_shm_find(d->policy, l->shm->name);
	if (ps == NULL) {
		snprintf(msg, len, "no [shm] section declares %s any more",
		    l->shm->name);
		return msg;
	}
	if (policy_shm_check(ps, &pp, (l->prot & PROT_WRITE) != 0, 0,
	    &why) < 0)
		return why;
	return NULL;
}

void
revoke_policy_changed(struct mmapd *d)
{
	struct lease *l;
	const char *why;
	char msg[REACH_LEN], reason[sizeof(l->revoke_reason)];
	int64_t now = conns_now_ms();

	for (l = d->leases; l != NULL; l = l->next) {
		if (l->state != LEASE_HELD)
			continue;
		why = lease_allowed(d, l, msg, sizeof(msg));
		if (why == NULL)
			continue;
		/* A long reason is cut: the audit line has it whole. */
		if (snprintf(reason, sizeof(reason), "policy reload: %s",
		    why) >= (int)sizeof(reason))
			log_info("lease %llu: policy reload: %s",
			    (unsigned long long)l->id, why);
		revoke_lease(d, l, reason, "by=reload", now);
	}
	/* Lifetimes may have changed with their entries. */
	revoke_arm(d);
}

/* Which leases req chooses: exactly one way, else EINVAL. */
static int
revoke_select(const Mmapd__V1__Revoke *req, const struct lease *l)
{
	if (req->lease_id != 0)
		return l->id == req->lease_id;
	if (req->by_uid)
		return l->uid == req->uid;
	return strcmp(l->device, req->region) == 0 ||
	    (l->shm != NULL && strcmp(l->shm->name, req->region) == 0);
}

/* What was asked: "lease=7", "uid=1000", "region=x" (quoted). */
static const char *
revoke_what(const Mmapd__V1__Revoke *req, char *buf, size_t len)
{
	char qr[QUOTE_LEN];

	if (req->lease_id != 0)
		snprintf(buf, len, "lease=%llu",
		    (unsigned long long)req->lease_id);
	else if (req->by_uid)
		snprintf(buf, len, "uid=%u", (unsigned)req->uid);
	else
		snprintf(buf, len, "region=%s",
		    log_quote(req->region, qr, sizeof(qr)));
	return buf;
}

void
session_revoke(struct session *s, uint64_t id,
    const Mmapd__V1__Revoke *req)
{
	const struct policy_limits *lim = &s->d->policy->limits;
	Reply r = MMAPD__V1__REPLY__INIT;
	Mmapd__V1__RevokeReply rr = MMAPD__V1__REVOKE_REPLY__INIT;
	struct lease *l;
	char reason[128], by[WHO_LEN + 8], what[QUOTE_LEN + 48], who[WHO_LEN];
	unsigned int ways, n = 0;
	int64_t now;
	int err;

	if (!conns_admin(s)) {
		if (lim->has_admin_group)
			snprintf(s->why, sizeof(s->why), "revoking leases is "
			    "for root and admin_group (gid %u); uid %u is "
			    "neither", (unsigned)lim->admin_gid,
			    (unsigned)s->peer.uid);
		else
			snprintf(s->why, sizeof(s->why), "revoking leases is "
			    "for root (no admin_group is configured); uid %u "
			    "is not root", (unsigned)s->peer.uid);
		err = -EPERM;
		goto deny;
	}
	ways = (req->lease_id != 0) + (req->by_uid != 0) +
	    (req->region[0] != '\0');
	if (ways != 1) {
		snprintf(s->why, sizeof(s->why), "%s: name exactly one of a "
		    "lease, a uid or a region", ways ? "more than one "
		    "selector" : "no selector");
		err = -EINVAL;
		goto deny;
	}
	if (strlen(req->reason) > 100) {
		snprintf(s->why, sizeof(s->why), "reason of %zu bytes: at most "
		    "100 are kept", strlen(req->reason));
		err = -EINVAL;
		goto deny;
	}
	if (req->reason[0] != '\0')
		snprintf(reason, sizeof(reason), "%s", req->reason);
	else
		snprintf(reason, sizeof(reason), "revoked by %s (uid %u)",
		    s->user[0] != '\0' ? s->user : "an administrator",
		    (unsigned)s->peer.uid);
	/* The admin's uid and pid; audit_who() names the holder. */
	snprintf(by, sizeof(by), "by=revoke by_uid=%u by_pid=%d",
	    (unsigned)s->peer.uid, (int)s->peer.pid);
	now = conns_now_ms();
	for (l = s->d->leases; l != NULL; l = l->next) {
		if (!revoke_select(req, l))
			continue;
		revoke_lease(s->d, l, reason, by, now);
		n++;
	}
	if (n == 0) {
		snprintf(s->why, sizeof(s->why), "no lease matches %s",
		    revoke_what(req, what, sizeof(what)));
		err = -ENOENT;
		goto deny;
	}
	log_notice("audit: event=revoke-request %s %s result=ok leases=%u",
	    audit_who(s, who, sizeof(who)),
	    revoke_what(req, what, sizeof(what)), n);
	rr.leases = n;
	r.request_id = id;
	r.body_case = MMAPD__V1__REPLY__BODY_REVOKE;
	r.revoke = &rr;
	reply_send(s, &r, -1);
	return;

deny:
	audit_limit(s, "revoke", err, s->why);
	reply_error(s, id, err, s->why);
}
