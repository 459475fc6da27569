#include "config.h"

/*
 * The engine core: request checks, the desc a driver's prepare() sees,
 * action prepare, the complete step and error filtering, after the
 * kernel's call_mmap_prepare()/mmap_action_prepare()/mmap_action_complete()
 * (shared/reference/kernel-mmap-prepare.md §2).
 *
 * The device under test is a memfd standing in for /dev/mem: the build
 * machines have no /dev/mem.  It is a seam, nothing more; the real
 * /dev/mem is proved in a VM in a later issue.  A memfd behaves like a
 * device file where it matters here: it can be reopened with and without
 * O_SYNC through /proc/self/fd/N, mmapped at any offset, read back with
 * pread, and made to refuse shared writable mappings (F_SEAL_WRITE).
 *
 * The driver is "probe": it counts its calls, keeps a copy of the desc it
 * was given and then does what the test scripted.
 */

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "engine.h"
#include "helpers.h"

#define CACHE_BIT(c)	(1u << (c))
#define BOTH_CACHES \
	(CACHE_BIT(MAP_CACHE_CACHED) | CACHE_BIT(MAP_CACHE_UNCACHED))

/* What the probe driver saw and what it is to do. */
static struct {
	int calls;
	struct map_desc seen;		/* the desc as prepare() got it */
	struct map_peer peer;		/* *seen.peer, copied in time */
	int (*script)(struct map_desc *);

	int ret;			/* for the scripts below */
	int filter;
	uint64_t start, size;
	enum map_cache cache;
	int type;			/* an action type, maybe a bad one */
	const char *reason;
	const struct map_device *other;
} probe;

static int
probe_prepare(struct map_desc *desc)
{
	probe.calls++;
	probe.seen = *desc;
	if (desc->peer != NULL)
		probe.peer = *desc->peer;
	return probe.script != NULL ? probe.script(desc) : 0;
}

static const struct map_driver probe_driver = { "probe", probe_prepare };

/* Scripts: each a few lines a real driver could have written. */

static int
do_fail(struct map_desc *desc)
{
	desc->action.error_filter = probe.filter;
	desc->reason = probe.reason;
	return probe.ret;
}

/* A reason formatted into the desc, as mem and pci name a claimant. */
static int
do_fail_formatted(struct map_desc *desc)
{
	snprintf(desc->reason_buf, sizeof(desc->reason_buf), "%s %llu",
	    probe.reason, (unsigned long long)desc->offset);
	desc->reason = desc->reason_buf;
	return probe.ret;
}

static int
do_shmem(struct map_desc *desc)
{
	map_action_shmem(desc);
	desc->action.error_filter = probe.filter;
	return 0;
}

static int
do_anon(struct map_desc *desc)
{
	map_desc_set_anonymous(desc);
	return 0;
}

static int
do_remap(struct map_desc *desc)
{
	map_action_remap(desc, probe.start, probe.size);
	desc->action.error_filter = probe.filter;
	return 0;
}

static int
do_remap_full(struct map_desc *desc)
{
	map_action_remap_full(desc);
	desc->action.error_filter = probe.filter;
	return 0;
}

static int
do_cache(struct map_desc *desc)
{
	desc->cache = probe.cache;
	desc->action.error_filter = probe.filter;
	return 0;
}

/* The snapshot is taken when map_action_remap*() is called. */
static int
do_snapshot(struct map_desc *desc)
{
	desc->cache = probe.cache;
	map_action_remap_full(desc);
	desc->cache = probe.cache == MAP_CACHE_UNCACHED ?
	    MAP_CACHE_CACHED : MAP_CACHE_UNCACHED;
	return 0;
}

static const struct map_backing *bogus_backing;

static int
do_bogus_backing(struct map_desc *desc)
{
	desc->backing = bogus_backing;
	desc->action.error_filter = probe.filter;
	return 0;
}

static int
do_anon_shmem(struct map_desc *desc)
{
	map_desc_set_anonymous(desc);
	map_action_shmem(desc);
	return 0;
}

static int
do_anon_remap(struct map_desc *desc)
{
	map_desc_set_anonymous(desc);
	map_action_remap_full(desc);
	return 0;
}

static int
do_action_type(struct map_desc *desc)
{
	desc->action.type = (enum map_action_type)probe.type;
	return 0;
}

/* Scribble over every field the core owns; none of it may stick. */
static int
do_scribble(struct map_desc *desc)
{
	static const struct map_peer root = { 0, 0, 1 };

	desc->dev = probe.other;
	desc->offset += 64 * map_page_size();
	desc->size += 2 * map_page_size();
	desc->peer = &root;
	return 0;
}

/*
 * A test's world: an engine on /dev/zero and the stand-in opened as a
 * probe device.  rig_close() proves that everything the test opened,
 * failing calls included, was closed again.
 */
struct rig {
	int nfd;
	struct map_engine eng;
	int standin;
	char path[64];
	struct map_device dev;
	uint64_t pg;
};

static void
rig_open_sealed(struct rig *r, int access, unsigned int mask, int seals)
{
	int rc;

	memset(&probe, 0, sizeof(probe));
	r->pg = map_page_size();
	r->nfd = fd_count();
	engine_open_zero(&r->eng);
	r->standin = standin_open(r->path, sizeof(r->path));
	/* Seals go on before the open: reopening a sealed memfd still works. */
	if (seals != 0)
		cr_assert_eq(fcntl(r->standin, F_ADD_SEALS, seals), 0);
	rc = map_device_open(&r->dev, &probe_driver, "standin", r->path,
	    access, mask);
	cr_assert_eq(rc, 0, "map_device_open %s: %d", r->path, rc);
}

static void
rig_open(struct rig *r, int access, unsigned int mask)
{
	rig_open_sealed(r, access, mask, 0);
}

static void
rig_close(struct rig *r)
{
	map_device_close(&r->dev);
	close(r->standin);
	engine_close(&r->eng);
	cr_assert_eq(fd_count(), r->nfd, "fds leaked: %d open, %d before",
	    fd_count(), r->nfd);
	/* Nothing the core probed with may stay mapped. */
	cr_assert_eq(maps_count("devmem-standin"), 0);
}

static struct map_request
req_make(const struct map_device *dev, uint64_t offset, uint64_t size,
    unsigned int flags, enum map_cache cache)
{
	struct map_request req;

	memset(&req, 0, sizeof(req));
	req.dev = dev;
	req.offset = offset;
	req.size = size;
	req.flags = flags;
	req.cache = cache;
	req.peer.uid = 1000;
	req.peer.gid = 100;
	req.peer.pid = 4242;
	return req;
}

#define RW		(MAP_DESC_SHARED | MAP_DESC_WRITE)

Test(engine, page_size)
{
	cr_assert_eq(map_page_size(), (uint64_t)sysconf(_SC_PAGESIZE));
}

Test(engine, open_close)
{
	struct map_engine eng;
	int nfd = fd_count();

	engine_open_zero(&eng);
	cr_assert_eq(fd_count(), nfd + 1);
	engine_close(&eng);
	cr_assert_eq(fd_count(), nfd);
}

