/*
 * The descriptor/action core.  The phases and their errors follow the
 * kernel's __mmap_region() after the May 2026 series:
 *
 *	request checks (do_mmap)	never filtered
 *	driver prepare			never filtered
 *	action prepare			never filtered, nothing created yet
 *	action complete			filtered: error_filter ?: err
 *
 * Only the complete step creates anything, and it undoes all of it before
 * returning an error, so every earlier failure has nothing to unwind.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL	0x0008U	/* Linux 6.3; older headers lack it */
#endif

#define MAX_ERRNO	4095

/* Never read: a desc's backing is compared against its address only. */
struct map_backing {
	char unused;
};
const struct map_backing map_backing_file;

/* The core's own state of one request, out of the driver's reach. */
struct map_state {
	const struct map_device *dev;
	uint64_t offset;
	uint64_t size;
	unsigned int flags;
	enum map_cache cache;
	const struct map_backing *backing;
	struct map_action action;
};

uint64_t
map_page_size(void)
{
	static uint64_t page;
	long sz;

	if (page == 0) {
		sz = sysconf(_SC_PAGESIZE);
		page = sz > 0 ? (uint64_t)sz : 4096;
	}
	return page;
}

const char *
map_cache_name(enum map_cache cache)
{
	switch (cache) {
	case MAP_CACHE_DEFAULT:
		return "default";
	case MAP_CACHE_CACHED:
		return "cached";
	case MAP_CACHE_UNCACHED:
		return "uncached";
	case MAP_CACHE_WC:
		return "write-combine";
	default:
		return "invalid";
	}
}

const char *
map_kind_name(enum map_kind kind)
{
	switch (kind) {
	case MAP_KIND_ANON:
		return "anonymous";
	case MAP_KIND_SHMEM:
		return "shared-memory";
	case MAP_KIND_DEVICE:
		return "device";
	default:
		return "none";
	}
}

/* size rounded up to a page, as do_mmap() rounds len; -ENOMEM on overflow. */
int
map_size_round(uint64_t size, uint64_t *out)
{
	uint64_t page = map_page_size();

	if (size > UINT64_MAX - (page - 1))
		return -ENOMEM;
	*out = (size + page - 1) & ~(page - 1);
	return 0;
}

static int
page_aligned(uint64_t v)
{
	return (v & (map_page_size() - 1)) == 0;
}

void
map_action_remap(struct map_desc *desc, uint64_t start, uint64_t size)
{
	desc->action.type = MAP_ACTION_REMAP;
	desc->action.remap.start = start;
	desc->action.remap.size = size;
	/* Like the kernel's pgprot snapshot: later cache changes don't count. */
	desc->action.remap.cache = desc->cache;
}

void
map_action_remap_full(struct map_desc *desc)
{
	map_action_remap(desc, desc->offset, desc->size);
}

void
map_action_shmem(struct map_desc *desc)
{
	desc->action.type = MAP_ACTION_SHMEM;
}

int
map_device_open(struct map_device *dev, const struct map_driver *drv,
    const char *name, const char *path, int access, unsigned int cache_mask)
{
	int i, flags, err;

	memset(dev, 0, sizeof(*dev));
	dev->name = name;
	dev->driver = drv;
	dev->access = access;
	for (i = 0; i < MAP_CACHE_NR; i++)
		dev->fd[i] = dev->fd_ro[i] = -1;

	if (access != O_RDONLY && access != O_WRONLY && access != O_RDWR)
		return -EINVAL;
	if (cache_mask & ~((1u << MAP_CACHE_CACHED) | (1u << MAP_CACHE_UNCACHED)))
		return -EINVAL;

	for (i = MAP_CACHE_CACHED; i < MAP_CACHE_NR; i++) {
		if (!(cache_mask & (1u << i)))
			continue;
		flags = O_CLOEXEC | O_NOCTTY;
		if (i == MAP_CACHE_UNCACHED)
			flags |= O_SYNC;
		dev->fd[i] = open(path, flags | access);
		if (dev->fd[i] < 0) {
			err = -errno;
			goto fail;
		}
		if (access != O_RDWR)
			continue;
		dev->fd_ro[i] = open(path, flags | O_RDONLY);
		if (dev->fd_ro[i] < 0) {
			err = -errno;
			goto fail;
		}
	}
	return 0;

fail:
	map_device_close(dev);
	return err;
}

