#include "config.h"

/*
 * [shm NAME]: shared memory declared by name or pattern, read by
 * policy_load(), found by policy_shm_find() and judged by
 * policy_shm_check().  Users and groups by number, so that no name
 * service is needed.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "policy.h"
#include "helpers.h"

#define MIB		(1ull << 20)

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
	cr_assert_null(pol);
	for (i = 0; i < errs.n; i++)
		found |= errs.v[i].line == line &&
		    strstr(errs.v[i].msg, needle) != NULL;
	cr_expect(found, "no error at line %u holding '%s'; first: %u: %s",
	    line, needle, errs.n ? errs.v[0].line : 0,
	    errs.n ? errs.v[0].msg : "none");
	policy_errors_free(&errs);
}

static const char camera[] =
	"[zero]\n"
	"users = *\n"
	"[shm cam0]\n"
	"size = 1M\n"
	"writers = 2000\n"
	"reader_groups = 44\n"
	"[shm log*]\n"
	"size = 64K\n"
	"readers = 3000\n"
	"writer_groups = 45\n"
	"creators = 4000\n"
	"[shm log7]\n"
	"size = 4K\n"
	"writers = 5000\n"
	"persist = yes\n";

Test(policy_shm, sections_read)
{
	struct policy *pol = load_ok(camera);
	const struct policy_shm *s;

	cr_assert_eq(pol->n_shms, 3);
	/* [shm] sections are no entries: no Map names them as a device. */
	cr_assert_eq(pol->n_entries, 1);
	cr_assert_null(policy_find(pol, "cam0"));

	s = policy_shm_find(pol, "cam0");
	cr_assert_not_null(s);
	cr_expect_eq(s->size, MIB);
	cr_expect_eq(s->line, 3);
	cr_expect_eq(s->writers.n_uids, 1);
	cr_expect_eq(s->writers.uids[0], 2000);
	cr_expect_eq(s->readers.n_gids, 1);
	cr_expect_eq(s->readers.gids[0], 44);
	cr_expect_eq(s->has_creators, 0);
	cr_expect_eq(s->persist, 0);

	/* A pattern; the exact name wins over an earlier pattern. */
	s = policy_shm_find(pol, "log1");
	cr_assert_not_null(s);
	cr_expect_str_eq(s->name, "log*");
	cr_expect_eq(s->persist, 0);
	cr_expect_eq(s->has_creators, 1);
	s = policy_shm_find(pol, "log7");
	cr_assert_not_null(s);
	cr_expect_str_eq(s->name, "log7");
	cr_expect_eq(s->persist, 1);
	cr_expect_null(policy_shm_find(pol, "cam1"));
	cr_expect_null(policy_shm_find(pol, "xlog1"));
	policy_free(pol);
}

Test(policy_shm, camera_check)
{
	struct policy *pol = load_ok(camera);
	const struct policy_shm *s = policy_shm_find(pol, "cam0");
	gid_t video[] = { 44 };
	struct policy_peer writer = { .uid = 2000, .gid = 2000 };
	struct policy_peer reader = { .uid = 2001, .gid = 2001,
	    .groups = video, .n_groups = 1 };
	struct policy_peer primary = { .uid = 2002, .gid = 44 };
	struct policy_peer other = { .uid = 2003, .gid = 2003 };
	struct policy_peer root = { .uid = 0, .gid = 0 };
	const char *why = NULL;

	cr_assert_not_null(s);
	cr_expect_eq(policy_shm_check(s, &writer, 1, 1, &why), 0);
	cr_expect_eq(policy_shm_check(s, &writer, 0, 0, &why), 0);
	cr_expect_eq(policy_shm_check(s, &reader, 0, 0, &why), 0);
	cr_expect_eq(policy_shm_check(s, &primary, 0, 0, &why), 0);
	cr_expect_eq(policy_shm_check(s, &reader, 1, 0, &why), -EACCES);
	cr_expect(strstr(why, "reader only") != NULL, "%s", why);
	/* Creators default to the writers: a reader may not create. */
	cr_expect_eq(policy_shm_check(s, &reader, 0, 1, &why), -EPERM);
	cr_expect(strstr(why, "writers create") != NULL, "%s", why);
	cr_expect_eq(policy_shm_check(s, &other, 0, 0, &why), -EPERM);
	/* Root is nobody special. */
	cr_expect_eq(policy_shm_check(s, &root, 0, 0, &why), -EPERM);

	/* log*: creators named; a writer by group is not one. */
	s = policy_shm_find(pol, "log1");
	{
		gid_t g45[] = { 45 };
		struct policy_peer gw = { .uid = 2004, .gid = 2004,
		    .groups = g45, .n_groups = 1 };
		struct policy_peer maker = { .uid = 4000, .gid = 4000 };

		cr_expect_eq(policy_shm_check(s, &gw, 1, 0, &why), 0);
		cr_expect_eq(policy_shm_check(s, &gw, 1, 1, &why), -EPERM);
		/* A creator that is no reader may not reach it at all. */
		cr_expect_eq(policy_shm_check(s, &maker, 0, 1, &why), -EPERM);
	}
	policy_free(pol);
}

