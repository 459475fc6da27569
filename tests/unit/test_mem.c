#include "config.h"

/*
 * The mem driver, the userspace mmap_mem_prepare(): the kernel's checks
 * in the kernel's order (shared/reference/kernel-mmap-prepare.md §3.2),
 * the /proc/iomem pre-check in place of range_is_allowed(), the cache
 * mode, then a full-range REMAP with error_filter -EAGAIN.
 *
 * /dev/mem is played by a memfd: the build machines have no /dev/mem
 * (CONFIG_DEVMEM is off).  It is a seam: mem_device_open() reopens it
 * through /proc/self/fd/N with and without O_SYNC just as it opens
 * /dev/mem, and pread on it shows what a mapping wrote where.  The real
 * /dev/mem is proved in a VM in a later issue.  The resource table is a
 * fixture (see test_iomem.c for which is recorded and which written).
 */

#include <sys/mman.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "engine.h"
#include "devices.h"
#include "helpers.h"

#define RW		(MAP_DESC_SHARED | MAP_DESC_WRITE)
#define MIB		(1ull << 20)

/* In iomem-q35.txt. */
#define EDU_BAR0	0xfe900000ull	/* 1 MiB, no driver */
#define IVSHMEM_BAR2	0xfe800000ull	/* 1 MiB, no driver */
#define AHCI_ABAR	0xfea01000ull	/* claimed by ahci */
#define LAPIC		0xfee00000ull
#define RAM_LOW		0x00001000ull	/* System RAM below 1 MiB */
#define RAM_HIGH	0x10000000ull	/* System RAM 00100000-1ffdffff */
#define HIGH_WINDOW	0x100000000ull	/* 64-bit PCI window, empty */
#define TOP_RESERVED	0xfffff000ull	/* top page, Reserved */

struct mrig {
	int nfd;
	struct map_engine eng;
	int standin;
	char path[64];
	char iomem[4096];
	struct mem_params params;
	struct mem_device mem;
	int extra_fd;		/* a table the test wrote, or -1 */
	uint64_t pg;
};

/* Default parameters; a test changes what it needs before mrig_open(). */
static void
mrig_init(struct mrig *r)
{
	memset(r, 0, sizeof(*r));
	r->pg = map_page_size();
	r->nfd = fd_count();
	engine_open_zero(&r->eng);
	r->standin = standin_open(r->path, sizeof(r->path));
	r->extra_fd = -1;
	data_path(r->iomem, sizeof(r->iomem), "iomem-q35.txt");
	r->params.path = r->path;
	r->params.iomem_path = r->iomem;
	r->params.access = O_RDWR;
	r->params.cache = MAP_CACHE_DEFAULT;
	r->params.addr_bits = 64;
	r->params.phys_bits = 39;
}

static void
mrig_open(struct mrig *r)
{
	int rc;

	rc = mem_device_open(&r->mem, &r->params);
	cr_assert_eq(rc, 0, "mem_device_open: %d", rc);
}

static void
mrig_close(struct mrig *r)
{
	mem_device_close(&r->mem);
	if (r->extra_fd != -1)
		close(r->extra_fd);
	close(r->standin);
	engine_close(&r->eng);
	cr_assert_eq(fd_count(), r->nfd, "fds leaked: %d open, %d before",
	    fd_count(), r->nfd);
	cr_assert_eq(maps_count("devmem-standin"), 0,
	    "a probe mapping was left behind");
}

/* Reopen with other parameters, keeping the stand-in. */
static void
mrig_reopen(struct mrig *r)
{
	mem_device_close(&r->mem);
	mrig_open(r);
}

static struct map_request
req_make(const struct mrig *r, uint64_t offset, uint64_t size,
    unsigned int flags, enum map_cache cache)
{
	struct map_request req;

	memset(&req, 0, sizeof(req));
	req.dev = &r->mem.dev;
	req.offset = offset;
	req.size = size;
	req.flags = flags;
	req.cache = cache;
	req.peer.uid = 1000;
	req.peer.gid = 100;
	req.peer.pid = 4242;
	return req;
}

