#include "config.h"

/*
 * The /proc/iomem pre-check: what STRICT_DEVMEM and IO_STRICT_DEVMEM
 * would refuse (shared/reference/kernel-mmap-prepare.md §3.5).
 *
 * Fixtures in tests/unit/data (/proc/iomem has no comment syntax, so the
 * notes are here):
 *   iomem-host.txt  recorded: `cat /proc/iomem` as root on the build host
 *                   (a cloud VM, kernel 6.18), unedited.  Re-recording it
 *                   on another machine means updating host_* below.
 *   iomem-q35.txt   written by hand after QEMU's q35 layout with 512 MiB
 *                   of RAM and -nodefaults: edu at 00:01.0 (BAR0
 *                   fe900000-fe9fffff, no driver), ivshmem at 00:02.0
 *                   (BAR2 fe800000-fe8fffff 64-bit prefetchable, BAR0
 *                   fea00000-fea000ff), AHCI at 00:1f.2 with the ahci
 *                   driver bound, MMCONFIG under a Reserved region.
 */

#include <sys/mman.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "iomem.h"
#include "helpers.h"

#define PG	4096ull
#define MIB	(1ull << 20)

static int
check(const char *text, uint64_t start, uint64_t size,
    struct iomem_conflict *why)
{
	/* Poisoned, so a refusal must fill in every field. */
	memset(why, 0x5a, sizeof(*why));
	return iomem_check_text(text, strlen(text), start, size, why);
}

#define ALLOWED(text, at, len) do {					\
	struct iomem_conflict why_;					\
	int rc_ = check((text), (at), (len), &why_);			\
	cr_assert_eq(rc_, 0, "[%#llx, +%#llx): %d, refused by %.64s",	\
	    (unsigned long long)(at), (unsigned long long)(len),	\
	    rc_, rc_ == -EPERM ? why_.name : "-");			\
} while (0)

#define REFUSED(text, at, len, why, first, last, who) do {		\
	struct iomem_conflict why_;					\
	int rc_ = check((text), (at), (len), &why_);			\
	cr_assert_eq(rc_, -EPERM, "[%#llx, +%#llx): %d, expected -EPERM", \
	    (unsigned long long)(at), (unsigned long long)(len), rc_);	\
	cr_assert_eq(why_.reason, (why), "reason %d", why_.reason);	\
	cr_assert_eq(why_.start, (uint64_t)(first), "start %#llx",	\
	    (unsigned long long)why_.start);				\
	cr_assert_eq(why_.end, (uint64_t)(last), "end %#llx",		\
	    (unsigned long long)why_.end);				\
	cr_assert_str_eq(why_.name, (who));				\
} while (0)

static char *
fixture(const char *name)
{
	char path[4096];

	data_path(path, sizeof(path), name);
	return file_slurp(path, NULL);
}

/* A small table; every test below states which entry it aims at. */
static const char small[] =
    "00000000-00000fff : Reserved\n"
    "00001000-0009fbff : System RAM\n"
    "0009fc00-000fffff : Reserved\n"
    "  000f0000-000fffff : System ROM\n"
    "00100000-1ffdffff : System RAM\n"
    "  01000000-01ffffff : Kernel code\n"
    "1ffe0000-1fffffff : Reserved\n"
    "c0000000-febfffff : PCI Bus 0000:00\n"
    "  fe900000-fe9fffff : 0000:00:01.0\n"
    "  fea00000-fea03fff : 0000:00:03.0\n"
    "    fea00000-fea01fff : xhci-hcd\n"
    "fec00000-fec003ff : IOAPIC 0\n"
    "fed00000-fed003ff : HPET 0\n"
    "  fed00000-fed003ff : PNP0103:00\n"
    "fee00000-fee00fff : Local APIC\n";

Test(iomem, ram_first_and_last_byte)
{
	REFUSED(small, 0x100000, PG, IOMEM_RAM, 0x100000, 0x1ffdffff,
	    "System RAM");
	REFUSED(small, 0x1ffdf000, PG, IOMEM_RAM, 0x100000, 0x1ffdffff,
	    "System RAM");
	ALLOWED(small, 0x1ffe0000, PG);
	/* Kernel code is RAM: the RAM entry is the one that refuses. */
	REFUSED(small, 0x1000000, 2 * PG, IOMEM_RAM, 0x100000, 0x1ffdffff,
	    "System RAM");
}

