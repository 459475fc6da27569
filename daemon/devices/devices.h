/*
 * The drivers: zero (the userspace mmap_zero_prepare), mem (the
 * userspace mmap_mem_prepare) and pci (a BAR through sysfs), and how
 * their devices are opened.
 */
#ifndef MMAPD_DEVICES_H
#define MMAPD_DEVICES_H

#include "engine.h"

extern const struct map_driver zero_driver;
extern const struct map_driver mem_driver;
extern const struct map_driver pci_driver;

/* /dev/zero: opened once, cached mode only (it has no other). */
int zero_device_open(struct map_device *dev, const char *path, int access);

struct mem_params {
	const char *path;	/* "/dev/mem", or a stand-in in unit tests */
	const char *iomem_path;	/* "/proc/iomem", or a recorded table */
	/*
	 * Not NULL: the table is a copy of this fd, not iomem_path opened.
	 * /proc/iomem shows addresses only to a file opened with
	 * CAP_SYS_ADMIN, which the monitor gives up after start-up.
	 */
	const int *iomem_kept;
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

/*
 * Does the kernel refuse a System RAM page through this /dev/mem, as
 * STRICT_DEVMEM makes it?  1: it does; 0: it maps it; -ENOTTY: the path
 * is not /dev/mem (1:1) at all, so there is no physical memory to guard;
 * another -errno: it cannot be told.  *page is the page tried.
 */
int mem_strict_check(const struct mem_device *mem, uint64_t *page);
/*
 * The probe itself, on whatever the device is: 1 when the mmap of a
 * System RAM page fails with EPERM, 0 when it maps, else -errno.
 */
int mem_ram_probe(const struct mem_device *mem, uint64_t *page);

struct pci_params {
	const char *sysfs;	/* "/sys/bus/pci/devices", or a stand-in tree */
	const char *address;	/* "0000:00:01.0"; NULL: by vendor and device */
	unsigned int vendor, device, index;
	unsigned int bar;
	int access;		/* O_RDONLY or O_RDWR */
	const char *iomem_path;	/* for the busy check; NULL: none */
	const int *iomem_kept;	/* as in mem_params */
};

struct pci_device {
	struct map_device dev;
	char address[32];	/* as sysfs names it: "0000:00:01.0" */
	unsigned int bar;
	uint64_t start;		/* the BAR's bus address, for /proc/iomem */
	uint64_t len;		/* its length in bytes */
	uint64_t span;		/* what may be mapped: len in whole pages */
	int prefetch;
	int iomem_fd;
};

/* 0, or -errno and *why, a static string for the log. */
int pci_device_open(struct pci_device *pci, const struct pci_params *p,
    const char **why);
void pci_device_close(struct pci_device *pci);

#endif /* MMAPD_DEVICES_H */
