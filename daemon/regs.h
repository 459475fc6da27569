/*
 * Register access on the client's behalf: one load or store of exactly
 * the width asked, through a volatile pointer, on a mapping the daemon
 * made for it.  A device revoked under the mapping (a kernel driver
 * claimed it) raises SIGBUS; that becomes -EIO for this request instead
 * of the end of the daemon.
 */
#ifndef MMAPD_REGS_H
#define MMAPD_REGS_H

#include <stdint.h>

/* Install the SIGBUS handler: once, before the first access.  0 or -errno. */
int regs_init(void);

/*
 * Load (write == 0) or store *value at p, width 8, 16, 32 or 64 bits, p
 * aligned to it.  0, -EINVAL for a bad width or alignment, -EIO when the
 * access faulted.
 */
int regs_access(volatile void *p, unsigned int width, int write,
    uint64_t *value);

#endif /* MMAPD_REGS_H */