Test(iomem, below_one_mib_always_allowed)
{
	static const char busy_low[] =
	    "00000000-00000fff : Reserved\n"
	    "00001000-0009fbff : System RAM\n"
	    "000e0000-000effff : ACPI Tables\n"
	    "000f0000-000f0fff : Local APIC\n"
	    "00100000-1fffffff : System RAM\n";

	ALLOWED(small, 0, MIB);
	ALLOWED(small, 0x1000, 0x9f000);
	ALLOWED(small, 0xf0000, 0x10000);
	/* Even what would be busy above 1 MiB. */
	ALLOWED(busy_low, 0xe0000, 0x20000);
}

/* Each page is judged on its own: the one above 1 MiB refuses. */
Test(iomem, straddling_one_mib)
{
	ALLOWED(small, 0xfe000, 2 * PG);
	REFUSED(small, 0xff000, 2 * PG, IOMEM_RAM, 0x100000, 0x1ffdffff,
	    "System RAM");
	REFUSED(small, 0, 2 * MIB, IOMEM_RAM, 0x100000, 0x1ffdffff,
	    "System RAM");
}

/* devmem_is_allowed() works per page: a page with some RAM in it is RAM. */
Test(iomem, ram_sharing_a_page)
{
	static const char odd[] =
	    "00100000-0fffffff : System RAM\n"
	    "10000000-10000017 : Reserved\n"
	    "10000018-10000fff : System RAM\n"
	    "10001000-1fffffff : Reserved\n";

	REFUSED(odd, 0x10000000, PG, IOMEM_RAM, 0x10000018, 0x10000fff,
	    "System RAM");
	REFUSED(odd, 0x10000000, 0x10, IOMEM_RAM, 0x10000018, 0x10000fff,
	    "System RAM");
	ALLOWED(odd, 0x10001000, PG);
}

/* Only "System RAM" is RAM. */
Test(iomem, ram_exact_name)
{
	static const char near[] =
	    "00100000-0fffffff : RAM buffer\n"
	    "10000000-1fffffff : Persistent Memory (legacy)\n"
	    "20000000-2fffffff : Soft Reserved\n";

	ALLOWED(near, 0x100000, 0x2ff00000);
}

Test(iomem, busy_names)
{
	static const struct {
		const char *name;
		int busy;
	} cases[] = {
		{ "Local APIC", 1 },
		{ "IOAPIC 0", 1 },
		{ "IOAPIC 1", 1 },
		{ "ACPI Tables", 1 },
		{ "ACPI Non-volatile Storage", 1 },
		{ "PCI MMCONFIG 0000 [bus 00-ff]", 1 },
		{ "PCI MMCONFIG 0000 [bus 00-3f]", 1 },
		{ "PCI ECAM 0000 [bus 00-00]", 1 },
		{ "Reserved", 0 },
		{ "PCI Bus 0000:00", 0 },
		{ "0000:00:01.0", 0 },
		{ "HPET 0", 0 },
		{ "pnp 00:04", 0 },
		{ "PNP0103:00", 0 },
		{ "System ROM", 0 },
		{ "Video ROM", 0 },
		{ "Adapter ROM", 0 },
	};
	char text[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* Top level, then nested under an allowed parent. */
		snprintf(text, sizeof(text),
		    "00100000-0fffffff : System RAM\n"
		    "e0000000-e0000fff : %s\n"
		    "f0000000-f0ffffff : Reserved\n"
		    "  f0010000-f0010fff : %s\n",
		    cases[i].name, cases[i].name);
		if (cases[i].busy) {
			REFUSED(text, 0xe0000000, PG, IOMEM_BUSY,
			    0xe0000000, 0xe0000fff, cases[i].name);
			REFUSED(text, 0xf0010000, PG, IOMEM_BUSY,
			    0xf0010000, 0xf0010fff, cases[i].name);
		} else {
			ALLOWED(text, 0xe0000000, PG);
			ALLOWED(text, 0xf0010000, PG);
		}
		/* The parent's other pages are fine either way. */
		ALLOWED(text, 0xf0000000, 0x10000);
		ALLOWED(text, 0xf0011000, PG);
	}
}

