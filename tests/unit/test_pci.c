#include "config.h"

/*
 * The pci driver: a BAR through sysfs.  pci_device_open() finds the
 * function (by address, or by vendor:device and index in address order),
 * reads its BAR from D/resource and opens D/resourceN (and resourceN_wc);
 * prepare() confines a Map to the BAR in whole pages, refuses a private
 * writable map, a range a driver claimed (-EBUSY, naming it) and a cache
 * mode the BAR cannot give, then remaps the range with error_filter
 * -EAGAIN.
 *
 * The sysfs tree is a seam: a temporary folder laid out as
 * /sys/bus/pci/devices is, one folder per function named by its address,
 * holding vendor, device and resource as text in the kernel's formats,
 * and resourceN / resourceN_wc as regular files of the BAR's size
 * standing in for the kernel's.  Like the kernel's they can be opened,
 * mmapped at any page of the BAR and read back with pread, which is all
 * the driver does with them.  The real sysfs files, their bounds checks
 * and caching are proved in the VM tests (tests/vm/run.sh).  The resource
 * table for the busy check is iomem-q35.txt (see test_iomem.c), or a
 * table written to a memfd where a test changes it.
 */

#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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

/* The resource file's flags, as the kernel prints them for QEMU's q35. */
#define FL_MEM		0x00040200ull	/* 32-bit memory */
#define FL_MEM_PREF	0x0014220cull	/* 64-bit prefetchable memory */
#define FL_IO		0x00040101ull	/* I/O ports */

/* Lines of D/resource for a function that is not a bridge: BARs, ROM, IOV. */
#define RESOURCE_LINES	13

/* The functions of the fake tree; the BARs match iomem-q35.txt. */
#define EDU		"0000:00:01.0"	/* 1234:11e8, BAR0 1 MiB, no driver */
#define IVSHMEM		"0000:00:02.0"	/* 1af4:1110, BAR0 256 B, BAR2 wc */
#define IVSHMEM2	"0000:00:03.0"	/* 1af4:1110, a second one */
#define AHCI		"0000:00:1f.2"	/* 8086:2922, BAR4 I/O, BAR5 ahci's */

#define EDU_BAR0	0xfe900000ull
#define IVSHMEM_BAR0	0xfea00000ull
#define IVSHMEM_BAR2	0xfe800000ull
#define IVSHMEM2_BAR2	0xfd000000ull
#define AHCI_ABAR	0xfea01000ull

struct fake_bar {
	unsigned int bar;
	uint64_t start, len, flags;
	int wc;			/* a resourceN_wc too */
};

struct prig {
	int nfd;
	struct map_engine eng;
	char root[64];		/* the fake /sys/bus/pci/devices */
	char iomem[4096];
	struct pci_params params;
	struct pci_device pci;
	int opened;
	int extra_fd;		/* a table or sealed BAR the test made, or -1 */
	uint64_t pg;
};

static void
file_put(const char *dir, const char *name, const char *text)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void
file_sized(const char *dir, const char *name, uint64_t size)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(ftruncate(fd, (off_t)size), 0);
	close(fd);
}

/* A function folder as sysfs has it, with these memory or I/O BARs. */
static void
fake_function(struct prig *r, const char *addr, unsigned int vendor,
    unsigned int device, const struct fake_bar *bars, size_t nbars)
{
	char dir[256], text[RESOURCE_LINES * 64], name[32];
	uint64_t start[RESOURCE_LINES] = { 0 }, end[RESOURCE_LINES] = { 0 };
	uint64_t flags[RESOURCE_LINES] = { 0 };
	size_t i, off = 0;

	snprintf(dir, sizeof(dir), "%s/%s", r->root, addr);
	cr_assert_eq(mkdir(dir, 0755), 0, "%s: %s", dir, strerror(errno));
	snprintf(text, sizeof(text), "0x%04x\n", vendor);
	file_put(dir, "vendor", text);
	snprintf(text, sizeof(text), "0x%04x\n", device);
	file_put(dir, "device", text);

	for (i = 0; i < nbars; i++) {
		start[bars[i].bar] = bars[i].start;
		end[bars[i].bar] = bars[i].start + bars[i].len - 1;
		flags[bars[i].bar] = bars[i].flags;
		/* The kernel makes resourceN for memory and I/O BARs alike. */
		snprintf(name, sizeof(name), "resource%u", bars[i].bar);
		file_sized(dir, name, bars[i].len);
		if (bars[i].wc) {
			snprintf(name, sizeof(name), "resource%u_wc",
			    bars[i].bar);
			file_sized(dir, name, bars[i].len);
		}
	}
	/* pci_resource_show()'s format, one line per resource. */
	for (i = 0; i < RESOURCE_LINES; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    "0x%016llx 0x%016llx 0x%016llx\n",
		    (unsigned long long)start[i], (unsigned long long)end[i],
		    (unsigned long long)flags[i]);
	file_put(dir, "resource", text);
}

