/*
 * The /proc/iomem parser and the range checks built on it, as mem.c and
 * pci.c call them on the table the kernel prints.
 *
 * Input: the range asked, start and size as two little-endian 64-bit
 * words, one byte of flags (bit 0: also through a file, as mem.c reads
 * it), then the table's text.
 *
 * The contracts asserted, for any input:
 *   - the checks return 0, -EPERM, -EIO, -EACCES or -EINVAL, nothing else;
 *   - *why describes a table line on -EPERM and only then: on any other
 *     return it is all zero, so no caller can report a stale line;
 *   - a refusal names an entry that overlaps the range judged;
 *   - the text and the file give the same answer;
 *   - the RAM page found is page-aligned, at or above 1 MiB, and is
 *     itself refused (or the table is found not to parse further on).
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "iomem.h"

#define HEADER	17

static uint64_t
le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static int
conflict_zero(const struct iomem_conflict *why)
{
	static const struct iomem_conflict zero;

	return memcmp(why, &zero, sizeof(zero)) == 0;
}

static void
conflict_expect(int err, const struct iomem_conflict *why, uint64_t lo,
    uint64_t hi, const char *what)
{
	FUZZ_ASSERT(err == 0 || err == -EPERM || err == -EIO ||
	    err == -EACCES || err == -EINVAL, "%s returned %d", what, err);
	if (err != -EPERM) {
		FUZZ_ASSERT(conflict_zero(why), "%s returned %d with *why "
		    "still naming '%.63s' [%#llx-%#llx]", what, err, why->name,
		    (unsigned long long)why->start,
		    (unsigned long long)why->end);
		return;
	}
	FUZZ_ASSERT(why->reason == IOMEM_RAM || why->reason == IOMEM_BUSY,
	    "%s: -EPERM with reason %d", what, (int)why->reason);
	FUZZ_ASSERT(memchr(why->name, '\0', sizeof(why->name)) != NULL,
	    "%s: name not terminated", what);
	FUZZ_ASSERT(why->start <= why->end, "%s: entry %#llx-%#llx", what,
	    (unsigned long long)why->start, (unsigned long long)why->end);
	FUZZ_ASSERT(why->end >= lo && why->start <= hi, "%s: entry "
	    "%#llx-%#llx outside the range judged %#llx-%#llx", what,
	    (unsigned long long)why->start, (unsigned long long)why->end,
	    (unsigned long long)lo, (unsigned long long)hi);
}

/* The table through a file, as mem.c and pci.c read /proc/iomem. */
static void
check_through_fd(const char *text, size_t len, uint64_t start, uint64_t size,
    int err, int err_bytes, const struct iomem_conflict *why,
    const struct iomem_conflict *why_bytes)
{
	struct iomem_conflict w;
	uint64_t page;
	int fd, e;

	fd = memfd_create("fuzz-iomem", MFD_CLOEXEC);
	FUZZ_ASSERT(fd >= 0, "memfd_create failed");
	FUZZ_ASSERT(write(fd, text, len) == (ssize_t)len, "short write");
	e = iomem_check_fd(fd, start, size, &w);
	FUZZ_ASSERT(e == err && memcmp(&w, why, sizeof(w)) == 0,
	    "iomem_check_fd %d, iomem_check_text %d", e, err);
	e = iomem_check_bytes_fd(fd, start, size, &w);
	FUZZ_ASSERT(e == err_bytes && memcmp(&w, why_bytes, sizeof(w)) == 0,
	    "iomem_check_bytes_fd %d, iomem_check_bytes_text %d", e,
	    err_bytes);
	(void)iomem_ram_page_fd(fd, &page);
	close(fd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iomem_conflict why, why_bytes, w;
	const char *text = (const char *)data + HEADER;
	uint64_t start, len, ps = (uint64_t)sysconf(_SC_PAGESIZE), page;
	size_t tlen;
	char desc[256];
	int err, err_bytes, e;

	if (size < HEADER)
		return 0;
	start = le64(data);
	len = le64(data + 8);
	tlen = size - HEADER;

	/* Poisoned: whatever the call leaves must be its own doing. */
	memset(&why, 0xa5, sizeof(why));
	err = iomem_check_text(text, tlen, start, len, &why);
	/* Pages are judged: the conflict may lie anywhere in them. */
	conflict_expect(err, &why, start & ~(ps - 1),
	    (start + len - 1) | (ps - 1), "iomem_check_text");
	if (len == 0 || start + len - 1 < start)
		FUZZ_ASSERT(err == -EINVAL, "an empty or wrapping range "
		    "gave %d", err);

	memset(&why_bytes, 0x5a, sizeof(why_bytes));
	err_bytes = iomem_check_bytes_text(text, tlen, start, len, &why_bytes);
	conflict_expect(err_bytes, &why_bytes, start, start + len - 1,
	    "iomem_check_bytes_text");

	if (err == -EPERM)
		iomem_describe(&why, desc, sizeof(desc));
	if (err_bytes == -EPERM)
		iomem_describe(&why_bytes, desc, sizeof(desc));

	e = iomem_ram_page_text(text, tlen, &page);
	FUZZ_ASSERT(e == 0 || e == -ENOENT || e == -EACCES || e == -EIO,
	    "iomem_ram_page_text returned %d", e);
	if (e == 0) {
		FUZZ_ASSERT(page % ps == 0 && page >= 0x100000,
		    "RAM page %#llx", (unsigned long long)page);
		e = iomem_check_text(text, tlen, page, ps, &w);
		FUZZ_ASSERT(e == -EPERM || e == -EIO, "the RAM page %#llx "
		    "was not refused: %d", (unsigned long long)page, e);
	}

	if (data[16] & 1)
		check_through_fd(text, tlen, start, len, err, err_bytes, &why,
		    &why_bytes);
	return 0;
}