Test(engine, open_missing_path)
{
	struct map_engine eng;
	int nfd = fd_count();

	cr_assert_lt(engine_open(&eng, "/nonexistent/zero"), 0);
	cr_assert_eq(fd_count(), nfd);
}

/* map_device_open: one fd per cache mode, O_SYNC for uncached. */
Test(engine, device_open_per_cache_mode)
{
	struct map_device dev;
	char path[64];
	int nfd, fd;

	nfd = fd_count();
	fd = standin_open(path, sizeof(path));
	cr_assert_eq(map_device_open(&dev, &probe_driver, "standin", path,
	    O_RDWR, BOTH_CACHES), 0);
	/* The stand-in, and a read-write and a read-only open per mode. */
	cr_assert_eq(fd_count(), nfd + 5);
	cr_assert_eq(dev.driver, &probe_driver);
	cr_assert_eq(dev.access, O_RDWR);
	cr_assert_geq(dev.fd[MAP_CACHE_CACHED], 0);
	cr_assert_geq(dev.fd[MAP_CACHE_UNCACHED], 0);
	cr_assert_eq(dev.fd[MAP_CACHE_WC], -1);
	cr_assert_eq(dev.fd_ro[MAP_CACHE_WC], -1);
	cr_assert_eq(fd_accmode(dev.fd_ro[MAP_CACHE_CACHED]), O_RDONLY);
	cr_assert_eq(fd_accmode(dev.fd_ro[MAP_CACHE_UNCACHED]), O_RDONLY);
	cr_assert_not(fd_has_sync(dev.fd_ro[MAP_CACHE_CACHED]));
	cr_assert(fd_has_sync(dev.fd_ro[MAP_CACHE_UNCACHED]));
	cr_assert_not(fd_has_sync(dev.fd[MAP_CACHE_CACHED]));
	cr_assert(fd_has_sync(dev.fd[MAP_CACHE_UNCACHED]));
	cr_assert_eq(fd_accmode(dev.fd[MAP_CACHE_CACHED]), O_RDWR);
	cr_assert_eq(fd_accmode(dev.fd[MAP_CACHE_UNCACHED]), O_RDWR);
	cr_assert(fd_same_inode(dev.fd[MAP_CACHE_CACHED], fd));
	/* Two opens, not one open dup'ed: the flags differ. */
	cr_assert_not(fd_same_description(dev.fd[MAP_CACHE_CACHED],
	    dev.fd[MAP_CACHE_UNCACHED]));
	map_device_close(&dev);
	close(fd);
	cr_assert_eq(fd_count(), nfd);
}

Test(engine, device_open_refuses_wc)
{
	struct map_device dev;
	char path[64];
	int nfd, fd;

	nfd = fd_count();
	fd = standin_open(path, sizeof(path));
	/* WC comes last: the opens before it must be undone. */
	cr_assert_eq(map_device_open(&dev, &probe_driver, "standin", path,
	    O_RDWR, BOTH_CACHES | CACHE_BIT(MAP_CACHE_WC)), -EINVAL);
	cr_assert_eq(fd_count(), nfd + 1);
	close(fd);
}

Test(engine, device_open_missing_path)
{
	struct map_device dev;
	int nfd = fd_count();

	cr_assert_lt(map_device_open(&dev, &probe_driver, "gone",
	    "/nonexistent/mem", O_RDWR, BOTH_CACHES), 0);
	cr_assert_eq(fd_count(), nfd);
}

/* 1. Request checks: refused before the driver is asked. */

Test(engine, request_without_device)
{
	struct rig r;
	struct map_request req;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	req = req_make(NULL, 0, r.pg, RW, MAP_CACHE_DEFAULT);
	MAP_ERR(&r.eng, &req, -ENODEV);
	rig_close(&r);
}

Test(engine, request_device_without_driver)
{
	static const struct map_driver hookless = { "hookless", NULL };
	struct map_device dev;
	struct rig r;
	struct map_request req;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	dev = r.dev;
	dev.driver = NULL;
	req = req_make(&dev, 0, r.pg, RW, MAP_CACHE_DEFAULT);
	MAP_ERR(&r.eng, &req, -ENODEV);
	dev.driver = &hookless;
	MAP_ERR(&r.eng, &req, -ENODEV);
	rig_close(&r);
}

Test(engine, request_unknown_flags)
{
	static const unsigned int bad[] = {
		MAP_DESC_MAYSHARE,	/* the core's, never the client's */
		MAP_DESC_SHARED | MAP_DESC_MAYSHARE,
		1u << 3,
		1u << 31,
		~0u,
	};
	struct rig r;
	struct map_request req;
	size_t i;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		req = req_make(&r.dev, 0, r.pg, bad[i], MAP_CACHE_DEFAULT);
		MAP_ERR(&r.eng, &req, -EINVAL);
	}
	cr_assert_eq(probe.calls, 0);
	rig_close(&r);
}

Test(engine, request_cache_out_of_range)
{
	struct rig r;
	struct map_request req;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	req = req_make(&r.dev, 0, r.pg, RW, MAP_CACHE_NR);
	MAP_ERR(&r.eng, &req, -EINVAL);
	req.cache = (enum map_cache)(MAP_CACHE_NR + 7);
	MAP_ERR(&r.eng, &req, -EINVAL);
	cr_assert_eq(probe.calls, 0);
	rig_close(&r);
}

Test(engine, request_size_zero)
{
	struct rig r;
	struct map_request req;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	req = req_make(&r.dev, 0, 0, RW, MAP_CACHE_DEFAULT);
	MAP_ERR(&r.eng, &req, -EINVAL);
	cr_assert_eq(probe.calls, 0);
	rig_close(&r);
}

/* As do_mmap() does, the length is rounded up to whole pages. */
Test(engine, request_size_rounds_up)
{
	static const struct {
		uint64_t size, pages;
	} cases[] = { { 1, 1 }, { 100, 1 }, { 4096, 1 }, { 4097, 2 },
	    { 3 * 4096 - 1, 3 } };
	struct rig r;
	struct map_request req;
	struct map_result res;
	size_t i;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	cr_assert_eq(r.pg, 4096, "the cases assume 4 KiB pages");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		req = req_make(&r.dev, r.pg, cases[i].size, RW,
		    MAP_CACHE_DEFAULT);
		MAP_OK(&r.eng, &req, &res);
		cr_assert_eq(probe.seen.size, cases[i].pages * r.pg);
		cr_assert_eq(res.size, cases[i].pages * r.pg,
		    "size %llu gave %llu", (unsigned long long)cases[i].size,
		    (unsigned long long)res.size);
		engine_result_close(&res);
	}
	rig_close(&r);
}

Test(engine, request_size_rounding_overflows)
{
	struct rig r;
	struct map_request req;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	req = req_make(&r.dev, 0, UINT64_MAX, RW, MAP_CACHE_DEFAULT);
	MAP_ERR(&r.eng, &req, -ENOMEM);
	/* 2^64 - page + 1 rounds up to 2^64. */
	req.size = -r.pg + 1;
	MAP_ERR(&r.eng, &req, -ENOMEM);
	cr_assert_eq(probe.calls, 0);

	/* The largest size that rounds is let through to the driver. */
	probe.script = do_fail;
	probe.ret = -EXDEV;
	req.size = -r.pg;
	MAP_ERR(&r.eng, &req, -EXDEV);
	cr_assert_eq(probe.calls, 1);
	cr_assert_eq(probe.seen.size, -r.pg);
	rig_close(&r);
}

