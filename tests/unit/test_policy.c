#include "config.h"

/*
 * The policy: mmapd.conf read by policy_load(), the built-in policy, and
 * policy_check().
 *
 * Fixtures in tests/unit/data (their own comments say what they hold):
 *   policy-full.conf    every key of every section, valid
 *   policy-errors.conf  a problem on nearly every line
 *   policy-empty.conf   nothing at all
 * Shorter files are written to a memfd by load_text().  Users and groups
 * are the ones every Debian system has: root, daemon, nobody; root,
 * daemon, nogroup.  The suite also runs under ASan+UBSan with leak
 * detection, so every path frees what it loaded.
 */

#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "policy.h"
#include "helpers.h"

#define KIB		(1ull << 10)
#define MIB		(1ull << 20)
#define RW		(MAP_DESC_SHARED | MAP_DESC_WRITE)

/* Not a pointer policy_load() could return: proves it sets *out. */
#define POL_POISON	((struct policy *)(uintptr_t)0x5a5a5a5a)

/* ---------------------------------------------------------------------
 * Helpers
 * --------------------------------------------------------------------- */

static uid_t
uid_of(const char *name)
{
	struct passwd *pw = getpwnam(name);

	cr_assert_not_null(pw, "user %s is not on this machine", name);
	return pw->pw_uid;
}

static gid_t
gid_of(const char *name)
{
	struct group *gr = getgrnam(name);

	cr_assert_not_null(gr, "group %s is not on this machine", name);
	return gr->gr_gid;
}

/* Every error, one a line, for assertion messages. */
static const char *
errs_text(const struct policy_errors *errs)
{
	static char buf[8192];
	size_t i, off = 0;
	int n;

	buf[0] = '\0';
	for (i = 0; i < errs->n && off < sizeof(buf); i++) {
		n = snprintf(buf + off, sizeof(buf) - off, "\n  line %u: %s",
		    errs->v[i].line, errs->v[i].msg);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	return errs->n != 0 ? buf : " none";
}

static int
load_path(const char *path, struct policy **pol, struct policy_errors *errs)
{
	*pol = POL_POISON;
	return policy_load(path, pol, errs);
}

/* Load text from a memfd: "/proc/self/fd/N" reads like a file. */
static int
load_text(const char *text, struct policy **pol, struct policy_errors *errs)
{
	char path[64];
	int fd, rc;

	fd = text_memfd(text, path, sizeof(path));
	rc = load_path(path, pol, errs);
	close(fd);
	return rc;
}

/* text must load: no errors, a policy. */
static struct policy *
load_ok(const char *text)
{
	struct policy_errors errs;
	struct policy *pol;
	int rc;

	rc = load_text(text, &pol, &errs);
	cr_assert_eq(rc, 0, "policy_load: %d, errors:%s", rc, errs_text(&errs));
	cr_assert_eq(errs.n, 0, "errors on success:%s", errs_text(&errs));
	cr_assert_not_null(pol);
	cr_assert_neq(pol, POL_POISON);
	policy_errors_free(&errs);
	return pol;
}

/* A policy_load() that found errors: -EINVAL, no policy, some errors. */
static void
expect_invalid(int rc, const struct policy *pol,
    const struct policy_errors *errs)
{
	cr_assert_eq(rc, -EINVAL, "policy_load: %d, expected -EINVAL; "
	    "errors:%s", rc, errs_text(errs));
	cr_assert_null(pol, "*out not NULL after an error");
	cr_assert_gt(errs->n, 0, "-EINVAL with no error listed");
}

static void
expect_error(const struct policy_errors *errs, size_t i, unsigned int line,
    const char *msg)
{
	cr_assert_lt(i, errs->n, "error %zu missing (%u: %s); errors:%s", i,
	    line, msg, errs_text(errs));
	cr_assert_eq(errs->v[i].line, line, "error %zu on line %u, expected "
	    "%u; errors:%s", i, errs->v[i].line, line, errs_text(errs));
	cr_assert_str_eq(errs->v[i].msg, msg, "error %zu; errors:%s", i,
	    errs_text(errs));
}

/* text is wrong in exactly one way: this line, this message. */
static void
expect_one_error(const char *text, unsigned int line, const char *msg)
{
	struct policy_errors errs;
	struct policy *pol;
	int rc;

	rc = load_text(text, &pol, &errs);
	expect_invalid(rc, pol, &errs);
	cr_assert_eq(errs.n, 1, "%zu errors, expected 1:%s", errs.n,
	    errs_text(&errs));
	expect_error(&errs, 0, line, msg);
	policy_errors_free(&errs);
}

/* An entry built by hand, for policy_check() alone. */
static struct policy_entry
entry_make(enum policy_kind kind, uint64_t max_size, int shared, int write,
    enum map_cache cache)
{
	struct policy_entry e;

	memset(&e, 0, sizeof(e));
	e.name = kind == POLICY_ZERO ? "zero" : kind == POLICY_MEM ? "mem" :
	    "r";
	e.kind = kind;
	e.max_size = max_size;
	e.shared = shared;
	e.write = write;
	e.cache = cache;
	e.who.everyone = 1;
	return e;
}

static const struct policy_peer peer_user = { 1000, 1000, NULL, 0 };

#define CHECK(e, peer, off, size, flags, cache, err, reason) do {	\
	const char *why_ = "poison";					\
	int rc_ = policy_check((e), (peer), (off), (size), (flags),	\
	    (cache), &why_);						\
	cr_assert_eq(rc_, (err), "policy_check: %d (%s), expected %d",	\
	    rc_, why_ != NULL ? why_ : "no reason", (err));		\
	if ((err) == 0)							\
		cr_assert_null(why_, "a reason on success: %s", why_);	\
	else								\
		cr_assert_str_eq(why_, (reason));			\
} while (0)

#define ALLOWED(e, peer, off, size, flags, cache) \
	CHECK(e, peer, off, size, flags, cache, 0, NULL)

/* The reasons policy_check() gives, one per check. */
#define WHY_WHO		"user not allowed: not in the entry's users or groups"
#define WHY_SIZE	"size over the entry's max_size"
#define WHY_SHARED	"shared mapping not allowed: the entry says shared = no"
#define WHY_WRITE	"write not allowed: the entry says protection = r"
#define WHY_CACHE	"cache mode not allowed: the entry names another"
#define WHY_CACHED	"cache mode not allowed: device memory is mapped " \
			"cached only where the entry says cache = cached"
#define WHY_RANGE	"range outside the region"

/* ---------------------------------------------------------------------
 * Loading valid files
 * --------------------------------------------------------------------- */

