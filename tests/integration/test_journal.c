/*
 * Audit records as journal entries, and timestamps on a plain stderr,
 * through a real mmapd.  journald is a datagram socket of the test's
 * (the seam MMAPD_TEST_JOURNAL_SOCKET names it); what mmapd sends there
 * is read back and split into fields as journald would: a grant, a
 * denial and a release by uid 65534 must each arrive as one entry with
 * its MESSAGE_ID and the MMAPD_ fields of its line, values unquoted; the
 * stderr log must not hold them too.  Under JOURNAL_STREAM the journal
 * is used without being asked; a journal that cannot be reached leaves
 * every audit line on stderr.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

#define SEAM		"MMAPD_TEST_JOURNAL_SOCKET"
#define ID_GRANT	"c50662e097124f5b8a04d291cb86af5b"
#define ID_RELEASE	"f58e9732f8c24999a7e85262268a45ed"
#define ID_DENY		"bb37d1bd0ce844cfbab8f46990600459"

TestSuite(journal, .fini = h_cleanup, .timeout = 60);

static const char conf[] =
	"[daemon]\nsocket_mode = 0666\n\n"
	"[zero]\nusers = *\nmax_size = 1M\nshared = yes\n";

/* journald's socket, the test's: bound, writable by mmapd's user. */
static int
fake_journal(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert(fd >= 0, "socket: %s", strerror(errno));
	cr_assert(strlen(path) < sizeof(sa.sun_path));
	strcpy(sa.sun_path, path);
	unlink(path);
	cr_assert(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
	    "bind %s: %s", path, strerror(errno));
	cr_assert(chmod(path, 0666) == 0);
	return fd;
}

#define MAX_F	48

struct entry {
	char buf[8192];
	char *key[MAX_F];
	char *val[MAX_F];
	int n;
};

/*
 * One datagram, as journald reads it: KEY=value lines, or KEY, a 64-bit
 * little-endian length, the bytes and a newline.  0 on a timeout.
 */
static int
entry_recv(int fd, struct entry *e, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char *s, *end, *nl;
	ssize_t n;
	uint64_t len;
	int i;

	e->n = 0;
	if (poll(&p, 1, ms) != 1)
		return 0;
	n = recv(fd, e->buf, sizeof(e->buf) - 1, 0);
	cr_assert(n > 0, "recv: %s", strerror(errno));
	e->buf[n] = '\0';
	s = e->buf;
	end = e->buf + n;
	while (s < end && e->n < MAX_F) {
		nl = memchr(s, '\n', (size_t)(end - s));
		cr_assert(nl != NULL, "a field without its newline");
		*nl = '\0';
		e->key[e->n] = s;
		if ((e->val[e->n] = strchr(s, '=')) != NULL) {
			*e->val[e->n]++ = '\0';
			s = nl + 1;
		} else {
			cr_assert(end - nl > 9, "binary field cut short");
			for (len = 0, i = 7; i >= 0; i--)
				len = len << 8 | (unsigned char)nl[1 + i];
			cr_assert(len <= (uint64_t)(end - nl - 10));
			e->val[e->n] = nl + 9;
			e->val[e->n][len] = '\0';
			s = nl + 9 + len + 1;
		}
		e->n++;
	}
	return 1;
}

static const char *
field(const struct entry *e, const char *key)
{
	int i;

	for (i = 0; i < e->n; i++)
		if (strcmp(e->key[i], key) == 0)
			return e->val[i];
	return NULL;
}

static void
expect_field(const struct entry *e, const char *key, const char *want)
{
	const char *v = field(e, key);

	cr_expect(v != NULL && strcmp(v, want) == 0, "%s=%s, wanted %s "
	    "(MESSAGE=%s)", key, v ? v : "(none)", want,
	    field(e, "MESSAGE") ? field(e, "MESSAGE") : "");
}

/* The next entry with that MESSAGE_ID (others, e.g. Hello's, skipped). */
static int
entry_wait(int fd, struct entry *e, const char *id)
{
	int i;

	for (i = 0; i < 20; i++) {
		if (!entry_recv(fd, e, H_WAIT_MS))
			return 0;
		if (field(e, "MESSAGE_ID") && strcmp(field(e, "MESSAGE_ID"),
		    id) == 0)
			return 1;
	}
	return 0;
}