Test(engine, request_offset_unaligned)
{
	struct rig r;
	struct map_request req;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	req = req_make(&r.dev, 1, r.pg, RW, MAP_CACHE_DEFAULT);
	MAP_ERR(&r.eng, &req, -EINVAL);
	req.offset = r.pg / 2;
	MAP_ERR(&r.eng, &req, -EINVAL);
	req.offset = 5 * r.pg + 8;
	MAP_ERR(&r.eng, &req, -EINVAL);
	cr_assert_eq(probe.calls, 0);
	rig_close(&r);
}

Test(engine, request_offset_overflows)
{
	struct rig r;
	struct map_request req;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	/* Ending exactly at 2^64 is already too far. */
	req = req_make(&r.dev, -r.pg, r.pg, RW, MAP_CACHE_DEFAULT);
	MAP_ERR(&r.eng, &req, -EOVERFLOW);
	req = req_make(&r.dev, r.pg, -r.pg, RW, MAP_CACHE_DEFAULT);
	MAP_ERR(&r.eng, &req, -EOVERFLOW);
	/* The rounded size counts, not the asked one. */
	req = req_make(&r.dev, -r.pg, 1, RW, MAP_CACHE_DEFAULT);
	MAP_ERR(&r.eng, &req, -EOVERFLOW);
	/* Wrapping well past 2^64. */
	req = req_make(&r.dev, -2 * r.pg, 5 * r.pg, RW, MAP_CACHE_DEFAULT);
	MAP_ERR(&r.eng, &req, -EOVERFLOW);
	cr_assert_eq(probe.calls, 0);

	/* The last page below 2^64 is fine as far as the core goes. */
	probe.script = do_fail;
	probe.ret = -EXDEV;
	req = req_make(&r.dev, -2 * r.pg, r.pg, RW, MAP_CACHE_DEFAULT);
	MAP_ERR(&r.eng, &req, -EXDEV);
	cr_assert_eq(probe.calls, 1);
	cr_assert_eq(probe.seen.offset, -2 * r.pg);
	rig_close(&r);
}

/* Every mapping of a file needs read access (do_mmap()). */
Test(engine, request_write_only_device)
{
	struct rig r;
	struct map_device wo;
	struct map_request req;
	unsigned int flags[] = { 0, MAP_DESC_WRITE, MAP_DESC_SHARED, RW };
	size_t i;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	cr_assert_eq(map_device_open(&wo, &probe_driver, "wo", r.path,
	    O_WRONLY, BOTH_CACHES), 0);
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		req = req_make(&wo, 0, r.pg, flags[i], MAP_CACHE_DEFAULT);
		MAP_ERR(&r.eng, &req, -EACCES);
	}
	cr_assert_eq(probe.calls, 0);
	map_device_close(&wo);
	rig_close(&r);
}

Test(engine, request_shared_write_on_read_only_device)
{
	struct rig r;
	struct map_request req;

	rig_open(&r, O_RDONLY, BOTH_CACHES);
	req = req_make(&r.dev, 0, r.pg, RW, MAP_CACHE_DEFAULT);
	MAP_ERR(&r.eng, &req, -EACCES);
	cr_assert_eq(probe.calls, 0);
	rig_close(&r);
}

/*
 * do_mmap(): MAP_SHARED on an fd without write access drops VM_SHARED
 * but keeps VM_MAYSHARE, so the driver sees a private mapping.
 */
Test(engine, request_shared_read_only_becomes_private)
{
	struct rig r;
	struct map_request req;
	struct map_result res;
	void *p;

	rig_open(&r, O_RDONLY, BOTH_CACHES);
	req = req_make(&r.dev, 2 * r.pg, r.pg, MAP_DESC_SHARED,
	    MAP_CACHE_DEFAULT);
	MAP_OK(&r.eng, &req, &res);
	cr_assert_eq(probe.calls, 1);
	cr_assert_eq(probe.seen.flags, MAP_DESC_MAYSHARE);
	cr_assert_eq(res.mmap_flags, MAP_PRIVATE);
	cr_assert_eq(res.prot, PROT_READ);
	cr_assert_eq(res.kind, MAP_KIND_DEVICE);
	p = result_mmap(&res);
	munmap(p, res.size);
	engine_result_close(&res);
	rig_close(&r);
}

/* A private writable mapping of a read-only fd is copy-on-write: fine. */
Test(engine, request_private_write_on_read_only_device)
{
	struct rig r;
	struct map_request req;
	struct map_result res;
	void *p;

	rig_open(&r, O_RDONLY, BOTH_CACHES);
	req = req_make(&r.dev, 4 * r.pg, r.pg, MAP_DESC_WRITE,
	    MAP_CACHE_DEFAULT);
	MAP_OK(&r.eng, &req, &res);
	cr_assert_eq(probe.seen.flags, MAP_DESC_WRITE);
	cr_assert_eq(res.prot, PROT_READ | PROT_WRITE);
	cr_assert_eq(res.mmap_flags, MAP_PRIVATE);
	p = result_mmap(&res);
	pattern_write(p, res.offset, res.size);
	munmap(p, res.size);
	/* The writes went to private copies, not to the device. */
	zero_expect(r.standin, res.offset, res.size);
	engine_result_close(&res);
	rig_close(&r);
}

Test(engine, request_shared_sets_mayshare)
{
	static const struct {
		unsigned int asked, seen;
	} cases[] = {
		{ 0, 0 },
		{ MAP_DESC_WRITE, MAP_DESC_WRITE },
		{ MAP_DESC_SHARED, MAP_DESC_SHARED | MAP_DESC_MAYSHARE },
		{ RW, RW | MAP_DESC_MAYSHARE },
	};
	struct rig r;
	struct map_request req;
	size_t i;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	probe.script = do_fail;
	probe.ret = -EXDEV;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		req = req_make(&r.dev, 0, r.pg, cases[i].asked,
		    MAP_CACHE_DEFAULT);
		MAP_ERR(&r.eng, &req, -EXDEV);
		cr_assert_eq(probe.seen.flags, cases[i].seen,
		    "asked %#x, driver saw %#x, expected %#x",
		    cases[i].asked, probe.seen.flags, cases[i].seen);
	}
	rig_close(&r);
}

/* 2. What a driver's prepare() gets, and what it may change. */