Test(policy, load_full)
{
	struct policy_errors errs;
	const struct policy_entry *e;
	struct policy *pol;
	char path[4096];
	int rc;

	data_path(path, sizeof(path), "policy-full.conf");
	rc = load_path(path, &pol, &errs);
	cr_assert_eq(rc, 0, "policy_load: %d, errors:%s", rc, errs_text(&errs));
	cr_assert_eq(errs.n, 0);

	cr_assert_eq(pol->socket_mode, 0640);
	cr_assert(pol->has_socket_group);
	cr_assert_eq(pol->socket_group, gid_of("daemon"));
	cr_assert_eq(pol->n_entries, 6);

	e = &pol->entries[0];
	cr_assert_str_eq(e->name, "zero");
	cr_assert_eq(e->kind, POLICY_ZERO);
	cr_assert_eq(e->line, 10);
	cr_assert(e->who.everyone);
	cr_assert_eq(e->who.n_uids, 0);
	cr_assert_eq(e->who.n_gids, 2);
	cr_assert_eq(e->who.gids[0], gid_of("daemon"));
	cr_assert_eq(e->who.gids[1], gid_of("nogroup"));
	cr_assert_eq(e->max_size, 32 * MIB);
	cr_assert_eq(e->shared, 1);
	cr_assert_eq(e->write, 1);
	cr_assert_eq(e->cache, MAP_CACHE_DEFAULT);
	cr_assert_null(e->path);
	cr_assert_null(e->iomem);
	cr_assert_null(e->device);
	cr_assert_not(e->raw_who.everyone);
	cr_assert_eq(e->raw_who.n_uids + e->raw_who.n_gids, 0);

	e = &pol->entries[1];
	cr_assert_str_eq(e->name, "mem");
	cr_assert_eq(e->kind, POLICY_MEM);
	cr_assert_eq(e->line, 18);
	cr_assert_str_eq(e->path, "/srv/mmapd/mem-standin");
	cr_assert_str_eq(e->iomem, "/srv/mmapd/iomem.txt");
	cr_assert_not(e->who.everyone);
	cr_assert_eq(e->who.n_uids, 1);
	cr_assert_eq(e->who.uids[0], uid_of("root"));
	cr_assert_eq(e->who.n_gids, 0);
	cr_assert_eq(e->max_size, MIB);
	cr_assert_eq(e->shared, 1);
	cr_assert_eq(e->write, 1);
	cr_assert_eq(e->cache, MAP_CACHE_UNCACHED);
	cr_assert_not(e->raw_who.everyone);
	cr_assert_eq(e->raw_who.n_uids, 1);
	cr_assert_eq(e->raw_who.uids[0], uid_of("root"));
	cr_assert_eq(e->raw_who.n_gids, 1);
	cr_assert_eq(e->raw_who.gids[0], gid_of("daemon"));

	e = &pol->entries[2];
	cr_assert_str_eq(e->name, "edu");
	cr_assert_eq(e->kind, POLICY_REGION);
	cr_assert_eq(e->line, 29);
	cr_assert_str_eq(e->device, "mem");
	cr_assert_not(e->is_pci);
	cr_assert_eq(e->base, 0xfe900000ull);
	cr_assert_eq(e->size, MIB);
	cr_assert_eq(e->write, 1);
	cr_assert_eq(e->cache, MAP_CACHE_UNCACHED);
	cr_assert_not(e->who.everyone);
	cr_assert_eq(e->who.n_uids, 3);
	cr_assert_eq(e->who.uids[0], uid_of("daemon"));
	cr_assert_eq(e->who.uids[1], uid_of("nobody"));
	cr_assert_eq(e->who.uids[2], 4242);
	cr_assert_eq(e->who.n_gids, 2);
	cr_assert_eq(e->who.gids[0], gid_of("root"));
	cr_assert_eq(e->who.gids[1], 4343);
	cr_assert_eq(e->max_size, 512 * KIB);
	cr_assert_eq(e->shared, 1);
	cr_assert_null(e->path);
	cr_assert_null(e->iomem);
	cr_assert_null(e->sysfs);
	cr_assert_null(e->pci_address);
	cr_assert_eq(e->raw_who.n_uids, 1);
	cr_assert_eq(e->raw_who.uids[0], uid_of("daemon"));
	cr_assert_eq(e->raw_who.n_gids, 0);

	/* Only the required keys: the region defaults. */
	e = &pol->entries[3];
	cr_assert_str_eq(e->name, "ivshmem.bar2");
	cr_assert_eq(e->kind, POLICY_REGION);
	cr_assert_eq(e->line, 42);
	cr_assert_str_eq(e->device, "mem");
	cr_assert_eq(e->base, 0xfe800000ull);
	cr_assert_eq(e->size, MIB);
	cr_assert_eq(e->max_size, MIB, "max_size defaults to the size");
	cr_assert_eq(e->shared, 0);
	cr_assert_eq(e->write, 0);
	cr_assert_eq(e->cache, MAP_CACHE_DEFAULT);
	cr_assert_not(e->who.everyone);
	cr_assert_eq(e->who.n_uids, 0);
	cr_assert_eq(e->who.n_gids, 0);
	cr_assert_eq(e->raw_who.n_uids + e->raw_who.n_gids, 0);

	/* A BAR by address, spelled as sysfs spells it. */
	e = &pol->entries[4];
	cr_assert_str_eq(e->name, "ahci.abar");
	cr_assert_eq(e->kind, POLICY_REGION);
	cr_assert_eq(e->line, 48);
	cr_assert_str_eq(e->device, "pci");
	cr_assert(e->is_pci);
	cr_assert_str_eq(e->pci_address, "0000:00:1f.2");
	cr_assert_eq(e->bar, 5);
	cr_assert_eq(e->base, 0x1000);
	cr_assert_eq(e->size, 4 * KIB);
	cr_assert_eq(e->max_size, 4 * KIB);
	cr_assert_str_eq(e->sysfs, "/srv/mmapd/sysfs");
	cr_assert_eq(e->who.n_uids, 1);
	cr_assert_eq(e->who.uids[0], uid_of("daemon"));
	cr_assert_eq(e->write, 1);
	cr_assert_eq(e->shared, 1);
	cr_assert_eq(e->cache, MAP_CACHE_UNCACHED);

	/* A BAR by vendor:device and index: all of it, size unknown yet. */
	e = &pol->entries[5];
	cr_assert_str_eq(e->name, "ivshmem.wc");
	cr_assert_eq(e->line, 61);
	cr_assert(e->is_pci);
	cr_assert_null(e->pci_address);
	cr_assert_eq(e->pci_vendor, 0x1af4);
	cr_assert_eq(e->pci_device, 0x1110);
	cr_assert_eq(e->pci_index, 1);
	cr_assert_eq(e->bar, 2);
	cr_assert_eq(e->base, 0);
	cr_assert_eq(e->size, 0);
	cr_assert_eq(e->max_size, UINT64_MAX);
	cr_assert_str_eq(e->sysfs, "/sys/bus/pci/devices");
	cr_assert(e->who.everyone);
	cr_assert_eq(e->write, 0);
	cr_assert_eq(e->shared, 0);
	cr_assert_eq(e->cache, MAP_CACHE_WC);

	policy_errors_free(&errs);
	policy_free(pol);
}

/* Sections with no keys but the required ones take every default. */
Test(policy, load_defaults)
{
	const struct policy_entry *e;
	struct policy *pol;

	pol = load_ok("[daemon]\n[zero]\n[mem]\nmax_size = 4K\n");
	cr_assert_eq(pol->socket_mode, 0666);
	cr_assert_not(pol->has_socket_group);
	cr_assert_eq(pol->n_entries, 2);

	e = &pol->entries[0];
	cr_assert_eq(e->kind, POLICY_ZERO);
	cr_assert_eq(e->max_size, POLICY_DEFAULT_MAX);
	cr_assert_eq(e->shared, 1);
	cr_assert_eq(e->write, 1);
	cr_assert_eq(e->cache, MAP_CACHE_DEFAULT);

	e = &pol->entries[1];
	cr_assert_eq(e->kind, POLICY_MEM);
	cr_assert_str_eq(e->path, "/dev/mem");
	cr_assert_str_eq(e->iomem, "/proc/iomem");
	cr_assert_eq(e->max_size, 4 * KIB);
	cr_assert_eq(e->shared, 0);
	cr_assert_eq(e->write, 0);
	cr_assert_eq(e->cache, MAP_CACHE_DEFAULT);
	policy_free(pol);
}

/* [limits]: each key, in decimal, hex and with a size suffix. */
Test(policy, load_limits)
{
	struct policy *pol;

	pol = load_ok("[zero]\nusers = *\n"
	    "[limits] # the section may come anywhere\n"
	    "connections = 4\n"
	    "leases_per_uid = 0x10\n"
	    "zero_bytes_per_uid = 64K\n"
	    "requests_in_flight = 2\n");
	cr_assert_eq(pol->limits.connections, 4);
	cr_assert_eq(pol->limits.leases_per_uid, 16);
	cr_assert_eq(pol->limits.zero_bytes_per_uid, 64 * KIB);
	cr_assert_eq(pol->limits.requests_in_flight, 2);
	cr_assert_eq(pol->n_entries, 1);
	policy_free(pol);

	/* The extremes. */
	pol = load_ok("[limits]\nconnections = 65536\nleases_per_uid = 1\n"
	    "zero_bytes_per_uid = 18446744073709551615\n"
	    "requests_in_flight = 64\n");
	cr_assert_eq(pol->limits.connections, POLICY_MAX_CONNECTIONS);
	cr_assert_eq(pol->limits.leases_per_uid, 1);
	cr_assert_eq(pol->limits.zero_bytes_per_uid, UINT64_MAX);
	cr_assert_eq(pol->limits.requests_in_flight,
	    POLICY_MAX_REQUESTS_IN_FLIGHT);
	policy_free(pol);

	pol = load_ok("[limits]\nleases_per_uid = 1048576\n"
	    "zero_bytes_per_uid = 1\nconnections = 1\n"
	    "requests_in_flight = 1\n");
	cr_assert_eq(pol->limits.leases_per_uid, POLICY_MAX_LEASES_PER_UID);
	cr_assert_eq(pol->limits.zero_bytes_per_uid, 1);
	cr_assert_eq(pol->limits.connections, 1);
	cr_assert_eq(pol->limits.requests_in_flight, 1);
	policy_free(pol);
}

static void
expect_default_limits(const struct policy *pol)
{
	cr_assert_eq(pol->limits.connections, 128);
	cr_assert_eq(pol->limits.leases_per_uid, 256);
	cr_assert_eq(pol->limits.zero_bytes_per_uid, 1ull << 30);
	cr_assert_eq(pol->limits.requests_in_flight, 8);
}

/* A key or the whole section left out: the default of each. */
Test(policy, load_limits_defaults)
{
	struct policy *pol;

	pol = load_ok("[zero]\n");
	expect_default_limits(pol);
	policy_free(pol);

	pol = load_ok("[limits]\n");
	expect_default_limits(pol);
	policy_free(pol);

	pol = load_ok("[limits]\nleases_per_uid = 3\n");
	cr_assert_eq(pol->limits.leases_per_uid, 3);
	cr_assert_eq(pol->limits.connections, 128);
	cr_assert_eq(pol->limits.zero_bytes_per_uid, 1ull << 30);
	cr_assert_eq(pol->limits.requests_in_flight, 8);
	policy_free(pol);
}

/* [limits] against one client hurting another: connections, fds, time. */
Test(policy, load_limits_fairness)
{
	struct policy *pol;

	pol = load_ok("[limits]\n");
	cr_assert_eq(pol->limits.connections_per_uid, 32);
	cr_assert_eq(pol->limits.connections_reserved, 4);
	cr_assert_eq(pol->limits.has_admin_group, 0);
	cr_assert_eq(pol->limits.idle_seconds, 60);
	cr_assert_eq(pol->limits.grants_in_flight, 8);
	cr_assert_eq(pol->limits.grants_in_flight_per_uid, 32);
	policy_free(pol);

	pol = load_ok("[limits]\nconnections = 16\nconnections_per_uid = 2\n"
	    "connections_reserved = 15\nadmin_group = 4242\n"
	    "idle_seconds = 0\ngrants_in_flight = 1024\n"
	    "grants_in_flight_per_uid = 65536\n");
	cr_assert_eq(pol->limits.connections_per_uid, 2);
	cr_assert_eq(pol->limits.connections_reserved, 15);
	cr_assert_eq(pol->limits.has_admin_group, 1);
	cr_assert_eq(pol->limits.admin_gid, 4242);
	cr_assert_eq(pol->limits.idle_seconds, 0);
	cr_assert_eq(pol->limits.grants_in_flight, POLICY_MAX_GRANTS_IN_FLIGHT);
	cr_assert_eq(pol->limits.grants_in_flight_per_uid,
	    POLICY_MAX_GRANTS_IN_FLIGHT_PER_UID);
	policy_free(pol);

	/* The reserve by default: 4, at most a quarter of connections. */
	pol = load_ok("[limits]\nconnections = 8\n");
	cr_assert_eq(pol->limits.connections_reserved, 2);
	policy_free(pol);
	pol = load_ok("[limits]\nconnections = 3\n");
	cr_assert_eq(pol->limits.connections_reserved, 0);
	policy_free(pol);

	/* Given, it must leave someone else a connection, wherever it is. */
	expect_one_error("[limits]\nconnections_reserved = 4\n"
	    "connections = 4\n", 2, "connections_reserved: 4 leaves no "
	    "connection to anyone but root and admin_group (connections = 4)");
	expect_one_error("[limits]\nidle_seconds = 86401\n", 2,
	    "idle_seconds: '86401' is not a number from 0 to 86400");
	expect_one_error("[limits]\ngrants_in_flight = 0\n", 2,
	    "grants_in_flight: '0' is not a number from 1 to 1024");
	expect_one_error("[limits]\nconnections_per_uid = -1\n", 2,
	    "connections_per_uid: '-1' is not a number from 1 to 65536");
	expect_one_error("[limits]\nadmin_group = no-such-group-here\n", 2,
	    "unknown group 'no-such-group-here'");
	expect_one_error("[zero]\nidle_seconds = 5\n", 2,
	    "unknown key 'idle_seconds' in [zero]");
}