/* Grant, denial, release by uid 65534: three entries, their fields. */
static void
grant_deny_release(int jfd)
{
	struct entry e;
	char pid[16];
	int fd, rfd = -1;
	Reply *r;

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	fd = raw_connect_as(H_NOBODY, H_NOBODY);
	raw_hello(fd);
	r = raw_map(fd, 2, "zero", 0, 8192, 1, 1, "", &rfd);
	cr_assert_eq(r->error, 0, "%s", r->message);
	reply_free(r);
	close(rfd);
	cr_assert(entry_wait(jfd, &e, ID_GRANT), "no grant entry");
	expect_field(&e, "MMAPD_EVENT", "grant");
	expect_field(&e, "MMAPD_UID", "65534");
	expect_field(&e, "MMAPD_USER", "nobody");
	expect_field(&e, "MMAPD_PID", pid);
	expect_field(&e, "MMAPD_CLIENT", "integration-raw");
	expect_field(&e, "MMAPD_LEASE", "1");
	expect_field(&e, "MMAPD_DEVICE", "zero");
	expect_field(&e, "MMAPD_OFFSET", "0");
	expect_field(&e, "MMAPD_SIZE", "8192");
	expect_field(&e, "MMAPD_PROT", "rw");
	expect_field(&e, "MMAPD_RESULT", "ok");
	expect_field(&e, "MMAPD_ERRNO", "0");
	expect_field(&e, "PRIORITY", "6");
	expect_field(&e, "SYSLOG_IDENTIFIER", "mmapd");
	cr_expect(strncmp(field(&e, "MESSAGE"), "audit: event=grant lease=1 "
	    "uid=65534 ", 27) == 0, "%s", field(&e, "MESSAGE"));

	r = raw_map(fd, 3, "zero", 0, 2u << 20, 0, 1, "", NULL);
	cr_assert_eq(r->error, EFBIG, "%s", r->message);
	cr_assert(entry_wait(jfd, &e, ID_DENY), "no denial entry");
	expect_field(&e, "MMAPD_UID", "65534");
	expect_field(&e, "MMAPD_RESULT", "denied");
	expect_field(&e, "MMAPD_ERRNO", "EFBIG");
	expect_field(&e, "MMAPD_SIZE", "2097152");
	expect_field(&e, "PRIORITY", "5");
	/* Quoted on the line, the value itself in the field. */
	expect_field(&e, "MMAPD_MSG", r->message);
	cr_expect(strstr(field(&e, "MESSAGE"), "msg=\"size 2097152") != NULL,
	    "%s", field(&e, "MESSAGE"));
	reply_free(r);

	close(fd);
	cr_assert(entry_wait(jfd, &e, ID_RELEASE), "no release entry");
	expect_field(&e, "MMAPD_LEASE", "1");
	expect_field(&e, "MMAPD_REASON", "disconnect");
	expect_field(&e, "MMAPD_SIZE", "8192");
}

Test(journal, audit_entries_with_fields)
{
	const char *path = h_path("journal.sock");
	const char *const args[] = { "--log-journal", NULL };
	int jfd;

	if (geteuid() != 0)
		cr_skip_test("not root: cannot be uid 65534");
	jfd = fake_journal(path);
	h_next_env(SEAM, path);
	h_start_args(conf, args);
	grant_deny_release(jfd);
	/* On the journal, not on stderr as well; the rest stays there. */
	cr_expect_eq(h_log_count("audit: event=grant"), 0);
	cr_expect_eq(h_log_count("audit: event=deny"), 0);
	h_log_expect("a test seam", SEAM);
	h_stop();
	close(jfd);
}

/* JOURNAL_STREAM naming stderr is enough: no option needed. */
Test(journal, journal_stream_is_enough)
{
	const char *path = h_path("journal.sock");
	int jfd;

	if (geteuid() != 0)
		cr_skip_test("not root: cannot be uid 65534");
	jfd = fake_journal(path);
	h_next_env(SEAM, path);
	h_start_journal(conf);
	grant_deny_release(jfd);
	cr_expect_eq(h_log_count("audit: event=grant"), 0);
	h_stop();
	close(jfd);
}

