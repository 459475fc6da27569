/*
 * sandbox.c's pieces the monitor's allow-list (monitor-sandbox.c) is
 * built from, so both lists log and fail alike.
 */
#ifndef MMAPD_SANDBOX_INT_H
#define MMAPD_SANDBOX_INT_H

#include <stddef.h>

#include <seccomp.h>

/* arg & mask == 0 (on the low 32 bits, the width the kernel reads). */
#define ARG_CLEAR(i, mask) \
	SCMP_CMP64((i), SCMP_CMP_MASKED_EQ, (mask) & 0xffffffffull, 0)
/* arg == v (low 32 bits). */
#define ARG_IS(i, v) \
	SCMP_CMP64((i), SCMP_CMP_MASKED_EQ, 0xffffffffull, (v))

/* Allow nr when the n comparisons a hold; logs a failure.  0 or -errno. */
int sandbox_allow(scmp_filter_ctx ctx, int nr, unsigned int n,
    const struct scmp_arg_cmp *a);
int sandbox_allow_list(scmp_filter_ctx ctx, const int *v, size_t n);
/* What a sanitizer or gcov build needs besides; nothing otherwise. */
int sandbox_allow_build(scmp_filter_ctx ctx);
/* Load every NSS module now: the filter forbids mapping code later. */
void sandbox_nss_preload(void);

#endif /* MMAPD_SANDBOX_INT_H */