/*
 * [daemon] user: the name mmapd runs as once set up, kept as written
 * (mmapd looks it up at start-up, as root); absent, NULL.
 */
Test(policy, daemon_user)
{
	struct policy *pol;

	pol = load_ok("[daemon]\nsocket_mode = 0660\n[zero]\n");
	cr_assert_null(pol->user);
	policy_free(pol);

	pol = load_ok("[daemon]\nuser = mmapd\n");
	cr_assert_str_eq(pol->user, "mmapd");
	policy_free(pol);

	/* Not looked up: a user this machine lacks is start-up's to judge. */
	pol = load_ok("[daemon]\nuser = svc_mmapd-2.x\n");
	cr_assert_str_eq(pol->user, "svc_mmapd-2.x");
	policy_free(pol);

	pol = load_ok("[daemon]\nuser = 65534\n");
	cr_assert_str_eq(pol->user, "65534");
	policy_free(pol);

	expect_one_error("[daemon]\nuser = -mmapd\n", 2,
	    "user: '-mmapd' is not a user name (letters, digits, '.', '_', "
	    "'-'; at most 32)");
	expect_one_error("[daemon]\nsocket_mode = 0600\nuser = a/b\n", 3,
	    "user: 'a/b' is not a user name (letters, digits, '.', '_', "
	    "'-'; at most 32)");
	expect_one_error("[daemon]\nuser = "
	    "abcdefghijklmnopqrstuvwxyz0123456\n", 2,
	    "user: 'abcdefghijklmnopqrstuvwxyz0123456' is not a user name "
	    "(letters, digits, '.', '_', '-'; at most 32)");
	expect_one_error("[daemon]\nuser = a\nuser = b\n", 3,
	    "duplicate key 'user' in [daemon] (first at line 2)");
	/* Only in [daemon]. */
	expect_one_error("[zero]\nuser = mmapd\n", 2,
	    "unknown key 'user' in [zero]");
}

/* An empty file is valid and offers nothing. */
Test(policy, load_empty_file)
{
	struct policy_errors errs;
	struct policy *pol;
	char path[4096];
	int rc;

	data_path(path, sizeof(path), "policy-empty.conf");
	rc = load_path(path, &pol, &errs);
	cr_assert_eq(rc, 0, "policy_load: %d, errors:%s", rc, errs_text(&errs));
	cr_assert_eq(errs.n, 0);
	cr_assert_not_null(pol);
	cr_assert_eq(pol->n_entries, 0);
	cr_assert_eq(pol->socket_mode, 0666);
	cr_assert_null(policy_find(pol, "zero"));
	policy_errors_free(&errs);
	policy_free(pol);

	/* Comments and blank lines alone are just as empty. */
	pol = load_ok("# nothing\n\n   ; still nothing\n");
	cr_assert_eq(pol->n_entries, 0);
	policy_free(pol);
}

/*
 * The syntax libinih alone would get wrong: '#' after a value, an
 * indented line (inih's continuation), CRLF, a byte order mark, no final
 * newline, spaces inside the header.
 */
Test(policy, load_comments_and_whitespace)
{
	const struct policy_entry *e;
	struct policy *pol;

	pol = load_ok("\xef\xbb\xbf# byte order mark, then a comment\r\n"
	    "[zero] ; /dev/zero\r\n"
	    "  users = root   # root only\r\n"
	    "\tmax_size = 1M;a cap\r\n"
	    "\n"
	    "[ region   spaced ]\n"
	    "device = mem\n"
	    "base = 0 # at zero\n"
	    "size = 4K\n"
	    "shared = no");
	cr_assert_eq(pol->n_entries, 2);
	e = &pol->entries[0];
	cr_assert_eq(e->who.n_uids, 1);
	cr_assert_eq(e->who.uids[0], uid_of("root"));
	cr_assert_eq(e->max_size, MIB);
	cr_assert_eq(e->line, 2);
	e = &pol->entries[1];
	cr_assert_str_eq(e->name, "spaced");
	cr_assert_eq(e->base, 0);
	cr_assert_eq(e->size, 4 * KIB);
	cr_assert_eq(e->shared, 0);
	policy_free(pol);
}

/* Numbers: hex, suffixes in either case, octal socket_mode. */
Test(policy, load_numbers)
{
	const struct policy_entry *e;
	struct policy *pol;

	pol = load_ok("[daemon]\nsocket_mode = 600\n"
	    "[mem]\nmax_size = 0x10000000000\n"
	    "[region big]\ndevice = mem\nbase = 0xffffffffffffe000\n"
	    "size = 4k\nmax_size = 16777215T\n");
	cr_assert_eq(pol->socket_mode, 0600);
	e = &pol->entries[0];
	cr_assert_eq(e->max_size, 1ull << 40);
	e = &pol->entries[1];
	cr_assert_eq(e->base, 0xffffffffffffe000ull);
	cr_assert_eq(e->size, 4 * KIB);
	cr_assert_eq(e->max_size, 16777215ull << 40);
	policy_free(pol);
}

/* A region name may be 63 bytes: more than inih's 50-byte sections. */
Test(policy, load_long_region_name)
{
	static const char name63[] =
	    "r23456789012345678901234567890123456789012345678901234567890123";
	char text[256];
	struct policy *pol;

	cr_assert_eq(strlen(name63), 63);
	snprintf(text, sizeof(text), "[region %s]\ndevice = mem\nbase = 0\n"
	    "size = 4K\n", name63);
	pol = load_ok(text);
	cr_assert_eq(pol->n_entries, 1);
	cr_assert_str_eq(pol->entries[0].name, name63);
	cr_assert_not_null(policy_find(pol, name63));
	policy_free(pol);

	snprintf(text, sizeof(text), "[region %sx]\ndevice = mem\nbase = 0\n"
	    "size = 4K\n", name63);
	expect_one_error(text, 1, "[region r23456789012345678901234567890"
	    "123456789012345678901234567890123x]: 'r234567890123456789012345"
	    "67890123456789012345678901234567890123x' is not a region name "
	    "(1 to 63 of A-Z a-z 0-9 _ . -)");
}

/* A long comment costs nothing; only what is left counts. */
Test(policy, load_long_lines)
{
	char text[1024], users[512];
	struct policy *pol;
	size_t n;

	/* 12 + 93 * 2 = 198 characters: the longest line inih takes. */
	n = (size_t)snprintf(users, sizeof(users), "users = root");
	while (n < 198)
		n += (size_t)snprintf(users + n, sizeof(users) - n, " 0");
	cr_assert_eq(strlen(users), 198);
	snprintf(text, sizeof(text), "[zero]\n%s # %0300d\n", users, 0);
	pol = load_ok(text);
	cr_assert_eq(pol->entries[0].who.n_uids, 94);
	policy_free(pol);

	snprintf(text, sizeof(text), "[zero]\n%s0\n", users);
	expect_one_error(text, 2, "line too long: 199 characters without the "
	    "comment, at most 198");
}

/* ---------------------------------------------------------------------
 * Who
 * --------------------------------------------------------------------- */

Test(policy, users_and_groups_by_name)
{
	const struct policy_who *who;
	struct policy *pol;

	pol = load_ok("[zero]\nusers = root, daemon nobody\n"
	    "groups = root,daemon,nogroup\n");
	who = &pol->entries[0].who;
	cr_assert_not(who->everyone);
	cr_assert_eq(who->n_uids, 3);
	cr_assert_eq(who->uids[0], uid_of("root"));
	cr_assert_eq(who->uids[1], uid_of("daemon"));
	cr_assert_eq(who->uids[2], uid_of("nobody"));
	cr_assert_eq(who->n_gids, 3);
	cr_assert_eq(who->gids[0], gid_of("root"));
	cr_assert_eq(who->gids[1], gid_of("daemon"));
	cr_assert_eq(who->gids[2], gid_of("nogroup"));
	policy_free(pol);
}

/* A number is taken as it is, whether or not anyone has it. */
Test(policy, numeric_ids)
{
	const struct policy_who *who;
	struct policy *pol;

	cr_assert_null(getpwuid(4242), "uid 4242 exists here: pick another");
	pol = load_ok("[daemon]\nsocket_group = 4343\n"
	    "[zero]\nusers = 4242 0\ngroups = 4343, 65534\n");
	cr_assert(pol->has_socket_group);
	cr_assert_eq(pol->socket_group, 4343);
	who = &pol->entries[0].who;
	cr_assert_eq(who->n_uids, 2);
	cr_assert_eq(who->uids[0], 4242);
	cr_assert_eq(who->uids[1], 0);
	cr_assert_eq(who->n_gids, 2);
	cr_assert_eq(who->gids[0], 4343);
	cr_assert_eq(who->gids[1], 65534);
	policy_free(pol);

	/* -1 is no one's id: chown(2) reserves it. */
	expect_one_error("[zero]\nusers = 4294967295\n", 2,
	    "users: '4294967295' is not a valid uid");
	expect_one_error("[zero]\ngroups = 99999999999999999999\n", 2,
	    "groups: '99999999999999999999' is not a valid gid");
}

