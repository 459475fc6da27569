/*
 * One client's requests: decode the packet, check it against the policy,
 * run the engine, record the lease, encode the reply.  No libuv here: the
 * server hands in packets and sends out what is left in s->out.  A Map
 * is session-map.c's, Read and Write session-reg.c's, Status and List
 * offers.c's; the audit lines are written by audit.c.  Modify is a
 * Read and a Write in one request, session-reg.c's too.
 *
 * A packet that does not decode, or is too big, is a protocol violation:
 * an error reply, then the connection closes.  A request that is well
 * formed but refused gets an error reply and the connection goes on.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conns.h"
#include "daemon.h"
#include "log.h"
#include "mmapd.pb-c.h"
#include "nss.h"
#include "revoke.h"
#include "session-int.h"

int
peer_read(int fd, struct peer *peer)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	gid_t *g;

	memset(peer, 0, sizeof(*peer));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	peer->uid = cred.uid;
	peer->gid = cred.gid;
	peer->pid = cred.pid;

	/*
	 * Supplementary groups count for the policy.  The kernel says how
	 * much room they need when the first guess is short.
	 */
	len = 32 * sizeof(gid_t);
	for (;;) {
		g = realloc(peer->groups, len ? len : sizeof(gid_t));
		if (g == NULL)
			return -ENOMEM;
		peer->groups = g;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) == 0)
			break;
		if (errno != ERANGE)
			return -errno;
	}
	peer->n_groups = len / sizeof(gid_t);
	return 0;
}

void
peer_free(struct peer *peer)
{
	free(peer->groups);
	peer->groups = NULL;
	peer->n_groups = 0;
}

/* The caller as the policy judges it. */
struct policy_peer
peer_policy(const struct peer *peer)
{
	struct policy_peer pp = {
		.uid = peer->uid,
		.gid = peer->gid,
		.groups = peer->groups,
		.n_groups = peer->n_groups,
	};

	return pp;
}

int
session_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= NAME_MAX_LEN;
}

/*
 * The packet of the reply made last, whichever connection's: the server
 * queues it (a copy of its length) or sends it before it hands any
 * session anything else, so one buffer serves them all and an idle
 * connection keeps none (daemon.h, struct session).
 */
static uint8_t reply_buf[WIRE_MAX];

void
reply_send(struct session *s, Reply *r, int fd)
{
	size_t n = mmapd__v1__reply__get_packed_size(r);

	/* Every reply is bounded by construction; a bug must not overflow. */
	if (n > sizeof(reply_buf)) {
		log_err("reply of %zu bytes does not fit a packet", n);
		if (fd >= 0)
			close(fd);
		s->closing = 1;
		s->out_len = 0;
		return;
	}
	s->out = reply_buf;
	s->out_len = mmapd__v1__reply__pack(r, reply_buf);
	s->out_fd = fd;
}

void
reply_error(struct session *s, uint64_t id, int err, const char *msg)
{
	Reply r = MMAPD__V1__REPLY__INIT;

	r.request_id = id;
	r.error = -err;
	r.message = (char *)(msg ? msg : strerror(-err));
	reply_send(s, &r, -1);
}

static void
session_hello(struct session *s, uint64_t id, const Mmapd__V1__Hello *h)
{
	Reply r = MMAPD__V1__REPLY__INIT;
	Mmapd__V1__HelloReply hr = MMAPD__V1__HELLO_REPLY__INIT;
	char *features[12];
	size_t n = 0;
	char msg[128];

	if (h->protocol_major != PROTOCOL_MAJOR) {
		snprintf(msg, sizeof(msg), "protocol %u.%u is not spoken here; "
		    "this daemon speaks %u.%u", h->protocol_major,
		    h->protocol_minor, PROTOCOL_MAJOR, PROTOCOL_MINOR);
		reply_error(s, id, -EPROTONOSUPPORT, msg);
		return;
	}
	snprintf(s->name, sizeof(s->name), "%s", h->client_name);
	s->events = h->events;
	hr.server_version = (char *)PACKAGE_VERSION;
	hr.protocol_major = PROTOCOL_MAJOR;
	hr.protocol_minor = PROTOCOL_MINOR;
	features[n++] = (char *)"zero";
	features[n++] = (char *)"shared-names";
	features[n++] = (char *)"shm-open";
	features[n++] = (char *)"registers";
	features[n++] = (char *)"modify";
	features[n++] = (char *)"revoke";
	features[n++] = (char *)"map-batch";
	features[n++] = (char *)"quiet-release";
	if (s->d->have_mem)
		features[n++] = (char *)"mem";
	if (s->d->n_pcis > 0)
		features[n++] = (char *)"pci";
	hr.features = features;
	hr.n_features = n;
	r.request_id = id;
	r.body_case = MMAPD__V1__REPLY__BODY_HELLO;
	r.hello = &hr;
	reply_send(s, &r, -1);
}

