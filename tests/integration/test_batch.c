/*
 * Many grants per round trip, against a real mmapd: a MapBatch is
 * answered by one packet carrying every granted fd in one SCM_RIGHTS,
 * each grant decided, counted against [limits] grants_in_flight and
 * audited as a lone Map; a batch may be granted in part; one over
 * WIRE_BATCH_MAX is refused whole.  A quiet Release is not answered
 * unless it fails, and a client flooding quiet Releases of leases it
 * does not hold stalls itself alone, as with any request.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"
#include "wire.h"

#define KIB	1024ull

TestSuite(batch, .fini = h_cleanup, .timeout = 120);

static const char conf[] =
	"[daemon]\n"
	"socket_mode = 0666\n"
	"[limits]\n"
	"grants_in_flight = 32\n"
	"[zero]\n"
	"users = *\n"
	"shared = yes\n"
	"max_size = 1M\n"
	"[shm secret]\n"
	"size = 16K\n"
	"writers = 0\n";

static void
need_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root (connects as uid 65534)");
}

/* One reply and every fd it carried (H_WAIT_MS). */
static Reply *
recv_fds(int sock, int *fds, size_t *nfds)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };
	uint8_t buf[WIRE_MAX];
	ssize_t len;
	Reply *r;

	*nfds = 0;
	cr_assert_gt(poll(&p, 1, H_WAIT_MS), 0, "no reply within %d ms",
	    H_WAIT_MS);
	len = wire_recv(sock, buf, sizeof(buf), fds, nfds);
	cr_assert_gt(len, 0, "receiving a reply: %zd", len);
	r = mmapd__v1__reply__unpack(NULL, (size_t)len, buf);
	cr_assert_not_null(r, "a reply of %zd bytes does not decode", len);
	return r;
}

/* Send a MapBatch of the n Maps in m as request id. */
static void
send_batch(int sock, uint64_t id, Mmapd__V1__Map *m, size_t n)
{
	Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__MapBatch mb = MMAPD__V1__MAP_BATCH__INIT;
	Mmapd__V1__Map *pm[64];
	size_t i;

	cr_assert_leq(n, 64);
	for (i = 0; i < n; i++)
		pm[i] = &m[i];
	mb.maps = pm;
	mb.n_maps = n;
	req.request_id = id;
	req.body_case = MMAPD__V1__REQUEST__BODY_MAP_BATCH;
	req.map_batch = &mb;
	raw_send(sock, &req);
}

static void
zero_map(Mmapd__V1__Map *m, uint64_t size)
{
	mmapd__v1__map__init(m);
	m->device = (char *)"zero";
	m->size = size;
	m->shared = 1;
	m->write = 1;
	m->region = (char *)"";
}

/* A granted fd is what its grant says: it maps, writes, and is sealed. */
static void
grant_usable(const Mmapd__V1__Grant *g, int fd, uint8_t fill)
{
	struct stat st;
	uint8_t *p;

	cr_assert_eq(fstat(fd, &st), 0);
	cr_assert_geq((uint64_t)st.st_size, g->mmap_offset + g->size,
	    "the fd reaches %lld bytes, the grant %llu",
	    (long long)st.st_size, (unsigned long long)g->size);
	cr_assert_eq(g->fd_kind, MMAPD__V1__FD_KIND__FD_KIND_SHMEM);
	cr_assert_neq(fcntl(fd, F_GET_SEALS) & F_SEAL_GROW, 0);
	p = mmap(NULL, g->size, (int)g->prot, (int)g->mmap_flags, fd,
	    (off_t)g->mmap_offset);
	cr_assert_neq(p, MAP_FAILED, "mmap: %s", strerror(errno));
	cr_assert(h_all(p, g->size, 0), "fresh zero memory is not zero");
	memset(p, fill, g->size);
	munmap(p, g->size);
}

