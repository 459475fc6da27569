/*
 * [limits], from outside: each limit passed is refused with its errno
 * and the daemon's message, logged as an audit deny line, and nothing
 * else changes: no lease, no fd kept in the daemon, the leases already
 * held still listed and their memory still usable.  Release and the end
 * of a connection give the quota back at once; another uid is never
 * touched by this one's.  "Another uid" is a raw connection made with
 * the effective ids of uid 65534, or mmapctl run as 65534.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"
#include "wire.h"

#define KIB	1024ull

TestSuite(quota, .fini = h_cleanup, .timeout = 60);

#define CONF_HEAD \
	"[daemon]\nsocket_mode = 0666\n\n[zero]\nusers = *\nmax_size = 1M\n\n"

static struct mmapclient_request
zero_req(uint64_t size, const char *region)
{
	struct mmapclient_request req = {
		.device = "zero", .size = size, .region = region,
		.flags = MMAPCLIENT_WRITE |
		    (region != NULL ? MMAPCLIENT_SHARED : 0),
	};

	return req;
}

static struct mmapclient_region *
map_ok(struct mmapclient *c, uint64_t size, const char *region)
{
	struct mmapclient_request req = zero_req(size, region);
	struct mmapclient_region *r = NULL;
	int err;

	err = mmapclient_map(c, &req, &r);
	cr_assert_eq(err, 0, "map %llu bytes%s%s: %s (%s)",
	    (unsigned long long)size, region ? " of " : "",
	    region ? region : "", strerror(-err), mmapclient_error(c));
	return r;
}

/* A Map refused with EDQUOT and exactly this message. */
static void
map_edquot(struct mmapclient *c, uint64_t size, const char *region,
    const char *msg)
{
	struct mmapclient_request req = zero_req(size, region);
	struct mmapclient_region *r = NULL;
	int err;

	err = mmapclient_map(c, &req, &r);
	cr_assert_eq(err, -EDQUOT, "map %llu bytes: %d (%s), not -EDQUOT",
	    (unsigned long long)size, err,
	    err ? mmapclient_error(c) : "granted");
	cr_assert_null(r);
	cr_assert_str_eq(mmapclient_error(c), msg);
}

/* What this connection's leases are: ids, in order. */
static size_t
lease_ids(struct mmapclient *c, uint64_t *ids, size_t cap)
{
	struct mmapclient_lease *l = NULL;
	size_t n = 0, i;
	int err;

	err = mmapclient_list(c, &l, &n);
	cr_assert_eq(err, 0, "List: %s", mmapclient_error(c));
	cr_assert_leq(n, cap);
	for (i = 0; i < n; i++)
		ids[i] = l[i].id;
	mmapclient_leases_free(l);
	return n;
}

/* Status's lease count on c itself: no connection of the harness's. */
static uint32_t
status_leases(struct mmapclient *c)
{
	struct mmapclient_status *st = NULL;
	uint32_t n;

	cr_assert_eq(mmapclient_status(c, &st), 0, "%s", mmapclient_error(c));
	n = st->leases;
	mmapclient_status_free(st);
	return n;
}

/*
 * leases_per_uid = 3: the fourth Map is refused, whatever it asks (a
 * private map, a named region attached again, a new one), and nothing
 * of it is left; Release, and a holder's exit, give the quota back.
 */