/* A child of a PCI function is a driver's claim on part of its BAR. */
Test(iomem, driver_claim)
{
	REFUSED(small, 0xfea00000, PG, IOMEM_BUSY, 0xfea00000, 0xfea01fff,
	    "xhci-hcd");
	REFUSED(small, 0xfea01000, PG, IOMEM_BUSY, 0xfea00000, 0xfea01fff,
	    "xhci-hcd");
	REFUSED(small, 0xfe9ff000, 2 * PG, IOMEM_BUSY, 0xfea00000,
	    0xfea01fff, "xhci-hcd");
	/* The unclaimed rest of that BAR, and a BAR with no driver. */
	ALLOWED(small, 0xfea02000, 2 * PG);
	ALLOWED(small, 0xfe900000, MIB);
	/* Children of anything else are not claims. */
	ALLOWED(small, 0xfed00000, PG);
}

/* Behind a bridge the claim sits two levels deeper; same rule. */
Test(iomem, driver_claim_behind_bridge)
{
	static const char bridge[] =
	    "80000000-fbffffff : PCI Bus 0000:00\n"
	    "  80000000-801fffff : PCI Bus 0000:01\n"
	    "    80000000-80003fff : 0000:01:00.0\n"
	    "      80000000-80003fff : nvme\n"
	    "    80004000-80004fff : 0000:01:00.1\n"
	    "  80200000-802fffff : 0000:00:1f.3\n";

	REFUSED(bridge, 0x80003000, PG, IOMEM_BUSY, 0x80000000, 0x80003fff,
	    "nvme");
	ALLOWED(bridge, 0x80004000, PG);
	ALLOWED(bridge, 0x80005000, 0x1fb000);
	ALLOWED(bridge, 0x80200000, MIB);
	REFUSED(bridge, 0x7ffff000, 0x300000, IOMEM_BUSY, 0x80000000,
	    0x80003fff, "nvme");
}

Test(iomem, busy_first_and_last_byte)
{
	REFUSED(small, 0xfee00000, PG, IOMEM_BUSY, 0xfee00000, 0xfee00fff,
	    "Local APIC");
	REFUSED(small, 0xfedff000, 2 * PG, IOMEM_BUSY, 0xfee00000,
	    0xfee00fff, "Local APIC");
	REFUSED(small, 0xfebff000, 2 * PG, IOMEM_BUSY, 0xfec00000,
	    0xfec003ff, "IOAPIC 0");
	ALLOWED(small, 0xfedff000, PG);
	ALLOWED(small, 0xfee01000, PG);
	ALLOWED(small, 0xfebff000, PG);
	ALLOWED(small, 0xfec01000, PG);
}

/* Several refuse: the lowest-addressed entry is named. */
Test(iomem, lowest_refusing_entry_named)
{
	REFUSED(small, 0xfec00000, 0x201000, IOMEM_BUSY, 0xfec00000,
	    0xfec003ff, "IOAPIC 0");
	REFUSED(small, 0x1ffdf000, 0xe0000000, IOMEM_RAM, 0x100000,
	    0x1ffdffff, "System RAM");
	REFUSED(small, 0xfe000000, 0x1000000, IOMEM_BUSY, 0xfea00000,
	    0xfea01fff, "xhci-hcd");
}

/* Addresses past 4 GiB, and a range ending at the top of the space. */
Test(iomem, wide_addresses)
{
	static const char wide[] =
	    "00100000-bfffffff : System RAM\n"
	    "100000000-63fffffff : System RAM\n"
	    "4000000000-7fffffffff : PCI Bus 0000:00\n"
	    "  4000000000-400007ffff : 0000:00:01.0\n"
	    "    4000000000-400007ffff : virtio-pci-modern\n";

	REFUSED(wide, 0x63ffff000, PG, IOMEM_RAM, 0x100000000, 0x63fffffff,
	    "System RAM");
	ALLOWED(wide, 0x640000000, PG);
	REFUSED(wide, 0x4000000000, PG, IOMEM_BUSY, 0x4000000000,
	    0x400007ffff, "virtio-pci-modern");
	ALLOWED(wide, 0x4000080000, PG);
	ALLOWED(wide, -PG, PG);
	ALLOWED(wide, 0x8000000000, -0x8000000000);
	/* Up to 2^64 exactly: an end computed as start + size wraps to 0. */
	REFUSED(wide, 0x4000000000, -0x4000000000, IOMEM_BUSY, 0x4000000000,
	    0x400007ffff, "virtio-pci-modern");
}

