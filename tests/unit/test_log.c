#include "config.h"

/*
 * log_quote: client strings in audit lines.  For every buffer size from
 * the smallest up, and strings plain, escaped and long: the result fits,
 * is printable, decodes to the start of the string, and when cut says
 * how many bytes were left out.  log_hold: lines held for a loop turn
 * go out whole, in order, in few writes.
 */

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "log.h"

/* Decode q into out; the cut count, 0 when whole. */
static size_t
decode(const char *q, char *out, size_t *len)
{
	const char *p = q;
	unsigned int x;
	size_t n = 0;

	if (*p != '"') {
		n = strlen(q);
		memcpy(out, q, n);
		*len = n;
		return 0;
	}
	for (p++; *p != '"'; p++) {
		cr_assert(*p >= ' ' && *p < 0x7f, "raw byte %#x in %s",
		    (unsigned char)*p, q);
		if (*p != '\\') {
			out[n++] = *p;
			continue;
		}
		p++;
		if (*p == 'x') {
			cr_assert(sscanf(p + 1, "%2x", &x) == 1 && p[1] && p[2],
			    "split escape in %s", q);
			out[n++] = (char)x;
			p += 2;
		} else {
			cr_assert(*p == '"' || *p == '\\', "bad escape in %s",
			    q);
			out[n++] = *p;
		}
	}
	*len = n;
	if (p[1] == '\0')
		return 0;
	cr_assert(p[1] == '+', "after the quote: %s", q);
	return strtoul(p + 2, NULL, 10);
}

static void
check(const char *s, unsigned int len)
{
	char buf[512], out[2048];
	const char *q;
	size_t n, cut;

	memset(buf, 0x55, sizeof(buf));
	q = log_quote(s, buf, len);
	cr_assert_lt(strlen(q), len, "len %u: %zu bytes: %s", len, strlen(q),
	    q);
	if (q == buf)
		cr_assert_eq((unsigned char)buf[len], 0x55,
		    "len %u: wrote past the buffer", len);
	cut = decode(q, out, &n);
	cr_assert_eq(n + cut, strlen(s), "len %u: %zu shown + %zu cut of %zu: "
	    "%s", len, n, cut, strlen(s), q);
	cr_assert(memcmp(out, s, n) == 0, "len %u: %s is not the start of "
	    "the string", len, q);
	if (strlen(s) < 10 && len >= 4 * strlen(s) + 3)
		cr_assert_eq(cut, 0, "len %u: cut %s", len, q);
}

Test(log, quote_fits_every_size)
{
	static const char *const strs[] = { "zero", "", "a b", "x=y",
	    "\n", "\"\\", "\xff\x01", "line\nmmapd: audit: event=grant" };
	char big[3000];
	unsigned int len, i;

	for (i = 0; i < sizeof(big) - 1; i++)
		big[i] = "a\n\"\\\xfe b="[i % 8];
	big[sizeof(big) - 1] = '\0';
	for (len = 24; len <= 300; len++) {
		for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
			check(strs[i], len);
		check(big, len);
		check(big + 2000, len);
	}
}

Test(log, quote_plain_and_short_is_itself)
{
	char buf[64];
	const char *s = "zero";

	cr_assert_eq(log_quote(s, buf, sizeof(buf)), s);
	cr_assert_str_eq(log_quote("", buf, sizeof(buf)), "\"\"");
	cr_assert_str_eq(log_quote("a b", buf, sizeof(buf)), "\"a b\"");
	cr_assert_str_eq(log_quote("a\nb", buf, sizeof(buf)), "\"a\\x0ab\"");
}

Test(log, quote_cut_is_marked)
{
	char s[101], buf[32];

	memset(s, 'a', 100);
	s[100] = '\0';
	/*
	 * 32 bytes: the quotes, the NUL, room for +100 (the mark takes
	 * as many digits as the whole length might) and 25 of the a's.
	 */
	cr_assert_str_eq(log_quote(s, buf, sizeof(buf)),
	    "\"aaaaaaaaaaaaaaaaaaaaaaaaa\"+75");
	/* An escape is dropped whole, never split. */
	memset(s, '\n', 100);
	cr_assert_str_eq(log_quote(s, buf, sizeof(buf)),
	    "\"\\x0a\\x0a\\x0a\\x0a\\x0a\\x0a\"+94");
}

/* ----------------------------------------------------------------------
 * Held lines (log_hold): stderr is one end of a SOCK_SEQPACKET pair
 * here, so that each write(2) is one packet and the writes are counted.
 * ---------------------------------------------------------------------- */

static int held_peer = -1, held_saved = -1;

