#include "config.h"

/*
 * How far an entry's offsets go (reach_limit(), reach_locate()) and how
 * far a Map's fd goes (reach_beyond(), reach_refusal()), for each kind
 * of entry: zero, mem, a region of mem, a region of pci with a size, one
 * without (the rest of its BAR), and a whole BAR.
 *
 * Every kind is tried at the boundaries a hostile offset picks: 0,
 * size - 1, size, 2^64 - 1 and 2^64 - base (which wraps base + offset to
 * 0: the BAR's first byte, or physical address 0).  The entries and BARs
 * are built by hand: the arithmetic needs no device.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "reach.h"

#define KIB		1024ull
#define MIB		(1024ull * 1024)
#define PAGE		(4 * KIB)

TestSuite(reach);

static struct policy_entry
entry(enum policy_kind kind, int is_pci, uint64_t base, uint64_t size)
{
	struct policy_entry e;

	memset(&e, 0, sizeof(e));
	e.name = (char *)(kind == POLICY_ZERO ? "zero" :
	    kind == POLICY_MEM ? "mem" : "edu-page");
	e.kind = kind;
	e.is_pci = is_pci;
	e.base = base;
	e.size = size;
	return e;
}

/* edu's BAR0: 1 MiB at 0xfe900000. */
static struct pci_device
bar_of(uint64_t len)
{
	struct pci_device b;

	memset(&b, 0, sizeof(b));
	snprintf(b.address, sizeof(b.address), "0000:00:01.0");
	b.bar = 0;
	b.start = 0xfe900000ull;
	b.len = len;
	b.span = (len + PAGE - 1) & ~(PAGE - 1);
	return b;
}

/*
 * One entry at the five boundaries, for a one-byte access (a register)
 * and a page (a Map).  limit is the entry's size as the daemon sees it.
 */
static void
boundaries(const char *what, const struct policy_entry *e,
    const struct pci_device *bar, uint64_t limit)
{
	static const uint64_t lens[] = { 1, PAGE };
	uint64_t at, base = e->base;
	size_t i;

	cr_assert_eq(reach_limit(e, bar, 1), limit, "%s: limit %#llx, not "
	    "%#llx", what, (unsigned long long)reach_limit(e, bar, 1),
	    (unsigned long long)limit);
	for (i = 0; i < 2; i++) {
		uint64_t n = lens[i];

		/* 0: the region's first byte or page. */
		at = 0;
		cr_assert_eq(reach_locate(base, limit, 0, n, &at), 0,
		    "%s: offset 0 len %llu", what, (unsigned long long)n);
		cr_assert_eq(at, base, "%s: offset 0 at %#llx", what,
		    (unsigned long long)at);

		/* size - 1: the last byte, but no page starts there. */
		at = 0;
		if (n == 1) {
			cr_assert_eq(reach_locate(base, limit, limit - 1, n,
			    &at), 0, "%s: the last byte", what);
			cr_assert_eq(at, base + (limit - 1));
		} else {
			cr_assert_eq(reach_locate(base, limit, limit - 1, n,
			    &at), -EINVAL, "%s: a page from the last byte",
			    what);
		}

		/* size: the first byte past the region. */
		cr_assert_eq(reach_locate(base, limit, limit, n, &at), -EINVAL,
		    "%s: offset = size len %llu", what, (unsigned long long)n);

		/* 2^64 - 1: offset + len wraps. */
		cr_assert_eq(reach_locate(base, limit, UINT64_MAX, n, &at),
		    -EINVAL, "%s: offset 2^64 - 1 len %llu", what,
		    (unsigned long long)n);

		/*
		 * 2^64 - base: base + offset wraps to 0.  With base 0 it is
		 * offset 0 itself, tried above.
		 */
		if (base != 0)
			cr_assert_eq(reach_locate(base, limit, 0 - base, n,
			    &at), -EINVAL, "%s: offset 2^64 - base len %llu",
			    what, (unsigned long long)n);
	}
	/* A page straddling the end, and a size that wraps by itself. */
	if (limit >= 2 * PAGE && limit != UINT64_MAX)
		cr_assert_eq(reach_locate(base, limit, limit - PAGE, 2 * PAGE,
		    &at), -EINVAL, "%s: a straddling range", what);
	cr_assert_eq(reach_locate(base, limit, PAGE, UINT64_MAX, &at), -EINVAL,
	    "%s: size 2^64 - 1", what);
}

Test(reach, zero_and_mem_run_to_2_64)
{
	struct policy_entry z = entry(POLICY_ZERO, 0, 0, 0);
	struct policy_entry m = entry(POLICY_MEM, 0, 0, 0);

	/* No base: the drivers judge the range; only 64 bits bound it. */
	boundaries("zero", &z, NULL, UINT64_MAX);
	boundaries("mem", &m, NULL, UINT64_MAX);
	cr_expect_eq(reach_beyond(&z, NULL), 0);
	cr_expect_eq(reach_beyond(&m, NULL), 0);
}