/* Without CAP_SYS_ADMIN the kernel prints every address as zero. */
Test(iomem, hidden_addresses)
{
	static const char hidden[] =
	    "00000000-00000000 : Reserved\n"
	    "00000000-00000000 : System RAM\n"
	    "00000000-00000000 : Reserved\n"
	    "  00000000-00000000 : System ROM\n"
	    "00000000-00000000 : System RAM\n"
	    "  00000000-00000000 : Kernel code\n";
	static const char one_zero[] =
	    "00000000-00000000 : Reserved\n"
	    "00100000-0fffffff : System RAM\n";
	struct iomem_conflict why;

	cr_assert_eq(check(hidden, 0x100000, PG, &why), -EACCES);
	cr_assert_eq(check(hidden, 0, PG, &why), -EACCES);
	/* One zero entry is just an entry. */
	REFUSED(one_zero, 0x100000, PG, IOMEM_RAM, 0x100000, 0x0fffffff,
	    "System RAM");
}

Test(iomem, unparsable_line)
{
	static const char *bad[] = {
	    "garbage\n",
	    "00100000-0fffffff System RAM\n",
	    "0010000g-0fffffff : System RAM\n",
	    "00100000 : System RAM\n",
	    "-0fffffff : System RAM\n",
	    "00100000- : System RAM\n",
	};
	char text[512];
	struct iomem_conflict why;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* The bad line far from the range asked about. */
		snprintf(text, sizeof(text),
		    "00001000-0009fbff : System RAM\n"
		    "f0000000-f0000fff : Reserved\n%s", bad[i]);
		cr_assert_eq(check(text, 0xf0000000, PG, &why), -EIO,
		    "accepted: %s", bad[i]);
	}
}

/*
 * Found by tests/fuzz/fuzz-iomem: a line that refuses the range, then
 * one that does not parse.  The table is garbage (-EIO), and *why must
 * not still name the line before it: the contract in iomem.h.
 */
Test(iomem, garbage_after_refusal_leaves_no_reason)
{
	static const char *tables[] = {
	    /* a line that does not parse */
	    "00100000-1fffffff : System RAM\n"
	    "garbage\n",
	    /* a child two levels below its parent */
	    "c0000000-febfffff : PCI Bus 0000:00\n"
	    "  fea01000-fea01fff : 0000:00:1f.2\n"
	    "    fea01000-fea01fff : ahci\n"
	    "        fea01000-fea01fff : deeper\n",
	};
	static const uint64_t at[] = { 0x100000, 0xfea01000 };
	static const struct iomem_conflict zero;
	struct iomem_conflict why;
	size_t i;
	int fd;

	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		cr_assert_eq(check(tables[i], at[i], PG, &why), -EIO);
		cr_assert(memcmp(&why, &zero, sizeof(why)) == 0,
		    "table %zu: -EIO, yet *why names '%.64s' (reason %d)",
		    i, why.name, (int)why.reason);
		memset(&why, 0x5a, sizeof(why));
		cr_assert_eq(iomem_check_bytes_text(tables[i],
		    strlen(tables[i]), at[i], PG, &why), -EIO);
		cr_assert(memcmp(&why, &zero, sizeof(why)) == 0);
		/* The same through a file, as mem.c reads /proc/iomem. */
		fd = memfd_create("iomem", MFD_CLOEXEC);
		cr_assert_geq(fd, 0);
		cr_assert_eq(write(fd, tables[i], strlen(tables[i])),
		    (ssize_t)strlen(tables[i]));
		memset(&why, 0x5a, sizeof(why));
		cr_assert_eq(iomem_check_fd(fd, at[i], PG, &why), -EIO);
		cr_assert(memcmp(&why, &zero, sizeof(why)) == 0);
		close(fd);
	}
}