static Reply *
send_release(int sock, uint64_t id, uint64_t lease, const uint64_t *more,
    size_t n_more, int quiet, int wait)
{
	Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Release rel = MMAPD__V1__RELEASE__INIT;

	rel.lease_id = lease;
	rel.quiet = quiet;
	rel.more_lease_ids = (uint64_t *)more;
	rel.n_more_lease_ids = n_more;
	req.request_id = id;
	req.body_case = MMAPD__V1__REQUEST__BODY_RELEASE;
	req.release = &rel;
	if (!wait) {
		raw_send(sock, &req);
		return NULL;
	}
	return raw_call(sock, &req, NULL);
}

static uint32_t
status_leases(int sock, uint64_t id)
{
	Reply *r = raw_status(sock, id);
	uint32_t n;

	cr_assert_eq(r->request_id, id, "Status %llu answered as %llu: a "
	    "quiet Release was answered", (unsigned long long)id,
	    (unsigned long long)r->request_id);
	cr_assert_eq(r->error, 0);
	n = r->status->leases;
	reply_free(r);
	return n;
}

/*
 * The worker's fds once sock is its only client (the harness's probe
 * connection of h_start may still be closing).
 */
static int
fds_settled(int sock)
{
	int64_t end = h_now_ms() + H_WAIT_MS;
	uint32_t clients;
	Reply *r;

	do {
		r = raw_status(sock, 99);
		clients = r->status->clients;
		reply_free(r);
		if (clients == 1)
			return h_fds();
		usleep(10000);
	} while (h_now_ms() < end);
	cr_assert_fail("%u clients, not 1", clients);
	return -1;
}

/*
 * Sixteen shared zero Maps in one batch through libmmapclient: sixteen
 * distinct leases and regions, distinct memory, sixteen grant lines;
 * released with one quiet Release, which is not answered, and the
 * daemon holds nothing after and has closed every fd it made.
 */
Test(batch, sixteen_in_one_packet)
{
	struct mmapclient_request reqs[16];
	struct mmapclient_region *out[16];
	int errs[16], i, j, base;
	struct mmapclient *c;

	h_start(conf);
	c = h_connect();
	/* The harness's probe connection closed: c is the only client. */
	cr_assert_eq(h_clients_wait_on(c, 1), 1);
	base = h_fds();
	for (i = 0; i < 16; i++)
		reqs[i] = (struct mmapclient_request){
			.device = "zero", .size = 8 * KIB,
			.flags = MMAPCLIENT_SHARED | MMAPCLIENT_WRITE,
		};
	cr_assert_eq(mmapclient_map_batch(c, reqs, 16, out, errs), 16, "%s",
	    mmapclient_error(c));
	for (i = 0; i < 16; i++) {
		cr_assert_eq(errs[i], 0);
		cr_assert_not_null(out[i]);
		cr_assert_eq(out[i]->size, 8 * KIB);
		for (j = 0; j < i; j++)
			cr_assert_neq(out[i]->lease_id, out[j]->lease_id);
		memset(out[i]->addr, i + 1, out[i]->size);
	}
	/* Sixteen memories, not one sixteen times. */
	for (i = 0; i < 16; i++)
		cr_assert(h_all(out[i]->addr, out[i]->size, (uint8_t)(i + 1)));
	cr_assert_eq(h_log_wait(16, "event=grant ", "result=ok"), 16);
	cr_assert_eq(h_leases_wait_on(c, 16), 16);
	/* The daemon let go of its copies of the sixteen fds. */
	cr_assert_eq(h_fds_wait(base), base);

	cr_assert_eq(mmapclient_release_quiet(c, out, 16, NULL, NULL), 0,
	    "%s", mmapclient_error(c));
	/* Status through c: a quiet Release's answer would come first. */
	cr_assert_eq(h_leases_wait_on(c, 0), 0);
	cr_assert_eq(mmapclient_in_flight(c), 0, "the quiet Release is "
	    "still in flight after a later request was answered");
	cr_assert_eq(h_log_count("event=release ", "reason=request"), 16);
	mmapclient_close(c);
	h_stop();
}

