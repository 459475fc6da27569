/*
 * The daemon's life: Hello, Status and List; SIGHUP with a good and a
 * broken file; SIGTERM and SIGINT with leases held; the socket file (a
 * stale one replaced, a live one not stolen); --check-config and a
 * missing -c file.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

#define KIB	1024ull
#define MIB	(1024ull * 1024)

TestSuite(lifecycle, .fini = h_cleanup, .timeout = 30);

static struct mmapclient_status *
status(struct mmapclient *c)
{
	struct mmapclient_status *st = NULL;
	int err;

	err = mmapclient_status(c, &st);
	cr_assert_eq(err, 0, "status: %s (%s)", strerror(-err),
	    mmapclient_error(c));
	return st;
}

/* The offers as "name:kind name:kind ...". */
static void
offers_text(const struct mmapclient_status *st, char *buf, size_t len)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < st->n_offers && n + 1 < len; i++) {
		snprintf(buf + n, len - n, "%s%s:%s", i ? " " : "",
		    st->offers[i].name,
		    st->offers[i].kind == MMAPCLIENT_OFFER_REGION ?
		    "region" : "device");
		n = strlen(buf);
	}
}

static void
expect_offers(struct mmapclient *c, const char *want)
{
	struct mmapclient_status *st = status(c);
	char got[512];

	offers_text(st, got, sizeof(got));
	mmapclient_status_free(st);
	cr_assert_str_eq(got, want, "Status offers \"%s\", not \"%s\"", got,
	    want);
}

static struct mmapclient_region *
map_ok(struct mmapclient *c, const char *dev, uint64_t offset, uint64_t size,
    unsigned int flags)
{
	struct mmapclient_request req = {
		.device = dev, .offset = offset, .size = size, .flags = flags,
	};
	struct mmapclient_region *r = NULL;
	int err;

	err = mmapclient_map(c, &req, &r);
	cr_assert_eq(err, 0, "map %s: %s (%s)", dev, strerror(-err),
	    mmapclient_error(c));
	return r;
}

static int
map_err(struct mmapclient *c, const char *dev, uint64_t offset,
    uint64_t size, unsigned int flags)
{
	struct mmapclient_request req = {
		.device = dev, .offset = offset, .size = size, .flags = flags,
	};
	struct mmapclient_region *r = NULL;
	int err;

	err = mmapclient_map(c, &req, &r);
	if (err == 0)
		mmapclient_release(c, r);
	return err;
}

/* ----------------------------------------------------------------------
 * Hello, Status, List
 * ---------------------------------------------------------------------- */

