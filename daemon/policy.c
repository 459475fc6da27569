#include "config.h"

/*
 * The policy: mmapd.conf read into a struct policy, and the one question
 * the daemon asks of it, policy_check().
 *
 * libinih splits "key = value" lines; the loader does the rest itself,
 * through the reader callback of ini_parse_stream(), because Debian's
 * inih 55 is built with its default options and so
 *	- gives the handler no line number (INI_HANDLER_LINENO is 0);
 *	- reports only the first bad line, as its return value;
 *	- never calls the handler for a section without keys, which hides
 *	  a [region] that lacks every required key;
 *	- cuts section names at 50 bytes, shorter than "region " and a
 *	  63-byte region name;
 *	- takes ':' as a separator, '#' only at the start of a line, and an
 *	  indented line as the continuation of the previous value.
 * So the reader counts lines, cuts comments, reads section headers and
 * rejects malformed lines itself (collecting every error, not the first),
 * and hands inih only lines of the form "key=value"; everything else
 * reaches inih as an empty line.  inih calls the handler for a line
 * before it asks the reader for the next one, so the reader's line
 * number is the handler's.
 */

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>

#include "engine.h"
#include "nss.h"
#include "policy.h"

#define DEFAULT_SOCKET_MODE	0666
#define DEFAULT_MEM_PATH	"/dev/mem"
#define DEFAULT_SYSFS_PATH	"/sys/bus/pci/devices"
#define DEFAULT_IOMEM_PATH	"/proc/iomem"
#define REGION_NAME_MAX		63

/*
 * A policy file is a few hundred bytes.  The cap keeps a wrong path
 * (/dev/zero, a log) from being read until memory runs out.
 */
#define POLICY_FILE_MAX		(1u << 20)

#define WHITESPACE		" \t\r\f\v"

/* Where a key may appear. */
#define IN_DAEMON	(1u << 0)
#define IN_ZERO		(1u << 1)
#define IN_MEM		(1u << 2)
#define IN_REGION	(1u << 3)
#define IN_ENTRY	(IN_ZERO | IN_MEM | IN_REGION)
#define IN_LIMITS	(1u << 4)

enum key_id {
	KEY_SOCKET_MODE,
	KEY_SOCKET_GROUP,
	KEY_USER,
	KEY_USERS,
	KEY_GROUPS,
	KEY_MAX_SIZE,
	KEY_SHARED,
	KEY_PROTECTION,
	KEY_CACHE,
	KEY_PATH,
	KEY_IOMEM,
	KEY_DEVICE,
	KEY_BASE,
	KEY_SIZE,
	KEY_RAW_USERS,
	KEY_RAW_GROUPS,
	KEY_PCI,
	KEY_INDEX,
	KEY_BAR,
	KEY_SYSFS,
	KEY_CONNECTIONS,
	KEY_LEASES_PER_UID,
	KEY_ZERO_BYTES_PER_UID,
	KEY_REQUESTS_IN_FLIGHT,
	KEY_CONNECTIONS_PER_UID,
	KEY_CONNECTIONS_RESERVED,
	KEY_ADMIN_GROUP,
	KEY_IDLE_SECONDS,
	KEY_GRANTS_IN_FLIGHT,
	KEY_GRANTS_IN_FLIGHT_PER_UID,
	KEY_NR
};

enum sect {
	SECT_NONE,	/* before the first header */
	SECT_SKIP,	/* a header that was wrong: its keys mean nothing */
	SECT_DAEMON,
	SECT_LIMITS,
	SECT_ENTRY,
};

struct loader {
	struct policy *pol;
	struct policy_errors *errs;
	int err;			/* -ENOMEM once an allocation failed */

	/* The file, read whole; the reader cuts it in place. */
	char *text;
	size_t len;
	size_t pos;
	unsigned int lineno;		/* of the line last handed out */

	/* The section being read. */
	enum sect sect;
	size_t entry;			/* SECT_ENTRY: index in pol->entries */
	unsigned int sect_line;
	char label[256];		/* "[zero]", "[region edu]" */
	unsigned int key_line[KEY_NR];	/* where each key was set; 0: not */
	unsigned int daemon_line;	/* the first [daemon]; 0: none yet */
	unsigned int limits_line;	/* the first [limits]; 0: none yet */
	unsigned int reserved_line;	/* connections_reserved; 0: not given */
};

struct key {
	const char *name;
	unsigned int where;		/* IN_* */
	unsigned int required;		/* IN_* where it must be given */
	void (*set)(struct loader *ld, const char *key, const char *value);
};

static void key_socket_mode(struct loader *, const char *, const char *);
static void key_socket_group(struct loader *, const char *, const char *);
static void key_user(struct loader *, const char *, const char *);
static void key_users(struct loader *, const char *, const char *);
static void key_groups(struct loader *, const char *, const char *);
static void key_max_size(struct loader *, const char *, const char *);
static void key_shared(struct loader *, const char *, const char *);
static void key_protection(struct loader *, const char *, const char *);
static void key_cache(struct loader *, const char *, const char *);
static void key_path(struct loader *, const char *, const char *);
static void key_device(struct loader *, const char *, const char *);
static void key_base(struct loader *, const char *, const char *);
static void key_size(struct loader *, const char *, const char *);
static void key_raw_users(struct loader *, const char *, const char *);
static void key_raw_groups(struct loader *, const char *, const char *);
static void key_pci(struct loader *, const char *, const char *);
static void key_index(struct loader *, const char *, const char *);
static void key_bar(struct loader *, const char *, const char *);
static void key_limit(struct loader *, const char *, const char *);
static void key_admin_group(struct loader *, const char *, const char *);