/*
 * The library's view of a partial batch, [limits] grants_in_flight = 4:
 * a request wrong here (unknown flags) is refused here with -EINVAL, a
 * size over max_size gets -EFBIG from the daemon, the fifth good Map
 * -EAGAIN; the four granted are mapped, the others NULL, and the first
 * refusal's message is the connection's.
 */
Test(batch, library_partial)
{
	struct mmapclient_request reqs[7];
	struct mmapclient_region *out[7];
	int errs[7], i, n = 0;
	struct mmapclient *c;

	h_start("[limits]\ngrants_in_flight = 4\n[zero]\nusers = *\n"
	    "shared = yes\nmax_size = 1M\n");
	c = h_connect();
	for (i = 0; i < 7; i++)
		reqs[i] = (struct mmapclient_request){
			.device = "zero", .size = 4 * KIB,
			.flags = MMAPCLIENT_SHARED | MMAPCLIENT_WRITE,
		};
	reqs[1].size = 2 * 1024 * KIB;
	reqs[2].flags = 1u << 30;
	cr_assert_eq(mmapclient_map_batch(c, reqs, 7, out, errs), 4, "%s",
	    mmapclient_error(c));
	cr_assert_eq(errs[1], -EFBIG);
	cr_assert_eq(errs[2], -EINVAL);
	cr_assert_eq(errs[6], -EAGAIN);
	cr_assert_null(out[1]);
	cr_assert_null(out[2]);
	cr_assert_null(out[6]);
	cr_assert(strstr(mmapclient_error(c), "request 1 of the batch"),
	    "%s", mmapclient_error(c));
	for (i = 0; i < 7; i++) {
		if (errs[i] != 0)
			continue;
		cr_assert_not_null(out[i]);
		memset(out[i]->addr, 0x5a, out[i]->size);
		out[n++] = out[i];
	}
	cr_assert_eq(n, 4);
	cr_assert_eq(mmapclient_release_quiet(c, out, 4, NULL, NULL), 0);
	cr_assert_eq(h_leases_wait_on(c, 0), 0);
	/* Over the library's bound: refused before anything is sent. */
	cr_assert_eq(mmapclient_map_batch(c, reqs, MMAPCLIENT_BATCH_MAX + 1,
	    out, errs), -EINVAL);
	mmapclient_close(c);
	h_stop();
}

/*
 * Refusals inside a batch, as uid 65534: a size over max_size (EFBIG)
 * and a [shm] name only root writes (EPERM) between two good Maps.  The
 * reply has four items in order, two fds (the granted ones', usable),
 * and the audit log a grant line for each grant and a deny line for
 * each refusal.
 */