Test(lifecycle, hello_and_status_on_the_default_policy)
{
	struct mmapclient_status *st;
	struct mmapclient_region *a, *b;
	struct mmapclient *c, *c2;
	int fd;
	Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Hello h = MMAPD__V1__HELLO__INIT;
	struct stat sb;
	Reply *r;
	size_t i;
	int zero = 0;
	int64_t t0;

	t0 = h_now_ms();
	h_start(NULL);
	if (access(h_default_conf_path(), F_OK) != 0)
		h_log_expect("does not exist: using the built-in policy");
	/* The built-in socket mode: anyone may connect. */
	cr_assert_eq(stat(h_sock(), &sb), 0);
	cr_expect_eq(sb.st_mode & 07777, 0666, "socket mode %o",
	    (unsigned)(sb.st_mode & 07777));

	fd = raw_connect();
	h.protocol_major = 1;
	h.client_name = (char *)"lifecycle";
	req.request_id = 77;
	req.body_case = MMAPD__V1__REQUEST__BODY_HELLO;
	req.hello = &h;
	r = raw_call(fd, &req, NULL);
	cr_assert_eq(r->error, 0, "%s", r->message);
	cr_assert_eq(r->body_case, MMAPD__V1__REPLY__BODY_HELLO);
	cr_expect_str_eq(r->hello->server_version, PACKAGE_VERSION);
	cr_expect_eq(r->hello->protocol_major, 1);
	cr_expect_eq(r->hello->protocol_minor, 0);
	for (i = 0; i < r->hello->n_features; i++)
		zero |= strcmp(r->hello->features[i], "zero") == 0;
	cr_expect(zero, "Hello's features do not name zero");
	reply_free(r);
	close(fd);

	c = h_connect();
	cr_assert_eq(h_clients_wait_on(c, 1), 1, "clients: only this one");
	st = status(c);
	cr_expect_str_eq(st->version, PACKAGE_VERSION);
	/*
	 * The daemon's uptime, not the machine's nor a stale one: no longer
	 * than since this test started it, however slow the machine (whole
	 * seconds of time(NULL) apart: one more for the boundaries).
	 */
	cr_expect(st->uptime_sec <= (uint64_t)(h_now_ms() - t0 + 999) / 1000 +
	    1, "uptime %llu s, started %lld ms ago",
	    (unsigned long long)st->uptime_sec, (long long)(h_now_ms() - t0));
	cr_expect_eq(st->leases, 0);
	mmapclient_status_free(st);
	expect_offers(c, "zero:device");

	a = map_ok(c, "zero", 0, 64 * KIB, MMAPCLIENT_WRITE);
	b = map_ok(c, "zero", 0, 64 * KIB, MMAPCLIENT_WRITE | MMAPCLIENT_SHARED);
	c2 = h_connect();
	st = status(c2);
	cr_expect_eq(st->leases, 2);
	cr_expect_eq(st->clients, 2);
	mmapclient_status_free(st);
	mmapclient_close(c2);
	cr_assert_eq(h_clients_wait_on(c, 1), 1);

	cr_assert_eq(mmapclient_release(c, a), 0);
	cr_assert_eq(mmapclient_release(c, b), 0);
	st = status(c);
	cr_expect_eq(st->leases, 0);
	mmapclient_status_free(st);
	mmapclient_close(c);
	h_stop();
}

Test(lifecycle, status_offers_in_configuration_order)
{
	struct mmapclient *c;
	char conf[1024];

	snprintf(conf, sizeof(conf),
	    "[zero]\nusers = *\n\n"
	    "[region edu]\ndevice = mem\nbase = 0xfe900000\nsize = 1M\n"
	    "users = root\nraw_fd_users = root\n\n"
	    "# A seam: a sparse file stands in for /dev/mem.\n"
	    "[mem]\npath = %s\niomem = %s\nusers = root\nraw_fd_users = root\nmax_size = 1M\n\n"
	    "[region ivshmem]\ndevice = mem\nbase = 0xfe800000\nsize = 1M\n"
	    "users = root\nraw_fd_users = root\n",
	    h_sparse("devmem", 8ull << 30), h_data("iomem-q35.txt"));
	h_start(conf);
	c = h_connect();
	expect_offers(c, "zero:device edu:region mem:device ivshmem:region");
	mmapclient_close(c);
	h_stop();
}

Test(lifecycle, list_own_leases_root_sees_all)
{
	struct mmapclient_lease *l = NULL;
	struct mmapclient_region *a;
	struct mmapclient *c;
	struct ctl_bg holder;
	struct ctl r;
	size_t n = 0, i;
	int seen_root = 0, seen_nobody = 0;

	ctl_need_nobody();
	h_start("[daemon]\nsocket_mode = 0666\n\n[zero]\nusers = *\n");
	c = h_connect();
	a = map_ok(c, "zero", 0, 64 * KIB, MMAPCLIENT_WRITE | MMAPCLIENT_SHARED);

	ctl_spawn(&holder, CTL_NOBODY, "map", "--dev", "zero", "--size", "8K",
	    "--hold");
	ctl_bg_wait(&holder, "holding lease");

	/* uid 65534 sees its own lease (from another connection) only. */
	ctl_run(&r, CTL_NOBODY, "--json", "list");
	cr_assert_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.out, "\"uid\":65534") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "\"uid\":0,") == NULL,
	    "uid 65534 sees root's lease:\n%s", r.out);
	cr_expect(strstr(r.out, "\"size\":8192") != NULL, "%s", r.out);
	ctl_free(&r);

	/* Root sees both. */
	cr_assert_eq(mmapclient_list(c, &l, &n), 0, "%s", mmapclient_error(c));
	cr_assert_eq(n, 2, "root's List shows %zu leases", n);
	for (i = 0; i < n; i++) {
		if (l[i].uid == 0) {
			seen_root = 1;
			cr_expect_eq(l[i].id, a->lease_id);
			cr_expect_eq(l[i].pid, getpid());
		} else if (l[i].uid == H_NOBODY) {
			seen_nobody = 1;
			cr_expect_eq(l[i].pid, holder.pid, "pid %d, not the "
			    "holder's %d", (int)l[i].pid, (int)holder.pid);
			cr_expect_eq(l[i].size, 8 * KIB);
			cr_expect_eq(l[i].shared, 0);
		}
	}
	cr_assert(l[0].id < l[1].id, "List is not in id order");
	cr_assert(seen_root && seen_nobody);
	mmapclient_leases_free(l);

	ctl_run(&r, CTL_ROOT, "list");
	cr_assert_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.out, "65534") != NULL, "%s", r.out);
	ctl_free(&r);

	ctl_bg_stop(&holder, SIGTERM, &r);
	cr_assert_eq(r.status, 0, "holder exit %d:\n%s%s", r.status, r.out,
	    r.err);
	ctl_free(&r);
	cr_assert_eq(mmapclient_list(c, &l, &n), 0);
	cr_assert_eq(n, 1);
	mmapclient_leases_free(l);
	cr_assert_eq(mmapclient_release(c, a), 0);
	mmapclient_close(c);
	h_stop();
}

