/*
 * libmmapclient: many regions per round trip.  mmapclient_map_batch()
 * sends one MapBatch and maps what its one GrantBatch grants, each
 * grant checked as a lone one is (grant.c); mmapclient_release_quiet()
 * ends leases with one quiet Release, which the daemon answers only
 * when it fails.  A daemon without the features gets the same done the
 * old way: pipelined Maps, plain Releases.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

#include "internal.h"

void
quiet_settle(struct mmapclient *c, uint64_t id)
{
	struct call *k;
	size_t i;

	for (i = 0; i < c->calls_cap && c->n_quiet > 0; i++) {
		k = &c->calls[i];
		if (k->id != 0 && k->id < id && k->kind == CALL_QUIET &&
		    !k->done)
			call_free(c, k);
	}
}

/*
 * One grant of a batch and its fd (taken): checked, then mapped into a
 * new region.  0; -EPROTO with c broken when the grant or fd is not
 * what the protocol says; mmap's -errno, *drop set to the lease to
 * release.
 */
static int
batch_map_one(struct mmapclient *c, const Mmapd__V1__Grant *g, int fd,
    struct mmapclient_region **out, uint64_t *drop)
{
	struct region *reg;
	void *p;
	int err;

	err = grant_check(c, g, fd);
	if (err) {
		close(fd);
		return err;
	}
	reg = calloc(1, sizeof(*reg));
	if (reg == NULL) {
		close(fd);
		*drop = g->lease_id;
		return conn_fail(c, -ENOMEM, "cannot allocate a region");
	}
	p = mmap(NULL, (size_t)g->size, (int)g->prot, (int)g->mmap_flags, fd,
	    (off_t)g->mmap_offset);
	err = -errno;
	close(fd);
	if (p == MAP_FAILED) {
		free(reg);
		*drop = g->lease_id;
		return conn_fail(c, err, "cannot mmap lease %llu (%llu bytes)",
		    (unsigned long long)g->lease_id,
		    (unsigned long long)g->size);
	}
	region_add(c, reg, g, p);
	*out = &reg->pub;
	return 0;
}

/* A daemon without "map-batch": the Maps pipelined, then their replies. */
static int
batch_fallback(struct mmapclient *c, const struct mmapclient_request *reqs,
    size_t n, struct mmapclient_region **out, int *errs)
{
	uint64_t ids[MMAPCLIENT_BATCH_MAX];
	struct call tmpl, res, rel;
	size_t i;
	int got = 0;

	for (i = 0; i < n; i++) {
		memset(&tmpl, 0, sizeof(tmpl));
		tmpl.kind = CALL_MAP;
		tmpl.sync = 1;
		tmpl.fd = -1;
		ids[i] = 0;
		errs[i] = map_start(c, &reqs[i], &tmpl, &ids[i]);
		if (errs[i])
			ids[i] = 0;
	}
	for (i = 0; i < n; i++) {
		if (ids[i] == 0)
			continue;
		errs[i] = call_wait(c, ids[i], &res);
		if (errs[i] == 0) {
			out[i] = &res.reg->pub;
			got++;
			continue;
		}
		free(res.reg);
		if (res.drop_id != 0 && !c->broken)
			(void)call_wait(c, res.drop_id, &rel);
	}
	return c->broken ? c->broken : got;
}

