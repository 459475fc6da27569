/*
 * libmmapclient: regions.  Map asks for a grant, has grant.c check it
 * and its fd, and maps the fd exactly as the grant says; Release unmaps
 * and ends the lease.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

#include "internal.h"

#define REQUEST_FLAGS	(MMAPCLIENT_SHARED | MMAPCLIENT_WRITE | \
			 MMAPCLIENT_CREATE | MMAPCLIENT_ATTACH)
#define OPEN_FLAGS	(MMAPCLIENT_CREATE | MMAPCLIENT_ATTACH)

int
lease_release(struct mmapclient *c, uint64_t lease)
{
	Mmapd__V1__Release rel = MMAPD__V1__RELEASE__INIT;
	Mmapd__V1__Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Reply *rep;
	int err;

	rel.lease_id = lease;
	req.body_case = MMAPD__V1__REQUEST__BODY_RELEASE;
	req.release = &rel;
	err = conn_call(c, &req, MMAPD__V1__REPLY__BODY_RELEASE, &rep, NULL);
	if (err)
		return err;
	mmapd__v1__reply__free_unpacked(rep, NULL);
	return 0;
}

int
mmapclient_map(struct mmapclient *c, const struct mmapclient_request *req,
    struct mmapclient_region **out)
{
	Mmapd__V1__Map m = MMAPD__V1__MAP__INIT;
	Mmapd__V1__Request rq = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Reply *rep;
	const Mmapd__V1__Grant *g;
	struct region *reg;
	uint64_t lease;
	void *p;
	int fd, err;

	if (out)
		*out = NULL;
	if (c == NULL)
		return -EINVAL;
	if (out == NULL)
		return conn_fail(c, -EINVAL, "no place to put the region");
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

	/* Allocated first: nothing to unwind with the daemon if it fails. */
	reg = calloc(1, sizeof(*reg));
	if (reg == NULL)
		return conn_fail(c, -ENOMEM, "cannot allocate a region");

	m.device = (char *)req->device;
	m.offset = req->offset;
	m.size = req->size;
	m.shared = (req->flags & MMAPCLIENT_SHARED) != 0;
	m.write = (req->flags & MMAPCLIENT_WRITE) != 0;
	m.cache = (Mmapd__V1__CacheMode)req->cache;
	if (req->region)
		m.region = (char *)req->region;
	if (req->flags & MMAPCLIENT_CREATE)
		m.open = MMAPD__V1__REGION_OPEN__OPEN_CREATE;
	else if (req->flags & MMAPCLIENT_ATTACH)
		m.open = MMAPD__V1__REGION_OPEN__OPEN_ATTACH;
	rq.body_case = MMAPD__V1__REQUEST__BODY_MAP;
	rq.map = &m;

	err = conn_call(c, &rq, MMAPD__V1__REPLY__BODY_GRANT, &rep, &fd);
	if (err) {
		free(reg);
		return err;
	}
	g = rep->grant;
	/* On a mismatch the connection breaks, which ends the lease too. */
	err = grant_check(c, g, fd);
	if (err)
		goto out;

	p = mmap(NULL, (size_t)g->size, (int)g->prot, (int)g->mmap_flags, fd,
	    (off_t)g->mmap_offset);
	if (p == MAP_FAILED) {
		err = -errno;
		lease = g->lease_id;
		/* Best effort: a broken connection ends the lease anyway. */
		lease_release(c, lease);
		conn_fail(c, err, "cannot mmap lease %llu (%llu bytes at "
		    "offset %#llx, prot %#x, flags %#x)",
		    (unsigned long long)lease, (unsigned long long)g->size,
		    (unsigned long long)g->mmap_offset, (unsigned int)g->prot,
		    (unsigned int)g->mmap_flags);
		goto out;
	}

	reg->pub.addr = p;
	reg->pub.size = (size_t)g->size;
	reg->pub.lease_id = g->lease_id;
	reg->pub.kind = (enum mmapclient_kind)g->fd_kind;
	reg->pub.prot = (int)g->prot;
	reg->pub.mmap_flags = (int)g->mmap_flags;
	reg->pub.cache = (enum mmapclient_cache)g->cache;
	conn_add_region(c, reg);
	*out = &reg->pub;
	reg = NULL;
	err = 0;
out:
	close(fd);
	free(reg);
	mmapd__v1__reply__free_unpacked(rep, NULL);
	return err;
}

/* Unmap reg, take it off its connection's list and free it. */
static void
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
	return lease_release(c, lease);
}

void
mmapclient_region_free(struct mmapclient_region *r)
{
	if (r)
		region_destroy(region_of(r));
}