/* The q35 functions; the second ivshmem first: readdir has no order. */
static void
fake_tree(struct prig *r)
{
	static const struct fake_bar edu[] = {
		{ 0, EDU_BAR0, MIB, FL_MEM, 0 },
	};
	static const struct fake_bar ivshmem[] = {
		{ 0, IVSHMEM_BAR0, 0x100, FL_MEM, 0 },
		{ 2, IVSHMEM_BAR2, MIB, FL_MEM_PREF, 1 },
	};
	static const struct fake_bar ivshmem2[] = {
		{ 0, 0xfea02000, 0x100, FL_MEM, 0 },
		{ 2, IVSHMEM2_BAR2, 2 * MIB, FL_MEM_PREF, 1 },
	};
	static const struct fake_bar ahci[] = {
		{ 4, 0xc040, 0x20, FL_IO, 0 },
		{ 5, AHCI_ABAR, 0x1000, FL_MEM, 0 },
	};

	fake_function(r, IVSHMEM2, 0x1af4, 0x1110, ivshmem2, 2);
	fake_function(r, AHCI, 0x8086, 0x2922, ahci, 2);
	fake_function(r, EDU, 0x1234, 0x11e8, edu, 1);
	fake_function(r, IVSHMEM, 0x1af4, 0x1110, ivshmem, 2);
	/* Not every entry is a function with a vendor: skipped, not fatal. */
	file_put(r->root, "stray", "not a device\n");
}

/* Default parameters; a test changes what it needs before prig_open(). */
static void
prig_init(struct prig *r)
{
	memset(r, 0, sizeof(*r));
	r->pg = map_page_size();
	r->nfd = fd_count();
	r->extra_fd = -1;
	engine_open_zero(&r->eng);
	snprintf(r->root, sizeof(r->root), "/tmp/mmapd-sysfs.XXXXXX");
	cr_assert_not_null(mkdtemp(r->root), "mkdtemp: %s", strerror(errno));
	fake_tree(r);
	data_path(r->iomem, sizeof(r->iomem), "iomem-q35.txt");
	r->params.sysfs = r->root;
	r->params.address = EDU;
	r->params.bar = 0;
	r->params.access = O_RDWR;
	r->params.iomem_path = r->iomem;
}

static void
prig_open(struct prig *r)
{
	const char *why = NULL;
	int rc;

	rc = pci_device_open(&r->pci, &r->params, &why);
	cr_assert_eq(rc, 0, "pci_device_open: %d (%s)", rc,
	    why != NULL ? why : "no reason");
	r->opened = 1;
}

/* An open that must fail: this errno, a reason, nothing left open. */
static const char *
prig_open_err(struct prig *r, int err)
{
	const char *why = NULL;
	int before, rc;

	if (r->opened)
		pci_device_close(&r->pci);
	r->opened = 0;
	before = fd_count();
	rc = pci_device_open(&r->pci, &r->params, &why);
	if (rc == 0)
		pci_device_close(&r->pci);
	cr_assert_eq(rc, err, "pci_device_open: %d (%s), expected %d", rc,
	    why != NULL ? why : "no reason", err);
	cr_assert_not_null(why, "no reason for the log");
	cr_assert_eq(fd_count(), before, "a failed open left fds open");
	return why;
}

static void
prig_reopen(struct prig *r)
{
	if (r->opened)
		pci_device_close(&r->pci);
	r->opened = 0;
	prig_open(r);
}

static int
rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