Test(quota, leases_per_uid_edquot)
{
	char msg[128], dmsg[160];
	struct mmapclient_region *a, *b, *n, *r;
	struct mmapclient *c;
	uint64_t before[8], after[8];
	size_t nb, na;
	struct ctl_bg hold;
	struct ctl res;
	int fds;

	h_start(CONF_HEAD "[limits]\nleases_per_uid = 3\n");
	c = h_connect();
	cr_assert_eq(h_clients_wait_on(c, 1), 1);
	a = map_ok(c, 4 * KIB, NULL);
	n = map_ok(c, 4 * KIB, "shared-a");
	b = map_ok(c, 8 * KIB, NULL);
	memset(a->addr, 0xa1, a->size);
	memset(n->addr, 0x5a, n->size);
	memset(b->addr, 0xb2, b->size);
	/* Round trips: the daemon has closed the last Grant's fd by then. */
	cr_assert_eq(status_leases(c), 3);
	nb = lease_ids(c, before, 8);
	fds = h_fds();

	snprintf(msg, sizeof(msg), "uid %u holds 3 leases (limit 3 per uid)",
	    (unsigned)geteuid());
	map_edquot(c, 4 * KIB, NULL, msg);
	map_edquot(c, 4 * KIB, "shared-a", msg);
	map_edquot(c, 8 * KIB, "shared-b", msg);
	snprintf(dmsg, sizeof(dmsg), "msg=\"%s\"", msg);
	cr_assert_eq(h_log_count("audit: event=deny", "device=zero ",
	    "errno=EDQUOT ", h_pidf(getpid()), dmsg), 3);

	/* Nothing changed: leases, fds, memory. */
	cr_assert_eq(status_leases(c), 3);
	na = lease_ids(c, after, 8);
	cr_assert_eq(na, nb);
	cr_assert_arr_eq(after, before, nb * sizeof(before[0]));
	cr_assert_eq(h_fds_wait(fds), fds, "mmapd holds %d fds, %d before "
	    "the refusals", h_fds(), fds);
	cr_assert(h_all(a->addr, a->size, 0xa1));
	cr_assert(h_all(n->addr, n->size, 0x5a));
	cr_assert(h_all(b->addr, b->size, 0xb2));
	memset(b->addr, 0xb3, b->size);
	cr_assert(h_all(b->addr, b->size, 0xb3));

	/* mmapctl says it the same way, in one line. */
	ctl_run(&res, CTL_ROOT, "map", "--dev", "zero", "--size", "4K");
	cr_assert_eq(res.status, 1, "exit %d:\n%s%s", res.status, res.out,
	    res.err);
	cr_expect(strstr(res.err, "(EDQUOT, errno 122): ") != NULL, "%s",
	    res.err);
	cr_expect(strstr(res.err, msg) != NULL, "%s", res.err);
	ctl_free(&res);

	/* Release gives one back at once. */
	cr_assert_eq(mmapclient_release(c, b), 0);
	r = map_ok(c, 4 * KIB, "shared-b");
	/* shared-b was never made at 8K: it is made now, at 4K, fresh. */
	cr_assert(h_all(r->addr, r->size, 0));
	cr_assert_eq(mmapclient_release(c, r), 0);

	/* A holder's exit gives its leases back. */
	ctl_spawn(&hold, CTL_ROOT, "map", "--dev", "zero", "--size", "4K",
	    "--hold");
	ctl_bg_wait(&hold, "holding lease");
	map_edquot(c, 4 * KIB, NULL, msg);
	ctl_bg_stop(&hold, SIGKILL, &res);
	ctl_free(&res);
	cr_assert_eq(h_leases_wait_on(c, 2), 2);
	r = map_ok(c, 4 * KIB, NULL);

	cr_assert_eq(mmapclient_release(c, r), 0);
	cr_assert_eq(mmapclient_release(c, a), 0);
	cr_assert_eq(mmapclient_release(c, n), 0);
	mmapclient_close(c);
	h_stop();
}

/*
 * zero_bytes_per_uid = 64K: private and shared maps count, a named
 * region once for each lease holding it, by the size granted (whole
 * pages).  A limit reached exactly is allowed.
 */
