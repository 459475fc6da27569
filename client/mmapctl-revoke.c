/*
 * mmapctl revoke LEASE | --uid USER | --region NAME [--reason TEXT]:
 * take leases back (root, or the daemon's admin_group), and what list
 * says of a lease being revoked.  Its options are parsed in mmapctl.c
 * with the others.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mmapctl.h"

int
cmd_revoke(struct mmapclient *c, const struct mmapclient_revoke_what *w)
{
	int n;

	n = mmapclient_revoke(c, w);
	if (n < 0) {
		fail_line(n, "revoke", "%s", mmapclient_error(c));
		return EXIT_REFUSED;
	}
	if (json)
		printf("{\"command\":\"revoke\",\"leases\":%d}\n", n);
	else
		printf("revoking %d lease%s\n", n, n == 1 ? "" : "s");
	return 0;
}

/* "held", "revoking until 12:00:05 (in 9 s)", "revoked" into buf. */
const char *
lease_state_text(const struct mmapclient_lease *l, char *buf, size_t len)
{
	time_t t = (time_t)l->deadline_unix_sec, now = time(NULL);
	struct tm tm;
	char when[16];

	switch (l->state) {
	case MMAPCLIENT_LEASE_REVOKING:
		if (localtime_r(&t, &tm) == NULL ||
		    strftime(when, sizeof(when), "%H:%M:%S", &tm) == 0)
			snprintf(when, sizeof(when), "?");
		snprintf(buf, len, "revoking until %s (in %lld s)", when,
		    t > now ? (long long)(t - now) : 0LL);
		return buf;
	case MMAPCLIENT_LEASE_REVOKED:
		return "revoked";
	default:
		return "held";
	}
}

const char *
lease_state_name(enum mmapclient_lease_state state)
{
	switch (state) {
	case MMAPCLIENT_LEASE_REVOKING:
		return "revoking";
	case MMAPCLIENT_LEASE_REVOKED:
		return "revoked";
	default:
		return "held";
	}
}