static void
prig_close(struct prig *r)
{
	if (r->opened)
		pci_device_close(&r->pci);
	if (r->extra_fd != -1)
		close(r->extra_fd);
	engine_close(&r->eng);
	cr_assert_eq(nftw(r->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0,
	    "removing %s: %s", r->root, strerror(errno));
	cr_assert_eq(fd_count(), r->nfd, "fds leaked: %d open, %d before",
	    fd_count(), r->nfd);
	cr_assert_eq(maps_count(r->root), 0, "a probe mapping was left behind");
}

/* An fd of the fake tree's file, to compare against and read back. */
static int
tree_open(const struct prig *r, const char *addr, const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s/%s", r->root, addr, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	return fd;
}

static struct map_request
req_make(const struct prig *r, uint64_t offset, uint64_t size,
    unsigned int flags, enum map_cache cache)
{
	struct map_request req;

	memset(&req, 0, sizeof(req));
	req.dev = &r->pci.dev;
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
pci_err(struct prig *r, uint64_t offset, uint64_t size, unsigned int flags,
    enum map_cache cache, int err)
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

/* pci_err() whose message must hold needle. */
static void
pci_err_says(struct prig *r, uint64_t offset, uint64_t size,
    unsigned int flags, enum map_cache cache, int err, const char *needle)
{
	char *msg;

	msg = pci_err(r, offset, size, flags, cache, err);
	cr_assert_not_null(strstr(msg, needle), "'%s' does not say '%s'", msg,
	    needle);
	free(msg);
}

static void
pci_ok(struct prig *r, uint64_t offset, uint64_t size, unsigned int flags,
    enum map_cache cache, struct map_result *res)
{
	struct map_request req;

	req = req_make(r, offset, size, flags, cache);
	MAP_OK(&r->eng, &req, res);
	cr_assert_eq(res->kind, MAP_KIND_DEVICE);
}

/* ---------------------------------------------------------------------
 * Opening
 * --------------------------------------------------------------------- */

Test(pci, open_by_address)
{
	struct prig r;
	int bar;

	prig_init(&r);
	prig_open(&r);
	bar = tree_open(&r, EDU, "resource0");
	cr_assert_str_eq(r.pci.address, EDU);
	cr_assert_eq(r.pci.dev.driver, &pci_driver);
	cr_assert_eq(r.pci.dev.access, O_RDWR);
	cr_assert_eq(r.pci.bar, 0);
	cr_assert_eq(r.pci.start, EDU_BAR0);
	cr_assert_eq(r.pci.len, MIB);
	cr_assert_eq(r.pci.span, MIB);
	cr_assert_not(r.pci.prefetch);
	/*
	 * The engine's /dev/zero and the test's own resource0, then a
	 * read-write and a read-only open of it, and the table.
	 */
	cr_assert_eq(fd_count(), r.nfd + 2 + 3);
	cr_assert_geq(r.pci.dev.fd[MAP_CACHE_UNCACHED], 0);
	cr_assert_geq(r.pci.dev.fd_ro[MAP_CACHE_UNCACHED], 0);
	cr_assert_eq(r.pci.dev.fd[MAP_CACHE_CACHED], -1);
	cr_assert_eq(r.pci.dev.fd[MAP_CACHE_WC], -1);
	cr_assert_eq(r.pci.dev.fd_ro[MAP_CACHE_WC], -1);
	cr_assert_eq(fd_accmode(r.pci.dev.fd[MAP_CACHE_UNCACHED]), O_RDWR);
	cr_assert_eq(fd_accmode(r.pci.dev.fd_ro[MAP_CACHE_UNCACHED]),
	    O_RDONLY);
	cr_assert(fd_same_inode(r.pci.dev.fd[MAP_CACHE_UNCACHED], bar));
	cr_assert(fd_same_inode(r.pci.dev.fd_ro[MAP_CACHE_UNCACHED], bar));
	cr_assert(fd_cloexec(r.pci.dev.fd[MAP_CACHE_UNCACHED]));
	cr_assert(fd_cloexec(r.pci.dev.fd_ro[MAP_CACHE_UNCACHED]));
	cr_assert_geq(r.pci.iomem_fd, 0);
	cr_assert(fd_cloexec(r.pci.iomem_fd));
	close(bar);

	pci_device_close(&r.pci);
	r.opened = 0;
	cr_assert_eq(fd_count(), r.nfd + 1, "close left fds open");
	cr_assert_eq(r.pci.iomem_fd, -1);
	cr_assert_eq(r.pci.dev.fd[MAP_CACHE_UNCACHED], -1);
	/* Twice is harmless. */
	pci_device_close(&r.pci);
	prig_close(&r);
}

/* vendor:device and index: the index-th such function in address order. */
Test(pci, open_by_id_and_index)
{
	struct prig r;
	int bar;

	prig_init(&r);
	r.params.address = NULL;
	r.params.vendor = 0x1af4;
	r.params.device = 0x1110;
	r.params.bar = 2;
	r.params.index = 0;
	prig_open(&r);
	cr_assert_str_eq(r.pci.address, IVSHMEM);
	cr_assert_eq(r.pci.start, IVSHMEM_BAR2);
	cr_assert_eq(r.pci.len, MIB);
	cr_assert(r.pci.prefetch);
	bar = tree_open(&r, IVSHMEM, "resource2");
	cr_assert(fd_same_inode(r.pci.dev.fd[MAP_CACHE_UNCACHED], bar));
	close(bar);

	r.params.index = 1;
	prig_reopen(&r);
	cr_assert_str_eq(r.pci.address, IVSHMEM2);
	cr_assert_eq(r.pci.start, IVSHMEM2_BAR2);
	cr_assert_eq(r.pci.len, 2 * MIB);
	bar = tree_open(&r, IVSHMEM2, "resource2");
	cr_assert(fd_same_inode(r.pci.dev.fd[MAP_CACHE_UNCACHED], bar));
	close(bar);

	/* The one edu is index 0. */
	r.params.vendor = 0x1234;
	r.params.device = 0x11e8;
	r.params.index = 0;
	r.params.bar = 0;
	prig_reopen(&r);
	cr_assert_str_eq(r.pci.address, EDU);
	prig_close(&r);
}

Test(pci, open_no_such_function)
{
	struct prig r;

	prig_init(&r);
	r.params.address = "0000:00:09.0";
	cr_assert_str_eq(prig_open_err(&r, -ENODEV), "no such PCI device");

	r.params.address = NULL;
	r.params.vendor = 0x1af4;
	r.params.device = 0x1110;
	r.params.index = 2;
	cr_assert_str_eq(prig_open_err(&r, -ENODEV),
	    "no such vendor:device at that index");
	r.params.vendor = 0xdead;
	r.params.device = 0xbeef;
	r.params.index = 0;
	prig_open_err(&r, -ENODEV);
	/* Vendor and device must both match. */
	r.params.vendor = 0x1234;
	r.params.device = 0x1110;
	prig_open_err(&r, -ENODEV);

	/* No tree at all: it cannot be scanned. */
	r.params.sysfs = "/nonexistent/sys/bus/pci/devices";
	r.params.vendor = 0x1234;
	r.params.device = 0x11e8;
	prig_open_err(&r, -ENOENT);
	prig_close(&r);
}

/* An I/O BAR has no memory to map. */
Test(pci, open_io_bar)
{
	struct prig r;

	prig_init(&r);
	r.params.address = AHCI;
	r.params.bar = 4;
	cr_assert_str_eq(prig_open_err(&r, -ENODEV),
	    "the BAR is of I/O ports, not memory");
	/* Its memory BAR is fine. */
	r.params.bar = 5;
	prig_open(&r);
	cr_assert_eq(r.pci.start, AHCI_ABAR);
	prig_close(&r);
}

/* A BAR the function lacks, or that firmware left unassigned: all zeros. */
Test(pci, open_unassigned_bar)
{
	struct prig r;

	prig_init(&r);
	r.params.bar = 1;
	cr_assert_str_eq(prig_open_err(&r, -ENODEV),
	    "the BAR is not assigned");
	r.params.bar = 5;
	prig_open_err(&r, -ENODEV);
	prig_close(&r);
}

/* Every failure after the first open closes what was opened. */
Test(pci, open_failures_close_everything)
{
	struct prig r;
	char path[256];

	prig_init(&r);
	/* The table is opened last, after both resource files. */
	r.params.address = IVSHMEM;
	r.params.bar = 2;
	r.params.iomem_path = "/nonexistent/iomem";
	prig_open_err(&r, -ENOENT);

	/* The resource file missing: the resource line alone is not enough. */
	r.params.iomem_path = r.iomem;
	snprintf(path, sizeof(path), "%s/%s/resource2", r.root, IVSHMEM);
	cr_assert_eq(unlink(path), 0);
	prig_open_err(&r, -ENOENT);

	/* A resource table too short for the BAR asked. */
	snprintf(path, sizeof(path), "%s/%s", r.root, EDU);
	file_put(path, "resource", "0x00000000fe900000 0x00000000fe9fffff "
	    "0x0000000000040200\n");
	r.params.address = EDU;
	r.params.bar = 0;
	prig_open(&r);
	r.params.bar = 3;
	prig_open_err(&r, -EIO);
	prig_close(&r);
}

/* ---------------------------------------------------------------------
 * Mapping
 * --------------------------------------------------------------------- */

/*
 * The whole way: uncached, and the fd maps the very range asked for: a
 * pattern written through it is read back from the BAR's file at the
 * same offset, and nothing landed next to it.
 */
Test(pci, map_inside_bar)
{
	struct prig r;
	struct map_result res;
	void *p;
	int bar;

	prig_init(&r);
	prig_open(&r);
	bar = tree_open(&r, EDU, "resource0");
	pci_ok(&r, 0, MIB, RW, MAP_CACHE_DEFAULT, &res);
	cr_assert(fd_same_inode(res.fd, bar));
	cr_assert_eq(fd_accmode(res.fd), O_RDWR);
	cr_assert_eq(res.cache, MAP_CACHE_UNCACHED);
	cr_assert_eq(res.offset, 0);
	cr_assert_eq(res.size, MIB);
	cr_assert_eq(res.prot, PROT_READ | PROT_WRITE);
	cr_assert_eq(res.mmap_flags, MAP_SHARED);
	p = result_mmap(&res);
	pattern_write(p, res.offset, res.size);
	munmap(p, res.size);
	pattern_expect(bar, 0, MIB);
	engine_result_close(&res);

	/* Part of it, the size rounded up to pages. */
	pci_ok(&r, 4 * r.pg, 3 * r.pg - 1, RW, MAP_CACHE_UNCACHED, &res);
	cr_assert_eq(res.offset, 4 * r.pg);
	cr_assert_eq(res.size, 3 * r.pg);
	cr_assert_eq(res.cache, MAP_CACHE_UNCACHED);
	engine_result_close(&res);

	/* The last page. */
	pci_ok(&r, MIB - r.pg, r.pg, RW, MAP_CACHE_DEFAULT, &res);
	engine_result_close(&res);
	close(bar);
	prig_close(&r);
}

/* The BAR confines the map: offsets are into the BAR, not bus addresses. */
Test(pci, map_outside_bar)
{
	struct prig r;

	prig_init(&r);
	prig_open(&r);
	pci_err_says(&r, MIB, r.pg, RW, MAP_CACHE_DEFAULT, -EINVAL,
	    "outside the BAR");
	pci_err_says(&r, MIB - r.pg, 2 * r.pg, RW, MAP_CACHE_DEFAULT, -EINVAL,
	    "outside the BAR");
	pci_err_says(&r, 0, MIB + 1, RW, MAP_CACHE_DEFAULT, -EINVAL,
	    "outside the BAR");
	pci_err_says(&r, EDU_BAR0, r.pg, RW, MAP_CACHE_DEFAULT, -EINVAL,
	    "outside the BAR");
	/* Read-only asks are no different. */
	pci_err_says(&r, MIB, r.pg, 0, MAP_CACHE_DEFAULT, -EINVAL,
	    "outside the BAR");
	prig_close(&r);
}

/* A BAR smaller than a page maps as the one page the kernel allows. */
Test(pci, map_sub_page_bar)
{
	struct prig r;
	struct map_result res;
	volatile uint32_t *p;
	uint32_t word;
	int bar;

	prig_init(&r);
	r.params.address = IVSHMEM;
	r.params.bar = 0;
	prig_open(&r);
	cr_assert_eq(r.pci.len, 0x100);
	cr_assert_eq(r.pci.span, r.pg);
	bar = tree_open(&r, IVSHMEM, "resource0");
	pci_ok(&r, 0, 0x100, RW, MAP_CACHE_DEFAULT, &res);
	cr_assert_eq(res.offset, 0);
	cr_assert_eq(res.size, r.pg);
	p = result_mmap(&res);
	p[0x40 / 4] = 0xa5a55a5a;
	munmap((void *)p, res.size);
	cr_assert_eq(pread(bar, &word, sizeof(word), 0x40), sizeof(word));
	cr_assert_eq(word, 0xa5a55a5a);
	engine_result_close(&res);

	pci_err_says(&r, r.pg, r.pg, RW, MAP_CACHE_DEFAULT, -EINVAL,
	    "outside the BAR");
	pci_err_says(&r, 0, r.pg + 1, RW, MAP_CACHE_DEFAULT, -EINVAL,
	    "outside the BAR");
	close(bar);
	prig_close(&r);
}

/*
 * Private and writable is copy-on-write: stores would never reach the
 * device.  Private read-only is fine, and gets a read-only fd.
 */
Test(pci, map_private)
{
	struct prig r;
	struct map_result res;
	volatile uint32_t *p;
	uint32_t word = 0x0badcafe;
	char path[256];
	int fd;

	prig_init(&r);
	prig_open(&r);
	pci_err_says(&r, 0, r.pg, MAP_DESC_WRITE, MAP_CACHE_DEFAULT, -EINVAL,
	    "copy-on-write");

	/* The device holds a word; a private read-only map sees it. */
	snprintf(path, sizeof(path), "%s/%s/resource0", r.root, EDU);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(pwrite(fd, &word, sizeof(word), 2 * r.pg + 4),
	    (ssize_t)sizeof(word));
	close(fd);
	pci_ok(&r, 2 * r.pg, r.pg, 0, MAP_CACHE_DEFAULT, &res);
	cr_assert_eq(res.mmap_flags, MAP_PRIVATE);
	cr_assert_eq(res.prot, PROT_READ);
	cr_assert_eq(fd_accmode(res.fd), O_RDONLY);
	p = result_mmap(&res);
	cr_assert_eq(p[1], word);
	munmap((void *)p, res.size);
	engine_result_close(&res);
	prig_close(&r);
}

/* Only what writes shared is handed a writable fd. */
Test(pci, map_read_only_grant)
{
	struct prig r;
	struct map_result res;

	prig_init(&r);
	prig_open(&r);
	pci_ok(&r, 0, r.pg, MAP_DESC_SHARED, MAP_CACHE_DEFAULT, &res);
	cr_assert_eq(res.mmap_flags, MAP_SHARED);
	cr_assert_eq(res.prot, PROT_READ);
	cr_assert_eq(fd_accmode(res.fd), O_RDONLY);
	engine_result_close(&res);
	pci_ok(&r, 0, r.pg, RW, MAP_CACHE_DEFAULT, &res);
	cr_assert_eq(fd_accmode(res.fd), O_RDWR);
	engine_result_close(&res);

	/* A region of protection = r opens the BAR read-only, once. */
	r.params.access = O_RDONLY;
	prig_reopen(&r);
	cr_assert_eq(fd_count(), r.nfd + 1 + 2);
	cr_assert_eq(r.pci.dev.fd_ro[MAP_CACHE_UNCACHED], -1);
	cr_assert_eq(fd_accmode(r.pci.dev.fd[MAP_CACHE_UNCACHED]), O_RDONLY);
	free(pci_err(&r, 0, r.pg, RW, MAP_CACHE_DEFAULT, -EACCES));
	pci_ok(&r, 0, r.pg, MAP_DESC_SHARED, MAP_CACHE_DEFAULT, &res);
	cr_assert_eq(res.mmap_flags, MAP_PRIVATE);
	cr_assert_eq(res.prot, PROT_READ);
	cr_assert_eq(fd_accmode(res.fd), O_RDONLY);
	engine_result_close(&res);
	prig_close(&r);
}

/* Write-combine where the kernel made resourceN_wc, and nowhere else. */
Test(pci, map_wc)
{
	struct prig r;
	struct map_result res;
	int bar, wc;

	prig_init(&r);
	r.params.address = IVSHMEM;
	r.params.bar = 2;
	prig_open(&r);
	/* resource2 and resource2_wc, each read-write and read-only. */
	cr_assert_eq(fd_count(), r.nfd + 1 + 5);
	bar = tree_open(&r, IVSHMEM, "resource2");
	wc = tree_open(&r, IVSHMEM, "resource2_wc");
	cr_assert(fd_same_inode(r.pci.dev.fd[MAP_CACHE_WC], wc));
	cr_assert(fd_same_inode(r.pci.dev.fd_ro[MAP_CACHE_WC], wc));
	cr_assert_eq(fd_accmode(r.pci.dev.fd_ro[MAP_CACHE_WC]), O_RDONLY);

	pci_ok(&r, 0, MIB, RW, MAP_CACHE_WC, &res);
	cr_assert_eq(res.cache, MAP_CACHE_WC);
	cr_assert(fd_same_inode(res.fd, wc));
	cr_assert_eq(fd_accmode(res.fd), O_RDWR);
	engine_result_close(&res);
	pci_ok(&r, 0, r.pg, MAP_DESC_SHARED, MAP_CACHE_WC, &res);
	cr_assert(fd_same_inode(res.fd, wc));
	cr_assert_eq(fd_accmode(res.fd), O_RDONLY);
	engine_result_close(&res);
	/* Uncached is still the default. */
	pci_ok(&r, 0, r.pg, RW, MAP_CACHE_DEFAULT, &res);
	cr_assert_eq(res.cache, MAP_CACHE_UNCACHED);
	cr_assert(fd_same_inode(res.fd, bar));
	engine_result_close(&res);
	close(bar);
	close(wc);

	/* edu's BAR0 has no resource0_wc. */
	r.params.address = EDU;
	r.params.bar = 0;
	prig_reopen(&r);
	pci_err_says(&r, 0, r.pg, RW, MAP_CACHE_WC, -EINVAL,
	    "resourceN_wc");
	prig_close(&r);
}

/* A BAR is never mapped cached, prefetchable or not. */
Test(pci, map_cached_refused)
{
	struct prig r;

	prig_init(&r);
	prig_open(&r);
	pci_err_says(&r, 0, r.pg, RW, MAP_CACHE_CACHED, -EINVAL,
	    "never cached");
	r.params.address = IVSHMEM;
	r.params.bar = 2;
	prig_reopen(&r);
	pci_err_says(&r, 0, r.pg, RW, MAP_CACHE_CACHED, -EINVAL,
	    "never cached");
	pci_err_says(&r, 0, r.pg, 0, MAP_CACHE_CACHED, -EINVAL,
	    "never cached");
	prig_close(&r);
}

/* ---------------------------------------------------------------------
 * The busy check
 * --------------------------------------------------------------------- */

/* In iomem-q35.txt the ahci driver holds AHCI's BAR5. */
Test(pci, busy_names_claimant)
{
	struct prig r;
	struct map_result res;

	prig_init(&r);
	r.params.address = AHCI;
	r.params.bar = 5;
	prig_open(&r);
	pci_err_says(&r, 0, r.pg, RW, MAP_CACHE_DEFAULT, -EBUSY, "'ahci'");
	pci_err_says(&r, 0, r.pg, RW, MAP_CACHE_DEFAULT, -EBUSY,
	    "[0xfea01000-0xfea01fff]");
	pci_err_says(&r, 0, r.pg, MAP_DESC_SHARED, MAP_CACHE_DEFAULT, -EBUSY,
	    "'ahci'");

	/* Without a table there is no check: the kernel alone decides. */
	r.params.iomem_path = NULL;
	prig_reopen(&r);
	cr_assert_eq(r.pci.iomem_fd, -1);
	cr_assert_eq(fd_count(), r.nfd + 1 + 2);
	pci_ok(&r, 0, r.pg, RW, MAP_CACHE_DEFAULT, &res);
	engine_result_close(&res);
	prig_close(&r);
}

/* The table is read afresh for every Map: a driver binds, Maps stop. */
Test(pci, busy_table_read_per_request)
{
	static const char before[] =
	    "00100000-1fffffff : System RAM\n"
	    "c0000000-febfffff : PCI Bus 0000:00\n"
	    "  fe900000-fe9fffff : 0000:00:01.0\n";
	static const char after[] =
	    "00100000-1fffffff : System RAM\n"
	    "c0000000-febfffff : PCI Bus 0000:00\n"
	    "  fe900000-fe9fffff : 0000:00:01.0\n"
	    "    fe900000-fe9fffff : edu\n";
	struct prig r;
	struct map_result res;
	int tfd;

	prig_init(&r);
	tfd = r.extra_fd = text_memfd(before, r.iomem, sizeof(r.iomem));
	prig_open(&r);
	pci_ok(&r, 0, MIB, RW, MAP_CACHE_DEFAULT, &res);
	engine_result_close(&res);

	cr_assert_eq(ftruncate(tfd, 0), 0);
	cr_assert_eq(pwrite(tfd, after, strlen(after), 0),
	    (ssize_t)strlen(after));
	pci_err_says(&r, 0, MIB, RW, MAP_CACHE_DEFAULT, -EBUSY, "'edu'");
	pci_err_says(&r, MIB - r.pg, r.pg, RW, MAP_CACHE_DEFAULT, -EBUSY,
	    "[0xfe900000-0xfe9fffff]");

	/* A table that cannot be parsed refuses rather than guesses. */
	cr_assert_eq(ftruncate(tfd, 0), 0);
	cr_assert_eq(pwrite(tfd, "garbage\n", 8, 0), 8);
	free(pci_err(&r, 0, r.pg, RW, MAP_CACHE_DEFAULT, -EIO));
	prig_close(&r);
}

/* A BAR smaller than a page is judged too: its claim makes it busy. */
Test(pci, busy_sub_page)
{
	static const char table[] =
	    "c0000000-febfffff : PCI Bus 0000:00\n"
	    "  fea00000-fea000ff : 0000:00:02.0\n";
	static const char claimed[] =
	    "c0000000-febfffff : PCI Bus 0000:00\n"
	    "  fea00000-fea000ff : 0000:00:02.0\n"
	    "    fea00000-fea000ff : ivshmem\n";
	struct prig r;
	struct map_result res;

	prig_init(&r);
	r.extra_fd = text_memfd(table, r.iomem, sizeof(r.iomem));
	r.params.address = IVSHMEM;
	r.params.bar = 0;
	prig_open(&r);
	pci_ok(&r, 0, r.pg, RW, MAP_CACHE_DEFAULT, &res);
	engine_result_close(&res);
	/* A driver binds. */
	cr_assert_eq(ftruncate(r.extra_fd, 0), 0);
	cr_assert_eq(pwrite(r.extra_fd, claimed, strlen(claimed), 0),
	    (ssize_t)strlen(claimed));
	pci_err_says(&r, 0, r.pg, RW, MAP_CACHE_DEFAULT, -EBUSY, "'ivshmem'");
	prig_close(&r);
}

/*
 * A neighbour in the same page claimed by its driver is not this BAR's
 * claim: the check looks at the BAR's own bytes only.
 */
Test(pci, busy_neighbour_in_page)
{
	static const char table[] =
	    "c0000000-febfffff : PCI Bus 0000:00\n"
	    "  fea00000-fea000ff : 0000:00:02.0\n"
	    "  fea00100-fea001ff : 0000:00:03.0\n"
	    "    fea00100-fea001ff : neighbour\n";
	struct prig r;
	struct map_result res;

	prig_init(&r);
	r.extra_fd = text_memfd(table, r.iomem, sizeof(r.iomem));
	r.params.address = IVSHMEM;
	r.params.bar = 0;
	prig_open(&r);
	pci_ok(&r, 0, r.pg, RW, MAP_CACHE_DEFAULT, &res);
	engine_result_close(&res);
	prig_close(&r);
}

/* ---------------------------------------------------------------------
 * Order of the checks, and the complete step
 * --------------------------------------------------------------------- */

/* 1 range, 2 private write, 3 busy, 4 cache: the first failing one says. */
Test(pci, check_order)
{
	struct prig r;

	prig_init(&r);
	r.params.address = AHCI;
	r.params.bar = 5;
	prig_open(&r);
	pci_err_says(&r, r.pg, r.pg, MAP_DESC_WRITE, MAP_CACHE_CACHED,
	    -EINVAL, "outside the BAR");
	pci_err_says(&r, 0, r.pg, MAP_DESC_WRITE, MAP_CACHE_CACHED, -EINVAL,
	    "copy-on-write");
	pci_err_says(&r, 0, r.pg, RW, MAP_CACHE_CACHED, -EBUSY, "'ahci'");
	pci_err_says(&r, 0, r.pg, RW, MAP_CACHE_WC, -EBUSY, "'ahci'");
	prig_close(&r);
}

/*
 * The kernel refusing the mapping is -EAGAIN to the client.  Here the
 * BAR's file is a write-sealed memfd, linked into the tree: a shared
 * writable mmap of it fails with EPERM, as a claimed BAR fails in sysfs.
 */
Test(pci, remap_failure_filtered)
{
	struct prig r;
	struct map_request req;
	struct map_result res;
	char path[256], target[64];

	prig_init(&r);
	r.extra_fd = memfd_create("sealed-bar", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING);
	cr_assert_geq(r.extra_fd, 0);
	cr_assert_eq(ftruncate(r.extra_fd, (off_t)MIB), 0);
	cr_assert_eq(fcntl(r.extra_fd, F_ADD_SEALS, F_SEAL_WRITE), 0);
	snprintf(path, sizeof(path), "%s/%s/resource0", r.root, EDU);
	snprintf(target, sizeof(target), "/proc/self/fd/%d", r.extra_fd);
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(symlink(target, path), 0);
	prig_open(&r);
	req = req_make(&r, 0, r.pg, RW, MAP_CACHE_DEFAULT);
	MAP_ERR_FILTERED(&r.eng, &req, -EAGAIN, -EPERM);
	/* Read-only, the same range maps: the seal was the reason. */
	req.flags = MAP_DESC_SHARED;
	MAP_OK(&r.eng, &req, &res);
	engine_result_close(&res);
	prig_close(&r);
	cr_assert_eq(maps_count("sealed-bar"), 0);
}
