/*
 * /dev/mem, after the kernel's mmap_mem_prepare(): its checks in its
 * order with its errnos, then a remap of the whole range whose failures
 * the client sees as -EAGAIN.
 *
 *	1. the offset does not fit phys_addr_t		-EINVAL
 *	2. the range wraps the physical address space	-EINVAL
 *	3. !valid_mmap_phys_addr_range()		-EINVAL
 *	4. !private_mapping_ok(): only without an MMU	(never here)
 *	5. !range_is_allowed(), judged from /proc/iomem	-EPERM
 *	6. !phys_mem_access_prot_allowed()		-EINVAL
 *
 * Step 6 is where the cache mode is settled: uncached unless the device
 * was configured otherwise, realised by an open with O_SYNC, as x86 PAT
 * gives UC- to an O_DSYNC file.  Write-combine cannot be asked of
 * /dev/mem through open(2), so it is refused here.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "devices.h"
#include "iomem.h"

static const struct mem_device *
mem_of(const struct map_device *dev)
{
	return (const struct mem_device *)
	    ((const char *)dev - offsetof(struct mem_device, dev));
}

static int
mem_prepare(struct map_desc *desc)
{
	const struct mem_device *mem = mem_of(desc->dev);
	uint64_t offset = desc->offset, size = desc->size, mask, last;
	struct iomem_conflict why;
	int err;

	mask = mem->addr_bits >= 64 ? UINT64_MAX :
	    (UINT64_C(1) << mem->addr_bits) - 1;
	if (offset & ~mask) {
		desc->reason = "offset does not fit a physical address";
		return -EINVAL;
	}
	if (size - 1 > mask - offset) {
		desc->reason = "range wraps the physical address space";
		return -EINVAL;
	}
	last = offset + size - 1;
	if (mem->phys_bits < 64 && (last >> mem->phys_bits) != 0) {
		desc->reason = "range lies beyond the CPU's physical address bits";
		return -EINVAL;
	}

	err = iomem_check_fd(mem->iomem_fd, offset, size, &why);
	if (err == -EPERM) {
		desc->reason = why.reason == IOMEM_RAM ?
		    "range includes System RAM above the first MiB" :
		    "range is claimed by a kernel driver or marked busy";
		return err;
	}
	if (err) {
		desc->reason = "cannot judge the range: the iomem table is unreadable";
		return err;
	}

	if (desc->cache == MAP_CACHE_DEFAULT)
		desc->cache = mem->cache;
	if ((desc->cache != MAP_CACHE_CACHED &&
	    desc->cache != MAP_CACHE_UNCACHED) ||
	    desc->dev->fd[desc->cache] < 0) {
		desc->reason = "cache mode not available for /dev/mem";
		return -EINVAL;
	}

	/* After the cache decision: the remap takes a snapshot of it. */
	map_action_remap_full(desc);
	desc->action.error_filter = -EAGAIN;
	return 0;
}

const struct map_driver mem_driver = {
	.name = "mem",
	.prepare = mem_prepare,
};

/* "address sizes	: 46 bits physical, 48 bits virtual"; 64 when absent. */
static unsigned int
cpu_phys_bits(void)
{
	char line[256];
	unsigned int bits = 64, n;
	FILE *f;

	f = fopen("/proc/cpuinfo", "re");
	if (f == NULL)
		return bits;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "address sizes", 13) != 0)
			continue;
		if (sscanf(line, "address sizes : %u bits physical", &n) == 1 ||
		    sscanf(line, "address sizes\t: %u bits physical", &n) == 1)
			bits = n;
		break;
	}
	fclose(f);
	return bits > 0 && bits < 64 ? bits : 64;
}

int
mem_device_open(struct mem_device *mem, const struct mem_params *params)
{
	int err;

	memset(mem, 0, sizeof(*mem));
	mem->iomem_fd = -1;
	mem->dev.driver = &mem_driver;
	for (int i = 0; i < MAP_CACHE_NR; i++)
		mem->dev.fd[i] = mem->dev.fd_ro[i] = -1;

	mem->cache = params->cache;
	if (mem->cache == MAP_CACHE_DEFAULT)
		mem->cache = MAP_CACHE_UNCACHED;
	if (mem->cache != MAP_CACHE_CACHED && mem->cache != MAP_CACHE_UNCACHED)
		return -EINVAL;
	mem->addr_bits = params->addr_bits ? params->addr_bits : 64;
	if (mem->addr_bits < 32 || mem->addr_bits > 64)
		return -EINVAL;
	mem->phys_bits = params->phys_bits ? params->phys_bits : cpu_phys_bits();
	if (mem->phys_bits > 64)
		return -EINVAL;

	mem->iomem_fd = open(params->iomem_path, O_RDONLY | O_CLOEXEC);
	if (mem->iomem_fd < 0)
		return -errno;
	err = map_device_open(&mem->dev, &mem_driver, "mem", params->path,
	    params->access, (1u << MAP_CACHE_CACHED) | (1u << MAP_CACHE_UNCACHED));
	if (err) {
		close(mem->iomem_fd);
		mem->iomem_fd = -1;
		return err;
	}
	return 0;
}

void
mem_device_close(struct mem_device *mem)
{
	map_device_close(&mem->dev);
	if (mem->iomem_fd >= 0)
		close(mem->iomem_fd);
	mem->iomem_fd = -1;
}
