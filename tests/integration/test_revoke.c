/*
 * Revocation against a real mmapd: a Revoke by root (by lease, uid,
 * region; mmapctl revoke), refused to others and allowed to
 * admin_group; a reload that takes access away or drops the entry; a
 * lease's lifetime ([zero] and [shm]); the Revoking event a client that
 * asked for events receives, and its Release in time; what
 * on_revoke = log keeps and lists; shared memory left to its other
 * holders; 600 leases revoked at once, for a client that reads every
 * event and for one that never reads, which must not slow another; and
 * mmapclient_list@MMAPCLIENT_0.3's layout.
 *
 * revoke.kill_needs_monitor asserts that on_revoke = kill kills the
 * holder: it passes only with the privileged monitor (branch monitor),
 * which makes privsep_kill_send() real.  Until then it fails, and so does
 * this binary, on that assertion alone.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"
#include "wire.h"

TestSuite(revoke, .fini = h_cleanup, .timeout = 60);

/* Everyone may map zero; a revoked holder has 1 s to release. */
#define CONF_ZERO \
	"[zero]\n" \
	"users = *\n" \
	"revoke_seconds = 1\n"

static void
hello_events(int fd, int events)
{
	Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Hello h = MMAPD__V1__HELLO__INIT;
	Reply *r;

	h.protocol_major = 1;
	h.client_name = (char *)"revoke-test";
	h.events = events;
	req.request_id = 1;
	req.body_case = MMAPD__V1__REQUEST__BODY_HELLO;
	req.hello = &h;
	r = raw_call(fd, &req, NULL);
	cr_assert_eq(r->error, 0, "Hello: %s", r->message);
	reply_free(r);
}

/* A private zero lease on fd; its id. */
static uint64_t
map_zero(int fd, uint64_t id, const char *region)
{
	Reply *r;
	uint64_t lease;
	int rfd = -1;

	r = raw_map(fd, id, "zero", 0, 65536, region != NULL, 1, region,
	    &rfd);
	cr_assert_eq(r->error, 0, "Map: %d %s", r->error, r->message);
	cr_assert_eq(r->body_case, MMAPD__V1__REPLY__BODY_GRANT);
	lease = r->grant->lease_id;
	reply_free(r);
	if (rfd >= 0)
		close(rfd);
	return lease;
}

static Reply *
raw_release(int fd, uint64_t id, uint64_t lease)
{
	Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Release rel = MMAPD__V1__RELEASE__INIT;

	rel.lease_id = lease;
	req.request_id = id;
	req.body_case = MMAPD__V1__REQUEST__BODY_RELEASE;
	req.release = &rel;
	return raw_call(fd, &req, NULL);
}

static Reply *
raw_revoke_uid(int fd, uint64_t id, uid_t uid)
{
	Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Revoke rv = MMAPD__V1__REVOKE__INIT;

	rv.by_uid = 1;
	rv.uid = uid;
	req.request_id = id;
	req.body_case = MMAPD__V1__REQUEST__BODY_REVOKE;
	req.revoke = &rv;
	return raw_call(fd, &req, NULL);
}

/* Root's Revoke through the library; the count, or the -errno. */
static int
revoke_as_root(const struct mmapclient_revoke_what *w)
{
	struct mmapclient *c = h_connect();
	int n = mmapclient_revoke(c, w);

	mmapclient_close(c);
	return n;
}

/* What root's List says of a lease. */
struct seen {
	enum mmapclient_lease_state state;
	int64_t deadline_unix_sec;
	char reason[128];
};

/* The lease as root's List shows it; fails the test when it is gone. */
static struct seen
listed(uint64_t id)
{
	struct mmapclient *c = h_connect();
	struct mmapclient_lease *v = NULL;
	struct seen out = { .state = -1 };
	size_t n = 0, i;
	int err, found = 0;

	err = mmapclient_list(c, &v, &n);
	cr_assert_eq(err, 0, "list: %s", mmapclient_error(c));
	mmapclient_close(c);
	for (i = 0; i < n; i++) {
		if (v[i].id != id)
			continue;
		out.state = v[i].state;
		out.deadline_unix_sec = v[i].deadline_unix_sec;
		snprintf(out.reason, sizeof(out.reason), "%s",
		    v[i].revoke_reason);
		found = 1;
	}
	mmapclient_leases_free(v);
	cr_assert(found, "lease %llu is not listed", (unsigned long long)id);
	return out;
}

