/*
 * The loop: the listening socket, one poll handle per client, and the
 * signals.  recvmsg/sendmsg are done here directly, because libuv's
 * stream writes cannot carry an fd that is not a libuv handle.
 *
 * A client's requests are read and answered in order while its replies
 * queue to go out, up to [limits] requests_in_flight unsent.  The next
 * request is refused (EAGAIN) and the client is not read again until
 * its queue is empty, so one that never reads its replies only stalls
 * itself, and holds at most requests_in_flight + 1 replies of one packet
 * and one fd each.  What it has been sent and not read is conns.c's,
 * told of every packet sent: a connection at its bound of grants in
 * flight is not read until conns.c counts fewer, asked again as its
 * replies go out and on a timer backing off from 1 ms to GRANT_POLL_MS
 * (a peer reading its socket wakes nothing here).  The watch timer
 * asks about closed connections' grants and closes idle ones.
 *
 * No fd a client sent is ever closed here, nor a client socket that may
 * still hold some: inbox.c takes them, reaper.c closes them.  A socket
 * the reaper has no room for yet is parked: it stays open, unread, and
 * counts as a connection until the reaper takes it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include "conns.h"
#include "daemon.h"
#include "inbox.h"
#include "listen.h"
#include "log.h"
#include "notify.h"
#include "outq.h"
#include "reaper.h"
#include "revoke.h"
#include "server.h"

struct client {
	struct session s;
	struct outq out;	/* replies not yet sent, in request order */
	uv_poll_t poll;
	struct server *srv;
	struct client *next;
	int events;		/* what poll is started for */
	int waiting;		/* on srv->waiting: at its grants' bound */
	struct client *wait_next;
	uint64_t wait_ms, wait_due;	/* its back-off, the next look */
};

struct server {
	uv_loop_t *loop;
	struct mmapd *d;
	const struct server_config *cfg;
	struct listener listener;
	int listen_fd;		/* listener.fd */
	int spare_fd;		/* given up to accept-and-drop when out of fds */
	uv_poll_t listen_poll;
	uv_timer_t accept_pause;	/* out of fds with no spare: wait */
	uv_signal_t sig_term, sig_int, sig_hup;
	uv_poll_t ctl_poll;		/* the monitor's socket */
	uv_poll_t rpc_poll;		/* its answers to kills */
	uv_timer_t status_timer;	/* STATUS= for the service manager */
	uv_timer_t watch;		/* closed ones' grants, idle ones */
	uv_timer_t wait_timer;		/* clients waiting for grants read */
	struct client *waiting;
	uv_timer_t revoke_timer;	/* deadlines, lifetimes: revoke.c */
	unsigned int status_clients, status_leases;	/* as last sent */
	struct client *clients;
	int refuse;		/* the kernel refuses clients' fds */
	int *parked;		/* client sockets the reaper has no room for */
	size_t n_parked, cap_parked;
	uv_timer_t park_timer;	/* offers them again while there are any */
	uv_prepare_t log_turn;	/* held log lines out before each wait */
	int stopping;
};

/* How often the STATUS= line is looked at, and sent if it changed. */
#define STATUS_PERIOD_MS	5000
/*
 * How often a connection waiting for its grants to be read is asked, at
 * most (first after 1 ms, then twice as long each time).
 */
#define GRANT_POLL_MS		20
/* How often parked sockets are offered to the reaper again. */
#define PARK_PERIOD_MS		100

static void client_close(struct client *c);
static void watch_arm(struct server *srv, const struct client *c);
static void wait_drop(struct client *c);
static void wait_add(struct client *c);

static void
park_event(uv_timer_t *t)
{
	struct server *srv = t->data;
	size_t i = 0;

	while (i < srv->n_parked) {
		if (reaper_give(&srv->parked[i], 1) < 0) {
			i++;
			continue;
		}
		srv->parked[i] = srv->parked[--srv->n_parked];
		srv->d->n_clients--;
	}
	if (srv->n_parked == 0)
		uv_timer_stop(&srv->park_timer);
}

/*
 * A client socket is done with: closed here, or by the reaper when it
 * may hold fds the client sent, or parked while the reaper is full.
 */
