/*
 * libmmapclient: register access through a mapped region.  One load or
 * store of exactly the width asked, through a volatile pointer, so the
 * compiler neither splits, merges, repeats nor drops it: what device
 * registers need, and what memcpy() and memset() do not promise.  The
 * checks here are shared with Read and Write (register.c).
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>

#include "internal.h"

int
access_check(uint64_t offset, unsigned int width, uint64_t value, char *why,
    size_t cap)
{
	if (width != 8 && width != 16 && width != 32 && width != 64) {
		if (why)
			snprintf(why, cap, "width %u is not 8, 16, 32 or 64 "
			    "bits", width);
		return -EINVAL;
	}
	if (offset % (width / 8) != 0) {
		if (why)
			snprintf(why, cap, "offset %#llx is not a multiple of "
			    "%u bytes (width %u)", (unsigned long long)offset,
			    width / 8, width);
		return -EINVAL;
	}
	if (value & ~width_mask(width)) {
		if (why)
			snprintf(why, cap, "value %#llx does not fit in %u "
			    "bits", (unsigned long long)value, width);
		return -EINVAL;
	}
	return 0;
}

/*
 * The checks of the accessors, in the order the header gives: the
 * access itself, then where it falls, then whether it may store.
 */
static int
region_check(const struct mmapclient_region *r, uint64_t offset,
    unsigned int width, uint64_t value, int store)
{
	int err;

	err = access_check(offset, width, value, NULL, 0);
	if (err)
		return err;
	if (offset >= r->size || width / 8 > r->size - offset)
		return -ERANGE;
	if (store && !(r->prot & PROT_WRITE))
		return -EACCES;
	return 0;
}

int
mmapclient_region_read(const struct mmapclient_region *r, uint64_t offset,
    unsigned int width, uint64_t *value)
{
	const volatile unsigned char *p;
	int err;

	if (value)
		*value = 0;
	if (r == NULL || value == NULL)
		return -EINVAL;
	err = region_check(r, offset, width, 0, 0);
	if (err)
		return err;
	p = (const volatile unsigned char *)r->addr + offset;
	switch (width) {
	case 8:
		*value = *p;
		break;
	case 16:
		*value = *(const volatile uint16_t *)(const volatile void *)p;
		break;
	case 32:
		*value = *(const volatile uint32_t *)(const volatile void *)p;
		break;
	default:
		*value = *(const volatile uint64_t *)(const volatile void *)p;
		break;
	}
	return 0;
}

int
mmapclient_region_write(const struct mmapclient_region *r, uint64_t offset,
    unsigned int width, uint64_t value)
{
	volatile unsigned char *p;
	int err;

	if (r == NULL)
		return -EINVAL;
	err = region_check(r, offset, width, value, 1);
	if (err)
		return err;
	p = (volatile unsigned char *)r->addr + offset;
	switch (width) {
	case 8:
		*p = (uint8_t)value;
		break;
	case 16:
		*(volatile uint16_t *)(volatile void *)p = (uint16_t)value;
		break;
	case 32:
		*(volatile uint32_t *)(volatile void *)p = (uint32_t)value;
		break;
	default:
		*(volatile uint64_t *)(volatile void *)p = value;
		break;
	}
	return 0;
}
