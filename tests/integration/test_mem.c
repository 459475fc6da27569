/*
 * mem and regions of it through a real mmapd, on the test seam of the
 * foundation issue: [mem] path names a sparse 8 GiB regular file in the
 * test's folder standing in for /dev/mem (these machines' kernels have
 * no /dev/mem), and iomem names a recorded table, iomem-q35.txt (a QEMU
 * q35 guest: the edu device's BAR0 at 0xfe900000, 1 MiB, no driver;
 * System RAM 0x00100000-0x1ffdffff).  What a mapping writes lands in the
 * file at the physical address, where pread finds it.  The real
 * /dev/mem is proved in a VM by a later issue.
 *
 * The filtered path: [mem] path = a FIFO, which opens (O_RDWR) like a
 * device but refuses mmap (ENODEV) when the engine probes the range; the
 * driver's error_filter turns that into EAGAIN for the client.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

#define KIB		1024ull
#define MIB		(1024ull * 1024)
#define STANDIN_SIZE	(8ull << 30)

/* In iomem-q35.txt. */
#define EDU_BAR0	0xfe900000ull	/* 1 MiB, no driver */
#define RAM_HIGH	0x10000000ull	/* inside System RAM 00100000-1ffdffff */
#define AHCI_ABAR	0xfea01000ull	/* claimed by ahci */

TestSuite(mem, .fini = h_cleanup, .timeout = 30);

/* A config with [mem] on the stand-in, and whatever follows. */
static const char *
mem_conf(const char *devpath, const char *more)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf),
	    "[daemon]\nsocket_mode = 0666\n\n"
	    "[zero]\nusers = *\n\n"
	    "# A seam: a regular file stands in for /dev/mem.\n"
	    "[mem]\npath = %s\niomem = %s\nusers = root\nraw_fd_users = root\nmax_size = 1M\n"
	    "shared = yes\nprotection = rw\n\n%s",
	    devpath, h_data("iomem-q35.txt"), more ? more : "");
	return buf;
}

static const char *
standin(void)
{
	return h_sparse("devmem", STANDIN_SIZE);
}

static uint32_t
pread32(const char *path, uint64_t off)
{
	uint32_t v = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	cr_assert(fd >= 0, "open %s: %s", path, strerror(errno));
	cr_assert_eq(pread(fd, &v, sizeof(v), (off_t)off), (ssize_t)sizeof(v),
	    "pread %s at %#llx", path, (unsigned long long)off);
	close(fd);
	return v;
}

/* Write words through a device mapping, as device memory must be. */
static void
poke_words(void *addr, size_t n, uint32_t seed)
{
	volatile uint32_t *w = addr;
	size_t i;

	for (i = 0; i < n / 4; i++)
		w[i] = seed ^ (uint32_t)(i * 2654435761u);
}

static void
check_file_words(const char *path, uint64_t off, size_t n, uint32_t seed)
{
	size_t i;

	for (i = 0; i < n / 4; i += 97)
		cr_assert_eq(pread32(path, off + i * 4),
		    seed ^ (uint32_t)(i * 2654435761u),
		    "word %zu at %#llx is not what the mapping wrote", i,
		    (unsigned long long)(off + i * 4));
}