Test(quota, zero_bytes_per_uid_edquot)
{
	struct mmapclient_region *p, *n1, *n2, *r;
	struct mmapclient *c;
	char msg[160];
	int fds;

	h_start(CONF_HEAD "[limits]\nzero_bytes_per_uid = 64K\n");
	c = h_connect();
	cr_assert_eq(h_clients_wait_on(c, 1), 1);
	p = map_ok(c, 32 * KIB, NULL);
	n1 = map_ok(c, 16 * KIB, "named");
	n2 = map_ok(c, 16 * KIB, "named");
	memset(p->addr, 0x11, p->size);
	memset(n1->addr, 0x3c, n1->size);
	cr_assert(h_all(n2->addr, n2->size, 0x3c));
	/* A round trip: the daemon has closed the last Grant's fd by then. */
	cr_assert_eq(status_leases(c), 3);
	fds = h_fds();

	snprintf(msg, sizeof(msg), "uid %u would hold 68 KiB of zero memory "
	    "(holds 64 KiB, asks 4 KiB; limit 64 KiB per uid)",
	    (unsigned)geteuid());
	map_edquot(c, 4 * KIB, NULL, msg);
	map_edquot(c, 1, NULL, msg);		/* a page, once rounded */
	map_edquot(c, 4 * KIB, "named", msg);
	map_edquot(c, 4 * KIB, "other", msg);
	snprintf(msg, sizeof(msg), "uid %u would hold 1.1 MiB of zero memory "
	    "(holds 64 KiB, asks 1 MiB; limit 64 KiB per uid)",
	    (unsigned)geteuid());
	map_edquot(c, 1024 * KIB, NULL, msg);
	h_log_expect("audit: event=deny", "size=1048576 ", "errno=EDQUOT ",
	    "msg=\"uid ", "would hold 1.1 MiB of zero memory");
	cr_assert_eq(h_log_count("audit: event=deny", "errno=EDQUOT "), 5);

	cr_assert_eq(status_leases(c), 3);
	cr_assert_eq(h_fds_wait(fds), fds, "mmapd holds %d fds, %d before "
	    "the refusals", h_fds(), fds);
	cr_assert(h_all(p->addr, p->size, 0x11));
	cr_assert(h_all(n1->addr, n1->size, 0x3c));

	/* One holder of the named region less: 16K back, to the byte. */
	cr_assert_eq(mmapclient_release(c, n2), 0);
	r = map_ok(c, 16 * KIB, NULL);
	snprintf(msg, sizeof(msg), "uid %u would hold 68 KiB of zero memory "
	    "(holds 64 KiB, asks 4 KiB; limit 64 KiB per uid)",
	    (unsigned)geteuid());
	map_edquot(c, 4 * KIB, "other", msg);
	cr_assert_eq(mmapclient_release(c, r), 0);
	/* "other" was never made: made now, empty. */
	r = map_ok(c, 4 * KIB, "other");
	cr_assert(h_all(r->addr, r->size, 0));
	cr_assert_eq(mmapclient_release(c, r), 0);

	/* The end of the connection gives everything back. */
	mmapclient_close(c);
	mmapclient_region_free(p);
	mmapclient_region_free(n1);
	c = h_connect();
	cr_assert_eq(h_leases_wait_on(c, 0), 0);
	r = map_ok(c, 64 * KIB, NULL);
	cr_assert_eq(mmapclient_release(c, r), 0);
	mmapclient_close(c);
	h_stop();
}

/* One uid at its limits leaves another's untouched, and the reverse. */
Test(quota, other_uid_unaffected)
{
	struct mmapclient_region *r;
	struct mmapclient *c;
	struct ctl res;
	char msg[128];
	Reply *rep;
	int fd, rfd;

	ctl_need_nobody();
	h_start(CONF_HEAD "[limits]\nleases_per_uid = 1\n"
	    "zero_bytes_per_uid = 64K\n");
	c = h_connect();
	r = map_ok(c, 64 * KIB, NULL);
	snprintf(msg, sizeof(msg), "uid %u holds 1 lease (limit 1 per uid)",
	    (unsigned)geteuid());
	map_edquot(c, 4 * KIB, NULL, msg);

	/* uid 65534 gets its own lease and its own 64K. */
	ctl_run(&res, CTL_NOBODY, "map", "--dev", "zero", "--size", "64K");
	cr_assert_eq(res.status, 0, "exit %d:\n%s%s", res.status, res.out,
	    res.err);
	ctl_free(&res);
	h_log_expect("audit: event=grant", "uid=65534 ", "size=65536 ");

	/* uid 65534 at its own limit, root is told about root's. */
	fd = raw_connect_as(H_NOBODY, H_NOBODY);
	rep = raw_map(fd, 1, "zero", 0, 4 * KIB, 0, 1, "", &rfd);
	cr_assert_eq(rep->error, 0, "uid 65534's map: %s", rep->message);
	cr_assert_geq(rfd, 0);
	close(rfd);
	reply_free(rep);
	rep = raw_map(fd, 2, "zero", 0, 4 * KIB, 0, 1, "", &rfd);
	cr_assert_eq(rep->error, EDQUOT);
	cr_assert_str_eq(rep->message, "uid 65534 holds 1 lease (limit 1 per "
	    "uid)");
	reply_free(rep);
	map_edquot(c, 4 * KIB, NULL, msg);
	close(fd);
	cr_assert_eq(h_leases_wait_on(c, 1), 1);

	cr_assert_eq(mmapclient_release(c, r), 0);
	mmapclient_close(c);
	h_stop();
}

