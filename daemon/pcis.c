/*
 * The pci regions of a policy, opened at start-up: one sysfs BAR each.
 * A region that cannot be opened (no such device, an I/O BAR, a base
 * past the BAR) is logged and left out; its Maps then get ENODEV.
 *
 * mmapd opens nothing once it has dropped root, so a reload offers the
 * regions opened at start-up, by name, when the new policy names the
 * same BAR; anything else needs a restart, and the log says so.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "log.h"

static void
region_close(struct pci_region *r)
{
	pci_device_close(&r->pci);
	free(r->sysfs);
	free(r->address);
	r->sysfs = r->address = NULL;
}

/* The region's range lies in its BAR; if not, it is not offered. */
static int
region_fits(const struct policy_entry *e, const struct pci_region *r)
{
	if (e->base < r->pci.span && e->size <= r->pci.span - e->base)
		return 1;
	log_err("region %s: base %#" PRIx64 " size %#" PRIx64 " runs past "
	    "BAR %u of %s (%#" PRIx64 " bytes); not offered", e->name,
	    e->base, e->size, e->bar, r->pci.address, r->pci.len);
	return 0;
}

static int
region_open(const struct policy_entry *e, struct pci_region *r)
{
	struct pci_params p = {
		.sysfs = e->sysfs,
		.address = e->pci_address,
		.vendor = e->pci_vendor,
		.device = e->pci_device,
		.index = e->pci_index,
		.bar = e->bar,
		.access = e->write ? O_RDWR : O_RDONLY,
		.iomem_path = "/proc/iomem",
	};
	const char *why = NULL;
	char id[32];
	int err;

	if (e->pci_address == NULL)
		snprintf(id, sizeof(id), "%04x:%04x #%u", e->pci_vendor,
		    e->pci_device, e->pci_index);
	else
		snprintf(id, sizeof(id), "%s", e->pci_address);
	snprintf(r->name, sizeof(r->name), "%s", e->name);
	err = pci_device_open(&r->pci, &p, &why);
	if (err) {
		log_err("region %s: pci %s BAR %u: %s: %s; not offered",
		    e->name, id, e->bar, why, strerror(-err));
		return err;
	}
	if (!region_fits(e, r)) {
		pci_device_close(&r->pci);
		return -EINVAL;
	}
	r->sysfs = e->sysfs ? strdup(e->sysfs) : NULL;
	r->address = e->pci_address ? strdup(e->pci_address) : NULL;
	if ((e->sysfs && r->sysfs == NULL) ||
	    (e->pci_address && r->address == NULL)) {
		log_err("region %s: out of memory; not offered", e->name);
		region_close(r);
		return -ENOMEM;
	}
	r->vendor = e->pci_vendor;
	r->device = e->pci_device;
	r->index = e->pci_index;
	r->bar = e->bar;
	r->write = e->write;
	r->offered = 1;
	log_info("region %s: pci %s BAR %u at %#" PRIx64 ", %#" PRIx64
	    " bytes, %s%s", e->name, r->pci.address, e->bar, r->pci.start,
	    r->pci.len, r->pci.prefetch ? "prefetchable" : "not prefetchable",
	    r->pci.dev.fd[MAP_CACHE_WC] >= 0 ? ", wc" : "");
	return 0;
}

static int
str_same(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

/*
 * Does e name the BAR r was opened for, opened as e needs it?  A
 * read-only region may use a BAR opened read-write: the engine gives
 * read-only fds of it.
 */
static int
region_same(const struct policy_entry *e, const struct pci_region *r)
{
	if (!str_same(e->sysfs, r->sysfs) ||
	    !str_same(e->pci_address, r->address) || e->bar != r->bar ||
	    (e->write && !r->write))
		return 0;
	if (e->pci_address == NULL && (e->pci_vendor != r->vendor ||
	    e->pci_device != r->device || e->pci_index != r->index))
		return 0;
	return 1;
}

void
pcis_reload(struct pci_region *v, size_t n, const struct policy *pol)
{
	struct pci_region *r;
	size_t i, k;

	for (k = 0; k < n; k++)
		v[k].offered = 0;
	for (i = 0; i < pol->n_entries; i++) {
		const struct policy_entry *e = &pol->entries[i];

		if (e->kind != POLICY_REGION || !e->is_pci)
			continue;
		for (r = NULL, k = 0; k < n && r == NULL; k++)
			if (strcmp(v[k].name, e->name) == 0)
				r = &v[k];
		if (r == NULL)
			log_warn("region %s: its PCI BAR was not opened at "
			    "start-up: restart mmapd to offer it", e->name);
		else if (!region_same(e, r))
			log_warn("region %s: names another PCI BAR, or write "
			    "access, than was opened at start-up: restart "
			    "mmapd to offer it", e->name);
		else if (region_fits(e, r))
			r->offered = 1;
	}
}

int
pcis_open(const struct policy *pol, struct pci_region **out, size_t *n)
{
	struct pci_region *v;
	size_t i, k = 0;

	*out = NULL;
	*n = 0;
	v = calloc(pol->n_entries ? pol->n_entries : 1, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	for (i = 0; i < pol->n_entries; i++) {
		const struct policy_entry *e = &pol->entries[i];

		if (e->kind != POLICY_REGION || !e->is_pci)
			continue;
		if (region_open(e, &v[k]) == 0)
			k++;
	}
	*out = v;
	*n = k;
	return 0;
}

void
pcis_close(struct pci_region *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		region_close(&v[i]);
	free(v);
}

const struct pci_region *
pcis_find(const struct mmapd *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->n_pcis; i++)
		if (d->pcis[i].offered && strcmp(d->pcis[i].name, name) == 0)
			return &d->pcis[i];
	return NULL;
}
