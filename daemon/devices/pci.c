/*
 * A PCI BAR through sysfs: /sys/bus/pci/devices/D/resourceN, and
 * resourceN_wc for write-combining where the kernel offers it (a
 * prefetchable memory BAR).  Unlike /dev/mem, such an fd reaches its
 * BAR and nothing else: the kernel bounds-checks every mmap of it
 * (pci_mmap_fits()), so it can go to an unprivileged client.
 *
 * prepare() in order:
 *	1. the range lies outside the BAR (pages)	-EINVAL
 *	2. a private writable mapping (copy-on-write)	-EINVAL
 *	3. a kernel driver claimed the range		-EBUSY, naming it
 *	4. a cache mode the BAR cannot give		-EINVAL
 * then a remap of the whole range whose failures the client sees as
 * -EAGAIN (the kernel says EINVAL once a driver has claimed the BAR).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices.h"
#include "iomem.h"

/* The resource file's flags (include/linux/ioport.h). */
#define PCI_RES_IO		0x00000100
#define PCI_RES_MEM		0x00000200
#define PCI_RES_PREFETCH	0x00002000

static const struct pci_device *
pci_of(const struct map_device *dev)
{
	return (const struct pci_device *)
	    ((const char *)dev - offsetof(struct pci_device, dev));
}

static int
pci_prepare(struct map_desc *desc)
{
	const struct pci_device *pci = pci_of(desc->dev);
	uint64_t span = pci->span, offset = desc->offset, size = desc->size;
	uint64_t check;
	struct iomem_conflict why;
	int err;

	if (offset >= span || size > span - offset) {
		desc->reason = "range lies outside the BAR";
		return -EINVAL;
	}
	if (map_desc_is_cow(desc) && (desc->flags & MAP_DESC_WRITE)) {
		desc->reason = "device memory mapped private and writable is "
		    "copy-on-write: writes would not reach the device; map it shared";
		return -EINVAL;
	}

	/* A BAR smaller than a page is judged by its own bytes only. */
	check = size;
	if (offset >= pci->len)
		check = 0;
	else if (check > pci->len - offset)
		check = pci->len - offset;
	if (check > 0 && pci->iomem_fd >= 0) {
		err = iomem_check_bytes_fd(pci->iomem_fd, pci->start + offset, check,
		    &why);
		if (err == -EPERM) {
			iomem_describe(&why, desc->reason_buf,
			    sizeof(desc->reason_buf));
			desc->reason = desc->reason_buf;
			return -EBUSY;
		}
		if (err) {
			desc->reason = "cannot judge the range: the iomem table "
			    "is unreadable";
			return err;
		}
	}

	if (desc->cache == MAP_CACHE_DEFAULT)
		desc->cache = MAP_CACHE_UNCACHED;
	if ((desc->cache != MAP_CACHE_UNCACHED && desc->cache != MAP_CACHE_WC) ||
	    desc->dev->fd[desc->cache] < 0) {
		desc->reason = desc->cache == MAP_CACHE_WC ?
		    "write-combine needs a prefetchable BAR (resourceN_wc)" :
		    "a PCI BAR is mapped uncached or write-combined, never cached";
		return -EINVAL;
	}

	map_action_remap_full(desc);
	desc->action.error_filter = -EAGAIN;
	return 0;
}

const struct map_driver pci_driver = {
	.name = "pci",
	.prepare = pci_prepare,
};

/* dir/name, opened close-on-exec: an fd or -errno. */
static int
open_at(const char *dir, const char *name, int flags)
{
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* The whole of a small sysfs file, NUL-terminated. */
static int
sysfs_read(const char *dir, const char *name, char *buf, size_t len)
{
	ssize_t n;
	int fd, err = 0;

	fd = open_at(dir, name, O_RDONLY);
	if (fd < 0)
		return fd;
	n = read(fd, buf, len - 1);
	if (n < 0)
		err = -errno;
	else
		buf[n] = '\0';
	close(fd);
	return err;
}

static int
sysfs_hex(const char *dir, const char *name, unsigned int *out)
{
	char buf[32], *end;
	unsigned long v;
	int err;

	err = sysfs_read(dir, name, buf, sizeof(buf));
	if (err)
		return err;
	errno = 0;
	v = strtoul(buf, &end, 16);
	if (errno != 0 || end == buf || (*end != '\n' && *end != '\0') ||
	    v > 0xffff)
		return -EIO;
	*out = (unsigned int)v;
	return 0;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The index-th function with this vendor and device, in address order
 * (the order lspci shows), into addr.
 */
static int
pci_find(const struct pci_params *p, char *addr, size_t len)
{
	char dir[PATH_MAX], **names = NULL, **nv;
	size_t n = 0, i;
	struct dirent *de;
	unsigned int vendor, device;
	DIR *d;
	int err = 0;

	d = opendir(p->sysfs);
	if (d == NULL)
		return -errno;
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(dir, sizeof(dir), "%s/%s", p->sysfs,
		    de->d_name) >= (int)sizeof(dir))
			continue;
		if (sysfs_hex(dir, "vendor", &vendor) < 0 ||
		    sysfs_hex(dir, "device", &device) < 0 ||
		    vendor != p->vendor || device != p->device)
			continue;
		nv = reallocarray(names, n + 1, sizeof(*names));
		if (nv == NULL) {
			err = -ENOMEM;
			goto out;
		}
		names = nv;
		names[n] = strdup(de->d_name);
		if (names[n] == NULL) {
			err = -ENOMEM;
			goto out;
		}
		n++;
	}
	if (errno != 0) {
		err = -errno;
		goto out;
	}
	if (p->index >= n) {
		err = -ENODEV;
		goto out;
	}
	qsort(names, n, sizeof(*names), name_cmp);
	if (snprintf(addr, len, "%s", names[p->index]) >= (int)len)
		err = -ENAMETOOLONG;
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return err;
}