/* Map, expect this errno, keep the message (a copy: it outlives res). */
static char *
mem_err_flags(struct mrig *r, uint64_t offset, uint64_t size,
    unsigned int flags, enum map_cache cache, int err)
{
	struct map_request req;
	const char *msg;
	char *copy;

	req = req_make(r, offset, size, flags, cache);
	msg = MAP_ERR(&r->eng, &req, err);
	cr_assert_str_neq(msg, "", "an empty message");
	copy = strdup(msg);
	cr_assert_not_null(copy);
	return copy;
}

static char *
mem_err(struct mrig *r, uint64_t offset, uint64_t size, enum map_cache cache,
    int err)
{
	return mem_err_flags(r, offset, size, RW, cache, err);
}

/*
 * A range a driver or the kernel claimed: -EBUSY, and the message names
 * the claimant and its range, which is what the client can act on.
 */
static void
mem_busy(struct mrig *r, uint64_t offset, uint64_t size, unsigned int flags,
    enum map_cache cache, const char *who, const char *range)
{
	char *msg;

	msg = mem_err_flags(r, offset, size, flags, cache, -EBUSY);
	cr_assert_not_null(strstr(msg, who), "'%s' does not name %s", msg,
	    who);
	cr_assert_not_null(strstr(msg, range), "'%s' does not give %s", msg,
	    range);
	free(msg);
}

static void
mem_ok(struct mrig *r, uint64_t offset, uint64_t size, enum map_cache cache)
{
	struct map_request req;
	struct map_result res;

	req = req_make(r, offset, size, RW, cache);
	MAP_OK(&r->eng, &req, &res);
	engine_result_close(&res);
}

Test(mem, open_close)
{
	struct mrig r;

	mrig_init(&r);
	mrig_open(&r);
	/*
	 * A read-write and a read-only open per cache mode it offers, and
	 * the table.
	 */
	cr_assert_eq(fd_count(), r.nfd + 2 + 5);
	cr_assert_eq(r.mem.dev.driver, &mem_driver);
	cr_assert_eq(r.mem.dev.access, O_RDWR);
	cr_assert_geq(r.mem.dev.fd[MAP_CACHE_CACHED], 0);
	cr_assert_geq(r.mem.dev.fd[MAP_CACHE_UNCACHED], 0);
	cr_assert_eq(r.mem.dev.fd[MAP_CACHE_WC], -1);
	cr_assert_not(fd_has_sync(r.mem.dev.fd[MAP_CACHE_CACHED]));
	cr_assert(fd_has_sync(r.mem.dev.fd[MAP_CACHE_UNCACHED]));
	cr_assert(fd_same_inode(r.mem.dev.fd[MAP_CACHE_CACHED], r.standin));
	cr_assert_geq(r.mem.iomem_fd, 0);
	mrig_close(&r);
}

Test(mem, open_missing_device)
{
	struct mrig r;
	struct mem_device mem;
	int nfd;

	mrig_init(&r);
	nfd = fd_count();
	r.params.path = "/nonexistent/mem";
	cr_assert_lt(mem_device_open(&mem, &r.params), 0);
	cr_assert_eq(fd_count(), nfd);
	close(r.standin);
	engine_close(&r.eng);
	cr_assert_eq(fd_count(), r.nfd);
}

Test(mem, open_missing_table)
{
	struct mrig r;
	struct mem_device mem;
	int nfd;

	mrig_init(&r);
	nfd = fd_count();
	r.params.iomem_path = "/nonexistent/iomem";
	cr_assert_lt(mem_device_open(&mem, &r.params), 0);
	cr_assert_eq(fd_count(), nfd);
	close(r.standin);
	engine_close(&r.eng);
	cr_assert_eq(fd_count(), r.nfd);
}

/*
 * The whole way: uncached by default, and the fd maps the very range
 * asked for: a pattern written through it is read back from the device
 * at the same offset.
 */
