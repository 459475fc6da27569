/*
 * What clients send, taken so that the loop never closes a file of
 * theirs (see reaper.h for why).
 *
 * Where the kernel offers SO_PASSRIGHTS (Linux 6.16), the listening
 * socket refuses fds: a client's sendmsg() with SCM_RIGHTS fails with
 * EPERM and nothing reaches mmapd.  Elsewhere, and for a connection
 * made before the listening socket was switched, fds do arrive: they
 * are taken off the socket and handed to the reaper, the request is
 * refused (EINVAL), and a client socket that may still hold fds unread
 * is closed by the reaper too.
 */
#ifndef MMAPD_INBOX_H
#define MMAPD_INBOX_H

#include <stddef.h>
#include <sys/types.h>

/* SCM_MAX_FD: the most one packet can carry, so none is ever cut off. */
#define INBOX_MAX_FDS	253

/*
 * Switch the listening socket to refuse fds.  1 when it does, 0 when
 * the kernel cannot (or the test seam MMAPD_TEST_NO_PASSRIGHTS=1 says
 * not to); logged either way.
 */
int	inbox_listen(int fd);
/*
 * A connection just accepted: 1 when no fd can ever have reached it
 * (it refused them from its connect on), else 0.  With refuse, it is
 * switched to refuse them from now on.
 */
int	inbox_accept(int fd, int refuse);
/*
 * One packet into buf, as wire_recv(): its length, 0 at the end, or
 * -EMSGSIZE, -EBADMSG, -EAGAIN, another -errno.  Its fds went to the
 * reaper; *nfds says how many.  -ENOBUFS: the packet carries fds and
 * the reaper's queue (or mmapd's fd table) has no room for them: it is
 * left unread, and the client must be dropped.  clean: inbox_accept()'s
 * answer.
 */
ssize_t	inbox_recv(int fd, void *buf, size_t cap, int clean,
	    size_t *nfds);
/*
 * Close a client's socket: here when nothing of the client's can be in
 * it, else on the reaper.  0, or -ENOSPC when the reaper's queue is
 * full: the socket is still open and the call is to be made again.
 */
int	inbox_close(int fd, int clean);

#endif /* MMAPD_INBOX_H */
