/*
 * What session.c shares with the other files that answer a client's
 * requests (session-map.c, session-reg.c, offers.c, revoke.c) and write
 * their audit lines (audit.c): replies into s->out, and the caller as
 * the policy sees it.  Nothing outside them includes it.
 */
#ifndef MMAPD_SESSION_INT_H
#define MMAPD_SESSION_INT_H

#include <stddef.h>
#include <stdint.h>

#include "daemon.h"
#include "decide.h"
#include "mmapd.pb-c.h"

#define QUOTE_LEN	(4 * NAME_MAX_LEN + 3)
/*
 * Who asked, in an audit line: the uid's name and the client's own from
 * Hello, cut shorter than a device's so that every field of the longest
 * line still fits log_msg's 1024 bytes (tests/integration/test_audit.c,
 * test_trail.c).
 */
#define WHO_CLIENT	48
#define WHO_USER	36
#define WHO_LEN		(80 + WHO_CLIENT + WHO_USER)

typedef Mmapd__V1__Reply Reply;

/*
 * What a Read, Write or Modify asked, for its audit line.  A Modify is
 * a write to the policy; value is then what it wrote, old what it read.
 */
struct reg_op {
	const char *device;
	uint64_t offset;
	unsigned int width;
	int write;
	uint64_t value;
	int modify;
	uint64_t clear;
	uint64_t set;
	uint64_t old;
};

/* Pack r into s->out with fd; a reply over a packet closes instead. */
void reply_send(struct session *s, Reply *r, int fd);
/* An error reply: err negative, msg NULL for strerror's. */
void reply_error(struct session *s, uint64_t id, int err, const char *msg);
struct policy_peer peer_policy(const struct peer *peer);
/* Bytes for a person, into buf: "4095 bytes", "64 KiB", "1.1 GiB". */
const char *session_size_text(uint64_t v, char *buf, size_t len);
int session_name_ok(const char *s);

/* session-map.c */
void session_map(struct session *s, uint64_t id, const Mmapd__V1__Map *m);
int session_map_one(struct session *s, uint64_t id, const Mmapd__V1__Map *m,
    Mmapd__V1__Grant *g, int *fdp, struct grant_note **notep,
    char *whybuf, size_t whylen);

/* session-batch.c: MapBatch, and Release (quiet, many leases). */
void session_batch(struct session *s, uint64_t id,
    const Mmapd__V1__MapBatch *mb);
void session_release(struct session *s, uint64_t id,
    const Mmapd__V1__Release *rel);

/* session-reg.c */
void session_reg(struct session *s, uint64_t id, struct reg_op *op);

/* stats.c: a Status reply's counters; free its denials after. */
int stats_counters(const struct mmapd *d, Mmapd__V1__Counters *c);
void stats_counters_free(Mmapd__V1__Counters *c);

/* offers.c */
void session_status(struct session *s, uint64_t id);
void session_list(struct session *s, uint64_t id,
    const Mmapd__V1__List *req);

/* audit.c */
const char *audit_errno_name(int err);
const char *audit_who(const struct session *s, char *buf, size_t len);
void audit_deny(struct session *s, const Mmapd__V1__Map *m, int err, int raw,
    const char *why);
struct grant_note *audit_grant_note(struct session *s, uint64_t id,
    const struct lease *l, const char *kind, enum map_cache cache, int raw,
    const char *wide);
void audit_release(struct session *s, const struct lease *l,
    const char *reason);
void audit_limit(struct session *s, const char *op, int err, const char *why);

#endif /* MMAPD_SESSION_INT_H */