Test(policy, unknown_user)
{
	cr_assert_null(getpwnam("nosuchuser"));
	expect_one_error("[zero]\nusers = root, nosuchuser daemon\n", 2,
	    "unknown user 'nosuchuser'");
}

Test(policy, unknown_group)
{
	cr_assert_null(getgrnam("nosuchgroup"));
	expect_one_error("[zero]\nusers = root\n\ngroups = nosuchgroup\n", 4,
	    "unknown group 'nosuchgroup'");
	expect_one_error("[daemon]\nsocket_group = nosuchgroup\n", 2,
	    "unknown group 'nosuchgroup'");
}

Test(policy, users_star)
{
	static const gid_t groups[] = { 4, 5 };
	const struct policy_peer anyone = { 31337, 31337, groups, 2 };
	const struct policy_peer root = { 0, 0, NULL, 0 };
	const struct policy_entry *e;
	struct policy *pol;

	pol = load_ok("[zero]\nusers = *\n");
	e = policy_find(pol, "zero");
	cr_assert(e->who.everyone);
	cr_assert_eq(e->who.n_uids, 0);
	ALLOWED(e, &anyone, 0, MIB, 0, MAP_CACHE_DEFAULT);
	ALLOWED(e, &root, 0, MIB, 0, MAP_CACHE_DEFAULT);
	policy_free(pol);
}

/* Neither users nor groups: no one, root included. */
Test(policy, default_deny)
{
	const struct policy_peer root = { 0, 0, NULL, 0 };
	const struct policy_entry *e;
	struct policy *pol;

	pol = load_ok("[zero]\nmax_size = 1M\n[region r]\ndevice = mem\n"
	    "base = 0x1000\nsize = 4K\n");
	e = policy_find(pol, "zero");
	cr_assert_not(e->who.everyone);
	cr_assert_eq(e->who.n_uids + e->who.n_gids, 0);
	CHECK(e, &root, 0, 4096, 0, MAP_CACHE_DEFAULT, -EPERM, WHY_WHO);
	CHECK(e, &peer_user, 0, 4096, 0, MAP_CACHE_DEFAULT, -EPERM, WHY_WHO);
	e = policy_find(pol, "r");
	CHECK(e, &root, 0, 4096, 0, MAP_CACHE_DEFAULT, -EPERM, WHY_WHO);
	policy_free(pol);
}

/* ---------------------------------------------------------------------
 * Errors
 * --------------------------------------------------------------------- */

/*
 * Criterion runs a parameterized test in a fresh process (BoxFort
 * re-executes the binary), where a pointer into this one means nothing:
 * the strings are copied into the parameter.
 */
struct err_case {
	char text[256];
	unsigned int line;
	char msg[200];
};

#define REGION(name, rest) \
	"[region " name "]\ndevice = mem\nbase = 0\nsize = 4K\n" rest
#define PCI(name, rest) \
	"[region " name "]\ndevice = pci\npci = 1234:11e8\nbar = 0\n" rest
/* pci = takes an address or vendor:device, exactly. */
#define PCI_BAD(value) \
	{ "[region e]\ndevice = pci\nbar = 0\npci = " value "\n", 4, \
	  "pci: '" value "' is neither an address (0000:00:01.0) nor " \
	  "vendor:device (1234:11e8)" }