Test(mem, map_uncached_by_default)
{
	struct mrig r;
	struct map_request req;
	struct map_result res;
	void *p;

	mrig_init(&r);
	mrig_open(&r);
	req = req_make(&r, EDU_BAR0, MIB, RW, MAP_CACHE_DEFAULT);
	MAP_OK(&r.eng, &req, &res);
	cr_assert_eq(res.kind, MAP_KIND_DEVICE);
	cr_assert(fd_same_inode(res.fd, r.standin));
	cr_assert(fd_has_sync(res.fd));
	cr_assert_eq(res.cache, MAP_CACHE_UNCACHED);
	cr_assert_eq(res.offset, EDU_BAR0);
	cr_assert_eq(res.size, MIB);
	cr_assert_eq(res.prot, PROT_READ | PROT_WRITE);
	cr_assert_eq(res.mmap_flags, MAP_SHARED);
	p = result_mmap(&res);
	pattern_write(p, res.offset, res.size);
	munmap(p, res.size);
	pattern_expect(r.standin, EDU_BAR0, MIB);
	/* And nothing landed next to it. */
	zero_expect(r.standin, EDU_BAR0 - r.pg, r.pg);
	zero_expect(r.standin, EDU_BAR0 + MIB, r.pg);
	engine_result_close(&res);
	mrig_close(&r);
}

Test(mem, map_part_of_a_bar)
{
	struct mrig r;
	struct map_request req;
	struct map_result res;
	void *p;

	mrig_init(&r);
	mrig_open(&r);
	req = req_make(&r, IVSHMEM_BAR2 + 4 * r.pg, 3 * r.pg - 1, RW,
	    MAP_CACHE_DEFAULT);
	MAP_OK(&r.eng, &req, &res);
	cr_assert_eq(res.offset, IVSHMEM_BAR2 + 4 * r.pg);
	cr_assert_eq(res.size, 3 * r.pg);
	p = result_mmap(&res);
	pattern_write(p, res.offset, res.size);
	munmap(p, res.size);
	pattern_expect(r.standin, IVSHMEM_BAR2 + 4 * r.pg, 3 * r.pg);
	engine_result_close(&res);
	mrig_close(&r);
}

Test(mem, map_cached_by_device)
{
	struct mrig r;
	struct map_request req;
	struct map_result res;

	mrig_init(&r);
	r.params.cache = MAP_CACHE_CACHED;
	mrig_open(&r);
	req = req_make(&r, EDU_BAR0, r.pg, RW, MAP_CACHE_DEFAULT);
	MAP_OK(&r.eng, &req, &res);
	cr_assert_not(fd_has_sync(res.fd));
	cr_assert_eq(res.cache, MAP_CACHE_CACHED);
	engine_result_close(&res);

	/* The request's own choice still counts. */
	req.cache = MAP_CACHE_UNCACHED;
	MAP_OK(&r.eng, &req, &res);
	cr_assert(fd_has_sync(res.fd));
	cr_assert_eq(res.cache, MAP_CACHE_UNCACHED);
	engine_result_close(&res);
	mrig_close(&r);
}

Test(mem, map_cached_by_request)
{
	struct mrig r;
	struct map_request req;
	struct map_result res;
	void *p;

	mrig_init(&r);
	mrig_open(&r);
	req = req_make(&r, EDU_BAR0, 2 * r.pg, RW, MAP_CACHE_CACHED);
	MAP_OK(&r.eng, &req, &res);
	cr_assert_not(fd_has_sync(res.fd));
	cr_assert_eq(res.cache, MAP_CACHE_CACHED);
	p = result_mmap(&res);
	pattern_write(p, res.offset, res.size);
	munmap(p, res.size);
	pattern_expect(r.standin, EDU_BAR0, 2 * r.pg);
	engine_result_close(&res);
	mrig_close(&r);
}

/*
 * Check 4a, the daemon's own: MAP_PRIVATE of /dev/mem is allowed on MMU
 * systems, but written it is
 * copy-on-write: the stores would land in private pages and never reach
 * the device.  The daemon refuses that; read-only, private still maps.
 */
