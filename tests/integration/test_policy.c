/*
 * The policy, from outside: each refusal comes back with its errno, is
 * logged as an audit deny line, and the daemon goes on serving (a map
 * that follows succeeds).  The caller's identity is SO_PEERCRED's, so
 * "another user" is mmapctl run as uid 65534 through setpriv.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

#define KIB	1024ull
#define MIB	(1024ull * 1024)

TestSuite(policy, .fini = h_cleanup, .timeout = 30);

/* Map and expect the daemon to refuse with err (a positive errno). */
static void
map_refused(struct mmapclient *c, const struct mmapclient_request *req,
    int err)
{
	struct mmapclient_region *r = NULL;
	int got;

	got = mmapclient_map(c, req, &r);
	cr_assert_eq(got, -err, "map %s size %llu: got %d (%s), not -%s",
	    req->device, (unsigned long long)req->size, got,
	    got ? mmapclient_error(c) : "granted", strerrorname_np(err));
	cr_assert_null(r);
	cr_assert_str_neq(mmapclient_error(c), "",
	    "a refusal without the daemon's message");
}

/* After a refusal the daemon goes on: this map succeeds. */
static void
map_works(struct mmapclient *c, const struct mmapclient_request *req)
{
	struct mmapclient_region *r = NULL;
	int err;

	err = mmapclient_map(c, req, &r);
	cr_assert_eq(err, 0, "map %s after a refusal: %s (%s)", req->device,
	    strerror(-err), mmapclient_error(c));
	cr_assert_eq(mmapclient_release(c, r), 0);
}

static void
deny_logged(const char *device, const char *errname, pid_t pid)
{
	char dev[80], e[40];

	snprintf(dev, sizeof(dev), "device=%s ", device);
	snprintf(e, sizeof(e), "errno=%s ", errname);
	h_log_expect("audit: event=deny", dev, e, h_pidf(pid),
	    "result=denied", "msg=");
}

static const struct mmapclient_request zero_1m = {
	.device = "zero", .size = MIB, .flags = MMAPCLIENT_WRITE,
};

#define CONF_HEAD	"[daemon]\nsocket_mode = 0666\n\n"

Test(policy, unknown_device_enodev)
{
	struct mmapclient_request req = {
		.device = "nosuch", .size = 4 * KIB, .flags = MMAPCLIENT_WRITE,
	};
	struct mmapclient *c;

	h_start(NULL);
	c = h_connect();
	map_refused(c, &req, ENODEV);
	deny_logged("nosuch", "ENODEV", getpid());
	map_works(c, &zero_1m);
	mmapclient_close(c);
	h_stop();
}

/* The built-in default offers zero and nothing else. */
Test(policy, mem_not_offered_by_default_enodev)
{
	struct mmapclient_request req = {
		.device = "mem", .offset = 0xfe900000, .size = 4 * KIB,
	};
	struct mmapclient *c;

	h_start(NULL);
	c = h_connect();
	map_refused(c, &req, ENODEV);
	deny_logged("mem", "ENODEV", getpid());
	map_works(c, &zero_1m);
	mmapclient_close(c);
	h_stop();
}

Test(policy, size_over_cap_efbig)
{
	struct mmapclient_request big = zero_1m;
	struct mmapclient *c;
	struct ctl r;

	h_start(CONF_HEAD "[zero]\nusers = *\nmax_size = 1M\n");
	c = h_connect();
	big.size = MIB + 1;
	map_refused(c, &big, EFBIG);
	deny_logged("zero", "EFBIG", getpid());
	map_works(c, &zero_1m);

	ctl_run(&r, CTL_ROOT, "map", "--dev", "zero", "--size", "2M");
	cr_assert_eq(r.status, 1, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.err, "EFBIG") != NULL, "%s", r.err);
	cr_expect(strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
	    "the failure is not one line:\n%s", r.err);
	ctl_free(&r);
	cr_assert_eq(h_log_count("audit: event=deny", "errno=EFBIG"), 2);

	map_works(c, &zero_1m);
	mmapclient_close(c);
	h_stop();
}

