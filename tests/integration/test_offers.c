/*
 * Safe defaults and honest introspection (issue 11): Status shows a
 * caller other than root only the offers its users or groups name, with
 * what a Map of each may get, and never more than one packet of them
 * (the rest counted); mmapctl offers prints them; --check-config warns
 * about entries no one may use and a region of mem without [mem], and
 * passes daemon/mmapd.conf.example.
 */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

TestSuite(offers, .fini = h_cleanup, .timeout = 30);

/* [zero] for all, a region for root, one for uid 65534, mem for root. */
static const char *
four_entries(void)
{
	static char conf[2048];

	snprintf(conf, sizeof(conf),
	    "[zero]\nusers = *\nmax_size = 2M\nshared = no\n\n"
	    "[region rootonly]\ndevice = mem\nbase = 0xfe900000\n"
	    "size = 1M\nusers = root\nraw_fd_users = root\n\n"
	    "[region forhim]\ndevice = mem\nbase = 0xfe800000\nsize = 64K\n"
	    "max_size = 16K\nprotection = rw\nshared = yes\n"
	    "users = 65534\n\n"
	    "[mem]\npath = %s\niomem = %s\nusers = root\n"
	    "raw_fd_users = root\nmax_size = 1M\n",
	    h_sparse("devmem", 8ull << 30), h_data("iomem-q35.txt"));
	return conf;
}

static Reply *
status_as(uid_t uid)
{
	Reply *r;
	int fd;

	fd = uid == 0 ? raw_connect() : raw_connect_as(uid, uid);
	raw_hello(fd);
	r = raw_status(fd, 9);
	close(fd);
	cr_assert_eq(r->error, 0, "status: %s", r->message);
	cr_assert_eq(r->body_case, MMAPD__V1__REPLY__BODY_STATUS);
	return r;
}

static const Mmapd__V1__Offer *
offer_named(const Reply *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->status->n_offers; i++)
		if (strcmp(r->status->offers[i]->name, name) == 0)
			return r->status->offers[i];
	return NULL;
}

/*
 * uid 65534 is shown zero and its own region, with their terms, and not
 * the names of the entries it may not use; root is shown all four.
 */
Test(offers, status_shows_a_user_only_what_it_may_use)
{
	const Mmapd__V1__Offer *o;
	Reply *r;

	h_start(four_entries());
	r = status_as(H_NOBODY);
	cr_expect_eq(r->status->n_offers, 2, "%zu offers",
	    r->status->n_offers);
	cr_expect_eq(r->status->offers_left_out, 0);
	cr_expect_null(offer_named(r, "rootonly"), "a root-only name shown");
	cr_expect_null(offer_named(r, "mem"), "mem shown to uid 65534");
	o = offer_named(r, "zero");
	cr_assert_not_null(o, "zero not shown");
	cr_expect_eq(o->kind, MMAPD__V1__OFFER_KIND__OFFER_DEVICE);
	cr_expect_eq(o->max_size, 2u << 20);
	cr_expect_eq(o->prot, PROT_READ | PROT_WRITE);
	cr_expect_eq(o->shared, 0);
	cr_expect_eq(o->size, 0);
	cr_expect_eq(o->cache, MMAPD__V1__CACHE_MODE__CACHE_CACHED);
	cr_expect_eq(o->registers_only, 0);
	o = offer_named(r, "forhim");
	cr_assert_not_null(o, "its region not shown");
	cr_expect_eq(o->kind, MMAPD__V1__OFFER_KIND__OFFER_REGION);
	cr_expect_eq(o->max_size, 16u << 10);
	cr_expect_eq(o->size, 64u << 10);
	cr_expect_eq(o->shared, 1);
	cr_expect_eq(o->prot, PROT_READ | PROT_WRITE);
	/* A region of device memory is uncached unless it says otherwise. */
	cr_expect_eq(o->cache, MMAPD__V1__CACHE_MODE__CACHE_UNCACHED);
	cr_expect_eq(o->registers_only, 1, "no raw_fd_users: no Map");
	reply_free(r);

	/* Another uid no entry names but zero's "*": zero alone. */
	r = status_as(H_OTHER);
	cr_expect_eq(r->status->n_offers, 1);
	cr_expect_not_null(offer_named(r, "zero"));
	reply_free(r);

	r = status_as(0);
	cr_expect_eq(r->status->n_offers, 4, "root: %zu offers",
	    r->status->n_offers);
	o = offer_named(r, "rootonly");
	cr_assert_not_null(o);
	cr_expect_eq(o->size, 1u << 20);
	cr_expect_eq(o->prot, PROT_READ, "protection defaults to r");
	cr_expect_eq(o->registers_only, 0, "root is in its raw_fd_users");
	reply_free(r);
	h_stop();
}