Test(mem, map_private)
{
	struct mrig r;
	struct map_request req;
	struct map_result res;
	volatile uint32_t *p;
	char *msg;
	uint32_t word = 0x12345678;

	mrig_init(&r);
	mrig_open(&r);
	msg = mem_err_flags(&r, EDU_BAR0, 4 * r.pg, MAP_DESC_WRITE,
	    MAP_CACHE_DEFAULT, -EINVAL);
	cr_assert_not_null(strstr(msg, "copy-on-write"), "%s", msg);
	free(msg);

	/* The device holds a word; a private read-only map sees it. */
	cr_assert_eq(pwrite(r.standin, &word, sizeof(word),
	    (off_t)(EDU_BAR0 + r.pg + 8)), (ssize_t)sizeof(word));
	req = req_make(&r, EDU_BAR0, 4 * r.pg, 0, MAP_CACHE_DEFAULT);
	MAP_OK(&r.eng, &req, &res);
	cr_assert_eq(res.kind, MAP_KIND_DEVICE);
	cr_assert_eq(res.mmap_flags, MAP_PRIVATE);
	cr_assert_eq(res.prot, PROT_READ);
	cr_assert_eq(res.offset, EDU_BAR0);
	cr_assert_eq(res.size, 4 * r.pg);
	/* Nothing that does not write shared carries a writable fd. */
	cr_assert_eq(fd_accmode(res.fd), O_RDONLY);
	p = result_mmap(&res);
	cr_assert_eq(p[(r.pg + 8) / 4], word);
	munmap((void *)p, res.size);
	engine_result_close(&res);
	mrig_close(&r);
}

Test(mem, read_only_device)
{
	struct mrig r;
	struct map_request req;
	struct map_result res;

	mrig_init(&r);
	r.params.access = O_RDONLY;
	mrig_open(&r);
	cr_assert_eq(fd_accmode(r.mem.dev.fd[MAP_CACHE_CACHED]), O_RDONLY);
	req = req_make(&r, EDU_BAR0, r.pg, RW, MAP_CACHE_DEFAULT);
	MAP_ERR(&r.eng, &req, -EACCES);
	req.flags = MAP_DESC_SHARED;
	MAP_OK(&r.eng, &req, &res);
	cr_assert_eq(res.kind, MAP_KIND_DEVICE);
	cr_assert_eq(res.mmap_flags, MAP_PRIVATE);
	cr_assert_eq(res.prot, PROT_READ);
	engine_result_close(&res);
	mrig_close(&r);
}

/* Check 1: the offset must fit a phys_addr_t of addr_bits. */
Test(mem, offset_does_not_fit)
{
	struct mrig r;

	mrig_init(&r);
	r.params.addr_bits = 32;
	mrig_open(&r);
	free(mem_err(&r, HIGH_WINDOW, r.pg, MAP_CACHE_DEFAULT, -EINVAL));
	free(mem_err(&r, -r.pg * 2, r.pg, MAP_CACHE_DEFAULT, -EINVAL));
	/* The same range with a 64-bit phys_addr_t maps. */
	r.params.addr_bits = 64;
	mrig_reopen(&r);
	mem_ok(&r, HIGH_WINDOW, r.pg, MAP_CACHE_DEFAULT);
	/* 0 means 64. */
	r.params.addr_bits = 0;
	mrig_reopen(&r);
	mem_ok(&r, HIGH_WINDOW, r.pg, MAP_CACHE_DEFAULT);
	mrig_close(&r);
}

/* Check 2: the range must not wrap the physical address space. */
Test(mem, range_wraps)
{
	struct mrig r;

	mrig_init(&r);
	r.params.addr_bits = 32;
	mrig_open(&r);
	free(mem_err(&r, TOP_RESERVED, 2 * r.pg, MAP_CACHE_DEFAULT, -EINVAL));
	/* Its last page alone is fine. */
	mem_ok(&r, TOP_RESERVED, r.pg, MAP_CACHE_DEFAULT);
	mrig_close(&r);
}

