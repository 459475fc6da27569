/*
 * Judge a physical range as x86's devmem_is_allowed() would, from the
 * resource table /proc/iomem prints:
 *
 *	"fe900000-fe9fffff : 0000:00:01.0"	one line an entry, start and
 *	"  fe900000-fe9fffff : edu"		end inclusive, children
 *						indented two spaces a level
 *
 * The kernel refuses a page of System RAM at or above 1 MiB, and (with
 * IO_STRICT_DEVMEM) a page of a busy or exclusive region at or above
 * 1 MiB.  /proc/iomem does not print the busy flag, so it is inferred:
 *
 *   - an entry nested directly under a PCI function ("0000:00:1f.2") is a
 *     driver's request_mem_region() and so busy;
 *   - the kernel's own busy regions are known by name: the local APIC,
 *     the IOAPICs, ACPI tables and NVS, and the PCI config space window.
 *
 * Everything else (Reserved, PCI Bus windows, unclaimed BARs, the HPET,
 * pnp reservations, which drop their busy flag) is allowed.  A region a
 * platform driver claims by another name escapes this guess; the kernel
 * then refuses the mapping itself, and the caller sees the filtered error.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iomem.h"

#define LOW_MEM_END	0x100000ULL	/* devmem_is_allowed()'s first MiB */
#define MAX_DEPTH	16
#define MAX_TABLE	(1u << 20)

struct iomem_entry {
	uint64_t start, end;
	unsigned int depth;
	const char *name;
	size_t name_len;
};

static int
name_is(const struct iomem_entry *e, const char *s)
{
	return e->name_len == strlen(s) && memcmp(e->name, s, e->name_len) == 0;
}

static int
name_starts(const struct iomem_entry *e, const char *s)
{
	size_t n = strlen(s);

	return e->name_len >= n && memcmp(e->name, s, n) == 0;
}

/* "DDDD:BB:DD.F", the domain four hex digits or more. */
static int
name_is_pci_function(const struct iomem_entry *e)
{
	const char *p = e->name, *end = e->name + e->name_len;
	int i, n = 0;

	while (p < end && isxdigit((unsigned char)*p)) {
		p++;
		n++;
	}
	if (n < 4 || p >= end || *p++ != ':')
		return 0;
	for (i = 0; i < 2; i++)
		if (p >= end || !isxdigit((unsigned char)*p++))
			return 0;
	if (p >= end || *p++ != ':')
		return 0;
	for (i = 0; i < 2; i++)
		if (p >= end || !isxdigit((unsigned char)*p++))
			return 0;
	if (p >= end || *p++ != '.')
		return 0;
	if (p >= end || *p < '0' || *p > '7')
		return 0;
	return p + 1 == end;
}

static enum iomem_reason
entry_judge(const struct iomem_entry *e, const struct iomem_entry *parent)
{
	if (name_is(e, "System RAM"))
		return IOMEM_RAM;
	if (parent != NULL && name_is_pci_function(parent))
		return IOMEM_BUSY;
	if (name_is(e, "Local APIC") || name_starts(e, "IOAPIC") ||
	    name_is(e, "ACPI Tables") ||
	    name_is(e, "ACPI Non-volatile Storage") ||
	    name_starts(e, "PCI MMCONFIG") || name_starts(e, "PCI ECAM"))
		return IOMEM_BUSY;
	return IOMEM_OK;
}

static int
parse_hex(const char **pp, const char *end, uint64_t *v)
{
	const char *p = *pp;
	uint64_t x = 0;
	int digit, n = 0;

	for (; p < end && isxdigit((unsigned char)*p); p++, n++) {
		if (n == 16)
			return -EIO;
		digit = isdigit((unsigned char)*p) ? *p - '0' :
		    tolower((unsigned char)*p) - 'a' + 10;
		x = x << 4 | (uint64_t)digit;
	}
	if (n == 0)
		return -EIO;
	*pp = p;
	*v = x;
	return 0;
}

/* One line, without its newline.  1: an entry; 0: blank; -EIO: garbage. */
static int
entry_parse(const char *p, const char *end, struct iomem_entry *e)
{
	unsigned int spaces = 0;

	while (p < end && *p == ' ') {
		p++;
		spaces++;
	}
	if (p == end)
		return 0;
	if (spaces % 2 != 0)
		return -EIO;
	e->depth = spaces / 2;
	if (parse_hex(&p, end, &e->start) < 0 || p >= end || *p++ != '-' ||
	    parse_hex(&p, end, &e->end) < 0)
		return -EIO;
	if (end - p < 3 || memcmp(p, " : ", 3) != 0)
		return -EIO;
	p += 3;
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	if (e->start > e->end)
		return -EIO;
	e->name = p;
	e->name_len = (size_t)(end - p);
	return 1;
}