static void
client_sock_close(struct server *srv, int fd, int clean)
{
	int *v;
	size_t cap;

	if (inbox_close(fd, clean) == 0)
		return;
	if (srv->n_parked == srv->cap_parked) {
		cap = srv->cap_parked ? 2 * srv->cap_parked : 16;
		v = realloc(srv->parked, cap * sizeof(*v));
		if (v == NULL) {
			/* Open for good, rather than closed on the loop. */
			log_err("out of memory parking a client socket: it "
			    "stays open");
			return;
		}
		srv->parked = v;
		srv->cap_parked = cap;
	}
	srv->parked[srv->n_parked++] = fd;
	/* Counted as a connection, so [limits] connections bounds them. */
	srv->d->n_clients++;
	if (!srv->stopping && !uv_is_active((uv_handle_t *)&srv->park_timer))
		uv_timer_start(&srv->park_timer, park_event, PARK_PERIOD_MS,
		    PARK_PERIOD_MS);
}

static void
client_closed(uv_handle_t *h)
{
	struct client *c = h->data;

	client_sock_close(c->srv, c->s.fd, c->s.clean);
	outq_clear(&c->out);
	peer_free(&c->s.peer);
	free(c);
}

static void
client_close(struct client *c)
{
	struct server *srv = c->srv;
	struct client **pp;

	for (pp = &srv->clients; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	srv->d->n_clients--;
	wait_drop(c);
	session_end(&c->s);
	uv_poll_stop(&c->poll);
	uv_close((uv_handle_t *)&c->poll, client_closed);
	/* Its grants may be left unread in flight: conns.c watches them. */
	watch_arm(srv, NULL);
}

static void client_event(uv_poll_t *h, int status, int events);

static int
client_watch(struct client *c, int events)
{
	int err;

	if (c->events == events)
		return 0;
	err = uv_poll_start(&c->poll, events, client_event);
	if (err == 0)
		c->events = events;
	return err;
}

/* Read it?  Not once it is closing, nor while stalled. */
static int
client_reading(const struct client *c)
{
	return !c->s.closing && !c->s.stalled && !c->s.grant_wait;
}

/*
 * Send what the socket takes and watch for what is left to do.  0: sent
 * or waiting; <0: drop the client.
 */
static int
client_flush(struct client *c)
{
	int err, events = 0;

	err = outq_flush(&c->out, c->s.fd);
	if (err == 0) {
		c->s.stalled = 0;
		if (c->s.closing)
			return -ECONNRESET;
	} else if (err != -EAGAIN) {
		return err;
	}
	/* Events that waited for room in the queue (revoke.c). */
	if (c->s.events_pending && outq_events(&c->out) < REVOKE_EVENTS_MAX)
		revoke_resume(&c->s);
	if (outq_len(&c->out) > 0)
		events |= UV_WRITABLE;
	if (client_reading(c))
		events |= UV_READABLE;
	return client_watch(c, events);
}

/* Queue the reply session_input() left, if any. */
static int
client_queue(struct client *c)
{
	struct session *s = &c->s;
	int err;

	if (s->out_len == 0)
		return 0;
	if (s->out_nfds > 0)
		err = outq_push_fds(&c->out, s->out, s->out_len, s->out_fds,
		    s->out_nfds, s->out_note);
	else
		err = outq_push_note(&c->out, s->out, s->out_len, s->out_fd,
		    s->out_note);
	free(s->out_fds);
	s->out_fds = NULL;
	s->out_nfds = 0;
	s->out_fd = -1;
	s->out_note = NULL;
	s->out_len = 0;
	if (err)
		log_warn("uid %u pid %d: out of memory for a reply, dropping "
		    "the client", (unsigned)s->peer.uid, (int)s->peer.pid);
	return err;
}

static void
client_read(struct client *c)
{
	uint8_t buf[WIRE_MAX];
	size_t nfds = 0;
	ssize_t len;

	/* Nothing a client sends is kept: its fds went to the reaper. */
	len = inbox_recv(c->s.fd, buf, sizeof(buf), c->s.clean, &nfds);
	if (len == -EAGAIN)
		return;
	if (len == -ENOBUFS) {
		log_warn("uid %u pid %d: sent fds with a request, and the "
		    "reaper has room for %zu more of the %u: dropping the "
		    "client", (unsigned)c->s.peer.uid, (int)c->s.peer.pid,
		    reaper_room(), REAPER_MAX);
		client_close(c);
		return;
	}
	if (session_input(&c->s, buf, len, nfds, outq_replies(&c->out)) < 0 ||
	    client_queue(c) < 0 || client_flush(c) < 0) {
		client_close(c);
		return;
	}
	wait_add(c);
	watch_arm(c->srv, c);
}

/*
 * Every packet sent: conns.c keeps count of the grants unread.  Before
 * a packet without fds goes (a refusal, an Ack, an answer), or any
 * packet while a line held is due (log_due(): a refusal in a batch's
 * reply), the lines held so far are written: no client is answered
 * before the line of what it asked.  A grant's own line follows its
 * send; those of grants and releases alone wait for the turn's end.
 */
static void
client_sock(void *arg, unsigned int nfds, int sent)
{
	struct client *c = arg;

	if (sent) {
		conns_sent(&c->s, nfds);
		return;
	}
	if (nfds == 0 || log_due())
		log_flush();
	conns_sending(&c->s, nfds);
}

/* outq's word on a grant: session.c audits it, or undoes it. */
static int
client_sent(void *arg, void *note, int err, uint8_t *buf, size_t *len)
{
	struct client *c = arg;

	return session_sent(&c->s, note, err, buf, len);
}

/* Idle too long: one reply says why, if the socket takes it, and out. */
static void
client_idle(struct client *c)
{
	session_idle(&c->s);
	log_flush();
	if (outq_len(&c->out) == 0)
		(void)wire_send(c->s.fd, c->s.out, c->s.out_len, -1);
	c->s.out_len = 0;
	client_close(c);
}

/*
 * Closed connections whose grants are unread are asked every
 * GRANT_POLL_MS (a peer reading its socket wakes nothing here); idle
 * ones are closed when their time is up.  The timer runs only while one
 * of these is due.
 */
static void
watch_event(uv_timer_t *t)
{
	struct server *srv = t->data;
	struct client *c, *next;
	int64_t now = conns_now_ms(), left, due = -1;

	for (c = srv->clients; c != NULL; c = next) {
		next = c->next;
		left = conns_idle_left(&c->s, now);
		if (left == 0) {
			client_idle(c);
			continue;
		}
		if (left > 0 && (due < 0 || left < due))
			due = left;
	}
	if (conns_linger_poll(srv->d) > 0 && (due < 0 || due > GRANT_POLL_MS))
		due = GRANT_POLL_MS;
	if (due >= 0 && !srv->stopping)
		uv_timer_start(t, watch_event, (uint64_t)due, 0);
}

/* Something changed for c (or, NULL, a client went): run watch in time. */
static void
watch_arm(struct server *srv, const struct client *c)
{
	unsigned int idle = srv->d->policy->limits.idle_seconds;
	uint64_t want = UINT64_MAX;

	if (srv->stopping)
		return;
	if (srv->d->lingering != NULL)
		want = GRANT_POLL_MS;
	else if (c != NULL && idle > 0)
		want = (uint64_t)idle * 1000;
	if (want == UINT64_MAX)
		return;
	if (!uv_is_active((uv_handle_t *)&srv->watch) ||
	    uv_timer_get_due_in(&srv->watch) > want)
		uv_timer_start(&srv->watch, watch_event, want, 0);
}

static void wait_event(uv_timer_t *t);

static void
wait_drop(struct client *c)
{
	struct client **pp;

	if (!c->waiting)
		return;
	for (pp = &c->srv->waiting; *pp != NULL; pp = &(*pp)->wait_next) {
		if (*pp == c) {
			*pp = c->wait_next;
			break;
		}
	}
	c->waiting = 0;
	c->wait_next = NULL;
}

/* Are c's grants read enough?  Then it is read again: 0; <0: drop it. */
static int
wait_look(struct client *c)
{
	if (!conns_grants_read(&c->s))
		return 1;
	wait_drop(c);
	return client_flush(c) < 0 ? -1 : 0;
}

/* The timer for the first due of the waiting clients. */
static void
wait_arm(struct server *srv)
{
	struct client *c;
	uint64_t now = uv_now(srv->loop), due = UINT64_MAX;

	for (c = srv->waiting; c != NULL; c = c->wait_next)
		if (c->wait_due < due)
			due = c->wait_due;
	if (due == UINT64_MAX || srv->stopping)
		uv_timer_stop(&srv->wait_timer);
	else
		uv_timer_start(&srv->wait_timer, wait_event,
		    due > now ? due - now : 0, 0);
}

/* c hit its bound of grants in flight: look again soon, then less. */
static void
wait_add(struct client *c)
{
	struct server *srv = c->srv;

	if (c->waiting || !c->s.grant_wait)
		return;
	c->waiting = 1;
	c->wait_next = srv->waiting;
	srv->waiting = c;
	c->wait_ms = 1;
	c->wait_due = uv_now(srv->loop) + c->wait_ms;
	wait_arm(srv);
}

static void
wait_event(uv_timer_t *t)
{
	struct server *srv = t->data;
	struct client *c, *next;
	uint64_t now = uv_now(srv->loop);

	for (c = srv->waiting; c != NULL; c = next) {
		next = c->wait_next;
		if (c->wait_due > now)
			continue;
		switch (wait_look(c)) {
		case 1:
			c->wait_ms = c->wait_ms * 2 > GRANT_POLL_MS ?
			    GRANT_POLL_MS : c->wait_ms * 2;
			c->wait_due = now + c->wait_ms;
			break;
		case -1:
			client_close(c);
			break;
		}
	}
	wait_arm(srv);
}

static void
client_event(uv_poll_t *h, int status, int events)
{
	struct client *c = h->data;

	if (status < 0) {
		client_close(c);
		return;
	}
	if (events & UV_WRITABLE) {
		if (client_flush(c) < 0) {
			client_close(c);
			return;
		}
		/* Its replies go out: it reads, maybe its grants too. */
		if (c->waiting && wait_look(c) < 0) {
			client_close(c);
			return;
		}
	}
	if ((events & UV_READABLE) && client_reading(c))
		client_read(c);
}

static void
client_accept(struct server *srv, int fd)
{
	struct client *c;
	int clean, err;

	clean = inbox_accept(fd, srv->refuse);
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		log_warn("accept: out of memory, dropping a client");
		client_sock_close(srv, fd, clean);
		return;
	}
	c->s.clean = clean;
	c->srv = srv;
	c->s.d = srv->d;
	c->s.fd = fd;
	c->s.out_fd = -1;
	outq_init(&c->out);
	outq_set_done(&c->out, client_sent, c);
	outq_set_sock(&c->out, client_sock);
	err = peer_read(fd, &c->s.peer);
	if (err) {
		log_warn("accept: uid %u pid %d: cannot read credentials: %s; "
		    "dropping the client", (unsigned)c->s.peer.uid,
		    (int)c->s.peer.pid, strerror(-err));
		goto fail;
	}
	/*
	 * Over [limits] connections: one reply says why, into a socket
	 * buffer still empty, and the connection ends.
	 */
	if (session_admit(&c->s) < 0) {
		log_flush();
		(void)wire_send(fd, c->s.out, c->s.out_len, -1);
		goto fail;
	}
	err = uv_poll_init(srv->loop, &c->poll, fd);
	if (err) {
		log_warn("accept: %s, dropping a client", uv_strerror(err));
		goto fail;
	}
	c->poll.data = c;
	c->next = srv->clients;
	srv->clients = c;
	srv->d->n_clients++;
	stats_client(srv->d);
	if (client_watch(c, UV_READABLE) < 0)
		client_close(c);
	else
		watch_arm(srv, c);
	return;

fail:
	session_end(&c->s);
	peer_free(&c->s.peer);
	client_sock_close(srv, fd, clean);
	free(c);
}

