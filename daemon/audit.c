/*
 * The audit lines of a client's requests: who asked, what was refused,
 * what was granted and when a lease ended.  Written to the log as
 * "audit: event=..." lines (log.c); the requests are session.c's.
 * Status's counters (stats.c) count the lines as they are written.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "daemon.h"
#include "log.h"
#include "mmapd.pb-c.h"
#include "revoke.h"
#include "session-int.h"

const char *
audit_errno_name(int err)
{
	const char *n = strerrorname_np(-err);

	return n ? n : "EUNKNOWN";
}

/*
 * "uid=1000 user=alice gid=1000 pid=42 client=mmapctl": who a line is
 * about.  user="" when the uid has no name, client="" before a Hello.
 */
const char *
audit_who(const struct session *s, char *buf, size_t len)
{
	char qu[WHO_USER], qc[WHO_CLIENT];

	snprintf(buf, len, "uid=%u user=%s gid=%u pid=%d client=%s",
	    (unsigned)s->peer.uid, log_quote(s->user, qu, sizeof(qu)),
	    (unsigned)s->peer.gid, (int)s->peer.pid,
	    log_quote(s->name, qc, sizeof(qc)));
	return buf;
}

/*
 * raw: the error before the driver's error_filter replaced it (0 when
 * none did).  The client gets the filtered one; the log keeps both.
 */
void
audit_deny(struct session *s, const Mmapd__V1__Map *m, int err, int raw,
    const char *why)
{
	char qd[QUOTE_LEN], qr[QUOTE_LEN], qw[REACH_LEN + 64], who[WHO_LEN];
	char qk[48] = "";

	stats_deny(s->d, err);
	if (raw != 0 && raw != err)
		snprintf(qk, sizeof(qk), " raw_errno=%s",
		    audit_errno_name(raw));
	log_notice("audit: event=deny %s device=%s "
	    "region=%s offset=%llu size=%llu shared=%d write=%d "
	    "result=denied errno=%s%s msg=%s", audit_who(s, who, sizeof(who)),
	    log_quote(m->device, qd, sizeof(qd)),
	    log_quote(m->region, qr, sizeof(qr)),
	    (unsigned long long)m->offset, (unsigned long long)m->size,
	    m->shared ? 1 : 0, m->write ? 1 : 0, audit_errno_name(err), qk,
	    log_quote(why, qw, sizeof(qw)));
}

/*
 * The grant's audit fields, kept with its reply: the line is written
 * once its fd has gone out (session_sent()), not before.  NULL when out
 * of memory.
 */
struct grant_note *
audit_grant_note(struct session *s, uint64_t id, const struct lease *l,
    const char *kind, enum map_cache cache, int raw, const char *wide)
{
	char qd[QUOTE_LEN], qr[QUOTE_LEN], fields[768], who[WHO_LEN];
	size_t wlen = wide != NULL ? strlen(wide) + 1 : 0;
	struct grant_note *n;
	int len;

	len = snprintf(fields, sizeof(fields), "lease=%llu %s "
	    "device=%s region=%s offset=%llu size=%llu prot=%s "
	    "shared=%d kind=%s cache=%s",
	    (unsigned long long)l->id, audit_who(s, who, sizeof(who)),
	    log_quote(l->device, qd, sizeof(qd)),
	    log_quote(l->shm ? l->shm->name : "", qr, sizeof(qr)),
	    (unsigned long long)l->offset, (unsigned long long)l->size,
	    l->prot & PROT_WRITE ? "rw" : "r", l->shared, kind,
	    map_cache_name(cache));
	if (len < 0)
		return NULL;
	if ((size_t)len >= sizeof(fields))
		len = sizeof(fields) - 1;
	n = malloc(sizeof(*n) + (size_t)len + 1 + wlen);
	if (n == NULL)
		return NULL;
	n->next = NULL;
	n->request_id = id;
	n->lease = l->id;
	n->raw = raw;
	memcpy(n->fields, fields, (size_t)len);
	n->fields[len] = '\0';
	n->wide = NULL;
	if (wide != NULL)
		n->wide = memcpy(n->fields + len + 1, wide, wlen);
	return n;
}

/*
 * A lease ends: reason=request (Release), disconnect (the client closed
 * its connection or died), protocol (mmapd closed it on a bad packet),
 * shutdown (mmapd stops).  Logged before it is dropped.
 */
void
audit_release(struct session *s, const struct lease *l, const char *reason)
{
	char qd[QUOTE_LEN], qr[QUOTE_LEN], who[WHO_LEN];

	s->d->stats.releases++;
	/*
	 * Lazy: a Release's Ack carries no fd, and so writes what is held
	 * before it goes (server.c); nothing else waits on the line.
	 */
	log_lazy();
	/* After a revocation: revoke=revoking (in time) or revoked. */
	log_info("audit: event=release lease=%llu %s device=%s region=%s "
	    "offset=%llu size=%llu reason=%s%s%s", (unsigned long long)l->id,
	    audit_who(s, who, sizeof(who)),
	    log_quote(l->device, qd, sizeof(qd)),
	    log_quote(l->shm ? l->shm->name : "", qr, sizeof(qr)),
	    (unsigned long long)l->offset, (unsigned long long)l->size,
	    reason, l->state != LEASE_HELD ? " revoke=" : "",
	    l->state != LEASE_HELD ? revoke_state_name(l->state) : "");
}

/* A refusal of [limits] that names no device: a connection, a request. */
void
audit_limit(struct session *s, const char *op, int err, const char *why)
{
	char qw[256], who[WHO_LEN];

	stats_deny(s->d, err);
	log_notice("audit: event=deny op=%s %s result=denied errno=%s msg=%s",
	    op, audit_who(s, who, sizeof(who)), audit_errno_name(err),
	    log_quote(why, qw, sizeof(qw)));
}
