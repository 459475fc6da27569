/*
 * The counters since start that Status shows (StatusReply.counters):
 * what the audit log has written, counted as it is written, and what
 * is held now.  Nothing here is per client: a caller sees the daemon's
 * totals, as it sees its clients and leases.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "daemon.h"
#include "mmapd.pb-c.h"
#include "session-int.h"

/*
 * Errnos a Status reply names at most.  The daemon refuses with some
 * twenty; the cap keeps the reply within its packet whatever comes,
 * and the offers are fitted around what is left.
 */
#define STATS_DENIALS_MAX	64

void
stats_deny(struct mmapd *d, int err)
{
	int e = -err;

	if (e > 0 && e < STATS_ERRNO_LIMIT)
		d->stats.denials[e]++;
}

void
stats_client(struct mmapd *d)
{
	if (d->n_clients > d->stats.peak_clients)
		d->stats.peak_clients = d->n_clients;
}

int
stats_counters(const struct mmapd *d, Mmapd__V1__Counters *c)
{
	const struct uid_usage *u;
	Mmapd__V1__ErrnoCount *v, **p;
	size_t n = 0, i;
	int e;

	mmapd__v1__counters__init(c);
	c->grants = d->stats.grants;
	c->releases = d->stats.releases;
	c->revocations = d->stats.revocations;
	c->peak_clients = d->stats.peak_clients;
	for (u = d->usage; u != NULL; u = u->next)
		c->zero_bytes_held += u->zero_bytes;
	for (e = 1; e < STATS_ERRNO_LIMIT; e++)
		n += d->stats.denials[e] != 0;
	if (n > STATS_DENIALS_MAX)
		n = STATS_DENIALS_MAX;
	if (n == 0)
		return 0;
	v = calloc(n, sizeof(*v));
	p = calloc(n, sizeof(*p));
	if (v == NULL || p == NULL) {
		free(v);
		free(p);
		return -ENOMEM;
	}
	for (e = 1, i = 0; e < STATS_ERRNO_LIMIT && i < n; e++) {
		if (d->stats.denials[e] == 0)
			continue;
		mmapd__v1__errno_count__init(&v[i]);
		v[i].error = e;
		v[i].count = d->stats.denials[e];
		p[i] = &v[i];
		i++;
	}
	c->denials = p;
	c->n_denials = n;
	return 0;
}

void
stats_counters_free(Mmapd__V1__Counters *c)
{
	if (c->n_denials > 0)
		free(c->denials[0]);	/* the array of them all */
	free(c->denials);
	c->denials = NULL;
	c->n_denials = 0;
}
