#include "config.h"

/*
 * The values of mmapd.conf's keys: numbers, sizes, yes and no, PCI hex
 * fields, user and group names, and the message for a number refused.
 */

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "nss.h"
#include "policy.h"
#include "policy-int.h"

/* ---------------------------------------------------------------------
 * Values
 * --------------------------------------------------------------------- */

static unsigned int
digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return (unsigned int)(c - '0');
	if (c >= 'a' && c <= 'f')
		return (unsigned int)(c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (unsigned int)(c - 'A' + 10);
	return 99;
}

/*
 * Digits only, in base: no sign, no space, no prefix (strtoull would take
 * all three and wrap "-1" to 2^64 - 1).  -EINVAL: not a number; -ERANGE:
 * a number over 2^64 - 1.
 */
int
policy_parse_digits(const char *s, unsigned int base, uint64_t *out)
{
	uint64_t v = 0;
	unsigned int d;
	int over = 0;

	if (*s == '\0')
		return -EINVAL;
	for (; *s != '\0'; s++) {
		d = digit_value(*s);
		if (d >= base)
			return -EINVAL;
		if (v > (UINT64_MAX - d) / base)
			over = 1;
		v = v * base + d;
	}
	if (over)
		return -ERANGE;
	*out = v;
	return 0;
}

/* Decimal, or hex after 0x. */
int
policy_parse_number(const char *s, uint64_t *out)
{
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return policy_parse_digits(s + 2, 16, out);
	return policy_parse_digits(s, 10, out);
}

/* A number with an optional K, M, G or T: powers of 1024. */
int
policy_parse_size(const char *s, uint64_t *out)
{
	char num[32];
	unsigned int shift = 0;
	size_t n = strlen(s);
	uint64_t v;
	int rc;

	if (n == 0 || n >= sizeof(num))
		return n == 0 ? -EINVAL : -ERANGE;
	switch (s[n - 1]) {
	case 'K': case 'k':
		shift = 10;
		break;
	case 'M': case 'm':
		shift = 20;
		break;
	case 'G': case 'g':
		shift = 30;
		break;
	case 'T': case 't':
		shift = 40;
		break;
	}
	memcpy(num, s, n + 1);
	if (shift != 0)
		num[n - 1] = '\0';
	rc = policy_parse_number(num, &v);
	if (rc < 0)
		return rc;
	if (v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

int
policy_parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -EINVAL;
}

/* A uid or gid: decimal, and never -1, which chown(2) and friends reserve. */
static int
parse_id(const char *s, uint32_t *out)
{
	uint64_t v;
	int rc;

	rc = policy_parse_digits(s, 10, &v);
	if (rc < 0)
		return rc;
	if (v >= UINT32_MAX)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

static int
all_digits(const char *s)
{
	return *s != '\0' && s[strspn(s, "0123456789")] == '\0';
}

int
policy_page_aligned(uint64_t v)
{
	return (v & (map_page_size() - 1)) == 0;
}

int
policy_region_name_valid(const char *name)
{
	size_t n = strlen(name);

	return n >= 1 && n <= REGION_NAME_MAX &&
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_.-") == n;
}

/*
 * The message for a size or number policy_parse_size() or
 * policy_parse_number() refused.
 */
void
loader_bad_number(struct loader *ld, const char *key, const char *value,
    int rc, const char *what)
{
	if (rc == -ERANGE)
		loader_error(ld, ld->lineno,
		    "%s: '%s' is too large (over 2^64 - 1)", key, value);
	else
		loader_error(ld, ld->lineno, "%s: '%s' is not %s", key, value,
		    what);
}

int
policy_hex_field(const char *s, size_t n, unsigned int max, unsigned int *out)
{
	char *end;
	unsigned long v;
	size_t i;

	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 16);
	if (errno != 0 || end != s + n || v > max)
		return -EINVAL;
	*out = (unsigned int)v;
	return 0;
}

/* ---------------------------------------------------------------------
 * Names to ids
 * --------------------------------------------------------------------- */

/*
 * One user or group of a list (or socket_group), as a number or a name,
 * into *id.  0 on success; on failure the error is recorded and -1
 * returned.
 */
int
loader_resolve(struct loader *ld, const char *key, const char *tok,
    int is_group, uint32_t *id)
{
	const char *what = is_group ? "group" : "user";
	struct nss_user u;
	gid_t gid = 0;
	int rc;

	if (all_digits(tok)) {
		if (parse_id(tok, id) < 0) {
			loader_error(ld, ld->lineno, "%s: '%s' is not a valid %s",
			    key, tok, is_group ? "gid" : "uid");
			return -1;
		}
		return 0;
	}
	if (is_group)
		rc = nss_group_by_name(tok, &gid);
	else
		rc = nss_user_by_name(tok, &u);
	if (rc == 0)
		*id = is_group ? gid : u.uid;
	else if (rc == -ENOENT)
		loader_error(ld, ld->lineno, "unknown %s '%s'", what, tok);
	else if (rc == -ENOMEM)
		ld->err = rc;
	else if (rc < 0)
		loader_error(ld, ld->lineno, "cannot look up %s '%s': %s",
		    what, tok, strerror(-rc));
	return rc < 0 ? -1 : 0;
}