/* No journal there: not one audit line is lost, stderr has them all. */
Test(journal, unreachable_journal_keeps_lines)
{
	const char *const args[] = { "--log-journal", NULL };
	int fd, rfd = -1;
	Reply *r;

	if (geteuid() != 0)
		cr_skip_test("not root: cannot be uid 65534");
	h_next_env(SEAM, h_path("no-journal.sock"));
	h_start_args(conf, args);
	fd = raw_connect_as(H_NOBODY, H_NOBODY);
	raw_hello(fd);
	r = raw_map(fd, 2, "zero", 0, 8192, 1, 1, "", &rfd);
	cr_assert_eq(r->error, 0, "%s", r->message);
	reply_free(r);
	close(rfd);
	r = raw_map(fd, 3, "zero", 0, 2u << 20, 0, 1, "", NULL);
	cr_assert_eq(r->error, EFBIG);
	reply_free(r);
	close(fd);
	cr_assert_eq(h_log_wait(1, "audit: event=release", "uid=65534 "), 1);
	cr_expect_eq(h_log_count("audit: event=grant", "uid=65534 "), 1);
	cr_expect_eq(h_log_count("audit: event=deny", "errno=EFBIG"), 1);
	h_log_expect("journal: cannot send an audit entry");
	h_stop();
}

static int
stamped(const char *log, int want)
{
	regex_t re;
	const char *line = log;
	int n = 0, bad = 0;

	cr_assert(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:"
	    "[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z mmapd: ", REG_EXTENDED |
	    REG_NOSUB) == 0);
	while (*line != '\0') {
		const char *nl = strchr(line, '\n');
		char buf[1200];

		snprintf(buf, sizeof(buf), "%.*s", (int)(nl ? nl - line :
		    (long)strlen(line)), line);
		if ((regexec(&re, buf, 0, NULL, 0) == 0) == want)
			n++;
		else
			bad++;
		line = nl ? nl + 1 : line + strlen(line);
	}
	regfree(&re);
	cr_expect_eq(bad, 0, "%d line(s) %s a timestamp:\n%s", bad,
	    want ? "without" : "with", log);
	return n;
}

Test(journal, timestamps_when_asked)
{
	const char *const args[] = { "--log-timestamps", NULL };
	size_t seen;
	char *log;
	int fd, rfd = -1;
	Reply *r;

	h_start_args(conf, args);
	fd = raw_connect();
	raw_hello(fd);
	r = raw_map(fd, 2, "zero", 0, 4096, 0, 1, "", &rfd);
	cr_assert_eq(r->error, 0, "%s", r->message);
	reply_free(r);
	close(rfd);
	close(fd);
	h_log_wait(1, "audit: event=release");
	h_stop();
	log = h_log();
	cr_expect_geq(stamped(log, 1), 3, "%s", log);
	seen = strlen(log);
	free(log);

	/* Not asked, not a terminal: as before (the log goes on). */
	h_start(conf);
	h_stop();
	log = h_log();
	cr_assert_gt(strlen(log), seen);
	cr_expect_geq(stamped(log + seen, 0), 1, "%s", log + seen);
	free(log);
}

/*
 * A client names itself to forge fields: a quote and key=value pairs,
 * and a newline followed by a journal field.  Its name must arrive as
 * one value, in MMAPD_CLIENT, and forge nothing.
 */
Test(journal, client_name_forges_nothing)
{
	static const char name[] = "x\" uid=0 evil=1\nMESSAGE_ID=0000";
	const char *path = h_path("journal.sock");
	const char *const args[] = { "--log-journal", NULL };
	Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Hello h = MMAPD__V1__HELLO__INIT;
	struct entry e;
	int jfd, fd, rfd = -1, i, ids = 0;
	Reply *r;

	if (geteuid() != 0)
		cr_skip_test("not root: cannot be uid 65534");
	jfd = fake_journal(path);
	h_next_env(SEAM, path);
	h_start_args(conf, args);
	fd = raw_connect_as(H_NOBODY, H_NOBODY);
	h.protocol_major = 1;
	h.client_name = (char *)name;
	req.request_id = 1;
	req.body_case = MMAPD__V1__REQUEST__BODY_HELLO;
	req.hello = &h;
	r = raw_call(fd, &req, NULL);
	cr_assert_eq(r->error, 0, "%s", r->message);
	reply_free(r);
	r = raw_map(fd, 2, "zero", 0, 4096, 0, 1, "", &rfd);
	cr_assert_eq(r->error, 0, "%s", r->message);
	reply_free(r);
	close(rfd);
	cr_assert(entry_wait(jfd, &e, ID_GRANT), "no grant entry");
	expect_field(&e, "MMAPD_CLIENT", name);
	expect_field(&e, "MMAPD_UID", "65534");
	cr_expect_null(field(&e, "MMAPD_EVIL"));
	for (i = 0; i < e.n; i++)
		ids += strcmp(e.key[i], "MESSAGE_ID") == 0;
	cr_expect_eq(ids, 1, "%d MESSAGE_ID fields", ids);
	close(fd);
	h_stop();
	close(jfd);
}