/* A List reply holds one packet: more comes in pages, all in id order. */
Test(lifecycle, list_in_pages)
{
	struct mmapclient_region *r[30];
	struct mmapclient_lease *l = NULL;
	struct mmapclient *c;
	Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__List lr = MMAPD__V1__LIST__INIT;
	Reply *rep;
	size_t n = 0, i, total = 0;
	uint64_t after = 0;
	int fd, pages = 0, more;

	h_start(NULL);
	c = h_connect();
	for (i = 0; i < 30; i++)
		r[i] = map_ok(c, "zero", 0, 4 * KIB, MMAPCLIENT_WRITE);
	cr_assert_eq(mmapclient_list(c, &l, &n), 0, "%s", mmapclient_error(c));
	cr_assert_eq(n, 30);
	for (i = 0; i < n; i++)
		cr_assert_eq(l[i].id, r[i]->lease_id);
	mmapclient_leases_free(l);

	fd = raw_connect();
	raw_hello(fd);
	req.body_case = MMAPD__V1__REQUEST__BODY_LIST;
	req.list = &lr;
	do {
		lr.after_id = after;
		req.request_id = 100 + (uint64_t)pages;
		rep = raw_call(fd, &req, NULL);
		cr_assert_eq(rep->error, 0, "%s", rep->message);
		cr_assert_eq(rep->body_case, MMAPD__V1__REPLY__BODY_LIST);
		for (i = 0; i < rep->list->n_leases; i++) {
			cr_assert(rep->list->leases[i]->id > after);
			after = rep->list->leases[i]->id;
		}
		total += rep->list->n_leases;
		more = rep->list->more;
		cr_assert(!more || rep->list->n_leases > 0);
		reply_free(rep);
		pages++;
	} while (more && pages < 10);
	cr_assert_eq(total, 30);
	cr_assert(pages >= 2, "30 leases came in %d page", pages);
	close(fd);

	for (i = 0; i < 30; i++)
		cr_assert_eq(mmapclient_release(c, r[i]), 0);
	mmapclient_close(c);
	h_stop();
}

/* ----------------------------------------------------------------------
 * SIGHUP
 * ---------------------------------------------------------------------- */

static const char *
conf_with_mem(const char *zero_max, const char *more)
{
	static char buf[2048];

	snprintf(buf, sizeof(buf),
	    "[daemon]\nsocket_mode = 0666\n\n"
	    "[zero]\nusers = *\nmax_size = %s\n\n"
	    "# A seam: a sparse file stands in for /dev/mem.\n"
	    "[mem]\npath = %s\niomem = %s\nusers = root\nraw_fd_users = root\nmax_size = 1M\n"
	    "shared = yes\nprotection = rw\n\n%s",
	    zero_max, h_path("devmem"), h_data("iomem-q35.txt"),
	    more ? more : "");
	return buf;
}

