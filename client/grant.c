/*
 * libmmapclient: whether a Grant may be mapped as it stands.
 *
 * The library maps the fd it is handed and its caller then touches the
 * memory, so whatever answers on the socket decides what a touch does.
 * A memfd smaller than the grant, or one its sender can still shrink,
 * turns a touch past its end into SIGBUS; an fd of another kind is not
 * the memory the Grant names.  So before mmap(2) the fd is held against
 * the Grant: its kind (fstat, F_GET_SEALS, fstatfs), its access mode,
 * its seals and its size.  What the real daemon sends always passes
 * (daemon/engine.c, daemon/session.c); anything else is the daemon
 * breaking the protocol, and breaks the connection with -EPROTO.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/types.h>

#include "internal.h"

#ifndef SYSFS_MAGIC
#define SYSFS_MAGIC		0x62656572	/* <linux/magic.h> */
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE	0x0010		/* Linux 5.1 */
#endif

#define SEALS_SIZE	(F_SEAL_GROW | F_SEAL_SHRINK)
#define SEALS_WRITE	(F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)

/* What an fd is, found once and named for the messages. */
struct fd_info {
	struct stat st;
	int flags;		/* F_GETFL */
	int seals;		/* F_GET_SEALS, or -1: not shared memory */
	int sysfs;		/* a file of sysfs */
	char what[64];		/* "4096-byte memfd", "pipe", ... */
};

/* The largest value an off_t holds. */
static uint64_t
off_max(void)
{
	return sizeof(off_t) >= sizeof(int64_t) ? (uint64_t)INT64_MAX :
	    (uint64_t)INT32_MAX;
}

/*
 * The Grant's own values within the protocol, or the reason they are
 * not: such a Grant never reaches mmap(2) (no MAP_FIXED, no PROT_EXEC).
 */
static const char *
fields_check(const Mmapd__V1__Grant *g)
{
	if (g->lease_id == 0)
		return "lease id 0";
	if (g->size == 0 || g->size > SIZE_MAX)
		return "a size of 0 or beyond the address space";
	if (g->mmap_offset > off_max())
		return "an offset beyond off_t";
	if (g->prot != PROT_READ && g->prot != (PROT_READ | PROT_WRITE))
		return "a protection other than PROT_READ, "
		    "PROT_READ|PROT_WRITE";
	if (g->mmap_flags != MAP_SHARED && g->mmap_flags != MAP_PRIVATE)
		return "mmap flags other than MAP_SHARED, MAP_PRIVATE";
	if (g->fd_kind != MMAPD__V1__FD_KIND__FD_KIND_ANON &&
	    g->fd_kind != MMAPD__V1__FD_KIND__FD_KIND_SHMEM &&
	    g->fd_kind != MMAPD__V1__FD_KIND__FD_KIND_DEVICE)
		return "an unknown fd kind";
	if (g->cache != MMAPD__V1__CACHE_MODE__CACHE_CACHED &&
	    g->cache != MMAPD__V1__CACHE_MODE__CACHE_UNCACHED &&
	    g->cache != MMAPD__V1__CACHE_MODE__CACHE_WC)
		return "an unknown cache mode, or CACHE_DEFAULT";
	return NULL;
}

static int
fd_probe(int fd, struct fd_info *fi)
{
	const struct stat *st = &fi->st;
	struct statfs sfs;

	if (fstat(fd, &fi->st) < 0)
		return -errno;
	fi->flags = fcntl(fd, F_GETFL);
	if (fi->flags < 0)
		return -errno;
	/* EINVAL for all but shared memory; EBADF for O_PATH. */
	fi->seals = fcntl(fd, F_GET_SEALS);
	fi->sysfs = 0;
	if (S_ISREG(st->st_mode) && fi->seals < 0) {
		if (fstatfs(fd, &sfs) < 0)
			return -errno;
		fi->sysfs = sfs.f_type == SYSFS_MAGIC;
	}

	if (S_ISREG(st->st_mode))
		snprintf(fi->what, sizeof(fi->what), "%lld-byte %s",
		    (long long)st->st_size, fi->seals >= 0 ? "memfd" :
		    fi->sysfs ? "sysfs file" : "regular file");
	else if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
		snprintf(fi->what, sizeof(fi->what), "%s device %u:%u",
		    S_ISCHR(st->st_mode) ? "character" : "block",
		    major(st->st_rdev), minor(st->st_rdev));
	else
		snprintf(fi->what, sizeof(fi->what), "%s",
		    S_ISFIFO(st->st_mode) ? "pipe" :
		    S_ISSOCK(st->st_mode) ? "socket" :
		    S_ISDIR(st->st_mode) ? "directory" :
		    S_ISLNK(st->st_mode) ? "symbolic link" :
		    "file of no known type");
	return 0;
}

static int
shared_writable(const Mmapd__V1__Grant *g)
{
	return g->mmap_flags == MAP_SHARED && (g->prot & PROT_WRITE);
}

static int
access_mode_check(struct mmapclient *c, const Mmapd__V1__Grant *g,
    const struct fd_info *fi)
{
	unsigned long long lease = (unsigned long long)g->lease_id;
	int acc = fi->flags & O_ACCMODE;

	if (acc == O_WRONLY)
		return conn_break(c, -EPROTO, "the daemon granted a %s open "
		    "write-only, which maps nothing (lease %llu)", fi->what,
		    lease);
	if (shared_writable(g) && acc != O_RDWR)
		return conn_break(c, -EPROTO, "the daemon granted a %s open "
		    "read-only for a writable shared map (lease %llu)",
		    fi->what, lease);
	return 0;
}

