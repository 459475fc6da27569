/*
 * The limits that keep one client from hurting the others.
 *
 * Connections.  Past [limits] connections_per_uid a uid's next
 * connection is turned away (root's never), and the last
 * connections_reserved slots of connections are kept for root and
 * admin_group: one uid, or a crowd of them, cannot lock root out.
 *
 * Grants in flight.  Every fd mmapd sends stays charged to mmapd's own
 * user until the receiver reads it, and past RLIMIT_NOFILE fds in flight
 * the kernel refuses every further fd with ETOOMANYREFS (too_many_unix_
 * fds(): the sender's user, not the receiver's, is charged).  A client
 * that asks and never reads would so starve every other.  mmapd cannot
 * see how many of its fds a peer has read, only whether it has read
 * everything: SIOCOUTQ on its end of the connection gives the bytes of
 * its packets still unread in the peer's queue (for AF_UNIX, the
 * sender's sk_wmem_alloc, SOCK_SEQPACKET included; 0 once all is read).
 * That sum is made of each unread packet's charge (skb->truesize, taken
 * when it is queued and given back when the peer reads it), and what is
 * unread is always the newest packets sent.  So each packet carrying
 * grants is recorded with its fds and the charge SIOCOUTQ grew by over
 * its send (the ring below), and those sent after it with theirs: a
 * packet is read for sure once the charges of the packets after it add
 * up to SIOCOUTQ or more.  A charge so measured is never more than the
 * packet's: the peer may read between the two SIOCOUTQs, which only
 * lowers it, and so counts more unread, never fewer.  The ring holds
 * the last RING_MAX packets with grants; older ones are merged, which
 * counts them unread for longer, never shorter.  Without a ring (out of
 * memory) the grants count read only once everything is.  A Map past
 * grants_in_flight on its connection, grants_in_flight_per_uid for its
 * uid, or half the fd limit for all together, is refused with EAGAIN;
 * at its own connection's bound the connection is read no more until
 * it has read enough of its replies (the server asks conns_grants_read()
 * until then).  A small SO_SNDBUF was the other way: it bounds bytes, not
 * fds, and would slow every reply of every client alike.
 *
 * A connection that ends with grants unread leaves them in its peer's
 * queue, still charged to mmapd, for as long as the peer keeps its end
 * open: they stay counted, on a copy of the socket shut down both ways,
 * until the peer reads them or closes (conns_linger_poll()).
 *
 * Idle connections.  One without a lease that sends nothing for
 * idle_seconds is closed by the server: slots are not kept by sleepers.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/sockios.h>

#include "conns.h"
#include "daemon.h"
#include "inbox.h"
#include "log.h"

/* One uid with connections, or with grants of closed ones in flight. */
struct conns_uid {
	struct conns_uid *next;
	uid_t uid;
	unsigned int conns;
	unsigned int grants;		/* its connections' and lingerers' */
	unsigned int lingering;
	struct session *sessions;	/* linked by uid_next */
};

/* A closed connection whose peer has not read its grants yet. */
struct conns_linger {
	struct conns_linger *next;
	int fd;				/* a copy of the socket, shut down */
	int clean;			/* no fd can have come: inbox_accept() */
	unsigned int grants;
	struct conns_uid *u;
};

/*
 * The packets with grants a connection was sent and may not have read,
 * oldest first: each with its fds and the charge of its own send and of
 * the packets without fds before it (back to the previous entry); tail
 * is the charge of those sent after the newest.  Allocated at the first
 * grant, freed with the connection: an idle one that never had a grant
 * costs a pointer.
 */
#define RING_MAX	16

struct conns_ring {
	uint32_t tail;
	unsigned int first, n;
	struct {
		uint32_t charge;
		uint32_t fds;
	} e[RING_MAX];
};

/* The kernel's own ceiling of nr_open, when the hard limit is infinity. */
#define NOFILE_INFINITY_CAP	(1ul << 20)

