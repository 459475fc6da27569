/*
 * What a client may see of the daemon: Status (the offers this caller
 * may use, with their terms) and List (leases, with their user and
 * client).  Each reply fits one packet by construction: List in pages,
 * Status with the offers that do not fit counted, fitted around the
 * counters since start (stats.c).
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#include "daemon.h"
#include "mmapd.pb-c.h"
#include "reach.h"
#include "revoke.h"
#include "session-int.h"

/*
 * Leases a reply.  The largest Lease (device, region, client and user of
 * 63 bytes, every number at its widest) takes 332 bytes with its tag and
 * length, the reply around them 16: 12 fit a 4 KiB packet.
 */
#define LIST_PAGE	12

/* A user sees its own leases; root sees all. */
void
session_list(struct session *s, uint64_t id, const Mmapd__V1__List *req)
{
	Mmapd__V1__Lease items[LIST_PAGE], *ptrs[LIST_PAGE];
	Mmapd__V1__ListReply lr = MMAPD__V1__LIST_REPLY__INIT;
	Reply r = MMAPD__V1__REPLY__INIT;
	const struct lease *l;
	size_t n = 0;

	for (l = s->d->leases; l != NULL; l = l->next) {
		if (l->id <= req->after_id)
			continue;
		if (s->peer.uid != 0 && l->uid != s->peer.uid)
			continue;
		if (n == LIST_PAGE) {
			lr.more = 1;
			break;
		}
		mmapd__v1__lease__init(&items[n]);
		items[n].id = l->id;
		items[n].uid = l->uid;
		items[n].pid = l->pid;
		items[n].device = (char *)l->device;
		items[n].offset = l->offset;
		items[n].size = l->size;
		items[n].prot = (uint32_t)l->prot;
		items[n].shared = l->shared;
		items[n].created_unix_sec = (int64_t)l->created;
		items[n].region = (char *)(l->shm ? l->shm->name : "");
		items[n].client = l->owner->name;
		items[n].user = l->owner->user;
		items[n].state = (Mmapd__V1__LeaseState)l->state;
		if (l->state == LEASE_REVOKING)
			items[n].deadline_unix_sec = (int64_t)l->deadline;
		items[n].revoke_reason = (char *)l->revoke_reason;
		ptrs[n] = &items[n];
		n++;
	}
	lr.leases = ptrs;
	lr.n_leases = n;
	r.request_id = id;
	r.body_case = MMAPD__V1__REPLY__BODY_LIST;
	r.list = &lr;
	reply_send(s, &r, -1);
}

/* Bytes a varint of v takes on the wire. */
static size_t
varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* The terms of e an Offer shows; 0 when its device was not opened. */
static int
offer_fill(const struct mmapd *d, const struct policy_entry *e,
    const struct policy_peer *pp, Mmapd__V1__Offer *o)
{
	const struct pci_region *r = NULL;

	if (e->kind == POLICY_REGION && e->is_pci) {
		r = pcis_find(d, e->name);
		if (r == NULL)
			return 0;
	} else if (e->kind != POLICY_ZERO && !d->have_mem)
		return 0;
	mmapd__v1__offer__init(o);
	o->name = e->name;
	o->kind = e->kind == POLICY_REGION ?
	    MMAPD__V1__OFFER_KIND__OFFER_REGION :
	    MMAPD__V1__OFFER_KIND__OFFER_DEVICE;
	o->max_size = e->max_size;
	o->prot = PROT_READ | (e->write ? PROT_WRITE : 0);
	o->shared = e->shared;
	/* The mode a Map gets by default: zero cached, devices uncached. */
	o->cache = (Mmapd__V1__CacheMode)(e->cache != MAP_CACHE_DEFAULT ?
	    e->cache : e->kind == POLICY_ZERO ? MAP_CACHE_CACHED :
	    MAP_CACHE_UNCACHED);
	if (e->kind == POLICY_REGION)
		o->size = e->size;
	/* A pci region without size runs to the end of its BAR. */
	if (r != NULL && e->size == 0 && r->pci.len > e->base)
		o->size = r->pci.len - e->base;
	/* As reach_check() judges a Map by this caller. */
	o->registers_only = e->regs_only ||
	    (e->kind != POLICY_ZERO && !e->is_pci &&
	    (!policy_raw_allowed(e, pp) || !d->mem_raw_ok)) ||
	    (r != NULL && reach_beyond(e, &r->pci) && !e->whole_bar);
	return 1;
}

/*
 * A [shm] section as an offer: for a caller that [zero] lets share and
 * the section names as a writer or reader (root: every section), the
 * size every Map of it asks and the widest access it gets.
 */