Test(reach, mem_region)
{
	struct policy_entry e = entry(POLICY_REGION, 0, 0xfe900000ull, MIB);
	char buf[384];

	boundaries("region of mem", &e, NULL, MIB);
	/* Its Map would be /dev/mem itself: beyond any region. */
	cr_assert_eq(reach_beyond(&e, NULL), 1);
	reach_refusal(&e, NULL, buf, sizeof(buf));
	cr_expect(strstr(buf, "base 0xfe900000 size 0x100000") != NULL, "%s",
	    buf);
	cr_expect(strstr(buf, "all non-RAM physical memory") != NULL, "%s",
	    buf);
	cr_expect(strstr(buf, "Read and Write serve the region") != NULL,
	    "%s", buf);
	cr_expect(strstr(buf, "raw_fd_users") != NULL, "%s", buf);
}

/* The highest base a mem region may have: base + size is 2^64 - 1. */
Test(reach, mem_region_at_the_top)
{
	struct policy_entry e = entry(POLICY_REGION, 0, 0 - 2 * PAGE,
	    2 * PAGE - 1);

	boundaries("region of mem at the top", &e, NULL, 2 * PAGE - 1);
}

Test(reach, pci_region_with_size)
{
	struct policy_entry e = entry(POLICY_REGION, 1, 0x1000, PAGE);
	struct pci_device bar = bar_of(MIB);
	char buf[384];

	boundaries("region of pci, base 0x1000 size 4K", &e, &bar, PAGE);
	/* The same limit for a register: the region is the bound. */
	cr_assert_eq(reach_limit(&e, &bar, 0), PAGE);
	cr_assert_eq(reach_beyond(&e, &bar), 1);
	reach_refusal(&e, &bar, buf, sizeof(buf));
	cr_expect(strstr(buf, "region edu-page is base 0x1000 size 0x1000 of "
	    "BAR 0 of 0000:00:01.0") != NULL, "%s", buf);
	cr_expect(strstr(buf, "the whole BAR (0x100000 bytes)") != NULL, "%s",
	    buf);
	cr_expect(strstr(buf, "Read and Write serve the region") != NULL,
	    "%s", buf);
	cr_expect(strstr(buf, "whole_bar = yes") != NULL, "%s", buf);
	reach_granted(&e, &bar, buf, sizeof(buf));
	cr_expect(strstr(buf, "all of BAR 0 of 0000:00:01.0 (0x100000 bytes)")
	    != NULL, "%s", buf);
}

/*
 * The case the issue found: no size, base 0x10000, offset 2^64 - 0x10000
 * was granted at BAR offset 0.
 */
Test(reach, pci_region_without_size)
{
	struct policy_entry e = entry(POLICY_REGION, 1, 0x10000, 0);
	struct pci_device bar = bar_of(MIB);
	uint64_t at = 12345;

	boundaries("region of pci, base 0x10000, the rest", &e, &bar,
	    MIB - 0x10000);
	cr_assert_eq(reach_locate(e.base, reach_limit(&e, &bar, 1),
	    (uint64_t)0 - 0x10000, PAGE, &at), -EINVAL);
	cr_assert_eq(at, 12345, "a refusal leaves *at alone");
	cr_assert_eq(reach_beyond(&e, &bar), 1);
}

Test(reach, pci_whole_bar)
{
	struct policy_entry e = entry(POLICY_REGION, 1, 0, 0);
	struct policy_entry sized = entry(POLICY_REGION, 1, 0, MIB);
	struct policy_entry part = entry(POLICY_REGION, 1, 0, MIB / 2);
	struct pci_device bar = bar_of(MIB);

	boundaries("region of pci, the whole BAR", &e, &bar, MIB);
	boundaries("region of pci, base 0 size 1M", &sized, &bar, MIB);
	cr_assert_eq(reach_beyond(&e, &bar), 0);
	cr_assert_eq(reach_beyond(&sized, &bar), 0);
	cr_assert_eq(reach_beyond(&part, &bar), 1, "the first half of a BAR "
	    "is not all of it");
	/* A BAR not opened has no bytes, and nothing can be said to fit. */
	cr_assert_eq(reach_limit(&e, NULL, 1), 0);
	cr_assert_eq(reach_beyond(&e, NULL), 1);
}

/*
 * A BAR smaller than a page: its fd maps one page, a register lies in
 * its bytes only.
 */
Test(reach, pci_bar_smaller_than_a_page)
{
	struct policy_entry e = entry(POLICY_REGION, 1, 0, 0);
	struct policy_entry page = entry(POLICY_REGION, 1, 0, PAGE);
	struct pci_device bar = bar_of(256);
	uint64_t at;

	cr_assert_eq(reach_limit(&e, &bar, 1), PAGE);
	cr_assert_eq(reach_limit(&e, &bar, 0), 256);
	cr_assert_eq(reach_locate(0, reach_limit(&e, &bar, 0), 0xfc, 4, &at),
	    0);
	cr_assert_eq(reach_locate(0, reach_limit(&e, &bar, 0), 0x100, 4,
	    &at), -EINVAL);
	cr_assert_eq(reach_limit(&page, &bar, 0), 256, "a size past the BAR "
	    "is cut to it");
	cr_assert_eq(reach_beyond(&e, &bar), 0);
	cr_assert_eq(reach_beyond(&page, &bar), 0);
}

/* A base at or past the BAR's end leaves nothing. */
Test(reach, pci_base_past_the_bar)
{
	struct policy_entry e = entry(POLICY_REGION, 1, MIB, 0);
	struct pci_device bar = bar_of(MIB);
	uint64_t at;

	cr_assert_eq(reach_limit(&e, &bar, 1), 0);
	cr_assert_eq(reach_locate(e.base, 0, 0, 1, &at), -EINVAL);
}
