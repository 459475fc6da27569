/*
 * Leases: every grant, from the Grant until Release or the end of its
 * connection.  Named shared regions are counted by the leases that hold
 * them and closed with the last one, unless their [shm] section says
 * persist; a name no section declares is its uid's alone.  Each uid's
 * leases and bytes of zero memory are counted here, where leases come
 * and go, for [limits].
 * Lists are short and walked linearly; ids only grow, so the lease list
 * stays sorted by appending.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conns.h"
#include "daemon.h"
#include "log.h"
#include "revoke.h"

struct shm_name *
shm_find(struct mmapd *d, const char *name, int declared, uid_t uid)
{
	struct shm_name *n;

	/* A private name is its uid's: another uid's is other memory. */
	for (n = d->shms; n != NULL; n = n->next)
		if (n->declared == declared && (declared || n->uid == uid) &&
		    strcmp(n->name, name) == 0)
			return n;
	return NULL;
}

/* Takes fd; the region holds no lease until lease_add() gives it one. */
struct shm_name *
shm_add(struct mmapd *d, const char *name, int declared, uid_t uid, int fd,
    uint64_t size)
{
	struct shm_name *n;

	if (strlen(name) > NAME_MAX_LEN)
		return NULL;
	n = calloc(1, sizeof(*n));
	if (n == NULL)
		return NULL;
	strcpy(n->name, name);
	n->declared = declared;
	n->uid = declared ? 0 : uid;
	n->fd = fd;
	n->size = size;
	n->next = d->shms;
	d->shms = n;
	return n;
}

static void
shm_unlink(struct mmapd *d, struct shm_name *n)
{
	struct shm_name **pp;

	for (pp = &d->shms; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == n) {
			*pp = n->next;
			break;
		}
	}
	close(n->fd);
	free(n);
}

/* Close a region no lease holds, unless it persists. */
void
shm_put(struct mmapd *d, struct shm_name *n)
{
	if (n->refs > 0 || n->persist)
		return;
	shm_unlink(d, n);
}

void
shm_reload(struct mmapd *d)
{
	const struct policy_shm *ps;
	struct shm_name *n, *next;

	for (n = d->shms; n != NULL; n = next) {
		next = n->next;
		if (!n->persist)
			continue;
		ps = policy_shm_find(d->policy, n->name);
		if (ps != NULL && ps->persist && ps->size == n->size)
			continue;
		log_info("shared memory %s is no longer declared to persist "
		    "at %llu bytes: it goes with its last lease", n->name,
		    (unsigned long long)n->size);
		n->persist = 0;
		shm_put(d, n);
	}
}

int
shm_close_all(struct mmapd *d)
{
	struct shm_name *n, *next;
	int left = d->leases != NULL;

	for (n = d->shms; n != NULL; n = next) {
		next = n->next;
		if (n->refs > 0)
			left = 1;
		else
			shm_unlink(d, n);
	}
	return left;
}

const struct uid_usage *
usage_find(const struct mmapd *d, uid_t uid)
{
	const struct uid_usage *u;

	for (u = d->usage; u != NULL; u = u->next)
		if (u->uid == uid)
			return u;
	return NULL;
}

/* uid's entry, made when it has none; NULL when out of memory. */
static struct uid_usage *
usage_get(struct mmapd *d, uid_t uid)
{
	struct uid_usage *u;

	for (u = d->usage; u != NULL; u = u->next)
		if (u->uid == uid)
			return u;
	u = calloc(1, sizeof(*u));
	if (u == NULL)
		return NULL;
	u->uid = uid;
	u->next = d->usage;
	d->usage = u;
	return u;
}

/* A lease of uid is gone: its entry goes with the last one. */
static void
usage_put(struct mmapd *d, const struct lease *l)
{
	struct uid_usage *u, **pp;

	for (pp = &d->usage; (u = *pp) != NULL; pp = &u->next) {
		if (u->uid != l->uid)
			continue;
		u->leases--;
		u->zero_bytes -= l->zero_bytes;
		if (u->leases == 0) {
			*pp = u->next;
			free(u);
		}
		return;
	}
}

/*
 * The index of leases by id, so that a Map, a Release and the end of a
 * grant cost the same whatever others hold: a list walk per request, with
 * every uid's leases on it, would let clients holding many slow every
 * other client's requests.  Ids are handed out in order, so id modulo a
 * power of two spreads them evenly.  The table doubles as leases come;
 * when it cannot (out of memory) the chains only grow longer, and with
 * no table at all lease_find() walks the list: slower, never wrong.
 */
#define LEASE_BUCKETS_MIN	64

static int
index_grow(struct mmapd *d)
{
	size_t n = d->lease_buckets ? 2 * d->lease_buckets :
	    LEASE_BUCKETS_MIN;
	struct lease **h, *l;

	h = calloc(n, sizeof(*h));
	if (h == NULL)
		return -ENOMEM;
	for (l = d->leases; l != NULL; l = l->next) {
		l->hnext = h[l->id & (n - 1)];
		h[l->id & (n - 1)] = l;
	}
	free(d->lease_hash);
	d->lease_hash = h;
	d->lease_buckets = n;
	return 0;
}