/* The fixture with every key of every section holds [shm] too. */
Test(policy_shm, full_fixture)
{
	struct policy_errors errs;
	const struct policy_shm *s;
	struct policy *pol;
	char path[4096];
	int rc;

	data_path(path, sizeof(path), "policy-full.conf");
	rc = policy_load(path, &pol, &errs);
	cr_assert_eq(rc, 0, "policy_load: %d, first error: %s", rc,
	    errs.n ? errs.v[0].msg : "none");
	policy_errors_free(&errs);
	cr_assert_eq(pol->n_shms, 2);
	s = policy_shm_find(pol, "cam0");
	cr_assert_not_null(s);
	cr_expect_eq(s->size, MIB);
	cr_expect_eq(s->has_creators, 1);
	cr_expect_eq(s->creators.n_uids, 1);
	cr_expect_eq(s->creators.n_gids, 1);
	cr_expect_eq(s->persist, 1);
	s = policy_shm_find(pol, "log-kernel");
	cr_assert_not_null(s);
	cr_expect(s->readers.everyone);
	cr_expect_eq(s->persist, 0);
	policy_free(pol);
}

Test(policy_shm, errors)
{
	load_bad("[shm cam0]\nwriters = 1\n", 1, "missing required key 'size'");
	load_bad("[shm cam0]\nsize = 1M\n", 1, "names no writers and no "
	    "readers");
	load_bad("[shm]\nsize = 1M\n", 1, "needs a name");
	load_bad("[shm a/b]\nsize = 1M\nwriters = 1\n", 1, "not a "
	    "shared-memory name");
	load_bad("[shm a]\nsize = 1000\nwriters = 1\n", 2, "whole number of "
	    "pages");
	load_bad("[shm a]\nsize = 4K\nwriters = 1\npersist = maybe\n", 4,
	    "not yes or no");
	/* Kept memory is nobody's quota: one name each, never a pattern. */
	load_bad("[shm app-*]\nsize = 4K\nwriters = 1\npersist = yes\n", 4,
	    "needs one name, not the pattern app-*");
	load_bad("[shm a?]\nsize = 4K\nwriters = 1\npersist = yes\n", 4,
	    "needs one name");
	load_bad("[shm a]\nsize = 4K\nwriters = 1\nusers = 1\n", 4,
	    "unknown key 'users' in [shm a]");
	load_bad("[shm a]\nsize = 4K\nwriters = 1\n[shm a]\nsize = 4K\n"
	    "readers = 1\n", 4, "duplicate section [shm a]");
	load_bad("[shm a]\nsize = 4K\nwriters = 1\nsize = 8K\n", 4,
	    "duplicate key 'size'");
	/* Keys of [shm] mean nothing elsewhere. */
	load_bad("[zero]\nwriters = 1\n", 2, "unknown key 'writers' in [zero]");
}
