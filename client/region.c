/*
 * libmmapclient: regions.  Map asks for a grant, has grant.c check it
 * and its fd, and maps the fd exactly as the grant says; Release unmaps
 * and ends the lease.
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

#define REQUEST_FLAGS	(MMAPCLIENT_SHARED | MMAPCLIENT_WRITE | \
			 MMAPCLIENT_CREATE | MMAPCLIENT_ATTACH)
#define OPEN_FLAGS	(MMAPCLIENT_CREATE | MMAPCLIENT_ATTACH)

int
lease_drop(struct mmapclient *c, uint64_t lease, int sync, uint64_t *id)
{
	Mmapd__V1__Release rel = MMAPD__V1__RELEASE__INIT;
	Mmapd__V1__Request req = MMAPD__V1__REQUEST__INIT;
	struct call tmpl = { .kind = CALL_ACK, .lease = lease, .fd = -1 };
	struct call *k;
	int err;

	rel.lease_id = lease;
	req.body_case = MMAPD__V1__REQUEST__BODY_RELEASE;
	req.release = &rel;
	/* Never waits: it may be sent while a reply is taken in. */
	err = call_start(c, &req, &tmpl, id);
	if (err == 0 && sync) {
		k = call_find(c, *id);
		k->sync = 1;
	}
	return err;
}

int
lease_release(struct mmapclient *c, uint64_t lease)
{
	Mmapd__V1__Release rel = MMAPD__V1__RELEASE__INIT;
	Mmapd__V1__Request req = MMAPD__V1__REQUEST__INIT;
	struct call tmpl = {
		.kind = CALL_ACK, .sync = 1, .lease = lease, .fd = -1,
	};
	struct call res;
	uint64_t id;
	int err;

	rel.lease_id = lease;
	req.body_case = MMAPD__V1__REQUEST__BODY_RELEASE;
	req.release = &rel;
	err = call_start(c, &req, &tmpl, &id);
	if (err)
		return err;
	return call_wait(c, id, &res);
}

struct region *
region_find(struct mmapclient *c, uint64_t lease)
{
	struct region *reg;

	for (reg = c->regions; reg != NULL; reg = reg->next)
		if (reg->pub.lease_id == lease)
			return reg;
	return NULL;
}

void
region_add(struct mmapclient *c, struct region *reg,
    const Mmapd__V1__Grant *g, void *addr)
{
	reg->pub.addr = addr;
	reg->pub.size = (size_t)g->size;
	reg->pub.lease_id = g->lease_id;
	reg->pub.kind = (enum mmapclient_kind)g->fd_kind;
	reg->pub.prot = (int)g->prot;
	reg->pub.mmap_flags = (int)g->mmap_flags;
	reg->pub.cache = (enum mmapclient_cache)g->cache;
	conn_add_region(c, reg);
}

int
map_grant(struct mmapclient *c, struct call *k, const Mmapd__V1__Grant *g,
    int fd)
{
	struct region *reg = k->reg;
	uint64_t id = k->id, drop;
	int sync = k->sync, err;
	void *p;

	/* On a mismatch the connection breaks, which ends the lease too. */
	err = grant_check(c, g, fd);
	if (err) {
		close(fd);
		return err;
	}
	p = mmap(NULL, (size_t)g->size, (int)g->prot, (int)g->mmap_flags, fd,
	    (off_t)g->mmap_offset);
	err = -errno;
	close(fd);
	if (p == MAP_FAILED) {
		if (lease_drop(c, g->lease_id, sync, &drop) != 0) {
			/* Ending the connection ends the lease. */
			if (!c->broken)
				conn_break(c, err, "cannot mmap lease %llu, "
				    "nor release it",
				    (unsigned long long)g->lease_id);
			return c->broken;
		}
		k = call_find(c, id);
		k->drop_id = drop;
		return conn_fail(c, err, "cannot mmap lease %llu (%llu bytes "
		    "at offset %#llx, prot %#x, flags %#x)",
		    (unsigned long long)g->lease_id,
		    (unsigned long long)g->size,
		    (unsigned long long)g->mmap_offset, (unsigned int)g->prot,
		    (unsigned int)g->mmap_flags);
	}

	region_add(c, reg, g, p);
	k->lease = g->lease_id;
	return 0;
}

/*
 * Check req and make the Map request of it in m and rq.  0, or -EINVAL
 * with c's message.
 */
int
map_request(struct mmapclient *c, const struct mmapclient_request *req,
    Mmapd__V1__Map *m, Mmapd__V1__Request *rq)
{
	if (req == NULL || req->device == NULL)
		return conn_fail(c, -EINVAL, "no device given");
	if (req->flags & ~REQUEST_FLAGS)
		return conn_fail(c, -EINVAL, "unknown request flags %#x",
		    req->flags & ~REQUEST_FLAGS);
	if (req->cache != MMAPCLIENT_CACHE_DEFAULT &&
	    req->cache != MMAPCLIENT_CACHE_CACHED &&
	    req->cache != MMAPCLIENT_CACHE_UNCACHED &&
	    req->cache != MMAPCLIENT_CACHE_WC)
		return conn_fail(c, -EINVAL, "unknown cache mode %d",
		    (int)req->cache);
	if ((req->flags & OPEN_FLAGS) == OPEN_FLAGS)
		return conn_fail(c, -EINVAL, "create and attach both asked");
	if ((req->flags & OPEN_FLAGS) &&
	    (req->region == NULL || req->region[0] == '\0'))
		return conn_fail(c, -EINVAL, "create or attach asked without a "
		    "region name");

	m->device = (char *)req->device;
	m->offset = req->offset;
	m->size = req->size;
	m->shared = (req->flags & MMAPCLIENT_SHARED) != 0;
	m->write = (req->flags & MMAPCLIENT_WRITE) != 0;
	m->cache = (Mmapd__V1__CacheMode)req->cache;
	if (req->region)
		m->region = (char *)req->region;
	if (req->flags & MMAPCLIENT_CREATE)
		m->open = MMAPD__V1__REGION_OPEN__OPEN_CREATE;
	else if (req->flags & MMAPCLIENT_ATTACH)
		m->open = MMAPD__V1__REGION_OPEN__OPEN_ATTACH;
	rq->body_case = MMAPD__V1__REQUEST__BODY_MAP;
	rq->map = m;
	return 0;
}

