/*
 * The descriptor/action engine: the userspace form of the kernel's
 * mmap_prepare interface as it stands after "remove mmap_action success,
 * error hooks" (May 2026).
 *
 * Every mapping mmapd hands out passes through engine_map().  A driver's
 * only hook is prepare(desc): it reads what the core filled in, may change
 * the sharing, write and cache fields, picks a backing and an action, and
 * returns 0 or a negative errno.  It has no success hook, no error hook and
 * never sees the object being created.  The core then validates the action,
 * carries it out, and on failure tears down everything it created and
 * returns the driver's error_filter instead of the raw error.
 *
 * The engine never sees a socket, a lease, protobuf or the event loop.
 */
#ifndef MMAPD_ENGINE_H
#define MMAPD_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* desc->flags; the request uses the first two. */
#define MAP_DESC_SHARED		(1u << 0)	/* MAP_SHARED, else MAP_PRIVATE */
#define MAP_DESC_WRITE		(1u << 1)	/* PROT_WRITE; PROT_READ is implied */
#define MAP_DESC_MAYSHARE	(1u << 2)	/* the request asked for shared; core only */
#define MAP_DESC_REQUEST_FLAGS	(MAP_DESC_SHARED | MAP_DESC_WRITE)

/*
 * The kernel's page_prot analogue.  DEFAULT lets the driver choose; a
 * mode that is still DEFAULT after prepare means CACHED.
 */
enum map_cache {
	MAP_CACHE_DEFAULT = 0,
	MAP_CACHE_CACHED,
	MAP_CACHE_UNCACHED,	/* realised by opening the device with O_SYNC */
	MAP_CACHE_WC,		/* write-combine: only where a device offers it */
	MAP_CACHE_NR
};

enum map_action_type {
	MAP_ACTION_NOTHING = 0,	/* hand over the backing as it is */
	MAP_ACTION_REMAP,	/* a range of the device */
	MAP_ACTION_SHMEM,	/* a fresh sealed shared-memory object */
	MAP_ACTION_NR
};

/* What the client gets: the fd is to be mapped as the result says. */
enum map_kind {
	MAP_KIND_NONE = 0,
	MAP_KIND_ANON,		/* /dev/zero, mapped private: anonymous memory */
	MAP_KIND_SHMEM,		/* a sealed memfd */
	MAP_KIND_DEVICE		/* an open of the device itself */
};

struct map_desc;

struct map_peer {
	uid_t uid;
	gid_t gid;
	pid_t pid;
};

/*
 * An opened device.  fd[] holds one open of the device per cache mode it
 * can give (-1 where it cannot), all with the access mode asked; when
 * that is O_RDWR, fd_ro[] holds read-only opens too, so that a grant
 * that does not write shared never carries a writable fd.  The fds
 * belong to the device and stay open across requests.
 */
struct map_device {
	const char *name;
	const struct map_driver *driver;
	int fd[MAP_CACHE_NR];
	int fd_ro[MAP_CACHE_NR];
	int access;		/* O_RDONLY, O_WRONLY or O_RDWR */
};

struct map_driver {
	const char *name;
	int (*prepare)(struct map_desc *desc);	/* the only hook */
};

/*
 * A backing is never dereferenced: only its address matters.  A desc
 * starts with &map_backing_file (the kernel's vma_dummy_vm_ops);
 * map_desc_set_anonymous() sets it to NULL.
 */
struct map_backing;
extern const struct map_backing map_backing_file;

struct map_action {
	enum map_action_type type;
	struct {
		uint64_t start;		/* device byte offset */
		uint64_t size;
		enum map_cache cache;	/* snapshot of desc->cache */
	} remap;
	/*
	 * 0, or a negative errno in -4095..-1 returned instead of any error
	 * of the complete step (upstream's error_override).  Anything else
	 * fails action prepare with -EINVAL before anything is created.
	 */
	int error_filter;
};

struct map_desc {
	/* Set by the core; a driver reads them.  Changes are ignored. */
	const struct map_device *dev;
	uint64_t offset;		/* bytes into the device */
	uint64_t size;			/* page-aligned, > 0 */
	const struct map_peer *peer;

	/* Set by the core; a driver may change them. */
	unsigned int flags;		/* MAP_DESC_* */
	enum map_cache cache;

	/* Set by a driver. */
	const struct map_backing *backing;
	struct map_action action;
	const char *reason;		/* why prepare failed: a static string, */
	char reason_buf[160];		/* or this, formatted by the driver */
};

struct map_request {
	const struct map_device *dev;
	uint64_t offset;
	uint64_t size;			/* rounded up to a page, as do_mmap() does */
	unsigned int flags;		/* MAP_DESC_SHARED | MAP_DESC_WRITE */
	enum map_cache cache;
	struct map_peer peer;
};

struct map_result {
	int fd;				/* the caller's: close it, O_CLOEXEC */
	enum map_kind kind;
	uint64_t offset;		/* mmap()'s offset */
	uint64_t size;			/* mmap()'s length */
	int prot;			/* PROT_READ, maybe | PROT_WRITE */
	int mmap_flags;			/* MAP_SHARED or MAP_PRIVATE */
	enum map_cache cache;
	const char *msg;		/* on failure, why, for humans */
	int raw_error;			/* on failure, the error before filtering */
	char msg_buf[160];		/* msg, when the driver formatted it */
};

struct map_engine {
	int zero_fd;		/* handed out (dup'ed) for anonymous backings */
};

int engine_open(struct map_engine *eng, const char *zero_path);
void engine_close(struct map_engine *eng);
int engine_map(const struct map_engine *eng, const struct map_request *req,
    struct map_result *res);
void engine_result_close(struct map_result *res);

/*
 * Open path once per cache mode in the mask (1u << MAP_CACHE_CACHED, ...),
 * and once more read-only for each when access is O_RDWR.  UNCACHED adds
 * O_SYNC; WC cannot be asked for through open(2) and gives -EINVAL.  On
 * failure nothing stays open.
 */
int map_device_open(struct map_device *dev, const struct map_driver *drv,
    const char *name, const char *path, int access, unsigned int cache_mask);
void map_device_close(struct map_device *dev);

/* Helpers for prepare(), as include/linux/mm.h has them for drivers. */
static inline int map_desc_is_shared(const struct map_desc *desc)
{
	return (desc->flags & MAP_DESC_SHARED) != 0;
}

/* Private mappings are copy-on-write, as vma_desc_is_cow_mapping() says. */
static inline int map_desc_is_cow(const struct map_desc *desc)
{
	return !map_desc_is_shared(desc);
}

static inline void map_desc_set_anonymous(struct map_desc *desc)
{
	desc->backing = NULL;
}

void map_action_remap(struct map_desc *desc, uint64_t start, uint64_t size);
void map_action_remap_full(struct map_desc *desc);
void map_action_shmem(struct map_desc *desc);

uint64_t map_page_size(void);
int map_size_round(uint64_t size, uint64_t *out);
const char *map_cache_name(enum map_cache cache);
const char *map_kind_name(enum map_kind kind);

#endif /* MMAPD_ENGINE_H */