/* Check 3: valid_mmap_phys_addr_range(): the last byte must decode. */
Test(mem, beyond_phys_bits)
{
	struct mrig r;

	mrig_init(&r);
	r.params.phys_bits = 32;
	mrig_open(&r);
	free(mem_err(&r, TOP_RESERVED, 2 * r.pg, MAP_CACHE_DEFAULT, -EINVAL));
	free(mem_err(&r, HIGH_WINDOW, r.pg, MAP_CACHE_DEFAULT, -EINVAL));
	mem_ok(&r, TOP_RESERVED, r.pg, MAP_CACHE_DEFAULT);

	r.params.phys_bits = 33;
	mrig_reopen(&r);
	mem_ok(&r, HIGH_WINDOW, r.pg, MAP_CACHE_DEFAULT);
	mem_ok(&r, (1ull << 33) - r.pg, r.pg, MAP_CACHE_DEFAULT);
	free(mem_err(&r, (1ull << 33) - r.pg, 2 * r.pg, MAP_CACHE_DEFAULT,
	    -EINVAL));
	mrig_close(&r);
}

/* phys_bits 0: what this CPU reports in /proc/cpuinfo. */
Test(mem, phys_bits_from_cpuinfo)
{
	struct mrig r;
	char *info, *p;
	unsigned int bits;

	info = file_slurp("/proc/cpuinfo", NULL);
	p = strstr(info, "address sizes\t: ");
	if (p == NULL || sscanf(p, "address sizes\t: %u bits physical",
	    &bits) != 1) {
		free(info);
		cr_skip_test("no address sizes in /proc/cpuinfo");
	}
	free(info);
	cr_assert(bits > 33 && bits < 63, "%u physical bits?", bits);

	mrig_init(&r);
	r.params.phys_bits = 0;
	mrig_open(&r);
	/* Past the stand-in's end: mmap allows it, only access would fault. */
	mem_ok(&r, (1ull << bits) - r.pg, r.pg, MAP_CACHE_DEFAULT);
	free(mem_err(&r, 1ull << bits, r.pg, MAP_CACHE_DEFAULT, -EINVAL));
	mrig_close(&r);
}

/* Check 4: range_is_allowed(), from the resource table. */
Test(mem, not_allowed_by_iomem)
{
	struct mrig r;

	mrig_init(&r);
	mrig_open(&r);
	/* System RAM is the kernel's EPERM. */
	free(mem_err(&r, RAM_HIGH, r.pg, MAP_CACHE_DEFAULT, -EPERM));
	free(mem_err(&r, 0xff000, 2 * r.pg, MAP_CACHE_DEFAULT, -EPERM));
	/* A claimed range is busy, and the message says who holds it. */
	mem_busy(&r, LAPIC, r.pg, RW, MAP_CACHE_DEFAULT, "Local APIC",
	    "0xfee00000-0xfee00fff");
	mem_busy(&r, AHCI_ABAR, r.pg, RW, MAP_CACHE_DEFAULT, "ahci",
	    "0xfea01000-0xfea01fff");
	mem_busy(&r, 0xb0000000, r.pg, RW, MAP_CACHE_DEFAULT,
	    "PCI MMCONFIG 0000 [bus 00-ff]", "0xb0000000-0xbfffffff");
	/* Read-only asks change nothing. */
	mem_busy(&r, AHCI_ABAR, r.pg, MAP_DESC_SHARED, MAP_CACHE_DEFAULT,
	    "ahci", "0xfea01000-0xfea01fff");
	/* Below 1 MiB, RAM included, is allowed. */
	mem_ok(&r, RAM_LOW, r.pg, MAP_CACHE_DEFAULT);
	mem_ok(&r, 0, MIB, MAP_CACHE_DEFAULT);
	mrig_close(&r);
}

/* Check 5: a cache mode the device was not opened for. */
Test(mem, cache_not_offered)
{
	struct mrig r;

	mrig_init(&r);
	mrig_open(&r);
	free(mem_err(&r, EDU_BAR0, r.pg, MAP_CACHE_WC, -EINVAL));
	mem_ok(&r, EDU_BAR0, r.pg, MAP_CACHE_DEFAULT);
	mrig_close(&r);
}

/*
 * The -EINVAL checks tell themselves apart by their messages: each
 * non-empty, no two alike.  The order tests below lean on this.
 */
struct msgs {
	char *fit, *wrap, *phys, *perm, *busy, *cow, *cache;
};