ParameterizedTestParameters(policy, error_kinds)
{
	static struct err_case cases[] = {
		/* Structure */
		{ "users = root\n", 1, "key 'users' outside any section" },
		{ "[zero]\nusers\n", 2,
		  "expected 'key = value' or '[section]', not 'users'" },
		{ "[zero]\nusers: root\n", 2,
		  "expected 'key = value' or '[section]', not 'users: root'" },
		{ "[zero]\nusers: a = root\n", 2,
		  "'users: a' is not a key name" },
		{ "[zero]\n = root\n", 2, "missing key before '='" },
		{ "[zero]\nusers =\n", 2, "users: no value" },
		{ "[zero]\nusers = # nobody\n", 2, "users: no value" },
		{ "[zero\nusers = root\n", 1,
		  "section header '[zero' does not end with ']'" },
		{ "[zero]\nusers = root\nusers = daemon\n", 3,
		  "duplicate key 'users' in [zero] (first at line 2)" },

		/* Sections */
		{ "[zero]\n\n[zero]\n", 3,
		  "duplicate section [zero] (first at line 1)" },
		{ "[mem]\nmax_size = 1M\n[mem]\nmax_size = 1M\n", 3,
		  "duplicate section [mem] (first at line 1)" },
		{ "[daemon]\n[daemon]\n", 2,
		  "duplicate section [daemon] (first at line 1)" },
		{ REGION("a", "") REGION("b", "") REGION("a", ""), 9,
		  "duplicate section [region a] (first at line 1)" },
		{ "[Zero]\nusers = root\nanything = goes\n", 1,
		  "unknown section [Zero] (expected [daemon], [limits], "
		  "[zero], [mem], [region NAME] or [shm NAME])" },
		{ "[zeros]\n", 1, "unknown section [zeros] (expected [daemon], "
		  "[limits], [zero], [mem], [region NAME] or [shm NAME])" },
		{ "[limit]\n", 1, "unknown section [limit] (expected [daemon], "
		  "[limits], [zero], [mem], [region NAME] or [shm NAME])" },
		{ "[region]\ndevice = mem\n", 1,
		  "section [region] needs a name: [region NAME]" },
		{ REGION("a/b", ""), 1, "[region a/b]: 'a/b' is not a region "
		  "name (1 to 63 of A-Z a-z 0-9 _ . -)" },
		{ REGION("a b", ""), 1, "[region a b]: 'a b' is not a region "
		  "name (1 to 63 of A-Z a-z 0-9 _ . -)" },
		{ REGION("zero", ""), 1,
		  "[region zero]: the name 'zero' is taken by [zero]" },
		{ REGION("mem", ""), 1,
		  "[region mem]: the name 'mem' is taken by [mem]" },

		/* Keys */
		{ "[zero]\nsizes = 64M\n", 2, "unknown key 'sizes' in [zero]" },
		{ "[zero]\nUsers = root\n", 2, "unknown key 'Users' in [zero]" },
		{ "[zero]\npath = /dev/zero\n", 2,
		  "unknown key 'path' in [zero]" },
		{ "[daemon]\nusers = root\n", 2,
		  "unknown key 'users' in [daemon]" },
		{ "[mem]\nmax_size = 1M\nbase = 0\n", 3,
		  "unknown key 'base' in [mem]" },
		{ REGION("edu", "iomem = /proc/iomem\n"), 5,
		  "unknown key 'iomem' in [region edu]" },

		/* Missing keys: reported at the section's header */
		{ "[mem]\nusers = root\n", 1,
		  "[mem]: missing required key 'max_size'" },
		{ "[region r]\nbase = 0\nsize = 4K\n", 1,
		  "[region r]: missing required key 'device'" },
		{ "[region r]\ndevice = mem\nsize = 4K\n", 1,
		  "[region r]: a region of mem needs base and size" },
		{ "[region r]\ndevice = mem\nbase = 0\n", 1,
		  "[region r]: a region of mem needs base and size" },
		{ "[region r]\ndevice = mem\n", 1,
		  "[region r]: a region of mem needs base and size" },
		{ "[region r]\ndevice = pci\nbar = 0\n", 1,
		  "[region r]: a region of pci needs 'pci' (an address or "
		  "vendor:device)" },
		{ "[region r]\ndevice = pci\npci = 1234:11e8\n", 1,
		  "[region r]: a region of pci needs 'bar'" },

		/* Values */
		{ "[zero]\nmax_size = 12Q\n", 2, "max_size: '12Q' is not a size" },
		{ "[zero]\nmax_size = M\n", 2, "max_size: 'M' is not a size" },
		{ "[zero]\nmax_size = -1\n", 2, "max_size: '-1' is not a size" },
		{ "[zero]\nmax_size = 0x\n", 2, "max_size: '0x' is not a size" },
		{ "[zero]\nmax_size = 1 M\n", 2, "max_size: '1 M' is not a size" },
		{ "[zero]\nmax_size = 16777216T\n", 2,
		  "max_size: '16777216T' is too large (over 2^64 - 1)" },
		{ "[zero]\nmax_size = 18446744073709551616\n", 2,
		  "max_size: '18446744073709551616' is too large (over 2^64 - 1)" },
		{ "[zero]\nmax_size = 0\n", 2,
		  "max_size: 0 allows nothing: give a size of at least 1" },
		{ "[zero]\nshared = maybe\n", 2, "shared: 'maybe' is not yes or no "
		  "(yes, no, true, false, on, off, 1, 0)" },
		{ "[zero]\nprotection = w\n", 2, "protection: 'w' is not r or rw" },
		{ "[zero]\ncache = fast\n", 2, "cache: 'fast' is not default, "
		  "cached, uncached or wc" },
		{ "[zero]\ncache = uncached\n", 2, "cache: /dev/zero has no "
		  "'uncached' mode (default or cached)" },
		{ "[mem]\nmax_size = 1M\ncache = wc\n", 3, "cache: /dev/mem cannot "
		  "give write-combine (default, cached or uncached)" },
		{ "[mem]\nmax_size = 1M\npath = dev/mem\n", 3,
		  "path: 'dev/mem' is not an absolute path" },
		{ "[mem]\nmax_size = 1M\niomem = iomem.txt\n", 3,
		  "iomem: 'iomem.txt' is not an absolute path" },
		{ "[daemon]\nsocket_mode = 0999\n", 2, "socket_mode: '0999' is "
		  "not an octal mode from 0 to 0777" },
		{ "[daemon]\nsocket_mode = 01777\n", 2, "socket_mode: '01777' is "
		  "not an octal mode from 0 to 0777" },
		{ "[zero]\nusers = , ,\n", 2, "users: names no one (leave the key "
		  "out to allow no one)" },
		{ "[zero]\ngroups = *\n", 2, "groups: '*' is for users only "
		  "(users = * allows everyone)" },
		{ "[zero]\nusers = nosuchuser\n", 2, "unknown user 'nosuchuser'" },
		{ "[zero]\ngroups = nosuchgroup\n", 2,
		  "unknown group 'nosuchgroup'" },

		/* Regions */
		{ "[region x]\ndevice = mem\nbase = 0x1001\nsize = 4K\n", 3,
		  "[region x]: base 0x1001 is not page-aligned" },
		{ "[region x]\ndevice = mem\nbase = 0xfg\nsize = 4K\n", 3,
		  "base: '0xfg' is not a number (decimal or 0x hex)" },
		{ "[region x]\ndevice = mem\nbase = 1M\nsize = 4K\n", 3,
		  "base: '1M' is not a number (decimal or 0x hex)" },
		{ "[region x]\ndevice = mem\nbase = 0\nsize = 0x1800\n", 4,
		  "[region x]: size 0x1800 is not page-aligned" },
		{ "[region x]\ndevice = mem\nbase = 0\nsize = 0\n", 4,
		  "[region x]: size must be greater than 0" },
		{ "[region x]\ndevice = zero\nbase = 0\nsize = 4K\n", 2,
		  "device: 'zero' is not a device a region can be of "
		  "(mem or pci)" },
		{ "[region x]\ndevice = mem\nbase = 0xfffffffffffff000\n"
		  "size = 8K\n", 4, "[region x]: base 0xfffffffffffff000 + "
		  "size 0x2000 overflows 64 bits" },
		/* Ending at 2^64 exactly is already too far. */
		{ "[region x]\ndevice = mem\nsize = 4K\n"
		  "base = 0xfffffffffffff000\n", 4, "[region x]: base "
		  "0xfffffffffffff000 + size 0x1000 overflows 64 bits" },

		/* Regions of pci */
		{ "[region e]\ndevice = pci\npci = 0000:00:01.0\nindex = 1\n"
		  "bar = 0\n", 4, "[region e]: 'index' goes with pci = "
		  "vendor:device, not with an address" },
		{ "[region e]\ndevice = pci\npci = 1234:11e8\nbar = 6\n", 4,
		  "bar: '6' is not a BAR number from 0 to 5" },
		{ "[region e]\ndevice = pci\npci = 1234:11e8\nbar = -1\n", 4,
		  "bar: '-1' is not a BAR number from 0 to 5" },
		{ "[region e]\ndevice = pci\npci = 1234:11e8\nbar = 0x1\n", 4,
		  "bar: '0x1' is not a BAR number from 0 to 5" },
		{ PCI("e", "index = 256\n"), 5,
		  "index: '256' is not a number from 0 to 255" },
		{ PCI("e", "index = one\n"), 5,
		  "index: 'one' is not a number from 0 to 255" },
		{ PCI("e", "sysfs = sys/bus/pci/devices\n"), 5,
		  "sysfs: 'sys/bus/pci/devices' is not an absolute path" },
		{ PCI("e", "base = 0x800\n"), 5,
		  "[region e]: base 0x800 is not page-aligned" },
		{ PCI("e", "raw_fd_users = root\n"), 5, "[region e]: "
		  "raw_fd_users and raw_fd_groups are for /dev/mem: a pci "
		  "region hands out only its BAR" },
		{ PCI("e", "raw_fd_groups = root\n"), 5, "[region e]: "
		  "raw_fd_users and raw_fd_groups are for /dev/mem: a pci "
		  "region hands out only its BAR" },
		{ PCI("e", "cache = cached\n"), 5, "cache: a PCI BAR is not "
		  "mapped cached (default, uncached or wc)" },
		{ REGION("r", "pci = 1234:11e8\n"), 5,
		  "[region r]: 'pci' is for regions of pci" },
		{ REGION("r", "bar = 0\n"), 5,
		  "[region r]: 'bar' is for regions of pci" },
		{ REGION("r", "index = 0\n"), 5,
		  "[region r]: 'index' is for regions of pci" },
		{ REGION("r", "sysfs = /sys\n"), 5,
		  "[region r]: 'sysfs' is for regions of pci" },
		{ REGION("r", "cache = wc\n"), 5, "cache: /dev/mem cannot "
		  "give write-combine (default, cached or uncached)" },
		{ "[zero]\ncache = wc\n", 2, "cache: /dev/zero has no 'wc' "
		  "mode (default or cached)" },
		{ "[zero]\nraw_fd_users = root\n", 2,
		  "unknown key 'raw_fd_users' in [zero]" },
		{ "[zero]\nraw_fd_groups = root\n", 2,
		  "unknown key 'raw_fd_groups' in [zero]" },
		{ "[mem]\nmax_size = 1M\nraw_fd_users = nosuchuser\n", 3,
		  "unknown user 'nosuchuser'" },
		{ "[mem]\nmax_size = 1M\nraw_fd_groups = *\n", 3,
		  "raw_fd_groups: '*' is for users only (users = * allows "
		  "everyone)" },
		{ "[mem]\nmax_size = 1M\npci = 1234:11e8\n", 3,
		  "unknown key 'pci' in [mem]" },
		PCI_BAD("0000:00:20.0"),	/* device: five bits */
		PCI_BAD("0000:00:01.8"),	/* function: three bits */
		PCI_BAD("0000:100:01.0"),
		PCI_BAD("000:00:01.0"),
		PCI_BAD("0000-00-01.0"),
		PCI_BAD("0000:00:01:0"),
		PCI_BAD("00:01.0"),		/* lspci's form: no domain */
		PCI_BAD("1234-11e8"),
		PCI_BAD("12345:11e8"),
		PCI_BAD("1234:11e"),
		PCI_BAD("0x12:0x11"),
		PCI_BAD("1234:11e8:0"),
		PCI_BAD("edu"),

		/* [limits] */
		{ "[limits]\n[limits]\n", 2,
		  "duplicate section [limits] (first at line 1)" },
		{ "[limits]\nconnections = 4\nconnections = 5\n", 3,
		  "duplicate key 'connections' in [limits] (first at line 2)" },
		{ "[limits]\nusers = root\n", 2,
		  "unknown key 'users' in [limits]" },
		{ "[limits]\nmax_size = 1M\n", 2,
		  "unknown key 'max_size' in [limits]" },
		{ "[zero]\nleases_per_uid = 4\n", 2,
		  "unknown key 'leases_per_uid' in [zero]" },
		{ "[daemon]\nconnections = 4\n", 2,
		  "unknown key 'connections' in [daemon]" },
		{ "[limits]\nconnections = 0\n", 2,
		  "connections: '0' is not a number from 1 to 65536" },
		{ "[limits]\nconnections = 65537\n", 2,
		  "connections: '65537' is not a number from 1 to 65536" },
		{ "[limits]\nconnections = -1\n", 2,
		  "connections: '-1' is not a number from 1 to 65536" },
		{ "[limits]\nconnections = 99999999999999999999\n", 2,
		  "connections: '99999999999999999999' is not a number from 1 "
		  "to 65536" },
		{ "[limits]\nleases_per_uid = 0\n", 2,
		  "leases_per_uid: '0' is not a number from 1 to 1048576" },
		{ "[limits]\nleases_per_uid = 1048577\n", 2,
		  "leases_per_uid: '1048577' is not a number from 1 to "
		  "1048576" },
		{ "[limits]\nleases_per_uid = 1K\n", 2,
		  "leases_per_uid: '1K' is not a number from 1 to 1048576" },
		{ "[limits]\nrequests_in_flight = 0\n", 2,
		  "requests_in_flight: '0' is not a number from 1 to 64" },
		{ "[limits]\nrequests_in_flight = 65\n", 2,
		  "requests_in_flight: '65' is not a number from 1 to 64" },
		{ "[limits]\nrequests_in_flight = two\n", 2,
		  "requests_in_flight: 'two' is not a number from 1 to 64" },
		{ "[limits]\nzero_bytes_per_uid = 0\n", 2,
		  "zero_bytes_per_uid: 0 allows nothing: give a size of at "
		  "least 1" },
		{ "[limits]\nzero_bytes_per_uid = 12Q\n", 2,
		  "zero_bytes_per_uid: '12Q' is not a size" },
		{ "[limits]\nzero_bytes_per_uid = 16777216T\n", 2,
		  "zero_bytes_per_uid: '16777216T' is too large (over 2^64 "
		  "- 1)" },
		{ "[limits]\nzero_bytes_per_uid =\n", 2,
		  "zero_bytes_per_uid: no value" },
	};

	return cr_make_param_array(struct err_case, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct err_case *c, policy, error_kinds)
{
	expect_one_error(c->text, c->line, c->msg);
}

/* Every problem of a file, not the first: in file order. */
Test(policy, all_errors_reported)
{
	struct policy_errors errs;
	struct policy *pol;
	char path[4096];
	int rc;

	data_path(path, sizeof(path), "policy-errors.conf");
	rc = load_path(path, &pol, &errs);
	expect_invalid(rc, pol, &errs);
	expect_error(&errs, 0, 4, "key 'stray' outside any section");
	expect_error(&errs, 1, 6, "unknown key 'sizes' in [zero]");
	expect_error(&errs, 2, 7, "max_size: '12Q' is not a size");
	expect_error(&errs, 3, 8, "unknown user 'nosuchuser'");
	expect_error(&errs, 4, 10, "duplicate section [zero] (first at line 5)");
	expect_error(&errs, 5, 11, "shared: 'maybe' is not yes or no (yes, no, "
	    "true, false, on, off, 1, 0)");
	expect_error(&errs, 6, 12, "[region x]: missing required key 'device'");
	expect_error(&errs, 7, 13, "[region x]: base 0x1001 is not page-aligned");
	expect_error(&errs, 8, 14, "[region x]: size must be greater than 0");
	expect_error(&errs, 9, 15, "[mem]: missing required key 'max_size'");
	expect_error(&errs, 10, 16, "protection: 'rwx' is not r or rw");
	expect_error(&errs, 11, 17, "unknown section [bogus] (expected [daemon], "
	    "[limits], [zero], [mem], [region NAME] or [shm NAME])");
	expect_error(&errs, 12, 19, "[region edu]: a region of mem needs base "
	    "and size");
	expect_error(&errs, 13, 21, "unknown group 'nosuchgroup'");
	expect_error(&errs, 14, 23, "socket_mode: '0999' is not an octal mode "
	    "from 0 to 0777");
	expect_error(&errs, 15, 24, "expected 'key = value' or '[section]', not "
	    "'this line has no equals sign'");
	cr_assert_eq(errs.n, 16, "%zu errors:%s", errs.n, errs_text(&errs));
	policy_errors_free(&errs);
	cr_assert_null(errs.v);
	cr_assert_eq(errs.n, 0);
}

/* A NUL byte is an error of its line, and the lines after still count. */
Test(policy, nul_byte)
{
	static const char text[] = "[zero]\nusers = ro\0ot\nmax_size = 12Q\n";
	struct policy_errors errs;
	struct policy *pol;
	char path[64];
	int fd, rc;

	fd = memfd_create("policy-nul", MFD_CLOEXEC);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, sizeof(text) - 1), sizeof(text) - 1);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	rc = load_path(path, &pol, &errs);
	close(fd);
	expect_invalid(rc, pol, &errs);
	cr_assert_eq(errs.n, 2, "errors:%s", errs_text(&errs));
	expect_error(&errs, 0, 2, "line holds a NUL byte");
	expect_error(&errs, 1, 3, "max_size: '12Q' is not a size");
	policy_errors_free(&errs);
}