/* Line bar of the resource file: "0x... 0x... 0x..." start, end, flags. */
static int
pci_bar_read(const char *dir, unsigned int bar, uint64_t *start,
    uint64_t *end, uint64_t *flags)
{
	char buf[1024], *line = buf, *nl;
	unsigned int i;
	int err;

	err = sysfs_read(dir, "resource", buf, sizeof(buf));
	if (err)
		return err;
	for (i = 0; i < bar; i++) {
		nl = strchr(line, '\n');
		if (nl == NULL)
			return -EIO;
		line = nl + 1;
	}
	if (sscanf(line, "%" SCNx64 " %" SCNx64 " %" SCNx64, start, end,
	    flags) != 3)
		return -EIO;
	return 0;
}

int
pci_device_open(struct pci_device *pci, const struct pci_params *p,
    const char **why)
{
	char dir[PATH_MAX], name[32];
	uint64_t start, end, flags, ps = map_page_size();
	int err, fd;

	memset(pci, 0, sizeof(*pci));
	pci->iomem_fd = -1;
	pci->dev.driver = &pci_driver;
	pci->dev.name = "pci";
	pci->dev.access = p->access;
	for (int i = 0; i < MAP_CACHE_NR; i++)
		pci->dev.fd[i] = pci->dev.fd_ro[i] = -1;
	pci->bar = p->bar;

	if (p->address != NULL) {
		if (snprintf(pci->address, sizeof(pci->address), "%s",
		    p->address) >= (int)sizeof(pci->address)) {
			*why = "address too long";
			return -EINVAL;
		}
	} else {
		err = pci_find(p, pci->address, sizeof(pci->address));
		if (err) {
			*why = err == -ENODEV ? "no such vendor:device at "
			    "that index" : "cannot scan the PCI devices";
			return err;
		}
	}
	if (snprintf(dir, sizeof(dir), "%s/%s", p->sysfs, pci->address) >=
	    (int)sizeof(dir)) {
		*why = "path too long";
		return -ENAMETOOLONG;
	}
	err = pci_bar_read(dir, p->bar, &start, &end, &flags);
	if (err) {
		*why = err == -ENOENT ? "no such PCI device" :
		    "cannot read its resource table";
		/* As for a vendor:device that is not there: no such device. */
		return err == -ENOENT ? -ENODEV : err;
	}
	if (start == 0 || end < start) {
		*why = "the BAR is not assigned";
		return -ENODEV;
	}
	if (!(flags & PCI_RES_MEM)) {
		*why = flags & PCI_RES_IO ? "the BAR is of I/O ports, not memory" :
		    "the BAR is not memory";
		return -ENODEV;
	}
	pci->start = start;
	pci->len = end - start + 1;
	/* What the kernel lets one map: the BAR in whole pages. */
	pci->span = (pci->len + ps - 1) & ~(ps - 1);
	pci->prefetch = (flags & PCI_RES_PREFETCH) != 0;

	snprintf(name, sizeof(name), "resource%u", p->bar);
	fd = open_at(dir, name, p->access);
	if (fd < 0) {
		err = fd;
		*why = "cannot open its sysfs resource file";
		goto fail;
	}
	pci->dev.fd[MAP_CACHE_UNCACHED] = fd;
	if (p->access == O_RDWR) {
		fd = open_at(dir, name, O_RDONLY);
		if (fd < 0) {
			err = fd;
			*why = "cannot open its sysfs resource file read-only";
			goto fail;
		}
		pci->dev.fd_ro[MAP_CACHE_UNCACHED] = fd;
	}
	/* Only a prefetchable BAR has one; its absence is no error. */
	snprintf(name, sizeof(name), "resource%u_wc", p->bar);
	fd = open_at(dir, name, p->access);
	if (fd >= 0) {
		pci->dev.fd[MAP_CACHE_WC] = fd;
		if (p->access == O_RDWR) {
			fd = open_at(dir, name, O_RDONLY);
			if (fd < 0) {
				err = fd;
				*why = "cannot open its _wc file read-only";
				goto fail;
			}
			pci->dev.fd_ro[MAP_CACHE_WC] = fd;
		}
	}
	if (p->iomem_kept != NULL) {
		pci->iomem_fd = fcntl(*p->iomem_kept, F_DUPFD_CLOEXEC, 0);
		if (pci->iomem_fd < 0) {
			err = -errno;
			*why = "cannot copy the iomem table's fd";
			goto fail;
		}
	} else if (p->iomem_path != NULL) {
		pci->iomem_fd = open(p->iomem_path, O_RDONLY | O_CLOEXEC);
		if (pci->iomem_fd < 0) {
			err = -errno;
			*why = "cannot open the iomem table";
			goto fail;
		}
	}
	return 0;

fail:
	pci_device_close(pci);
	return err;
}

void
pci_device_close(struct pci_device *pci)
{
	map_device_close(&pci->dev);
	if (pci->iomem_fd >= 0)
		close(pci->iomem_fd);
	pci->iomem_fd = -1;
}