Test(lifecycle, sighup_reloads_a_good_file)
{
	struct mmapclient_region *held, *r;
	struct mmapclient_lease *l = NULL;
	struct mmapclient *c;
	size_t n = 0;

	h_sparse("devmem", 8ull << 30);
	h_start(conf_with_mem("4M", NULL));
	c = h_connect();
	expect_offers(c, "zero:device mem:device");
	held = map_ok(c, "zero", 0, 2 * MIB, MMAPCLIENT_WRITE);
	cr_assert_eq(map_err(c, "edu", 0, 4 * KIB, 0), -ENODEV);

	h_rewrite_conf(conf_with_mem("1M",
	    "[region edu]\ndevice = mem\nbase = 0xfe900000\nsize = 1M\n"
	    "users = root\nraw_fd_users = root\nprotection = rw\nshared = yes\n"));
	h_signal(SIGHUP);
	cr_assert_eq(h_log_wait(1, "SIGHUP: policy reloaded"), 1,
	    "no reload in the log");

	expect_offers(c, "zero:device mem:device edu:region");
	r = map_ok(c, "edu", 0x1000, 4 * KIB,
	    MMAPCLIENT_WRITE | MMAPCLIENT_SHARED);
	cr_assert_eq(r->kind, MMAPCLIENT_KIND_DEVICE);
	cr_assert_eq(mmapclient_release(c, r), 0);
	/* The new cap is in force; the lease granted before stays. */
	cr_assert_eq(map_err(c, "zero", 0, 2 * MIB, MMAPCLIENT_WRITE), -EFBIG);
	cr_assert_eq(mmapclient_list(c, &l, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(l[0].id, held->lease_id);
	mmapclient_leases_free(l);
	cr_assert(h_all(held->addr, held->size, 0));

	cr_assert_eq(mmapclient_release(c, held), 0);
	mmapclient_close(c);
	h_stop();
}

Test(lifecycle, sighup_with_a_broken_file_keeps_the_old_policy)
{
	struct mmapclient_region *r;
	struct mmapclient *c;
	char *line;

	h_start("[daemon]\nsocket_mode = 0666\n\n[zero]\nusers = *\n"
	    "max_size = 4M\n");
	c = h_connect();
	expect_offers(c, "zero:device");

	/* Line 6 and line 8 are wrong. */
	h_rewrite_conf("[daemon]\n"			/* 1 */
	    "socket_mode = 0666\n"			/* 2 */
	    "\n"					/* 3 */
	    "[zero]\n"					/* 4 */
	    "users = *\n"				/* 5 */
	    "max_size = lots\n"				/* 6 */
	    "\n"					/* 7 */
	    "no_such_key = 1\n");			/* 8 */
	h_signal(SIGHUP);
	cr_assert_eq(h_log_wait(1, "is broken: keeping the policy"), 1,
	    "the broken file was not reported as such");
	h_log_expect("mmapd.conf:6:");
	h_log_expect("mmapd.conf:8:");
	line = h_log_line("mmapd.conf:6:");
	cr_expect(strstr(line, "max_size") != NULL || strstr(line, "lots"),
	    "the error does not say what is wrong: %s", line);
	free(line);
	cr_assert(h_alive());
	cr_assert_eq(h_log_count("SIGHUP: policy reloaded"), 0);

	/* The old policy: 4M still allowed. */
	r = map_ok(c, "zero", 0, 4 * MIB, MMAPCLIENT_WRITE);
	cr_assert_eq(mmapclient_release(c, r), 0);
	expect_offers(c, "zero:device");

	/* Mended, the file is taken. */
	h_rewrite_conf("[daemon]\nsocket_mode = 0666\n\n[zero]\nusers = *\n"
	    "max_size = 1M\n");
	h_signal(SIGHUP);
	cr_assert_eq(h_log_wait(1, "SIGHUP: policy reloaded"), 1);
	cr_assert_eq(map_err(c, "zero", 0, 4 * MIB, MMAPCLIENT_WRITE), -EFBIG);
	mmapclient_close(c);
	h_stop();
}

/* ----------------------------------------------------------------------
 * SIGTERM, SIGINT
 * ---------------------------------------------------------------------- */

Test(lifecycle, sigterm_exits_0_and_releases_leases)
{
	struct mmapclient_region *a, *b;
	struct mmapclient *c;
	struct ctl_bg holder;
	struct ctl r;
	struct mmapclient_status *st_none = NULL;
	struct pollfd p;
	int err, err2, st;

	h_start(NULL);
	c = h_connect();
	a = map_ok(c, "zero", 0, 64 * KIB, MMAPCLIENT_WRITE);
	b = map_ok(c, "zero", 0, 64 * KIB, MMAPCLIENT_WRITE | MMAPCLIENT_SHARED);
	memset(b->addr, 0x3c, b->size);
	ctl_spawn(&holder, CTL_ROOT, "map", "--dev", "zero", "--size", "16K",
	    "--shared", "--hold");
	ctl_bg_wait(&holder, "holding lease");
	cr_assert_eq(h_status_leases(), 3);

	h_stop();
	h_log_expect("SIGTERM: stopping", "releasing 3 leases");
	h_log_expect("stopped");
	cr_assert_eq(h_log_count("leases left at exit"), 0);
	h_own_socket_gone();

	/* The library's connection: closed, and it says so, stickily. */
	p = (struct pollfd){ .fd = mmapclient_fd(c), .events = POLLIN };
	cr_assert_eq(poll(&p, 1, H_WAIT_MS), 1, "the client did not see the "
	    "connection close");
	err = mmapclient_status(c, &st_none);
	cr_assert(err == -ECONNRESET || err == -EPIPE, "status after SIGTERM: "
	    "%d (%s)", err, mmapclient_error(c));
	err2 = mmapclient_status(c, &st_none);
	cr_assert_eq(err2, err, "the broken connection's error is not sticky");
	/* The memory stays the client's. */
	cr_assert(h_all(b->addr, b->size, 0x3c));

	/* mmapctl --hold sees the daemon go and says so. */
	st = h_wait(holder.pid, H_WAIT_MS);
	holder.pid = 0;
	cr_assert_neq(st, -1, "mmapctl --hold did not notice the daemon's "
	    "exit");
	r.err = h_read(holder.err);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 1,
	    "mmapctl --hold ended with status %#x", st);
	cr_expect(strstr(r.err, "closed the connection") != NULL, "%s", r.err);
	free(r.err);
	mmapclient_region_free(a);
	mmapclient_region_free(b);
	mmapclient_close(c);
}

Test(lifecycle, sigint_exits_0)
{
	struct mmapclient_region *a;
	struct mmapclient *c;

	h_start(NULL);
	c = h_connect();
	a = map_ok(c, "zero", 0, 64 * KIB, MMAPCLIENT_WRITE);
	h_stop_with(SIGINT);
	h_log_expect("SIGINT: stopping", "releasing 1 leases");
	mmapclient_region_free(a);
	mmapclient_close(c);
}

/* ----------------------------------------------------------------------
 * The socket file
 * ---------------------------------------------------------------------- */

Test(lifecycle, stale_socket_is_replaced)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct mmapclient *c;
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", h_sock());
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	cr_assert(fd >= 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);	/* the file stays, nobody listens: stale */

	h_start(NULL);
	h_log_expect("replacing a stale socket");
	c = h_connect();
	mmapclient_close(c);
	h_stop();
}