static void
held_setup(void)
{
	int sv[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0, sv), 0, "socketpair: %s", strerror(errno));
	held_saved = dup(STDERR_FILENO);
	cr_assert_geq(held_saved, 0);
	cr_assert_eq(dup2(sv[0], STDERR_FILENO), STDERR_FILENO);
	close(sv[0]);
	held_peer = sv[1];
	unsetenv("JOURNAL_STREAM");
	log_init();
	log_set_timestamps(0);
}

static void
held_teardown(void)
{
	log_hold(0);
	if (held_saved >= 0)
		(void)dup2(held_saved, STDERR_FILENO);
	if (held_saved >= 0)
		close(held_saved);
	if (held_peer >= 0)
		close(held_peer);
}

/* The writes so far: their count, their bytes into buf (NUL ended). */
static int
held_writes(char *buf, size_t len, size_t *max)
{
	size_t off = 0;
	ssize_t n;
	int k = 0;

	*max = 0;
	while ((n = recv(held_peer, buf + off, len - off - 1, 0)) > 0) {
		cr_assert_eq(buf[off + (size_t)n - 1], '\n', "a write ends "
		    "mid-line");
		if ((size_t)n > *max)
			*max = (size_t)n;
		off += (size_t)n;
		k++;
	}
	cr_assert(n < 0 && errno == EAGAIN, "recv: %s", strerror(errno));
	buf[off] = '\0';
	return k;
}

Test(log, held_until_flushed_in_one_write, .init = held_setup,
    .fini = held_teardown)
{
	char buf[8192];
	size_t max;

	log_info("before");
	cr_assert_eq(held_writes(buf, sizeof(buf), &max), 1);
	cr_assert_str_eq(buf, "mmapd: before\n");
	log_hold(1);
	log_notice("audit: event=grant one");
	log_info("two");
	log_warn("three");
	cr_assert_eq(held_writes(buf, sizeof(buf), &max), 0, "written while "
	    "held: %s", buf);
	log_flush();
	cr_assert_eq(held_writes(buf, sizeof(buf), &max), 1);
	cr_assert_str_eq(buf, "mmapd: audit: event=grant one\nmmapd: two\n"
	    "mmapd: three\n");
	log_flush();
	cr_assert_eq(held_writes(buf, sizeof(buf), &max), 0);
	/* Off again: what is held goes first, then lines as they come. */
	log_info("four");
	log_hold(0);
	log_info("five");
	cr_assert_eq(held_writes(buf, sizeof(buf), &max), 2);
	cr_assert_str_eq(buf, "mmapd: four\nmmapd: five\n");
}

Test(log, held_error_goes_at_once, .init = held_setup,
    .fini = held_teardown)
{
	char buf[4096];
	size_t max;

	log_hold(1);
	log_info("one");
	log_err("fatal: %d", 2);
	cr_assert_eq(held_writes(buf, sizeof(buf), &max), 1);
	cr_assert_str_eq(buf, "mmapd: one\nmmapd: fatal: 2\n");
}

/* More than PIPE_BUF held: whole lines, PIPE_BUF at most a write. */
Test(log, held_overflow_writes_whole_lines, .init = held_setup,
    .fini = held_teardown)
{
	char buf[65536], want[65536], pad[201];
	size_t max, off = 0;
	int i, k;

	memset(pad, 'p', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	log_hold(1);
	for (i = 0; i < 100; i++) {
		log_info("line %d %s", i, pad);
		off += (size_t)snprintf(want + off, sizeof(want) - off,
		    "mmapd: line %d %s\n", i, pad);
	}
	k = held_writes(buf, sizeof(buf), &max);
	cr_assert_gt(k, 0, "nothing written with %zu bytes held", off);
	log_flush();
	k += held_writes(buf + strlen(buf), sizeof(buf) - strlen(buf), &max);
	cr_assert_str_eq(buf, want);
	cr_assert_leq(max, PIPE_BUF);
	/* 21,000 bytes in writes of at most 4 KiB: 6 or so, not 100. */
	cr_assert_leq(k, (int)(off / (PIPE_BUF - 300)) + 1, "%d writes", k);
}

/* Another thread's line is not held: only the holder's are. */
static void *
other_thread(void *arg)
{
	(void)arg;
	log_info("from another thread");
	return NULL;
}

Test(log, held_only_for_its_thread, .init = held_setup,
    .fini = held_teardown)
{
	char buf[4096];
	pthread_t t;
	size_t max;

	log_hold(1);
	log_info("held");
	cr_assert_eq(pthread_create(&t, NULL, other_thread, NULL), 0);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(held_writes(buf, sizeof(buf), &max), 1);
	cr_assert_str_eq(buf, "mmapd: from another thread\n");
	log_flush();
	cr_assert_eq(held_writes(buf, sizeof(buf), &max), 1);
	cr_assert_str_eq(buf, "mmapd: held\n");
}