Test(mem, bar_write_reaches_the_device)
{
	struct mmapclient_request req = {
		.device = "mem", .offset = EDU_BAR0, .size = 4 * KIB,
		.flags = MMAPCLIENT_SHARED | MMAPCLIENT_WRITE,
	};
	struct mmapclient_region *r = NULL;
	struct mmapclient *c;
	const char *dev = standin();
	int err, rfd = -1, fd;
	Reply *rep;

	h_start(mem_conf(dev, NULL));
	h_log_expect("mem: ", "opened");
	c = h_connect();
	err = mmapclient_map(c, &req, &r);
	cr_assert_eq(err, 0, "map mem at %#llx: %s (%s)", EDU_BAR0,
	    strerror(-err), mmapclient_error(c));
	cr_assert_eq(r->kind, MMAPCLIENT_KIND_DEVICE);
	cr_assert_eq(r->mmap_flags, MAP_SHARED);
	cr_assert_eq(r->prot, PROT_READ | PROT_WRITE);
	cr_assert_eq(r->size, 4 * KIB);
	/* [mem] names no cache mode: /dev/mem's default is uncached. */
	cr_assert_eq(r->cache, MMAPCLIENT_CACHE_UNCACHED);

	poke_words(r->addr, r->size, 0xc0ffee00);
	check_file_words(dev, EDU_BAR0, r->size, 0xc0ffee00);
	cr_assert_eq(pread32(dev, EDU_BAR0 - 4), 0, "written before the range");
	cr_assert_eq(pread32(dev, EDU_BAR0 + 4 * KIB), 0,
	    "written past the range");
	h_log_expect("audit: event=grant", "device=mem ", "kind=device",
	    "cache=uncached", "offset=4270850048 ");
	cr_assert_eq(mmapclient_release(c, r), 0);
	mmapclient_close(c);

	/* The grant itself, as the wire has it. */
	fd = raw_connect();
	raw_hello(fd);
	rep = raw_map(fd, 2, "mem", EDU_BAR0 + 0x2000, 0x2000, 1, 1, NULL,
	    &rfd);
	cr_assert_eq(rep->error, 0, "%d %s", rep->error, rep->message);
	cr_assert_eq(rep->body_case, MMAPD__V1__REPLY__BODY_GRANT);
	cr_assert_eq(rep->grant->mmap_offset, EDU_BAR0 + 0x2000);
	cr_assert_eq(rep->grant->size, 0x2000);
	cr_assert_eq(rep->grant->fd_kind, MMAPD__V1__FD_KIND__FD_KIND_DEVICE);
	cr_assert_eq(rep->grant->cache,
	    MMAPD__V1__CACHE_MODE__CACHE_UNCACHED);
	cr_assert(rfd >= 0);
	/* uncached is an O_SYNC open of the device. */
	cr_assert(fcntl(rfd, F_GETFL) & O_SYNC, "the fd is not O_SYNC");
	close(rfd);
	reply_free(rep);
	close(fd);
	h_stop();
}

Test(mem, system_ram_eperm)
{
	struct mmapclient_request ram = {
		.device = "mem", .offset = RAM_HIGH, .size = 4 * KIB,
		.flags = MMAPCLIENT_SHARED | MMAPCLIENT_WRITE,
	};
	struct mmapclient_request busy = ram, bar = ram;
	struct mmapclient_region *r = NULL;
	struct mmapclient *c;
	int err;

	h_start(mem_conf(standin(), NULL));
	c = h_connect();
	err = mmapclient_map(c, &ram, &r);
	cr_assert_eq(err, -EPERM, "System RAM: %d (%s)", err,
	    mmapclient_error(c));
	cr_expect(strstr(mmapclient_error(c), "System RAM") != NULL, "%s",
	    mmapclient_error(c));
	h_log_expect("audit: event=deny", "device=mem ", "offset=268435456 ",
	    "errno=EPERM ");

	/* A driver's claim is refused too, naming the claimant. */
	busy.offset = AHCI_ABAR;
	err = mmapclient_map(c, &busy, &r);
	cr_assert_eq(err, -EBUSY, "ahci: %d (%s)", err, mmapclient_error(c));
	cr_expect(strstr(mmapclient_error(c), "'ahci'") != NULL, "%s",
	    mmapclient_error(c));
	h_log_expect("audit: event=deny", "device=mem ", "errno=EBUSY ");

	/* And the daemon goes on. */
	bar.offset = EDU_BAR0;
	err = mmapclient_map(c, &bar, &r);
	cr_assert_eq(err, 0, "%s", mmapclient_error(c));
	cr_assert_eq(mmapclient_release(c, r), 0);
	mmapclient_close(c);
	h_stop();
}