int64_t
conns_now_ms(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail with a valid pointer. */
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
conns_nofile(struct mmapd *d)
{
	const struct policy_limits *lim = &d->policy->limits;
	struct rlimit rl;
	rlim_t was, want;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		log_warn("getrlimit(RLIMIT_NOFILE): %s; counting on 1024",
		    strerror(errno));
		rl.rlim_cur = rl.rlim_max = 1024;
	}
	was = rl.rlim_cur;
	want = rl.rlim_max == RLIM_INFINITY ? NOFILE_INFINITY_CAP :
	    rl.rlim_max;
	if (was == RLIM_INFINITY || was < want) {
		rl.rlim_cur = want;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
			log_warn("cannot raise the fd limit from %llu to %llu: "
			    "%s", (unsigned long long)was,
			    (unsigned long long)want, strerror(errno));
			rl.rlim_cur = was;
		}
	}
	d->fd_limit = rl.rlim_cur == RLIM_INFINITY ? NOFILE_INFINITY_CAP :
	    (unsigned long)rl.rlim_cur;
	d->grants_cap = d->fd_limit / 2 > UINT_MAX ? UINT_MAX :
	    (unsigned int)(d->fd_limit / 2);
	if (d->grants_cap == 0)
		d->grants_cap = 1;
	if (d->fd_limit != (unsigned long)was)
		log_info("fd limit %lu (raised from %llu); grants in flight "
		    "at most %u, all clients together", d->fd_limit,
		    (unsigned long long)was, d->grants_cap);
	else
		log_info("fd limit %lu; grants in flight at most %u, all "
		    "clients together", d->fd_limit, d->grants_cap);
	if (lim->grants_in_flight_per_uid >= d->grants_cap)
		log_warn("[limits] grants_in_flight_per_uid = %u: one uid may "
		    "hold all %u grants in flight the fd limit leaves; raise "
		    "the fd limit (LimitNOFILE=) or lower it",
		    lim->grants_in_flight_per_uid, d->grants_cap);
}

/* root, or a member of admin_group. */
int
conns_admin(const struct session *s)
{
	const struct policy_limits *lim = &s->d->policy->limits;
	size_t i;

	if (s->peer.uid == 0)
		return 1;
	if (!lim->has_admin_group)
		return 0;
	if (s->peer.gid == lim->admin_gid)
		return 1;
	for (i = 0; i < s->peer.n_groups; i++)
		if (s->peer.groups[i] == lim->admin_gid)
			return 1;
	return 0;
}

static struct conns_uid *
uid_find(struct mmapd *d, uid_t uid)
{
	struct conns_uid *u;

	for (u = d->conn_uids; u != NULL; u = u->next)
		if (u->uid == uid)
			return u;
	return NULL;
}

/* Forget u once nothing of it is left. */
static void
uid_put(struct mmapd *d, struct conns_uid *u)
{
	struct conns_uid **pp;

	if (u->conns > 0 || u->lingering > 0)
		return;
	for (pp = &d->conn_uids; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == u) {
			*pp = u->next;
			break;
		}
	}
	free(u);
}

