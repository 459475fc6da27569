#include "config.h"

/*
 * The zero driver, the userspace mmap_zero_prepare(): a shared request
 * gets a fresh sealed memfd of its own (shmem_zero_setup_desc()), a
 * private one anonymous memory (vma_desc_set_anonymous()).  Everything
 * here runs on the real /dev/zero.
 */

#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "engine.h"
#include "devices.h"
#include "helpers.h"

#define RW		(MAP_DESC_SHARED | MAP_DESC_WRITE)
#define ZERO_SEALS	(F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL)

struct rig {
	int nfd;
	struct map_engine eng;
	struct map_device dev;
	uint64_t pg;
};

static void
rig_open(struct rig *r, int access)
{
	int rc;

	r->pg = map_page_size();
	r->nfd = fd_count();
	engine_open_zero(&r->eng);
	rc = zero_device_open(&r->dev, "/dev/zero", access);
	cr_assert_eq(rc, 0, "zero_device_open: %d", rc);
}

static void
rig_close(struct rig *r)
{
	map_device_close(&r->dev);
	engine_close(&r->eng);
	cr_assert_eq(fd_count(), r->nfd, "fds leaked: %d open, %d before",
	    fd_count(), r->nfd);
}

static struct map_request
req_make(const struct map_device *dev, uint64_t offset, uint64_t size,
    unsigned int flags)
{
	struct map_request req;

	memset(&req, 0, sizeof(req));
	req.dev = dev;
	req.offset = offset;
	req.size = size;
	req.flags = flags;
	req.cache = MAP_CACHE_DEFAULT;
	req.peer.uid = 1000;
	req.peer.gid = 100;
	req.peer.pid = 4242;
	return req;
}

static void
expect_zeros(const unsigned char *p, uint64_t size)
{
	uint64_t i;

	for (i = 0; i < size; i++) {
		if (p[i] != 0)
			break;
	}
	cr_assert_eq(i, size, "byte %llu of a fresh mapping is not zero",
	    (unsigned long long)i);
}

/* /dev/zero has one cache mode only. */
Test(zero, device_open)
{
	struct map_device dev;
	char target[256];
	int nfd = fd_count();

	cr_assert_eq(zero_device_open(&dev, "/dev/zero", O_RDWR), 0);
	/* A read-write and a read-only open. */
	cr_assert_eq(fd_count(), nfd + 2);
	cr_assert_eq(fd_accmode(dev.fd_ro[MAP_CACHE_CACHED]), O_RDONLY);
	cr_assert_eq(dev.driver, &zero_driver);
	cr_assert_eq(dev.access, O_RDWR);
	cr_assert_geq(dev.fd[MAP_CACHE_CACHED], 0);
	cr_assert_eq(dev.fd[MAP_CACHE_UNCACHED], -1);
	cr_assert_eq(dev.fd[MAP_CACHE_WC], -1);
	fd_target(dev.fd[MAP_CACHE_CACHED], target, sizeof(target));
	cr_assert_str_eq(target, "/dev/zero");
	map_device_close(&dev);
	cr_assert_eq(fd_count(), nfd);
}

Test(zero, device_open_missing_path)
{
	struct map_device dev;
	int nfd = fd_count();

	cr_assert_lt(zero_device_open(&dev, "/nonexistent/zero", O_RDWR), 0);
	cr_assert_eq(fd_count(), nfd);
}

Test(zero, shared_is_a_sealed_memfd)
{
	struct rig r;
	struct map_request req;
	struct map_result res;
	char target[256];
	struct stat st;
	unsigned char *p;

	rig_open(&r, O_RDWR);
	req = req_make(&r.dev, 0, 4 * r.pg, RW);
	MAP_OK(&r.eng, &req, &res);
	cr_assert_eq(res.kind, MAP_KIND_SHMEM);
	fd_target(res.fd, target, sizeof(target));
	cr_assert_str_eq(target, "/memfd:dev/zero (deleted)");
	cr_assert_eq(fstat(res.fd, &st), 0);
	cr_assert_eq(st.st_size, (off_t)(4 * r.pg));
	cr_assert_eq(shmem_seals(res.fd), ZERO_SEALS);
	cr_assert_eq(res.offset, 0);
	cr_assert_eq(res.size, 4 * r.pg);
	cr_assert_eq(res.prot, PROT_READ | PROT_WRITE);
	cr_assert_eq(res.mmap_flags, MAP_SHARED);

	p = result_mmap(&res);
	expect_zeros(p, res.size);
	munmap(p, res.size);
	engine_result_close(&res);
	rig_close(&r);
}

/* The seals keep the kernel's fixed-size shared /dev/zero object. */
Test(zero, shared_seals_hold)
{
	struct rig r;
	struct map_request req;
	struct map_result res;

	rig_open(&r, O_RDWR);
	req = req_make(&r.dev, 0, 2 * r.pg, RW);
	MAP_OK(&r.eng, &req, &res);
	cr_assert_eq(ftruncate(res.fd, 4 * r.pg), -1);
	cr_assert_eq(errno, EPERM);
	cr_assert_eq(ftruncate(res.fd, r.pg), -1);
	cr_assert_eq(errno, EPERM);
	cr_assert_eq(fcntl(res.fd, F_ADD_SEALS, F_SEAL_WRITE), -1);
	cr_assert_eq(errno, EPERM);
	engine_result_close(&res);
	rig_close(&r);
}

Test(zero, shared_size_rounded)
{
	struct rig r;
	struct map_request req;
	struct map_result res;
	struct stat st;

	rig_open(&r, O_RDWR);
	req = req_make(&r.dev, 0, 100, RW);
	MAP_OK(&r.eng, &req, &res);
	cr_assert_eq(res.size, r.pg);
	cr_assert_eq(fstat(res.fd, &st), 0);
	cr_assert_eq(st.st_size, (off_t)r.pg);
	engine_result_close(&res);
	rig_close(&r);
}