Test(engine, prepare_sees_the_request)
{
	struct rig r;
	struct map_request req;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	probe.script = do_fail;
	probe.ret = -EXDEV;
	req = req_make(&r.dev, 3 * r.pg, 100, RW, MAP_CACHE_UNCACHED);
	MAP_ERR(&r.eng, &req, -EXDEV);
	cr_assert_eq(probe.calls, 1);
	cr_assert_eq(probe.seen.dev, &r.dev);
	cr_assert_eq(probe.seen.offset, 3 * r.pg);
	cr_assert_eq(probe.seen.size, r.pg);
	cr_assert_not_null(probe.seen.peer);
	cr_assert_eq(probe.peer.uid, 1000);
	cr_assert_eq(probe.peer.gid, 100);
	cr_assert_eq(probe.peer.pid, 4242);
	cr_assert_eq(probe.seen.flags, RW | MAP_DESC_MAYSHARE);
	cr_assert_eq(probe.seen.cache, MAP_CACHE_UNCACHED);
	cr_assert_eq(probe.seen.backing, &map_backing_file);
	cr_assert_eq(probe.seen.action.type, MAP_ACTION_NOTHING);
	cr_assert_eq(probe.seen.action.error_filter, 0);
	cr_assert_null(probe.seen.reason);
	rig_close(&r);
}

/* DEFAULT reaches the driver as DEFAULT: choosing is its business. */
Test(engine, prepare_sees_cache_as_asked)
{
	struct rig r;
	struct map_request req;
	int c;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	probe.script = do_fail;
	probe.ret = -EXDEV;
	for (c = MAP_CACHE_DEFAULT; c < MAP_CACHE_NR; c++) {
		req = req_make(&r.dev, 0, r.pg, RW, (enum map_cache)c);
		MAP_ERR(&r.eng, &req, -EXDEV);
		cr_assert_eq(probe.seen.cache, (enum map_cache)c);
	}
	cr_assert_eq(probe.calls, MAP_CACHE_NR);
	rig_close(&r);
}

/* A prepare error is the driver's to choose: never filtered. */
Test(engine, prepare_error_returned_unchanged)
{
	struct rig r;
	struct map_request req;
	const char *msg;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	probe.script = do_fail;
	probe.ret = -ENOTTY;
	probe.filter = -EAGAIN;
	probe.reason = "the probe driver refuses";
	req = req_make(&r.dev, 0, r.pg, RW, MAP_CACHE_DEFAULT);
	msg = MAP_ERR(&r.eng, &req, -ENOTTY);
	cr_assert_str_eq(msg, "the probe driver refuses");

	/* No reason given: still a message for humans. */
	probe.reason = NULL;
	probe.ret = -EPERM;
	msg = MAP_ERR(&r.eng, &req, -EPERM);
	cr_assert_str_neq(msg, "");
	cr_assert_eq(probe.calls, 2);
	rig_close(&r);
}

/*
 * A reason the driver formatted lives in its desc, which is gone when
 * engine_map() returns: the result carries its own copy.
 */
Test(engine, prepare_formatted_reason)
{
	static char long_reason[300];
	struct rig r;
	struct map_request req;
	struct map_result res;
	int rc;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	probe.script = do_fail_formatted;
	probe.ret = -EBUSY;
	probe.reason = "claimed at";
	req = req_make(&r.dev, 3 * r.pg, r.pg, RW, MAP_CACHE_DEFAULT);
	res_poison(&res);
	rc = engine_map(&r.eng, &req, &res);
	cr_assert_eq(rc, -EBUSY);
	cr_assert_eq(res.fd, -1);
	cr_assert_eq(res.msg, res.msg_buf, "the message is not the result's");
	cr_assert_str_eq(res.msg, "claimed at 12288");
	cr_assert_eq(res.raw_error, -EBUSY);

	/* Too long for the buffers: cut, and terminated. */
	memset(long_reason, 'x', sizeof(long_reason) - 1);
	probe.reason = long_reason;
	res_poison(&res);
	cr_assert_eq(engine_map(&r.eng, &req, &res), -EBUSY);
	cr_assert_eq(strlen(res.msg), sizeof(res.msg_buf) - 1);
	cr_assert_eq(res.msg[0], 'x');

	/* A static reason is passed as it is, not copied. */
	probe.script = do_fail;
	probe.reason = "a static reason";
	res_poison(&res);
	cr_assert_eq(engine_map(&r.eng, &req, &res), -EBUSY);
	cr_assert_eq(res.msg, probe.reason);
	rig_close(&r);
}

/* Like call_mmap_prepare(): only whitelisted fields are copied back. */
Test(engine, prepare_cannot_change_core_fields)
{
	struct rig r;
	struct map_device other;
	struct map_request req;
	struct map_result res;
	char path[64];
	int fd2;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	fd2 = standin_open(path, sizeof(path));
	cr_assert_eq(map_device_open(&other, &probe_driver, "other", path,
	    O_RDWR, BOTH_CACHES), 0);
	probe.script = do_scribble;
	probe.other = &other;
	req = req_make(&r.dev, 5 * r.pg, 2 * r.pg, RW, MAP_CACHE_DEFAULT);
	MAP_OK(&r.eng, &req, &res);
	cr_assert_eq(res.kind, MAP_KIND_DEVICE);
	cr_assert(fd_same_description(res.fd, r.dev.fd[MAP_CACHE_CACHED]),
	    "the result is not the device the request named");
	cr_assert_eq(res.offset, 5 * r.pg);
	cr_assert_eq(res.size, 2 * r.pg);
	engine_result_close(&res);
	map_device_close(&other);
	close(fd2);
	rig_close(&r);
}

/* 3. Action prepare: validated before anything exists, never filtered. */

Test(engine, filter_out_of_range_refused)
{
	static const int bad[] = { 1, 11, -4096, INT_MIN, INT_MAX };
	struct rig r;
	struct map_request req;
	size_t i;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	probe.script = do_shmem;
	req = req_make(&r.dev, 0, r.pg, RW, MAP_CACHE_DEFAULT);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		probe.filter = bad[i];
		MAP_ERR(&r.eng, &req, -EINVAL);
	}
	cr_assert_eq(probe.calls, sizeof(bad) / sizeof(bad[0]));
	rig_close(&r);
}

Test(engine, filter_in_range_accepted)
{
	static const int good[] = { 0, -1, -4095, -EAGAIN };
	struct rig r;
	struct map_request req;
	struct map_result res;
	size_t i;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	probe.script = do_shmem;
	req = req_make(&r.dev, 0, r.pg, RW, MAP_CACHE_DEFAULT);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		probe.filter = good[i];
		MAP_OK(&r.eng, &req, &res);
		cr_assert_eq(res.kind, MAP_KIND_SHMEM);
		engine_result_close(&res);
	}
	rig_close(&r);
}

Test(engine, backing_unknown_refused)
{
	static const char not_a_backing;
	struct rig r;
	struct map_request req;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	bogus_backing = (const void *)&not_a_backing;
	probe.script = do_bogus_backing;
	req = req_make(&r.dev, 0, r.pg, RW, MAP_CACHE_DEFAULT);
	MAP_ERR(&r.eng, &req, -EINVAL);
	rig_close(&r);
}

/* NULL means "make it anonymous", which no action can go with. */
Test(engine, anonymous_with_action_refused)
{
	struct rig r;
	struct map_request req;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	req = req_make(&r.dev, 0, r.pg, RW, MAP_CACHE_DEFAULT);
	probe.script = do_anon_shmem;
	MAP_ERR(&r.eng, &req, -EINVAL);
	probe.script = do_anon_remap;
	MAP_ERR(&r.eng, &req, -EINVAL);
	cr_assert_eq(probe.calls, 2);
	rig_close(&r);
}