int
conns_admit(struct session *s)
{
	struct mmapd *d = s->d;
	const struct policy_limits *lim = &d->policy->limits;
	unsigned int n = d->n_clients, open = lim->connections;
	struct conns_uid *u = uid_find(d, s->peer.uid);
	char who[48];

	if (lim->connections_reserved < open)
		open -= lim->connections_reserved;
	if (n >= lim->connections) {
		snprintf(s->why, sizeof(s->why), "mmapd serves %u "
		    "connection%s (limit %u)", n, n == 1 ? "" : "s",
		    lim->connections);
		return -EMFILE;
	}
	/* The caller's own limit first: the one it can do something about. */
	if (s->peer.uid != 0 && u != NULL &&
	    u->conns >= lim->connections_per_uid) {
		snprintf(s->why, sizeof(s->why), "uid %u has %u connection%s "
		    "(limit %u per uid)", (unsigned)s->peer.uid, u->conns,
		    u->conns == 1 ? "" : "s", lim->connections_per_uid);
		return -EMFILE;
	}
	if (n >= open && !conns_admin(s)) {
		if (lim->has_admin_group)
			snprintf(who, sizeof(who), "root and group %u",
			    (unsigned)lim->admin_gid);
		else
			snprintf(who, sizeof(who), "root");
		snprintf(s->why, sizeof(s->why), "mmapd serves %u "
		    "connection%s (limit %u, of which the last %u are kept "
		    "for %s)", n, n == 1 ? "" : "s", lim->connections,
		    lim->connections - open, who);
		return -EMFILE;
	}
	if (u == NULL) {
		u = calloc(1, sizeof(*u));
		if (u == NULL) {
			snprintf(s->why, sizeof(s->why), "out of memory");
			return -ENOMEM;
		}
		u->uid = s->peer.uid;
		u->next = d->conn_uids;
		d->conn_uids = u;
	}
	u->conns++;
	s->uid_rec = u;
	s->uid_next = u->sessions;
	u->sessions = s;
	s->active_ms = conns_now_ms();
	s->outq_before = -1;
	return 0;
}

/* Bytes s's peer has not read yet, or -errno. */
static int
unread_bytes(int fd)
{
	int n;

	if (ioctl(fd, SIOCOUTQ, &n) < 0)
		return -errno;
	return n;
}

/* n of s's grants were seen read: they are in flight no more. */
static void
grants_release(struct session *s, unsigned int n)
{
	struct conns_uid *u = s->uid_rec;

	if (n > s->grants_sent)
		n = s->grants_sent;
	if (u != NULL)
		u->grants -= n;
	s->d->grants -= n;
	s->grants_sent -= n;
}

/* Everything s was sent is read. */
static void
grants_forget(struct session *s)
{
	if (s->ring != NULL) {
		s->ring->n = 0;
		s->ring->tail = 0;
	}
	grants_release(s, s->grants_sent);
}

