/*
 * How far an entry's offsets go on its device, and how far the fd a Map
 * of it hands out goes (see reach.h).
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>

#include "reach.h"

uint64_t
reach_limit(const struct policy_entry *e, const struct pci_device *bar,
    int pages)
{
	uint64_t end;

	if (e->kind != POLICY_REGION)
		return UINT64_MAX;
	if (!e->is_pci)
		return e->size;
	if (bar == NULL)
		return 0;
	end = pages ? bar->span : bar->len;
	if (e->base >= end)
		return 0;
	if (e->size != 0 && e->size < end - e->base)
		return e->size;
	return end - e->base;
}

int
reach_locate(uint64_t base, uint64_t limit, uint64_t offset, uint64_t size,
    uint64_t *at)
{
	if (offset >= limit || size > limit - offset)
		return -EINVAL;
	/* A limit is never meant to run past 2^64, but do not trust it. */
	if (offset > UINT64_MAX - base || size > UINT64_MAX - base - offset)
		return -EINVAL;
	*at = base + offset;
	return 0;
}

/* The region is the whole BAR: what the kernel lets its fd map. */
static int
pci_whole(const struct policy_entry *e, const struct pci_device *bar)
{
	return bar != NULL && e->base == 0 &&
	    (e->size == 0 || e->size >= bar->len);
}

int
reach_beyond(const struct policy_entry *e, const struct pci_device *bar)
{
	if (e->kind != POLICY_REGION)
		return 0;
	if (!e->is_pci)
		return 1;
	return !pci_whole(e, bar);
}

const char *
reach_refusal(const struct policy_entry *e, const struct pci_device *bar,
    char *buf, size_t len)
{
	unsigned long long base = e->base, size = reach_limit(e, bar, 1);

	if (!e->is_pci) {
		snprintf(buf, len, "region %s is base %#llx size %#llx of "
		    "/dev/mem, but a Map hands out /dev/mem itself, which "
		    "reaches all non-RAM physical memory: refused; Read and "
		    "Write serve the region (mmapctl read/write); a Map is "
		    "for its raw_fd_users and raw_fd_groups only", e->name,
		    base, size);
		return buf;
	}
	if (bar == NULL) {
		snprintf(buf, len, "region %s: its BAR is not open", e->name);
		return buf;
	}
	snprintf(buf, len, "region %s is base %#llx size %#llx of BAR %u of "
	    "%s, but a Map hands out the whole BAR (%#llx bytes): refused; "
	    "Read and Write serve the region (mmapctl read/write), or the "
	    "policy says whole_bar = yes", e->name, base, size, bar->bar,
	    bar->address, (unsigned long long)bar->len);
	return buf;
}

const char *
reach_granted(const struct policy_entry *e, const struct pci_device *bar,
    char *buf, size_t len)
{
	if (bar == NULL) {
		snprintf(buf, len, "region %s: its BAR is not open", e->name);
		return buf;
	}
	snprintf(buf, len, "region %s (base %#llx size %#llx) went out as "
	    "all of BAR %u of %s (%#llx bytes): its holder can map every "
	    "byte of the BAR (whole_bar = yes)", e->name,
	    (unsigned long long)e->base,
	    (unsigned long long)reach_limit(e, bar, 1), bar->bar,
	    bar->address, (unsigned long long)bar->len);
	return buf;
}