void
map_device_close(struct map_device *dev)
{
	int i;

	for (i = 0; i < MAP_CACHE_NR; i++) {
		if (dev->fd[i] >= 0)
			close(dev->fd[i]);
		if (dev->fd_ro[i] >= 0)
			close(dev->fd_ro[i]);
		dev->fd[i] = dev->fd_ro[i] = -1;
	}
}

int
engine_open(struct map_engine *eng, const char *zero_path)
{
	eng->zero_fd = open(zero_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (eng->zero_fd < 0)
		return -errno;
	return 0;
}

void
engine_close(struct map_engine *eng)
{
	if (eng->zero_fd >= 0)
		close(eng->zero_fd);
	eng->zero_fd = -1;
}

void
engine_result_close(struct map_result *res)
{
	if (res->fd >= 0)
		close(res->fd);
	res->fd = -1;
}

/*
 * The checks do_mmap() makes before any driver runs, and the initial
 * flags it derives.  A shared mapping of a device that is not open for
 * writing loses SHARED but keeps MAYSHARE: the kernel turns a read-only
 * MAP_SHARED of /dev/zero into private memory this way.
 */
static int
request_check(const struct map_request *req, struct map_state *st,
    const char **msg)
{
	const struct map_device *dev = req->dev;
	uint64_t size;

	if (dev == NULL || dev->driver == NULL || dev->driver->prepare == NULL) {
		*msg = "no such device";
		return -ENODEV;
	}
	if (req->flags & ~MAP_DESC_REQUEST_FLAGS) {
		*msg = "unknown mapping flags";
		return -EINVAL;
	}
	if ((unsigned int)req->cache >= MAP_CACHE_NR) {
		*msg = "unknown cache mode";
		return -EINVAL;
	}
	if (req->size == 0) {
		*msg = "size is zero";
		return -EINVAL;
	}
	if (map_size_round(req->size, &size) < 0) {
		*msg = "size does not fit once rounded up to a page";
		return -ENOMEM;
	}
	if (!page_aligned(req->offset)) {
		*msg = "offset is not page-aligned";
		return -EINVAL;
	}
	/* Reaching exactly 2^64 wraps to 0 and counts, as pgoff + pages does. */
	if (req->offset + size <= req->offset) {
		*msg = "offset + size overflows";
		return -EOVERFLOW;
	}
	if (dev->access == O_WRONLY) {
		*msg = "device is not open for reading";
		return -EACCES;
	}
	st->flags = req->flags;
	if (st->flags & MAP_DESC_SHARED) {
		st->flags |= MAP_DESC_MAYSHARE;
		if (dev->access != O_RDWR) {
			if (st->flags & MAP_DESC_WRITE) {
				*msg = "shared write mapping of a read-only device";
				return -EACCES;
			}
			st->flags &= ~MAP_DESC_SHARED;
		}
	}
	st->dev = dev;
	st->offset = req->offset;
	st->size = size;
	st->cache = req->cache;
	st->backing = &map_backing_file;
	memset(&st->action, 0, sizeof(st->action));
	st->action.type = MAP_ACTION_NOTHING;
	return 0;
}

/*
 * Run the driver's hook on a desc built from the state, then take back
 * only the fields a driver may set, as call_mmap_prepare() does.
 */
static int
driver_prepare(struct map_state *st, const struct map_peer *peer,
    char *buf, size_t buflen, const char **msg)
{
	struct map_desc desc = {
		.dev = st->dev,
		.offset = st->offset,
		.size = st->size,
		.peer = peer,
		.flags = st->flags,
		.cache = st->cache,
		.backing = st->backing,
		.action = st->action,
	};
	int err;

	err = st->dev->driver->prepare(&desc);
	if (err) {
		if (err > 0 || err < -MAX_ERRNO) {
			*msg = "driver returned an invalid error";
			return -EINVAL;
		}
		*msg = desc.reason ? desc.reason : "the device refused the request";
		/* A formatted reason lives in desc, which is about to go. */
		if (desc.reason == desc.reason_buf) {
			snprintf(buf, buflen, "%s", desc.reason_buf);
			*msg = buf;
		}
		return err;
	}
	st->flags = (desc.flags & MAP_DESC_REQUEST_FLAGS) |
	    (st->flags & MAP_DESC_MAYSHARE);
	st->cache = desc.cache;
	st->backing = desc.backing;
	st->action = desc.action;
	return 0;
}

static int
device_has_cache(const struct map_device *dev, enum map_cache cache)
{
	if (cache == MAP_CACHE_DEFAULT)
		cache = MAP_CACHE_CACHED;
	return (unsigned int)cache < MAP_CACHE_NR && dev->fd[cache] >= 0;
}

/*
 * Validate what the driver asked for before anything exists, as
 * mmap_action_prepare() and check_mmap_action() do.
 */
static int
action_prepare(const struct map_state *st, const char **msg)
{
	const struct map_action *act = &st->action;
	uint64_t start = act->remap.start, size = act->remap.size;

	if (act->error_filter > 0 || act->error_filter < -MAX_ERRNO) {
		*msg = "driver chose an invalid error filter";
		return -EINVAL;
	}
	if ((unsigned int)st->cache >= MAP_CACHE_NR) {
		*msg = "driver chose an unknown cache mode";
		return -EINVAL;
	}
	if (st->backing != &map_backing_file && st->backing != NULL) {
		*msg = "driver chose an unknown backing";
		return -EINVAL;
	}
	if (st->backing == NULL && act->type != MAP_ACTION_NOTHING) {
		*msg = "an anonymous backing takes no action";
		return -EINVAL;
	}
	/* Anonymous and shared memory are RAM: cached, and nothing else. */
	if ((st->backing == NULL || act->type == MAP_ACTION_SHMEM) &&
	    st->cache != MAP_CACHE_DEFAULT && st->cache != MAP_CACHE_CACHED) {
		*msg = "memory that is not a device is always cached";
		return -EINVAL;
	}

	switch (act->type) {
	case MAP_ACTION_NOTHING:
		if (st->backing && !device_has_cache(st->dev, st->cache)) {
			*msg = "device cannot give this cache mode";
			return -EINVAL;
		}
		return 0;
	case MAP_ACTION_SHMEM:
		return 0;
	case MAP_ACTION_REMAP:
		if (size == 0 || !page_aligned(start) || !page_aligned(size)) {
			*msg = "remap range is empty or not page-aligned";
			return -EINVAL;
		}
		if (start < st->offset || size > st->size ||
		    start - st->offset > st->size - size) {
			*msg = "remap range lies outside the mapping";
			return -EFAULT;
		}
		/* A copy-on-write mapping must be remapped whole. */
		if (!(st->flags & MAP_DESC_SHARED) &&
		    (start != st->offset || size != st->size)) {
			*msg = "private mapping remapped in part";
			return -EINVAL;
		}
		if (!device_has_cache(st->dev, act->remap.cache)) {
			*msg = "device cannot give this cache mode";
			return -EINVAL;
		}
		return 0;
	default:
		*msg = "driver chose an unknown action";
		return -EINVAL;
	}
}

/*
 * A fresh object sized to the mapping, fixed in size for good, and
 * never executable: a client barred from exec(2) of what it wrote must
 * not get it through mmapd.  MFD_NOEXEC_SEAL (Linux 6.3) clears the x
 * bits and seals them; before it, the mode becomes 0600.  A writable
 * grant keeps the rw bits the kernel leaves (0666): the inode is reached
 * only through the fd handed out, open for writing already, or through
 * /proc/PID/fd of its holder, which takes the right to ptrace the holder.
 * A read-only one is made owner-only (mmapd's user), so that its holder
 * cannot open it again for writing through /proc/self/fd (session-map.c
 * hands out such an open); so is memory attached by name (shm.c).
 */
static int
shmem_create(uint64_t size, int writable, int *fdp)
{
	int fd, err;

	if (size > (uint64_t)INT64_MAX)
		return -EFBIG;
	fd = memfd_create("dev/zero", MFD_CLOEXEC | MFD_ALLOW_SEALING |
	    MFD_NOEXEC_SEAL);
	if (fd < 0 && errno == EINVAL) {
		writable = 0;	/* no x bits to seal: 0600 clears them */
		fd = memfd_create("dev/zero", MFD_CLOEXEC |
		    MFD_ALLOW_SEALING);
	}
	if (fd < 0)
		return -errno;
	if (!writable && fchmod(fd, 0600) < 0) {
		err = -errno;
		goto fail;
	}
	if (ftruncate(fd, (off_t)size) < 0 ||
	    fcntl(fd, F_ADD_SEALS,
	    F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0) {
		err = -errno;
		goto fail;
	}
	*fdp = fd;
	return 0;

fail:
	close(fd);
	return err;
}

/*
 * Hand out an fd of the device only for a range the kernel accepts: map
 * it as the client will, then unmap it untouched.  The kernel stays the
 * authority over what /dev/mem may map.
 */
static int
device_probe(int fd, const struct map_result *res)
{
	void *p;

	if (res->offset > (uint64_t)INT64_MAX || res->size > SIZE_MAX)
		return -EOVERFLOW;
	p = mmap(NULL, (size_t)res->size, res->prot, res->mmap_flags, fd,
	    (off_t)res->offset);
	if (p == MAP_FAILED)
		return -errno;
	if (munmap(p, (size_t)res->size) < 0)
		return -errno;
	return 0;
}

static int
action_complete(const struct map_engine *eng, const struct map_state *st,
    struct map_result *res, const char **msg)
{
	enum map_cache cache = st->cache;
	int fd = -1, src, err;

	res->prot = PROT_READ | (st->flags & MAP_DESC_WRITE ? PROT_WRITE : 0);
	res->mmap_flags = st->flags & MAP_DESC_SHARED ? MAP_SHARED : MAP_PRIVATE;
	res->offset = st->offset;
	res->size = st->size;

	if (st->backing == NULL) {
		res->kind = MAP_KIND_ANON;
		res->offset = 0;
		res->mmap_flags = MAP_PRIVATE;
		fd = fcntl(eng->zero_fd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0) {
			*msg = "cannot duplicate the /dev/zero descriptor";
			return -errno;
		}
		goto done;
	}

	switch (st->action.type) {
	case MAP_ACTION_SHMEM:
		res->kind = MAP_KIND_SHMEM;
		res->offset = 0;
		res->mmap_flags = MAP_SHARED;
		err = shmem_create(st->size, res->prot & PROT_WRITE, &fd);
		if (err) {
			*msg = "cannot create the shared-memory object";
			return err;
		}
		goto done;
	case MAP_ACTION_REMAP:
		res->offset = st->action.remap.start;
		res->size = st->action.remap.size;
		cache = st->action.remap.cache;
		break;
	default:
		break;
	}

	if (cache == MAP_CACHE_DEFAULT)
		cache = MAP_CACHE_CACHED;
	res->kind = MAP_KIND_DEVICE;
	/* Only a shared writable mapping needs the device open for writing. */
	src = st->dev->fd[cache];
	if (st->dev->fd_ro[cache] >= 0 &&
	    !(res->mmap_flags == MAP_SHARED && (res->prot & PROT_WRITE)))
		src = st->dev->fd_ro[cache];
	fd = fcntl(src, F_DUPFD_CLOEXEC, 0);
	if (fd < 0) {
		*msg = "cannot duplicate the device descriptor";
		return -errno;
	}
	err = device_probe(fd, res);
	if (err) {
		*msg = "the kernel refused to map the device range";
		close(fd);
		return err;
	}

done:
	res->cache = cache == MAP_CACHE_DEFAULT ? MAP_CACHE_CACHED : cache;
	res->fd = fd;
	return 0;
}

int
engine_map(const struct map_engine *eng, const struct map_request *req,
    struct map_result *res)
{
	struct map_state st;
	const char *msg = NULL;
	char detail[sizeof(res->msg_buf)];
	int err, raw = 0;

	memset(res, 0, sizeof(*res));
	res->fd = -1;

	err = request_check(req, &st, &msg);
	if (err)
		goto fail;
	err = driver_prepare(&st, &req->peer, detail, sizeof(detail), &msg);
	if (err)
		goto fail;
	err = action_prepare(&st, &msg);
	if (err)
		goto fail;

	err = action_complete(eng, &st, res, &msg);
	if (err) {
		raw = err;
		/* Only here is the driver's filter applied. */
		if (st.action.error_filter)
			err = st.action.error_filter;
		goto fail;
	}
	return 0;

fail:
	memset(res, 0, sizeof(*res));
	res->fd = -1;
	res->msg = msg;
	if (msg == detail) {
		memcpy(res->msg_buf, detail, sizeof(res->msg_buf));
		res->msg = res->msg_buf;
	}
	res->raw_error = raw ? raw : err;
	return err;
}
