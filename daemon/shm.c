/*
 * A Map of shared memory by name: which memory the name is (declared by
 * a [shm] section, or the caller's uid's own), whether the caller may
 * reach it and how, and attaching to it or creating it as the Map's open
 * says.  The memory itself is a memfd the engine made, sealed against
 * resizing, exec and further seals, and made mode 0600 here; lease.c
 * keeps the list.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "decide.h"
#include "mmapd.pb-c.h"
#include "session-int.h"

int
shm_open_for(int shm_fd, int write, int *fdp)
{
	char path[64];
	int fd;

	if (write)
		fd = fcntl(shm_fd, F_DUPFD_CLOEXEC, 0);
	else {
		/*
		 * A new open file, read-only: a dup would share the memfd's
		 * O_RDWR.  Its holder cannot open it again for writing
		 * through /proc/self/fd: the inode is mode 0600, mmapd's
		 * user's (shm_create()).
		 */
		snprintf(path, sizeof(path), "/proc/self/fd/%d", shm_fd);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0)
		return -errno;
	*fdp = fd;
	return 0;
}

/* Make the memory of the name through the engine, and keep it. */
static int
shm_create(struct session *s, const Mmapd__V1__Map *m,
    const struct policy_shm *decl, struct map_request *req,
    struct map_result *res, struct shm_name **shmp, const char **why)
{
	struct mmapd *d = s->d;
	struct shm_name *n;
	int err, fd;

	err = engine_map(&d->engine, req, res);
	if (err) {
		*why = res->msg;
		return err;
	}
	/*
	 * Owner-only (mmapd's user): a holder of a read-only open must not
	 * open it again read-write through /proc/self/fd.
	 */
	if (fchmod(res->fd, 0600) < 0) {
		err = -errno;
		*why = "cannot make the shared memory owner-only";
		engine_result_close(res);
		return err;
	}
	fd = fcntl(res->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		goto fail;
	}
	n = shm_add(d, m->region, decl != NULL, s->peer.uid, fd, res->size);
	if (n == NULL) {
		close(fd);
		err = -ENOMEM;
		goto fail;
	}
	n->persist = decl != NULL && decl->persist;
	if (!m->write) {
		/* The creator's own fd must be read-only too. */
		engine_result_close(res);
		err = shm_open_for(n->fd, 0, &res->fd);
		if (err) {
			n->persist = 0;
			shm_put(d, n);
			*why = "cannot reopen the shared memory read-only";
			return err;
		}
	}
	*shmp = n;
	return 0;

fail:
	engine_result_close(res);
	*why = "out of resources";
	return err;
}

int
shm_map(struct session *s, struct ask *a, const Mmapd__V1__Map *m,
    struct map_request *req, struct map_result *res, struct shm_name **shmp,
    const char **why)
{
	const struct policy_shm *decl;
	struct shm_name *n;
	int err;

	err = decide_shm(a, m, &decl, &n, why);
	if (err)
		return err;
	if (n == NULL)
		return shm_create(s, m, decl, req, res, shmp, why);
	memset(res, 0, sizeof(*res));
	err = shm_open_for(n->fd, m->write, &res->fd);
	if (err) {
		res->fd = -1;
		*why = "cannot open the shared memory";
		return err;
	}
	res->kind = MAP_KIND_SHMEM;
	res->size = n->size;
	res->prot = PROT_READ | (m->write ? PROT_WRITE : 0);
	res->mmap_flags = MAP_SHARED;
	res->cache = MAP_CACHE_CACHED;
	*shmp = n;
	return 0;
}