Test(batch, partial_as_nobody)
{
	Mmapd__V1__Map m[4];
	int fds[WIRE_MAX_FDS], sock;
	size_t nfds;
	Reply *r;

	need_root();
	h_start(conf);
	sock = raw_connect_as(H_NOBODY, H_NOBODY);
	raw_hello(sock);
	zero_map(&m[0], 4 * KIB);
	zero_map(&m[1], 2 * 1024 * KIB);
	zero_map(&m[2], 16 * KIB);
	m[2].region = (char *)"secret";
	zero_map(&m[3], 8 * KIB);
	send_batch(sock, 7, m, 4);
	r = recv_fds(sock, fds, &nfds);
	cr_assert_eq(r->request_id, 7);
	cr_assert_eq(r->error, 0, "%s", r->message);
	cr_assert_eq(r->body_case, MMAPD__V1__REPLY__BODY_GRANTS);
	cr_assert_eq(r->grants->n_items, 4);
	cr_assert_eq(nfds, 2, "%zu fds for two grants", nfds);
	cr_assert_eq(r->grants->items[0]->error, 0);
	cr_assert_eq(r->grants->items[1]->error, EFBIG, "%d %s",
	    r->grants->items[1]->error, r->grants->items[1]->message);
	cr_assert_null(r->grants->items[1]->grant);
	cr_assert_neq(r->grants->items[1]->message[0], '\0');
	cr_assert_eq(r->grants->items[2]->error, EPERM, "%d %s",
	    r->grants->items[2]->error, r->grants->items[2]->message);
	cr_assert_null(r->grants->items[2]->grant);
	cr_assert_eq(r->grants->items[3]->error, 0);
	cr_assert_eq(r->grants->items[0]->grant->size, 4 * KIB);
	cr_assert_eq(r->grants->items[3]->grant->size, 8 * KIB);
	grant_usable(r->grants->items[0]->grant, fds[0], 0x11);
	grant_usable(r->grants->items[3]->grant, fds[1], 0x22);
	close(fds[0]);
	close(fds[1]);
	reply_free(r);
	cr_assert_eq(h_log_wait(2, "event=grant ", "uid=65534",
	    "result=ok"), 2);
	h_log_expect("event=deny", "uid=65534", "errno=EFBIG");
	h_log_expect("event=deny", "uid=65534", "errno=EPERM");
	cr_assert_eq(status_leases(sock, 8), 2);
	close(sock);
	cr_assert_eq(h_leases_wait(0), 0);
	h_stop();
}

/* Over WIRE_BATCH_MAX Maps, or none: EINVAL for the whole, no fd. */
Test(batch, over_the_max)
{
	Mmapd__V1__Map m[WIRE_BATCH_MAX + 1];
	int fds[WIRE_MAX_FDS], sock, i, base;
	size_t nfds;
	Reply *r;

	h_start(conf);
	sock = raw_connect();
	raw_hello(sock);
	base = fds_settled(sock);
	for (i = 0; i <= WIRE_BATCH_MAX; i++)
		zero_map(&m[i], 4 * KIB);
	send_batch(sock, 2, m, WIRE_BATCH_MAX + 1);
	r = recv_fds(sock, fds, &nfds);
	cr_assert_eq(r->request_id, 2);
	cr_assert_eq(r->error, EINVAL);
	cr_assert_eq(nfds, 0);
	cr_assert(strstr(r->message, "33") && strstr(r->message, "32"),
	    "the message does not carry the numbers: %s", r->message);
	reply_free(r);
	send_batch(sock, 3, m, 0);
	r = recv_fds(sock, fds, &nfds);
	cr_assert_eq(r->error, EINVAL);
	cr_assert_eq(nfds, 0);
	reply_free(r);
	/* The connection goes on, and nothing was granted. */
	cr_assert_eq(status_leases(sock, 4), 0);
	cr_assert_eq(h_log_count("event=grant "), 0);
	h_log_expect("event=deny", "op=map-batch", "errno=EINVAL");
	i = h_fds_wait(base);
	cr_assert_eq(i, base, "the worker holds %d fds, %d before", i, base);
	close(sock);
	h_stop();
}

/*
 * [limits] grants_in_flight = 4: a batch of 8 gets 4 grants and 4
 * EAGAIN refusals that say so; once those are read, the next batch gets
 * 4 more.  No fd is left behind in the daemon.
 */