/* Whether root's List shows lease id at all. */
static int
is_listed(uint64_t id)
{
	struct mmapclient *c = h_connect();
	struct mmapclient_lease *v = NULL;
	size_t n = 0, i;
	int found = 0;

	cr_assert_eq(mmapclient_list(c, &v, &n), 0, "list: %s",
	    mmapclient_error(c));
	mmapclient_close(c);
	for (i = 0; i < n; i++)
		found |= v[i].id == id;
	mmapclient_leases_free(v);
	return found;
}

static char *
lease_f(uint64_t id)
{
	static char buf[4][32];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "lease=%llu ",
	    (unsigned long long)id);
	return buf[k];
}

/*
 * A client that asked for events is told: the Revoking event carries
 * its lease, the reason, the grace and the deadline; it releases in
 * time, which the audit says, and nothing is enforced.
 */
Test(revoke, cooperative_client_is_told_and_releases)
{
	struct mmapclient_revoke_what w = { .reason = "maintenance window" };
	Mmapd__V1__Revoking *ev;
	struct seen l;
	Reply *r;
	uint64_t lease;
	int64_t ev_deadline;
	time_t before;
	int fd;

	h_start(CONF_ZERO);
	fd = raw_connect_as(H_NOBODY, H_NOBODY);
	hello_events(fd, 1);
	lease = map_zero(fd, 2, NULL);

	before = time(NULL);
	w.lease_id = lease;
	cr_assert_eq(revoke_as_root(&w), 1);

	r = raw_recv(fd, NULL, NULL);
	cr_assert_not_null(r, "the daemon closed the connection");
	cr_assert_eq(r->request_id, 0, "an event has request id 0");
	cr_assert_eq(r->error, 0);
	cr_assert_eq(r->body_case, MMAPD__V1__REPLY__BODY_EVENT);
	cr_assert_eq(r->event->kind_case, MMAPD__V1__EVENT__KIND_REVOKING);
	ev = r->event->revoking;
	cr_assert_eq(ev->lease_id, lease);
	cr_assert_str_eq(ev->reason, "maintenance window");
	cr_assert_eq(ev->seconds, 1);
	cr_assert(ev->deadline_unix_sec >= before + 1 &&
	    ev->deadline_unix_sec <= time(NULL) + 1, "deadline %lld, "
	    "revoked at %lld", (long long)ev->deadline_unix_sec,
	    (long long)before);
	cr_assert_eq(ev->enforce, MMAPD__V1__REVOKE_ENFORCE__ENFORCE_LOG,
	    "zero defaults to on_revoke = log");
	ev_deadline = ev->deadline_unix_sec;
	reply_free(r);

	/* Listed as revoking, with its deadline and reason. */
	l = listed(lease);
	cr_assert_eq(l.state, MMAPCLIENT_LEASE_REVOKING);
	cr_assert_str_eq(l.reason, "maintenance window");
	cr_assert_eq(l.deadline_unix_sec, ev_deadline);

	r = raw_release(fd, 3, lease);
	cr_assert_eq(r->error, 0, "Release: %s", r->message);
	reply_free(r);
	h_log_expect("event=revoke ", lease_f(lease), "by=revoke",
	    "reason=\"maintenance window\"", "seconds=1", "on_revoke=log");
	h_log_expect("event=revoke-notify ", lease_f(lease), "result=ok");
	h_log_expect("event=release ", lease_f(lease), "reason=request",
	    "revoke=revoking");
	cr_assert_not(is_listed(lease));
	/* Past the deadline nothing is enforced: the lease was released. */
	h_sleep_ms(1500);
	cr_assert_eq(h_log_count("event=revoke-expired"), 0);
	cr_assert_eq(h_log_count("event=revoke-kill"), 0);
	close(fd);
	h_stop();
}