Test(policy, missing_file)
{
	struct policy_errors errs;
	struct policy *pol;
	int rc;

	rc = load_path("/nonexistent/mmapd.conf", &pol, &errs);
	cr_assert_eq(rc, -ENOENT, "policy_load: %d", rc);
	cr_assert_null(pol);
	cr_assert_eq(errs.n, 1, "errors:%s", errs_text(&errs));
	expect_error(&errs, 0, 0, "cannot read /nonexistent/mmapd.conf: "
	    "No such file or directory");
	policy_errors_free(&errs);
}

/* Opens, but read(2) fails: the errno of the read. */
Test(policy, unreadable_file)
{
	struct policy_errors errs;
	struct policy *pol;
	char dir[] = "/tmp/mmapd-policy.XXXXXX";
	char want[128];
	int rc;

	cr_assert_not_null(mkdtemp(dir));
	rc = load_path(dir, &pol, &errs);
	cr_assert_eq(rc, -EISDIR, "policy_load: %d", rc);
	cr_assert_null(pol);
	snprintf(want, sizeof(want), "cannot read %s: Is a directory", dir);
	cr_assert_eq(errs.n, 1, "errors:%s", errs_text(&errs));
	expect_error(&errs, 0, 0, want);
	policy_errors_free(&errs);
	cr_assert_eq(rmdir(dir), 0);
}

/* errs may be NULL: the result alone tells. */
Test(policy, load_without_errs)
{
	struct policy *pol;

	cr_assert_eq(load_text("[zero]\nsizes = 1\n", &pol, NULL), -EINVAL);
	cr_assert_null(pol);
	cr_assert_eq(load_text("[zero]\n", &pol, NULL), 0);
	cr_assert_eq(pol->n_entries, 1);
	policy_free(pol);
	cr_assert_eq(load_path("/nonexistent/mmapd.conf", &pol, NULL), -ENOENT);
	cr_assert_null(pol);
}

/* ---------------------------------------------------------------------
 * The built-in policy, policy_find
 * --------------------------------------------------------------------- */

Test(policy, default_policy)
{
	const struct policy_entry *e;
	struct policy *pol = POL_POISON;

	cr_assert_eq(policy_default(&pol), 0);
	cr_assert_eq(pol->socket_mode, 0666);
	cr_assert_not(pol->has_socket_group);
	cr_assert_eq(pol->n_entries, 1);
	e = &pol->entries[0];
	cr_assert_str_eq(e->name, "zero");
	cr_assert_eq(e->kind, POLICY_ZERO);
	cr_assert_eq(e->line, 0);
	cr_assert(e->who.everyone);
	cr_assert_eq(e->max_size, POLICY_DEFAULT_MAX);
	cr_assert_eq(e->shared, 1);
	cr_assert_eq(e->write, 1);
	cr_assert_eq(e->cache, MAP_CACHE_DEFAULT);
	cr_assert_eq(policy_find(pol, "zero"), e);
	cr_assert_null(policy_find(pol, "mem"));
	expect_default_limits(pol);

	ALLOWED(e, &peer_user, 0, POLICY_DEFAULT_MAX, RW, MAP_CACHE_DEFAULT);
	CHECK(e, &peer_user, 0, POLICY_DEFAULT_MAX + 1, 0, MAP_CACHE_DEFAULT,
	    -EFBIG, WHY_SIZE);
	policy_free(pol);
}

Test(policy, find)
{
	struct policy *pol;

	pol = load_ok("[zero]\n[mem]\nmax_size = 1M\n"
	    REGION("edu", "") REGION("bar.2", ""));
	cr_assert_eq(policy_find(pol, "zero"), &pol->entries[0]);
	cr_assert_eq(policy_find(pol, "mem"), &pol->entries[1]);
	cr_assert_eq(policy_find(pol, "edu"), &pol->entries[2]);
	cr_assert_eq(policy_find(pol, "bar.2"), &pol->entries[3]);
	cr_assert_null(policy_find(pol, "EDU"));
	cr_assert_null(policy_find(pol, "region edu"));
	cr_assert_null(policy_find(pol, ""));
	cr_assert_null(policy_find(NULL, "zero"));
	policy_free(pol);
	/* Freeing nothing is fine, as free(NULL) is. */
	policy_free(NULL);
	policy_errors_free(NULL);
}

/* ---------------------------------------------------------------------
 * policy_check
 * --------------------------------------------------------------------- */

Test(policy, check_allowed)
{
	struct policy_entry e;

	e = entry_make(POLICY_ZERO, MIB, 1, 1, MAP_CACHE_DEFAULT);
	ALLOWED(&e, &peer_user, 0, MIB, RW, MAP_CACHE_DEFAULT);
	ALLOWED(&e, &peer_user, 0, 4096, 0, MAP_CACHE_CACHED);
	/* zero has no offsets to check. */
	ALLOWED(&e, &peer_user, UINT64_MAX, MIB, 0, MAP_CACHE_DEFAULT);
	/* why may be NULL. */
	cr_assert_eq(policy_check(&e, &peer_user, 0, MIB, RW,
	    MAP_CACHE_DEFAULT, NULL), 0);
}

Test(policy, check_who)
{
	static const gid_t in_list[] = { 5, 4343 };
	static const gid_t not_in_list[] = { 5, 6 };
	const struct policy_peer by_uid = { 4242, 100, NULL, 0 };
	const struct policy_peer by_gid = { 1000, 4343, NULL, 0 };
	const struct policy_peer by_group = { 1000, 100, in_list, 2 };
	const struct policy_peer stranger = { 1000, 100, not_in_list, 2 };
	const struct policy_peer root = { 0, 0, NULL, 0 };
	uid_t uids[] = { 4242 };
	gid_t gids[] = { 4343 };
	struct policy_entry e;

	e = entry_make(POLICY_ZERO, MIB, 1, 1, MAP_CACHE_DEFAULT);
	e.who.everyone = 0;
	e.who.uids = uids;
	e.who.n_uids = 1;
	e.who.gids = gids;
	e.who.n_gids = 1;
	ALLOWED(&e, &by_uid, 0, 4096, 0, MAP_CACHE_DEFAULT);
	ALLOWED(&e, &by_gid, 0, 4096, 0, MAP_CACHE_DEFAULT);
	ALLOWED(&e, &by_group, 0, 4096, 0, MAP_CACHE_DEFAULT);
	CHECK(&e, &stranger, 0, 4096, 0, MAP_CACHE_DEFAULT, -EPERM, WHY_WHO);
	/* uid 0 is nobody special. */
	CHECK(&e, &root, 0, 4096, 0, MAP_CACHE_DEFAULT, -EPERM, WHY_WHO);
}

Test(policy, check_size)
{
	struct policy_entry e;

	e = entry_make(POLICY_MEM, MIB, 1, 1, MAP_CACHE_DEFAULT);
	ALLOWED(&e, &peer_user, 0xfe000000, MIB, 0, MAP_CACHE_DEFAULT);
	CHECK(&e, &peer_user, 0xfe000000, MIB + 1, 0, MAP_CACHE_DEFAULT,
	    -EFBIG, WHY_SIZE);
	CHECK(&e, &peer_user, 0, UINT64_MAX, 0, MAP_CACHE_DEFAULT, -EFBIG,
	    WHY_SIZE);
}

Test(policy, check_shared)
{
	struct policy_entry e;

	e = entry_make(POLICY_ZERO, MIB, 0, 1, MAP_CACHE_DEFAULT);
	ALLOWED(&e, &peer_user, 0, MIB, MAP_DESC_WRITE, MAP_CACHE_DEFAULT);
	CHECK(&e, &peer_user, 0, MIB, MAP_DESC_SHARED, MAP_CACHE_DEFAULT,
	    -EPERM, WHY_SHARED);
}