/* A lower limit on SIGHUP: what is held stays, nothing more is granted. */
Test(quota, reload_lowers_limit)
{
	struct mmapclient_region *r[3];
	struct mmapclient *c;
	char msg[128];
	int i;

	h_start(CONF_HEAD "[limits]\nleases_per_uid = 3\n");
	c = h_connect();
	for (i = 0; i < 3; i++)
		r[i] = map_ok(c, 4 * KIB, NULL);
	h_rewrite_conf(CONF_HEAD "[limits]\nleases_per_uid = 1\n");
	h_signal(SIGHUP);
	cr_assert_eq(h_log_wait(1, "SIGHUP: policy reloaded"), 1);
	snprintf(msg, sizeof(msg), "uid %u holds 3 leases (limit 1 per uid)",
	    (unsigned)geteuid());
	map_edquot(c, 4 * KIB, NULL, msg);
	cr_assert_eq(mmapclient_release(c, r[0]), 0);
	cr_assert_eq(mmapclient_release(c, r[1]), 0);
	snprintf(msg, sizeof(msg), "uid %u holds 1 lease (limit 1 per uid)",
	    (unsigned)geteuid());
	map_edquot(c, 4 * KIB, NULL, msg);
	cr_assert_eq(mmapclient_release(c, r[2]), 0);
	mmapclient_close(c);
	h_stop();
}

/* ----------------------------------------------------------------------
 * Requests in flight
 * ---------------------------------------------------------------------- */

#define IN_FLIGHT	2
#define BUSY_MSG	"2 requests in flight on this connection (limit 2): " \
			"read the replies"

static size_t
pack_status(uint64_t id, uint8_t *buf)
{
	Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Status st = MMAPD__V1__STATUS__INIT;

	req.request_id = id;
	req.body_case = MMAPD__V1__REQUEST__BODY_STATUS;
	req.status = &st;
	return mmapd__v1__request__pack(&req, buf);
}

static size_t
pack_map(uint64_t id, uint8_t *buf)
{
	Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Map m = MMAPD__V1__MAP__INIT;

	m.device = (char *)"zero";
	m.size = 4 * KIB;
	req.request_id = id;
	req.body_case = MMAPD__V1__REQUEST__BODY_MAP;
	req.map = &m;
	return mmapd__v1__request__pack(&req, buf);
}

/*
 * Send requests 1, 2, ... without reading a reply, until the daemon has
 * refused one for too many in flight (its log says so) and the socket
 * takes no more.  The client's send buffer is as small as the kernel
 * allows, so few requests wait in it once the daemon stops reading.
 * Returns how many were sent.
 */