/*
 * A client that does not release under on_revoke = log: at the deadline
 * the lease is kept, listed as revoked, and audited revoke-expired; a
 * client that did not ask for events is sent none.  mmapctl list says
 * so.
 */
Test(revoke, uncooperative_client_under_log_is_marked)
{
	struct mmapclient_revoke_what w = { .lease_id = 0 };
	struct seen l;
	struct ctl c;
	uint64_t lease;
	int fd;

	h_start(CONF_ZERO "on_revoke = log\n");
	fd = raw_connect_as(H_NOBODY, H_NOBODY);
	hello_events(fd, 0);
	lease = map_zero(fd, 2, NULL);
	w.lease_id = lease;
	cr_assert_eq(revoke_as_root(&w), 1);
	h_log_expect("event=revoke-notify ", lease_f(lease), "result=skipped",
	    "Hello.events");

	ctl_run(&c, CTL_ROOT, "list");
	cr_assert_eq(c.status, 0, "%s", c.err);
	cr_assert(strstr(c.out, " revoking ") != NULL &&
	    strstr(c.out, "revoking until ") != NULL &&
	    strstr(c.out, ": revoked by root (uid 0)\n") != NULL, "%s", c.out);
	ctl_free(&c);

	cr_assert_eq(h_log_wait(1, "event=revoke-expired ", lease_f(lease),
	    "on_revoke=log"), 1, "no revoke-expired line within %d ms",
	    H_WAIT_MS);
	l = listed(lease);
	cr_assert_eq(l.state, MMAPCLIENT_LEASE_REVOKED);
	cr_assert_str_eq(l.reason, "revoked by root (uid 0)");
	ctl_run(&c, CTL_ROOT, "--json", "list");
	cr_assert(strstr(c.out, "\"state\":\"revoked\"") != NULL, "%s", c.out);
	ctl_free(&c);

	/* No event ever came: the socket holds nothing. */
	cr_assert_eq(recv(fd, &c, 1, MSG_DONTWAIT), -1);
	cr_assert_eq(errno, EAGAIN);
	close(fd);
	/* Its end releases it, saying it had been revoked. */
	h_log_wait(1, "event=release ", lease_f(lease), "revoke=revoked");
	h_stop();
}

/*
 * on_revoke = kill: a holder that does not release dies of SIGKILL at
 * the deadline.  The privileged monitor sends it; without the monitor
 * (privsep_kill_send() is -ENOSYS) this fails, and the daemon logs
 * revoke-kill result=failed errno=ENOSYS and keeps the lease as
 * revoked, which the first asserts check.
 */
Test(revoke, kill_needs_monitor)
{
	struct mmapclient_revoke_what w = { .lease_id = 0 };
	uint64_t lease = 0;
	char said[1024], *line;
	int status;
	pid_t pid;

	h_start(CONF_ZERO "on_revoke = kill\n");
	pid = h_holder(&lease, 1, 65536, 1);
	w.lease_id = lease;
	w.reason = "stop";
	cr_assert_eq(revoke_as_root(&w), 1);
	h_log_expect("event=revoke ", lease_f(lease), "on_revoke=kill");
	cr_assert_eq(h_log_wait(1, "event=revoke-kill ", lease_f(lease)), 1,
	    "no revoke-kill line within %d ms", H_WAIT_MS);
	status = h_wait(pid, H_WAIT_MS);
	line = h_log_line("event=revoke-kill");
	snprintf(said, sizeof(said), "%s", line != NULL ? line : "");
	free(line);
	cr_assert(status != -1, "the holder is alive %d ms after its "
	    "deadline; the log says: %s", H_WAIT_MS, said);
	h_untrack(pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	    "the holder ended with status %#x, not SIGKILL", status);
	h_log_expect("event=revoke-kill ", lease_f(lease), "result=ok");
	/* Its connection's end released the lease. */
	cr_assert_eq(h_log_wait(1, "event=release ", lease_f(lease)), 1);
	h_stop();
}

