#include "config.h"

/*
 * log_quote: client strings in audit lines.  For every buffer size from
 * the smallest up, and strings plain, escaped and long: the result fits,
 * is printable, decodes to the start of the string, and when cut says
 * how many bytes were left out.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