/* [zero] users = root: uid 65534 is refused, root is not. */
Test(policy, user_not_listed_eperm)
{
	struct ctl r;
	char *line;

	ctl_need_nobody();
	h_start(CONF_HEAD "[zero]\nusers = root\nmax_size = 1M\n");
	ctl_run(&r, CTL_NOBODY, "map", "--dev", "zero", "--size", "64K");
	cr_assert_eq(r.status, 1, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.err, "EPERM") != NULL, "%s", r.err);
	ctl_free(&r);
	h_log_expect("audit: event=deny", "uid=65534 ", "gid=65534 ",
	    "device=zero ", "errno=EPERM ");
	line = h_log_line("audit: event=deny", "uid=65534 ");
	cr_expect(strstr(line, "msg=") != NULL, "%s", line);
	free(line);

	/* Root goes on being served, by mmapctl and by the library. */
	ctl_run(&r, CTL_ROOT, "map", "--dev", "zero", "--size", "64K");
	cr_assert_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	ctl_free(&r);
	h_stop();
}

/* The control for the test above: the same uid is served when allowed. */
Test(policy, user_listed_by_star_served)
{
	struct ctl r;

	ctl_need_nobody();
	h_start(CONF_HEAD "[zero]\nusers = *\nmax_size = 1M\n");
	ctl_run(&r, CTL_NOBODY, "--json", "map", "--dev", "zero", "--size",
	    "64K", "--shared");
	cr_assert_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.out, "\"ok\":true") != NULL, "%s", r.out);
	ctl_free(&r);
	h_log_expect("audit: event=grant", "uid=65534 ", "device=zero ");
	h_stop();
}

/* groups = 65534: the caller's gid counts; root's gid 0 does not. */
Test(policy, group_listed)
{
	struct mmapclient *c;
	struct ctl r;

	ctl_need_nobody();
	h_start(CONF_HEAD "[zero]\ngroups = 65534\nmax_size = 1M\n");
	ctl_run(&r, CTL_NOBODY, "map", "--dev", "zero", "--size", "64K");
	cr_assert_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	ctl_free(&r);
	c = h_connect();
	map_refused(c, &zero_1m, EPERM);
	deny_logged("zero", "EPERM", getpid());
	mmapclient_close(c);
	h_stop();
}

/*
 * A supplementary group is a tie to an entry (SO_PEERGROUPS): uid and
 * gid 65532 are in no list, group 65530 is.  Connected while in 65530
 * as well, the client is served; the same client without it is refused.
 */
Test(policy, supplementary_group_listed)
{
	static const gid_t video[] = { 65530 };
	Reply *r;
	int c, fd = -1;

	if (geteuid() != 0)
		cr_skip_test("not root: cannot connect as another user");
	h_start(CONF_HEAD "[zero]\ngroups = 65530\nmax_size = 1M\n");
	c = raw_connect_as_groups(65532, 65532, video, 1);
	raw_hello(c);
	r = raw_map(c, 1, "zero", 0, 64 * KIB, 0, 1, NULL, &fd);
	cr_assert_eq(r->error, 0, "uid 65532 in group 65530 refused: errno "
	    "%d: %s", r->error, r->message);
	cr_assert(fd >= 0);
	close(fd);
	reply_free(r);
	close(c);

	fd = -1;
	c = raw_connect_as_groups(65532, 65532, NULL, 0);
	raw_hello(c);
	r = raw_map(c, 2, "zero", 0, 64 * KIB, 0, 1, NULL, &fd);
	if (r->error == 0)
		close(fd);
	cr_assert_eq(r->error, EPERM, "uid 65532 in no group: errno %d, "
	    "wanted EPERM: %s", r->error, r->message ? r->message :
	    "(granted)");
	reply_free(r);
	close(c);
	h_log_expect("audit: event=deny", "uid=65532", "errno=EPERM");
	h_stop();
}

