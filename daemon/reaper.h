/*
 * The reaper: the one thread that closes what clients send.
 *
 * The last close of a file can take as long as its owner likes: a TCP
 * socket with SO_LINGER and unsent data waits out the linger time, a
 * FUSE file waits for its server, a Unix socket drops whatever it still
 * carries.  A client may send mmapd any of these in SCM_RIGHTS, and the
 * loop must never be the one to drop the last reference, so every fd a
 * client sent, and every client socket that may still hold some, goes
 * here and is closed in order on this thread.  It may block; the loop
 * does not.  The queue is bounded: when it is full, the loop drops the
 * client instead of reading its fds (see inbox.h).
 */
#ifndef MMAPD_REAPER_H
#define MMAPD_REAPER_H

#include <stddef.h>

#define REAPER_MAX	1024	/* fds waiting to be closed, at most */

/*
 * Start the thread.  main.c calls it after the privilege drop, so the
 * thread inherits it, and before the seccomp filter, which then covers
 * both threads (TSYNC); it returns once the thread runs.  0 or -errno.
 */
int	reaper_start(void);
/* Free places in the queue now (it only grows between two calls). */
size_t	reaper_room(void);
/* Queue fds to be closed: all of them, or none and -ENOSPC. */
int	reaper_give(const int *fds, size_t n);

#endif /* MMAPD_REAPER_H */