Test(engine, action_type_unknown_refused)
{
	struct rig r;
	struct map_request req;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	req = req_make(&r.dev, 0, r.pg, RW, MAP_CACHE_DEFAULT);
	probe.script = do_action_type;
	probe.type = MAP_ACTION_NR;
	MAP_ERR(&r.eng, &req, -EINVAL);
	probe.type = 77;
	MAP_ERR(&r.eng, &req, -EINVAL);
	rig_close(&r);
}

Test(engine, remap_size_zero_refused)
{
	struct rig r;
	struct map_request req;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	req = req_make(&r.dev, 16 * r.pg, 4 * r.pg, RW, MAP_CACHE_DEFAULT);
	probe.script = do_remap;
	probe.start = 16 * r.pg;
	probe.size = 0;
	MAP_ERR(&r.eng, &req, -EINVAL);
	rig_close(&r);
}

/* The ranges stay well inside the desc so only alignment is wrong. */
Test(engine, remap_unaligned_refused)
{
	struct rig r;
	struct map_request req;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	req = req_make(&r.dev, 16 * r.pg, 4 * r.pg, RW, MAP_CACHE_DEFAULT);
	probe.script = do_remap;
	probe.start = 16 * r.pg + 8;
	probe.size = r.pg;
	MAP_ERR(&r.eng, &req, -EINVAL);
	probe.start = 17 * r.pg;
	probe.size = 100;
	MAP_ERR(&r.eng, &req, -EINVAL);
	probe.size = r.pg + 1;
	MAP_ERR(&r.eng, &req, -EINVAL);
	rig_close(&r);
}

/* A shared desc, so the copy-on-write rule cannot be what refuses. */
Test(engine, remap_outside_desc_refused)
{
	struct rig r;
	struct map_request req;
	uint64_t off;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	off = 16 * r.pg;
	req = req_make(&r.dev, off, 4 * r.pg, RW, MAP_CACHE_DEFAULT);
	probe.script = do_remap;

	probe.start = off - r.pg;		/* starts before */
	probe.size = r.pg;
	MAP_ERR(&r.eng, &req, -EFAULT);
	probe.size = 2 * r.pg;			/* straddles the start */
	MAP_ERR(&r.eng, &req, -EFAULT);
	probe.start = off + 3 * r.pg;		/* runs past the end */
	probe.size = 2 * r.pg;
	MAP_ERR(&r.eng, &req, -EFAULT);
	probe.start = off + 4 * r.pg;		/* starts at the end */
	probe.size = r.pg;
	MAP_ERR(&r.eng, &req, -EFAULT);
	probe.start = -r.pg;			/* far above */
	MAP_ERR(&r.eng, &req, -EFAULT);
	/* start + size wraps to inside the desc: still outside. */
	probe.start = off + r.pg;
	probe.size = -r.pg;
	MAP_ERR(&r.eng, &req, -EFAULT);
	rig_close(&r);
}

/* remap_pfn_range_prepare(): a CoW mapping must be remapped whole. */
Test(engine, remap_private_partial_refused)
{
	struct rig r;
	struct map_request req;
	uint64_t off;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	off = 16 * r.pg;
	probe.script = do_remap;
	req = req_make(&r.dev, off, 4 * r.pg, MAP_DESC_WRITE,
	    MAP_CACHE_DEFAULT);
	probe.start = off;
	probe.size = r.pg;
	MAP_ERR(&r.eng, &req, -EINVAL);
	probe.start = off + r.pg;
	probe.size = 3 * r.pg;
	MAP_ERR(&r.eng, &req, -EINVAL);
	/* Read-only private is copy-on-write too. */
	req.flags = 0;
	MAP_ERR(&r.eng, &req, -EINVAL);
	rig_close(&r);
}

Test(engine, remap_private_whole_allowed)
{
	struct rig r;
	struct map_request req;
	struct map_result res;
	uint64_t off;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	off = 16 * r.pg;
	probe.script = do_remap;
	probe.start = off;
	probe.size = 4 * r.pg;
	req = req_make(&r.dev, off, 4 * r.pg, MAP_DESC_WRITE,
	    MAP_CACHE_DEFAULT);
	MAP_OK(&r.eng, &req, &res);
	cr_assert_eq(res.kind, MAP_KIND_DEVICE);
	cr_assert_eq(res.offset, off);
	cr_assert_eq(res.size, 4 * r.pg);
	cr_assert_eq(res.mmap_flags, MAP_PRIVATE);
	engine_result_close(&res);
	rig_close(&r);
}

Test(engine, remap_shared_partial_allowed)
{
	struct rig r;
	struct map_request req;
	struct map_result res;
	uint64_t off;
	void *p;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	off = 16 * r.pg;
	probe.script = do_remap;
	probe.start = off + r.pg;
	probe.size = 2 * r.pg;
	req = req_make(&r.dev, off, 4 * r.pg, RW, MAP_CACHE_DEFAULT);
	MAP_OK(&r.eng, &req, &res);
	cr_assert_eq(res.kind, MAP_KIND_DEVICE);
	cr_assert_eq(res.offset, off + r.pg);
	cr_assert_eq(res.size, 2 * r.pg);
	cr_assert_eq(res.mmap_flags, MAP_SHARED);
	cr_assert(fd_same_description(res.fd, r.dev.fd[MAP_CACHE_CACHED]));
	p = result_mmap(&res);
	pattern_write(p, res.offset, res.size);
	munmap(p, res.size);
	pattern_expect(r.standin, off + r.pg, 2 * r.pg);
	/* Neighbours untouched: the fd was used at the remap's offset. */
	zero_expect(r.standin, off, r.pg);
	zero_expect(r.standin, off + 3 * r.pg, r.pg);
	engine_result_close(&res);
	rig_close(&r);
}

/* A file-backed result needs an open of the device in that cache mode. */
Test(engine, nothing_without_fd_for_cache_refused)
{
	struct rig r;
	struct map_request req;

	rig_open(&r, O_RDWR, CACHE_BIT(MAP_CACHE_CACHED));
	req = req_make(&r.dev, 0, r.pg, RW, MAP_CACHE_DEFAULT);
	probe.script = do_cache;
	probe.cache = MAP_CACHE_UNCACHED;
	MAP_ERR(&r.eng, &req, -EINVAL);
	probe.cache = MAP_CACHE_WC;
	MAP_ERR(&r.eng, &req, -EINVAL);
	rig_close(&r);
}

/* DEFAULT left alone by the driver means CACHED. */
Test(engine, nothing_default_means_cached)
{
	struct rig r;
	struct map_request req;
	struct map_result res;

	rig_open(&r, O_RDWR, CACHE_BIT(MAP_CACHE_UNCACHED));
	req = req_make(&r.dev, 0, r.pg, RW, MAP_CACHE_DEFAULT);
	MAP_ERR(&r.eng, &req, -EINVAL);
	req.cache = MAP_CACHE_UNCACHED;
	MAP_OK(&r.eng, &req, &res);
	cr_assert(fd_has_sync(res.fd));
	cr_assert_eq(res.cache, MAP_CACHE_UNCACHED);
	engine_result_close(&res);
	rig_close(&r);
}