/* mmapctl offers, as uid 65534: a line each, with the terms. */
Test(offers, mmapctl_offers_prints_them)
{
	struct ctl r;

	ctl_need_nobody();
	h_start(four_entries());
	ctl_run(&r, CTL_NOBODY, "offers");
	cr_assert_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.out, "NAME") == r.out, "%s", r.out);
	cr_expect(strstr(r.out, "\nzero ") != NULL, "%s", r.out);
	/* Sizes for people (issue 14): 2 MiB, not 2097152. */
	cr_expect(strstr(r.out, " 2 MiB ") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "\nforhim ") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, " 16 KiB ") != NULL, "%s", r.out);
	/* No raw_fd_users: a Map of it is refused, Read and Write serve. */
	cr_expect(strstr(r.out, " uncached no   64 KiB\n") != NULL, "%s",
	    r.out);
	cr_expect(strstr(r.out, " cached   yes  -\n") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "rootonly") == NULL, "%s", r.out);
	cr_expect(strstr(r.out, "\nmem ") == NULL, "%s", r.out);
	ctl_free(&r);

	ctl_run(&r, CTL_NOBODY, "--json", "offers");
	cr_assert_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.out, "{\"name\":\"forhim\",\"kind\":\"region\","
	    "\"max_size\":16384,\"prot\":\"rw\",\"shared\":true,"
	    "\"cache\":\"uncached\",\"size\":65536,\"map\":false}") != NULL,
	    "%s", r.out);
	cr_expect(strstr(r.out, "\"offers_left_out\":0}") != NULL, "%s",
	    r.out);
	ctl_free(&r);
	h_stop();
}

/*
 * 300 regions with names of 63 bytes, everyone's: far more than a
 * packet holds.  The reply comes (no disconnect), holds what fits and
 * counts the rest; Status used to cut at 48 and say nothing.
 */
Test(offers, too_many_offers_fit_one_packet_and_are_counted)
{
	size_t cap = 300 * 160 + 512, len, i;
	char *conf = malloc(cap);
	struct mmapclient_status *st = NULL;
	struct mmapclient *c;
	Reply *r;
	int err;

	cr_assert_not_null(conf);
	len = (size_t)snprintf(conf, cap, "[zero]\nusers = *\n"
	    "[mem]\npath = %s\niomem = %s\nusers = root\nmax_size = 1M\n",
	    h_sparse("devmem", 8ull << 30), h_data("iomem-q35.txt"));
	for (i = 0; i < 300; i++)
		len += (size_t)snprintf(conf + len, cap - len,
		    "[region r%03zu%059d]\ndevice = mem\nbase = %#zx\n"
		    "size = 4K\nusers = *\n", i, 0, 0xfe000000 + i * 4096);
	h_start(conf);
	free(conf);

	r = status_as(H_NOBODY);
	cr_expect_gt(r->status->n_offers, 10);
	cr_expect_lt(r->status->n_offers, 301);
	cr_expect_eq(r->status->n_offers + r->status->offers_left_out, 301,
	    "%zu shown + %u left out", r->status->n_offers,
	    r->status->offers_left_out);
	cr_expect_str_eq(r->status->offers[0]->name, "zero");
	reply_free(r);

	/* Through the library, and mmapctl says how many are missing. */
	c = h_connect();
	err = mmapclient_status(c, &st);
	cr_assert_eq(err, 0, "%s", mmapclient_error(c));
	cr_expect_eq(st->n_offers + st->offers_left_out, 302,
	    "root: mem too");
	cr_expect_str_eq(st->offers[2].name, "r000"
	    "00000000000000000000000000000000000000000000000000000000000");
	cr_expect_eq(st->terms[2].size, 4096);
	mmapclient_status_free(st);
	mmapclient_close(c);
	h_stop();
}