static int
shm_offer_fill(const struct mmapd *d, const struct policy_shm *sh,
    const struct policy_peer *pp, int all, Mmapd__V1__Offer *o)
{
	const struct policy_entry *z = policy_find(d->policy, "zero");
	const char *why;
	int reader, writer;

	writer = policy_shm_check(sh, pp, 1, 0, &why) == 0;
	reader = policy_shm_check(sh, pp, 0, 0, &why) == 0;
	if (!all && (!reader || z == NULL || !z->shared ||
	    !policy_allows(z, pp)))
		return 0;
	mmapd__v1__offer__init(o);
	o->name = sh->name;
	o->kind = MMAPD__V1__OFFER_KIND__OFFER_SHARED_MEMORY;
	o->max_size = sh->size;
	o->size = sh->size;
	o->prot = PROT_READ | (writer ? PROT_WRITE : 0);
	o->shared = 1;
	o->cache = MMAPD__V1__CACHE_MODE__CACHE_CACHED;
	return 1;
}

/* The offers of a Status reply, as many as fit one packet. */
struct offer_list {
	Mmapd__V1__Offer *v;
	Mmapd__V1__Offer **ptrs;
	size_t n;
	size_t used;			/* bytes of the reply so far */
	uint32_t left;			/* offers that did not fit */
};

/* Once one offer did not fit, none after it goes in: order is kept. */
static void
offer_add(struct offer_list *ol, const Mmapd__V1__Offer *o)
{
	size_t len = mmapd__v1__offer__get_packed_size(o);

	/* Its tag, its length, itself; inside StatusReply's length. */
	len += 1 + varint_len(len) + 1;
	if (ol->left > 0 || ol->used + len > WIRE_MAX) {
		ol->left++;
		return;
	}
	ol->used += len;
	ol->v[ol->n] = *o;
	ol->ptrs[ol->n] = &ol->v[ol->n];
	ol->n++;
}

/*
 * What the daemon offers this caller: the entries whose users or groups
 * name it, then the [shm] sections it may attach (root: every entry and
 * section), with what a Map of each may get.  As many as fit one packet;
 * the rest are counted in offers_left_out.
 */
void
session_status(struct session *s, uint64_t id)
{
	struct mmapd *d = s->d;
	const struct policy_peer pp = peer_policy(&s->peer);
	Mmapd__V1__StatusReply sr = MMAPD__V1__STATUS_REPLY__INIT;
	Mmapd__V1__Counters counters;
	Reply r = MMAPD__V1__REPLY__INIT;
	struct offer_list ol = { 0 };
	Mmapd__V1__Offer o;
	const struct policy_entry *e;
	size_t i, cap = d->policy->n_entries + d->policy->n_shms + 1;
	int all = s->peer.uid == 0;
	time_t now = time(NULL);

	if (stats_counters(d, &counters) < 0) {
		reply_error(s, id, -ENOMEM, "out of memory");
		return;
	}
	ol.v = calloc(cap, sizeof(*ol.v));
	ol.ptrs = calloc(cap, sizeof(*ol.ptrs));
	if (ol.v == NULL || ol.ptrs == NULL) {
		reply_error(s, id, -ENOMEM, "out of memory");
		goto out;
	}
	sr.version = (char *)PACKAGE_VERSION;
	sr.uptime_sec = now > d->started ? (uint64_t)(now - d->started) : 0;
	sr.clients = d->n_clients;
	sr.leases = d->n_leases;
	sr.offers_left_out = UINT32_MAX;	/* its widest encoding */
	sr.counters = &counters;
	r.request_id = id;
	r.body_case = MMAPD__V1__REPLY__BODY_STATUS;
	r.status = &sr;
	/* The reply without offers, then each offer's field as it goes. */
	ol.used = mmapd__v1__reply__get_packed_size(&r) + 8;
	for (i = 0; i < d->policy->n_entries; i++) {
		e = &d->policy->entries[i];
		if ((all || policy_allows(e, &pp)) && offer_fill(d, e, &pp, &o))
			offer_add(&ol, &o);
	}
	for (i = 0; i < d->policy->n_shms; i++)
		if (shm_offer_fill(d, &d->policy->shms[i], &pp, all, &o))
			offer_add(&ol, &o);
	sr.offers = ol.ptrs;
	sr.n_offers = ol.n;
	sr.offers_left_out = ol.left;
	reply_send(s, &r, -1);
out:
	stats_counters_free(&counters);
	free(ol.v);
	free(ol.ptrs);
}