/*
 * A reload whose policy no longer lets uid 65534 map zero revokes its
 * lease, and only its: root's stays held.
 */
Test(revoke, reload_that_removes_access_revokes)
{
	struct mmapclient_region *root_r = NULL;
	struct mmapclient_request req = { .device = "zero", .size = 4096 };
	struct mmapclient *rc;
	struct seen l;
	uint64_t lease;
	int fd;

	h_start("[zero]\nusers = root, 65534\nrevoke_seconds = 1\n");
	fd = raw_connect_as(H_NOBODY, H_NOBODY);
	hello_events(fd, 0);
	lease = map_zero(fd, 2, NULL);
	rc = h_connect();
	cr_assert_eq(mmapclient_map(rc, &req, &root_r), 0, "%s",
	    mmapclient_error(rc));

	h_rewrite_conf("[zero]\nusers = root\nrevoke_seconds = 1\n");
	h_signal(SIGHUP);
	cr_assert_eq(h_log_wait(1, "event=revoke ", lease_f(lease),
	    "by=reload", "not in the entry's users"), 1,
	    "the reload revoked nothing");
	cr_assert_eq(h_log_count("event=revoke ", "by=reload"), 1,
	    "root's lease was revoked too");
	cr_assert_eq(h_log_wait(1, "event=revoke-expired ", lease_f(lease)),
	    1);
	l = listed(lease);
	cr_assert_eq(l.state, MMAPCLIENT_LEASE_REVOKED);
	cr_assert(strstr(l.reason, "policy reload") != NULL, "%s", l.reason);
	cr_assert_eq(listed(root_r->lease_id).state, MMAPCLIENT_LEASE_HELD);
	/* A new Map is refused, as the policy says. */
	{
		Reply *r = raw_map(fd, 3, "zero", 0, 4096, 0, 1, NULL, NULL);

		cr_assert_eq(r->error, EPERM, "Map after reload: %d", r->error);
		reply_free(r);
	}
	mmapclient_release(rc, root_r);
	mmapclient_close(rc);
	close(fd);
	h_stop();
}

/* max_lease_seconds: the lease is revoked when its lifetime runs out. */
Test(revoke, lifetime_expires)
{
	uint64_t lease;
	int64_t t0;
	int fd;
	Reply *r;

	h_start(CONF_ZERO "max_lease_seconds = 1\n");
	fd = raw_connect_as(H_NOBODY, H_NOBODY);
	hello_events(fd, 1);
	t0 = h_now_ms();
	lease = map_zero(fd, 2, NULL);
	r = raw_recv(fd, NULL, NULL);
	cr_assert_not_null(r);
	cr_assert_eq(r->body_case, MMAPD__V1__REPLY__BODY_EVENT);
	cr_assert_eq(r->event->revoking->lease_id, lease);
	cr_assert(strstr(r->event->revoking->reason, "max_lease_seconds = 1")
	    != NULL, "%s", r->event->revoking->reason);
	/* Not before its second, and not long after (a loaded machine). */
	cr_assert_geq(h_now_ms() - t0, 900);
	cr_assert_leq(h_now_ms() - t0, 4000);
	reply_free(r);
	h_log_expect("event=revoke ", lease_f(lease), "by=lifetime");
	cr_assert_eq(h_log_wait(1, "event=revoke-expired ", lease_f(lease)),
	    1);
	cr_assert_eq(listed(lease).state, MMAPCLIENT_LEASE_REVOKED);
	close(fd);
	h_stop();
}

/*
 * mmapctl revoke --uid and --region: the count, and only what was
 * named.  A lease id that does not exist: ENOENT.
 */
