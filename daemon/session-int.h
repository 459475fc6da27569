/*
 * What session.c shares with the other files that answer a client's
 * requests (offers.c): replies into s->out, and the caller as the policy
 * sees it.  Nothing outside them includes it.
 */
#ifndef MMAPD_SESSION_INT_H
#define MMAPD_SESSION_INT_H

#include <stdint.h>

#include "daemon.h"
#include "mmapd.pb-c.h"

typedef Mmapd__V1__Reply Reply;

/* Pack r into s->out with fd; a reply over a packet closes instead. */
void reply_send(struct session *s, Reply *r, int fd);
/* An error reply: err negative, msg NULL for strerror's. */
void reply_error(struct session *s, uint64_t id, int err, const char *msg);
struct policy_peer peer_policy(const struct peer *peer);

/* offers.c */
void session_status(struct session *s, uint64_t id);
void session_list(struct session *s, uint64_t id,
    const Mmapd__V1__List *req);

#endif /* MMAPD_SESSION_INT_H */