/* The cache a remap needs is the one in force when it was asked for. */
Test(engine, remap_without_fd_for_snapshot_refused)
{
	struct rig r;
	struct map_request req;

	rig_open(&r, O_RDWR, CACHE_BIT(MAP_CACHE_CACHED));
	req = req_make(&r.dev, 0, r.pg, RW, MAP_CACHE_DEFAULT);
	probe.script = do_snapshot;
	probe.cache = MAP_CACHE_UNCACHED;	/* then back to CACHED */
	MAP_ERR(&r.eng, &req, -EINVAL);
	rig_close(&r);
}

/* An anonymous result comes from the engine's /dev/zero, not the device. */
Test(engine, anonymous_needs_no_device_fd)
{
	struct rig r;
	struct map_request req;
	struct map_result res;

	rig_open(&r, O_RDWR, CACHE_BIT(MAP_CACHE_UNCACHED));
	req = req_make(&r.dev, 0, r.pg, MAP_DESC_WRITE, MAP_CACHE_DEFAULT);
	probe.script = do_anon;
	MAP_OK(&r.eng, &req, &res);
	cr_assert_eq(res.kind, MAP_KIND_ANON);
	engine_result_close(&res);
	rig_close(&r);
}

/* error_filter covers the complete step only, even when set. */
Test(engine, action_prepare_errors_not_filtered)
{
	static const char not_a_backing;
	struct rig r;
	struct map_request req;

	rig_open(&r, O_RDWR, CACHE_BIT(MAP_CACHE_CACHED));
	req = req_make(&r.dev, 16 * r.pg, 4 * r.pg, RW, MAP_CACHE_DEFAULT);
	probe.filter = -EAGAIN;

	probe.script = do_remap;
	probe.start = 8 * r.pg;
	probe.size = r.pg;
	MAP_ERR(&r.eng, &req, -EFAULT);
	probe.start = 16 * r.pg + 1;
	MAP_ERR(&r.eng, &req, -EINVAL);

	probe.script = do_bogus_backing;
	bogus_backing = (const void *)&not_a_backing;
	MAP_ERR(&r.eng, &req, -EINVAL);

	probe.script = do_cache;
	probe.cache = MAP_CACHE_UNCACHED;
	MAP_ERR(&r.eng, &req, -EINVAL);
	rig_close(&r);
}

/* 4. The complete step: what is handed over. */

Test(engine, complete_anonymous)
{
	struct rig r;
	struct map_request req;
	struct map_result res;
	char target[256];
	unsigned char *p;
	uint64_t i;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	probe.script = do_anon;
	req = req_make(&r.dev, 5 * r.pg, 3 * r.pg, MAP_DESC_WRITE,
	    MAP_CACHE_DEFAULT);
	MAP_OK(&r.eng, &req, &res);
	fd_target(res.fd, target, sizeof(target));
	cr_assert_str_eq(target, "/dev/zero");
	cr_assert_neq(res.fd, r.eng.zero_fd);
	cr_assert(fd_same_description(res.fd, r.eng.zero_fd),
	    "not a dup of the engine's /dev/zero");
	cr_assert_eq(res.kind, MAP_KIND_ANON);
	cr_assert_eq(res.offset, 0);
	cr_assert_eq(res.size, 3 * r.pg);
	cr_assert_eq(res.prot, PROT_READ | PROT_WRITE);
	cr_assert_eq(res.mmap_flags, MAP_PRIVATE);

	p = result_mmap(&res);
	for (i = 0; i < res.size; i++) {
		if (p[i] != 0)
			break;
	}
	cr_assert_eq(i, res.size, "anonymous memory is not zero");
	memset(p, 0x42, res.size);
	cr_assert_eq(p[res.size - 1], 0x42);
	munmap(p, res.size);
	engine_result_close(&res);
	rig_close(&r);
}

Test(engine, complete_anonymous_read_only)
{
	struct rig r;
	struct map_request req;
	struct map_result res;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	probe.script = do_anon;
	req = req_make(&r.dev, 0, r.pg, 0, MAP_CACHE_DEFAULT);
	MAP_OK(&r.eng, &req, &res);
	cr_assert_eq(res.kind, MAP_KIND_ANON);
	cr_assert_eq(res.prot, PROT_READ);
	cr_assert_eq(res.mmap_flags, MAP_PRIVATE);
	engine_result_close(&res);
	rig_close(&r);
}

