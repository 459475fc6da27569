/*
 * What no client may take from the others: connection slots (per uid,
 * and a reserve for root and admin_group), the daemon's fds in flight
 * (grants sent but not yet read), and slots held idle.  [limits] says
 * how much; this keeps the counts.  No libuv here: the server asks.
 */
#ifndef MMAPD_CONNS_H
#define MMAPD_CONNS_H

#include <stdint.h>

struct mmapd;
struct session;

/*
 * Raise RLIMIT_NOFILE to its hard limit, log the figure ("fd limit N")
 * and set d->fd_limit and d->grants_cap.  Before the sandbox: setrlimit
 * is not on its list.
 */
void conns_nofile(struct mmapd *d);

/*
 * May s, its peer read, take a connection slot?  0, and it is counted
 * for its uid until conns_leave(); or -EMFILE with the reason (the
 * limit and the numbers) in s->why.
 */
int conns_admit(struct session *s);
/* Is s root, or a member of admin_group? */
int conns_admin(const struct session *s);
/* The connection ends; also for one never admitted. */
void conns_leave(struct session *s);

/*
 * May s be sent one more grant's fd?  0; or -EAGAIN with the reason in
 * s->why, and when it is s's own bound, s->grant_wait set: the server
 * then reads s no more until conns_grants_read() says its grants are
 * read.
 */
int conns_grant_check(struct session *s);
/* A grant was decided for s: its fd waits to go out. */
void conns_grant_queued(struct session *s);
/*
 * That grant's fd went out (sent 1: conns_sent() counted it already),
 * or never will (sent 0).
 */
void conns_grant_done(struct session *s, int sent);
/*
 * Around every packet sent on s: conns_sending() right before the
 * sendmsg, conns_sent() right after it went out, each told the number
 * of grant fds it carries.  Those leave the queued count for the sent
 * one, and what the packet was charged is recorded, by which
 * conns_grants_read() tells which of them are read.
 */
void conns_sending(struct session *s, unsigned int nfds);
void conns_sent(struct session *s, unsigned int nfds);
/*
 * Count s's unread grants again (never fewer than there are).  Below
 * its bound, grant_wait is cleared: 1.  Else 0.
 */
int conns_grants_read(struct session *s);

/*
 * Closed connections whose grants are still unread (see conns.c): let
 * go of those read since.  How many are left; while any is, the server
 * asks again.
 */
int conns_linger_poll(struct mmapd *d);
/* At exit: let go of them all. */
void conns_end(struct mmapd *d);

/* A request from s: its idle time starts again. */
void conns_touch(struct session *s);
/*
 * Milliseconds until s has been idle for [limits] idle_seconds: 0 when
 * it has, -1 when it is never closed for it (idle_seconds = 0, or s
 * holds a lease).
 */
int64_t conns_idle_left(const struct session *s, int64_t now);

/* The monotonic clock, in milliseconds. */
int64_t conns_now_ms(void);

#endif /* MMAPD_CONNS_H */