Test(revoke, mmapctl_by_uid_and_region)
{
	struct ctl c;
	uint64_t a, b, other;
	int fd, fd2;

	h_start(CONF_ZERO);
	fd = raw_connect_as(H_NOBODY, H_NOBODY);
	hello_events(fd, 0);
	a = map_zero(fd, 2, NULL);
	b = map_zero(fd, 3, "cam0");
	fd2 = raw_connect_as(H_OTHER, H_OTHER);
	hello_events(fd2, 0);
	other = map_zero(fd2, 2, NULL);

	ctl_run(&c, CTL_ROOT, "revoke", "--region", "cam0", "--reason",
	    "camera swap");
	cr_assert_eq(c.status, 0, "%s", c.err);
	cr_assert_str_eq(c.out, "revoking 1 lease\n");
	ctl_free(&c);
	cr_assert_eq(listed(b).state, MMAPCLIENT_LEASE_REVOKING);
	cr_assert_eq(listed(a).state, MMAPCLIENT_LEASE_HELD);
	cr_assert_str_eq(listed(b).reason, "camera swap");

	/* Both of 65534's, b again (its deadline kept); not H_OTHER's. */
	ctl_run(&c, CTL_ROOT, "--json", "revoke", "--uid", "65534");
	cr_assert_eq(c.status, 0, "%s", c.err);
	cr_assert_str_eq(c.out, "{\"command\":\"revoke\",\"leases\":2}\n");
	ctl_free(&c);
	cr_assert_eq(listed(a).state, MMAPCLIENT_LEASE_REVOKING);
	cr_assert_eq(listed(other).state, MMAPCLIENT_LEASE_HELD);
	cr_assert_eq(h_log_count("event=revoke ", lease_f(b)), 1,
	    "a lease already revoking was revoked again");

	ctl_run(&c, CTL_ROOT, "revoke", "999");
	cr_assert_eq(c.status, 1);
	cr_assert(strstr(c.err, "ENOENT") != NULL &&
	    strstr(c.err, "no lease matches lease=999") != NULL, "%s", c.err);
	ctl_free(&c);
	ctl_run(&c, CTL_ROOT, "revoke", "--uid", "0", "--region", "zero");
	cr_assert_eq(c.status, 2, "two selectors are a usage error");
	ctl_free(&c);
	close(fd);
	close(fd2);
	h_stop();
}

/*
 * Revoke is for root and admin_group: uid 65534 is refused with EPERM
 * and nothing changes; the same uid in admin_group may.
 */
Test(revoke, non_admin_refused)
{
	struct ctl c;
	uint64_t lease;
	gid_t admin = 4242;
	Reply *r;
	int fd, afd;

	ctl_need_nobody();
	h_start(CONF_ZERO "[limits]\nadmin_group = 4242\n");
	fd = raw_connect_as(H_OTHER, H_OTHER);
	hello_events(fd, 0);
	lease = map_zero(fd, 2, NULL);

	ctl_run(&c, CTL_NOBODY, "revoke", "--uid", "65533");
	cr_assert_eq(c.status, 1, "%s", c.err);
	cr_assert(strstr(c.err, "EPERM") != NULL &&
	    strstr(c.err, "admin_group (gid 4242)") != NULL, "%s", c.err);
	ctl_free(&c);
	h_log_expect("event=deny op=revoke", "uid=65534 ", "errno=EPERM");
	cr_assert_eq(h_log_count("event=revoke "), 0);
	cr_assert_eq(listed(lease).state, MMAPCLIENT_LEASE_HELD);

	afd = raw_connect_as_groups(H_NOBODY, H_NOBODY, &admin, 1);
	hello_events(afd, 0);
	r = raw_revoke_uid(afd, 2, H_OTHER);
	cr_assert_eq(r->error, 0, "admin_group's Revoke: %s", r->message);
	cr_assert_eq(r->body_case, MMAPD__V1__REPLY__BODY_REVOKE);
	cr_assert_eq(r->revoke->leases, 1);
	reply_free(r);
	h_log_expect("event=revoke ", lease_f(lease), "by_uid=65534");
	close(afd);
	close(fd);
	h_stop();
}

/*
 * More leases than the daemon's socket buffer holds events for (some
 * 200 small packets), so that the queue's bound is reached.
 */