/* The kernel refuses the probe (ENODEV on a FIFO); the client sees EAGAIN. */
Test(mem, kernel_refusal_filtered_to_eagain)
{
	struct mmapclient_request req = {
		.device = "mem", .offset = EDU_BAR0, .size = 4 * KIB,
		.flags = MMAPCLIENT_SHARED | MMAPCLIENT_WRITE,
	};
	struct mmapclient_request zero = { .device = "zero", .size = 4 * KIB };
	struct mmapclient_region *r = NULL;
	struct mmapclient *c;
	const char *fifo = h_path("fifo");
	int err, fds;

	cr_assert_eq(mkfifo(fifo, 0600), 0, "mkfifo: %s", strerror(errno));
	h_start(mem_conf(fifo, NULL));
	h_log_expect("mem: ", "opened");
	c = h_connect();
	cr_assert_eq(h_clients_wait_on(c, 1), 1);
	fds = h_fds();
	err = mmapclient_map(c, &req, &r);
	cr_assert_eq(err, -EAGAIN, "map on a FIFO: %d %s (%s)", err,
	    strerror(-err), mmapclient_error(c));
	cr_assert_null(r);
	/* The log keeps what the kernel said before the filter. */
	h_log_expect("audit: event=deny", "device=mem ",
	    "errno=EAGAIN raw_errno=ENODEV ",
	    "msg=\"the kernel refused to map the device range\"");
	/* Nothing made for the refused grant stays open. */
	cr_assert_eq(h_fds(), fds);
	cr_assert_eq(h_status_leases(), 0);

	err = mmapclient_map(c, &zero, &r);
	cr_assert_eq(err, 0, "%s", mmapclient_error(c));
	cr_assert_eq(mmapclient_release(c, r), 0);
	mmapclient_close(c);
	h_stop();
}

#define EDU_REGION \
	"[region edu]\ndevice = mem\nbase = 0xfe900000\nsize = 1M\n" \
	"users = root\nraw_fd_users = root\nprotection = rw\nshared = yes\n"

/* Offsets in a region are within it: 0x1000 in edu is 0xfe901000. */
Test(mem, region_offset_is_within_the_region)
{
	struct mmapclient_request req = {
		.device = "edu", .offset = 0x1000, .size = 4 * KIB,
		.flags = MMAPCLIENT_SHARED | MMAPCLIENT_WRITE,
	};
	struct mmapclient_region *r = NULL;
	struct mmapclient_lease *l = NULL;
	struct mmapclient *c;
	const char *dev = standin();
	size_t n = 0;
	int err;

	h_start(mem_conf(dev, EDU_REGION));
	c = h_connect();
	err = mmapclient_map(c, &req, &r);
	cr_assert_eq(err, 0, "map edu+0x1000: %s (%s)", strerror(-err),
	    mmapclient_error(c));
	cr_assert_eq(r->kind, MMAPCLIENT_KIND_DEVICE);
	poke_words(r->addr, r->size, 0x5eed0001);
	check_file_words(dev, EDU_BAR0 + 0x1000, r->size, 0x5eed0001);
	cr_assert_eq(pread32(dev, 0x1000), 0, "the offset was taken as "
	    "physical");

	cr_assert_eq(mmapclient_list(c, &l, &n), 0);
	cr_assert_eq(n, 1);
	cr_expect_str_eq(l[0].device, "edu");
	cr_expect_eq(l[0].size, 4 * KIB);
	mmapclient_leases_free(l);
	h_log_expect("audit: event=grant", "device=edu ", "kind=device");

	cr_assert_eq(mmapclient_release(c, r), 0);
	mmapclient_close(c);
	h_stop();
}

Test(mem, region_range_outside_einval)
{
	static const struct { uint64_t offset, size; } bad[] = {
		{ 1 * MIB, 4 * KIB },			/* just past the end */
		{ 1 * MIB - 4 * KIB, 8 * KIB },		/* straddles the end */
		{ 0xfffffffffffff000ull, 0x2000 },	/* offset + size wraps */
		{ (uint64_t)0 - EDU_BAR0, 4 * KIB },	/* base + offset wraps to 0 */
	};
	struct mmapclient_region *r = NULL;
	struct mmapclient *c;
	size_t i;
	int err;

	h_start(mem_conf(standin(), EDU_REGION));
	c = h_connect();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mmapclient_request req = {
			.device = "edu", .offset = bad[i].offset,
			.size = bad[i].size,
			.flags = MMAPCLIENT_SHARED | MMAPCLIENT_WRITE,
		};

		err = mmapclient_map(c, &req, &r);
		cr_assert_eq(err, -EINVAL, "edu offset %#llx size %#llx: %d "
		    "(%s)", (unsigned long long)bad[i].offset,
		    (unsigned long long)bad[i].size, err,
		    err ? mmapclient_error(c) : "granted");
	}
	cr_assert_eq(h_log_count("audit: event=deny", "device=edu ",
	    "errno=EINVAL "), 4);
	cr_assert_eq(h_status_leases(), 0);
	mmapclient_close(c);
	h_stop();
}

