/*
 * Taking leases back (revoke.c).  A lease is held, then revoking: its
 * holder was told (an Event, when its Hello asked for events) and has
 * until a deadline to release it; then its entry's on_revoke enforces
 * it: kill (the monitor sends SIGKILL to the holder) or log (it stays,
 * listed as revoked).  No libuv here: the server lends a timer and its
 * reply queues through struct revoke_ops.
 */
#ifndef MMAPD_REVOKE_H
#define MMAPD_REVOKE_H

#include <stddef.h>
#include <stdint.h>

#include "daemon.h"

/* struct lease's state: proto/mmapd.proto's LeaseState, one for one. */
enum {
	LEASE_HELD = 0,
	LEASE_REVOKING = 1,
	LEASE_REVOKED = 2,
};

/*
 * Events queued on one connection and not yet sent, at most.  Past
 * that they wait, a flag on each lease, and are queued as the client
 * reads; one still waiting at its deadline is skipped.
 */
#define REVOKE_EVENTS_MAX	4

struct revoke_ops {
	/*
	 * Queue the event packet buf for s, after its replies.  0; or
	 * -ENOBUFS when REVOKE_EVENTS_MAX wait already, -ESHUTDOWN when s
	 * is closing, -ENOMEM.  Must not end s: the caller walks the leases.
	 */
	int (*event)(void *arg, struct session *s, const uint8_t *buf,
	    size_t len);
	/* A deadline or a lifetime changed: call revoke_run() soon. */
	void (*arm)(void *arg);
};

struct Mmapd__V1__Revoke;
/* A Revoke request: root or admin_group; the reply left in s->out. */
void session_revoke(struct session *s, uint64_t id,
    const struct Mmapd__V1__Revoke *req);
/*
 * A new policy is in force: every lease it would no longer grant (the
 * same checks as a Map) is revoked.
 */
void revoke_policy_changed(struct mmapd *d);
/*
 * s's queue of events has room again (s->events_pending): queue those
 * that waited.  Never ends s nor drops a lease.
 */
void revoke_resume(struct session *s);
/* A lease with a lifetime was added: the timer must know. */
void revoke_arm(struct mmapd *d);
/*
 * Enforce the deadlines and the lifetimes due at now (conns_now_ms()).
 * Milliseconds until the next one, or -1 when none is pending.
 */
int64_t revoke_run(struct mmapd *d, int64_t now);

/*
 * Kills asked of the monitor and not yet answered, at most: one for each
 * holder whose deadlines passed in one revoke_run() (revoke-kill.c).
 * Past that a kill fails (EAGAIN), and is logged so.
 */
#define REVOKE_KILLS_MAX	64

struct lease;
/*
 * Ask the monitor to kill l's holder, who its audit_who(), and return
 * at once; from revoke_run() only.  The revoke-kill line (and
 * revoke-expired on failure) is written when the answer comes, or at
 * once when the request cannot go.
 */
void revoke_kill(const struct lease *l, const char *who);
/*
 * The end of a revoke_run(): kills unanswered PRIVSEP_WAIT_MS after
 * they were asked are logged as failed (ETIMEDOUT).  Milliseconds until
 * the next such, or -1: none.
 */
int64_t revoke_kill_run(int64_t now);
/*
 * The monitor's rpc socket is readable: log the result of each kill
 * answered.  0; or -errno when the monitor is gone or broken (the loop
 * stops).
 */
int revoke_kill_answers(struct mmapd *d);
/* "held", "revoking", "revoked": for the audit lines. */
const char *revoke_state_name(int state);

#endif /* MMAPD_REVOKE_H */