/* Run mmapd --check-config on path; its output, and its exit status. */
static int
check(const char *name, const char *path, char **out)
{
	const char *argv[] = { "--check-config", path, NULL };
	int st;

	st = h_run_mmapd(name, argv, out);
	cr_assert(WIFEXITED(st), "status %#x:\n%s", st, *out);
	return WEXITSTATUS(st);
}

Test(offers, check_config_warns_about_unusable_entries)
{
	const char *conf = h_write("warn.conf",
	    "[zero]\nmax_size = 1M\n\n"
	    "[region phys]\ndevice = mem\nbase = 0xfe900000\nsize = 4K\n"
	    "users = root\n\n"
	    "[region fine]\ndevice = mem\nbase = 0xfe800000\nsize = 4K\n"
	    "groups = 0\n");
	char *out = NULL, want[512];

	cr_assert_eq(check("warn.out", conf, &out), 0, "%s", out);
	snprintf(want, sizeof(want), "%s:1: warning: [zero]: no users and "
	    "no groups: no one may use it", conf);
	cr_expect(strstr(out, want) != NULL, "no '%s' in:\n%s", want, out);
	snprintf(want, sizeof(want), "%s:4: warning: [region phys]: a region "
	    "of mem, but no [mem] section", conf);
	cr_expect(strstr(out, want) != NULL, "no '%s' in:\n%s", want, out);
	cr_expect(strstr(out, "ok, 3 entries, 3 warnings") != NULL, "%s",
	    out);
	cr_expect(strstr(out, "[region fine]: no users") == NULL, "%s", out);
	free(out);

	/* The daemon says the same when it reads the file. */
	out = h_read(conf);
	h_start(out);
	free(out);
	h_log_expect("warning: [zero]: no users and no groups");
	h_log_expect("warning: [region phys]: a region of mem, but no [mem]");
	h_stop();
}

/*
 * daemon/mmapd.conf.example names users and groups this machine may not
 * have (alice, mmap, plc, video): in a mount namespace of this test's
 * own, /etc/passwd and /etc/group are copies with them added, and the
 * example must pass --check-config there with no error and no warning.
 * The same file with the second "user =" it used to have in [limits]
 * fails: the check can fail.
 */
Test(offers, example_config_passes_check_config)
{
	const char *data = getenv("MMAPD_TEST_DATA");
	char example[4096], *text, *pw, *gr, *s, *out = NULL;
	const char *at;

	if (geteuid() != 0)
		cr_skip_test("needs root for a mount namespace");
	cr_assert_not_null(data, "MMAPD_TEST_DATA not set");
	snprintf(example, sizeof(example), "%s/../../../daemon/"
	    "mmapd.conf.example", data);
	text = h_read(example);
	at = strstr(text, "[limits]\n");
	cr_assert_not_null(at, "cannot read %s", example);

	pw = h_read("/etc/passwd");
	gr = h_read("/etc/group");
	cr_assert(asprintf(&s, "%salice:x:64001:64001::/nonexistent:"
	    "/bin/false\n", pw) > 0);
	h_write("passwd", s);
	free(s);
	cr_assert(asprintf(&s, "%smmap:x:64010:\nplc:x:64012:\n%s", gr,
	    strstr(gr, "\nvideo:") ? "" : "video:x:64013:\n") > 0);
	h_write("group", s);
	free(s);
	free(pw);
	free(gr);
	if (unshare(CLONE_NEWNS) < 0)
		cr_skip_test("unshare(CLONE_NEWNS): %s", strerror(errno));
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0,
	    "%s", strerror(errno));
	cr_assert_eq(mount(h_path("passwd"), "/etc/passwd", NULL, MS_BIND,
	    NULL), 0, "%s", strerror(errno));
	cr_assert_eq(mount(h_path("group"), "/etc/group", NULL, MS_BIND,
	    NULL), 0, "%s", strerror(errno));

	cr_expect_eq(check("example.out", example, &out), 0, "%s", out);
	cr_expect(strstr(out, "ok, 4 entries, 0 warnings") != NULL, "%s",
	    out);
	free(out);

	/* The mistake the example had: a user = in [limits]. */
	at += strlen("[limits]\n");
	cr_assert(asprintf(&s, "%.*suser = mmapd\n%s", (int)(at - text), text,
	    at) > 0);
	cr_expect_eq(check("example-bad.out", h_write("bad.conf", s), &out),
	    1, "%s", out);
	cr_expect(strstr(out, "unknown key 'user' in [limits]") != NULL, "%s",
	    out);
	free(out);
	free(s);
	free(text);
}

