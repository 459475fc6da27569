/*
 * Grants in flight counted as they are read, against a real mmapd.
 *
 * mmapd bounds the fds it has sent a connection and the peer has not
 * read ([limits] grants_in_flight, 8 here): fds in flight are charged to
 * mmapd's own user by the kernel, and past RLIMIT_NOFILE of them every
 * further one fails (test_limits.c has that attack).  It cannot see how
 * many fds were read, only the bytes still unread (SIOCOUTQ); it counts
 * them from what each packet was charged.  Here a client that reads
 * some of its replies is sent exactly that many more grants and no
 * more, one that reads at random never has more unread than the bound,
 * and one that keeps 8 Maps in flight for 2000 grants through the
 * async library is not refused for grants it has read.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"
#include "wire.h"

TestSuite(inflight, .fini = h_cleanup, .timeout = 120);

#define CONF_HEAD \
	"[daemon]\nsocket_mode = 0666\n\n[zero]\nusers = *\nmax_size = 1M\n" \
	"shared = yes\n\n"

static size_t
pack_map(uint64_t id, uint8_t *buf)
{
	Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Map m = MMAPD__V1__MAP__INIT;

	m.device = (char *)"zero";
	m.size = 4096;
	req.request_id = id;
	req.body_case = MMAPD__V1__REQUEST__BODY_MAP;
	req.map = &m;
	return mmapd__v1__request__pack(&req, buf);
}

static void
send_map(int fd, uint64_t id)
{
	uint8_t buf[256];

	cr_assert_eq(raw_send_bytes(fd, buf, pack_map(id, buf), NULL, 0), 0,
	    "sending Map %llu", (unsigned long long)id);
}

/* The next reply: request id, and granted (an fd came) or its errno. */
static int
recv_reply(int fd, uint64_t want_id)
{
	Reply *rep;
	int rfd = -1, err;

	rep = raw_recv(fd, &rfd, NULL);
	cr_assert_not_null(rep, "the daemon hung up before reply %llu",
	    (unsigned long long)want_id);
	cr_assert_eq(rep->request_id, want_id);
	err = rep->error;
	if (err == 0)
		cr_assert_geq(rfd, 0, "grant %llu without an fd",
		    (unsigned long long)want_id);
	else
		cr_assert_eq(err, EAGAIN, "reply %llu: %s",
		    (unsigned long long)want_id, rep->message);
	if (rfd >= 0)
		close(rfd);
	reply_free(rep);
	return err;
}

/*
 * 8 grants sent and none read: the bound.  The client reads 3 of them,
 * then sends 5 Maps at once: the first 3 are granted (mmapd saw 3 read),
 * the 4th refused with EAGAIN (8 unread again: the attack's bound
 * holds), and the 5th is not answered, nor another fd sent, while the
 * 8 stay unread.  Once the client reads one more, the 5th is granted.
 * The old count (read only once the socket was read to the end)
 * refused the first of the 5.
 */
Test(inflight, partial_read_counted_exactly)
{
	int fd, ok;
	uint64_t id;

	signal(SIGPIPE, SIG_IGN);
	h_start(CONF_HEAD "[limits]\ngrants_in_flight = 8\n"
	    "requests_in_flight = 32\n");
	fd = raw_connect();
	for (id = 1; id <= 8; id++)
		send_map(fd, id);
	cr_assert_eq(h_log_wait(8, "audit: event=grant", "result=ok"), 8);

	for (id = 1; id <= 3; id++)
		cr_assert_eq(recv_reply(fd, id), 0);
	for (id = 9; id <= 13; id++)
		send_map(fd, id);
	h_log_wait(1, "audit: event=deny", "errno=EAGAIN ",
	    "msg=\"8 grants in flight on this connection (limit 8): read "
	    "the replies\"");
	/* Map 13 waits while 8 are unread: no grant in 300 ms. */
	h_sleep_ms(300);
	ok = h_log_count("audit: event=grant", "result=ok");
	cr_assert_eq(ok, 11, "%d grants with 8 unread (8 + the 3 read)", ok);
	cr_assert_eq(h_log_count("audit: event=deny", "errno=EAGAIN "), 1);

	for (id = 4; id <= 11; id++)
		cr_assert_eq(recv_reply(fd, id), 0, "Map %llu was refused",
		    (unsigned long long)id);
	cr_assert_eq(recv_reply(fd, 12), EAGAIN, "Map 12 granted with 8 "
	    "unread");
	cr_assert_eq(recv_reply(fd, 13), 0);
	cr_assert_eq(h_log_count("audit: event=grant", "result=ok"), 12);
	close(fd);
	h_stop();
}