/* The GrantBatch answering the batch made of reqs[idx[0..m)]. */
static int
batch_take(struct mmapclient *c, struct call *res, const size_t *idx,
    size_t m, struct mmapclient_region **out, int *errs)
{
	const Mmapd__V1__GrantBatch *gb = res->rep->grants;
	const Mmapd__V1__BatchItem *it;
	uint64_t drops[MMAPCLIENT_BATCH_MAX];
	size_t i, f = 0, nd = 0;
	int got = 0, err, told = 0;

	if (gb->n_items != m)
		return conn_break(c, -EPROTO, "the GrantBatch has %zu items "
		    "for %zu Maps", gb->n_items, m);
	for (i = 0; i < m && !c->broken; i++) {
		it = gb->items[i];
		if (it->error < 0 || it->error > ERRNO_MAX ||
		    (it->error == 0 && it->grant == NULL))
			return conn_break(c, -EPROTO, "item %zu of the "
			    "GrantBatch has error %d and %s grant", i,
			    (int)it->error, it->grant ? "a" : "no");
		if (it->error != 0) {
			errs[idx[i]] = -it->error;
			/* The first refusal is the message to read. */
			if (!told++)
				(void)conn_fail(c, -it->error, "request %zu of "
				    "the batch: %s", idx[i], it->message[0] ?
				    it->message : "the daemon gave no reason");
			continue;
		}
		err = batch_map_one(c, it->grant, res->fds[f], &out[idx[i]],
		    &drops[nd]);
		res->fds[f++] = -1;
		errs[idx[i]] = err;
		if (err == 0)
			got++;
		else if (!c->broken)
			nd++;
	}
	/* Grants not mapped: released now, as mmapclient_map() does. */
	for (i = 0; i < nd && !c->broken; i++)
		(void)lease_release(c, drops[i]);
	return c->broken ? c->broken : got;
}

int
mmapclient_map_batch(struct mmapclient *c,
    const struct mmapclient_request *reqs, size_t n,
    struct mmapclient_region **out, int *errs)
{
	Mmapd__V1__Map maps[MMAPCLIENT_BATCH_MAX], *pmaps[MMAPCLIENT_BATCH_MAX];
	Mmapd__V1__MapBatch mb = MMAPD__V1__MAP_BATCH__INIT;
	Mmapd__V1__Request rq = MMAPD__V1__REQUEST__INIT, one;
	struct call tmpl = {
		.kind = CALL_REPLY, .sync = 1, .fd = -1,
		.expect = MMAPD__V1__REPLY__BODY_GRANTS,
	};
	struct call res;
	size_t idx[MMAPCLIENT_BATCH_MAX], i, m = 0;
	uint64_t id;
	int err;

	if (c == NULL)
		return -EINVAL;
	if (out == NULL || errs == NULL || reqs == NULL)
		return conn_fail(c, -EINVAL, "no requests, or no place for "
		    "the regions and errors");
	if (n == 0 || n > MMAPCLIENT_BATCH_MAX)
		return conn_fail(c, -EINVAL, "a batch of %zu requests: from 1 "
		    "to %d are taken", n, MMAPCLIENT_BATCH_MAX);
	for (i = 0; i < n; i++) {
		out[i] = NULL;
		errs[i] = 0;
	}
	if (!(c->features & FEATURE_MAP_BATCH))
		return batch_fallback(c, reqs, n, out, errs);

	/* A request wrong here is refused here alone; the rest go. */
	for (i = 0; i < n; i++) {
		mmapd__v1__map__init(&maps[m]);
		errs[i] = map_request(c, &reqs[i], &maps[m], &one);
		if (errs[i])
			continue;
		pmaps[m] = &maps[m];
		idx[m++] = i;
	}
	if (m == 0)
		return 0;
	mb.maps = pmaps;
	mb.n_maps = m;
	rq.body_case = MMAPD__V1__REQUEST__BODY_MAP_BATCH;
	rq.map_batch = &mb;
	err = call_start(c, &rq, &tmpl, &id);
	if (err)
		return err;
	err = call_wait(c, id, &res);
	if (err == 0)
		err = batch_take(c, &res, idx, m, out, errs);
	if (res.rep)
		mmapd__v1__reply__free_unpacked(res.rep, NULL);
	while (res.nfds > 0)
		if (res.fds[--res.nfds] >= 0)
			close(res.fds[res.nfds]);
	free(res.fds);
	return err;
}

