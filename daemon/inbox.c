/*
 * Client packets in, client sockets closed, no client fd ever closed on
 * the loop: see inbox.h and reaper.h.
 *
 * Two facts of the kernel's make the loop's side safe.  A peek
 * (MSG_PEEK) that returns fds returns copies: the packet still holds
 * its own reference, so closing a peeked copy is never the last close,
 * and an fd a peek could not install is dropped the same way.  And a
 * socket shut down (SHUT_RDWR) takes no more packets, so what is queued
 * can be walked to its end.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "inbox.h"
#include "log.h"
#include "reaper.h"

/* asm-generic/socket.h, Linux 6.16; glibc's headers may not have it. */
#ifndef SO_PASSRIGHTS
#define SO_PASSRIGHTS	83
#endif

/* Packets looked at before closing a socket; past them, the reaper. */
#define INBOX_DRAIN_MAX	256

/* The environment variable that turns SO_PASSRIGHTS off, for tests. */
#define INBOX_TEST_SEAM	"MMAPD_TEST_NO_PASSRIGHTS"

union inbox_ctl {
	char buf[CMSG_SPACE(sizeof(int) * INBOX_MAX_FDS) +
	    CMSG_SPACE(sizeof(struct ucred))];
	struct cmsghdr align;
};

int
inbox_listen(int fd)
{
	const char *seam = getenv(INBOX_TEST_SEAM);
	int off = 0;

	if (seam != NULL && strcmp(seam, "1") == 0) {
		log_warn("%s=1 (a test seam): the listening socket takes fds "
		    "(SO_PASSRIGHTS left on); those clients send go to the "
		    "reaper thread", INBOX_TEST_SEAM);
		return 0;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_PASSRIGHTS, &off, sizeof(off)) < 0) {
		log_info("clients' fds: the kernel cannot refuse them "
		    "(SO_PASSRIGHTS: %s); those sent are closed by the "
		    "reaper thread, never by the loop", strerror(errno));
		return 0;
	}
	log_info("clients' fds: refused by the kernel (SO_PASSRIGHTS off): "
	    "a sendmsg with SCM_RIGHTS to mmapd fails with EPERM");
	return 1;
}

int
inbox_accept(int fd, int refuse)
{
	socklen_t len = sizeof(int);
	int v = 1, off = 0;

	if (!refuse)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_PASSRIGHTS, &v, &len) == 0 &&
	    v == 0)
		return 1;
	/* Connected before the listener was switched: what came is read. */
	(void)setsockopt(fd, SOL_SOCKET, SO_PASSRIGHTS, &off, sizeof(off));
	return 0;
}

/* The fds of one SCM_RIGHTS message; 0, or -EBADMSG for anything else. */
static int
inbox_fds(struct msghdr *msg, int *fds, size_t *nfds)
{
	struct cmsghdr *cmsg;
	size_t i, n;
	int bad = 0;

	*nfds = 0;
	for (cmsg = CMSG_FIRSTHDR(msg); cmsg; cmsg = CMSG_NXTHDR(msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS) {
			bad = 1;
			continue;
		}
		n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n && *nfds < INBOX_MAX_FDS; i++)
			memcpy(&fds[(*nfds)++], CMSG_DATA(cmsg) +
			    i * sizeof(int), sizeof(int));
	}
	return bad ? -EBADMSG : 0;
}

/*
 * Whether the next packet's fds can be taken: peek at them.  0: it has
 * none, or they fit; -ENOBUFS: they do not; or the socket's -errno.
 */
static int
inbox_peek(int sock)
{
	union inbox_ctl ctl;
	int fds[INBOX_MAX_FDS];
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	size_t i, n;
	ssize_t len;

	do {
		len = recvmsg(sock, &msg, MSG_PEEK | MSG_DONTWAIT |
		    MSG_CMSG_CLOEXEC);
	} while (len < 0 && errno == EINTR);
	if (len < 0)
		return -errno;
	(void)inbox_fds(&msg, fds, &n);
	/* Copies: the packet holds the files still (see the top). */
	for (i = 0; i < n; i++)
		close(fds[i]);
	/* Cut short: mmapd's fd table is full, the rest were not taken. */
	if (msg.msg_flags & MSG_CTRUNC)
		return -ENOBUFS;
	if (n > reaper_room())
		return -ENOBUFS;
	return 0;
}

ssize_t
inbox_recv(int sock, void *buf, size_t cap, int clean, size_t *nfds)
{
	union inbox_ctl ctl;
	int fds[INBOX_MAX_FDS];
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	ssize_t len;
	int err;

	*nfds = 0;
	if (!clean && (err = inbox_peek(sock)) < 0)
		return err;
	do {
		len = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	} while (len < 0 && errno == EINTR);
	if (len < 0)
		return -errno;
	err = inbox_fds(&msg, fds, nfds);
	if (*nfds > 0 && reaper_give(fds, *nfds) < 0) {
		/*
		 * Only a socket thought clean can get here, and it cannot
		 * carry fds: should it, they stay open rather than be
		 * closed on the loop.
		 */
		log_err("inbox: %zu fds a client sent are kept open: the "
		    "reaper has no room", *nfds);
	}
	if (msg.msg_flags & MSG_TRUNC)
		return -EMSGSIZE;
	if (err || (msg.msg_flags & MSG_CTRUNC))
		return -EBADMSG;
	return len;
}

/*
 * Whether a socket, once shut down, still holds packets with fds: walk
 * its queue, taking the packets without any.  With SO_PASSCRED on, a
 * packet, even an empty one, comes with its sender's credentials, and
 * the end of the queue with none; a peek with room for them alone sets
 * MSG_CTRUNC when the packet also carries fds.  1: it may hold fds,
 * 0: it is empty.
 */
static int
inbox_dirty(int sock)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} ctl;
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg;
	unsigned int i;
	int on = 1, flags;
	ssize_t len;

	/* SHUT_RDWR: the client sees its end now, whoever closes it. */
	if (shutdown(sock, SHUT_RDWR) < 0 ||
	    setsockopt(sock, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) < 0)
		return 1;
	for (i = 0; i < 2 * INBOX_DRAIN_MAX; i++) {
		/* Even: look at the next packet; odd: take it. */
		flags = i % 2 == 0 ? MSG_PEEK : 0;
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		len = recvmsg(sock, &msg, flags | MSG_DONTWAIT |
		    MSG_CMSG_CLOEXEC);
		if (len < 0)
			return errno == EAGAIN ? 0 : 1;
		if (msg.msg_flags & MSG_CTRUNC)
			return 1;
		if (CMSG_FIRSTHDR(&msg) == NULL)
			return len == 0 ? 0 : 1;	/* the end */
	}
	return 1;
}

int
inbox_close(int sock, int clean)
{
	if (clean || !inbox_dirty(sock)) {
		close(sock);
		return 0;
	}
	return reaper_give(&sock, 1);
}