/*
 * More grants unread than mmapd keeps apart (16 packets): the older
 * ones are counted together, read only once all of them are.  40 sent,
 * none read; the client reads 5 and sends 10 Maps: none may go beyond
 * 40 unread, and while the 25 counted together are not all read, none
 * is granted.  Once the client has read 26, Maps are granted again,
 * and at most as many as it read.
 */
Test(inflight, many_unread_never_counted_fewer)
{
	int fd, ok, deny, i;
	uint64_t id, next = 1, read_to = 0;

	signal(SIGPIPE, SIG_IGN);
	h_start(CONF_HEAD "[limits]\ngrants_in_flight = 40\n"
	    "grants_in_flight_per_uid = 64\nrequests_in_flight = 64\n");
	fd = raw_connect();
	for (; next <= 40; next++)
		send_map(fd, next);
	cr_assert_eq(h_log_wait(40, "audit: event=grant", "result=ok"), 40);
	for (; read_to < 5; read_to++)
		cr_assert_eq(recv_reply(fd, read_to + 1), 0);
	for (i = 0; i < 10; i++)
		send_map(fd, next++);
	h_log_wait(1, "audit: event=deny", "errno=EAGAIN ");
	h_sleep_ms(200);
	ok = h_log_count("audit: event=grant", "result=ok");
	cr_log_info("40 sent, 5 read: %d granted of the next 10", ok - 40);
	cr_assert_leq(ok - (int)read_to, 40, "%d grants unread, limit 40",
	    ok - (int)read_to);
	cr_assert_eq(ok, 40, "granted while the 25 oldest are not all read");

	/* Read to the end of the 25 counted together, and one more. */
	for (; read_to < 26; read_to++)
		cr_assert_eq(recv_reply(fd, read_to + 1), 0);
	/* The Map read after the refusal is granted once the 26 are. */
	ok = h_log_wait(41, "audit: event=grant", "result=ok");
	cr_assert_geq(ok, 41, "nothing granted once 26 were read");
	h_sleep_ms(200);
	ok = h_log_count("audit: event=grant", "result=ok");
	deny = h_log_count("audit: event=deny", "errno=EAGAIN ");
	cr_log_info("26 read: %d granted, %d refused", ok, deny);
	cr_assert_leq(ok - (int)read_to, 40, "%d grants unread, limit 40",
	    ok - (int)read_to);
	/* Everything answered, in order, and nothing past the bound. */
	for (id = read_to + 1; id < next; id++)
		(void)recv_reply(fd, id);
	cr_assert_eq(h_log_count("audit: event=grant", "result=ok") +
	    h_log_count("audit: event=deny", "errno=EAGAIN "), (int)next - 1);
	close(fd);
	h_stop();
}

/* Until the log's count of needle stays for 100 ms: mmapd is idle. */
static int
log_settle(const char *needle)
{
	int64_t end = h_now_ms() + H_WAIT_MS;
	int n = h_log_count(needle), m;

	for (;;) {
		h_sleep_ms(100);
		m = h_log_count(needle);
		if (m == n)
			return n;
		cr_assert_lt(h_now_ms(), end, "mmapd does not settle");
		n = m;
	}
}

/*
 * Sends and reads in random amounts (a fixed seed), the bound 24 (more
 * than the ring keeps apart): whenever mmapd has settled, the grants
 * its audit log says went out, less those the client has read, are at
 * most 24.  That is the count the kernel charges to mmapd, from mmapd's
 * own record, not from its counters.  At the end every Map is answered.
 */
Test(inflight, random_reads_never_past_the_bound)
{
	uint64_t next = 1, read_to = 0;
	int fd, round, k, ok, got = 0, err, deny = 0, worst = 0;

	signal(SIGPIPE, SIG_IGN);
	srand(13);
	h_start(CONF_HEAD "[limits]\ngrants_in_flight = 24\n"
	    "grants_in_flight_per_uid = 64\nrequests_in_flight = 64\n"
	    "leases_per_uid = 100000\n");
	fd = raw_connect();
	for (round = 0; round < 60; round++) {
		for (k = 1 + rand() % 12; k > 0 && next - read_to <= 48; k--)
			send_map(fd, next++);
		if (round % 3 == 2) {
			ok = log_settle("result=ok");
			if (ok - got > worst)
				worst = ok - got;
			cr_assert_leq(ok - got, 24, "round %d: %d grants out, "
			    "%d read: %d unread, limit 24", round, ok, got,
			    ok - got);
		}
		for (k = rand() % (int)(next - read_to); k > 0; k--) {
			err = recv_reply(fd, ++read_to);
			got += err == 0;
			deny += err != 0;
		}
	}
	while (read_to + 1 < next) {
		err = recv_reply(fd, ++read_to);
		got += err == 0;
		deny += err != 0;
	}
	cr_log_info("%d Maps: %d granted, %d refused; at most %d unread",
	    (int)next - 1, got, deny, worst);
	cr_assert_eq(got + deny, (int)next - 1);
	cr_assert_eq(h_log_count("result=ok"), got);
	cr_assert_gt(deny, 0, "the bound was never reached");
	close(fd);
	h_stop();
}