#define MANY		600
#define MANY_LIMITS	"[limits]\nleases_per_uid = 1024\n"

/* A one-page private zero lease, its fd closed; its id. */
static uint64_t
map_small(int fd, uint64_t id)
{
	Reply *r;
	uint64_t lease;
	int rfd = -1;

	r = raw_map(fd, id, "zero", 0, 4096, 0, 0, NULL, &rfd);
	cr_assert_eq(r->error, 0, "Map %llu: %s", (unsigned long long)id,
	    r->message);
	lease = r->grant->lease_id;
	reply_free(r);
	close(rfd);
	return lease;
}

/*
 * A client that asked for events and never reads its socket has many
 * leases revoked at once: the daemon queues a few events, skips the
 * rest (the deadlines still apply), and another client's requests are
 * answered as fast as before.
 */
Test(revoke, unread_events_do_not_stall_others)
{
	struct mmapclient_status *st;
	struct mmapclient *c;
	int64_t t, worst = 0;
	Reply *r;
	int fd, admin, i, n = MANY, sent, skipped;

	h_start(CONF_ZERO MANY_LIMITS);
	fd = raw_connect_as(H_NOBODY, H_NOBODY);
	hello_events(fd, 1);
	for (i = 0; i < n; i++)
		map_small(fd, (uint64_t)i + 2);
	/* From here fd is never read. */
	admin = raw_connect();
	hello_events(admin, 0);
	r = raw_revoke_uid(admin, 2, H_NOBODY);
	cr_assert_eq(r->error, 0, "%s", r->message);
	cr_assert_eq(r->revoke->leases, (uint32_t)n);
	reply_free(r);

	c = h_connect();
	for (i = 0; i < 20; i++) {
		t = h_now_ms();
		cr_assert_eq(mmapclient_status(c, &st), 0, "%s",
		    mmapclient_error(c));
		mmapclient_status_free(st);
		t = h_now_ms() - t;
		if (t > worst)
			worst = t;
	}
	fprintf(stderr, "revoke: worst of 20 Status round trips while %d "
	    "events were unread: %lld ms\n", n, (long long)worst);
	cr_assert_lt(worst, 1000, "a Status took %lld ms while another "
	    "client's events were unread", (long long)worst);
	/* The deadlines hold for every lease, told or not. */
	cr_assert_eq(h_log_wait(n, "event=revoke-expired "), n);
	/*
	 * What the socket and the queue took went; the rest were skipped
	 * at the deadline, each logged: every lease's event is accounted.
	 */
	sent = h_log_count("event=revoke-notify ", "result=ok");
	skipped = h_log_count("event=revoke-notify ", "result=skipped",
	    "errno=ENOBUFS");
	fprintf(stderr, "revoke: %d events sent, %d skipped\n", sent,
	    skipped);
	cr_assert_gt(skipped, 0, "no event was skipped: the socket took %d",
	    n);
	cr_assert_eq(sent + skipped, n);
	mmapclient_close(c);
	close(admin);
	close(fd);
	h_stop();
}

/*
 * A program built against libmmapclient 0.3 knows struct
 * mmapclient_lease without state; it is bound to
 * mmapclient_list@MMAPCLIENT_0.3, which must hand it that layout: its
 * second lease where it looks, its strings intact.
 */
struct lease_v03 {
	uint64_t id;
	uid_t uid;
	pid_t pid;
	const char *device;
	uint64_t offset;
	uint64_t size;
	int prot;
	int shared;
	int64_t created_unix_sec;
	const char *region;
	const char *client;
	const char *user;
};

int list_v03_caller(struct mmapclient *c, struct lease_v03 **out,
    size_t *n);
__asm__(".symver list_v03_caller, mmapclient_list@MMAPCLIENT_0.3");