Test(lifecycle, live_socket_is_not_stolen)
{
	const char *args[] = { "-s", h_sock(), NULL };
	struct mmapclient_region *a;
	struct mmapclient *c;
	char *out = NULL;
	int st;

	h_start(NULL);
	c = h_connect();
	a = map_ok(c, "zero", 0, 4 * KIB, MMAPCLIENT_WRITE);
	st = h_run_mmapd("second.log", args, &out);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) != 0,
	    "a second mmapd on a live socket did not fail (status %#x):\n%s",
	    st, out);
	cr_expect(strstr(out, "a running mmapd serves it") != NULL, "%s", out);
	free(out);

	/* The first one still serves, on the same socket file. */
	cr_assert_eq(access(h_sock(), F_OK), 0);
	cr_assert_eq(mmapclient_release(c, a), 0);
	mmapclient_close(c);
	c = h_connect();
	mmapclient_close(c);
	h_stop();
}

Test(lifecycle, socket_path_that_is_not_a_socket)
{
	const char *file = h_write("plain", "not a socket\n");
	const char *args[] = { "-s", file, NULL };
	struct stat sb;
	char *out = NULL;
	int st;

	st = h_run_mmapd("plain.log", args, &out);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) != 0, "status %#x:\n%s",
	    st, out);
	cr_expect(strstr(out, "not a socket") != NULL, "%s", out);
	cr_assert_eq(stat(file, &sb), 0);
	cr_assert(S_ISREG(sb.st_mode), "the file was replaced");
	free(out);
}