Test(iomem, blank_lines_and_no_final_newline)
{
	static const char text[] =
	    "00001000-0009fbff : System RAM\n"
	    "\n"
	    "f0000000-f0000fff : Reserved\n"
	    "\n"
	    "f8000000-f8000fff : Local APIC";

	ALLOWED(text, 0xf0000000, PG);
	REFUSED(text, 0xf8000000, PG, IOMEM_BUSY, 0xf8000000, 0xf8000fff,
	    "Local APIC");
}

/* The text is (text, len): nothing past len is read. */
Test(iomem, text_length_honoured)
{
	static const char text[] =
	    "00100000-0fffffff : System RAM\n"
	    "this is not part of the table";
	struct iomem_conflict why;
	size_t len = strlen("00100000-0fffffff : System RAM\n");
	char *copy;

	/* No NUL after len either: a heap copy of exactly len bytes. */
	copy = malloc(len);
	cr_assert_not_null(copy);
	memcpy(copy, text, len);
	cr_assert_eq(iomem_check_text(copy, len, 0x100000, PG, &why),
	    -EPERM);
	cr_assert_eq(iomem_check_text(copy, len, 0x10000000, PG, &why), 0);
	free(copy);
	cr_assert_eq(iomem_check_text(text, strlen(text), 0x10000000, PG,
	    &why), -EIO);
}

Test(iomem, q35_fixture)
{
	char *q35 = fixture("iomem-q35.txt");

	/* Device BARs with no driver: the whole point of mmapd. */
	ALLOWED(q35, 0xfe900000, MIB);			/* edu BAR0 */
	ALLOWED(q35, 0xfe800000, MIB);			/* ivshmem BAR2 */
	ALLOWED(q35, 0xfea00000, PG);			/* ivshmem BAR0 */
	ALLOWED(q35, 0xfed00000, PG);			/* HPET */
	ALLOWED(q35, 0xf0000, 0x10000);			/* System ROM */
	ALLOWED(q35, 0xc0000, 0x20000);
	ALLOWED(q35, 0x100000000, MIB);		/* 64-bit window */
	REFUSED(q35, 0xfea01000, PG, IOMEM_BUSY, 0xfea01000, 0xfea01fff,
	    "ahci");
	REFUSED(q35, 0xb0000000, PG, IOMEM_BUSY, 0xb0000000, 0xbfffffff,
	    "PCI MMCONFIG 0000 [bus 00-ff]");
	REFUSED(q35, 0xfec00000, PG, IOMEM_BUSY, 0xfec00000, 0xfec003ff,
	    "IOAPIC 0");
	REFUSED(q35, 0xfee00000, PG, IOMEM_BUSY, 0xfee00000, 0xfee00fff,
	    "Local APIC");
	REFUSED(q35, 0x1000000, PG, IOMEM_RAM, 0x100000, 0x1ffdffff,
	    "System RAM");
	ALLOWED(q35, 0x1ffe0000, 0x20000);	/* ACPI area: Reserved */
	free(q35);
}

/* The host's own table, recorded: see the note at the top. */
Test(iomem, host_fixture)
{
	char *host = fixture("iomem-host.txt");

	REFUSED(host, 0x100000, PG, IOMEM_RAM, 0x100000, 0xbfffffff,
	    "System RAM");
	REFUSED(host, 0x63ffff000, PG, IOMEM_RAM, 0x100000000, 0x63fffffff,
	    "System RAM");
	ALLOWED(host, 0xc0001000, MIB);			/* PCI Bus */
	ALLOWED(host, 0xc0000000, PG);			/* in no entry */
	REFUSED(host, 0xeec00000, PG, IOMEM_BUSY, 0xeec00000, 0xeecfffff,
	    "PCI ECAM 0000 [bus 00-00]");
	ALLOWED(host, 0xeed00000, MIB);			/* Reserved */
	REFUSED(host, 0xfec00000, PG, IOMEM_BUSY, 0xfec00000, 0xfec003ff,
	    "IOAPIC 0");
	REFUSED(host, 0x4000080000, PG, IOMEM_BUSY, 0x4000080000,
	    0x40000fffff, "virtio-pci-modern");
	REFUSED(host, 0x400007f000, 2 * PG, IOMEM_BUSY, 0x4000000000,
	    0x400007ffff, "virtio-pci-modern");
	ALLOWED(host, 0x4000280000, MIB);
	ALLOWED(host, 0xde000, PG);			/* below 1 MiB */
	free(host);
}

