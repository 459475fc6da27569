/*
 * The devices a policy names, opened: /dev/mem as [mem] says and the pci
 * regions, one sysfs BAR each.  Start-up opens them as root before the
 * worker is forked; at each reload the monitor opens them again for the
 * new policy and hands them over (monitor.c).  A region that cannot be
 * opened (no such device, an I/O BAR, a base past the BAR) is logged
 * and left out; its Maps then get ENODEV.
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
region_open(const struct policy_entry *e, const int *iomem_kept,
    struct pci_region *r)
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
		.iomem_kept = iomem_kept,
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
	log_info("region %s: pci %s BAR %u at %#" PRIx64 ", %#" PRIx64
	    " bytes, %s%s", e->name, r->pci.address, e->bar, r->pci.start,
	    r->pci.len, r->pci.prefetch ? "prefetchable" : "not prefetchable",
	    r->pci.dev.fd[MAP_CACHE_WC] >= 0 ? ", wc" : "");
	return 0;
}

int
pcis_open(const struct policy *pol, const int *iomem_kept,
    struct pci_region **out, size_t *n)
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
		if (region_open(e, iomem_kept, &v[k]) == 0)
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
		if (strcmp(d->pcis[i].name, name) == 0)
			return &d->pcis[i];
	return NULL;
}

int
policy_wants_mem(const struct policy *pol)
{
	size_t i;

	for (i = 0; i < pol->n_entries; i++)
		if (pol->entries[i].kind == POLICY_MEM ||
		    (pol->entries[i].kind == POLICY_REGION &&
		    !pol->entries[i].is_pci))
			return 1;
	return 0;
}

int
mem_open_policy(const struct policy *pol, const int *iomem_kept,
    struct mem_device *mem)
{
	const struct policy_entry *e = policy_find(pol, "mem");
	struct mem_params p = {
		.path = "/dev/mem",
		.iomem_path = "/proc/iomem",
		.access = O_RDWR,
		.cache = MAP_CACHE_DEFAULT,
	};
	int err;

	if (!policy_wants_mem(pol))
		return -ENOENT;
	if (e != NULL && e->kind == POLICY_MEM) {
		if (e->path)
			p.path = e->path;
		if (e->iomem)
			p.iomem_path = e->iomem;
		p.cache = e->cache;
	}
	/* The kept table stands for /proc/iomem only, not for a stand-in. */
	if (strcmp(p.iomem_path, "/proc/iomem") == 0)
		p.iomem_kept = iomem_kept;
	err = mem_device_open(mem, &p);
	if (err) {
		log_err("mem: cannot open %s or %s: %s; mem and its regions "
		    "are not offered", p.path, p.iomem_path, strerror(-err));
		return err;
	}
	log_info("mem: %s opened (%s by default), table %s", p.path,
	    map_cache_name(mem->cache), p.iomem_path);
	return 0;
}