/* An entry with neither users nor groups allows nobody, root included. */
Test(policy, no_users_no_groups_nobody)
{
	struct mmapclient *c;

	h_start(CONF_HEAD "[zero]\nmax_size = 1M\n");
	c = h_connect();
	map_refused(c, &zero_1m, EPERM);
	deny_logged("zero", "EPERM", getpid());
	mmapclient_close(c);
	h_stop();
}

Test(policy, shared_not_allowed_eperm)
{
	struct mmapclient_request shared = zero_1m;
	struct mmapclient *c;

	h_start(CONF_HEAD "[zero]\nusers = *\nmax_size = 1M\nshared = no\n");
	c = h_connect();
	shared.flags |= MMAPCLIENT_SHARED;
	map_refused(c, &shared, EPERM);
	deny_logged("zero", "EPERM", getpid());
	map_works(c, &zero_1m);
	mmapclient_close(c);
	h_stop();
}

Test(policy, write_on_read_only_eacces)
{
	struct mmapclient_request ro = zero_1m;
	struct mmapclient *c;

	h_start(CONF_HEAD "[zero]\nusers = *\nmax_size = 1M\n"
	    "protection = r\n");
	c = h_connect();
	map_refused(c, &zero_1m, EACCES);
	deny_logged("zero", "EACCES", getpid());
	ro.flags = 0;
	map_works(c, &ro);
	mmapclient_close(c);
	h_stop();
}

Test(policy, cache_not_allowed_einval)
{
	struct mmapclient_request wc = zero_1m;
	struct mmapclient *c;

	h_start(CONF_HEAD "[zero]\nusers = *\nmax_size = 1M\n"
	    "cache = cached\n");
	c = h_connect();
	wc.cache = MMAPCLIENT_CACHE_WC;
	map_refused(c, &wc, EINVAL);
	deny_logged("zero", "EINVAL", getpid());
	wc.cache = MMAPCLIENT_CACHE_CACHED;
	map_works(c, &wc);
	mmapclient_close(c);
	h_stop();
}

/* The socket's mode and group are the policy's. */
Test(policy, socket_mode)
{
	struct stat st;

	h_start("[daemon]\nsocket_mode = 0660\nsocket_group = nogroup\n\n"
	    "[zero]\nusers = *\n");
	cr_assert_eq(stat(h_sock(), &st), 0);
	cr_assert(S_ISSOCK(st.st_mode));
	cr_expect_eq(st.st_mode & 07777, 0660, "socket mode %o",
	    (unsigned)(st.st_mode & 07777));
	cr_expect_eq(st.st_gid, 65534, "socket group %u", (unsigned)st.st_gid);
	h_stop();
}

/* [zero] without max_size: 64M, as the built-in policy. */
Test(policy, zero_max_size_default_64m)
{
	struct mmapclient_request req = zero_1m;
	struct mmapclient *c;

	h_start(CONF_HEAD "[zero]\nusers = *\n");
	c = h_connect();
	req.size = 64 * MIB;
	map_works(c, &req);
	req.size = 64 * MIB + 1;
	map_refused(c, &req, EFBIG);
	mmapclient_close(c);
	h_stop();
}

/*
 * A user in many supplementary groups (70, past the 64 the daemon reads
 * with SO_PEERGROUPS) is still a user: listed by uid or by "*", it is
 * served.  NGROUPS_MAX is 65536; directory users in 70 groups are common.
 */
Test(policy, user_in_70_groups_served)
{
	struct ctl r;

	ctl_need_nobody();
	h_start(CONF_HEAD "[zero]\nusers = 65534\n");
	ctl_run(&r, CTL_NOBODY_70, "map", "--dev", "zero", "--size", "4K");
	cr_assert_eq(r.status, 0, "uid 65534 in 70 groups: exit %d:\n%s%s",
	    r.status, r.out, r.err);
	ctl_free(&r);
	h_stop();
}