Test(policy, check_write)
{
	struct policy_entry e;

	e = entry_make(POLICY_ZERO, MIB, 1, 0, MAP_CACHE_DEFAULT);
	ALLOWED(&e, &peer_user, 0, MIB, MAP_DESC_SHARED, MAP_CACHE_DEFAULT);
	CHECK(&e, &peer_user, 0, MIB, MAP_DESC_WRITE, MAP_CACHE_DEFAULT,
	    -EACCES, WHY_WRITE);
	CHECK(&e, &peer_user, 0, MIB, RW, MAP_CACHE_DEFAULT, -EACCES,
	    WHY_WRITE);
}

Test(policy, check_cache)
{
	struct policy_entry e;

	/* An entry that names a mode allows it, and DEFAULT (which gets it). */
	e = entry_make(POLICY_MEM, MIB, 1, 1, MAP_CACHE_UNCACHED);
	ALLOWED(&e, &peer_user, 0, MIB, 0, MAP_CACHE_UNCACHED);
	ALLOWED(&e, &peer_user, 0, MIB, 0, MAP_CACHE_DEFAULT);
	CHECK(&e, &peer_user, 0, MIB, 0, MAP_CACHE_CACHED, -EINVAL, WHY_CACHE);
	CHECK(&e, &peer_user, 0, MIB, 0, MAP_CACHE_WC, -EINVAL, WHY_CACHE);
	CHECK(&e, &peer_user, 0, MIB, 0, MAP_CACHE_NR, -EINVAL, WHY_CACHE);

	/*
	 * An entry that names none leaves the mode to the driver, except
	 * cached: device memory mapped cached gives stale reads and lost
	 * writes, so only an entry that says cache = cached gives it.
	 */
	e = entry_make(POLICY_MEM, MIB, 1, 1, MAP_CACHE_DEFAULT);
	ALLOWED(&e, &peer_user, 0, MIB, 0, MAP_CACHE_DEFAULT);
	ALLOWED(&e, &peer_user, 0, MIB, 0, MAP_CACHE_UNCACHED);
	ALLOWED(&e, &peer_user, 0, MIB, 0, MAP_CACHE_WC);
	CHECK(&e, &peer_user, 0, MIB, 0, MAP_CACHE_CACHED, -EINVAL, WHY_CACHED);
	CHECK(&e, &peer_user, 0, MIB, 0, MAP_CACHE_NR, -EINVAL, WHY_CACHED);

	/* Regions are device memory too, of mem or of pci. */
	e = entry_make(POLICY_REGION, MIB, 1, 1, MAP_CACHE_DEFAULT);
	e.size = MIB;
	ALLOWED(&e, &peer_user, 0, MIB, 0, MAP_CACHE_UNCACHED);
	CHECK(&e, &peer_user, 0, MIB, 0, MAP_CACHE_CACHED, -EINVAL, WHY_CACHED);
	e.is_pci = 1;
	ALLOWED(&e, &peer_user, 0, MIB, 0, MAP_CACHE_WC);
	CHECK(&e, &peer_user, 0, MIB, 0, MAP_CACHE_CACHED, -EINVAL, WHY_CACHED);

	/* An entry that says cached gives it, and nothing else. */
	e = entry_make(POLICY_MEM, MIB, 1, 1, MAP_CACHE_CACHED);
	ALLOWED(&e, &peer_user, 0, MIB, 0, MAP_CACHE_CACHED);
	ALLOWED(&e, &peer_user, 0, MIB, 0, MAP_CACHE_DEFAULT);
	CHECK(&e, &peer_user, 0, MIB, 0, MAP_CACHE_UNCACHED, -EINVAL,
	    WHY_CACHE);

	/* /dev/zero is memory: cached is what it is. */
	e = entry_make(POLICY_ZERO, MIB, 1, 1, MAP_CACHE_DEFAULT);
	ALLOWED(&e, &peer_user, 0, MIB, 0, MAP_CACHE_CACHED);
	ALLOWED(&e, &peer_user, 0, MIB, 0, MAP_CACHE_DEFAULT);
}

Test(policy, check_region_range)
{
	struct policy_entry e;

	e = entry_make(POLICY_REGION, 64 * KIB, 1, 1, MAP_CACHE_DEFAULT);
	e.base = 0xfe900000;
	e.size = 64 * KIB;
	ALLOWED(&e, &peer_user, 0, 64 * KIB, 0, MAP_CACHE_DEFAULT);
	ALLOWED(&e, &peer_user, 60 * KIB, 4 * KIB, 0, MAP_CACHE_DEFAULT);
	CHECK(&e, &peer_user, 60 * KIB, 8 * KIB, 0, MAP_CACHE_DEFAULT,
	    -EINVAL, WHY_RANGE);
	CHECK(&e, &peer_user, 64 * KIB, 4 * KIB, 0, MAP_CACHE_DEFAULT,
	    -EINVAL, WHY_RANGE);
	/* The offset is into the region, not a physical address. */
	CHECK(&e, &peer_user, 0xfe900000, 4 * KIB, 0, MAP_CACHE_DEFAULT,
	    -EINVAL, WHY_RANGE);
}

/* offset + size wraps to a small number: still outside. */
Test(policy, check_region_overflow)
{
	struct policy_entry e;

	e = entry_make(POLICY_REGION, UINT64_MAX, 1, 1, MAP_CACHE_DEFAULT);
	e.base = 0;
	e.size = 64 * KIB;
	CHECK(&e, &peer_user, UINT64_MAX - 4095, 8 * KIB, 0,
	    MAP_CACHE_DEFAULT, -EINVAL, WHY_RANGE);
	CHECK(&e, &peer_user, UINT64_MAX, 1, 0, MAP_CACHE_DEFAULT, -EINVAL,
	    WHY_RANGE);
	CHECK(&e, &peer_user, 4 * KIB, UINT64_MAX - 4095, 0,
	    MAP_CACHE_DEFAULT, -EINVAL, WHY_RANGE);
	CHECK(&e, &peer_user, 4 * KIB, UINT64_MAX, 0, MAP_CACHE_DEFAULT,
	    -EINVAL, WHY_RANGE);

	/* A region at the top of the address space. */
	e.base = UINT64_MAX - (64 * KIB - 1);
	ALLOWED(&e, &peer_user, 0, 64 * KIB, 0, MAP_CACHE_DEFAULT);
	CHECK(&e, &peer_user, 4 * KIB, 64 * KIB, 0, MAP_CACHE_DEFAULT,
	    -EINVAL, WHY_RANGE);
}

/*
 * A request that fails several checks gets the first one's error:
 * who, size, shared, write, cache, range.
 */
Test(policy, check_order)
{
	const struct policy_peer stranger = { 1000, 100, NULL, 0 };
	uid_t uids[] = { 4242 };
	const struct policy_peer member = { 4242, 100, NULL, 0 };
	struct policy_entry e;

	/* Everything wrong at once, then one check fixed at a time. */
	e = entry_make(POLICY_REGION, 4 * KIB, 0, 0, MAP_CACHE_UNCACHED);
	e.who.everyone = 0;
	e.who.uids = uids;
	e.who.n_uids = 1;
	e.size = 4 * KIB;
	CHECK(&e, &stranger, 8 * KIB, 8 * KIB, RW, MAP_CACHE_CACHED,
	    -EPERM, WHY_WHO);
	CHECK(&e, &member, 8 * KIB, 8 * KIB, RW, MAP_CACHE_CACHED,
	    -EFBIG, WHY_SIZE);
	CHECK(&e, &member, 8 * KIB, 4 * KIB, RW, MAP_CACHE_CACHED,
	    -EPERM, WHY_SHARED);
	CHECK(&e, &member, 8 * KIB, 4 * KIB, MAP_DESC_WRITE, MAP_CACHE_CACHED,
	    -EACCES, WHY_WRITE);
	CHECK(&e, &member, 8 * KIB, 4 * KIB, 0, MAP_CACHE_CACHED,
	    -EINVAL, WHY_CACHE);
	CHECK(&e, &member, 8 * KIB, 4 * KIB, 0, MAP_CACHE_UNCACHED,
	    -EINVAL, WHY_RANGE);
	ALLOWED(&e, &member, 0, 4 * KIB, 0, MAP_CACHE_UNCACHED);
}

/* Calls the daemon should never make are refused, not guessed at. */
Test(policy, check_malformed)
{
	const struct policy_peer no_groups = { 1000, 100, NULL, 3 };
	struct policy_entry e;
	const char *why = NULL;

	e = entry_make(POLICY_ZERO, MIB, 1, 1, MAP_CACHE_DEFAULT);
	cr_assert_eq(policy_check(NULL, &peer_user, 0, 4096, 0,
	    MAP_CACHE_DEFAULT, &why), -EINVAL);
	cr_assert_str_eq(why, "malformed request");
	cr_assert_eq(policy_check(&e, NULL, 0, 4096, 0, MAP_CACHE_DEFAULT,
	    &why), -EINVAL);
	cr_assert_eq(policy_check(&e, &no_groups, 0, 4096, 0,
	    MAP_CACHE_DEFAULT, &why), -EINVAL);
	cr_assert_eq(policy_check(&e, &peer_user, 0, 4096, MAP_DESC_MAYSHARE,
	    MAP_CACHE_DEFAULT, &why), -EINVAL);
}

/* The loaded file and policy_check together, as the daemon uses them. */
Test(policy, check_loaded)
{
	const struct policy_peer root = { 0, 0, NULL, 0 };
	const struct policy_peer daemon_peer = { 1, 1, NULL, 0 };
	const struct policy_entry *e;
	struct policy_errors errs;
	struct policy *pol;
	char path[4096];

	cr_assert_eq(uid_of("daemon"), 1);
	data_path(path, sizeof(path), "policy-full.conf");
	cr_assert_eq(load_path(path, &pol, &errs), 0);
	policy_errors_free(&errs);

	e = policy_find(pol, "edu");
	cr_assert_not_null(e);
	ALLOWED(e, &daemon_peer, 0, 512 * KIB, RW, MAP_CACHE_UNCACHED);
	/* root is in the listed group root (gid 0). */
	ALLOWED(e, &root, 512 * KIB, 512 * KIB, 0, MAP_CACHE_DEFAULT);
	CHECK(e, &peer_user, 0, 4096, 0, MAP_CACHE_DEFAULT, -EPERM, WHY_WHO);
	CHECK(e, &daemon_peer, 0, MIB, 0, MAP_CACHE_DEFAULT, -EFBIG,
	    WHY_SIZE);
	CHECK(e, &daemon_peer, 768 * KIB, 512 * KIB, 0, MAP_CACHE_DEFAULT,
	    -EINVAL, WHY_RANGE);

	e = policy_find(pol, "ivshmem.bar2");
	CHECK(e, &root, 0, 4096, 0, MAP_CACHE_DEFAULT, -EPERM, WHY_WHO);
	policy_free(pol);
}