static int
check_text(const char *text, size_t len, uint64_t start, uint64_t size,
    int exact, struct iomem_conflict *why)
{
	struct iomem_entry stack[MAX_DEPTH], e;
	const char *p = text, *end = text + len, *nl;
	uint64_t lo, hi, page;
	unsigned int entries = 0, hidden = 0, depth = 0;
	enum iomem_reason reason;
	size_t n;
	int err;

	memset(why, 0, sizeof(*why));
	if (size == 0 || start + size - 1 < start)
		return -EINVAL;
	/*
	 * The kernel judges whole pages, and only pages from 1 MiB up can be
	 * refused: widen the range to its pages, then drop the first MiB.
	 */
	page = sysconf(_SC_PAGESIZE) > 0 ? (uint64_t)sysconf(_SC_PAGESIZE) : 4096;
	hi = (start + size - 1) | (page - 1);
	lo = start & ~(page - 1);
	if (hi < LOW_MEM_END)
		lo = hi + 1;
	else if (lo < LOW_MEM_END)
		lo = LOW_MEM_END;
	if (exact) {
		lo = start;
		hi = start + size - 1;
	}

	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		err = entry_parse(p, nl, &e);
		if (err < 0)
			goto garbage;
		if (err == 0)
			continue;
		/* A child is at most one level below the entry before it. */
		if (e.depth >= MAX_DEPTH || e.depth > depth)
			goto garbage;
		stack[e.depth] = e;
		depth = e.depth + 1;
		entries++;
		if (e.start == 0 && e.end == 0)
			hidden++;

		if (lo > hi || e.end < lo || e.start > hi)
			continue;
		reason = entry_judge(&e, e.depth ? &stack[e.depth - 1] : NULL);
		if (reason == IOMEM_OK)
			continue;
		if (why->reason != IOMEM_OK && why->start <= e.start)
			continue;
		why->reason = reason;
		why->start = e.start;
		why->end = e.end;
		n = e.name_len < sizeof(why->name) - 1 ?
		    e.name_len : sizeof(why->name) - 1;
		memcpy(why->name, e.name, n);
		why->name[n] = '\0';
	}

	if (entries == 0)
		goto garbage;
	if (hidden == entries) {
		memset(why, 0, sizeof(*why));
		return -EACCES;
	}
	return why->reason == IOMEM_OK ? 0 : -EPERM;

garbage:
	/* A line refused before the garbage is no reason to give. */
	memset(why, 0, sizeof(*why));
	return -EIO;
}

/* The whole table, afresh: it changes as drivers come and go. */
static int
table_read(int fd, char **out, size_t *outlen)
{
	char *buf = NULL, *nbuf;
	size_t len = 0, cap = 0;
	ssize_t n;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return -errno;
	for (;;) {
		if (len == cap) {
			if (cap >= MAX_TABLE) {
				free(buf);
				return -EFBIG;
			}
			cap = cap ? cap * 2 : 16384;
			nbuf = realloc(buf, cap);
			if (nbuf == NULL) {
				free(buf);
				return -ENOMEM;
			}
			buf = nbuf;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			free(buf);
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*out = buf;
	*outlen = len;
	return 0;
}

int
iomem_check_text(const char *text, size_t len, uint64_t start,
    uint64_t size, struct iomem_conflict *why)
{
	return check_text(text, len, start, size, 0, why);
}

int
iomem_check_bytes_text(const char *text, size_t len, uint64_t start,
    uint64_t size, struct iomem_conflict *why)
{
	return check_text(text, len, start, size, 1, why);
}

static int
check_fd(int fd, uint64_t start, uint64_t size, int exact,
    struct iomem_conflict *why)
{
	char *buf;
	size_t len;
	int err;

	memset(why, 0, sizeof(*why));
	err = table_read(fd, &buf, &len);
	if (err)
		return err;
	err = check_text(buf, len, start, size, exact, why);
	free(buf);
	return err;
}

int
iomem_check_fd(int fd, uint64_t start, uint64_t size,
    struct iomem_conflict *why)
{
	return check_fd(fd, start, size, 0, why);
}

int
iomem_check_bytes_fd(int fd, uint64_t start, uint64_t size,
    struct iomem_conflict *why)
{
	return check_fd(fd, start, size, 1, why);
}

int
iomem_ram_page_text(const char *text, size_t len, uint64_t *out)
{
	const char *p = text, *end = text + len, *nl;
	struct iomem_entry e;
	uint64_t page, first;
	int err;

	page = sysconf(_SC_PAGESIZE) > 0 ? (uint64_t)sysconf(_SC_PAGESIZE) : 4096;
	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		err = entry_parse(p, nl, &e);
		if (err < 0)
			return err;
		if (err == 0 || e.depth != 0 || !name_is(&e, "System RAM"))
			continue;
		if (e.start == 0 && e.end == 0)
			return -EACCES;
		first = e.start < LOW_MEM_END ? LOW_MEM_END : e.start;
		first = (first + page - 1) & ~(page - 1);
		if (first < e.start || first > e.end || e.end - first < page - 1)
			continue;
		*out = first;
		return 0;
	}
	return -ENOENT;
}

int
iomem_ram_page_fd(int fd, uint64_t *page)
{
	char *buf;
	size_t len;
	int err;

	err = table_read(fd, &buf, &len);
	if (err)
		return err;
	err = iomem_ram_page_text(buf, len, page);
	free(buf);
	return err;
}

void
iomem_describe(const struct iomem_conflict *why, char *buf, size_t len)
{
	if (why->reason == IOMEM_RAM)
		snprintf(buf, len, "range includes System RAM "
		    "[%#" PRIx64 "-%#" PRIx64 "]", why->start, why->end);
	else
		snprintf(buf, len, "range is busy: claimed by '%s' "
		    "[%#" PRIx64 "-%#" PRIx64 "]", why->name, why->start,
		    why->end);
}
