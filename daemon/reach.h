/*
 * How far an entry's offsets go on its device, and how far the fd a Map
 * of it hands out goes.  A sysfs resourceN fd reaches its whole BAR and
 * /dev/mem reaches every non-RAM physical page: the kernel bounds a
 * mapping by the file, never by the region a policy meant.  So a Map of
 * a region narrower than its fd is refused unless the policy says so.
 *
 * Pure arithmetic over a policy entry and the BAR behind it: no fd, no
 * socket, so the boundaries can be tested one by one.
 */
#ifndef MMAPD_REACH_H
#define MMAPD_REACH_H

#include <stddef.h>
#include <stdint.h>

#include "devices.h"
#include "policy.h"

/*
 * Bytes from the entry's base on that its offsets may name: a region's
 * size, or for a pci region without one the rest of its BAR (in whole
 * pages when pages, for a Map; to the byte otherwise, for a register),
 * never past the BAR; UINT64_MAX for zero and mem, which their drivers
 * bound.  bar is the pci region's opened BAR, NULL for any other entry
 * (a pci region without one has no bytes).
 */
uint64_t reach_limit(const struct policy_entry *e,
    const struct pci_device *bar, int pages);

/*
 * [offset, offset + size) inside [0, limit), and base + offset + size
 * within 64 bits: 0 and *at = base + offset, or -EINVAL.
 */
int reach_locate(uint64_t base, uint64_t limit, uint64_t offset,
    uint64_t size, uint64_t *at);

/*
 * Does the fd a Map of e hands out reach bytes outside e?  1 for a pci
 * region that is not its whole BAR, and for a region of mem (the fd is
 * /dev/mem itself); 0 otherwise.
 */
int reach_beyond(const struct policy_entry *e, const struct pci_device *bar);

/*
 * Why a Map of e is refused because its fd would reach beyond e, with
 * the numbers: what the fd reaches, what the region is, that Read and
 * Write serve it, and the key that would allow it.  Into buf (len bytes).
 */
const char *reach_refusal(const struct policy_entry *e,
    const struct pci_device *bar, char *buf, size_t len);

/*
 * The same for the log when the key allowed it (whole_bar = yes): what
 * its holder can reach.
 */
const char *reach_granted(const struct policy_entry *e,
    const struct pci_device *bar, char *buf, size_t len);

#endif /* MMAPD_REACH_H */
