/*
 * The kernel's resource table as /proc/iomem shows it, read to pre-check
 * /dev/mem ranges the way STRICT_DEVMEM and IO_STRICT_DEVMEM would judge
 * them.  The kernel stays the authority: this only gives early, clear
 * errors.
 */
#ifndef MMAPD_IOMEM_H
#define MMAPD_IOMEM_H

#include <stddef.h>
#include <stdint.h>

enum iomem_reason {
	IOMEM_OK = 0,
	IOMEM_RAM,		/* System RAM above the first MiB */
	IOMEM_BUSY,		/* claimed by a kernel driver, or marked busy */
};

struct iomem_conflict {
	enum iomem_reason reason;
	uint64_t start;		/* the entry that refused, inclusive */
	uint64_t end;		/* inclusive, as /proc/iomem prints it */
	char name[64];		/* its name: "System RAM", "ahci", ... */
};

/*
 * Judge [start, start + size) against a table.  0: allowed; -EPERM: not
 * allowed, *why says which entry refused; -EIO: the table does not parse;
 * -EACCES: the table hides its addresses (read without CAP_SYS_ADMIN);
 * -EINVAL: the range is empty or wraps.  *why names a line on -EPERM
 * alone: on every other return it is all zero (reason IOMEM_OK, no name),
 * whatever the table held before the line that failed.
 */
int iomem_check_text(const char *text, size_t len, uint64_t start,
    uint64_t size, struct iomem_conflict *why);

/* The same, reading the table afresh from an open /proc/iomem. */
int iomem_check_fd(int fd, uint64_t start, uint64_t size,
    struct iomem_conflict *why);

/*
 * The same for exactly the bytes [start, start + size), not widened to
 * pages nor excusing the first MiB: a PCI BAR smaller than a page shares
 * its page with its neighbours, whose claims are not its own.
 */
int iomem_check_bytes_text(const char *text, size_t len, uint64_t start,
    uint64_t size, struct iomem_conflict *why);
int iomem_check_bytes_fd(int fd, uint64_t start, uint64_t size,
    struct iomem_conflict *why);

/*
 * The first whole page of System RAM at or above 1 MiB, a page STRICT_DEVMEM
 * must refuse.  0; -ENOENT: none; -EACCES: addresses hidden; -EIO: garbage.
 */
int iomem_ram_page_text(const char *text, size_t len, uint64_t *page);
int iomem_ram_page_fd(int fd, uint64_t *page);

/*
 * For a client: "range is busy: claimed by 'ahci' [0x...-0x...]", or the
 * System RAM range that refused.
 */
void iomem_describe(const struct iomem_conflict *why, char *buf, size_t len);

#endif /* MMAPD_IOMEM_H */