static void
msgs_collect(struct mrig *r, struct msgs *m)
{
	r->params.addr_bits = 32;
	r->params.phys_bits = 39;
	mrig_reopen(r);
	m->fit = mem_err(r, HIGH_WINDOW, r->pg, MAP_CACHE_DEFAULT, -EINVAL);
	m->wrap = mem_err(r, TOP_RESERVED, 2 * r->pg, MAP_CACHE_DEFAULT,
	    -EINVAL);
	r->params.addr_bits = 64;
	r->params.phys_bits = 32;
	mrig_reopen(r);
	m->phys = mem_err(r, TOP_RESERVED, 2 * r->pg, MAP_CACHE_DEFAULT,
	    -EINVAL);
	r->params.phys_bits = 39;
	mrig_reopen(r);
	m->perm = mem_err(r, RAM_HIGH, r->pg, MAP_CACHE_DEFAULT, -EPERM);
	m->busy = mem_err(r, LAPIC, r->pg, MAP_CACHE_DEFAULT, -EBUSY);
	m->cow = mem_err_flags(r, EDU_BAR0, r->pg, MAP_DESC_WRITE,
	    MAP_CACHE_DEFAULT, -EINVAL);
	m->cache = mem_err(r, EDU_BAR0, r->pg, MAP_CACHE_WC, -EINVAL);
}

static void
msgs_free(struct msgs *m)
{
	free(m->fit);
	free(m->wrap);
	free(m->phys);
	free(m->perm);
	free(m->busy);
	free(m->cow);
	free(m->cache);
}

Test(mem, messages_differ)
{
	struct mrig r;
	struct msgs m;
	char *all[7];
	size_t i, j;

	mrig_init(&r);
	mrig_open(&r);
	msgs_collect(&r, &m);
	all[0] = m.fit;
	all[1] = m.wrap;
	all[2] = m.phys;
	all[3] = m.perm;
	all[4] = m.busy;
	all[5] = m.cow;
	all[6] = m.cache;
	for (i = 0; i < 7; i++)
		for (j = i + 1; j < 7; j++)
			cr_assert_str_neq(all[i], all[j],
			    "checks %zu and %zu say the same: %s", i + 1,
			    j + 1, all[i]);
	msgs_free(&m);
	mrig_close(&r);
}

/* Fails 1 and 3: the offset check comes first. */
Test(mem, order_fit_before_phys)
{
	struct mrig r;
	struct msgs m;
	char *msg;

	mrig_init(&r);
	mrig_open(&r);
	msgs_collect(&r, &m);
	r.params.addr_bits = 32;
	r.params.phys_bits = 32;
	mrig_reopen(&r);
	msg = mem_err(&r, HIGH_WINDOW, r.pg, MAP_CACHE_DEFAULT, -EINVAL);
	cr_assert_str_eq(msg, m.fit);
	free(msg);
	msgs_free(&m);
	mrig_close(&r);
}

/*
 * Fails 1 and 4: the host's table has RAM above 4 GiB, which a 32-bit
 * phys_addr_t cannot reach.
 */
Test(mem, order_fit_before_iomem)
{
	struct mrig r;
	struct msgs m;
	char *msg;

	mrig_init(&r);
	mrig_open(&r);
	msgs_collect(&r, &m);
	data_path(r.iomem, sizeof(r.iomem), "iomem-host.txt");
	r.params.addr_bits = 64;
	mrig_reopen(&r);
	/* The premise: this table refuses that range. */
	free(mem_err(&r, HIGH_WINDOW, r.pg, MAP_CACHE_DEFAULT, -EPERM));
	r.params.addr_bits = 32;
	mrig_reopen(&r);
	msg = mem_err(&r, HIGH_WINDOW, r.pg, MAP_CACHE_DEFAULT, -EINVAL);
	cr_assert_str_eq(msg, m.fit);
	free(msg);
	msgs_free(&m);
	mrig_close(&r);
}

