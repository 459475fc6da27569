#include "config.h"

/*
 * The one question the daemon asks of the policy: may this peer have
 * this mapping of this entry (policy_check()), and the raw /dev/mem fd
 * (policy_raw_allowed())?
 */

#include <errno.h>
#include <stdint.h>

#include "engine.h"
#include "policy.h"
#include "policy-int.h"

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
 * region of size 0 runs to the end of its BAR, which only the opened BAR
 * knows: session.c checks it with reach_locate().
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
policy_allows(const struct policy_entry *e, const struct policy_peer *peer)
{
	if (e == NULL || peer == NULL)
		return 0;
	return who_allows(&e->who, peer);
}

int
policy_raw_allowed(const struct policy_entry *e,
    const struct policy_peer *peer)
{
	if (e == NULL || peer == NULL || e->kind == POLICY_ZERO || e->is_pci)
		return 0;
	return who_allows(&e->raw_who, peer);
}

int
policy_who_allows(const struct policy_who *who,
    const struct policy_peer *peer)
{
	return who_allows(who, peer);
}