static const char *
request_name(Mmapd__V1__Request__BodyCase body)
{
	switch (body) {
	case MMAPD__V1__REQUEST__BODY_HELLO:
		return "hello";
	case MMAPD__V1__REQUEST__BODY_MAP:
		return "map";
	case MMAPD__V1__REQUEST__BODY_RELEASE:
		return "release";
	case MMAPD__V1__REQUEST__BODY_LIST:
		return "list";
	case MMAPD__V1__REQUEST__BODY_STATUS:
		return "status";
	case MMAPD__V1__REQUEST__BODY_READ:
		return "read";
	case MMAPD__V1__REQUEST__BODY_WRITE:
		return "write";
	case MMAPD__V1__REQUEST__BODY_MODIFY:
		return "modify";
	case MMAPD__V1__REQUEST__BODY_REVOKE:
		return "revoke";
	case MMAPD__V1__REQUEST__BODY_MAP_BATCH:
		return "map-batch";
	default:
		return "unknown";
	}
}

static void
user_lookup(struct session *s)
{
	struct nss_user u;

	if (nss_user_by_uid(s->peer.uid, &u) == 0)
		snprintf(s->user, sizeof(s->user), "%s", u.name);
}

int
session_admit(struct session *s)
{
	int err;

	/* [limits] connections, connections_per_uid, the reserve: conns.c */
	err = conns_admit(s);
	/*
	 * The uid's name, for the audit lines and List: from another
	 * connection of the uid (conns.c links them), else looked up, as
	 * the policy's names are (nss.c), so that a client opening many
	 * connections does not cost a lookup each.  No name is no error.
	 */
	if (err == 0 && s->uid_next != NULL)
		memcpy(s->user, s->uid_next->user, sizeof(s->user));
	else
		user_lookup(s);
	if (err == 0)
		return 0;
	audit_limit(s, "connect", err, s->why);
	reply_error(s, 0, err, s->why);
	return err;
}

/*
 * Too many replies unsent: the request is not carried out, and the
 * connection is read no more until they are all out, so what it holds
 * stays bounded.
 */
static void
session_busy(struct session *s, const Mmapd__V1__Request *req,
    unsigned int unsent)
{
	snprintf(s->why, sizeof(s->why), "%u request%s in flight on this "
	    "connection (limit %u): read the replies", unsent,
	    unsent == 1 ? "" : "s", s->d->policy->limits.requests_in_flight);
	audit_limit(s, request_name(req->body_case), -EAGAIN, s->why);
	reply_error(s, req->request_id, -EAGAIN, s->why);
	s->stalled = 1;
}

int
session_input(struct session *s, const uint8_t *buf, ssize_t len,
    size_t nfds, unsigned int unsent)
{
	Mmapd__V1__Request *req;

	if (len == 0)
		return -1;		/* end of stream */
	conns_touch(s);
	if (len < 0) {
		if (len != -EMSGSIZE && len != -EBADMSG)
			return -1;	/* the socket itself failed */
		reply_error(s, 0, (int)len, len == -EMSGSIZE ?
		    "packet over 4096 bytes" : "unexpected ancillary data");
		s->closing = 1;
		return 0;
	}
	req = mmapd__v1__request__unpack(NULL, (size_t)len, buf);
	if (req == NULL) {
		reply_error(s, 0, -EBADMSG, "request does not decode");
		s->closing = 1;
		return 0;
	}
	if (unsent >= s->d->policy->limits.requests_in_flight) {
		session_busy(s, req, unsent);
		mmapd__v1__request__free_unpacked(req, NULL);
		return 0;
	}
	if (nfds > 0) {
		/* The reaper closes them (inbox.c); the request is refused. */
		reply_error(s, req->request_id, -EINVAL,
		    "file descriptors are not accepted from clients");
		mmapd__v1__request__free_unpacked(req, NULL);
		return 0;
	}
	switch (req->body_case) {
	case MMAPD__V1__REQUEST__BODY_HELLO:
		session_hello(s, req->request_id, req->hello);
		break;
	case MMAPD__V1__REQUEST__BODY_MAP:
		session_map(s, req->request_id, req->map);
		break;
	case MMAPD__V1__REQUEST__BODY_RELEASE:
		session_release(s, req->request_id, req->release);
		break;
	case MMAPD__V1__REQUEST__BODY_MAP_BATCH:
		session_batch(s, req->request_id, req->map_batch);
		break;
	case MMAPD__V1__REQUEST__BODY_LIST:
		session_list(s, req->request_id, req->list);
		break;
	case MMAPD__V1__REQUEST__BODY_STATUS:
		session_status(s, req->request_id);
		break;
	case MMAPD__V1__REQUEST__BODY_READ: {
		struct reg_op op = {
			.device = req->read->device,
			.offset = req->read->offset,
			.width = req->read->width,
		};

		session_reg(s, req->request_id, &op);
		break;
	}
	case MMAPD__V1__REQUEST__BODY_WRITE: {
		struct reg_op op = {
			.device = req->write->device,
			.offset = req->write->offset,
			.width = req->write->width,
			.write = 1,
			.value = req->write->value,
		};

		session_reg(s, req->request_id, &op);
		break;
	}
	case MMAPD__V1__REQUEST__BODY_MODIFY: {
		struct reg_op op = {
			.device = req->modify->device,
			.offset = req->modify->offset,
			.width = req->modify->width,
			.write = 1,
			.modify = 1,
			.clear = req->modify->clear,
			.set = req->modify->set,
		};

		session_reg(s, req->request_id, &op);
		break;
	}
	case MMAPD__V1__REQUEST__BODY_REVOKE:
		session_revoke(s, req->request_id, req->revoke);
		break;
	default:
		/* No body, or one this version does not know. */
		reply_error(s, req->request_id, -EINVAL,
		    "missing or unknown request type");
		break;
	}
	mmapd__v1__request__free_unpacked(req, NULL);
	return 0;
}