/* iomem_check_fd() reads the table afresh, from the start, every time. */
Test(iomem, fd_reads_afresh)
{
	static const char before[] =
	    "00100000-0fffffff : System RAM\n"
	    "10000000-1fffffff : PCI Bus 0000:00\n";
	static const char after[] =
	    "00100000-0fffffff : System RAM\n"
	    "10000000-1fffffff : PCI Bus 0000:00\n"
	    "  10000000-10003fff : 0000:00:04.0\n"
	    "    10000000-10003fff : virtio-pci-modern\n";
	struct iomem_conflict why;
	int fd, nfd;

	nfd = fd_count();
	fd = text_memfd(before, NULL, 0);
	cr_assert_eq(iomem_check_fd(fd, 0x10000000, PG, &why), 0);
	cr_assert_eq(iomem_check_fd(fd, 0x10000000, PG, &why), 0);
	cr_assert_eq(iomem_check_fd(fd, 0x100000, PG, &why), -EPERM);
	cr_assert_eq(why.reason, IOMEM_RAM);
	cr_assert_eq(iomem_check_fd(fd, 0x100000, PG, &why), -EPERM);

	/* A driver binds: the same open file now says so. */
	cr_assert_eq(ftruncate(fd, 0), 0);
	cr_assert_eq(pwrite(fd, after, strlen(after), 0),
	    (ssize_t)strlen(after));
	cr_assert_eq(iomem_check_fd(fd, 0x10000000, PG, &why), -EPERM);
	cr_assert_eq(why.reason, IOMEM_BUSY);
	cr_assert_str_eq(why.name, "virtio-pci-modern");
	close(fd);
	cr_assert_eq(fd_count(), nfd);
}

Test(iomem, fd_matches_text_on_fixtures)
{
	static const char *names[] = { "iomem-host.txt", "iomem-q35.txt" };
	static const uint64_t starts[] = { 0, 0xff000, 0x100000, 0xb0000000,
	    0xc0001000, 0xeec00000, 0xfe900000, 0xfea01000, 0xfee00000,
	    0x100000000, 0x4000000000 };
	struct iomem_conflict wt, wf;
	char path[4096], *text;
	size_t i, j, len;
	int fd, rt, rf;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		data_path(path, sizeof(path), names[i]);
		text = file_slurp(path, &len);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		cr_assert_geq(fd, 0);
		for (j = 0; j < sizeof(starts) / sizeof(starts[0]); j++) {
			memset(&wt, 0, sizeof(wt));
			memset(&wf, 0, sizeof(wf));
			rt = iomem_check_text(text, len, starts[j], 2 * PG,
			    &wt);
			rf = iomem_check_fd(fd, starts[j], 2 * PG, &wf);
			cr_assert_eq(rf, rt, "%s at %#llx", names[i],
			    (unsigned long long)starts[j]);
			if (rt == -EPERM) {
				cr_assert_eq(wf.reason, wt.reason);
				cr_assert_eq(wf.start, wt.start);
				cr_assert_eq(wf.end, wt.end);
				cr_assert_str_eq(wf.name, wt.name);
			}
		}
		close(fd);
		free(text);
	}
}

/* The recorded host table must not be one read without privilege. */
Test(iomem, host_fixture_shows_addresses)
{
	char *host = fixture("iomem-host.txt");
	struct iomem_conflict why;

	cr_assert_neq(check(host, 0x100000, PG, &why), -EACCES);
	free(host);
}

/*
 * On the live kernel: the table hides its addresses from an opener
 * without CAP_SYS_ADMIN, and keeps showing them through an fd opened
 * with it, whoever reads later.  That is why mem_device keeps its
 * /proc/iomem fd open across the privilege drop.
 */