/* ----------------------------------------------------------------------
 * Configuration files
 * ---------------------------------------------------------------------- */

Test(lifecycle, check_config)
{
	const char *good = h_write("good.conf",
	    "[zero]\nusers = *\n\n[region edu]\ndevice = mem\n"
	    "base = 0xfe900000\nsize = 1M\nusers = root\nraw_fd_users = root\n");
	const char *bad = h_write("bad.conf",
	    "[zero]\nusers = *\nmax_size = lots\n\n[region edu]\n"
	    "base = 0xfe900000\nsize = 1M\nusers = root\nraw_fd_users = root\n");
	const char *a1[] = { "--check-config", good, NULL };
	const char *a2[] = { "--check-config", bad, NULL };
	char *out = NULL, want[300];
	int st;

	st = h_run_mmapd("check-good.log", a1, &out);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x:\n%s",
	    st, out);
	cr_expect(strstr(out, "ok, 2 entries") != NULL, "%s", out);
	free(out);

	st = h_run_mmapd("check-bad.log", a2, &out);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %#x:\n%s",
	    st, out);
	snprintf(want, sizeof(want), "%s:3:", bad);
	cr_expect(strstr(out, want) != NULL, "no %s in:\n%s", want, out);
	/* The region lacks its device: said against its header, line 5. */
	snprintf(want, sizeof(want), "%s:5:", bad);
	cr_expect(strstr(out, want) != NULL, "no %s in:\n%s", want, out);
	free(out);
}

/* -c names a file that is not there: an error, not the built-in policy. */
Test(lifecycle, missing_config_file_is_an_error)
{
	const char *args[] = { "-c", h_path("nope.conf"), "-s", h_sock(),
	    NULL };
	char *out = NULL;
	int st;

	st = h_run_mmapd("missing.log", args, &out);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) != 0,
	    "mmapd with a missing -c file: status %#x:\n%s", st, out);
	cr_expect(strstr(out, "nope.conf") != NULL, "%s", out);
	cr_assert_eq(access(h_sock(), F_OK), -1, "a socket was made");
	free(out);
}

/* ----------------------------------------------------------------------
 * More of the same, by mmapctl and under systemd's eyes
 * ---------------------------------------------------------------------- */

Test(lifecycle, ctl_status_and_list)
{
	struct mmapclient_region *a;
	struct mmapclient *c;
	struct ctl r;
	char want[64];

	h_start(NULL);
	c = h_connect();
	a = map_ok(c, "zero", 0, 12 * KIB, MMAPCLIENT_WRITE | MMAPCLIENT_SHARED);
	cr_assert_eq(h_clients_wait_on(c, 1), 1);

	ctl_run(&r, CTL_ROOT, "--json", "status");
	cr_assert_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.out, "\"version\":\"" PACKAGE_VERSION "\"") != NULL,
	    "%s", r.out);
	cr_expect(strstr(r.out, "\"offers\":[{\"name\":\"zero\","
	    "\"kind\":\"device\",\"max_size\":67108864,\"prot\":\"rw\","
	    "\"shared\":true,\"cache\":\"cached\",\"size\":0,\"map\":true}],"
	    "\"offers_left_out\":0,") != NULL, "%s", r.out);
	/* Its own connection and ours. */
	cr_expect(strstr(r.out, "\"clients\":2") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "\"leases\":1") != NULL, "%s", r.out);
	ctl_free(&r);

	ctl_run(&r, CTL_ROOT, "status");
	cr_assert_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.out, "version: " PACKAGE_VERSION) != NULL, "%s",
	    r.out);
	cr_expect(strstr(r.out, "zero (device)") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "leases: 1") != NULL, "%s", r.out);
	ctl_free(&r);

	ctl_run(&r, CTL_ROOT, "--json", "list");
	cr_assert_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	snprintf(want, sizeof(want), "{\"id\":%llu,\"uid\":0,\"pid\":%d,",
	    (unsigned long long)a->lease_id, (int)getpid());
	cr_expect(strstr(r.out, want) != NULL, "no %s in:\n%s", want, r.out);
	cr_expect(strstr(r.out, "\"size\":12288") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "\"shared\":true") != NULL, "%s", r.out);
	ctl_free(&r);

	cr_assert_eq(mmapclient_release(c, a), 0);
	mmapclient_close(c);
	h_stop();

	/* No daemon: one line naming the errno, exit status 1. */
	ctl_run(&r, CTL_ROOT, "status");
	cr_assert_eq(r.status, 1, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.err, "ENOENT") != NULL ||
	    strstr(r.err, "ECONNREFUSED") != NULL, "%s", r.err);
	cr_expect(strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
	    "not one line:\n%s", r.err);
	ctl_free(&r);
}

