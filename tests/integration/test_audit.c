/*
 * Audit lines with client strings in them: a name of 4000 bytes, bytes
 * that could forge a field or a line.  Every line keeps all its fields
 * (result=, errno=, msg=) within log_msg's 1024 bytes; a client string
 * too long for its place is cut and marked, "aaa...a"+3937: its quoted
 * start, then the bytes left out.  The lines are read back and each
 * value decoded, to check that what is shown is the start of what the
 * client sent and the count says how much is missing.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

TestSuite(audit, .fini = h_cleanup, .timeout = 30);

#define LINE_MAX_BYTES	1023	/* log_msg's line, less its NUL */
#define PREFIX		"mmapd: "
#define LONG		4000

/* The deny lines of pid, whole (h_log_line matches in 2 KiB). */
static char **
deny_lines(pid_t pid, int *n)
{
	char *log = h_log(), *p, *e, **v = NULL;
	const char *pf = h_pidf(pid);

	*n = 0;
	for (p = log; *p != '\0'; p = *e ? e + 1 : e) {
		e = strchr(p, '\n');
		if (e == NULL)
			e = p + strlen(p);
		if (memmem(p, (size_t)(e - p), "event=deny", 10) == NULL ||
		    memmem(p, (size_t)(e - p), pf, strlen(pf)) == NULL)
			continue;
		v = realloc(v, sizeof(*v) * (size_t)(*n + 1));
		cr_assert(v != NULL);
		v[(*n)++] = strndup(p, (size_t)(e - p));
	}
	free(log);
	return v;
}

/* Lines of the log that start with s. */
static int
lines_starting(const char *s)
{
	char *log = h_log(), *p;
	int n = 0;

	for (p = log; p != NULL && *p != '\0'; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		n += strncmp(p, s, strlen(s)) == 0;
	}
	free(log);
	return n;
}

static void
lines_free(char **v, int n)
{
	while (n-- > 0)
		free(v[n]);
	free(v);
}

/*
 * The value of key= in line, decoded into out: 0 when whole, else the
 * bytes it says were cut.  Fails the test on anything malformed.
 */
static size_t
value_of(const char *line, const char *key, char *out, size_t cap,
    size_t *len)
{
	char k[32];
	const char *p;
	size_t n = 0;
	unsigned int x;
	char *end;
	unsigned long long cut;

	snprintf(k, sizeof(k), " %s=", key);
	p = strstr(line, k);
	cr_assert(p != NULL, "no %s in: %s", k, line);
	p += strlen(k);
	if (*p != '"') {
		/* Plain: up to the next space, nothing to decode. */
		while (*p != ' ' && *p != '\0' && n + 1 < cap)
			out[n++] = *p++;
		*len = n;
		return 0;
	}
	for (p++; *p != '"'; p++) {
		cr_assert(*p >= ' ' && *p < 0x7f,
		    "byte %#x unescaped in %s of: %s", (unsigned char)*p, k,
		    line);
		cr_assert(n + 1 < cap);
		if (*p != '\\') {
			out[n++] = *p;
			continue;
		}
		p++;
		if (*p == '"' || *p == '\\') {
			out[n++] = *p;
		} else {
			cr_assert(*p == 'x' && sscanf(p + 1, "%2x", &x) == 1 &&
			    p[1] != '\0' && p[2] != '\0',
			    "bad escape in %s of: %s", k, line);
			out[n++] = (char)x;
			p += 2;
		}
	}
	*len = n;
	p++;
	if (*p != '+')
		return 0;
	cut = strtoull(p + 1, &end, 10);
	cr_assert(end > p + 1 && (*end == ' ' || *end == '\0'),
	    "bad cut mark after %s in: %s", k, line);
	return (size_t)cut;
}

/* key= in line shows the start of sent, and counts the rest as cut. */
static void
expect_cut(const char *line, const char *key, const char *sent)
{
	char got[LONG * 4];
	size_t len, cut, want = strlen(sent);

	cut = value_of(line, key, got, sizeof(got), &len);
	cr_expect(cut > 0, "%s= of %zu bytes was not cut: %s", key, want, line);
	cr_expect_eq(len + cut, want, "%s=: %zu bytes shown + %zu cut, but "
	    "%zu sent", key, len, cut, want);
	cr_expect(memcmp(got, sent, len < want ? len : want) == 0,
	    "%s= does not show the start of what was sent: %s", key, line);
	cr_expect_geq(len, 32, "%s= shows only %zu bytes", key, len);
}