Test(engine, complete_shmem)
{
	struct rig r;
	struct map_request req;
	struct map_result res;
	char target[256];
	struct stat st;
	uint32_t *a, *b;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	probe.script = do_shmem;
	req = req_make(&r.dev, 7 * r.pg, 3 * r.pg - 5, RW, MAP_CACHE_DEFAULT);
	MAP_OK(&r.eng, &req, &res);
	fd_target(res.fd, target, sizeof(target));
	cr_assert_str_eq(target, "/memfd:dev/zero (deleted)");
	cr_assert_eq(fstat(res.fd, &st), 0);
	cr_assert_eq(st.st_size, (off_t)(3 * r.pg));
	cr_assert_eq(shmem_seals(res.fd),
	    F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
	/*
	 * Writable: 0666 with the x bits sealed away, or 0600 on a kernel
	 * without MFD_NOEXEC_SEAL.  (A read-only one: shmem_read_only.)
	 */
	if (fd_seals(res.fd) & F_SEAL_EXEC_BIT)
		cr_assert_eq(st.st_mode & 07777, 0666);
	else
		cr_assert_eq(st.st_mode & 07777, 0600);
	cr_assert_eq(res.kind, MAP_KIND_SHMEM);
	cr_assert_eq(res.offset, 0);
	cr_assert_eq(res.size, 3 * r.pg);
	cr_assert_eq(res.prot, PROT_READ | PROT_WRITE);
	cr_assert_eq(res.mmap_flags, MAP_SHARED);

	/* Shared memory indeed: two mappings of it see each other. */
	a = result_mmap(&res);
	b = result_mmap(&res);
	a[r.pg / 4] = 0xfeedf00d;
	cr_assert_eq(b[r.pg / 4], 0xfeedf00d);
	munmap(a, res.size);
	munmap(b, res.size);
	engine_result_close(&res);
	rig_close(&r);
}

/*
 * A read-only shared grant is handed out as a read-only open of the
 * memfd (session-map.c): the inode must be owner-only, so that its
 * holder, another user, cannot open it again for writing.
 */
Test(engine, shmem_read_only)
{
	struct rig r;
	struct map_request req;
	struct map_result res;
	struct stat st;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	probe.script = do_shmem;
	req = req_make(&r.dev, 0, r.pg, MAP_DESC_SHARED, MAP_CACHE_DEFAULT);
	MAP_OK(&r.eng, &req, &res);
	cr_assert_eq(res.prot, PROT_READ);
	cr_assert_eq(shmem_seals(res.fd),
	    F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
	cr_assert_eq(fstat(res.fd, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600, "mode %04o",
	    (unsigned)(st.st_mode & 07777));
	engine_result_close(&res);
	rig_close(&r);
}

Test(engine, complete_shmem_fresh_per_request)
{
	struct rig r;
	struct map_request req;
	struct map_result ra, rb;
	struct stat sa, sb;
	uint32_t *a, *b;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	probe.script = do_shmem;
	req = req_make(&r.dev, 0, r.pg, RW, MAP_CACHE_DEFAULT);
	MAP_OK(&r.eng, &req, &ra);
	MAP_OK(&r.eng, &req, &rb);
	cr_assert_eq(fstat(ra.fd, &sa), 0);
	cr_assert_eq(fstat(rb.fd, &sb), 0);
	cr_assert_neq(sa.st_ino, sb.st_ino);
	a = result_mmap(&ra);
	b = result_mmap(&rb);
	a[0] = 0xdeadbeef;
	cr_assert_eq(b[0], 0);
	munmap(a, ra.size);
	munmap(b, rb.size);
	engine_result_close(&ra);
	engine_result_close(&rb);
	rig_close(&r);
}

Test(engine, complete_nothing_hands_over_the_device)
{
	struct rig r;
	struct map_request req;
	struct map_result res;
	void *p;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	req = req_make(&r.dev, 9 * r.pg, 2 * r.pg, RW, MAP_CACHE_DEFAULT);
	MAP_OK(&r.eng, &req, &res);
	cr_assert_eq(res.kind, MAP_KIND_DEVICE);
	cr_assert_neq(res.fd, r.dev.fd[MAP_CACHE_CACHED]);
	cr_assert(fd_same_description(res.fd, r.dev.fd[MAP_CACHE_CACHED]));
	cr_assert_not(fd_has_sync(res.fd));
	cr_assert_eq(res.cache, MAP_CACHE_CACHED);
	cr_assert_eq(res.offset, 9 * r.pg);
	cr_assert_eq(res.size, 2 * r.pg);
	cr_assert_eq(res.prot, PROT_READ | PROT_WRITE);
	cr_assert_eq(res.mmap_flags, MAP_SHARED);
	p = result_mmap(&res);
	pattern_write(p, res.offset, res.size);
	munmap(p, res.size);
	pattern_expect(r.standin, 9 * r.pg, 2 * r.pg);
	engine_result_close(&res);
	rig_close(&r);
}

/*
 * Only a shared writable grant carries a writable open of the device:
 * read-only and private ones get a read-only open, which mmap(2) will not
 * map shared and writable.
 */
Test(engine, complete_device_fd_access_follows_the_grant)
{
	static const struct {
		unsigned int flags;
		int accmode;
	} cases[] = {
		{ MAP_DESC_SHARED | MAP_DESC_WRITE, O_RDWR },
		{ MAP_DESC_SHARED, O_RDONLY },
		{ MAP_DESC_WRITE, O_RDONLY },
		{ 0, O_RDONLY },
	};
	struct rig r;
	struct map_request req;
	struct map_result res;
	unsigned int i;
	void *p;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		req = req_make(&r.dev, 0, r.pg, cases[i].flags,
		    MAP_CACHE_DEFAULT);
		MAP_OK(&r.eng, &req, &res);
		cr_assert_eq(fd_accmode(res.fd), cases[i].accmode,
		    "flags %#x", cases[i].flags);
		p = mmap(NULL, r.pg, PROT_READ | PROT_WRITE, MAP_SHARED,
		    res.fd, 0);
		if (cases[i].accmode == O_RDONLY) {
			cr_assert_eq(p, MAP_FAILED, "flags %#x", cases[i].flags);
			cr_assert_eq(errno, EACCES);
		} else {
			cr_assert_neq(p, MAP_FAILED);
			munmap(p, r.pg);
		}
		engine_result_close(&res);
	}
	rig_close(&r);
}

/* Anonymous and shared memory are ordinary cached RAM. */
Test(engine, memory_is_cached_only)
{
	static const enum map_cache modes[] = {
		MAP_CACHE_UNCACHED, MAP_CACHE_WC,
	};
	struct rig r;
	struct map_request req;
	struct map_result res;
	unsigned int i;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	for (i = 0; i < 2; i++) {
		probe.script = do_shmem;
		req = req_make(&r.dev, 0, r.pg, RW, modes[i]);
		MAP_ERR(&r.eng, &req, -EINVAL);
		probe.script = do_anon;
		req = req_make(&r.dev, 0, r.pg, RW, modes[i]);
		MAP_ERR(&r.eng, &req, -EINVAL);
	}
	probe.script = do_shmem;
	req = req_make(&r.dev, 0, r.pg, RW, MAP_CACHE_CACHED);
	MAP_OK(&r.eng, &req, &res);
	cr_assert_eq(res.cache, MAP_CACHE_CACHED);
	engine_result_close(&res);
	rig_close(&r);
}

Test(engine, complete_nothing_uncached)
{
	struct rig r;
	struct map_request req;
	struct map_result res;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	req = req_make(&r.dev, 0, r.pg, RW, MAP_CACHE_UNCACHED);
	MAP_OK(&r.eng, &req, &res);
	cr_assert(fd_same_description(res.fd, r.dev.fd[MAP_CACHE_UNCACHED]));
	cr_assert(fd_has_sync(res.fd));
	cr_assert_eq(res.cache, MAP_CACHE_UNCACHED);
	engine_result_close(&res);

	/* And the driver's choice counts over the request's. */
	probe.script = do_cache;
	probe.cache = MAP_CACHE_CACHED;
	MAP_OK(&r.eng, &req, &res);
	cr_assert_not(fd_has_sync(res.fd));
	cr_assert_eq(res.cache, MAP_CACHE_CACHED);
	engine_result_close(&res);
	rig_close(&r);
}

Test(engine, complete_prot_and_flags)
{
	static const struct {
		unsigned int flags;
		int prot, mmap_flags;
	} cases[] = {
		{ 0, PROT_READ, MAP_PRIVATE },
		{ MAP_DESC_WRITE, PROT_READ | PROT_WRITE, MAP_PRIVATE },
		{ MAP_DESC_SHARED, PROT_READ, MAP_SHARED },
		{ RW, PROT_READ | PROT_WRITE, MAP_SHARED },
	};
	struct rig r;
	struct map_request req;
	struct map_result res;
	size_t i;
	void *p;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		req = req_make(&r.dev, 0, r.pg, cases[i].flags,
		    MAP_CACHE_DEFAULT);
		MAP_OK(&r.eng, &req, &res);
		cr_assert_eq(res.prot, cases[i].prot, "flags %#x",
		    cases[i].flags);
		cr_assert_eq(res.mmap_flags, cases[i].mmap_flags,
		    "flags %#x", cases[i].flags);
		p = result_mmap(&res);
		munmap(p, res.size);
		engine_result_close(&res);
	}
	rig_close(&r);
}

/* The remap's own range, not the request's, is what is handed over. */
Test(engine, complete_remap_full)
{
	struct rig r;
	struct map_request req;
	struct map_result res;
	void *p;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	probe.script = do_remap_full;
	req = req_make(&r.dev, 1024 * r.pg, 8 * r.pg, RW,
	    MAP_CACHE_UNCACHED);
	MAP_OK(&r.eng, &req, &res);
	cr_assert_eq(res.kind, MAP_KIND_DEVICE);
	cr_assert(fd_same_description(res.fd, r.dev.fd[MAP_CACHE_UNCACHED]));
	cr_assert(fd_has_sync(res.fd));
	cr_assert_eq(res.offset, 1024 * r.pg);
	cr_assert_eq(res.size, 8 * r.pg);
	cr_assert_eq(res.mmap_flags, MAP_SHARED);
	p = result_mmap(&res);
	pattern_write(p, res.offset, res.size);
	munmap(p, res.size);
	pattern_expect(r.standin, 1024 * r.pg, 8 * r.pg);
	engine_result_close(&res);
	rig_close(&r);
}

Test(engine, cache_snapshot_uncached_wins)
{
	struct rig r;
	struct map_request req;
	struct map_result res;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	probe.script = do_snapshot;
	probe.cache = MAP_CACHE_UNCACHED;
	req = req_make(&r.dev, 0, r.pg, RW, MAP_CACHE_DEFAULT);
	MAP_OK(&r.eng, &req, &res);
	cr_assert(fd_has_sync(res.fd), "the cache set after the remap won");
	cr_assert(fd_same_description(res.fd, r.dev.fd[MAP_CACHE_UNCACHED]));
	engine_result_close(&res);
	rig_close(&r);
}

Test(engine, cache_snapshot_cached_wins)
{
	struct rig r;
	struct map_request req;
	struct map_result res;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	probe.script = do_snapshot;
	probe.cache = MAP_CACHE_CACHED;
	req = req_make(&r.dev, 0, r.pg, RW, MAP_CACHE_DEFAULT);
	MAP_OK(&r.eng, &req, &res);
	cr_assert_not(fd_has_sync(res.fd),
	    "the cache set after the remap won");
	cr_assert(fd_same_description(res.fd, r.dev.fd[MAP_CACHE_CACHED]));
	engine_result_close(&res);
	rig_close(&r);
}

/*
 * Complete-step failures, for real: a write-sealed memfd refuses a
 * shared writable mmap with EPERM, which the core's probe mmap meets.
 */
Test(engine, complete_failure_raw_without_filter)
{
	struct rig r;
	struct map_request req;
	struct map_result res;

	rig_open_sealed(&r, O_RDWR, BOTH_CACHES, F_SEAL_WRITE);
	probe.script = do_remap_full;
	probe.filter = 0;
	req = req_make(&r.dev, 0, 2 * r.pg, RW, MAP_CACHE_DEFAULT);
	MAP_ERR(&r.eng, &req, -EPERM);

	/* The same without write access maps: the seal was the reason. */
	req.flags = MAP_DESC_SHARED;
	MAP_OK(&r.eng, &req, &res);
	engine_result_close(&res);
	rig_close(&r);
}

Test(engine, complete_failure_filtered)
{
	struct rig r;
	struct map_request req;

	rig_open_sealed(&r, O_RDWR, BOTH_CACHES, F_SEAL_WRITE);
	probe.script = do_remap_full;
	req = req_make(&r.dev, 0, 2 * r.pg, RW, MAP_CACHE_DEFAULT);
	probe.filter = -EAGAIN;
	MAP_ERR_FILTERED(&r.eng, &req, -EAGAIN, -EPERM);
	/* Whatever the value, it replaces the raw error. */
	probe.filter = -ENOSPC;
	MAP_ERR_FILTERED(&r.eng, &req, -ENOSPC, -EPERM);
	probe.filter = -4095;
	MAP_ERR_FILTERED(&r.eng, &req, -4095, -EPERM);
	probe.filter = -1;
	MAP_ERR_FILTERED(&r.eng, &req, -1, -EPERM);
	rig_close(&r);
}

/* NOTHING on a device is checked with the kernel too. */
Test(engine, complete_failure_nothing)
{
	struct rig r;
	struct map_request req;

	rig_open_sealed(&r, O_RDWR, BOTH_CACHES, F_SEAL_WRITE);
	probe.script = do_cache;
	probe.cache = MAP_CACHE_DEFAULT;
	req = req_make(&r.dev, 0, r.pg, RW, MAP_CACHE_DEFAULT);
	MAP_ERR(&r.eng, &req, -EPERM);
	probe.filter = -EAGAIN;
	MAP_ERR_FILTERED(&r.eng, &req, -EAGAIN, -EPERM);
	rig_close(&r);
}

/* A prepare error stays itself even when the driver set a filter. */
Test(engine, prepare_error_not_filtered_on_sealed_device)
{
	struct rig r;
	struct map_request req;

	rig_open_sealed(&r, O_RDWR, BOTH_CACHES, F_SEAL_WRITE);
	probe.script = do_fail;
	probe.filter = -EAGAIN;
	probe.ret = -EBUSY;
	req = req_make(&r.dev, 0, r.pg, RW, MAP_CACHE_DEFAULT);
	MAP_ERR(&r.eng, &req, -EBUSY);
	rig_close(&r);
}

/*
 * A SHMEM object that cannot be sized: RLIMIT_FSIZE below the request
 * makes ftruncate() fail with EFBIG (SIGXFSZ ignored).  Criterion runs
 * each test in a process of its own, so the limit dies with it.
 */
static void
limit_file_size(rlim_t max)
{
	struct rlimit rl;
	int fd;

	cr_assert_eq(getrlimit(RLIMIT_FSIZE, &rl), 0);
	rl.rlim_cur = max;
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	signal(SIGXFSZ, SIG_IGN);
	/* The premise, checked: a memfd cannot grow past it now. */
	fd = memfd_create("fsize-check", MFD_CLOEXEC);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, (off_t)max + 1), -1);
	cr_assert_eq(errno, EFBIG);
	close(fd);
}

Test(engine, complete_shmem_failure_raw)
{
	struct rig r;
	struct map_request req;
	struct map_result res;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	limit_file_size(4 * r.pg);
	probe.script = do_shmem;
	req = req_make(&r.dev, 0, 8 * r.pg, RW, MAP_CACHE_DEFAULT);
	MAP_ERR(&r.eng, &req, -EFBIG);
	/* Within the limit it works: the size was the reason. */
	req.size = 4 * r.pg;
	MAP_OK(&r.eng, &req, &res);
	engine_result_close(&res);
	rig_close(&r);
}

Test(engine, complete_shmem_failure_filtered)
{
	struct rig r;
	struct map_request req;

	rig_open(&r, O_RDWR, BOTH_CACHES);
	limit_file_size(4 * r.pg);
	probe.script = do_shmem;
	probe.filter = -EAGAIN;
	req = req_make(&r.dev, 0, 8 * r.pg, RW, MAP_CACHE_DEFAULT);
	MAP_ERR_FILTERED(&r.eng, &req, -EAGAIN, -EFBIG);
	rig_close(&r);
}
