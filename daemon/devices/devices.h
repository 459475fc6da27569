/*
 * The drivers: zero (the userspace mmap_zero_prepare) and mem (the
 * userspace mmap_mem_prepare), and how their devices are opened.
 */
#ifndef MMAPD_DEVICES_H
#define MMAPD_DEVICES_H

#include "engine.h"

extern const struct map_driver zero_driver;
extern const struct map_driver mem_driver;

/* /dev/zero: opened once, cached mode only (it has no other). */
int zero_device_open(struct map_device *dev, const char *path, int access);

struct mem_params {
	const char *path;	/* "/dev/mem", or a stand-in in unit tests */
	const char *iomem_path;	/* "/proc/iomem", or a recorded table */
	int access;		/* O_RDONLY or O_RDWR */
	enum map_cache cache;	/* when a request says DEFAULT; DEFAULT: uncached */
	unsigned int addr_bits;	/* width of phys_addr_t; 0: 64 */
	unsigned int phys_bits;	/* address bits the CPU decodes; 0: from /proc/cpuinfo */
};

struct mem_device {
	struct map_device dev;
	int iomem_fd;		/* kept open: /proc/iomem shows addresses to its opener */
	enum map_cache cache;
	unsigned int addr_bits;
	unsigned int phys_bits;
};

int mem_device_open(struct mem_device *mem, const struct mem_params *params);
void mem_device_close(struct mem_device *mem);

#endif /* MMAPD_DEVICES_H */