/* Add without wrapping: a charge too high would count too few unread. */
static uint32_t
charge_add(uint32_t a, uint32_t b)
{
	return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

/*
 * Count s's unread grants again from SIOCOUTQ: walk from the newest
 * packet with grants back, and stop at the first whose followers'
 * charges cover all that is unread: it and the older ones are read.
 */
static void
grants_recount(struct session *s)
{
	struct conns_ring *r = s->ring;
	unsigned int keep = 0, gone = 0, i, k;
	uint64_t after;
	int q;

	if (s->grants_sent == 0)
		return;
	q = unread_bytes(s->fd);
	if (q < 0)
		return;		/* no news: all stay counted */
	if (q == 0) {
		grants_forget(s);
		return;
	}
	if (r == NULL)
		return;
	after = r->tail;
	for (k = 0; k < r->n; k++) {
		if (after >= (uint64_t)q)
			break;
		i = (r->first + r->n - 1 - k) % RING_MAX;
		after += r->e[i].charge;
		keep++;
	}
	while (r->n > keep) {
		gone += r->e[r->first].fds;
		r->first = (r->first + 1) % RING_MAX;
		r->n--;
	}
	grants_release(s, gone);
}

/* Record a packet of s's, of nfds grants, charged charge. */
static void
ring_push(struct session *s, uint32_t charge, unsigned int nfds)
{
	struct conns_ring *r = s->ring;
	unsigned int i, j;

	if (r == NULL) {
		if (nfds == 0)
			return;
		/* With none, all count unread until everything is read. */
		r = s->ring = calloc(1, sizeof(*r));
		if (r == NULL)
			return;
	}
	if (nfds == 0) {
		if (r->n > 0)
			r->tail = charge_add(r->tail, charge);
		return;
	}
	if (r->n == RING_MAX) {
		/* The two oldest become one, read when the newer is. */
		i = r->first;
		j = (i + 1) % RING_MAX;
		r->e[j].charge = charge_add(r->e[j].charge, r->e[i].charge);
		r->e[j].fds += r->e[i].fds;
		r->first = j;
		r->n--;
	}
	i = (r->first + r->n) % RING_MAX;
	r->e[i].charge = r->n > 0 ? charge_add(r->tail, charge) : charge;
	r->e[i].fds = nfds;
	r->tail = 0;
	r->n++;
}

/* Keep a closed connection's unread grants counted: see the top. */
static void
linger_add(struct session *s)
{
	struct conns_linger *l;
	int fd;

	l = malloc(sizeof(*l));
	fd = fcntl(s->fd, F_DUPFD_CLOEXEC, 0);
	if (l == NULL || fd < 0) {
		log_warn("uid %u pid %d: cannot keep count of %u grants its "
		    "closed connection has not read: %s", (unsigned)s->peer.uid,
		    (int)s->peer.pid, s->grants_sent,
		    fd < 0 ? strerror(errno) : "out of memory");
		if (fd >= 0)
			close(fd);
		free(l);
		grants_forget(s);
		return;
	}
	/* The peer sees the end once it has read what is queued. */
	(void)shutdown(fd, SHUT_RDWR);
	l->fd = fd;
	l->clean = s->clean;
	l->grants = s->grants_sent;
	l->u = s->uid_rec;
	l->u->lingering++;
	l->next = s->d->lingering;
	s->d->lingering = l;
	/* Still counted in u->grants and d->grants, now by l. */
	s->grants_sent = 0;
}

void
conns_leave(struct session *s)
{
	struct mmapd *d = s->d;
	struct conns_uid *u = s->uid_rec;
	struct session **pp;

	if (u == NULL)
		return;
	/* Grants never sent are not in flight: the queue goes with s. */
	u->grants -= s->grants_queued;
	d->grants -= s->grants_queued;
	s->grants_queued = 0;
	grants_recount(s);
	if (s->grants_sent > 0) {
		if (unread_bytes(s->fd) > 0)
			linger_add(s);
		else
			grants_forget(s);
	}
	free(s->ring);
	s->ring = NULL;
	for (pp = &u->sessions; *pp != NULL; pp = &(*pp)->uid_next) {
		if (*pp == s) {
			*pp = s->uid_next;
			break;
		}
	}
	u->conns--;
	s->uid_rec = NULL;
	s->uid_next = NULL;
	uid_put(d, u);
}

int
conns_linger_poll(struct mmapd *d)
{
	struct conns_linger *l, **pp = &d->lingering;
	int left = 0;

	while ((l = *pp) != NULL) {
		/*
		 * The copy may be the socket's last reference, and its queue
		 * may hold fds the client sent: inbox_close() never closes
		 * such a socket here (reaper.c does); with the reaper full it
		 * is tried again at the next poll.
		 */
		if (unread_bytes(l->fd) > 0 || inbox_close(l->fd, l->clean)) {
			pp = &l->next;
			left++;
			continue;
		}
		*pp = l->next;
		l->u->grants -= l->grants;
		d->grants -= l->grants;
		l->u->lingering--;
		uid_put(d, l->u);
		free(l);
	}
	return left;
}

void
conns_end(struct mmapd *d)
{
	struct conns_linger *l;

	while ((l = d->lingering) != NULL) {
		d->lingering = l->next;
		close(l->fd);
		l->u->grants -= l->grants;
		d->grants -= l->grants;
		l->u->lingering--;
		uid_put(d, l->u);
		free(l);
	}
}

int
conns_grants_read(struct session *s)
{
	grants_recount(s);
	if (s->grants_queued + s->grants_sent >=
	    s->d->policy->limits.grants_in_flight)
		return 0;
	s->grant_wait = 0;
	return 1;
}

/* Look again at every connection of u: some may have read theirs. */
static void
uid_refresh(struct conns_uid *u)
{
	struct session *s;

	for (s = u->sessions; s != NULL; s = s->uid_next)
		grants_recount(s);
}

int
conns_grant_check(struct session *s)
{
	struct mmapd *d = s->d;
	const struct policy_limits *lim = &d->policy->limits;
	struct conns_uid *u = s->uid_rec, *v;
	unsigned int mine;

	if (u == NULL)
		return 0;	/* not admitted: nothing is sent to it */
	mine = s->grants_queued + s->grants_sent;
	if (mine >= lim->grants_in_flight) {
		grants_recount(s);
		mine = s->grants_queued + s->grants_sent;
	}
	if (mine >= lim->grants_in_flight) {
		snprintf(s->why, sizeof(s->why), "%u grant%s in flight on this "
		    "connection (limit %u): read the replies", mine,
		    mine == 1 ? "" : "s", lim->grants_in_flight);
		s->grant_wait = 1;
		return -EAGAIN;
	}
	if (u->grants >= lim->grants_in_flight_per_uid)
		uid_refresh(u);
	if (u->grants >= lim->grants_in_flight_per_uid) {
		snprintf(s->why, sizeof(s->why), "uid %u has %u grant%s in "
		    "flight (limit %u per uid): read the replies",
		    (unsigned)s->peer.uid, u->grants,
		    u->grants == 1 ? "" : "s", lim->grants_in_flight_per_uid);
		return -EAGAIN;
	}
	if (d->grants >= d->grants_cap) {
		(void)conns_linger_poll(d);
		for (v = d->conn_uids; v != NULL; v = v->next)
			uid_refresh(v);
	}
	if (d->grants >= d->grants_cap) {
		snprintf(s->why, sizeof(s->why), "mmapd has %u grants in "
		    "flight, all clients together (limit %u, half its fd "
		    "limit %lu)", d->grants, d->grants_cap, d->fd_limit);
		return -EAGAIN;
	}
	return 0;
}

void
conns_grant_queued(struct session *s)
{
	if (s->uid_rec == NULL)
		return;
	s->grants_queued++;
	s->uid_rec->grants++;
	s->d->grants++;
}

void
conns_grant_done(struct session *s, int sent)
{
	/* After conns_leave() the queue was counted out already. */
	if (s->uid_rec == NULL || s->grants_queued == 0)
		return;
	/* One sent was counted by conns_sent(). */
	if (sent)
		return;
	s->grants_queued--;
	s->uid_rec->grants--;
	s->d->grants--;
}

void
conns_sending(struct session *s, unsigned int nfds)
{
	s->outq_before = -1;
	/* With no grant unread, a packet without fds need not be known. */
	if (s->uid_rec == NULL || (nfds == 0 && s->grants_sent == 0))
		return;
	s->outq_before = unread_bytes(s->fd);
}

void
conns_sent(struct session *s, unsigned int nfds)
{
	struct conns_uid *u = s->uid_rec;
	unsigned int queued = nfds < s->grants_queued ? nfds :
	    s->grants_queued;
	int before = s->outq_before, after;
	uint32_t charge = 0;

	s->outq_before = -1;
	if (u == NULL)
		return;
	/* Fds never counted as queued are counted now: none goes free. */
	s->grants_queued -= queued;
	u->grants += nfds - queued;
	s->d->grants += nfds - queued;
	s->grants_sent += nfds;
	if (nfds == 0 && s->grants_sent == 0)
		return;
	/*
	 * Not known, the charge is 0: the walk then goes on past this
	 * packet, counting more unread.
	 */
	if (before >= 0) {
		after = unread_bytes(s->fd);
		if (after > before)
			charge = (uint32_t)(after - before);
	}
	ring_push(s, charge, nfds);
}

void
conns_touch(struct session *s)
{
	s->active_ms = conns_now_ms();
}

int64_t
conns_idle_left(const struct session *s, int64_t now)
{
	unsigned int idle = s->d->policy->limits.idle_seconds;
	int64_t end;

	if (idle == 0 || s->n_leases > 0 || s->uid_rec == NULL)
		return -1;
	end = s->active_ms + (int64_t)idle * 1000;
	return end > now ? end - now : 0;
}