/*
 * offset + size past 2^64 on mem: the engine's do_mmap() check answers,
 * EOVERFLOW as the kernel gives it; [mem] has no range for the policy
 * to check.  Nothing is granted.
 */
Test(mem, offset_size_wrap_eoverflow)
{
	struct mmapclient_request req = {
		.device = "mem", .offset = 0xfffffffffffff000ull,
		.size = 0x2000, .flags = MMAPCLIENT_SHARED | MMAPCLIENT_WRITE,
	};
	struct mmapclient_region *r = NULL;
	struct mmapclient *c;
	int err;

	h_start(mem_conf(standin(), NULL));
	c = h_connect();
	err = mmapclient_map(c, &req, &r);
	cr_assert_eq(err, -EOVERFLOW, "mem offset 2^64-4K size 8K: %d (%s)",
	    err, err ? mmapclient_error(c) : "granted");
	h_log_expect("audit: event=deny", "device=mem ", "errno=EOVERFLOW ");
	cr_assert_eq(h_status_leases(), 0);
	mmapclient_close(c);
	h_stop();
}

/* With no [mem] working, mem and its regions are withdrawn, zero stays. */
Test(mem, unopenable_device_withdraws_mem)
{
	struct mmapclient_request req = {
		.device = "mem", .offset = EDU_BAR0, .size = 4 * KIB,
	};
	struct mmapclient_request zero = { .device = "zero", .size = 4 * KIB };
	struct mmapclient_status *st = NULL;
	struct mmapclient_region *r = NULL;
	struct mmapclient *c;
	size_t i;
	int err;

	h_start(mem_conf(h_path("no-such-device"), EDU_REGION));
	h_log_expect("mem: cannot open");
	c = h_connect();
	err = mmapclient_map(c, &req, &r);
	cr_assert_eq(err, -ENODEV, "%d (%s)", err, mmapclient_error(c));
	req.device = "edu";
	req.offset = 0;
	err = mmapclient_map(c, &req, &r);
	cr_assert_eq(err, -ENODEV, "%d (%s)", err, mmapclient_error(c));
	cr_assert_eq(mmapclient_status(c, &st), 0);
	for (i = 0; i < st->n_offers; i++)
		cr_expect(strcmp(st->offers[i].name, "zero") == 0,
		    "%s offered without its device", st->offers[i].name);
	mmapclient_status_free(st);
	err = mmapclient_map(c, &zero, &r);
	cr_assert_eq(err, 0, "%s", mmapclient_error(c));
	cr_assert_eq(mmapclient_release(c, r), 0);
	mmapclient_close(c);
	h_stop();
}

/*
 * Cache modes on mem: cached is a plain open, uncached an O_SYNC one,
 * write-combine cannot be had from /dev/mem (EINVAL).
 */
Test(mem, cache_modes)
{
	static const struct {
		Mmapd__V1__CacheMode ask, got;
		int sync;
	} ok[] = {
		{ MMAPD__V1__CACHE_MODE__CACHE_DEFAULT,
		  MMAPD__V1__CACHE_MODE__CACHE_UNCACHED, 1 },
		{ MMAPD__V1__CACHE_MODE__CACHE_UNCACHED,
		  MMAPD__V1__CACHE_MODE__CACHE_UNCACHED, 1 },
	};
	Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Map m = MMAPD__V1__MAP__INIT;
	Reply *rep;
	size_t i;
	int fd, rfd;

	h_start(mem_conf(standin(), NULL));
	fd = raw_connect();
	raw_hello(fd);
	m.device = (char *)"mem";
	m.offset = EDU_BAR0;
	m.size = 4096;
	m.shared = 1;
	m.region = (char *)"";
	req.body_case = MMAPD__V1__REQUEST__BODY_MAP;
	req.map = &m;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		m.cache = ok[i].ask;
		req.request_id = 10 + i;
		rep = raw_call(fd, &req, &rfd);
		cr_assert_eq(rep->error, 0, "cache %d: %d (%s)", ok[i].ask,
		    rep->error, rep->message);
		cr_assert_eq(rep->grant->cache, ok[i].got, "asked %d, got %d",
		    ok[i].ask, rep->grant->cache);
		cr_assert_eq(!!(fcntl(rfd, F_GETFL) & O_SYNC), ok[i].sync,
		    "cache %d: O_SYNC is %s", ok[i].ask,
		    ok[i].sync ? "missing" : "set");
		close(rfd);
		reply_free(rep);
	}
	m.cache = MMAPD__V1__CACHE_MODE__CACHE_WC;
	req.request_id = 20;
	rep = raw_call(fd, &req, NULL);
	cr_assert_eq(rep->error, EINVAL, "write-combine on mem: %d (%s)",
	    rep->error, rep->message);
	reply_free(rep);
	/* Cached device memory only where the entry names it: not here. */
	m.cache = MMAPD__V1__CACHE_MODE__CACHE_CACHED;
	req.request_id = 21;
	rep = raw_call(fd, &req, NULL);
	cr_assert_eq(rep->error, EINVAL, "cached on mem: %d (%s)",
	    rep->error, rep->message);
	cr_expect(strstr(rep->message, "cache = cached") != NULL, "%s",
	    rep->message);
	reply_free(rep);
	close(fd);
	h_stop();
}