/* A pipelining client: depth Maps in flight, each released unwaited. */
struct pipe {
	struct mmapclient *c;
	struct mmapclient_request req;
	int sent, done, eagain, in_flight, err;
	int target;
};

static void
pipe_mapped(struct mmapclient *c, const struct mmapclient_result *res,
    void *arg)
{
	struct pipe *p = arg;
	int err;

	p->in_flight--;
	if (res->error == -EAGAIN) {
		p->eagain++;
	} else if (res->error) {
		if (p->err == 0)
			p->err = res->error;
		return;
	} else {
		((volatile char *)res->region->addr)[0] = 1;
		p->done++;
		err = mmapclient_release_async(c, res->region, NULL, NULL);
		if (err) {
			mmapclient_region_free(res->region);
			if (p->err == 0)
				p->err = err;
			return;
		}
	}
	if (p->sent >= p->target + p->eagain)
		return;
	err = mmapclient_map_async(c, &p->req, pipe_mapped, p);
	if (err) {
		if (p->err == 0)
			p->err = err;
		return;
	}
	p->sent++;
	p->in_flight++;
}

/*
 * 8 Maps in flight all the time on one connection, [limits] at their
 * defaults (grants_in_flight 8): every Map answered is touched, released
 * without waiting for the reply, and replaced by the next, for 2000
 * grants.  Each Map comes after its predecessor's reply was read, so
 * never more than 7 are unread: at most 1 in 100 is refused for grants
 * in flight.  Not none: when the client reads a reply while mmapd sends
 * the next, that one's charge is measured short, and mmapd counts one
 * grant more unread until the client has read it (about 1 run in 7 has
 * a refusal).  Before, mmapd counted the grants read only once the
 * socket was empty, never while 8 are in flight: some 230 of the 2000
 * were refused, and the connection read again only after 20 ms.
 */
Test(inflight, eight_in_flight_not_refused)
{
	struct pipe p = {
		.req = {
			.device = "zero", .size = 4096,
			.flags = MMAPCLIENT_SHARED | MMAPCLIENT_WRITE,
		},
		.target = 2000,
	};
	struct pollfd pf;
	int64_t t0, end, ms;
	int k, r;

	h_start(CONF_HEAD "[limits]\nrequests_in_flight = 16\n");
	p.c = h_connect();
	pf.fd = mmapclient_fd(p.c);
	pf.events = POLLIN;
	t0 = h_now_ms();
	end = t0 + 60000;
	for (k = 0; k < 8; k++) {
		cr_assert_eq(mmapclient_map_async(p.c, &p.req, pipe_mapped,
		    &p), 0, "%s", mmapclient_error(p.c));
		p.sent++;
		p.in_flight++;
	}
	while (p.err == 0 && (p.in_flight > 0 ||
	    mmapclient_in_flight(p.c) > 0)) {
		cr_assert_lt(h_now_ms(), end, "%d of %d grants in 60 s, %d "
		    "refused", p.done, p.target, p.eagain);
		if (mmapclient_pending(p.c) == 0)
			cr_assert_geq(poll(&pf, 1, H_WAIT_MS), 0);
		r = mmapclient_dispatch(p.c);
		cr_assert_geq(r, 0, "dispatch: %s", mmapclient_error(p.c));
	}
	ms = h_now_ms() - t0;
	cr_assert_eq(p.err, 0, "%s", strerror(-p.err));
	cr_log_info("%d grants with 8 in flight in %lld ms, %d Maps refused "
	    "with EAGAIN", p.done, (long long)ms, p.eagain);
	printf("inflight: %d grants with 8 in flight in %lld ms, %d Maps "
	    "refused with EAGAIN\n", p.done, (long long)ms, p.eagain);
	cr_assert_eq(p.done, p.target);
	cr_assert_leq(p.eagain, p.target / 100, "%d of %d Maps refused for "
	    "grants in flight", p.eagain, p.done + p.eagain);
	cr_assert_eq(h_log_count("errno=EAGAIN"), p.eagain);
	cr_assert_eq(h_leases_wait_on(p.c, 0), 0);
	mmapclient_close(p.c);
	h_stop();
}