/*
 * The built-in policy, for the demo: zero for everyone, private and
 * shared, up to 64 MiB, nothing else, and no entry that names anyone
 * in particular.  (Whether two uids asking one shared-memory name get
 * different memory is the named-memory work's to test.)
 */
Test(offers, builtin_policy_offers_zero_alone)
{
	const Mmapd__V1__Offer *o;
	Reply *r;

	h_start(NULL);
	r = status_as(H_NOBODY);
	cr_assert_eq(r->status->n_offers, 1, "%zu offers",
	    r->status->n_offers);
	o = r->status->offers[0];
	cr_expect_str_eq(o->name, "zero");
	cr_expect_eq(o->max_size, 64u << 20);
	cr_expect_eq(o->prot, PROT_READ | PROT_WRITE);
	cr_expect_eq(o->shared, 1);
	reply_free(r);
	r = status_as(0);
	cr_expect_eq(r->status->n_offers, 1, "root: %zu offers",
	    r->status->n_offers);
	reply_free(r);
	h_stop();
}

/*
 * A stand-in sysfs tree: function 0000:00:01.0 with a 1 MiB memory
 * BAR 0, its resource0 a 1 MiB file (as test_devregion.c makes it).
 */
static const char *
fake_sysfs(void)
{
	char text[1024];
	size_t off = 0;
	int i;

	cr_assert_eq(mkdir(h_path("sysfs"), 0755), 0);
	cr_assert_eq(mkdir(h_path("sysfs/0000:00:01.0"), 0755), 0);
	h_write("sysfs/0000:00:01.0/vendor", "0x1234\n");
	h_write("sysfs/0000:00:01.0/device", "0x11e8\n");
	for (i = 0; i < 7; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    "0x%016llx 0x%016llx 0x%016llx\n",
		    i ? 0ull : 0xd0000000ull, i ? 0ull : 0xd00fffffull,
		    i ? 0ull : 0x40200ull);
	h_write("sysfs/0000:00:01.0/resource", text);
	cr_assert_eq(truncate(h_write("sysfs/0000:00:01.0/resource0", ""),
	    1 << 20), 0);
	return h_path("sysfs");
}

/*
 * An offer says registers_only exactly when a Map of it by this caller
 * is refused: a pci region that is part of its BAR (unless whole_bar),
 * one that says map = no; the whole BAR, and a part with whole_bar =
 * yes, map.  Each offer is tried.
 */