/*
 * protection = r: a read-only grant's fd cannot be mapped writable.  The
 * client is hostile here (the raw protocol, not libmmapclient): it keeps
 * the fd and asks mmap for PROT_WRITE itself.
 */
Test(mem, read_only_grant_cannot_be_mapped_writable)
{
	Reply *rep;
	void *p;
	int fd, rfd = -1, acc;

	h_start(mem_conf(standin(), EDU_REGION
	    "\n[region ro]\ndevice = mem\nbase = 0xfe800000\nsize = 1M\n"
	    "users = root\nraw_fd_users = root\nshared = yes\n"));
	fd = raw_connect();
	raw_hello(fd);
	rep = raw_map(fd, 2, "ro", 0, 4096, 1, 0, NULL, &rfd);
	cr_assert_eq(rep->error, 0, "%d (%s)", rep->error, rep->message);
	cr_assert_eq(rep->grant->prot, PROT_READ);
	reply_free(rep);
	acc = fcntl(rfd, F_GETFL) & O_ACCMODE;
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, rfd, 0xfe800000);
	if (p != MAP_FAILED)
		munmap(p, 4096);
	close(rfd);
	close(fd);
	cr_expect_eq(acc, O_RDONLY, "a read-only grant of [region ro] "
	    "(protection = r) came with an fd open %s",
	    acc == O_RDWR ? "O_RDWR" : "for writing");
	cr_assert_eq(p, MAP_FAILED, "a read-only grant of [region ro] "
	    "(protection = r) could be mapped PROT_WRITE, MAP_SHARED");
	h_stop();
}

/* mmapctl on device memory: the grant, and no read or write of it. */
Test(mem, ctl_map_device)
{
	struct ctl r;

	h_start(mem_conf(standin(), EDU_REGION));
	ctl_run(&r, CTL_ROOT, "map", "--dev", "edu", "--offset", "0x1000",
	    "--size", "4K", "--shared");
	cr_assert_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.out, "4096 bytes of edu") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "kind device") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "cache uncached") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "not read or written") != NULL, "%s", r.out);
	ctl_free(&r);

	ctl_run(&r, CTL_ROOT, "map", "--dev", "mem", "--offset", "0x10000000",
	    "--size", "4K", "--shared");
	cr_assert_eq(r.status, 1, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.err, "EPERM") != NULL, "%s", r.err);
	cr_expect(strstr(r.err, "System RAM") != NULL, "%s", r.err);
	ctl_free(&r);
	h_stop();
}

/*
 * A region's defaults: shared no, protection r, max_size its size.  The
 * policy's order: users, size, shared, write, cache, range.
 */