/* Under systemd (JOURNAL_STREAM names stderr) lines carry a priority. */
Test(lifecycle, journal_priority_prefix)
{
	struct mmapclient *c;

	h_start_journal(NULL);
	c = h_connect();
	cr_assert_eq(map_err(c, "zero", 0, 4 * KIB, MMAPCLIENT_WRITE), 0);
	cr_assert_eq(map_err(c, "nosuch", 0, 4 * KIB, 0), -ENODEV);
	mmapclient_close(c);
	h_log_expect("<6>audit: event=grant");
	/* A denial is a notice. */
	h_log_expect("<5>audit: event=deny", "device=nosuch ");
	cr_assert_eq(h_log_count("mmapd: "), 0, "lines without a priority");
	h_stop();
}

/*
 * SIGHUP opens devices: a region of mem added where mem was not opened
 * at start-up is offered after the reload, without a restart.
 */
Test(lifecycle, sighup_adds_mem)
{
	struct mmapclient *c;
	char conf[1024];

	h_start("[zero]\nusers = *\n");
	c = h_connect();
	snprintf(conf, sizeof(conf), "[zero]\nusers = *\n\n"
	    "# A seam: a sparse file stands in for /dev/mem.\n"
	    "[mem]\npath = %s\niomem = %s\nusers = root\nraw_fd_users = root\nmax_size = 1M\n\n"
	    "[region edu]\ndevice = mem\nbase = 0xfe900000\nsize = 1M\n"
	    "users = root\nraw_fd_users = root\n",
	    h_sparse("devmem", 8ull << 30), h_data("iomem-q35.txt"));
	h_rewrite_conf(conf);
	h_signal(SIGHUP);
	cr_assert_eq(h_log_wait(1, "SIGHUP: policy reloaded"), 1);
	cr_assert_eq(h_log_count("restart"), 0);
	cr_assert_eq(map_err(c, "edu", 0, 4 * KIB, 0), 0);
	cr_assert_eq(map_err(c, "zero", 0, 4 * KIB, 0), 0);
	mmapclient_close(c);
	h_stop();
}

/* SIGTERM while a client never reads its replies: still exit 0, promptly. */
Test(lifecycle, sigterm_with_a_client_that_never_reads)
{
	static const uint8_t status_req[] = { 0x08, 0x07, 0x32, 0x00 };
	struct mmapclient_region *a;
	struct mmapclient *c;
	int fd, i;

	signal(SIGPIPE, SIG_IGN);
	h_start(NULL);
	c = h_connect();
	a = map_ok(c, "zero", 0, 64 * KIB, MMAPCLIENT_WRITE);
	fd = raw_connect();
	for (i = 0; i < 1000; i++)
		if (send(fd, status_req, sizeof(status_req),
		    MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			break;
	cr_assert(i > 0);
	h_stop();
	h_log_expect("releasing 1 leases");
	cr_assert(raw_closed(fd, H_WAIT_MS), "the silent client's connection "
	    "stayed open");
	close(fd);
	mmapclient_region_free(a);
	mmapclient_close(c);
}