Test(batch, grants_in_flight)
{
	Mmapd__V1__Map m[8];
	int fds[WIRE_MAX_FDS], sock, i, base, round;
	size_t nfds, k;
	Reply *r;

	h_start("[limits]\ngrants_in_flight = 4\n[zero]\nusers = *\n"
	    "shared = yes\n");
	sock = raw_connect();
	raw_hello(sock);
	base = fds_settled(sock);
	for (i = 0; i < 8; i++)
		zero_map(&m[i], 4 * KIB);
	for (round = 0; round < 2; round++) {
		send_batch(sock, 10 + (uint64_t)round, m, 8);
		r = recv_fds(sock, fds, &nfds);
		cr_assert_eq(r->error, 0, "%s", r->message);
		cr_assert_eq(r->grants->n_items, 8);
		cr_assert_eq(nfds, 4, "round %d: %zu fds", round, nfds);
		for (i = 0; i < 4; i++)
			cr_assert_eq(r->grants->items[i]->error, 0);
		for (i = 4; i < 8; i++) {
			cr_assert_eq(r->grants->items[i]->error, EAGAIN);
			cr_assert(strstr(r->grants->items[i]->message,
			    "limit 4"), "%s", r->grants->items[i]->message);
		}
		for (k = 0; k < nfds; k++)
			close(fds[k]);
		reply_free(r);
		cr_assert_eq(h_fds_wait(base), base, "round %d", round);
	}
	cr_assert_eq(status_leases(sock, 20), 8);
	cr_assert_eq(h_log_count("event=grant ", "result=ok"), 8);
	cr_assert_eq(h_log_count("event=deny", "errno=EAGAIN"), 8);
	close(sock);
	cr_assert_eq(h_leases_wait(0), 0);
	cr_assert_eq(h_fds_wait(base - 1), base - 1);
	h_stop();
}

/*
 * A quiet Release is not answered and ends the lease; one of a lease
 * not held is answered with ENOENT and its request id; one naming
 * several releases every one held and names the others.
 */
Test(batch, quiet_release)
{
	uint64_t lease[4], more[3];
	int sock, fd, i;
	Reply *r;

	h_start(conf);
	sock = raw_connect();
	raw_hello(sock);
	for (i = 0; i < 4; i++) {
		r = raw_map(sock, 2 + (uint64_t)i, "zero", 0, 4 * KIB, 1, 1,
		    NULL, &fd);
		cr_assert_eq(r->error, 0, "%s", r->message);
		lease[i] = r->grant->lease_id;
		close(fd);
		reply_free(r);
	}
	send_release(sock, 10, lease[0], NULL, 0, 1, 0);
	/* The next reply is the Status's: 10 was not answered. */
	cr_assert_eq(status_leases(sock, 11), 3);
	h_log_expect("event=release ", "reason=request");

	send_release(sock, 12, 999, NULL, 0, 1, 0);
	r = raw_recv(sock, NULL, NULL);
	cr_assert_eq(r->request_id, 12);
	cr_assert_eq(r->error, ENOENT);
	cr_assert(strstr(r->message, "999"), "%s", r->message);
	reply_free(r);

	more[0] = lease[2];
	more[1] = 777;
	more[2] = lease[3];
	send_release(sock, 13, lease[1], more, 3, 1, 0);
	r = raw_recv(sock, NULL, NULL);
	cr_assert_eq(r->request_id, 13);
	cr_assert_eq(r->error, ENOENT);
	cr_assert(strstr(r->message, "777") && strstr(r->message, "1 of "
	    "the 4"), "%s", r->message);
	reply_free(r);
	cr_assert_eq(status_leases(sock, 14), 0);

	/* Not quiet: an Ack, as before. */
	r = raw_map(sock, 15, "zero", 0, 4 * KIB, 1, 1, NULL, &fd);
	close(fd);
	lease[0] = r->grant->lease_id;
	reply_free(r);
	r = send_release(sock, 16, lease[0], NULL, 0, 0, 1);
	cr_assert_eq(r->error, 0);
	cr_assert_eq(r->body_case, MMAPD__V1__REPLY__BODY_RELEASE);
	reply_free(r);
	close(sock);
	h_stop();
}

static long
worker_rss_kib(void)
{
	char path[64], *s, *p;
	long kib = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)h_worker_pid());
	s = h_read(path);
	p = strstr(s, "VmRSS:");
	if (p != NULL)
		kib = strtol(p + 6, NULL, 10);
	free(s);
	return kib;
}