Test(mem, region_defaults)
{
	struct mmapclient_request req = {
		.device = "plain", .offset = 0, .size = MIB,
	};
	struct mmapclient_region *r = NULL;
	struct mmapclient *c;
	int err;

	h_start(mem_conf(standin(), "[region plain]\ndevice = mem\n"
	    "base = 0xfe900000\nsize = 1M\nusers = root\nraw_fd_users = root\n"));
	c = h_connect();
	req.flags = MMAPCLIENT_SHARED | MMAPCLIENT_WRITE;
	err = mmapclient_map(c, &req, &r);
	cr_assert_eq(err, -EPERM, "shared: %d (%s)", err, mmapclient_error(c));
	req.flags = MMAPCLIENT_WRITE;
	err = mmapclient_map(c, &req, &r);
	cr_assert_eq(err, -EACCES, "write: %d (%s)", err, mmapclient_error(c));
	req.flags = 0;
	req.size = MIB + 4 * KIB;
	err = mmapclient_map(c, &req, &r);
	cr_assert_eq(err, -EFBIG, "over its size: %d (%s)", err,
	    mmapclient_error(c));
	req.size = MIB;
	err = mmapclient_map(c, &req, &r);
	cr_assert_eq(err, 0, "private, read-only, whole: %s",
	    mmapclient_error(c));
	cr_assert_eq(r->prot, PROT_READ);
	cr_assert_eq(r->mmap_flags, MAP_PRIVATE);
	cr_assert_eq(r->kind, MMAPCLIENT_KIND_DEVICE);
	cr_assert_eq(mmapclient_release(c, r), 0);
	mmapclient_close(c);
	h_stop();
}

/*
 * A Map of mem hands out /dev/mem itself: only to whom raw_fd_users
 * names.  Without it the Map is refused before any fd exists, and the
 * client holds no new descriptor.
 */
Test(mem, raw_fd_needs_policy)
{
	struct mmapclient_request req = {
		.device = "noraw", .offset = 0, .size = 4 * KIB,
		.flags = MMAPCLIENT_SHARED,
	};
	struct mmapclient_region *r = NULL;
	struct mmapclient *c;
	int err, before;

	h_start(mem_conf(standin(), "[region noraw]\ndevice = mem\n"
	    "base = 0xfe900000\nsize = 1M\nusers = root\nshared = yes\n"));
	c = h_connect();
	before = h_self_fds();
	err = mmapclient_map(c, &req, &r);
	cr_assert_eq(err, -EPERM, "no raw_fd_users: %d (%s)", err,
	    mmapclient_error(c));
	cr_assert_null(r);
	cr_expect(strstr(mmapclient_error(c), "raw_fd_users") != NULL, "%s",
	    mmapclient_error(c));
	cr_expect_eq(h_self_fds(), before, "a refused Map left an fd here");
	h_log_expect("audit: event=deny", "device=noraw ", "errno=EPERM ",
	    "raw_fd_users");
	cr_expect_eq(h_log_count("event=raw-fd"), 0);

	/* [mem] says raw_fd_users = root: the grant is logged as such. */
	req.device = "mem";
	req.offset = EDU_BAR0;
	err = mmapclient_map(c, &req, &r);
	cr_assert_eq(err, 0, "%s", mmapclient_error(c));
	cr_expect_eq(r->kind, MMAPCLIENT_KIND_DEVICE);
	h_log_expect("event=raw-fd", "root-equivalent");
	/* A stand-in file is not /dev/mem: the start-up check says so. */
	h_log_expect("is not /dev/mem (char 1:1)");
	cr_assert_eq(mmapclient_release(c, r), 0);
	mmapclient_close(c);
	h_stop();
}

/* raw_fd_users names users; others allowed the region still are not given it. */
Test(mem, raw_fd_only_for_named_users)
{
	struct ctl r;

	ctl_need_nobody();
	h_start(mem_conf(standin(), "[region edu]\ndevice = mem\n"
	    "base = 0xfe900000\nsize = 1M\nusers = root, nobody\n"
	    "raw_fd_users = root\nshared = yes\n"));
	ctl_run(&r, CTL_NOBODY, "map", "--dev", "edu", "--size", "4096",
	    "--read-only", "--shared");
	cr_expect_eq(r.status, 1, "nobody got a raw fd: %s%s", r.out, r.err);
	cr_expect(strstr(r.err, "EPERM") != NULL ||
	    strstr(r.err, "not permitted") != NULL, "%s", r.err);
	ctl_free(&r);
	ctl_run(&r, CTL_ROOT, "map", "--dev", "edu", "--size", "4096",
	    "--read-only", "--shared");
	cr_expect_eq(r.status, 0, "root: %s%s", r.out, r.err);
	ctl_free(&r);
	h_stop();
}

