#include "config.h"

/*
 * The policy: mmapd.conf read into a struct policy, and the one question
 * the daemon asks of it, policy_check().
 *
 * Its parts: the policy and its entries, built in or loaded (policy.c);
 * reading the file, its sections and libinih's callbacks
 * (policy-read.c); the keys and the checks at a section's end
 * (policy-keys.c); the values of keys (policy-parse.c); the check
 * (policy-check.c).  policy-int.h is what they share.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "policy-int.h"

#define DEFAULT_SOCKET_MODE	0666
#define DEFAULT_MEM_PATH	"/dev/mem"
#define DEFAULT_IOMEM_PATH	"/proc/iomem"

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

struct policy *
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
int
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
	/*
	 * A device mapping cannot be taken back from its holder but by
	 * killing it; zero memory harms no one once the policy refuses it.
	 */
	e->revoke_seconds = POLICY_DEFAULT_REVOKE_SECONDS;
	e->on_revoke = kind == POLICY_ZERO ? POLICY_REVOKE_LOG :
	    POLICY_REVOKE_KILL;
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
	for (i = 0; i < pol->n_shms; i++)
		policy_shm_free(&pol->shms[i]);
	free(pol->shms);
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