static void listen_event(uv_poll_t *h, int status, int events);

static void
accept_resume(uv_timer_t *t)
{
	struct server *srv = t->data;

	if (!srv->stopping)
		uv_poll_start(&srv->listen_poll, UV_READABLE, listen_event);
}

/*
 * Out of fds: drop the client at the head of the queue with the spare fd,
 * or poll would spin on it.  With no spare either, stop listening for a
 * moment instead.
 */
static int
accept_starved(struct server *srv)
{
	int fd;

	if (srv->spare_fd >= 0) {
		close(srv->spare_fd);
		fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			client_sock_close(srv, fd,
			    inbox_accept(fd, srv->refuse));
		/*
		 * Any fd holds the slot; after the sandbox nothing can be
		 * opened, so it is a copy of the listening socket.
		 */
		srv->spare_fd = fcntl(srv->listen_fd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0)
			return -1;	/* the queue is empty: nothing to drop */
		log_warn("accept: out of file descriptors, dropping a client");
		return 0;
	}
	log_warn("accept: out of file descriptors, pausing for 100 ms");
	uv_poll_stop(&srv->listen_poll);
	uv_timer_start(&srv->accept_pause, accept_resume, 100, 0);
	return -1;
}

static void
listen_event(uv_poll_t *h, int status, int events)
{
	struct server *srv = h->data;
	int fd;

	(void)events;
	if (status < 0) {
		log_err("listening socket: %s", uv_strerror(status));
		return;
	}
	for (;;) {
		fd = accept4(srv->listen_fd, NULL, NULL,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			client_accept(srv, fd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE) {
			if (accept_starved(srv) == 0)
				continue;
			return;
		}
		if (errno != EAGAIN)
			log_warn("accept: %s", strerror(errno));
		return;
	}
}

/*
 * Tell the service manager state (READY=1, ...) if any, and what
 * "systemctl status mmapd" shows.
 */
static void
status_send(struct server *srv, const char *state)
{
	srv->status_clients = srv->d->n_clients;
	srv->status_leases = srv->d->n_leases;
	(void)notify_send("%s%sSTATUS=serving %u clients, %u leases",
	    state != NULL ? state : "", state != NULL ? "\n" : "",
	    srv->status_clients, srv->status_leases);
}

/* Counting clients and leases costs nothing; a message only on change. */
static void
status_event(uv_timer_t *t)
{
	struct server *srv = t->data;

	if (srv->d->n_clients != srv->status_clients ||
	    srv->d->n_leases != srv->status_leases)
		status_send(srv, NULL);
}

/*
 * revoke.c's event for a client: into its queue, after its replies, and
 * sent when the socket takes it.  Not flushed here: a failed send would
 * end the client while revoke.c walks the leases.
 */
static int
revoke_event_push(void *arg, struct session *s, const uint8_t *buf,
    size_t len)
{
	/* s is the first member of its client. */
	struct client *c = (struct client *)(void *)s;
	int err;

	_Static_assert(offsetof(struct client, s) == 0,
	    "struct client must start with its session");
	(void)arg;
	if (c->s.closing)
		return -ESHUTDOWN;
	if (outq_events(&c->out) >= REVOKE_EVENTS_MAX)
		return -ENOBUFS;
	err = outq_push_event(&c->out, buf, len);
	if (err)
		return err;
	if (client_watch(c, c->events | UV_WRITABLE) < 0)
		log_warn("uid %u pid %d: cannot watch for an event to go out",
		    (unsigned)s->peer.uid, (int)s->peer.pid);
	return 0;
}

static void
revoke_timer_event(uv_timer_t *t)
{
	struct server *srv = t->data;
	int64_t due;

	due = revoke_run(srv->d, conns_now_ms());
	if (due >= 0 && !srv->stopping)
		uv_timer_start(t, revoke_timer_event, (uint64_t)due, 0);
}

/* Something is due: revoke_run() says when, from the loop. */
static void
revoke_timer_arm(void *arg)
{
	struct server *srv = arg;

	if (!srv->stopping)
		uv_timer_start(&srv->revoke_timer, revoke_timer_event, 0, 0);
}

static const struct revoke_ops server_revoke_ops = {
	.event = revoke_event_push,
	.arm = revoke_timer_arm,
};

static void
server_stop(struct server *srv, const char *why)
{
	struct client *c;
	unsigned int leases = srv->d->n_leases;

	if (srv->stopping)
		return;
	srv->stopping = 1;
	(void)notify_send("STOPPING=1\nSTATUS=%s: stopping; closing %u "
	    "clients, releasing %u leases", why, srv->d->n_clients, leases);
	log_info("%s: stopping; closing %u clients, releasing %u leases",
	    why, srv->d->n_clients, leases);
	uv_poll_stop(&srv->listen_poll);
	uv_close((uv_handle_t *)&srv->listen_poll, NULL);
	uv_timer_stop(&srv->accept_pause);
	uv_close((uv_handle_t *)&srv->accept_pause, NULL);
	uv_timer_stop(&srv->status_timer);
	uv_close((uv_handle_t *)&srv->status_timer, NULL);
	uv_timer_stop(&srv->watch);
	uv_close((uv_handle_t *)&srv->watch, NULL);
	uv_timer_stop(&srv->wait_timer);
	uv_close((uv_handle_t *)&srv->wait_timer, NULL);
	uv_timer_stop(&srv->revoke_timer);
	uv_close((uv_handle_t *)&srv->revoke_timer, NULL);
	srv->d->revoke_ops = NULL;
	/* Sockets still parked are left to the process's exit. */
	uv_timer_stop(&srv->park_timer);
	uv_close((uv_handle_t *)&srv->park_timer, NULL);
	uv_prepare_stop(&srv->log_turn);
	uv_close((uv_handle_t *)&srv->log_turn, NULL);
	while ((c = srv->clients) != NULL) {
		/* Replies made still go out if the socket takes them. */
		(void)outq_flush(&c->out, c->s.fd);
		/* What its leases' release lines say. */
		c->s.end_reason = "shutdown";
		client_close(c);
	}
	uv_close((uv_handle_t *)&srv->sig_term, NULL);
	uv_close((uv_handle_t *)&srv->sig_int, NULL);
	uv_close((uv_handle_t *)&srv->sig_hup, NULL);
	/*
	 * Closed, they are SIG_DFL again: a second SIGTERM (the monitor's
	 * and the service manager's both reach the worker) must not cut
	 * the stop short.
	 */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	if (srv->cfg->ctl_fd >= 0)
		uv_close((uv_handle_t *)&srv->ctl_poll, NULL);
	if (srv->cfg->rpc_fd >= 0)
		uv_close((uv_handle_t *)&srv->rpc_poll, NULL);
}

/*
 * The loop is about to wait: the turn's log lines go out in one write
 * (log_hold()).  A line is so held for one turn at most, and is out
 * before the worker sleeps or answers anyone (client_sock()).
 */
static void
log_turn_event(uv_prepare_t *h)
{
	(void)h;
	log_flush();
}

static void
ctl_event(uv_poll_t *h, int status, int events)
{
	struct server *srv = h->data;

	(void)events;
	if (status < 0 || srv->cfg->ctl_event(srv->d) < 0)
		server_stop(srv, "the monitor is gone");
}

/* The monitor answered kills: never waited for (revoke-kill.c). */
static void
rpc_event(uv_poll_t *h, int status, int events)
{
	struct server *srv = h->data;

	(void)events;
	if (status < 0 || srv->cfg->rpc_event(srv->d) < 0)
		server_stop(srv, "the monitor is gone");
}

static void
signal_event(uv_signal_t *h, int signum)
{
	struct server *srv = h->data;

	if (signum == SIGHUP) {
		/* systemctl reload waits from RELOADING=1 to READY=1. */
		(void)notify_reloading("reloading the policy");
		if (srv->cfg->reload != NULL)
			srv->cfg->reload(srv->d);
		status_send(srv, "READY=1");
		return;
	}
	server_stop(srv, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

int
server_run(struct mmapd *d, const struct server_config *cfg)
{
	struct server srv = { .d = d, .cfg = cfg, .listen_fd = -1 };
	int err;

	srv.loop = uv_default_loop();
	srv.listener = *cfg->listener;
	srv.listen_fd = srv.listener.fd;
	srv.refuse = inbox_listen(srv.listen_fd);
	srv.spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if ((err = uv_poll_init(srv.loop, &srv.listen_poll, srv.listen_fd)) ||
	    (err = uv_timer_init(srv.loop, &srv.accept_pause)) ||
	    (err = uv_timer_init(srv.loop, &srv.status_timer)) ||
	    (err = uv_timer_init(srv.loop, &srv.watch)) ||
	    (err = uv_timer_init(srv.loop, &srv.wait_timer)) ||
	    (err = uv_timer_init(srv.loop, &srv.revoke_timer)) ||
	    (err = uv_timer_init(srv.loop, &srv.park_timer)) ||
	    (err = uv_prepare_init(srv.loop, &srv.log_turn)) ||
	    (err = uv_signal_init(srv.loop, &srv.sig_term)) ||
	    (err = uv_signal_init(srv.loop, &srv.sig_int)) ||
	    (err = uv_signal_init(srv.loop, &srv.sig_hup)) ||
	    (cfg->ctl_fd >= 0 && (err = uv_poll_init(srv.loop, &srv.ctl_poll,
	    cfg->ctl_fd))) ||
	    (cfg->rpc_fd >= 0 && (err = uv_poll_init(srv.loop, &srv.rpc_poll,
	    cfg->rpc_fd)))) {
		log_err("event loop: %s", uv_strerror(err));
		goto out;
	}
	srv.listen_poll.data = srv.accept_pause.data = srv.sig_term.data =
	    srv.sig_int.data = srv.sig_hup.data = srv.status_timer.data =
	    srv.watch.data = &srv;
	srv.park_timer.data = srv.ctl_poll.data = srv.revoke_timer.data = &srv;
	srv.wait_timer.data = srv.rpc_poll.data = &srv;
	d->revoke_ops = &server_revoke_ops;
	d->revoke_arg = &srv;
	/* Not a reason to keep the loop running. */
	uv_unref((uv_handle_t *)&srv.log_turn);
	if ((err = uv_prepare_start(&srv.log_turn, log_turn_event)) ||
	    (err = uv_poll_start(&srv.listen_poll, UV_READABLE, listen_event)) ||
	    (notify_enabled() && (err = uv_timer_start(&srv.status_timer,
	    status_event, STATUS_PERIOD_MS, STATUS_PERIOD_MS))) ||
	    (err = uv_signal_start(&srv.sig_term, signal_event, SIGTERM)) ||
	    (err = uv_signal_start(&srv.sig_int, signal_event, SIGINT)) ||
	    (err = uv_signal_start(&srv.sig_hup, signal_event, SIGHUP)) ||
	    (cfg->ctl_fd >= 0 && (err = uv_poll_start(&srv.ctl_poll,
	    UV_READABLE, ctl_event))) ||
	    (cfg->rpc_fd >= 0 && (err = uv_poll_start(&srv.rpc_poll,
	    UV_READABLE, rpc_event)))) {
		log_err("event loop: %s", uv_strerror(err));
		server_stop(&srv, "start-up failed");
		uv_run(srv.loop, UV_RUN_DEFAULT);
		goto out;
	}
	/* A client that vanishes mid-reply must not kill us with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	if (cfg->ready != NULL && (err = cfg->ready(d)) < 0) {
		server_stop(&srv, "start-up failed");
		uv_run(srv.loop, UV_RUN_DEFAULT);
		goto out;
	}

	if (srv.listener.passed)
		log_info("listening on %s (passed by systemd), version %s",
		    srv.listener.path, PACKAGE_VERSION);
	else
		log_info("listening on %s (mode %04o), version %s",
		    srv.listener.path, (unsigned int)d->policy->socket_mode,
		    PACKAGE_VERSION);
	/* Clients are served from here on: tell the service manager. */
	status_send(&srv, "READY=1");
	log_hold(1);
	err = uv_run(srv.loop, UV_RUN_DEFAULT);
	log_hold(0);
	if (err)
		log_warn("event loop ended with handles active");
	err = 0;
	log_info("stopped");
out:
	d->revoke_ops = NULL;		/* srv goes with this frame */
	listen_close(&srv.listener);
	if (srv.spare_fd >= 0)
		close(srv.spare_fd);
	free(srv.parked);
	(void)uv_loop_close(srv.loop);
	return err;
}
