#include "config.h"

/*
 * What a policy says that is allowed but likely not meant: an entry no
 * one may use, a region of mem with no [mem] section.  Told by
 * --check-config and logged when a policy is read; never an error, so a
 * file that only warns is still served.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "policy.h"

static int
warn_add(struct policy_errors *w, unsigned int line, const char *what,
    const struct policy_entry *e)
{
	struct policy_error *v;

	v = reallocarray(w->v, w->n + 1, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	w->v = v;
	v[w->n].line = line;
	if (e->kind == POLICY_REGION)
		snprintf(v[w->n].msg, sizeof(v[w->n].msg), "[region %s]: %s",
		    e->name, what);
	else
		snprintf(v[w->n].msg, sizeof(v[w->n].msg), "[%s]: %s",
		    e->name, what);
	w->n++;
	return 0;
}

static int
who_empty(const struct policy_who *who)
{
	return !who->everyone && who->n_uids == 0 && who->n_gids == 0;
}

int
policy_warnings(const struct policy *pol, struct policy_errors *w)
{
	const struct policy_entry *e;
	int have_mem = policy_find(pol, "mem") != NULL;
	size_t i;
	int rc;

	w->v = NULL;
	w->n = 0;
	for (i = 0; i < pol->n_entries; i++) {
		e = &pol->entries[i];
		if (who_empty(&e->who)) {
			rc = warn_add(w, e->line, "no users and no groups: "
			    "no one may use it (an entry allows only whom it "
			    "names)", e);
			if (rc)
				return rc;
		}
		if (e->kind == POLICY_REGION && !e->is_pci && !have_mem) {
			rc = warn_add(w, e->line, "a region of mem, but no "
			    "[mem] section: it is served from /dev/mem and "
			    "/proc/iomem, [mem]'s defaults, and mem itself is "
			    "not offered", e);
			if (rc)
				return rc;
		}
	}
	return 0;
}

void
policy_log_errors(const char *path, const struct policy_errors *errs)
{
	size_t i;

	for (i = 0; i < errs->n; i++) {
		if (errs->v[i].line)
			log_err("%s:%u: %s", path, errs->v[i].line,
			    errs->v[i].msg);
		else
			log_err("%s: %s", path, errs->v[i].msg);
	}
}

void
policy_log_warnings(const char *path, const struct policy *pol)
{
	struct policy_errors w = { 0 };
	size_t i;

	if (policy_warnings(pol, &w) < 0)
		log_warn("%s: out of memory for its warnings", path);
	for (i = 0; i < w.n; i++) {
		if (w.v[i].line)
			log_warn("%s:%u: warning: %s", path, w.v[i].line,
			    w.v[i].msg);
		else
			log_warn("%s: warning: %s", path, w.v[i].msg);
	}
	policy_errors_free(&w);
}
