#include "config.h"

/*
 * The keys of an entry that say how its leases are taken back
 * (daemon/revoke.c): how long one may be held at most, how long its
 * holder has to release it once revoked, and what happens then.  A
 * [shm NAME] section may give a lifetime of its own to its leases.
 */

#include <stdint.h>
#include <string.h>

#include "policy.h"
#include "policy-int.h"

void
key_revoke(struct loader *ld, const char *key, const char *value)
{
	struct policy_entry *e;
	uint64_t v, max;

	if (ld->sect == SECT_SHM) {
		if (policy_parse_digits(value, 10, &v) < 0 ||
		    v > POLICY_MAX_LEASE_SECONDS)
			loader_error(ld, ld->lineno, "%s: '%s' is not a number "
			    "of seconds from 0 to %u", key, value,
			    POLICY_MAX_LEASE_SECONDS);
		else
			ld->pol->shms[ld->shm].max_lease_seconds =
			    (unsigned int)v;
		return;
	}
	e = loader_entry(ld);
	if (strcmp(key, "on_revoke") == 0) {
		if (strcmp(value, "kill") == 0)
			e->on_revoke = POLICY_REVOKE_KILL;
		else if (strcmp(value, "log") == 0)
			e->on_revoke = POLICY_REVOKE_LOG;
		else
			loader_error(ld, ld->lineno, "%s: '%s' is not kill or "
			    "log", key, value);
		return;
	}
	max = strcmp(key, "revoke_seconds") == 0 ? POLICY_MAX_REVOKE_SECONDS :
	    POLICY_MAX_LEASE_SECONDS;
	/* 0 means no lifetime; a grace of 0 enforces at once. */
	if (policy_parse_digits(value, 10, &v) < 0 || v > max) {
		loader_error(ld, ld->lineno, "%s: '%s' is not a number of "
		    "seconds from 0 to %llu", key, value,
		    (unsigned long long)max);
		return;
	}
	if (strcmp(key, "revoke_seconds") == 0)
		e->revoke_seconds = (unsigned int)v;
	else
		e->max_lease_seconds = (unsigned int)v;
}
