/*
 * Placeholder until the monitor lands: no monitor, nothing killed.
 */
#include "config.h"

#include <errno.h>

#include "privsep.h"

int
privsep_kill(int conn_fd, const char *reason)
{
	(void)conn_fd;
	(void)reason;
	return -ENOSYS;
}