Test(iomem, live_proc_iomem_privilege)
{
	struct iomem_conflict why;
	int root_fd, rp[2], res[2], status, expect;
	char *text;
	size_t len;
	pid_t pid;

	if (geteuid() != 0)
		cr_skip_test("needs root to drop privileges");
	text = file_slurp("/proc/iomem", &len);
	expect = iomem_check_text(text, len, 0x100000, PG, &why);
	free(text);
	if (expect == -EACCES)
		cr_skip_test("root here cannot see /proc/iomem addresses");

	root_fd = open("/proc/iomem", O_RDONLY | O_CLOEXEC);
	cr_assert_geq(root_fd, 0);
	cr_assert_eq(pipe(rp), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int fd;

		if (setresgid(65534, 65534, 65534) != 0 ||
		    setresuid(65534, 65534, 65534) != 0)
			_exit(2);
		fd = open("/proc/iomem", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			_exit(3);
		res[0] = iomem_check_fd(fd, 0x100000, PG, &why);
		res[1] = iomem_check_fd(root_fd, 0x100000, PG, &why);
		if (write(rp[1], res, sizeof(res)) != sizeof(res))
			_exit(4);
		_exit(0);
	}
	close(rp[1]);
	cr_assert_eq(read(rp[0], res, sizeof(res)), (ssize_t)sizeof(res));
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(rp[0]);
	close(root_fd);
	cr_assert_eq(res[0], -EACCES, "unprivileged open: %d", res[0]);
	cr_assert_eq(res[1], expect, "privileged open read later: %d",
	    res[1]);
}

/* ---------------------------------------------------------------------
 * iomem_ram_page_*(): a page of RAM STRICT_DEVMEM must refuse
 * --------------------------------------------------------------------- */

static int
ram_page(const char *text, uint64_t *page)
{
	*page = 0x5a5a5a5a;
	return iomem_ram_page_text(text, strlen(text), page);
}

Test(iomem, ram_page_fixtures)
{
	char *q35 = fixture("iomem-q35.txt");
	char *host = fixture("iomem-host.txt");
	struct iomem_conflict why;
	uint64_t page;

	/* The RAM below 1 MiB is passed over: the kernel allows it. */
	cr_assert_eq(ram_page(q35, &page), 0);
	cr_assert_eq(page, 0x100000);
	cr_assert_eq(ram_page(host, &page), 0);
	cr_assert_eq(page, 0x100000);
	/* And the page is one the pre-check itself refuses as RAM. */
	cr_assert_eq(check(host, page, PG, &why), -EPERM);
	cr_assert_eq(why.reason, IOMEM_RAM);
	free(q35);
	free(host);
}

/* A whole page, page-aligned, at or above 1 MiB, of a top-level entry. */
Test(iomem, ram_page_alignment)
{
	uint64_t page;

	cr_assert_eq(ram_page("00001000-001fffff : System RAM\n", &page), 0);
	cr_assert_eq(page, 0x100000, "%#llx", (unsigned long long)page);
	cr_assert_eq(ram_page("00100800-0fffffff : System RAM\n", &page), 0);
	cr_assert_eq(page, 0x101000, "%#llx", (unsigned long long)page);
	/* Exactly one page is enough. */
	cr_assert_eq(ram_page("20000000-20000fff : System RAM\n", &page), 0);
	cr_assert_eq(page, 0x20000000);
	/* Less than a whole page is not: the next entry is taken. */
	cr_assert_eq(ram_page("00100000-00100ffe : System RAM\n"
	    "00200800-002027ff : System RAM\n"
	    "00300000-003fffff : System RAM\n", &page), 0);
	cr_assert_eq(page, 0x201000, "%#llx", (unsigned long long)page);
	/* Kernel code is RAM, but the entry to name is System RAM. */
	cr_assert_eq(ram_page("00000000-00000fff : Reserved\n"
	    "  00000000-00000fff : Kernel code\n"
	    "40000000-4fffffff : System RAM\n"
	    "  41000000-41ffffff : Kernel code\n", &page), 0);
	cr_assert_eq(page, 0x40000000);
}

Test(iomem, ram_page_none)
{
	uint64_t page;

	cr_assert_eq(ram_page("00001000-0009fbff : System RAM\n"
	    "000f0000-000fffff : Reserved\n", &page), -ENOENT);
	cr_assert_eq(ram_page("c0000000-febfffff : PCI Bus 0000:00\n", &page),
	    -ENOENT);
	cr_assert_eq(ram_page("00100000-00100ffe : System RAM\n", &page),
	    -ENOENT);
	cr_assert_eq(ram_page("", &page), -ENOENT);
	cr_assert_eq(page, 0x5a5a5a5a, "*page set on failure");
}

/* Without CAP_SYS_ADMIN every address reads 0: nothing can be named. */
Test(iomem, ram_page_hidden)
{
	uint64_t page;

	cr_assert_eq(ram_page("00000000-00000000 : Reserved\n"
	    "00000000-00000000 : System RAM\n"
	    "00000000-00000000 : Reserved\n"
	    "00000000-00000000 : System RAM\n", &page), -EACCES);
	cr_assert_eq(page, 0x5a5a5a5a);
}

Test(iomem, ram_page_garbage)
{
	uint64_t page;

	cr_assert_eq(ram_page("00001000-0009fbff : System RAM\n"
	    "garbage\n"
	    "00100000-1fffffff : System RAM\n", &page), -EIO);
}

/* The fd form reads the table afresh, from its start, every time. */
Test(iomem, ram_page_fd_reads_afresh)
{
	static const char before[] = "00100000-1fffffff : System RAM\n";
	static const char after[] =
	    "00000000-00000000 : Reserved\n"
	    "00000000-00000000 : System RAM\n";
	uint64_t page;
	int fd, nfd;

	nfd = fd_count();
	fd = text_memfd(before, NULL, 0);
	cr_assert_eq(iomem_ram_page_fd(fd, &page), 0);
	cr_assert_eq(page, 0x100000);
	cr_assert_eq(iomem_ram_page_fd(fd, &page), 0);
	cr_assert_eq(page, 0x100000);
	cr_assert_eq(ftruncate(fd, 0), 0);
	cr_assert_eq(pwrite(fd, after, strlen(after), 0),
	    (ssize_t)strlen(after));
	cr_assert_eq(iomem_ram_page_fd(fd, &page), -EACCES);
	close(fd);
	cr_assert_eq(iomem_ram_page_fd(fd, &page), -EBADF);
	cr_assert_eq(fd_count(), nfd);
}

/* ---------------------------------------------------------------------
 * iomem_describe(): what a client is told
 * --------------------------------------------------------------------- */

static const char *
describe(const struct iomem_conflict *why)
{
	static char buf[128];

	memset(buf, 0x5a, sizeof(buf));
	iomem_describe(why, buf, sizeof(buf));
	cr_assert_not_null(memchr(buf, '\0', sizeof(buf)));
	return buf;
}

Test(iomem, describe_busy_and_ram)
{
	char *q35 = fixture("iomem-q35.txt");
	struct iomem_conflict why;

	cr_assert_eq(check(q35, 0xfea01000, PG, &why), -EPERM);
	cr_assert_str_eq(describe(&why), "range is busy: claimed by 'ahci' "
	    "[0xfea01000-0xfea01fff]");
	cr_assert_eq(check(q35, 0xfee00000, PG, &why), -EPERM);
	cr_assert_str_eq(describe(&why), "range is busy: claimed by "
	    "'Local APIC' [0xfee00000-0xfee00fff]");
	cr_assert_eq(check(q35, 0x1000000, PG, &why), -EPERM);
	cr_assert_str_eq(describe(&why), "range includes System RAM "
	    "[0x100000-0x1ffdffff]");
	free(q35);
}

/* Wide addresses in full, and a buffer too small is cut, never overrun. */
Test(iomem, describe_bounds)
{
	struct iomem_conflict why;
	char tiny[24];

	memset(&why, 0, sizeof(why));
	why.reason = IOMEM_BUSY;
	why.start = 0x4000000000;
	why.end = 0x400007ffff;
	snprintf(why.name, sizeof(why.name), "virtio-pci-modern");
	cr_assert_str_eq(describe(&why), "range is busy: claimed by "
	    "'virtio-pci-modern' [0x4000000000-0x400007ffff]");

	memset(tiny, 0x5a, sizeof(tiny));
	iomem_describe(&why, tiny, 16);
	cr_assert_str_eq(tiny, "range is busy: ");
	cr_assert_eq((unsigned char)tiny[16], 0x5a, "wrote past the buffer");
}