/* l is on the list already: the table grows to take it, or not. */
static void
index_add(struct mmapd *d, struct lease *l)
{
	size_t b;

	/* Grown, the table has every lease on the list, l too. */
	if (d->n_leases > d->lease_buckets && index_grow(d) == 0)
		return;
	if (d->lease_buckets == 0)
		return;		/* none: lease_find() walks the list */
	b = l->id & (d->lease_buckets - 1);
	l->hnext = d->lease_hash[b];
	d->lease_hash[b] = l;
}

static void
index_del(struct mmapd *d, struct lease *l)
{
	struct lease **pp;

	if (d->lease_buckets == 0)
		return;
	for (pp = &d->lease_hash[l->id & (d->lease_buckets - 1)];
	    *pp != NULL; pp = &(*pp)->hnext) {
		if (*pp == l) {
			*pp = l->hnext;
			return;
		}
	}
}

void
lease_index_free(struct mmapd *d)
{
	free(d->lease_hash);
	d->lease_hash = NULL;
	d->lease_buckets = 0;
}

struct lease *
lease_add(struct mmapd *d, struct session *owner, const char *device,
    uint64_t offset, uint64_t size, int prot, int shared,
    struct shm_name *shm)
{
	const struct policy_entry *e = policy_find(d->policy, device);
	struct uid_usage *u;
	struct lease *l;

	u = usage_get(d, owner->peer.uid);
	if (u == NULL)
		return NULL;
	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		if (u->leases == 0) {
			d->usage = u->next;	/* usage_get() put it first */
			free(u);
		}
		return NULL;
	}
	l->id = ++d->next_lease;
	l->owner = owner;
	l->uid = owner->peer.uid;
	l->pid = owner->peer.pid;
	snprintf(l->device, sizeof(l->device), "%s", device);
	l->offset = offset;
	l->size = size;
	l->prot = prot;
	l->shared = shared;
	l->created = time(NULL);
	/* How it is revoked should its entry leave the policy. */
	l->created_ms = conns_now_ms();
	l->grace = e != NULL ? e->revoke_seconds :
	    POLICY_DEFAULT_REVOKE_SECONDS;
	l->enforce = e != NULL ? e->on_revoke : POLICY_REVOKE_KILL;
	l->shm = shm;
	if (shm != NULL)
		shm->refs++;
	/* The name is [zero]'s alone: the policy refuses [region zero]. */
	l->zero_bytes = strcmp(device, "zero") == 0 ? size : 0;
	u->leases++;
	u->zero_bytes += l->zero_bytes;
	/* Ids only grow: the newest goes last, and the list stays sorted. */
	l->prev = d->lease_last;
	if (d->lease_last != NULL)
		d->lease_last->next = l;
	else
		d->leases = l;
	d->lease_last = l;
	d->n_leases++;
	index_add(d, l);
	/* Its owner's own list: a connection's end walks only its own. */
	l->oprev = owner->own_last;
	if (owner->own_last != NULL)
		owner->own_last->onext = l;
	else
		owner->own = l;
	owner->own_last = l;
	owner->n_leases++;
	/* A lifetime, of the entry or of an [shm] section: time it. */
	if ((e != NULL && e->max_lease_seconds > 0) || shm != NULL)
		revoke_arm(d);
	return l;
}

struct lease *
lease_find(struct mmapd *d, uint64_t id)
{
	struct lease *l;

	if (d->lease_buckets == 0) {
		/* No index (out of memory when the first lease came). */
		for (l = d->leases; l != NULL; l = l->next)
			if (l->id == id)
				return l;
		return NULL;
	}
	for (l = d->lease_hash[id & (d->lease_buckets - 1)]; l != NULL;
	    l = l->hnext)
		if (l->id == id)
			return l;
	return NULL;
}

void
lease_drop(struct mmapd *d, struct lease *l)
{
	index_del(d, l);
	if (l->prev != NULL)
		l->prev->next = l->next;
	else
		d->leases = l->next;
	if (l->next != NULL)
		l->next->prev = l->prev;
	else
		d->lease_last = l->prev;
	if (l->oprev != NULL)
		l->oprev->onext = l->onext;
	else
		l->owner->own = l->onext;
	if (l->onext != NULL)
		l->onext->oprev = l->oprev;
	else
		l->owner->own_last = l->oprev;
	d->n_leases--;
	l->owner->n_leases--;
	usage_put(d, l);
	if (l->shm != NULL) {
		l->shm->refs--;
		shm_put(d, l->shm);
	}
	free(l);
}

void
lease_drop_owner(struct mmapd *d, struct session *owner)
{
	while (owner->own != NULL)
		lease_drop(d, owner->own);
}