/* Fails 2 and 4: RAM at the top of a 32-bit space, and wrapping. */
Test(mem, order_wrap_before_iomem)
{
	static const char top_ram[] =
	    "00001000-0009fbff : System RAM\n"
	    "00100000-1fffffff : System RAM\n"
	    "fff00000-ffffffff : System RAM\n";
	struct mrig r;
	struct msgs m;
	char *msg;

	mrig_init(&r);
	mrig_open(&r);
	msgs_collect(&r, &m);
	r.extra_fd = text_memfd(top_ram, r.iomem, sizeof(r.iomem));
	r.params.addr_bits = 64;
	mrig_reopen(&r);
	/* The premise: this table refuses that range. */
	free(mem_err(&r, TOP_RESERVED, r.pg, MAP_CACHE_DEFAULT, -EPERM));
	r.params.addr_bits = 32;
	mrig_reopen(&r);
	msg = mem_err(&r, TOP_RESERVED, 2 * r.pg, MAP_CACHE_DEFAULT, -EINVAL);
	cr_assert_str_eq(msg, m.wrap);
	free(msg);
	msgs_free(&m);
	mrig_close(&r);
}

/* Fails 3 and 4: RAM above a 28-bit CPU. */
Test(mem, order_phys_before_iomem)
{
	struct mrig r;
	struct msgs m;
	char *msg;

	mrig_init(&r);
	mrig_open(&r);
	msgs_collect(&r, &m);
	r.params.phys_bits = 28;
	mrig_reopen(&r);
	msg = mem_err(&r, RAM_HIGH, r.pg, MAP_CACHE_DEFAULT, -EINVAL);
	cr_assert_str_eq(msg, m.phys);
	free(msg);
	msgs_free(&m);
	mrig_close(&r);
}

/* Fails 4 and 5: the table refuses before the cache mode is looked at. */
Test(mem, order_iomem_before_cache)
{
	struct mrig r;

	mrig_init(&r);
	mrig_open(&r);
	free(mem_err(&r, RAM_HIGH, r.pg, MAP_CACHE_WC, -EPERM));
	mem_busy(&r, LAPIC, r.pg, RW, MAP_CACHE_WC, "Local APIC",
	    "0xfee00000-0xfee00fff");
	mrig_close(&r);
}

/* Fails 4 and 4a: the table refuses before a private write is judged. */
Test(mem, order_iomem_before_private_write)
{
	struct mrig r;

	mrig_init(&r);
	mrig_open(&r);
	free(mem_err_flags(&r, RAM_HIGH, r.pg, MAP_DESC_WRITE,
	    MAP_CACHE_DEFAULT, -EPERM));
	mem_busy(&r, AHCI_ABAR, r.pg, MAP_DESC_WRITE, MAP_CACHE_DEFAULT,
	    "ahci", "0xfea01000-0xfea01fff");
	mrig_close(&r);
}

/* Fails 4a and 5: a private write is refused before the cache mode. */
Test(mem, order_private_write_before_cache)
{
	struct mrig r;
	struct msgs m;
	char *msg;

	mrig_init(&r);
	mrig_open(&r);
	msgs_collect(&r, &m);
	msg = mem_err_flags(&r, EDU_BAR0, r.pg, MAP_DESC_WRITE, MAP_CACHE_WC,
	    -EINVAL);
	cr_assert_str_eq(msg, m.cow);
	free(msg);
	msgs_free(&m);
	mrig_close(&r);
}

/* Fails 2 and 5, and 3 and 5. */
Test(mem, order_range_before_cache)
{
	struct mrig r;
	struct msgs m;
	char *msg;

	mrig_init(&r);
	mrig_open(&r);
	msgs_collect(&r, &m);
	r.params.addr_bits = 32;
	r.params.phys_bits = 39;
	mrig_reopen(&r);
	msg = mem_err(&r, TOP_RESERVED, 2 * r.pg, MAP_CACHE_WC, -EINVAL);
	cr_assert_str_eq(msg, m.wrap);
	free(msg);
	r.params.addr_bits = 64;
	r.params.phys_bits = 32;
	mrig_reopen(&r);
	msg = mem_err(&r, TOP_RESERVED, 2 * r.pg, MAP_CACHE_WC, -EINVAL);
	cr_assert_str_eq(msg, m.phys);
	free(msg);
	msgs_free(&m);
	mrig_close(&r);
}

/*
 * The remap fails for real when the kernel refuses the mapping: a
 * write-sealed stand-in refuses shared writable mmaps with EPERM, and
 * the driver's error_filter turns that into -EAGAIN, as mem.c does.
 */