/*
 * The kernel maps a shared /dev/zero at an offset and then SIGBUSes on
 * touch; mmapd ignores the offset, so every page of the result is there.
 */
Test(zero, shared_ignores_offset)
{
	struct rig r;
	struct map_request req;
	struct map_result res;
	unsigned char *p;

	rig_open(&r, O_RDWR);
	req = req_make(&r.dev, 16 * r.pg, 2 * r.pg, RW);
	MAP_OK(&r.eng, &req, &res);
	cr_assert_eq(res.kind, MAP_KIND_SHMEM);
	cr_assert_eq(res.offset, 0);
	cr_assert_eq(res.size, 2 * r.pg);
	p = result_mmap(&res);
	expect_zeros(p, res.size);
	p[res.size - 1] = 1;
	munmap(p, res.size);
	engine_result_close(&res);
	rig_close(&r);
}

/* Two shared /dev/zero mappings share nothing, as in the kernel. */
Test(zero, shared_requests_never_share)
{
	struct rig r;
	struct map_request req;
	struct map_result ra, rb;
	struct stat sa, sb;
	uint32_t *a, *b;

	rig_open(&r, O_RDWR);
	req = req_make(&r.dev, 0, r.pg, RW);
	MAP_OK(&r.eng, &req, &ra);
	MAP_OK(&r.eng, &req, &rb);
	cr_assert_eq(fstat(ra.fd, &sa), 0);
	cr_assert_eq(fstat(rb.fd, &sb), 0);
	cr_assert_neq(sa.st_ino, sb.st_ino);
	a = result_mmap(&ra);
	b = result_mmap(&rb);
	a[0] = 0xc0ffee;
	b[1] = 0xbadf00d;
	cr_assert_eq(b[0], 0);
	cr_assert_eq(a[1], 0);
	munmap(a, ra.size);
	munmap(b, rb.size);
	engine_result_close(&ra);
	engine_result_close(&rb);
	rig_close(&r);
}

/* But one result is one object: whoever maps it shares it. */
Test(zero, shared_result_is_shared)
{
	struct rig r;
	struct map_request req;
	struct map_result res;
	uint32_t *a, *b;

	rig_open(&r, O_RDWR);
	req = req_make(&r.dev, 0, r.pg, RW);
	MAP_OK(&r.eng, &req, &res);
	a = result_mmap(&res);
	b = result_mmap(&res);
	a[7] = 0x600df00d;
	cr_assert_eq(b[7], 0x600df00d);
	munmap(a, res.size);
	munmap(b, res.size);
	engine_result_close(&res);
	rig_close(&r);
}

Test(zero, private_is_anonymous)
{
	struct rig r;
	struct map_request req;
	struct map_result res;
	char target[256];
	unsigned char *p;

	rig_open(&r, O_RDWR);
	req = req_make(&r.dev, 3 * r.pg, 2 * r.pg, MAP_DESC_WRITE);
	MAP_OK(&r.eng, &req, &res);
	cr_assert_eq(res.kind, MAP_KIND_ANON);
	fd_target(res.fd, target, sizeof(target));
	cr_assert_str_eq(target, "/dev/zero");
	cr_assert(fd_same_description(res.fd, r.eng.zero_fd),
	    "not a dup of the engine's /dev/zero");
	cr_assert_eq(res.offset, 0);
	cr_assert_eq(res.size, 2 * r.pg);
	cr_assert_eq(res.prot, PROT_READ | PROT_WRITE);
	cr_assert_eq(res.mmap_flags, MAP_PRIVATE);

	p = result_mmap(&res);
	expect_zeros(p, res.size);
	memset(p, 0x77, res.size);
	cr_assert_eq(p[res.size - 1], 0x77);
	munmap(p, res.size);
	engine_result_close(&res);
	rig_close(&r);
}

Test(zero, private_read_only)
{
	struct rig r;
	struct map_request req;
	struct map_result res;
	unsigned char *p;

	rig_open(&r, O_RDWR);
	req = req_make(&r.dev, 0, r.pg, 0);
	MAP_OK(&r.eng, &req, &res);
	cr_assert_eq(res.kind, MAP_KIND_ANON);
	cr_assert_eq(res.prot, PROT_READ);
	cr_assert_eq(res.mmap_flags, MAP_PRIVATE);
	p = result_mmap(&res);
	expect_zeros(p, res.size);
	munmap(p, res.size);
	engine_result_close(&res);
	rig_close(&r);
}

/*
 * A read-only /dev/zero mapped MAP_SHARED behaves as private; with
 * PROT_WRITE it fails with EACCES (do_mmap()).
 */
Test(zero, read_only_device)
{
	struct rig r;
	struct map_request req;
	struct map_result res;

	rig_open(&r, O_RDONLY);
	req = req_make(&r.dev, 0, r.pg, MAP_DESC_SHARED);
	MAP_OK(&r.eng, &req, &res);
	cr_assert_eq(res.kind, MAP_KIND_ANON);
	cr_assert_eq(res.mmap_flags, MAP_PRIVATE);
	cr_assert_eq(res.prot, PROT_READ);
	engine_result_close(&res);

	req.flags = RW;
	MAP_ERR(&r.eng, &req, -EACCES);

	/* Private and writable is copy-on-write: allowed. */
	req.flags = MAP_DESC_WRITE;
	MAP_OK(&r.eng, &req, &res);
	cr_assert_eq(res.kind, MAP_KIND_ANON);
	cr_assert_eq(res.prot, PROT_READ | PROT_WRITE);
	engine_result_close(&res);
	rig_close(&r);
}