/* The fd reaches [mmap_offset, mmap_offset + size): no SIGBUS within. */
static int
reach_check(struct mmapclient *c, const Mmapd__V1__Grant *g,
    const struct fd_info *fi)
{
	uint64_t have = fi->st.st_size > 0 ? (uint64_t)fi->st.st_size : 0;

	if (g->size <= have && g->mmap_offset <= have - g->size)
		return 0;
	return conn_break(c, -EPROTO, "the daemon granted a %s for a "
	    "%llu-byte %s map at offset %#llx (lease %llu)", fi->what,
	    (unsigned long long)g->size,
	    g->mmap_flags == MAP_SHARED ? "shared" : "private",
	    (unsigned long long)g->mmap_offset,
	    (unsigned long long)g->lease_id);
}

/*
 * Shared memory: a memfd sealed against growing and shrinking (its size
 * is then fixed for as long as it lives, whoever else holds it), not
 * sealed against writing when the map writes.  A read-only grant of a
 * named region is a read-only open of the same memfd, with its seals.
 */
static int
shmem_check(struct mmapclient *c, const Mmapd__V1__Grant *g,
    const struct fd_info *fi)
{
	unsigned long long lease = (unsigned long long)g->lease_id;
	int err;

	if (!S_ISREG(fi->st.st_mode) || fi->seals < 0)
		return conn_break(c, -EPROTO, "the daemon granted a %s, not a "
		    "memfd, for a shared-memory map (lease %llu)", fi->what,
		    lease);
	if ((fi->seals & SEALS_SIZE) != SEALS_SIZE)
		return conn_break(c, -EPROTO, "the daemon granted a %s whose "
		    "size is not sealed (seals %#x, not both F_SEAL_GROW and "
		    "F_SEAL_SHRINK) for a shared-memory map (lease %llu)",
		    fi->what, (unsigned int)fi->seals, lease);
	err = access_mode_check(c, g, fi);
	if (err)
		return err;
	if (shared_writable(g) && (fi->seals & SEALS_WRITE))
		return conn_break(c, -EPROTO, "the daemon granted a %s sealed "
		    "against writing (seals %#x) for a writable shared map "
		    "(lease %llu)", fi->what, (unsigned int)fi->seals, lease);
	return reach_check(c, g, fi);
}

/* Anonymous memory: an open of /dev/zero, which any length fits. */
static int
anon_check(struct mmapclient *c, const Mmapd__V1__Grant *g,
    const struct fd_info *fi)
{
	if (S_ISCHR(fi->st.st_mode) && major(fi->st.st_rdev) == 1 &&
	    minor(fi->st.st_rdev) == 5)
		return access_mode_check(c, g, fi);
	return conn_break(c, -EPROTO, "the daemon granted a %s where "
	    "/dev/zero (character device 1:5) was due for an anonymous map "
	    "(lease %llu)", fi->what, (unsigned long long)g->lease_id);
}

/*
 * A device: a character device (/dev/mem), which checks every mmap
 * itself and has no size, or a file whose size nobody but root may
 * change: a sysfs resource file (a PCI BAR, sized by the kernel) or a
 * regular file of root's alone (a stand-in for /dev/mem that root set
 * up, as the tests do).  Either must reach the whole range.
 */
static int
device_check(struct mmapclient *c, const Mmapd__V1__Grant *g,
    const struct fd_info *fi)
{
	unsigned long long lease = (unsigned long long)g->lease_id;
	const struct stat *st = &fi->st;
	int err;

	if (S_ISCHR(st->st_mode))
		return access_mode_check(c, g, fi);
	if (!S_ISREG(st->st_mode))
		return conn_break(c, -EPROTO, "the daemon granted a %s where a "
		    "character device or a sysfs file was due for a device "
		    "map (lease %llu)", fi->what, lease);
	if (!fi->sysfs && (st->st_uid != 0 ||
	    (st->st_mode & (S_IWGRP | S_IWOTH)) != 0))
		return conn_break(c, -EPROTO, "the daemon granted a %s of uid "
		    "%u, mode %#o, for a device map (lease %llu): not a "
		    "character device or a sysfs file, and its size may "
		    "change under the map", fi->what, (unsigned int)st->st_uid,
		    (unsigned int)(st->st_mode & 07777), lease);
	err = access_mode_check(c, g, fi);
	if (err)
		return err;
	return reach_check(c, g, fi);
}

int
grant_check(struct mmapclient *c, const Mmapd__V1__Grant *g, int fd)
{
	struct fd_info fi;
	const char *bad;
	int err;

	bad = fields_check(g);
	if (bad)
		return conn_break(c, -EPROTO, "the Grant has %s", bad);
	err = fd_probe(fd, &fi);
	if (err)
		return conn_break(c, -EPROTO, "cannot tell what the fd of "
		    "lease %llu is: %s", (unsigned long long)g->lease_id,
		    strerror(-err));
	/* Its type would read as the file's; it maps nothing at all. */
	if (fi.flags & O_PATH)
		return conn_break(c, -EPROTO, "the daemon granted an O_PATH "
		    "fd of a %s, which maps nothing (lease %llu)", fi.what,
		    (unsigned long long)g->lease_id);
	switch (g->fd_kind) {
	case MMAPD__V1__FD_KIND__FD_KIND_ANON:
		return anon_check(c, g, &fi);
	case MMAPD__V1__FD_KIND__FD_KIND_SHMEM:
		return shmem_check(c, g, &fi);
	default:
		return device_check(c, g, &fi);
	}
}