/* Send Map for req, its handle allocated first. */
int
map_start(struct mmapclient *c, const struct mmapclient_request *req,
    struct call *tmpl, uint64_t *id)
{
	Mmapd__V1__Map m = MMAPD__V1__MAP__INIT;
	Mmapd__V1__Request rq = MMAPD__V1__REQUEST__INIT;
	int err;

	err = map_request(c, req, &m, &rq);
	if (err)
		return err;
	/* Allocated first: nothing to unwind with the daemon if it fails. */
	tmpl->reg = calloc(1, sizeof(*tmpl->reg));
	if (tmpl->reg == NULL)
		return conn_fail(c, -ENOMEM, "cannot allocate a region");
	err = call_start(c, &rq, tmpl, id);
	if (err) {
		free(tmpl->reg);
		tmpl->reg = NULL;
	}
	return err;
}

int
mmapclient_map(struct mmapclient *c, const struct mmapclient_request *req,
    struct mmapclient_region **out)
{
	struct call tmpl = { .kind = CALL_MAP, .sync = 1, .fd = -1 };
	struct call res, rel;
	char msg[MSG_MAX];
	uint64_t id;
	int err;

	if (out)
		*out = NULL;
	if (c == NULL)
		return -EINVAL;
	if (out == NULL)
		return conn_fail(c, -EINVAL, "no place to put the region");
	err = map_start(c, req, &tmpl, &id);
	if (err)
		return err;
	err = call_wait(c, id, &res);
	if (err == 0) {
		*out = &res.reg->pub;
		return 0;
	}
	free(res.reg);
	/* A grant not mapped: released before returning, as it was. */
	if (res.drop_id != 0 && !c->broken) {
		memcpy(msg, c->msg, sizeof(msg));
		(void)call_wait(c, res.drop_id, &rel);
		if (!c->broken)
			memcpy(c->msg, msg, sizeof(msg));
	}
	return err;
}

int
mmapclient_map_async(struct mmapclient *c,
    const struct mmapclient_request *req, mmapclient_done_fn *done,
    void *userdata)
{
	struct call tmpl = {
		.kind = CALL_MAP, .fn = done, .arg = userdata, .fd = -1,
	};
	uint64_t id;

	if (c == NULL)
		return -EINVAL;
	if (done == NULL)
		return conn_fail(c, -EINVAL, "no callback to hand the region "
		    "to");
	return map_start(c, req, &tmpl, &id);
}

void
region_destroy(struct region *reg)
{
	munmap(reg->pub.addr, reg->pub.size);
	conn_del_region(reg);
	free(reg);
}

int
mmapclient_release(struct mmapclient *c, struct mmapclient_region *r)
{
	struct mmapclient *owner;
	struct region *reg;
	uint64_t lease;

	if (r == NULL)
		return c ? conn_fail(c, -EINVAL, "no region given") : -EINVAL;
	reg = region_of(r);
	owner = reg->owner;
	lease = r->lease_id;
	region_destroy(reg);
	if (c == NULL)
		return -EINVAL;
	if (owner != c)
		return conn_fail(c, -EINVAL, "lease %llu %s",
		    (unsigned long long)lease, owner ?
		    "was granted on another connection" :
		    "belonged to a connection closed since");
	if (c->features & FEATURE_QUIET_RELEASE)
		return lease_release_quiet(c, lease);
	return lease_release(c, lease);
}

int
mmapclient_release_async(struct mmapclient *c, struct mmapclient_region *r,
    mmapclient_done_fn *done, void *userdata)
{
	Mmapd__V1__Release rel = MMAPD__V1__RELEASE__INIT;
	Mmapd__V1__Request req = MMAPD__V1__REQUEST__INIT;
	struct call tmpl = {
		.kind = CALL_ACK, .fn = done, .arg = userdata, .fd = -1,
	};
	struct region *reg;
	uint64_t id;
	int err;

	if (r == NULL || c == NULL || region_of(r)->owner != c)
		return mmapclient_release(c, r);
	reg = region_of(r);
	tmpl.lease = r->lease_id;
	rel.lease_id = r->lease_id;
	req.body_case = MMAPD__V1__REQUEST__BODY_RELEASE;
	req.release = &rel;
	err = call_start(c, &req, &tmpl, &id);
	/* Nothing sent, the connection in step: r stays, for a retry. */
	if (err && !c->broken)
		return err;
	region_destroy(reg);
	return err;
}

void
mmapclient_region_free(struct mmapclient_region *r)
{
	if (r)
		region_destroy(region_of(r));
}