/*
 * Send one quiet Release (or, quiet 0, a plain one) for leases, waiting
 * for room in the socket as a synchronous call does, but for no answer:
 * the slot is made asynchronous once sent.
 */
static int
quiet_send(struct mmapclient *c, Mmapd__V1__Release *rel, struct call *tmpl)
{
	Mmapd__V1__Request req = MMAPD__V1__REQUEST__INIT;
	struct call *k;
	uint64_t id;
	int err;

	req.body_case = MMAPD__V1__REQUEST__BODY_RELEASE;
	req.release = rel;
	tmpl->lease = rel->lease_id;
	tmpl->sync = 1;
	if (done_reserve(c, c->in_flight + 1))
		return conn_fail(c, -ENOMEM, "cannot allocate the queue of "
		    "callbacks");
	err = call_start(c, &req, tmpl, &id);
	if (err)
		return err;
	k = call_find(c, id);
	k->sync = 0;
	return 0;
}

/*
 * mmapclient_release() of a lease this connection holds: a quiet
 * Release, not waited for.  The library knows the lease is held here,
 * so a sound daemon cannot refuse it; should one, the two disagree on
 * what this connection holds, and the connection is broken (the daemon
 * then ends every lease of it) rather than the refusal go untold.
 */
int
lease_release_quiet(struct mmapclient *c, uint64_t lease)
{
	Mmapd__V1__Release rel = MMAPD__V1__RELEASE__INIT;
	struct call tmpl = {
		.kind = CALL_QUIET, .strict = 1, .fd = -1,
	};
	int err;

	rel.lease_id = lease;
	rel.quiet = 1;
	err = quiet_send(c, &rel, &tmpl);
	if (err && !c->broken)
		err = conn_break(c, err, "cannot send the Release of lease "
		    "%llu", (unsigned long long)lease);
	return err;
}

int
mmapclient_release_quiet(struct mmapclient *c,
    struct mmapclient_region *const *regs, size_t n,
    mmapclient_done_fn *done, void *userdata)
{
	Mmapd__V1__Release rel = MMAPD__V1__RELEASE__INIT;
	struct call tmpl = {
		.kind = CALL_QUIET, .fn = done, .arg = userdata, .fd = -1,
	};
	uint64_t more[MMAPCLIENT_BATCH_MAX];
	size_t i;
	int err = 0;

	if (c == NULL)
		return -EINVAL;
	if (regs == NULL || n == 0 || n > MMAPCLIENT_BATCH_MAX)
		return conn_fail(c, -EINVAL, "a quiet release of %zu regions: "
		    "from 1 to %d are taken", regs ? n : 0,
		    MMAPCLIENT_BATCH_MAX);
	for (i = 0; i < n; i++)
		if (regs[i] == NULL || region_of(regs[i])->owner != c)
			return conn_fail(c, -EINVAL, "region %zu was not "
			    "granted on this connection", i);
	if (c->features & FEATURE_QUIET_RELEASE) {
		rel.lease_id = regs[0]->lease_id;
		rel.quiet = 1;
		for (i = 1; i < n; i++)
			more[i - 1] = regs[i]->lease_id;
		rel.more_lease_ids = more;
		rel.n_more_lease_ids = n - 1;
		err = quiet_send(c, &rel, &tmpl);
	} else {
		/* An older daemon: a plain Release each, Acks unheeded. */
		for (i = 0; i < n && err == 0; i++) {
			rel.lease_id = regs[i]->lease_id;
			err = quiet_send(c, &rel, &tmpl);
		}
	}
	/*
	 * Not sent on a working connection (out of memory): it breaks, so
	 * that the daemon ends the leases; the regions go in any case.
	 */
	if (err && !c->broken)
		(void)conn_break(c, err, "cannot send the Release of lease "
		    "%llu", (unsigned long long)rel.lease_id);
	for (i = 0; i < n; i++)
		region_destroy(region_of(regs[i]));
	return err;
}