Test(revoke, list_keeps_the_0_3_layout_for_old_programs)
{
	struct mmapclient_request req = { .device = "zero", .size = 4096 };
	struct mmapclient_region *a = NULL, *b = NULL;
	struct lease_v03 *l = NULL;
	struct mmapclient *c;
	size_t n = 0;

	h_start(CONF_ZERO);
	c = h_connect();
	cr_assert_eq(mmapclient_map(c, &req, &a), 0, "%s",
	    mmapclient_error(c));
	req.size = 12288;
	req.flags = MMAPCLIENT_SHARED | MMAPCLIENT_WRITE;
	req.region = "cam1";
	cr_assert_eq(mmapclient_map(c, &req, &b), 0, "%s",
	    mmapclient_error(c));
	cr_assert_eq(list_v03_caller(c, &l, &n), 0, "%s",
	    mmapclient_error(c));
	cr_assert_eq(n, 2);
	cr_expect_eq(l[0].id, a->lease_id);
	cr_expect_eq(l[1].id, b->lease_id);
	cr_expect_eq(l[1].size, 12288);
	cr_expect_str_eq(l[1].device, "zero");
	cr_expect_str_eq(l[1].region, "cam1");
	cr_expect_str_eq(l[1].user, "root");
	cr_expect_eq(l[1].shared, 1);
	mmapclient_leases_free((struct mmapclient_lease *)(void *)l);
	cr_assert_eq(mmapclient_release(c, a), 0);
	cr_assert_eq(mmapclient_release(c, b), 0);
	mmapclient_close(c);
	h_stop();
}

/*
 * Revoking one holder's lease of shared memory leaves the memory and
 * its other holder alone: after the first releases, the second still
 * holds it, and a third attaching sees what the second wrote.
 */
Test(revoke, shared_memory_stays_for_other_holders)
{
	struct mmapclient_revoke_what w = { .reason = "one holder" };
	uint64_t a, b;
	uint8_t *p;
	Reply *r;
	int fa, fb, fc, mfd = -1;

	h_start(CONF_ZERO);
	fa = raw_connect_as(H_NOBODY, H_NOBODY);
	fb = raw_connect_as(H_NOBODY, H_NOBODY);
	fc = raw_connect_as(H_NOBODY, H_NOBODY);
	hello_events(fa, 1);
	hello_events(fb, 1);
	hello_events(fc, 0);
	a = map_zero(fa, 2, "cam0");
	r = raw_map(fb, 2, "zero", 0, 65536, 1, 1, "cam0", &mfd);
	cr_assert_eq(r->error, 0, "%s", r->message);
	b = r->grant->lease_id;
	reply_free(r);
	p = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	cr_assert(p != MAP_FAILED, "mmap: %s", strerror(errno));

	w.lease_id = a;
	cr_assert_eq(revoke_as_root(&w), 1);
	r = raw_recv(fa, NULL, NULL);
	cr_assert_eq(r->body_case, MMAPD__V1__REPLY__BODY_EVENT);
	reply_free(r);
	r = raw_release(fa, 3, a);
	cr_assert_eq(r->error, 0);
	reply_free(r);

	memset(p, 0x5a, 65536);
	cr_assert_eq(listed(b).state, MMAPCLIENT_LEASE_HELD);
	r = raw_map(fc, 2, "zero", 0, 65536, 1, 0, "cam0", &mfd);
	cr_assert_eq(r->error, 0, "attach after a revoke: %s", r->message);
	reply_free(r);
	{
		uint8_t *q = mmap(NULL, 65536, PROT_READ, MAP_SHARED, mfd, 0);

		cr_assert(q != MAP_FAILED);
		cr_assert(h_all(q, 65536, 0x5a), "the memory was replaced");
		munmap(q, 65536);
	}
	close(mfd);
	munmap(p, 65536);
	/* No event reached b's connection. */
	cr_assert_eq(recv(fb, &w, 1, MSG_DONTWAIT), -1);
	close(fa);
	close(fb);
	close(fc);
	h_stop();
}