/*
 * A shared-memory name goes with zero only: on mem, where the client may
 * map the range, the name is refused (EINVAL), not ignored nor turned
 * into a memfd of that name; and nothing is leased.
 */
Test(mem, region_name_on_mem_einval)
{
	int fd, rfd = -1;
	Reply *rep;

	h_start(mem_conf(standin(), NULL));
	fd = raw_connect();
	raw_hello(fd);
	/* The same Map without the name is granted: only the name differs. */
	rep = raw_map(fd, 1, "mem", EDU_BAR0, 4 * KIB, 1, 1, NULL, &rfd);
	cr_assert_eq(rep->error, 0, "%d %s", rep->error, rep->message);
	close(rfd);
	reply_free(rep);
	rfd = -1;
	rep = raw_map(fd, 2, "mem", EDU_BAR0, 4 * KIB, 1, 1, "cam0", &rfd);
	if (rep->error == 0)
		close(rfd);
	cr_assert_eq(rep->error, EINVAL, "Map of mem named cam0: errno %d "
	    "(%s), wanted EINVAL", rep->error,
	    rep->message ? rep->message : "granted");
	cr_assert(rep->message && strstr(rep->message,
	    "goes with a shared zero mapping only"), "%s", rep->message);
	reply_free(rep);
	h_log_expect("audit: event=deny", "device=mem ", "errno=EINVAL");
	close(fd);
	cr_assert_eq(h_leases_wait(0), 0);
	h_stop();
}

/* A raw Map of mem at the edu BAR must be refused EPERM, naming why. */
static void
raw_map_refused_lax(int fd, uint64_t id)
{
	Reply *rep;
	int rfd = -1;

	rep = raw_map(fd, id, "mem", EDU_BAR0, 4 * KIB, 1, 1, NULL, &rfd);
	if (rep->error == 0)
		close(rfd);
	cr_assert_eq(rep->error, EPERM, "raw Map of mem on a lax kernel: "
	    "errno %d (%s), wanted EPERM", rep->error,
	    rep->message ? rep->message : "granted");
	cr_expect(rep->message && strstr(rep->message, "STRICT_DEVMEM"),
	    "%s", rep->message);
	reply_free(rep);
}

/*
 * The fail-safe: when the start-up probe finds the kernel lets System
 * RAM through /dev/mem (no STRICT_DEVMEM), or cannot tell, no raw fd
 * goes out, whatever raw_fd_users says; Read still works.  The seam
 * MMAPD_TEST_DEVMEM_PROBE=1 runs the probe on the stand-in: a file,
 * on which the RAM page maps (the lax kernel), and a FIFO, which
 * refuses the mmap with ENODEV (cannot tell).  Without the seam the
 * same configuration grants (raw_fd_needs_policy).
 */
Test(mem, lax_kernel_no_raw_fd)
{
	const char *fifo = h_path("fifo");
	Reply *rep;
	int fd;

	h_next_env("MMAPD_TEST_DEVMEM_PROBE", "1");
	h_start(mem_conf(standin(), NULL));
	h_log_expect("a test seam", "MMAPD_TEST_DEVMEM_PROBE");
	h_log_expect("the kernel maps System RAM at 0x", "no STRICT_DEVMEM",
	    "never handed out");
	fd = raw_connect();
	raw_hello(fd);
	raw_map_refused_lax(fd, 1);
	rep = raw_read(fd, 2, "mem", EDU_BAR0, 32);
	cr_expect_eq(rep->error, 0, "Read of mem on a lax kernel: errno %d: "
	    "%s", rep->error, rep->message);
	reply_free(rep);
	h_log_expect("audit: event=deny", "device=mem ", "errno=EPERM");
	cr_expect_eq(h_log_count("event=raw-fd"), 0);
	close(fd);
	h_stop();

	cr_assert_eq(mkfifo(fifo, 0600), 0, "mkfifo: %s", strerror(errno));
	h_next_env("MMAPD_TEST_DEVMEM_PROBE", "1");
	h_start(mem_conf(fifo, NULL));
	h_log_expect("cannot tell whether the kernel enforces STRICT_DEVMEM",
	    "never handed out");
	fd = raw_connect();
	raw_hello(fd);
	raw_map_refused_lax(fd, 3);
	close(fd);
	h_stop();
}
