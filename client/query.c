/*
 * libmmapclient: questions to the daemon.  List (all its pages) and
 * Status (with the daemon's counters).  Each answer is handed over as
 * one allocation, strings included, so that one free() undoes it.
 */
#include "config.h"

#include <errno.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/*
 * A lease's strings: its device, its region, its client, its user, why
 * it is revoked.
 */
#define LEASE_STRS	5

/* The leases gathered so far, with their strings still separate. */
struct lease_acc {
	struct mmapclient_lease *v;
	char **names;		/* LEASE_STRS a lease */
	size_t n;
	size_t cap;
	size_t strbytes;	/* the strings' bytes, NULs included */
};

static void
acc_free(struct lease_acc *a)
{
	size_t i;

	for (i = 0; i < a->n * LEASE_STRS; i++)
		free(a->names[i]);
	free(a->names);
	free(a->v);
}

static int
acc_add(struct lease_acc *a, const Mmapd__V1__Lease *l)
{
	const char *strs[LEASE_STRS] = {
		l->device, l->region, l->client, l->user, l->revoke_reason,
	};
	struct mmapclient_lease *v;
	char **names;
	size_t cap, len, i, k;

	if (a->n == a->cap) {
		cap = a->cap ? a->cap * 2 : 16;
		if (cap > SIZE_MAX / sizeof(*v) / LEASE_STRS)
			return -ENOMEM;
		v = realloc(a->v, cap * sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		a->v = v;
		names = realloc(a->names, cap * LEASE_STRS * sizeof(*names));
		if (names == NULL)
			return -ENOMEM;
		a->names = names;
		a->cap = cap;
	}
	for (i = 0; i < LEASE_STRS; i++) {
		k = a->n * LEASE_STRS + i;
		len = strlen(strs[i]) + 1;
		a->names[k] = a->strbytes > SIZE_MAX - len ? NULL :
		    strdup(strs[i]);
		if (a->names[k] == NULL) {
			while (i-- > 0)
				free(a->names[--k]);
			return -ENOMEM;
		}
		a->strbytes += len;
	}
	a->v[a->n] = (struct mmapclient_lease){
		.id = l->id,
		.uid = (uid_t)l->uid,
		.pid = (pid_t)l->pid,
		.offset = l->offset,
		.size = l->size,
		.prot = (int)l->prot,
		.shared = l->shared ? 1 : 0,
		.created_unix_sec = l->created_unix_sec,
		.state = (enum mmapclient_lease_state)l->state,
		.deadline_unix_sec = l->deadline_unix_sec,
	};
	a->n++;
	return 0;
}

/* One block: the array, then the names it points to. */
static struct mmapclient_lease *
acc_flatten(const struct lease_acc *a)
{
	struct mmapclient_lease *out;
	size_t head, i, len;
	char *s;

	if (a->n > (SIZE_MAX - a->strbytes) / sizeof(*out))
		return NULL;
	head = a->n * sizeof(*out);
	out = malloc(head + a->strbytes);
	if (out == NULL)
		return NULL;
	memcpy(out, a->v, head);
	s = (char *)out + head;
	for (i = 0; i < a->n * LEASE_STRS; i++) {
		len = strlen(a->names[i]) + 1;
		memcpy(s, a->names[i], len);
		if (i % LEASE_STRS == 0)
			out[i / LEASE_STRS].device = s;
		else if (i % LEASE_STRS == 1)
			out[i / LEASE_STRS].region = s;
		else if (i % LEASE_STRS == 2)
			out[i / LEASE_STRS].client = s;
		else if (i % LEASE_STRS == 3)
			out[i / LEASE_STRS].user = s;
		else
			out[i / LEASE_STRS].revoke_reason = s;
		s += len;
	}
	return out;
}

/*
 * mmapclient_list@@MMAPCLIENT_0.4: its leases carry their state.  Named
 * apart from mmapclient_* so that only the versioned names below are
 * exported (client/mmapclient.sym).
 */
int list_v04(struct mmapclient *c, struct mmapclient_lease **out,
    size_t *n);
__asm__(".symver list_v04, mmapclient_list@@MMAPCLIENT_0.4");

int
list_v04(struct mmapclient *c, struct mmapclient_lease **out, size_t *n)
{
	Mmapd__V1__List list = MMAPD__V1__LIST__INIT;
	Mmapd__V1__Request req = MMAPD__V1__REQUEST__INIT;
	struct lease_acc acc = { 0 };
	const Mmapd__V1__ListReply *lr;
	Mmapd__V1__Reply *rep;
	uint64_t after = 0;
	int err = 0, more;
	size_t i;

	if (out)
		*out = NULL;
	if (n)
		*n = 0;
	if (c == NULL)
		return -EINVAL;
	if (out == NULL || n == NULL)
		return conn_fail(c, -EINVAL, "no place to put the leases");

	req.body_case = MMAPD__V1__REQUEST__BODY_LIST;
	req.list = &list;
	do {
		list.after_id = after;
		err = conn_call(c, &req, MMAPD__V1__REPLY__BODY_LIST, &rep,
		    NULL);
		if (err)
			goto fail;
		lr = rep->list;
		for (i = 0; i < lr->n_leases; i++) {
			if (lr->leases[i]->id <= after) {
				err = conn_break(c, -EPROTO, "the lease list "
				    "goes back from id %llu to %llu",
				    (unsigned long long)after,
				    (unsigned long long)lr->leases[i]->id);
				break;
			}
			err = acc_add(&acc, lr->leases[i]);
			if (err) {
				conn_fail(c, err, "cannot allocate the lease "
				    "list");
				break;
			}
			after = lr->leases[i]->id;
		}
		more = lr->more;
		if (!err && more && lr->n_leases == 0)
			err = conn_break(c, -EPROTO, "an empty page of the "
			    "lease list says more follow");
		mmapd__v1__reply__free_unpacked(rep, NULL);
		if (err)
			goto fail;
	} while (more);

	if (acc.n > 0) {
		*out = acc_flatten(&acc);
		if (*out == NULL) {
			err = conn_fail(c, -ENOMEM, "cannot allocate the lease "
			    "list");
			goto fail;
		}
	}
	*n = acc.n;
fail:
	acc_free(&acc);
	return err;
}

/* struct mmapclient_lease as 0.3 made it, before state. */
struct lease_v03 {
	uint64_t id;
	uid_t uid;
	pid_t pid;
	const char *device;
	uint64_t offset;
	uint64_t size;
	int prot;
	int shared;
	int64_t created_unix_sec;
	const char *region;
	const char *client;
	const char *user;
};

/*
 * mmapclient_list@MMAPCLIENT_0.3, for programs built against 0.3: the
 * same leases in that layout, moved down in place as list_v01() does.
 */
int list_v03(struct mmapclient *c, struct lease_v03 **out, size_t *n);
__asm__(".symver list_v03, mmapclient_list@MMAPCLIENT_0.3");

int
list_v03(struct mmapclient *c, struct lease_v03 **out, size_t *n)
{
	struct mmapclient_lease *v = NULL, l;
	struct lease_v03 *o;
	size_t i;
	int err;

	if (out)
		*out = NULL;
	err = list_v04(c, out ? &v : NULL, n);
	if (err || v == NULL)
		return err;
	o = (struct lease_v03 *)(void *)v;
	for (i = 0; i < *n; i++) {
		l = v[i];
		o[i] = (struct lease_v03){
			.id = l.id, .uid = l.uid, .pid = l.pid,
			.device = l.device, .offset = l.offset,
			.size = l.size, .prot = l.prot, .shared = l.shared,
			.created_unix_sec = l.created_unix_sec,
			.region = l.region, .client = l.client,
			.user = l.user,
		};
	}
	*out = o;
	return 0;
}

/* struct mmapclient_lease as 0.1 made it, before client and user. */
struct lease_v01 {
	uint64_t id;
	uid_t uid;
	pid_t pid;
	const char *device;
	uint64_t offset;
	uint64_t size;
	int prot;
	int shared;
	int64_t created_unix_sec;
};

/*
 * mmapclient_list@MMAPCLIENT_0.1, for programs built against 0.1: the
 * same leases in the older, shorter layout, moved down in place (each
 * lands at or below where it was), so mmapclient_leases_free() still
 * frees the block and the device names stay where they point.
 */
int list_v01(struct mmapclient *c, struct lease_v01 **out, size_t *n);
__asm__(".symver list_v01, mmapclient_list@MMAPCLIENT_0.1");

int
list_v01(struct mmapclient *c, struct lease_v01 **out, size_t *n)
{
	struct mmapclient_lease *v = NULL, l;
	struct lease_v01 *o;
	size_t i;
	int err;

	if (out)
		*out = NULL;
	err = list_v04(c, out ? &v : NULL, n);
	if (err || v == NULL)
		return err;
	o = (struct lease_v01 *)(void *)v;
	for (i = 0; i < *n; i++) {
		l = v[i];
		o[i] = (struct lease_v01){
			.id = l.id, .uid = l.uid, .pid = l.pid,
			.device = l.device, .offset = l.offset,
			.size = l.size, .prot = l.prot, .shared = l.shared,
			.created_unix_sec = l.created_unix_sec,
		};
	}
	*out = o;
	return 0;
}

void
mmapclient_leases_free(struct mmapclient_lease *leases)
{
	free(leases);
}

static size_t
align_up(size_t n, size_t a)
{
	return (n + a - 1) / a * a;
}

/*
 * One block: the status, its offers, their terms, its counters and
 * their denials, then the strings.
 */
static struct mmapclient_status *
status_flatten(const Mmapd__V1__StatusReply *sr)
{
	const Mmapd__V1__Counters *sc = sr->counters;
	size_t n_den = sc != NULL ? sc->n_denials : 0;
	struct mmapclient_status *st;
	struct mmapclient_offer *offers;
	struct mmapclient_offer_terms *terms;
	struct mmapclient_counters *counters;
	struct mmapclient_errno_count *den;
	const Mmapd__V1__Offer *o;
	size_t head, mid, cnt, dpos, bytes, len, i;
	char *s;

	/* A reply fits one packet, so none of these sums can overflow. */
	head = align_up(sizeof(*st), alignof(struct mmapclient_offer));
	mid = align_up(head + sr->n_offers * sizeof(*offers),
	    alignof(struct mmapclient_offer_terms));
	cnt = align_up(mid + sr->n_offers * sizeof(*terms),
	    alignof(struct mmapclient_counters));
	dpos = align_up(cnt + sizeof(*counters),
	    alignof(struct mmapclient_errno_count));
	bytes = dpos + n_den * sizeof(*den) + strlen(sr->version) + 1;
	for (i = 0; i < sr->n_offers; i++)
		bytes += strlen(sr->offers[i]->name) + 1;
	st = malloc(bytes);
	if (st == NULL)
		return NULL;
	offers = (struct mmapclient_offer *)(void *)((char *)st + head);
	terms = (struct mmapclient_offer_terms *)(void *)((char *)st + mid);
	counters = (struct mmapclient_counters *)(void *)((char *)st + cnt);
	den = (struct mmapclient_errno_count *)(void *)((char *)st + dpos);
	s = (char *)(den + n_den);

	len = strlen(sr->version) + 1;
	memcpy(s, sr->version, len);
	*st = (struct mmapclient_status){
		.version = s,
		.uptime_sec = sr->uptime_sec,
		.offers = sr->n_offers ? offers : NULL,
		.n_offers = sr->n_offers,
		.clients = sr->clients,
		.leases = sr->leases,
		.terms = sr->n_offers ? terms : NULL,
		.offers_left_out = sr->offers_left_out,
		.counters = sc != NULL ? counters : NULL,
	};
	if (sc != NULL) {
		*counters = (struct mmapclient_counters){
			.grants = sc->grants,
			.releases = sc->releases,
			.revocations = sc->revocations,
			.denials = n_den ? den : NULL,
			.n_denials = n_den,
			.zero_bytes_held = sc->zero_bytes_held,
			.peak_clients = sc->peak_clients,
		};
		for (i = 0; i < n_den; i++)
			den[i] = (struct mmapclient_errno_count){
				.error = sc->denials[i]->error,
				.count = sc->denials[i]->count,
			};
	}
	s += len;
	for (i = 0; i < sr->n_offers; i++) {
		len = strlen(sr->offers[i]->name) + 1;
		memcpy(s, sr->offers[i]->name, len);
		offers[i].name = s;
		offers[i].kind =
		    (enum mmapclient_offer_kind)sr->offers[i]->kind;
		o = sr->offers[i];
		terms[i] = (struct mmapclient_offer_terms){
			.max_size = o->max_size,
			.prot = (int)o->prot,
			.shared = o->shared ? 1 : 0,
			.cache = (enum mmapclient_cache)o->cache,
			.size = o->size,
			.registers_only = o->registers_only ? 1 : 0,
		};
		s += len;
	}
	return st;
}

/*
 * mmapclient_status@@MMAPCLIENT_0.4: the status says the counters.  Its
 * struct only grew at the end, so mmapclient_status@MMAPCLIENT_0.1,
 * for programs built before, is the same call (status_v01 below); the
 * new version is there so that a program that reads the counters is
 * refused by an older library at load time, not handed a shorter block.
 */
int status_v04(struct mmapclient *c, struct mmapclient_status **out);
__asm__(".symver status_v04, mmapclient_status@@MMAPCLIENT_0.4");

int
status_v04(struct mmapclient *c, struct mmapclient_status **out)
{
	Mmapd__V1__Status status = MMAPD__V1__STATUS__INIT;
	Mmapd__V1__Request req = MMAPD__V1__REQUEST__INIT;
	const Mmapd__V1__Counters *sc;
	Mmapd__V1__Reply *rep;
	size_t i;
	int err;

	if (out)
		*out = NULL;
	if (c == NULL)
		return -EINVAL;
	if (out == NULL)
		return conn_fail(c, -EINVAL, "no place to put the status");

	req.body_case = MMAPD__V1__REQUEST__BODY_STATUS;
	req.status = &status;
	err = conn_call(c, &req, MMAPD__V1__REPLY__BODY_STATUS, &rep, NULL);
	if (err)
		return err;
	sc = rep->status->counters;
	for (i = 0; sc != NULL && i < sc->n_denials; i++) {
		if (sc->denials[i]->error <= 0 ||
		    sc->denials[i]->error > ERRNO_MAX) {
			err = conn_break(c, -EPROTO, "the status counts "
			    "denials of errno %d", (int)sc->denials[i]->error);
			mmapd__v1__reply__free_unpacked(rep, NULL);
			return err;
		}
	}
	*out = status_flatten(rep->status);
	if (*out == NULL)
		err = conn_fail(c, -ENOMEM, "cannot allocate the status");
	mmapd__v1__reply__free_unpacked(rep, NULL);
	return err;
}

int status_v01(struct mmapclient *c, struct mmapclient_status **out);
__asm__(".symver status_v01, mmapclient_status@MMAPCLIENT_0.1");

int
status_v01(struct mmapclient *c, struct mmapclient_status **out)
{
	return status_v04(c, out);
}

void
mmapclient_status_free(struct mmapclient_status *status)
{
	free(status);
}