static const struct key keys[KEY_NR] = {
	[KEY_SOCKET_MODE] =	{ "socket_mode", IN_DAEMON, 0, key_socket_mode },
	[KEY_SOCKET_GROUP] =	{ "socket_group", IN_DAEMON, 0,
				  key_socket_group },
	[KEY_USER] =		{ "user", IN_DAEMON, 0, key_user },
	[KEY_USERS] =		{ "users", IN_ENTRY, 0, key_users },
	[KEY_GROUPS] =		{ "groups", IN_ENTRY, 0, key_groups },
	[KEY_MAX_SIZE] =	{ "max_size", IN_ENTRY, IN_MEM, key_max_size },
	[KEY_SHARED] =		{ "shared", IN_ENTRY, 0, key_shared },
	[KEY_PROTECTION] =	{ "protection", IN_ENTRY, 0, key_protection },
	[KEY_CACHE] =		{ "cache", IN_ENTRY, 0, key_cache },
	[KEY_PATH] =		{ "path", IN_MEM, 0, key_path },
	[KEY_IOMEM] =		{ "iomem", IN_MEM, 0, key_path },
	[KEY_DEVICE] =		{ "device", IN_REGION, IN_REGION, key_device },
	/* base and size are required of mem regions only: see close. */
	[KEY_BASE] =		{ "base", IN_REGION, 0, key_base },
	[KEY_SIZE] =		{ "size", IN_REGION, 0, key_size },
	[KEY_RAW_USERS] =	{ "raw_fd_users", IN_MEM | IN_REGION, 0,
				  key_raw_users },
	[KEY_RAW_GROUPS] =	{ "raw_fd_groups", IN_MEM | IN_REGION, 0,
				  key_raw_groups },
	[KEY_PCI] =		{ "pci", IN_REGION, 0, key_pci },
	[KEY_INDEX] =		{ "index", IN_REGION, 0, key_index },
	[KEY_BAR] =		{ "bar", IN_REGION, 0, key_bar },
	[KEY_SYSFS] =		{ "sysfs", IN_REGION, 0, key_path },
	[KEY_CONNECTIONS] =	{ "connections", IN_LIMITS, 0, key_limit },
	[KEY_LEASES_PER_UID] =	{ "leases_per_uid", IN_LIMITS, 0, key_limit },
	[KEY_ZERO_BYTES_PER_UID] = { "zero_bytes_per_uid", IN_LIMITS, 0,
				  key_limit },
	[KEY_REQUESTS_IN_FLIGHT] = { "requests_in_flight", IN_LIMITS, 0,
				  key_limit },
	[KEY_CONNECTIONS_PER_UID] = { "connections_per_uid", IN_LIMITS, 0,
				  key_limit },
	[KEY_CONNECTIONS_RESERVED] = { "connections_reserved", IN_LIMITS, 0,
				  key_limit },
	[KEY_ADMIN_GROUP] =	{ "admin_group", IN_LIMITS, 0, key_admin_group },
	[KEY_IDLE_SECONDS] =	{ "idle_seconds", IN_LIMITS, 0, key_limit },
	[KEY_GRANTS_IN_FLIGHT] = { "grants_in_flight", IN_LIMITS, 0,
				  key_limit },
	[KEY_GRANTS_IN_FLIGHT_PER_UID] = { "grants_in_flight_per_uid",
				  IN_LIMITS, 0, key_limit },
};

static const char *const cache_names[MAP_CACHE_NR] = {
	[MAP_CACHE_DEFAULT] = "default",
	[MAP_CACHE_CACHED] = "cached",
	[MAP_CACHE_UNCACHED] = "uncached",
	[MAP_CACHE_WC] = "wc",
};

/* ---------------------------------------------------------------------
 * Errors
 * --------------------------------------------------------------------- */

