#include "config.h"

/*
 * Register access on the client's behalf: regs_access() does one load or
 * store of exactly the width asked, and turns a SIGBUS during it (a BAR
 * revoked under the daemon) into -EIO.
 *
 * The "device" is a memfd mapped shared: a store through the mapping is
 * read back with pread, byte by byte, so a wider access than asked would
 * show in the neighbouring bytes.  A page of a memfd mapped beyond its
 * end raises SIGBUS on access, as a revoked device mapping does.
 */

#include <sys/mman.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "regs.h"
#include "helpers.h"

#define FILL		0xee
#define POISON		0x5a5a5a5a5a5a5a5aull

struct reg_rig {
	int nfd;
	int fd;
	size_t pg;
	volatile uint8_t *map;
};

/* A page of "device", filled with FILL, mapped shared; size 0: none. */
static void
rig_open(struct reg_rig *r, int sized)
{
	unsigned char *buf;
	void *p;

	r->nfd = fd_count();
	r->pg = (size_t)map_page_size();
	cr_assert_eq(regs_init(), 0);
	r->fd = memfd_create("regs-device", MFD_CLOEXEC);
	cr_assert_geq(r->fd, 0);
	if (sized) {
		buf = malloc(r->pg);
		cr_assert_not_null(buf);
		memset(buf, FILL, r->pg);
		cr_assert_eq(pwrite(r->fd, buf, r->pg, 0), (ssize_t)r->pg);
		free(buf);
	}
	p = mmap(NULL, r->pg, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	cr_assert_neq(p, MAP_FAILED, "mmap: %s", strerror(errno));
	r->map = p;
}

static void
rig_close(struct reg_rig *r)
{
	cr_assert_eq(munmap((void *)r->map, r->pg), 0);
	close(r->fd);
	cr_assert_eq(fd_count(), r->nfd, "fds leaked");
}

/* The device's byte at off, as the file holds it. */
static uint8_t
dev_byte(const struct reg_rig *r, size_t off)
{
	uint8_t b;

	cr_assert_eq(pread(r->fd, &b, 1, (off_t)off), 1);
	return b;
}

/*
 * A store of width bits at off changes exactly those bytes (to value,
 * little-endian) and no other: the bytes around it keep FILL.
 */
static void
store_expect(struct reg_rig *r, size_t off, unsigned int width,
    uint64_t value)
{
	uint64_t v = value, back = POISON;
	size_t i, n = width / 8;

	cr_assert_eq(regs_access(r->map + off, width, 1, &v), 0,
	    "store %u at %#zx", width, off);
	cr_assert_eq(v, value, "a store changed *value");
	for (i = 0; i < n; i++)
		cr_assert_eq(dev_byte(r, off + i),
		    (uint8_t)(value >> (8 * i)), "byte %zu of the %u-bit store",
		    i, width);
	cr_assert_eq(dev_byte(r, off - 1), FILL, "store %u spilled below",
	    width);
	cr_assert_eq(dev_byte(r, off + n), FILL, "store %u spilled above",
	    width);

	/* A load gives it back, zero-extended. */
	cr_assert_eq(regs_access(r->map + off, width, 0, &back), 0);
	cr_assert_eq(back, width == 64 ? value :
	    value & ((UINT64_C(1) << width) - 1), "load %u at %#zx: %#llx",
	    width, off, (unsigned long long)back);
}

Test(regs, every_width)
{
	struct reg_rig r;

	rig_open(&r, 1);
	store_expect(&r, 0x09, 8, 0x5a);
	store_expect(&r, 0x12, 16, 0xbeef);
	store_expect(&r, 0x24, 32, 0x010000ed);
	store_expect(&r, 0x38, 64, 0x0123456789abcdefull);
	/* The top byte and the top word of the page. */
	store_expect(&r, r.pg - 16, 64, UINT64_MAX);
	rig_close(&r);
}

/* The store is of the width, whatever else *value holds. */
Test(regs, store_truncates_to_width)
{
	struct reg_rig r;
	uint64_t v = 0x12345678;

	rig_open(&r, 1);
	cr_assert_eq(regs_access(r.map + 0x40, 16, 1, &v), 0);
	cr_assert_eq(dev_byte(&r, 0x40), 0x78);
	cr_assert_eq(dev_byte(&r, 0x41), 0x56);
	cr_assert_eq(dev_byte(&r, 0x42), FILL);
	cr_assert_eq(dev_byte(&r, 0x43), FILL);
	rig_close(&r);
}

/* A load reads what the device holds, not a cached copy of the value. */
Test(regs, load_sees_device)
{
	struct reg_rig r;
	uint32_t word = 0xfeedf00d;
	uint64_t v = POISON;

	rig_open(&r, 1);
	cr_assert_eq(regs_access(r.map + 0x80, 32, 0, &v), 0);
	cr_assert_eq(v, 0xeeeeeeee);
	cr_assert_eq(pwrite(r.fd, &word, sizeof(word), 0x80), sizeof(word));
	cr_assert_eq(regs_access(r.map + 0x80, 32, 0, &v), 0);
	cr_assert_eq(v, 0xfeedf00d);
	rig_close(&r);
}

Test(regs, bad_width)
{
	static const unsigned int widths[] = { 0, 1, 4, 7, 12, 24, 48, 65,
	    128 };
	struct reg_rig r;
	uint64_t v;
	size_t i;

	rig_open(&r, 1);
	for (i = 0; i < sizeof(widths) / sizeof(widths[0]); i++) {
		v = 0;
		cr_assert_eq(regs_access(r.map, widths[i], 1, &v), -EINVAL,
		    "width %u stored", widths[i]);
		v = POISON;
		cr_assert_eq(regs_access(r.map, widths[i], 0, &v), -EINVAL,
		    "width %u loaded", widths[i]);
		cr_assert_eq(v, POISON, "a refused load set *value");
	}
	for (i = 0; i < 16; i++)
		cr_assert_eq(dev_byte(&r, i), FILL, "a refused store wrote");
	rig_close(&r);
}

/* Aligned to the width, as a device register wants; bytes anywhere. */
Test(regs, unaligned)
{
	static const struct {
		size_t off;
		unsigned int width;
	} bad[] = {
		{ 1, 16 }, { 3, 16 }, { 1, 32 }, { 2, 32 }, { 6, 32 },
		{ 1, 64 }, { 4, 64 }, { 12, 64 },
	};
	struct reg_rig r;
	uint64_t v;
	size_t i;

	rig_open(&r, 1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 0;
		cr_assert_eq(regs_access(r.map + 0x100 + bad[i].off,
		    bad[i].width, 1, &v), -EINVAL, "%u-bit store at +%zu",
		    bad[i].width, bad[i].off);
		v = POISON;
		cr_assert_eq(regs_access(r.map + 0x100 + bad[i].off,
		    bad[i].width, 0, &v), -EINVAL);
		cr_assert_eq(v, POISON);
	}
	for (i = 0; i < 16; i++)
		cr_assert_eq(dev_byte(&r, 0x100 + i), FILL);
	store_expect(&r, 0x101, 8, 0x01);
	store_expect(&r, 0x10e, 16, 0x0202);
	rig_close(&r);
}

/*
 * A page beyond the end of its file faults as a revoked BAR does: -EIO,
 * *value untouched, and the daemon goes on.  Twice in a row proves the
 * signal mask came back after the first; the device growing proves a
 * later access on the same mapping works.
 */
Test(regs, sigbus_is_eio)
{
	struct reg_rig r;
	uint64_t v;

	rig_open(&r, 0);
	v = POISON;
	cr_assert_eq(regs_access(r.map, 32, 0, &v), -EIO);
	cr_assert_eq(v, POISON, "a faulted load set *value");
	v = 7;
	cr_assert_eq(regs_access(r.map + 8, 64, 1, &v), -EIO);
	v = POISON;
	cr_assert_eq(regs_access(r.map + 1, 8, 0, &v), -EIO);
	cr_assert_eq(v, POISON);

	cr_assert_eq(ftruncate(r.fd, (off_t)r.pg), 0);
	v = 0x1234;
	cr_assert_eq(regs_access(r.map + 4, 16, 1, &v), 0);
	v = POISON;
	cr_assert_eq(regs_access(r.map + 4, 16, 0, &v), 0);
	cr_assert_eq(v, 0x1234);
	cr_assert_eq(dev_byte(&r, 4), 0x34);
	rig_close(&r);
}

/*
 * A SIGBUS outside an access is a real bug: the guard, disarmed after
 * the access that faulted, lets it kill the process as it would have.
 */
Test(regs, sigbus_elsewhere_kills, .signal = SIGBUS)
{
	struct reg_rig r;
	uint64_t v = POISON;

	rig_open(&r, 0);
	cr_assert_eq(regs_access(r.map, 32, 0, &v), -EIO);
	(void)r.map[0];
	cr_assert_fail("a load beyond the end of the file did not fault");
}
