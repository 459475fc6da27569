#include "config.h"

/*
 * The revocation keys of an entry (daemon/policy-revoke.c):
 * max_lease_seconds, revoke_seconds, on_revoke; their defaults by kind
 * of entry, their bounds, and their errors with line numbers.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "policy.h"
#include "helpers.h"

static int
load(const char *text, struct policy **pol, struct policy_errors *errs)
{
	char path[64];
	int fd, rc;

	fd = text_memfd(text, path, sizeof(path));
	rc = policy_load(path, pol, errs);
	close(fd);
	return rc;
}

static struct policy *
load_ok(const char *text)
{
	struct policy_errors errs;
	struct policy *pol;
	int rc;

	rc = load(text, &pol, &errs);
	cr_assert_eq(rc, 0, "policy_load: %d, first error: %s", rc,
	    errs.n ? errs.v[0].msg : "none");
	policy_errors_free(&errs);
	return pol;
}

/* text must fail, with an error at line that holds needle. */
static void
load_bad(const char *text, unsigned int line, const char *needle)
{
	struct policy_errors errs;
	struct policy *pol;
	size_t i;
	int rc, found = 0;

	rc = load(text, &pol, &errs);
	cr_assert_eq(rc, -EINVAL, "policy_load: %d for:\n%s", rc, text);
	for (i = 0; i < errs.n; i++)
		found |= errs.v[i].line == line &&
		    strstr(errs.v[i].msg, needle) != NULL;
	cr_expect(found, "no error at line %u holding '%s'; first: %u: %s",
	    line, needle, errs.n ? errs.v[0].line : 0,
	    errs.n ? errs.v[0].msg : "none");
	policy_errors_free(&errs);
}

/* zero logs, device memory kills; 10 s of grace; no lifetime. */
Test(policy_revoke, defaults_by_kind)
{
	struct policy *pol = load_ok(
	    "[zero]\nusers = *\n"
	    "[mem]\nusers = 0\nmax_size = 4096\n"
	    "[region r]\ndevice = mem\nbase = 0x1000\nsize = 4096\n"
	    "users = 0\n");
	const struct policy_entry *z = policy_find(pol, "zero");
	const struct policy_entry *m = policy_find(pol, "mem");
	const struct policy_entry *r = policy_find(pol, "r");

	cr_assert_eq(z->on_revoke, POLICY_REVOKE_LOG);
	cr_assert_eq(m->on_revoke, POLICY_REVOKE_KILL);
	cr_assert_eq(r->on_revoke, POLICY_REVOKE_KILL);
	cr_assert_eq(z->revoke_seconds, POLICY_DEFAULT_REVOKE_SECONDS);
	cr_assert_eq(r->revoke_seconds, 10);
	cr_assert_eq(z->max_lease_seconds, 0);
	policy_free(pol);
}

Test(policy_revoke, values_read)
{
	struct policy *pol = load_ok(
	    "[zero]\nusers = *\nmax_lease_seconds = 3600\n"
	    "revoke_seconds = 0\non_revoke = kill\n"
	    "[mem]\nusers = 0\nmax_size = 4096\non_revoke = log\n"
	    "revoke_seconds = 3600\n");
	const struct policy_entry *z = policy_find(pol, "zero");
	const struct policy_entry *m = policy_find(pol, "mem");

	cr_assert_eq(z->max_lease_seconds, 3600);
	cr_assert_eq(z->revoke_seconds, 0);
	cr_assert_eq(z->on_revoke, POLICY_REVOKE_KILL);
	cr_assert_eq(m->on_revoke, POLICY_REVOKE_LOG);
	cr_assert_eq(m->revoke_seconds, 3600);
	policy_free(pol);
}

Test(policy_revoke, bad_values)
{
	load_bad("[zero]\nusers = *\non_revoke = stop\n", 3,
	    "'stop' is not kill or log");
	load_bad("[zero]\nusers = *\nrevoke_seconds = 3601\n", 3,
	    "from 0 to 3600");
	load_bad("[zero]\nusers = *\nrevoke_seconds = -1\n", 3,
	    "is not a number of seconds");
	load_bad("[zero]\nusers = *\nmax_lease_seconds = 1h\n", 3,
	    "is not a number of seconds");
	load_bad("[zero]\nusers = *\nmax_lease_seconds = 31622401\n", 3,
	    "from 0 to 31622400");
}

/* Entry keys: not in [daemon] or [limits]; on_revoke not in [shm]. */
Test(policy_revoke, only_in_entries)
{
	load_bad("[limits]\nrevoke_seconds = 1\n[zero]\nusers = *\n", 2,
	    "revoke_seconds");
	load_bad("[zero]\nusers = *\n[shm a]\nsize = 4K\nwriters = 0\n"
	    "on_revoke = log\n", 6, "on_revoke");
}

/* [shm NAME] takes a lifetime of its own, and no other revocation key. */
Test(policy_revoke, shm_lifetime)
{
	struct policy *pol = load_ok("[zero]\nusers = *\n[shm cam0]\n"
	    "size = 4K\nwriters = 0\nmax_lease_seconds = 30\n");

	cr_assert_eq(policy_shm_find(pol, "cam0")->max_lease_seconds, 30);
	policy_free(pol);
	load_bad("[zero]\nusers = *\n[shm a]\nsize = 4K\nwriters = 0\n"
	    "max_lease_seconds = x\n", 6, "is not a number of seconds");
}