static void loader_error(struct loader *ld, unsigned int line,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
loader_error(struct loader *ld, unsigned int line, const char *fmt, ...)
{
	struct policy_errors *errs = ld->errs;
	struct policy_error *v;
	va_list ap;
	size_t i;

	v = reallocarray(errs->v, errs->n + 1, sizeof(*v));
	if (v == NULL) {
		ld->err = -ENOMEM;
		return;
	}
	errs->v = v;

	/*
	 * File order, stable: a missing key is found when its section ends
	 * but is reported at the section's header, before the errors of the
	 * lines under it.
	 */
	i = errs->n;
	while (i > 0 && v[i - 1].line > line)
		i--;
	memmove(&v[i + 1], &v[i], (errs->n - i) * sizeof(*v));
	v[i].line = line;
	va_start(ap, fmt);
	vsnprintf(v[i].msg, sizeof(v[i].msg), fmt, ap);
	va_end(ap);
	errs->n++;
}

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
static int
parse_digits(const char *s, unsigned int base, uint64_t *out)
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
static int
parse_number(const char *s, uint64_t *out)
{
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return parse_digits(s + 2, 16, out);
	return parse_digits(s, 10, out);
}

/* A number with an optional K, M, G or T: powers of 1024. */
static int
parse_size(const char *s, uint64_t *out)
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
	rc = parse_number(num, &v);
	if (rc < 0)
		return rc;
	if (v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

static int
parse_bool(const char *s, int *out)
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

	rc = parse_digits(s, 10, &v);
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

static int
page_aligned(uint64_t v)
{
	return (v & (map_page_size() - 1)) == 0;
}

static int
region_name_valid(const char *name)
{
	size_t n = strlen(name);

	return n >= 1 && n <= REGION_NAME_MAX &&
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_.-") == n;
}

/* ---------------------------------------------------------------------
 * Names to ids
 * --------------------------------------------------------------------- */

/*
 * One user or group of a list (or socket_group), as a number or a name,
 * into *id.  0 on success; on failure the error is recorded and -1
 * returned.
 */
static int
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

/* ---------------------------------------------------------------------
 * Entries
 * --------------------------------------------------------------------- */

static void
entry_free(struct policy_entry *e)
{
	free(e->name);
	free(e->who.uids);
	free(e->who.gids);
	free(e->path);
	free(e->iomem);
	free(e->device);
	free(e->raw_who.uids);
	free(e->raw_who.gids);
	free(e->pci_address);
	free(e->sysfs);
}

static struct policy *
policy_alloc(void)
{
	struct policy *pol;

	pol = calloc(1, sizeof(*pol));
	if (pol == NULL)
		return NULL;
	pol->socket_mode = DEFAULT_SOCKET_MODE;
	pol->limits.connections = POLICY_DEFAULT_CONNECTIONS;
	pol->limits.leases_per_uid = POLICY_DEFAULT_LEASES_PER_UID;
	pol->limits.zero_bytes_per_uid = POLICY_DEFAULT_ZERO_BYTES_PER_UID;
	pol->limits.requests_in_flight = POLICY_DEFAULT_REQUESTS_IN_FLIGHT;
	pol->limits.connections_per_uid = POLICY_DEFAULT_CONNECTIONS_PER_UID;
	pol->limits.connections_reserved = POLICY_DEFAULT_CONNECTIONS_RESERVED;
	pol->limits.idle_seconds = POLICY_DEFAULT_IDLE_SECONDS;
	pol->limits.grants_in_flight = POLICY_DEFAULT_GRANTS_IN_FLIGHT;
	pol->limits.grants_in_flight_per_uid =
	    POLICY_DEFAULT_GRANTS_IN_FLIGHT_PER_UID;
	return pol;
}

/*
 * Append an entry with the defaults of its kind.  On failure the policy
 * is as it was.
 */
static int
policy_add_entry(struct policy *pol, enum policy_kind kind, const char *name,
    unsigned int line)
{
	struct policy_entry *v, *e;

	v = reallocarray(pol->entries, pol->n_entries + 1, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	pol->entries = v;
	e = &v[pol->n_entries];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->line = line;
	e->cache = MAP_CACHE_DEFAULT;
	e->name = strdup(name);
	if (e->name == NULL)
		goto fail;

	switch (kind) {
	case POLICY_ZERO:
		/* Private zero memory harms no one: the generous kind. */
		e->max_size = POLICY_DEFAULT_MAX;
		e->shared = 1;
		e->write = 1;
		break;
	case POLICY_MEM:
		/* max_size is required: no size suits every machine. */
		e->path = strdup(DEFAULT_MEM_PATH);
		e->iomem = strdup(DEFAULT_IOMEM_PATH);
		if (e->path == NULL || e->iomem == NULL)
			goto fail;
		break;
	case POLICY_REGION:
		/* max_size defaults to size, set when the section ends. */
		break;
	}
	pol->n_entries++;
	return 0;

fail:
	entry_free(e);
	return -ENOMEM;
}

static struct policy_entry *
loader_entry(struct loader *ld)
{
	return &ld->pol->entries[ld->entry];
}

static const struct policy_entry *
entry_lookup(const struct policy *pol, enum policy_kind kind,
    const char *name)
{
	size_t i;

	for (i = 0; i < pol->n_entries; i++) {
		if (pol->entries[i].kind == kind &&
		    strcmp(pol->entries[i].name, name) == 0)
			return &pol->entries[i];
	}
	return NULL;
}

/* ---------------------------------------------------------------------
 * Keys
 * --------------------------------------------------------------------- */

static void
key_socket_mode(struct loader *ld, const char *key, const char *value)
{
	uint64_t v;

	/* Octal only: "660" means what chmod 660 means. */
	if (parse_digits(value, 8, &v) < 0 || v > 0777) {
		loader_error(ld, ld->lineno,
		    "%s: '%s' is not an octal mode from 0 to 0777", key, value);
		return;
	}
	ld->pol->socket_mode = (mode_t)v;
}

static void
key_socket_group(struct loader *ld, const char *key, const char *value)
{
	uint32_t gid;

	if (loader_resolve(ld, key, value, 1, &gid) < 0)
		return;
	ld->pol->socket_group = gid;
	ld->pol->has_socket_group = 1;
}

/*
 * The user mmapd runs as once set up.  Kept as a name: whether it exists
 * is mmapd's start-up to judge, as root, not --check-config's.
 */
static void
key_user(struct loader *ld, const char *key, const char *value)
{
	size_t n = strlen(value);
	char *copy;

	if (n == 0 || n > 32 || value[0] == '-' ||
	    strspn(value, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n) {
		loader_error(ld, ld->lineno, "%s: '%s' is not a user name "
		    "(letters, digits, '.', '_', '-'; at most 32)", key, value);
		return;
	}
	copy = strdup(value);
	if (copy == NULL) {
		ld->err = -ENOMEM;
		return;
	}
	free(ld->pol->user);
	ld->pol->user = copy;
}

/* Append id to *v, which holds *n. */
static int
id_append(uint32_t **v, size_t *n, uint32_t id)
{
	uint32_t *nv;

	nv = reallocarray(*v, *n + 1, sizeof(**v));
	if (nv == NULL)
		return -ENOMEM;
	nv[(*n)++] = id;
	*v = nv;
	return 0;
}

/* users and groups: names or numbers, separated by commas or spaces. */
static void
key_who(struct loader *ld, struct policy_who *who, const char *key,
    const char *value, int is_group)
{
	char *copy, *tok, *save = NULL;
	uint32_t id;
	size_t named = 0;
	int rc;

	/* uid_t and gid_t are what id_append() grows. */
	_Static_assert(sizeof(uid_t) == sizeof(uint32_t) &&
	    sizeof(gid_t) == sizeof(uint32_t), "uid_t or gid_t is not 32 bits");

	copy = strdup(value);
	if (copy == NULL) {
		ld->err = -ENOMEM;
		return;
	}
	for (tok = strtok_r(copy, "," WHITESPACE, &save); tok != NULL;
	    tok = strtok_r(NULL, "," WHITESPACE, &save)) {
		named++;
		if (strcmp(tok, "*") == 0) {
			if (is_group)
				loader_error(ld, ld->lineno, "%s: '*' is for "
				    "users only (users = * allows everyone)",
				    key);
			else
				who->everyone = 1;
			continue;
		}
		if (loader_resolve(ld, key, tok, is_group, &id) < 0)
			continue;
		if (is_group)
			rc = id_append(&who->gids, &who->n_gids, id);
		else
			rc = id_append(&who->uids, &who->n_uids, id);
		if (rc < 0) {
			ld->err = rc;
			break;
		}
	}
	if (named == 0)
		loader_error(ld, ld->lineno, "%s: names no one (leave the key "
		    "out to allow no one)", key);
	free(copy);
}

static void
key_users(struct loader *ld, const char *key, const char *value)
{
	key_who(ld, &loader_entry(ld)->who, key, value, 0);
}

static void
key_groups(struct loader *ld, const char *key, const char *value)
{
	key_who(ld, &loader_entry(ld)->who, key, value, 1);
}

static void
key_raw_users(struct loader *ld, const char *key, const char *value)
{
	key_who(ld, &loader_entry(ld)->raw_who, key, value, 0);
}

static void
key_raw_groups(struct loader *ld, const char *key, const char *value)
{
	key_who(ld, &loader_entry(ld)->raw_who, key, value, 1);
}

/* The message for a size or number parse_size()/parse_number() refused. */
static void
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

static void
key_max_size(struct loader *ld, const char *key, const char *value)
{
	uint64_t v;
	int rc;

	rc = parse_size(value, &v);
	if (rc < 0) {
		loader_bad_number(ld, key, value, rc, "a size");
		return;
	}
	if (v == 0) {
		loader_error(ld, ld->lineno, "%s: 0 allows nothing: give a "
		    "size of at least 1", key);
		return;
	}
	loader_entry(ld)->max_size = v;
}

static void
key_shared(struct loader *ld, const char *key, const char *value)
{
	int v;

	if (parse_bool(value, &v) < 0) {
		loader_error(ld, ld->lineno, "%s: '%s' is not yes or no (yes, "
		    "no, true, false, on, off, 1, 0)", key, value);
		return;
	}
	loader_entry(ld)->shared = v;
}

static void
key_protection(struct loader *ld, const char *key, const char *value)
{
	if (strcmp(value, "r") == 0) {
		loader_entry(ld)->write = 0;
	} else if (strcmp(value, "rw") == 0) {
		loader_entry(ld)->write = 1;
	} else {
		loader_error(ld, ld->lineno, "%s: '%s' is not r or rw", key,
		    value);
	}
}

static void
key_cache(struct loader *ld, const char *key, const char *value)
{
	struct policy_entry *e = loader_entry(ld);
	int c;

	for (c = 0; c < MAP_CACHE_NR; c++) {
		if (strcmp(value, cache_names[c]) == 0)
			break;
	}
	if (c == MAP_CACHE_NR) {
		loader_error(ld, ld->lineno, "%s: '%s' is not default, cached, "
		    "uncached or wc", key, value);
		return;
	}
	/* Whether the device can give it is judged when the section ends. */
	e->cache = (enum map_cache)c;
}

/* path and iomem of [mem], sysfs of a region of pci. */
static void
key_path(struct loader *ld, const char *key, const char *value)
{
	struct policy_entry *e = loader_entry(ld);
	char **field, *copy;

	if (strcmp(key, "path") == 0)
		field = &e->path;
	else if (strcmp(key, "iomem") == 0)
		field = &e->iomem;
	else
		field = &e->sysfs;

	/* The daemon runs from /: a relative path would mean something else. */
	if (value[0] != '/') {
		loader_error(ld, ld->lineno, "%s: '%s' is not an absolute path",
		    key, value);
		return;
	}
	copy = strdup(value);
	if (copy == NULL) {
		ld->err = -ENOMEM;
		return;
	}
	free(*field);
	*field = copy;
}

static void
key_device(struct loader *ld, const char *key, const char *value)
{
	struct policy_entry *e = loader_entry(ld);

	if (strcmp(value, "mem") != 0 && strcmp(value, "pci") != 0) {
		loader_error(ld, ld->lineno, "%s: '%s' is not a device a region "
		    "can be of (mem or pci)", key, value);
		return;
	}
	free(e->device);
	e->device = strdup(value);
	if (e->device == NULL)
		ld->err = -ENOMEM;
	e->is_pci = strcmp(value, "pci") == 0;
}

static int
hex_field(const char *s, size_t n, unsigned int max, unsigned int *out)
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

/*
 * "0000:00:01.0" (domain:bus:device.function, as sysfs names it) or
 * "1234:11e8" (vendor:device, with index saying which one).
 */
static void
key_pci(struct loader *ld, const char *key, const char *value)
{
	struct policy_entry *e = loader_entry(ld);
	unsigned int v[4];
	size_t n = strlen(value);

	if (n == 9 && value[4] == ':' &&
	    hex_field(value, 4, 0xffff, &v[0]) == 0 &&
	    hex_field(value + 5, 4, 0xffff, &v[1]) == 0) {
		e->pci_vendor = v[0];
		e->pci_device = v[1];
		free(e->pci_address);
		e->pci_address = NULL;
		return;
	}
	if (n == 12 && value[4] == ':' && value[7] == ':' && value[10] == '.' &&
	    hex_field(value, 4, 0xffff, &v[0]) == 0 &&
	    hex_field(value + 5, 2, 0xff, &v[1]) == 0 &&
	    hex_field(value + 8, 2, 0x1f, &v[2]) == 0 &&
	    hex_field(value + 11, 1, 7, &v[3]) == 0) {
		free(e->pci_address);
		/* sysfs spells it in lower case. */
		if (asprintf(&e->pci_address, "%04x:%02x:%02x.%x", v[0], v[1],
		    v[2], v[3]) < 0) {
			e->pci_address = NULL;
			ld->err = -ENOMEM;
		}
		return;
	}
	loader_error(ld, ld->lineno, "%s: '%s' is neither an address "
	    "(0000:00:01.0) nor vendor:device (1234:11e8)", key, value);
}

static void
key_index(struct loader *ld, const char *key, const char *value)
{
	uint64_t v;

	if (parse_digits(value, 10, &v) < 0 || v > 255) {
		loader_error(ld, ld->lineno, "%s: '%s' is not a number from 0 "
		    "to 255", key, value);
		return;
	}
	loader_entry(ld)->pci_index = (unsigned int)v;
}

static void
key_bar(struct loader *ld, const char *key, const char *value)
{
	uint64_t v;

	/* BARs 0-5; the expansion ROM is not device memory to hand out. */
	if (parse_digits(value, 10, &v) < 0 || v > 5) {
		loader_error(ld, ld->lineno, "%s: '%s' is not a BAR number from "
		    "0 to 5", key, value);
		return;
	}
	loader_entry(ld)->bar = (unsigned int)v;
}

/*
 * [limits]: counts from 1 to a maximum that keeps what the daemon may
 * hold (fds, reply buffers) within reason; a size from 1 byte up.
 */
static void
key_limit(struct loader *ld, const char *key, const char *value)
{
	struct policy_limits *lim = &ld->pol->limits;
	unsigned int *field;
	uint64_t v, min, max;
	int rc;

	if (strcmp(key, "zero_bytes_per_uid") == 0) {
		rc = parse_size(value, &v);
		if (rc < 0) {
			loader_bad_number(ld, key, value, rc, "a size");
			return;
		}
		if (v == 0) {
			loader_error(ld, ld->lineno, "%s: 0 allows nothing: "
			    "give a size of at least 1", key);
			return;
		}
		lim->zero_bytes_per_uid = v;
		return;
	}
	min = 1;
	if (strcmp(key, "connections") == 0) {
		field = &lim->connections;
		max = POLICY_MAX_CONNECTIONS;
	} else if (strcmp(key, "connections_per_uid") == 0) {
		field = &lim->connections_per_uid;
		max = POLICY_MAX_CONNECTIONS;
	} else if (strcmp(key, "connections_reserved") == 0) {
		/* Checked against connections once the section is read. */
		field = &lim->connections_reserved;
		min = 0;
		max = POLICY_MAX_CONNECTIONS - 1;
		ld->reserved_line = ld->lineno;
	} else if (strcmp(key, "idle_seconds") == 0) {
		/* 0: connections are never closed for being idle. */
		field = &lim->idle_seconds;
		min = 0;
		max = POLICY_MAX_IDLE_SECONDS;
	} else if (strcmp(key, "leases_per_uid") == 0) {
		field = &lim->leases_per_uid;
		max = POLICY_MAX_LEASES_PER_UID;
	} else if (strcmp(key, "grants_in_flight") == 0) {
		field = &lim->grants_in_flight;
		max = POLICY_MAX_GRANTS_IN_FLIGHT;
	} else if (strcmp(key, "grants_in_flight_per_uid") == 0) {
		field = &lim->grants_in_flight_per_uid;
		max = POLICY_MAX_GRANTS_IN_FLIGHT_PER_UID;
	} else {
		field = &lim->requests_in_flight;
		max = POLICY_MAX_REQUESTS_IN_FLIGHT;
	}
	if (parse_number(value, &v) < 0 || v < min || v > max) {
		loader_error(ld, ld->lineno, "%s: '%s' is not a number from %"
		    PRIu64 " to %" PRIu64, key, value, min, max);
		return;
	}
	*field = (unsigned int)v;
}

/* admin_group: a group whose members may use connections_reserved. */
static void
key_admin_group(struct loader *ld, const char *key, const char *value)
{
	uint32_t gid;

	if (loader_resolve(ld, key, value, 1, &gid) < 0)
		return;
	ld->pol->limits.admin_gid = gid;
	ld->pol->limits.has_admin_group = 1;
}

/*
 * The reserve comes out of connections: given, it must leave at least
 * one connection to everyone else; not given, it is the default or a
 * quarter of connections, whichever is less, so that a small
 * connections still serves others.
 */
static void
limits_close(struct loader *ld)
{
	struct policy_limits *lim = &ld->pol->limits;

	if (ld->reserved_line == 0) {
		if (lim->connections_reserved > lim->connections / 4)
			lim->connections_reserved = lim->connections / 4;
		return;
	}
	if (lim->connections_reserved >= lim->connections)
		loader_error(ld, ld->reserved_line, "connections_reserved: %u "
		    "leaves no connection to anyone but root and admin_group "
		    "(connections = %u)", lim->connections_reserved,
		    lim->connections);
}

static void
key_base(struct loader *ld, const char *key, const char *value)
{
	struct policy_entry *e = loader_entry(ld);
	uint64_t v;
	int rc;

	rc = parse_number(value, &v);
	if (rc < 0) {
		loader_bad_number(ld, key, value, rc,
		    "a number (decimal or 0x hex)");
		return;
	}
	if (!page_aligned(v)) {
		loader_error(ld, ld->lineno, "%s: base %#" PRIx64 " is not "
		    "page-aligned", ld->label, v);
		return;
	}
	e->base = v;
}

static void
key_size(struct loader *ld, const char *key, const char *value)
{
	struct policy_entry *e = loader_entry(ld);
	uint64_t v;
	int rc;

	rc = parse_size(value, &v);
	if (rc < 0) {
		loader_bad_number(ld, key, value, rc, "a size");
		return;
	}
	if (v == 0) {
		loader_error(ld, ld->lineno, "%s: size must be greater than 0",
		    ld->label);
		return;
	}
	if (!page_aligned(v)) {
		loader_error(ld, ld->lineno, "%s: size %#" PRIx64 " is not "
		    "page-aligned", ld->label, v);
		return;
	}
	e->size = v;
}

/* ---------------------------------------------------------------------
 * Sections
 * --------------------------------------------------------------------- */

static unsigned int
section_mask(const struct loader *ld)
{
	if (ld->sect == SECT_DAEMON)
		return IN_DAEMON;
	if (ld->sect == SECT_LIMITS)
		return IN_LIMITS;
	switch (ld->pol->entries[ld->entry].kind) {
	case POLICY_ZERO:
		return IN_ZERO;
	case POLICY_MEM:
		return IN_MEM;
	case POLICY_REGION:
		return IN_REGION;
	}
	return 0;
}

/*
 * Refuse at load time a cache mode no request could ever get: /dev/zero
 * has one (cached) mode, /dev/mem cannot be opened for write-combine,
 * and a PCI BAR is never mapped cached.
 */
static void
entry_close_cache(struct loader *ld, struct policy_entry *e)
{
	unsigned int line = ld->key_line[KEY_CACHE];
	enum map_cache c = e->cache;

	if (line == 0 || c == MAP_CACHE_DEFAULT)
		return;
	if (e->kind == POLICY_ZERO && c != MAP_CACHE_CACHED)
		loader_error(ld, line, "cache: /dev/zero has no '%s' mode "
		    "(default or cached)", cache_names[c]);
	else if (e->kind == POLICY_REGION && e->is_pci && c == MAP_CACHE_CACHED)
		loader_error(ld, line, "cache: a PCI BAR is not mapped cached "
		    "(default, uncached or wc)");
	else if (e->kind != POLICY_ZERO && !e->is_pci && c == MAP_CACHE_WC)
		loader_error(ld, line, "cache: /dev/mem cannot give "
		    "write-combine (default, cached or uncached)");
}

/* raw_fd_* hand out /dev/mem: they mean nothing for a PCI BAR. */
static void
entry_close_raw(struct loader *ld, struct policy_entry *e)
{
	unsigned int line = ld->key_line[KEY_RAW_USERS] ?
	    ld->key_line[KEY_RAW_USERS] : ld->key_line[KEY_RAW_GROUPS];

	if (line != 0 && e->kind == POLICY_REGION && e->is_pci)
		loader_error(ld, line, "%s: raw_fd_users and raw_fd_groups are "
		    "for /dev/mem: a pci region hands out only its BAR",
		    ld->label);
}

/* The keys of one kind of region, and none of the other's.  0: wrong. */
static int
region_close_device(struct loader *ld, struct policy_entry *e)
{
	static const int pci_only[] = { KEY_PCI, KEY_INDEX, KEY_BAR, KEY_SYSFS };
	size_t i;
	int ok = 1;

	if (!e->is_pci) {
		for (i = 0; i < sizeof(pci_only) / sizeof(pci_only[0]); i++) {
			if (ld->key_line[pci_only[i]] == 0)
				continue;
			loader_error(ld, ld->key_line[pci_only[i]], "%s: '%s' "
			    "is for regions of pci", ld->label,
			    keys[pci_only[i]].name);
			ok = 0;
		}
		if (ld->key_line[KEY_BASE] == 0 || ld->key_line[KEY_SIZE] == 0) {
			loader_error(ld, ld->sect_line, "%s: a region of mem "
			    "needs base and size", ld->label);
			ok = 0;
		}
		return ok;
	}
	if (ld->key_line[KEY_PCI] == 0) {
		loader_error(ld, ld->sect_line, "%s: a region of pci needs "
		    "'pci' (an address or vendor:device)", ld->label);
		ok = 0;
	}
	if (ld->key_line[KEY_BAR] == 0) {
		loader_error(ld, ld->sect_line, "%s: a region of pci needs "
		    "'bar'", ld->label);
		ok = 0;
	}
	if (ld->key_line[KEY_INDEX] != 0 && e->pci_address != NULL) {
		loader_error(ld, ld->key_line[KEY_INDEX], "%s: 'index' goes with "
		    "pci = vendor:device, not with an address", ld->label);
		ok = 0;
	}
	if (e->sysfs == NULL) {
		e->sysfs = strdup(DEFAULT_SYSFS_PATH);
		if (e->sysfs == NULL)
			ld->err = -ENOMEM;
	}
	return ok;
}

/* The end of a section: what needs every key of it. */
static void
loader_close_section(struct loader *ld)
{
	struct policy_entry *e;
	unsigned int mask, line;
	int k;

	if (ld->sect != SECT_ENTRY)
		return;
	e = loader_entry(ld);
	mask = section_mask(ld);
	for (k = 0; k < KEY_NR; k++) {
		if ((keys[k].required & mask) && ld->key_line[k] == 0)
			loader_error(ld, ld->sect_line,
			    "%s: missing required key '%s'", ld->label,
			    keys[k].name);
	}
	entry_close_cache(ld, e);
	entry_close_raw(ld, e);
	if (e->kind != POLICY_REGION)
		return;
	/* A device that was wrong left e->device NULL: no second error. */
	if (e->device != NULL && !region_close_device(ld, e))
		return;
	if (ld->key_line[KEY_MAX_SIZE] == 0)
		e->max_size = e->size ? e->size : UINT64_MAX;
	/*
	 * base + size must itself be a 64-bit number, so that the daemon
	 * can add them without a second thought.  A key that was wrong left
	 * its field 0, which cannot overflow: no second error for it.
	 */
	if (e->size > UINT64_MAX - e->base) {
		line = ld->key_line[KEY_BASE] > ld->key_line[KEY_SIZE] ?
		    ld->key_line[KEY_BASE] : ld->key_line[KEY_SIZE];
		loader_error(ld, line, "%s: base %#" PRIx64 " + size %#" PRIx64
		    " overflows 64 bits", ld->label, e->base, e->size);
	}
}

/* A new section of an entry: a duplicate is reported, and read all the same. */
static void
loader_open_entry(struct loader *ld, enum policy_kind kind, const char *name)
{
	const struct policy_entry *first;
	int rc;

	first = entry_lookup(ld->pol, kind, name);
	if (first != NULL)
		loader_error(ld, ld->lineno, "duplicate section %s (first at "
		    "line %u)", ld->label, first->line);
	rc = policy_add_entry(ld->pol, kind, name, ld->lineno);
	if (rc < 0) {
		ld->err = rc;
		ld->sect = SECT_SKIP;
		return;
	}
	ld->sect = SECT_ENTRY;
	ld->entry = ld->pol->n_entries - 1;
}

/* s without leading and trailing white space, cut in place. */
static char *
trim(char *s)
{
	size_t n;

	s += strspn(s, WHITESPACE);
	n = strlen(s);
	while (n > 0 && strchr(WHITESPACE, s[n - 1]) != NULL)
		n--;
	s[n] = '\0';
	return s;
}

/* A header line: "[" inner "]", comments and outer space already gone. */
static void
loader_header(struct loader *ld, char *line)
{
	size_t n = strlen(line);
	char *inner, *name;

	loader_close_section(ld);
	memset(ld->key_line, 0, sizeof(ld->key_line));
	ld->sect = SECT_SKIP;
	ld->sect_line = ld->lineno;

	if (line[n - 1] != ']') {
		loader_error(ld, ld->lineno, "section header '%s' does not end "
		    "with ']'", line);
		return;
	}
	line[n - 1] = '\0';
	inner = trim(line + 1);
	snprintf(ld->label, sizeof(ld->label), "[%s]", inner);

	if (strcmp(inner, "daemon") == 0) {
		if (ld->daemon_line != 0)
			loader_error(ld, ld->lineno, "duplicate section [daemon] "
			    "(first at line %u)", ld->daemon_line);
		else
			ld->daemon_line = ld->lineno;
		ld->sect = SECT_DAEMON;
	} else if (strcmp(inner, "limits") == 0) {
		if (ld->limits_line != 0)
			loader_error(ld, ld->lineno, "duplicate section "
			    "[limits] (first at line %u)", ld->limits_line);
		else
			ld->limits_line = ld->lineno;
		ld->sect = SECT_LIMITS;
	} else if (strcmp(inner, "zero") == 0) {
		loader_open_entry(ld, POLICY_ZERO, "zero");
	} else if (strcmp(inner, "mem") == 0) {
		loader_open_entry(ld, POLICY_MEM, "mem");
	} else if (strncmp(inner, "region", 6) == 0 &&
	    (inner[6] == '\0' || strchr(WHITESPACE, inner[6]) != NULL)) {
		name = trim(inner + 6);
		if (*name == '\0') {
			loader_error(ld, ld->lineno, "section [region] needs a "
			    "name: [region NAME]");
			return;
		}
		snprintf(ld->label, sizeof(ld->label), "[region %s]", name);
		if (!region_name_valid(name))
			loader_error(ld, ld->lineno, "%s: '%s' is not a region "
			    "name (1 to %d of A-Z a-z 0-9 _ . -)", ld->label,
			    name, REGION_NAME_MAX);
		else if (strcmp(name, "zero") == 0 || strcmp(name, "mem") == 0)
			loader_error(ld, ld->lineno, "%s: the name '%s' is "
			    "taken by [%s]", ld->label, name, name);
		loader_open_entry(ld, POLICY_REGION, name);
	} else {
		loader_error(ld, ld->lineno, "unknown section %s (expected "
		    "[daemon], [limits], [zero], [mem] or [region NAME])",
		    ld->label);
	}
}

/* ---------------------------------------------------------------------
 * inih's callbacks
 * --------------------------------------------------------------------- */

/*
 * inih's handler: one "key = value" line of the section being read.
 * section is inih's copy of the header, cut at 50 bytes and never set
 * here (the reader keeps headers from inih): the loader's own is used.
 * Always 1: every error is recorded here, never through inih.
 */
static int
loader_handle(void *user, const char *section, const char *name,
    const char *value)
{
	struct loader *ld = user;
	unsigned int mask;
	int k;

	(void)section;
	if (ld->err < 0 || ld->sect == SECT_SKIP)
		return 1;
	if (ld->sect == SECT_NONE) {
		loader_error(ld, ld->lineno, "key '%s' outside any section",
		    name);
		return 1;
	}
	mask = section_mask(ld);
	for (k = 0; k < KEY_NR; k++) {
		if (strcmp(name, keys[k].name) == 0 && (keys[k].where & mask))
			break;
	}
	if (k == KEY_NR) {
		loader_error(ld, ld->lineno, "unknown key '%s' in %s", name,
		    ld->label);
		return 1;
	}
	if (ld->key_line[k] != 0) {
		loader_error(ld, ld->lineno, "duplicate key '%s' in %s (first "
		    "at line %u)", name, ld->label, ld->key_line[k]);
		return 1;
	}
	ld->key_line[k] = ld->lineno;
	if (*value == '\0') {
		loader_error(ld, ld->lineno, "%s: no value", name);
		return 1;
	}
	keys[k].set(ld, name, value);
	return 1;
}

/*
 * inih's reader: the next physical line, made canonical.  A key line
 * goes to inih as it is; anything else (blank, comment, header, error)
 * as an empty line, which inih skips.
 */
static char *
loader_read(char *str, int num, void *stream)
{
	struct loader *ld = stream;
	char *line, *end, *nl, *eq;
	size_t n;

	if (ld->pos >= ld->len)
		return NULL;
	line = ld->text + ld->pos;
	nl = memchr(line, '\n', ld->len - ld->pos);
	end = nl != NULL ? nl : ld->text + ld->len;
	ld->pos = (size_t)(end - ld->text) + (nl != NULL);
	ld->lineno++;
	*end = '\0';		/* text has a byte past len for the last line */
	str[0] = '\0';

	if (strlen(line) != (size_t)(end - line)) {
		loader_error(ld, ld->lineno, "line holds a NUL byte");
		return str;
	}
	if (ld->lineno == 1 && strncmp(line, "\xef\xbb\xbf", 3) == 0)
		line += 3;	/* a UTF-8 byte order mark */

	/* '#' and ';' start a comment anywhere, as the example file says. */
	line[strcspn(line, "#;")] = '\0';
	line = trim(line);
	n = strlen(line);
	if (n == 0)
		return str;
	if (line[0] == '[') {
		loader_header(ld, line);
		return str;
	}

	eq = strchr(line, '=');
	if (eq == NULL) {
		loader_error(ld, ld->lineno, "expected 'key = value' or "
		    "'[section]', not '%s'", line);
		return str;
	}
	if (eq == line) {
		loader_error(ld, ld->lineno, "missing key before '='");
		return str;
	}
	/* inih would split "a:b = c" at the ':'. */
	if (memchr(line, ':', (size_t)(eq - line)) != NULL) {
		*eq = '\0';
		loader_error(ld, ld->lineno, "'%s' is not a key name",
		    trim(line));
		return str;
	}
	/* inih's line buffer holds num bytes, newline and NUL included. */
	if (num < 2 || n > (size_t)num - 2) {
		loader_error(ld, ld->lineno, "line too long: %zu characters "
		    "without the comment, at most %d", n, num - 2);
		return str;
	}
	memcpy(str, line, n);
	str[n] = '\n';
	str[n + 1] = '\0';
	return str;
}

/* ---------------------------------------------------------------------
 * Loading
 * --------------------------------------------------------------------- */

/* The whole file into a malloc'd buffer with one spare byte at the end. */
static int
file_read(const char *path, char **textp, size_t *lenp)
{
	char *buf = NULL, *nbuf;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	for (;;) {
		if (cap - len < 2) {
			cap = cap != 0 ? cap * 2 : 4096;
			nbuf = realloc(buf, cap);
			if (nbuf == NULL) {
				err = -ENOMEM;
				goto fail;
			}
			buf = nbuf;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > POLICY_FILE_MAX) {
			err = -EFBIG;
			goto fail;
		}
	}
	close(fd);
	buf[len] = '\0';
	*textp = buf;
	*lenp = len;
	return 0;

fail:
	free(buf);
	close(fd);
	return err;
}

int
policy_load(const char *path, struct policy **out,
    struct policy_errors *errs)
{
	struct policy_errors local = { NULL, 0 };
	struct loader ld;
	int rc;

	if (errs == NULL)
		errs = &local;
	errs->v = NULL;
	errs->n = 0;
	if (out == NULL || path == NULL)
		return -EINVAL;
	*out = NULL;

	memset(&ld, 0, sizeof(ld));
	ld.errs = errs;
	ld.sect = SECT_NONE;

	rc = file_read(path, &ld.text, &ld.len);
	if (rc < 0) {
		if (rc == -EFBIG)
			loader_error(&ld, 0, "%s: larger than %u bytes: not a "
			    "policy file", path, POLICY_FILE_MAX);
		else
			loader_error(&ld, 0, "cannot read %s: %s", path,
			    strerror(-rc));
		goto out;
	}
	ld.pol = policy_alloc();
	if (ld.pol == NULL) {
		rc = -ENOMEM;
		goto out;
	}

	rc = ini_parse_stream(loader_read, &ld, loader_handle, &ld);
	loader_close_section(&ld);
	limits_close(&ld);
	if (ld.err < 0) {
		rc = ld.err;
		goto out;
	}
	/*
	 * The handler never fails and the reader hands inih only valid
	 * lines, so inih has nothing to say but "out of memory" (-2); any
	 * other complaint means it read a line differently than the reader
	 * thought, and the file is not trusted.
	 */
	if (rc == -2) {
		rc = -ENOMEM;
		goto out;
	}
	if (rc != 0)
		loader_error(&ld, rc > 0 ? (unsigned int)rc : 0,
		    "libinih could not parse this line");
	if (ld.err < 0) {
		rc = ld.err;
		goto out;
	}
	if (errs->n > 0) {
		rc = -EINVAL;
		goto out;
	}
	*out = ld.pol;
	ld.pol = NULL;
	rc = 0;

out:
	policy_free(ld.pol);
	free(ld.text);
	policy_errors_free(&local);
	return rc;
}

int
policy_default(struct policy **out)
{
	struct policy *pol;
	int rc;

	*out = NULL;
	pol = policy_alloc();
	if (pol == NULL)
		return -ENOMEM;
	rc = policy_add_entry(pol, POLICY_ZERO, "zero", 0);
	if (rc < 0) {
		policy_free(pol);
		return rc;
	}
	pol->entries[0].who.everyone = 1;
	*out = pol;
	return 0;
}

void
policy_free(struct policy *pol)
{
	size_t i;

	if (pol == NULL)
		return;
	for (i = 0; i < pol->n_entries; i++)
		entry_free(&pol->entries[i]);
	free(pol->entries);
	free(pol->user);
	free(pol);
}

void
policy_errors_free(struct policy_errors *errs)
{
	if (errs == NULL)
		return;
	free(errs->v);
	errs->v = NULL;
	errs->n = 0;
}

const struct policy_entry *
policy_find(const struct policy *pol, const char *name)
{
	size_t i;

	if (pol == NULL || name == NULL)
		return NULL;
	for (i = 0; i < pol->n_entries; i++) {
		if (strcmp(pol->entries[i].name, name) == 0)
			return &pol->entries[i];
	}
	return NULL;
}

/* ---------------------------------------------------------------------
 * Checking
 * --------------------------------------------------------------------- */

static int
who_has_gid(const struct policy_who *who, gid_t gid)
{
	size_t i;

	for (i = 0; i < who->n_gids; i++) {
		if (who->gids[i] == gid)
			return 1;
	}
	return 0;
}

/* uid 0 is nobody special: root is let in only as the file says. */
static int
who_allows(const struct policy_who *who, const struct policy_peer *peer)
{
	size_t i;

	if (who->everyone)
		return 1;
	for (i = 0; i < who->n_uids; i++) {
		if (who->uids[i] == peer->uid)
			return 1;
	}
	if (who_has_gid(who, peer->gid))
		return 1;
	for (i = 0; i < peer->n_groups; i++) {
		if (who_has_gid(who, peer->groups[i]))
			return 1;
	}
	return 0;
}

/*
 * A request for DEFAULT passes: it leaves the choice to the daemon,
 * which then applies the entry's mode.
 */
static int
cache_allowed(const struct policy_entry *e, enum map_cache cache)
{
	if ((unsigned int)cache >= MAP_CACHE_NR)
		return 0;
	if (cache == MAP_CACHE_DEFAULT || cache == e->cache)
		return 1;
	/*
	 * A cached mapping of device registers returns stale values and
	 * loses writes: only an entry that names it gives it.
	 */
	if (e->kind != POLICY_ZERO && cache == MAP_CACHE_CACHED)
		return 0;
	return e->cache == MAP_CACHE_DEFAULT;
}

/*
 * [offset, offset + size) inside [0, e->size), without overflow.  A pci
 * region of size 0 runs to the end of its BAR, which its driver knows.
 */
static int
region_contains(const struct policy_entry *e, uint64_t offset, uint64_t size)
{
	if (e->is_pci && e->size == 0)
		return 1;
	return offset < e->size && size <= e->size - offset;
}

int
policy_check(const struct policy_entry *e, const struct policy_peer *peer,
    uint64_t offset, uint64_t size, unsigned int flags, enum map_cache cache,
    const char **why)
{
	const char *reason = NULL;
	int rc = 0;

	/* Fail closed on a malformed call: a check must not guess. */
	if (e == NULL || peer == NULL || (peer->n_groups != 0 &&
	    peer->groups == NULL) || (flags & ~MAP_DESC_REQUEST_FLAGS) != 0) {
		rc = -EINVAL;
		reason = "malformed request";
	} else if (!who_allows(&e->who, peer)) {
		rc = -EPERM;
		reason = "user not allowed: not in the entry's users or groups";
	} else if (size > e->max_size) {
		rc = -EFBIG;
		reason = "size over the entry's max_size";
	} else if ((flags & MAP_DESC_SHARED) && !e->shared) {
		rc = -EPERM;
		reason = "shared mapping not allowed: the entry says shared = no";
	} else if ((flags & MAP_DESC_WRITE) && !e->write) {
		rc = -EACCES;
		reason = "write not allowed: the entry says protection = r";
	} else if (!cache_allowed(e, cache)) {
		rc = -EINVAL;
		reason = e->cache == MAP_CACHE_DEFAULT ?
		    "cache mode not allowed: device memory is mapped cached "
		    "only where the entry says cache = cached" :
		    "cache mode not allowed: the entry names another";
	} else if (e->kind == POLICY_REGION &&
	    !region_contains(e, offset, size)) {
		rc = -EINVAL;
		reason = "range outside the region";
	}
	if (why != NULL)
		*why = reason;
	return rc;
}

int
policy_raw_allowed(const struct policy_entry *e,
    const struct policy_peer *peer)
{
	if (e == NULL || peer == NULL || e->kind == POLICY_ZERO || e->is_pci)
		return 0;
	return who_allows(&e->raw_who, peer);
}