Test(offers, registers_only_is_what_a_map_gets)
{
	static const char *const names[] = { "whole", "part", "wide",
	    "regs" };
	static const int want[] = { 0, 1, 0, 1 };
	const Mmapd__V1__Offer *o;
	const char *sysfs;
	char conf[2048];
	Reply *r, *m;
	size_t i;
	int fd, rfd;

	sysfs = fake_sysfs();
	snprintf(conf, sizeof(conf),
	    "[region whole]\ndevice = pci\npci = 0000:00:01.0\nbar = 0\n"
	    "sysfs = %s\nshared = yes\nusers = *\n\n"
	    "[region part]\ndevice = pci\npci = 0000:00:01.0\nbar = 0\n"
	    "base = 0x1000\nsize = 4K\nsysfs = %s\nshared = yes\n"
	    "users = *\n\n"
	    "[region wide]\ndevice = pci\npci = 0000:00:01.0\nbar = 0\n"
	    "base = 0x1000\nsize = 4K\nwhole_bar = yes\nsysfs = %s\n"
	    "shared = yes\nusers = *\n\n"
	    "[region regs]\ndevice = pci\npci = 0000:00:01.0\nbar = 0\n"
	    "map = no\nsysfs = %s\nshared = yes\nusers = *\n",
	    sysfs, sysfs, sysfs, sysfs);
	h_start(conf);
	r = status_as(H_NOBODY);
	cr_assert_eq(r->status->n_offers, 4, "%zu offers",
	    r->status->n_offers);
	fd = raw_connect_as(H_NOBODY, H_NOBODY);
	raw_hello(fd);
	for (i = 0; i < 4; i++) {
		o = offer_named(r, names[i]);
		cr_assert_not_null(o, "%s not offered", names[i]);
		cr_expect_eq(o->registers_only, want[i], "%s: registers_only "
		    "%d", names[i], o->registers_only);
		cr_expect_eq(o->size, i == 0 || i == 3 ? 1u << 20 : 4096,
		    "%s: size %llu", names[i], (unsigned long long)o->size);
		rfd = -1;
		m = raw_map(fd, 10 + i, names[i], 0, 4096, 1, 0, NULL, &rfd);
		cr_expect_eq(m->error, want[i] ? EPERM : 0, "%s: Map %d %s",
		    names[i], m->error, m->message);
		if (rfd >= 0)
			close(rfd);
		reply_free(m);
	}
	close(fd);
	reply_free(r);
	h_stop();
}

/*
 * Declared shared memory is offered to whom its [shm] section names: a
 * writer sees it read-write, a reader read-only, anyone else not at
 * all; root sees every section.  The size shown is the one a Map must
 * ask.
 */
Test(offers, shm_sections_offered_to_their_writers_and_readers)
{
	const Mmapd__V1__Offer *o;
	Reply *r;

	h_start("[zero]\nusers = *\n\n"
	    "[shm cam0]\nsize = 1M\nwriters = 65533\nreaders = 65534\n\n"
	    "[shm log*]\nsize = 64K\nwriters = 65533\n");
	r = status_as(H_OTHER);
	o = offer_named(r, "cam0");
	cr_assert_not_null(o, "the writer is not offered cam0");
	cr_expect_eq(o->kind, MMAPD__V1__OFFER_KIND__OFFER_SHARED_MEMORY);
	cr_expect_eq(o->prot, PROT_READ | PROT_WRITE);
	cr_expect_eq(o->size, 1u << 20);
	cr_expect_eq(o->max_size, 1u << 20);
	cr_expect_not_null(offer_named(r, "log*"));
	reply_free(r);

	r = status_as(H_NOBODY);
	o = offer_named(r, "cam0");
	cr_assert_not_null(o, "the reader is not offered cam0");
	cr_expect_eq(o->prot, PROT_READ, "a reader is offered write");
	cr_expect_null(offer_named(r, "log*"), "offered to a non-reader");
	cr_expect_eq(r->status->n_offers, 2, "zero and cam0");
	reply_free(r);

	r = status_as(65532);
	cr_expect_eq(r->status->n_offers, 1, "an outsider: zero alone");
	cr_expect_null(offer_named(r, "cam0"));
	reply_free(r);

	r = status_as(0);
	cr_expect_eq(r->status->n_offers, 3, "root: %zu offers",
	    r->status->n_offers);
	reply_free(r);
	h_stop();
}