/* line is whole: under the cap, every field there, no line cut. */
static void
expect_whole(const char *line, const char *const *fields)
{
	size_t len = strlen(line);

	cr_assert(strncmp(line, PREFIX, strlen(PREFIX)) == 0, "%s", line);
	cr_expect_leq(len - strlen(PREFIX), LINE_MAX_BYTES,
	    "a line of %zu bytes: %s", len - strlen(PREFIX), line);
	cr_expect(strstr(line, "(line cut)") == NULL, "line cut: %s", line);
	for (; *fields != NULL; fields++)
		cr_expect(strstr(line, *fields) != NULL, "no %s in: %s",
		    *fields, line);
}

static char *
filled(char c, size_t n)
{
	char *s = malloc(n + 1);

	cr_assert(s != NULL);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/*
 * A packet is at most 4 KiB (WIRE_MAX): a 4000-byte device, a
 * 4000-byte region, then 2000 bytes of each in one request.
 */
Test(audit, map_with_4000_byte_names_keeps_every_field)
{
	static const char *const fields[] = { " result=denied ",
	    " errno=EINVAL ", " msg=", " offset=0 ", " size=4096 ",
	    " shared=1 ", " write=1 ", NULL };
	char *dev = filled('a', LONG), *reg = filled('b', LONG), **v;
	char *dev2 = filled('c', LONG / 2), *reg2 = filled('d', LONG / 2);
	Reply *r;
	int fd, n;

	h_start(NULL);
	fd = raw_connect();
	raw_hello(fd);
	r = raw_map(fd, 1, dev, 0, 4096, 1, 1, NULL, NULL);
	cr_assert_eq(r->error, EINVAL, "error %d: %s", r->error, r->message);
	reply_free(r);
	r = raw_map(fd, 2, "zero", 0, 4096, 1, 1, reg, NULL);
	cr_assert_eq(r->error, EINVAL, "error %d: %s", r->error, r->message);
	reply_free(r);
	r = raw_map(fd, 3, dev2, 0, 4096, 1, 1, reg2, NULL);
	cr_assert_eq(r->error, EINVAL, "error %d: %s", r->error, r->message);
	reply_free(r);
	cr_assert_eq(h_log_wait(3, "event=deny", h_pidf(getpid())), 3);
	v = deny_lines(getpid(), &n);
	cr_assert_eq(n, 3, "%d deny lines", n);
	expect_whole(v[0], fields);
	expect_cut(v[0], "device", dev);
	cr_expect(strstr(v[0], " msg=\"device name of 4000 bytes: 1 to 63 "
	    "are allowed\"") != NULL, "%s", v[0]);
	expect_whole(v[1], fields);
	cr_expect(strstr(v[1], " device=zero ") != NULL, "%s", v[1]);
	expect_cut(v[1], "region", reg);
	expect_whole(v[2], fields);
	expect_cut(v[2], "device", dev2);
	expect_cut(v[2], "region", reg2);
	lines_free(v, n);
	close(fd);
	free(dev);
	free(reg);
	free(dev2);
	free(reg2);
	h_stop();
}

Test(audit, read_and_write_with_a_4000_byte_device_keep_every_field)
{
	static const char *const rd[] = { " op=read ", " result=denied ",
	    " errno=EINVAL ", " msg=", " width=32 ", NULL };
	static const char *const wr[] = { " op=write ", " result=denied ",
	    " errno=EINVAL ", " msg=", " width=32 ", NULL };
	char *dev = filled('r', LONG), **v;
	Reply *r;
	int fd, n;

	h_start(NULL);
	fd = raw_connect();
	raw_hello(fd);
	r = raw_read(fd, 1, dev, 0, 32);
	cr_assert_eq(r->error, EINVAL, "error %d: %s", r->error, r->message);
	reply_free(r);
	r = raw_write(fd, 2, dev, 0, 32, 1);
	cr_assert_eq(r->error, EINVAL, "error %d: %s", r->error, r->message);
	reply_free(r);
	cr_assert_eq(h_log_wait(2, "event=deny", h_pidf(getpid())), 2);
	v = deny_lines(getpid(), &n);
	cr_assert_eq(n, 2, "%d deny lines", n);
	expect_whole(v[0], rd);
	expect_cut(v[0], "device", dev);
	expect_whole(v[1], wr);
	expect_cut(v[1], "device", dev);
	lines_free(v, n);
	close(fd);
	free(dev);
	h_stop();
}

/*
 * Names of bytes that widen when escaped (2000 of them, cut: an escape
 * is never split), and a newline that would start a forged line.
 */
Test(audit, escaped_names_are_cut_whole_and_forge_nothing)
{
	static const char *const fields[] = { " result=denied ",
	    " errno=", " msg=", NULL };
	static const char forged[] = "\nmmapd: audit: event=grant lease=1 "
	    "uid=0 gid=0 pid=1 device=mem result=ok errno=0";
	char dev[LONG / 2 + 1], reg[LONG / 2 + 1], got[256], **v;
	const char *mix = "\x01\"\\\xff=a b";
	Reply *r;
	size_t i, len;
	int fd, n;

	for (i = 0; i < LONG / 2; i++)
		dev[i] = mix[i % 8];
	dev[LONG / 2] = '\0';
	/* The forged line early, then padding that needs no escape. */
	snprintf(reg, sizeof(reg), "x%s", forged);
	memset(reg + strlen(reg), 'p', LONG / 2 - strlen(reg));
	reg[LONG / 2] = '\0';

	h_start(NULL);
	fd = raw_connect();
	raw_hello(fd);
	/* Both cut, both as wide as escapes make them: the longest line. */
	r = raw_map(fd, 1, dev, 0, 4096, 1, 0, dev, NULL);
	cr_assert_eq(r->error, EINVAL, "error %d: %s", r->error, r->message);
	reply_free(r);
	/* Short enough to be shown whole: the forged line, escaped. */
	r = raw_map(fd, 2, forged, 0, 4096, 1, 0, NULL, NULL);
	cr_assert_neq(r->error, 0);
	reply_free(r);
	r = raw_map(fd, 3, "zero", 0, 4096, 1, 0, reg, NULL);
	cr_assert_eq(r->error, EINVAL, "error %d: %s", r->error, r->message);
	reply_free(r);
	cr_assert_eq(h_log_wait(3, "event=deny", h_pidf(getpid())), 3);

	v = deny_lines(getpid(), &n);
	cr_assert_eq(n, 3, "%d deny lines", n);
	for (i = 0; i < 3; i++)
		expect_whole(v[i], fields);
	expect_cut(v[0], "device", dev);
	expect_cut(v[0], "region", dev);
	expect_cut(v[2], "region", reg);
	cr_expect_eq(value_of(v[1], "device", got, sizeof(got), &len), 0,
	    "cut: %s", v[1]);
	cr_expect(len == strlen(forged) && memcmp(got, forged, len) == 0,
	    "%s", v[1]);
	cr_expect(strstr(v[1], " device=\"\\x0ammapd: audit: event=grant ")
	    != NULL, "%s", v[1]);
	lines_free(v, n);
	cr_expect_eq(lines_starting(PREFIX "audit: event=grant"), 0,
	    "a client string forged a grant line:\n%s", h_log());
	close(fd);
	h_stop();
}

/* A name that fits is logged as it was, unquoted when plain. */
Test(audit, short_names_are_not_cut)
{
	char got[128], **v;
	size_t len;
	Reply *r;
	int fd, n;

	h_start(NULL);
	fd = raw_connect();
	raw_hello(fd);
	r = raw_map(fd, 1, "nosuch-device", 0, 4096, 0, 0, NULL, NULL);
	cr_assert_eq(r->error, ENODEV, "error %d: %s", r->error, r->message);
	reply_free(r);
	r = raw_map(fd, 2, "no such\tdevice", 0, 4096, 0, 0, NULL, NULL);
	cr_assert_eq(r->error, ENODEV, "error %d: %s", r->error, r->message);
	reply_free(r);
	cr_assert_eq(h_log_wait(2, "event=deny", h_pidf(getpid())), 2);
	v = deny_lines(getpid(), &n);
	cr_assert_eq(n, 2);
	cr_expect(strstr(v[0], " device=nosuch-device ") != NULL, "%s", v[0]);
	cr_expect_eq(value_of(v[1], "device", got, sizeof(got), &len), 0);
	cr_expect(len == 14 && memcmp(got, "no such\tdevice", 14) == 0,
	    "%s", v[1]);
	cr_expect(strstr(v[1], " device=\"no such\\x09device\" ") != NULL,
	    "%s", v[1]);
	lines_free(v, n);
	close(fd);
	h_stop();
}
