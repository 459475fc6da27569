/*
 * Exact-width device access with a SIGBUS guard.
 *
 * The daemon is single-threaded and the guard is armed only across the
 * one instruction that touches the device, so a SIGBUS anywhere else is
 * a real bug and is delivered as it would be without us.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>

#include "regs.h"

static sigjmp_buf regs_jmp;
static volatile sig_atomic_t regs_armed;

static void
regs_sigbus(int sig)
{
	if (regs_armed) {
		regs_armed = 0;
		siglongjmp(regs_jmp, 1);
	}
	/* Not ours: die of it, as if no handler had been there. */
	signal(sig, SIG_DFL);
	raise(sig);
}

int
regs_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = regs_sigbus;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL) < 0)
		return -errno;
	return 0;
}

int
regs_access(volatile void *p, unsigned int width, int write,
    uint64_t *value)
{
	uintptr_t a = (uintptr_t)p;
	uint64_t v = write ? *value : 0;

	if ((width != 8 && width != 16 && width != 32 && width != 64) ||
	    (a & (width / 8 - 1)) != 0)
		return -EINVAL;
	if (sigsetjmp(regs_jmp, 1) != 0)
		return -EIO;
	regs_armed = 1;
	switch (width) {
	case 8:
		if (write)
			*(volatile uint8_t *)p = (uint8_t)v;
		else
			v = *(volatile uint8_t *)p;
		break;
	case 16:
		if (write)
			*(volatile uint16_t *)p = (uint16_t)v;
		else
			v = *(volatile uint16_t *)p;
		break;
	case 32:
		if (write)
			*(volatile uint32_t *)p = (uint32_t)v;
		else
			v = *(volatile uint32_t *)p;
		break;
	default:
		if (write)
			*(volatile uint64_t *)p = v;
		else
			v = *(volatile uint64_t *)p;
		break;
	}
	regs_armed = 0;
	if (!write)
		*value = v;
	return 0;
}