Test(mem, remap_failure_filtered)
{
	struct mrig r;
	struct map_request req;
	struct map_result res;

	mrig_init(&r);
	cr_assert_eq(fcntl(r.standin, F_ADD_SEALS, F_SEAL_WRITE), 0);
	mrig_open(&r);
	req = req_make(&r, EDU_BAR0, MIB, RW, MAP_CACHE_DEFAULT);
	MAP_ERR_FILTERED(&r.eng, &req, -EAGAIN, -EPERM);
	/* Read-only, the same range maps: the seal was the reason. */
	req.flags = MAP_DESC_SHARED;
	MAP_OK(&r.eng, &req, &res);
	engine_result_close(&res);
	mrig_close(&r);
}

/* The table is read afresh for every request, from its beginning. */
Test(mem, table_read_per_request)
{
	static const char before[] =
	    "00001000-0009fbff : System RAM\n"
	    "00100000-1fffffff : System RAM\n"
	    "c0000000-febfffff : PCI Bus 0000:00\n"
	    "  fe900000-fe9fffff : 0000:00:01.0\n";
	static const char after[] =
	    "00001000-0009fbff : System RAM\n"
	    "00100000-1fffffff : System RAM\n"
	    "c0000000-febfffff : PCI Bus 0000:00\n"
	    "  fe900000-fe9fffff : 0000:00:01.0\n"
	    "    fe900000-fe9fffff : edu\n";
	struct mrig r;
	int tfd;

	mrig_init(&r);
	tfd = r.extra_fd = text_memfd(before, r.iomem, sizeof(r.iomem));
	mrig_open(&r);
	mem_ok(&r, EDU_BAR0, MIB, MAP_CACHE_DEFAULT);
	mem_ok(&r, EDU_BAR0, MIB, MAP_CACHE_DEFAULT);
	free(mem_err(&r, RAM_HIGH, r.pg, MAP_CACHE_DEFAULT, -EPERM));
	free(mem_err(&r, RAM_HIGH, r.pg, MAP_CACHE_DEFAULT, -EPERM));

	/* A driver binds to the device. */
	cr_assert_eq(ftruncate(tfd, 0), 0);
	cr_assert_eq(pwrite(tfd, after, strlen(after), 0),
	    (ssize_t)strlen(after));
	mem_busy(&r, EDU_BAR0, MIB, RW, MAP_CACHE_DEFAULT, "'edu'",
	    "0xfe900000-0xfe9fffff");
	mem_busy(&r, EDU_BAR0, MIB, RW, MAP_CACHE_DEFAULT, "'edu'",
	    "0xfe900000-0xfe9fffff");
	mrig_close(&r);
}

/*
 * mem_strict_check() asks the kernel whether STRICT_DEVMEM guards RAM,
 * which only /dev/mem (char 1:1) can say.  Anything else is -ENOTTY,
 * before the table or a mapping is looked at; the real /dev/mem is
 * proved in the VM tests.
 */
Test(mem, strict_check_not_devmem)
{
	struct mrig r;
	uint64_t page = 0x5a5a5a5a;

	mrig_init(&r);
	mrig_open(&r);
	/* The stand-in: a regular file. */
	cr_assert_eq(mem_strict_check(&r.mem, &page), -ENOTTY);
	cr_assert_eq(page, 0);
	cr_assert_eq(maps_count("devmem-standin"), 0);

	/* A character device, but not 1:1. */
	r.params.path = "/dev/zero";
	mrig_reopen(&r);
	page = 0x5a5a5a5a;
	cr_assert_eq(mem_strict_check(&r.mem, &page), -ENOTTY);
	cr_assert_eq(page, 0);
	mrig_close(&r);
}

/* Nothing open to ask through: -EBADF, not a guess. */
Test(mem, strict_check_closed)
{
	struct mrig r;
	uint64_t page = 0x5a5a5a5a;

	mrig_init(&r);
	mrig_open(&r);
	mem_device_close(&r.mem);
	cr_assert_eq(mem_strict_check(&r.mem, &page), -EBADF);
	cr_assert_eq(page, 0);
	mrig_close(&r);
}