/* An [shm] section's max_lease_seconds: its leases only. */
Test(revoke, shm_section_lifetime)
{
	uint64_t named, plain;
	int fd;

	h_start(CONF_ZERO "[shm tick]\nsize = 64K\nwriters = 65534\n"
	    "max_lease_seconds = 1\n");
	fd = raw_connect_as(H_NOBODY, H_NOBODY);
	hello_events(fd, 0);
	named = map_zero(fd, 2, "tick");
	plain = map_zero(fd, 3, NULL);
	cr_assert_eq(h_log_wait(1, "event=revoke ", lease_f(named),
	    "by=lifetime"), 1, "the [shm] lifetime did not run out");
	h_sleep_ms(300);
	cr_assert_eq(listed(plain).state, MMAPCLIENT_LEASE_HELD);
	cr_assert_eq(h_log_count("event=revoke ", lease_f(plain)), 0);
	close(fd);
	h_stop();
}

/*
 * A client that reads its events is told of every lease revoked at
 * once, more than its socket and queue hold together, and releases
 * each in time: the events that waited for room went as it read.
 */
Test(revoke, reader_gets_every_event)
{
	static uint64_t seen[MANY];
	Reply *r;
	int fd, admin, i, got = 0, n = MANY;

	h_start("[zero]\nusers = *\nrevoke_seconds = 8\n" MANY_LIMITS);
	fd = raw_connect_as(H_NOBODY, H_NOBODY);
	hello_events(fd, 1);
	for (i = 0; i < n; i++)
		seen[i] = map_small(fd, (uint64_t)i + 2);
	admin = raw_connect();
	hello_events(admin, 0);
	r = raw_revoke_uid(admin, 2, H_NOBODY);
	cr_assert_eq(r->error, 0, "%s", r->message);
	reply_free(r);
	/* Read them all first (the daemon cannot queue them all). */
	for (got = 0; got < n; got++) {
		r = raw_recv(fd, NULL, NULL);
		cr_assert_not_null(r, "closed after %d events", got);
		cr_assert_eq(r->body_case, MMAPD__V1__REPLY__BODY_EVENT);
		for (i = 0; i < n; i++)
			if (seen[i] == r->event->revoking->lease_id)
				seen[i] = 0;
		reply_free(r);
	}
	for (i = 0; i < n; i++)
		cr_assert_eq(seen[i], 0, "no event for lease %d", i + 1);
	for (i = 0; i < n; i++) {
		r = raw_release(fd, 100 + (uint64_t)i, (uint64_t)i + 1);
		cr_assert_eq(r->error, 0, "Release %d: %s", i + 1, r->message);
		reply_free(r);
	}
	cr_assert_eq(h_log_count("event=release ", "revoke=revoking"), n);
	cr_assert_eq(h_log_count("event=revoke-notify ", "result=ok"), n);
	cr_assert_gt(h_log_count("event=revoke-notify ", "deferred=1"), 0,
	    "no event waited for room: the socket took all %d", n);
	cr_assert_eq(h_log_count("event=revoke-notify ", "result=skipped"),
	    0);
	cr_assert_eq(h_log_count("event=revoke-expired"), 0);
	close(admin);
	close(fd);
	h_stop();
}

/*
 * A reload whose policy drops the entry altogether: its leases are
 * revoked with the grace and on_revoke their entry had when granted.
 */
Test(revoke, reload_that_removes_the_entry_revokes)
{
	uint64_t lease;
	int fd;

	h_start("[zero]\nusers = *\nrevoke_seconds = 1\non_revoke = log\n");
	fd = raw_connect_as(H_NOBODY, H_NOBODY);
	hello_events(fd, 0);
	lease = map_zero(fd, 2, NULL);
	h_rewrite_conf("[limits]\nidle_seconds = 60\n");
	h_signal(SIGHUP);
	cr_assert_eq(h_log_wait(1, "event=revoke ", lease_f(lease),
	    "by=reload", "no longer offers zero", "seconds=1",
	    "on_revoke=log"), 1, "the reload revoked nothing");
	cr_assert_eq(h_log_wait(1, "event=revoke-expired ", lease_f(lease)),
	    1);
	cr_assert_eq(listed(lease).state, MMAPCLIENT_LEASE_REVOKED);
	close(fd);
	h_stop();
}