/* The connection is gone: its leases end with it. */
void
session_end(struct session *s)
{
	const struct lease *l;

	/*
	 * A lease whose fd has not gone out ends unlogged here: its grant
	 * line says result=failed (session_sent()).
	 */
	for (l = s->own; l != NULL; l = l->onext)
		if (l->granted)
			audit_release(s, l, s->end_reason ? s->end_reason :
			    s->closing ? "protocol" : "disconnect");
	lease_drop_owner(s->d, s);
	conns_leave(s);
	if (s->out_fd >= 0)
		close(s->out_fd);
	s->out_fd = -1;
	s->out_len = 0;
	while (s->out_nfds > 0)
		close(s->out_fds[--s->out_nfds]);
	free(s->out_fds);
	s->out_fds = NULL;
	while (s->out_note != NULL) {
		struct grant_note *next = s->out_note->next;

		free(s->out_note);
		s->out_note = next;
	}
}

/* One grant of a reply (a batch has several): its audit line, or undone. */
static void
grant_sent(struct session *s, struct grant_note *n, int err, const char *msg)
{
	struct lease *l;
	char qm[200], who[WHO_LEN], qw[REACH_LEN + 64];

	conns_grant_done(s, err == 0);
	if (err == 0) {
		s->d->stats.grants++;
		/* Written after the send it tells of: no reply waits on it. */
		log_lazy();
		log_info("audit: event=grant %s result=ok errno=0", n->fields);
		/* Released meanwhile (pipelined): its release line is out. */
		l = lease_find(s->d, n->lease);
		if (l != NULL)
			l->granted = 1;
		/* msg= quoted, so that every word is a field (journal.c). */
		if (n->raw)
			log_warn("audit: event=raw-fd lease=%llu %s "
			    "msg=\"a raw /dev/mem fd went out; its holder can "
			    "map any non-RAM physical memory "
			    "(root-equivalent)\"", (unsigned long long)n->lease,
			    audit_who(s, who, sizeof(who)));
		if (n->wide != NULL)
			log_warn("audit: event=whole-bar lease=%llu %s msg=%s",
			    (unsigned long long)n->lease,
			    audit_who(s, who, sizeof(who)),
			    log_quote(n->wide, qw, sizeof(qw)));
		return;
	}
	log_notice("audit: event=grant %s result=failed errno=%s msg=%s",
	    n->fields, audit_errno_name(err), log_quote(msg, qm, sizeof(qm)));
	/* A lease released meanwhile (pipelined) is gone already. */
	l = lease_find(s->d, n->lease);
	if (l != NULL && l->owner == s)
		lease_drop(s->d, l);
}

int
session_sent(struct session *s, struct grant_note *n, int err, uint8_t *buf,
    size_t *len)
{
	Reply r = MMAPD__V1__REPLY__INIT;
	struct grant_note *next;
	uint64_t id = n->request_id;
	char msg[160];

	if (err == 0)
		msg[0] = '\0';
	else if (buf == NULL)
		snprintf(msg, sizeof(msg), "the connection ended before the "
		    "grant went out");
	else
		snprintf(msg, sizeof(msg), "mmapd could not send the grant's "
		    "fd: %s", strerror(-err));
	/* A batch's grants went, or failed, together: one packet. */
	for (; n != NULL; n = next) {
		next = n->next;
		grant_sent(s, n, err, msg);
		free(n);
	}
	if (err == 0 || buf == NULL)
		return 0;
	r.request_id = id;
	r.error = -err;
	r.message = msg;
	*len = mmapd__v1__reply__pack(&r, buf);
	return 1;
}

void
session_idle(struct session *s)
{
	unsigned int idle = s->d->policy->limits.idle_seconds;
	char who[WHO_LEN];

	log_notice("audit: event=close %s reason=idle "
	    "msg=\"no request for %u s and no lease held (idle_seconds = "
	    "%u)\"", audit_who(s, who, sizeof(who)), idle, idle);
	snprintf(s->why, sizeof(s->why), "closed: no request for %u s and "
	    "no lease held (limit idle_seconds = %u)", idle, idle);
	reply_error(s, 0, -ETIMEDOUT, s->why);
}
