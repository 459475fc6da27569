#include "config.h"

/*
 * [shm NAME]: shared memory of [zero] declared by name, so that users
 * other than its maker may reach it, as the section says:
 *
 *	[shm cam0]
 *	size = 1M		every Map of cam0 asks exactly this
 *	writers = camera	attach read-write (users; writer_groups)
 *	reader_groups = video	attach read-only (readers; reader_groups)
 *	creators = camera	may make it (default: the writers)
 *	persist = no		it goes with its last lease
 *
 * NAME may be a pattern (* and ?, as fnmatch(3) reads them): a section
 * naming the name exactly wins, else the first pattern in the file.
 * A name no section declares is private to the uid that makes it:
 * daemon/lease.c keys such memory by uid.
 */

#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "policy-int.h"

/* A name or a pattern: a region name's characters, and * and ?. */
static int
shm_name_valid(const char *name)
{
	size_t n = strlen(name);

	return n >= 1 && n <= REGION_NAME_MAX &&
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_.-*?") == n;
}

static struct policy_shm *
loader_shm(struct loader *ld)
{
	return &ld->pol->shms[ld->shm];
}

void
policy_shm_free(struct policy_shm *s)
{
	free(s->name);
	free(s->writers.uids);
	free(s->writers.gids);
	free(s->readers.uids);
	free(s->readers.gids);
	free(s->creators.uids);
	free(s->creators.gids);
}

void
loader_open_shm(struct loader *ld, const char *name)
{
	struct policy_shm *v, *s;
	size_t i;

	snprintf(ld->label, sizeof(ld->label), "[shm %s]", name);
	if (*name == '\0') {
		loader_error(ld, ld->lineno, "section [shm] needs a name: "
		    "[shm NAME]");
		return;
	}
	if (!shm_name_valid(name)) {
		loader_error(ld, ld->lineno, "%s: '%s' is not a shared-memory "
		    "name or pattern (1 to %d of A-Z a-z 0-9 _ . - * ?)",
		    ld->label, name, REGION_NAME_MAX);
		return;
	}
	for (i = 0; i < ld->pol->n_shms; i++) {
		if (strcmp(ld->pol->shms[i].name, name) == 0)
			loader_error(ld, ld->lineno, "duplicate section %s "
			    "(first at line %u)", ld->label,
			    ld->pol->shms[i].line);
	}
	v = reallocarray(ld->pol->shms, ld->pol->n_shms + 1, sizeof(*v));
	if (v == NULL) {
		ld->err = -ENOMEM;
		return;
	}
	ld->pol->shms = v;
	s = &v[ld->pol->n_shms];
	memset(s, 0, sizeof(*s));
	s->line = ld->lineno;
	s->name = strdup(name);
	if (s->name == NULL) {
		ld->err = -ENOMEM;
		return;
	}
	ld->shm = ld->pol->n_shms++;
	ld->sect = SECT_SHM;
}

void
loader_close_shm(struct loader *ld)
{
	struct policy_shm *s = loader_shm(ld);

	if (ld->key_line[KEY_SHM_SIZE] == 0)
		loader_error(ld, ld->sect_line, "%s: missing required key "
		    "'size'", ld->label);
	if (ld->key_line[KEY_SHM_WRITERS] == 0 &&
	    ld->key_line[KEY_SHM_WRITER_GROUPS] == 0 &&
	    ld->key_line[KEY_SHM_READERS] == 0 &&
	    ld->key_line[KEY_SHM_READER_GROUPS] == 0)
		loader_error(ld, ld->sect_line, "%s: names no writers and no "
		    "readers: no one could use it", ld->label);
	s->has_creators = ld->key_line[KEY_SHM_CREATORS] != 0 ||
	    ld->key_line[KEY_SHM_CREATOR_GROUPS] != 0;
}

void
key_shm_size(struct loader *ld, const char *key, const char *value)
{
	uint64_t v;
	int rc;

	rc = policy_parse_size(value, &v);
	if (rc < 0) {
		loader_bad_number(ld, key, value, rc, "a size");
		return;
	}
	if (v == 0 || !policy_page_aligned(v)) {
		loader_error(ld, ld->lineno, "%s: size %#" PRIx64 " is not a "
		    "whole number of pages (at least one)", ld->label, v);
		return;
	}
	loader_shm(ld)->size = v;
}

/* writers, readers, creators and their _groups. */
void
key_shm_who(struct loader *ld, const char *key, const char *value)
{
	struct policy_shm *s = loader_shm(ld);
	struct policy_who *who;

	if (strncmp(key, "writer", 6) == 0)
		who = &s->writers;
	else if (strncmp(key, "reader", 6) == 0)
		who = &s->readers;
	else
		who = &s->creators;
	loader_who(ld, who, key, value, strstr(key, "_groups") != NULL);
}

void
key_shm_persist(struct loader *ld, const char *key, const char *value)
{
	int v;

	if (policy_parse_bool(value, &v) < 0) {
		loader_error(ld, ld->lineno, "%s: '%s' is not yes or no", key,
		    value);
		return;
	}
	/*
	 * Kept memory counts against no uid's zero_bytes_per_uid, so a
	 * pattern that persisted would let one writer keep a memfd (and a
	 * daemon fd) per name it makes up, without bound.
	 */
	if (v && strpbrk(loader_shm(ld)->name, "*?") != NULL) {
		loader_error(ld, ld->lineno, "%s = yes needs one name, not "
		    "the pattern %s: kept memory counts against no user's "
		    "zero_bytes_per_uid, and a pattern would let a writer keep "
		    "any number of names", key, loader_shm(ld)->name);
		return;
	}
	loader_shm(ld)->persist = v;
}

const struct policy_shm *
policy_shm_find(const struct policy *pol, const char *name)
{
	size_t i;

	if (pol == NULL || name == NULL)
		return NULL;
	for (i = 0; i < pol->n_shms; i++) {
		if (strcmp(pol->shms[i].name, name) == 0)
			return &pol->shms[i];
	}
	for (i = 0; i < pol->n_shms; i++) {
		if (fnmatch(pol->shms[i].name, name, 0) == 0)
			return &pol->shms[i];
	}
	return NULL;
}

int
policy_shm_check(const struct policy_shm *s, const struct policy_peer *peer,
    int write, int create, const char **why)
{
	int writer = policy_who_allows(&s->writers, peer);
	int reader = writer || policy_who_allows(&s->readers, peer);

	if (!reader) {
		*why = "user not allowed: not in the [shm] section's writers, "
		    "readers or their groups";
		return -EPERM;
	}
	if (write && !writer) {
		*why = "write not allowed: the [shm] section makes this user a "
		    "reader only (attach read-only)";
		return -EACCES;
	}
	if (create && !policy_who_allows(s->has_creators ? &s->creators :
	    &s->writers, peer)) {
		*why = s->has_creators ? "create not allowed: not in the "
		    "[shm] section's creators or creator_groups" :
		    "create not allowed: only the [shm] section's writers "
		    "create it";
		return -EPERM;
	}
	return 0;
}