static uint64_t
send_until_stalled(int fd, size_t (*pack)(uint64_t, uint8_t *))
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int64_t end = h_now_ms() + H_WAIT_MS;
	uint8_t buf[256];
	uint64_t id = 1;
	size_t len;

	cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &(int){ 1 },
	    sizeof(int)), 0);
	for (;;) {
		len = pack(id, buf);
		if (send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) {
			id++;
			continue;
		}
		cr_assert_eq(errno, EAGAIN, "send: %s", strerror(errno));
		if (h_log_count("audit: event=deny", "errno=EAGAIN ") > 0)
			break;
		cr_assert_lt(h_now_ms(), end, "%llu requests sent, none "
		    "refused for too many in flight",
		    (unsigned long long)(id - 1));
		(void)poll(&p, 1, 20);
	}
	/*
	 * The refused request was read, and its room freed, before the
	 * line came out: perhaps after the EAGAIN above.  Fill that room,
	 * so that any room the poll below finds was made by a read after
	 * the stall.
	 */
	while (send(fd, buf, pack(id, buf), MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
		id++;
	cr_assert_eq(errno, EAGAIN, "send: %s", strerror(errno));
	/* The daemon reads no more: the socket stays full. */
	cr_assert_eq(poll(&p, 1, 200), 0, "the daemon still reads a client "
	    "it refused for too many in flight");
	return id - 1;
}

/* A second client is served at once meanwhile. */
static void
others_served(void)
{
	struct mmapclient_region *r;
	struct mmapclient_status *st = NULL;
	struct mmapclient *c;

	c = h_connect();
	cr_assert_eq(mmapclient_status(c, &st), 0, "%s", mmapclient_error(c));
	mmapclient_status_free(st);
	r = map_ok(c, 4 * KIB, NULL);
	cr_assert_eq(mmapclient_release(c, r), 0);
	mmapclient_close(c);
}

/*
 * A client sends Status after Status and reads nothing.  The daemon
 * answers into the socket until the socket is full, queues two replies,
 * refuses the next request with EAGAIN and reads no more.  When the
 * client then reads, it finds every reply in request order: exactly one
 * EAGAIN, for the request after the socket's worth and the two queued,
 * and the rest answered, the few requests sent after the refusal
 * included: by the time the daemon reads again (its queue empty, the
 * socket three quarters read) they fit in the room the client made.
 */
Test(quota, requests_in_flight_eagain)
{
	struct mmapclient *k;
	uint64_t sent, i, refused = 0;
	Reply *rep;
	int fd, fds, busy = 0;
	char *line;

	signal(SIGPIPE, SIG_IGN);
	h_start(CONF_HEAD "[limits]\nrequests_in_flight = 2\n");
	k = h_connect();
	cr_assert_eq(h_clients_wait_on(k, 1), 1);
	fds = h_fds();

	fd = raw_connect();
	sent = send_until_stalled(fd, pack_status);
	cr_log_info("in flight: %llu Status sent before the daemon stopped "
	    "reading", (unsigned long long)sent);
	cr_assert_eq(h_log_count("audit: event=deny", "errno=EAGAIN "), 1);
	line = h_log_line("audit: event=deny", "errno=EAGAIN ");
	cr_assert(strstr(line, "op=status ") != NULL, "%s", line);
	cr_assert(strstr(line, h_pidf(getpid())) != NULL, "%s", line);
	cr_assert(strstr(line, "msg=\"" BUSY_MSG "\"") != NULL, "%s", line);
	free(line);

	/* Status replies carry no fd: the stalled client holds one, its own. */
	cr_assert_eq(h_fds(), fds + 1);
	others_served();
	cr_assert_eq(h_leases_wait_on(k, 0), 0);

	for (i = 1; i <= sent; i++) {
		rep = raw_recv(fd, NULL, NULL);
		cr_assert_not_null(rep, "the connection ended at reply %llu "
		    "of %llu", (unsigned long long)i,
		    (unsigned long long)sent);
		cr_assert_eq(rep->request_id, i, "reply %llu is for request "
		    "%llu", (unsigned long long)i,
		    (unsigned long long)rep->request_id);
		if (rep->error != 0) {
			cr_assert_eq(rep->error, EAGAIN, "reply %llu: %s",
			    (unsigned long long)i, rep->message);
			cr_assert_str_eq(rep->message, BUSY_MSG);
			cr_assert_eq(rep->body_case,
			    MMAPD__V1__REPLY__BODY__NOT_SET);
			refused = i;
			busy++;
		} else {
			cr_assert_eq(rep->body_case,
			    MMAPD__V1__REPLY__BODY_STATUS);
		}
		reply_free(rep);
	}
	cr_assert_eq(busy, 1, "%d EAGAIN replies to %llu requests", busy,
	    (unsigned long long)sent);
	cr_assert_gt(refused, IN_FLIGHT, "request %llu refused",
	    (unsigned long long)refused);
	cr_assert_lt(refused, sent, "the refusal came last: the daemon read "
	    "nothing after it, or the test sent nothing after it");
	cr_log_info("in flight: request %llu of %llu refused",
	    (unsigned long long)refused, (unsigned long long)sent);

	/* The connection goes on. */
	rep = raw_status(fd, sent + 1);
	cr_assert_eq(rep->error, 0, "%s", rep->message);
	cr_assert_eq(rep->request_id, sent + 1);
	reply_free(rep);
	cr_assert_eq(h_log_count("audit: event=deny", "errno=EAGAIN "), 1);
	close(fd);
	cr_assert_eq(h_clients_wait_on(k, 1), 1);
	cr_assert_eq(h_fds_wait(fds), fds);
	mmapclient_close(k);
	h_stop();
}

/*
 * The same with Map: each Grant carries an fd.  While stalled, the
 * daemon holds the connection and the two queued Grants' fds, no more;
 * the client gone unread, its leases and every fd go with it.
 */
Test(quota, requests_in_flight_bounds_fds)
{
	struct mmapclient *k;
	uint64_t sent;
	int fd, fds;

	signal(SIGPIPE, SIG_IGN);
	/* Grants in flight are bounded too (test_grants.c): not here. */
	h_start(CONF_HEAD "[limits]\nrequests_in_flight = 2\n"
	    "leases_per_uid = 100000\ngrants_in_flight = 1024\n"
	    "grants_in_flight_per_uid = 65536\n");
	k = h_connect();
	cr_assert_eq(h_clients_wait_on(k, 1), 1);
	fds = h_fds();

	fd = raw_connect();
	sent = send_until_stalled(fd, pack_map);
	cr_log_info("in flight: %llu Map sent before the daemon stopped "
	    "reading", (unsigned long long)sent);
	h_log_expect("audit: event=deny", "op=map ", "errno=EAGAIN ",
	    "msg=\"" BUSY_MSG "\"");
	cr_assert_eq(h_fds(), fds + 1 + IN_FLIGHT, "a stalled client: mmapd "
	    "holds %d fds, %d before it", h_fds(), fds);
	others_served();
	cr_assert_gt(status_leases(k), IN_FLIGHT);

	close(fd);
	cr_assert_eq(h_leases_wait_on(k, 0), 0);
	cr_assert_eq(h_clients_wait_on(k, 1), 1);
	cr_assert_eq(h_fds_wait(fds), fds, "mmapd holds %d fds, %d before",
	    h_fds(), fds);
	mmapclient_close(k);
	h_stop();
}

/* ----------------------------------------------------------------------
 * Connections
 * ---------------------------------------------------------------------- */

#define CONN_MSG	"mmapd serves 4 connections (limit 4)"

/*
 * connections = 4: a fifth is accepted, told why (EMFILE) and closed;
 * the four go on undisturbed; one closed, a new one is served.
 */
Test(quota, connections_emfile)
{
	struct mmapclient *c[4], *x = NULL;
	struct mmapclient_region *r;
	struct ctl res;
	Reply *rep;
	int fd, fds, err, i;

	h_start(CONF_HEAD "[limits]\nconnections = 4\n");
	c[0] = h_connect();
	cr_assert_eq(h_clients_wait_on(c[0], 1), 1, "the start-up probe "
	    "still counts");
	for (i = 1; i < 4; i++)
		c[i] = h_connect();
	cr_assert_eq(h_clients_wait_on(c[0], 4), 4);
	fds = h_fds();

	/* A raw fifth: the reply, then the end. */
	fd = raw_connect();
	rep = raw_recv(fd, NULL, &err);
	cr_assert_not_null(rep, "no reply to a fifth connection: %s",
	    strerror(-err));
	cr_assert_eq(rep->request_id, 0);
	cr_assert_eq(rep->error, EMFILE);
	cr_assert_str_eq(rep->message, CONN_MSG);
	reply_free(rep);
	cr_assert(raw_closed(fd, H_WAIT_MS), "the fifth connection was "
	    "not closed");
	close(fd);

	/* Through the library and mmapctl. */
	err = mmapclient_connect(h_sock(), &x);
	cr_assert_eq(err, -EMFILE, "connect: %d (%s)", err,
	    mmapclient_error(NULL));
	cr_assert_null(x);
	cr_assert_str_eq(mmapclient_error(NULL), "the daemon refused the "
	    "connection: " CONN_MSG);
	ctl_run(&res, CTL_ROOT, "status");
	cr_assert_eq(res.status, 1, "exit %d:\n%s%s", res.status, res.out,
	    res.err);
	cr_expect(strstr(res.err, "(EMFILE, errno 24): ") != NULL, "%s",
	    res.err);
	cr_expect(strstr(res.err, CONN_MSG) != NULL, "%s", res.err);
	ctl_free(&res);
	cr_assert_eq(h_log_count("audit: event=deny", "op=connect ",
	    "errno=EMFILE ", "msg=\"" CONN_MSG "\""), 3);

	/* The four are as they were. */
	cr_assert_eq(h_clients_wait_on(c[0], 4), 4);
	cr_assert_eq(h_fds_wait(fds), fds, "mmapd holds %d fds, %d before",
	    h_fds(), fds);
	for (i = 0; i < 4; i++) {
		r = map_ok(c[i], 4 * KIB, NULL);
		cr_assert_eq(mmapclient_release(c[i], r), 0);
	}

	/* One gone, a new one is served. */
	mmapclient_close(c[3]);
	cr_assert_eq(h_clients_wait_on(c[0], 3), 3);
	c[3] = h_connect();
	r = map_ok(c[3], 4 * KIB, NULL);
	cr_assert_eq(mmapclient_release(c[3], r), 0);
	for (i = 0; i < 4; i++)
		mmapclient_close(c[i]);
	h_stop();
}