/* ---------------------------------------------------------------------
 * Regions of pci, cache rules, raw /dev/mem fds
 * --------------------------------------------------------------------- */

/* An address in any case is kept as sysfs spells it: lower case. */
Test(policy, pci_address_lower_case)
{
	const struct policy_entry *e;
	struct policy *pol;

	pol = load_ok("[region a]\ndevice = pci\npci = ABCD:0F:1E.7\n"
	    "bar = 0\n[region b]\ndevice = pci\npci = 0000:00:01.0\n"
	    "bar = 5\n");
	e = policy_find(pol, "a");
	cr_assert(e->is_pci);
	cr_assert_str_eq(e->device, "pci");
	cr_assert_str_eq(e->pci_address, "abcd:0f:1e.7");
	cr_assert_eq(e->pci_vendor, 0);
	cr_assert_eq(e->pci_device, 0);
	cr_assert_eq(e->pci_index, 0);
	cr_assert_eq(e->bar, 0);
	e = policy_find(pol, "b");
	cr_assert_str_eq(e->pci_address, "0000:00:01.0");
	cr_assert_eq(e->bar, 5);
	policy_free(pol);
}

/* vendor:device with index; index defaults to 0, the first function. */
Test(policy, pci_vendor_device)
{
	const struct policy_entry *e;
	struct policy *pol;

	pol = load_ok("[region a]\ndevice = pci\npci = 1234:11E8\nbar = 0\n"
	    "[region b]\ndevice = pci\npci = 8086:2922\nindex = 255\n"
	    "bar = 5\n");
	e = policy_find(pol, "a");
	cr_assert_null(e->pci_address);
	cr_assert_eq(e->pci_vendor, 0x1234);
	cr_assert_eq(e->pci_device, 0x11e8);
	cr_assert_eq(e->pci_index, 0);
	e = policy_find(pol, "b");
	cr_assert_null(e->pci_address);
	cr_assert_eq(e->pci_vendor, 0x8086);
	cr_assert_eq(e->pci_device, 0x2922);
	cr_assert_eq(e->pci_index, 255);
	cr_assert_eq(e->bar, 5);
	policy_free(pol);
}

/*
 * base and size are optional for pci: the whole BAR, whose size only the
 * open tells; given, they are an offset and a length into the BAR.
 */
Test(policy, pci_base_and_size)
{
	const struct policy_entry *e;
	struct policy *pol;

	pol = load_ok(PCI("whole", "users = *\n")
	    PCI("part", "users = *\nbase = 0x2000\nsize = 8K\n")
	    PCI("capped", "users = *\nmax_size = 16K\n"));
	e = policy_find(pol, "whole");
	cr_assert_eq(e->base, 0);
	cr_assert_eq(e->size, 0);
	cr_assert_eq(e->max_size, UINT64_MAX);
	cr_assert_str_eq(e->sysfs, "/sys/bus/pci/devices");
	/* The driver range-checks it: any offset passes here. */
	ALLOWED(e, &peer_user, 0, 4 * KIB, 0, MAP_CACHE_DEFAULT);
	ALLOWED(e, &peer_user, 1ull << 40, 4 * KIB, 0, MAP_CACHE_DEFAULT);

	e = policy_find(pol, "part");
	cr_assert_eq(e->base, 0x2000);
	cr_assert_eq(e->size, 8 * KIB);
	cr_assert_eq(e->max_size, 8 * KIB);
	ALLOWED(e, &peer_user, 4 * KIB, 4 * KIB, 0, MAP_CACHE_DEFAULT);
	CHECK(e, &peer_user, 8 * KIB, 4 * KIB, 0, MAP_CACHE_DEFAULT, -EINVAL,
	    WHY_RANGE);

	e = policy_find(pol, "capped");
	cr_assert_eq(e->max_size, 16 * KIB);
	CHECK(e, &peer_user, 0, 32 * KIB, 0, MAP_CACHE_DEFAULT, -EFBIG,
	    WHY_SIZE);
	policy_free(pol);
}

/* Every mode a device can give loads; the others are refused above. */
Test(policy, cache_per_device)
{
	struct policy *pol;

	pol = load_ok("[zero]\ncache = cached\n"
	    "[mem]\nmax_size = 1M\ncache = cached\n"
	    REGION("m.cached", "cache = cached\nusers = *\n")
	    REGION("m.uncached", "cache = uncached\nusers = *\n")
	    PCI("p.uncached", "cache = uncached\n")
	    PCI("p.wc", "cache = wc\n")
	    PCI("p.default", "cache = default\nusers = *\n"));
	cr_assert_eq(policy_find(pol, "zero")->cache, MAP_CACHE_CACHED);
	cr_assert_eq(policy_find(pol, "mem")->cache, MAP_CACHE_CACHED);
	cr_assert_eq(policy_find(pol, "m.cached")->cache, MAP_CACHE_CACHED);
	cr_assert_eq(policy_find(pol, "m.uncached")->cache,
	    MAP_CACHE_UNCACHED);
	cr_assert_eq(policy_find(pol, "p.uncached")->cache,
	    MAP_CACHE_UNCACHED);
	cr_assert_eq(policy_find(pol, "p.wc")->cache, MAP_CACHE_WC);
	cr_assert_eq(policy_find(pol, "p.default")->cache, MAP_CACHE_DEFAULT);

	/* The cached mem region gives cached; the uncached one does not. */
	ALLOWED(policy_find(pol, "m.cached"), &peer_user, 0, 4 * KIB, 0,
	    MAP_CACHE_CACHED);
	CHECK(policy_find(pol, "m.uncached"), &peer_user, 0, 4 * KIB, 0,
	    MAP_CACHE_CACHED, -EINVAL, WHY_CACHE);
	CHECK(policy_find(pol, "p.default"), &peer_user, 0, 4 * KIB, 0,
	    MAP_CACHE_CACHED, -EINVAL, WHY_CACHED);
	ALLOWED(policy_find(pol, "p.default"), &peer_user, 0, 4 * KIB, 0,
	    MAP_CACHE_WC);
	policy_free(pol);
}

/* The cache key may come before device: judged when the section ends. */
Test(policy, cache_before_device)
{
	struct policy *pol;

	pol = load_ok("[region p]\ncache = wc\ndevice = pci\npci = 1234:11e8\n"
	    "bar = 0\n");
	cr_assert_eq(pol->entries[0].cache, MAP_CACHE_WC);
	policy_free(pol);
	expect_one_error("[region p]\ncache = cached\ndevice = pci\n"
	    "pci = 1234:11e8\nbar = 0\n", 2, "cache: a PCI BAR is not "
	    "mapped cached (default, uncached or wc)");
}

/* Who may be handed the raw /dev/mem fd: raw_fd_users and raw_fd_groups. */
Test(policy, raw_allowed)
{
	const gid_t daemon_group[] = { 4, gid_of("daemon") };
	const struct policy_peer root = { 0, 0, NULL, 0 };
	const struct policy_peer by_gid = { 1000, gid_of("daemon"), NULL, 0 };
	const struct policy_peer by_group = { 1000, 100, daemon_group, 2 };
	const struct policy_peer by_uid = { 4242, 100, NULL, 0 };
	const struct policy_entry *e;
	struct policy *pol;

	pol = load_ok("[mem]\nmax_size = 1M\nusers = *\n"
	    "raw_fd_users = root 4242\nraw_fd_groups = daemon\n"
	    REGION("r", "users = *\nraw_fd_users = *\n")
	    REGION("none", "users = *\n"));
	e = policy_find(pol, "mem");
	cr_assert(policy_raw_allowed(e, &root));
	cr_assert(policy_raw_allowed(e, &by_uid));
	cr_assert(policy_raw_allowed(e, &by_gid));
	cr_assert(policy_raw_allowed(e, &by_group));
	cr_assert_not(policy_raw_allowed(e, &peer_user));
	/* users = * lets everyone Map in principle, not have the raw fd. */
	ALLOWED(e, &peer_user, 0, 4 * KIB, 0, MAP_CACHE_DEFAULT);

	e = policy_find(pol, "r");
	cr_assert(e->raw_who.everyone);
	cr_assert(policy_raw_allowed(e, &peer_user));

	/* Without the keys no one, root included. */
	e = policy_find(pol, "none");
	cr_assert_not(policy_raw_allowed(e, &root));
	cr_assert_not(policy_raw_allowed(e, &peer_user));

	cr_assert_not(policy_raw_allowed(NULL, &root));
	cr_assert_not(policy_raw_allowed(policy_find(pol, "mem"), NULL));
	policy_free(pol);
}

/* zero has no raw fd, and a pci region hands out only its BAR. */
Test(policy, raw_never_for_zero_or_pci)
{
	struct policy_entry e;

	e = entry_make(POLICY_ZERO, MIB, 1, 1, MAP_CACHE_DEFAULT);
	e.raw_who.everyone = 1;
	cr_assert_not(policy_raw_allowed(&e, &peer_user));
	e = entry_make(POLICY_REGION, MIB, 1, 1, MAP_CACHE_DEFAULT);
	e.raw_who.everyone = 1;
	cr_assert(policy_raw_allowed(&e, &peer_user));
	e.is_pci = 1;
	cr_assert_not(policy_raw_allowed(&e, &peer_user));
}
