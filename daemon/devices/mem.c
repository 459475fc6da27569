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
 *	   (a range a driver claimed: -EBUSY, naming the claimant)
 *	5a. a private writable mapping (copy-on-write)	-EINVAL
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
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
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
	if (err == -EPERM && why.reason == IOMEM_RAM) {
		desc->reason = "range includes System RAM above the first MiB";
		return err;
	}
	if (err == -EPERM) {
		/* The kernel would say EPERM; the claimant is what helps. */
		iomem_describe(&why, desc->reason_buf, sizeof(desc->reason_buf));
		desc->reason = desc->reason_buf;
		return -EBUSY;
	}
	if (err) {
		desc->reason = "cannot judge the range: the iomem table is unreadable";
		return err;
	}
	/*
	 * A private writable mapping is copy-on-write: the first store
	 * would go to a private page, never to the device.  The kernel
	 * allows it; a daemon that hands out device memory should not.
	 */
	if (map_desc_is_cow(desc) && (desc->flags & MAP_DESC_WRITE)) {
		desc->reason = "device memory mapped private and writable is "
		    "copy-on-write: writes would not reach the device; map it shared";
		return -EINVAL;
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

	if (params->iomem_kept != NULL)
		mem->iomem_fd = fcntl(*params->iomem_kept, F_DUPFD_CLOEXEC, 0);
	else
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

int
mem_strict_check(const struct mem_device *mem, uint64_t *page)
{
	struct stat st;
	int fd = mem->dev.fd[MAP_CACHE_UNCACHED];

	*page = 0;
	if (fd < 0)
		fd = mem->dev.fd[MAP_CACHE_CACHED];
	if (fd < 0)
		return -EBADF;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != 1 ||
	    minor(st.st_rdev) != 1)
		return -ENOTTY;
	return mem_ram_probe(mem, page);
}

int
mem_ram_probe(const struct mem_device *mem, uint64_t *page)
{
	void *p;
	int fd = mem->dev.fd[MAP_CACHE_UNCACHED], err;

	*page = 0;
	if (fd < 0)
		fd = mem->dev.fd[MAP_CACHE_CACHED];
	if (fd < 0)
		return -EBADF;
	err = iomem_ram_page_fd(mem->iomem_fd, page);
	if (err)
		return err;
	/*
	 * The kernel is the authority: ask it.  Under STRICT_DEVMEM the
	 * mmap itself fails with EPERM; nothing is read either way.
	 */
	p = mmap(NULL, (size_t)map_page_size(), PROT_READ, MAP_SHARED, fd,
	    (off_t)*page);
	if (p != MAP_FAILED) {
		munmap(p, (size_t)map_page_size());
		return 0;
	}
	return errno == EPERM ? 1 : -errno;
}

void
mem_device_close(struct mem_device *mem)
{
	map_device_close(&mem->dev);
	if (mem->iomem_fd >= 0)
		close(mem->iomem_fd);
	mem->iomem_fd = -1;
}