/*
 * 10000 quiet Releases of leases not held, sent without reading the
 * answers: each failure is an error reply, bounded by
 * requests_in_flight like any other, so the daemon stops reading the
 * flooder, whose socket fills long before 10000 (the attack stalls
 * itself), the worker does not grow, and another client's Status is
 * answered within a second throughout.
 */
Test(batch, quiet_release_flood)
{
	int flood, other, i, sent = 0, fd, got = 0, stalled = 0;
	long rss0, rss1;
	int64_t t0, worst = 0, dt;
	struct pollfd p;
	Reply *r;

	h_start(conf);
	flood = raw_connect();
	other = raw_connect();
	raw_hello(flood);
	raw_hello(other);
	r = raw_map(other, 2, "zero", 0, 4 * KIB, 1, 1, NULL, &fd);
	close(fd);
	reply_free(r);
	rss0 = worker_rss_kib();
	cr_assert_gt(rss0, 0);
	cr_assert_eq(fcntl(flood, F_SETFL, O_NONBLOCK), 0);
	for (i = 0; i < 10000 && !stalled; i++) {
		Request req = MMAPD__V1__REQUEST__INIT;
		Mmapd__V1__Release rel = MMAPD__V1__RELEASE__INIT;
		uint8_t buf[64];
		size_t len;

		rel.lease_id = 1000000 + (uint64_t)i;
		rel.quiet = 1;
		req.request_id = 100 + (uint64_t)i;
		req.body_case = MMAPD__V1__REQUEST__BODY_RELEASE;
		req.release = &rel;
		len = mmapd__v1__request__pack(&req, buf);
		while (send(flood, buf, len, MSG_NOSIGNAL) < 0) {
			cr_assert(errno == EAGAIN, "send: %s",
			    strerror(errno));
			/* Full, and still full: the daemon stopped reading. */
			p = (struct pollfd){ .fd = flood, .events = POLLOUT };
			if (poll(&p, 1, 300) == 0) {
				stalled = 1;
				break;
			}
		}
		if (stalled)
			break;
		sent++;
		if ((i % 500) == 0) {
			t0 = h_now_ms();
			cr_assert_eq(status_leases(other, 30000 + (uint64_t)i),
			    1);
			dt = h_now_ms() - t0;
			worst = dt > worst ? dt : worst;
		}
	}
	/* The flooder stalled: the others are served all the same. */
	for (i = 0; i < 20; i++) {
		t0 = h_now_ms();
		cr_assert_eq(status_leases(other, 40000 + (uint64_t)i), 1);
		dt = h_now_ms() - t0;
		worst = dt > worst ? dt : worst;
	}
	cr_assert(stalled, "all 10000 went in: the daemon kept reading a "
	    "client that reads none of its replies");
	t0 = h_now_ms();
	cr_assert_eq(status_leases(other, 50000), 1);
	dt = h_now_ms() - t0;
	worst = dt > worst ? dt : worst;
	rss1 = worker_rss_kib();
	fprintf(stderr, "flood: %d of 10000 sent before the socket filled; "
	    "Status worst %lld ms; worker RSS %ld -> %ld KiB\n", sent,
	    (long long)worst, rss0, rss1);
	cr_assert_lt(worst, 1000, "another client waited %lld ms",
	    (long long)worst);
	cr_assert_lt(rss1 - rss0, 2048, "the worker grew by %ld KiB",
	    rss1 - rss0);
	/* Every answer is an error with a request id sent: no grant. */
	p = (struct pollfd){ .fd = flood, .events = POLLIN };
	while (poll(&p, 1, 200) > 0) {
		int e;

		r = raw_recv(flood, NULL, &e);
		if (r == NULL)
			break;
		cr_assert(r->error == ENOENT || r->error == EAGAIN,
		    "error %d", r->error);
		cr_assert_geq(r->request_id, 100);
		got++;
		reply_free(r);
	}
	cr_assert_gt(got, 0);
	close(flood);
	close(other);
	h_stop();
}
