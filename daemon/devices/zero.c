/*
 * /dev/zero, after the kernel's mmap_zero_prepare(): a shared mapping
 * gets a fresh shared-memory object of its own, a private one becomes
 * anonymous memory.  No offset means anything here: zero reads the same
 * everywhere, so every result starts at 0 (the kernel maps a shared
 * mapping at a non-zero offset and then raises SIGBUS on first touch; a
 * daemon handing that out would only surprise its client).
 */
#include "config.h"

#include <fcntl.h>

#include "devices.h"

static int
zero_prepare(struct map_desc *desc)
{
	if (map_desc_is_shared(desc)) {
		map_action_shmem(desc);
		return 0;
	}

	/* The one driver that turns a device mapping into anonymous memory. */
	map_desc_set_anonymous(desc);
	return 0;
}

const struct map_driver zero_driver = {
	.name = "zero",
	.prepare = zero_prepare,
};

int
zero_device_open(struct map_device *dev, const char *path, int access)
{
	return map_device_open(dev, &zero_driver, "zero", path, access,
	    1u << MAP_CACHE_CACHED);
}
