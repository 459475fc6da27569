/*
 * One packet in, one packet out.  Sizes are checked against the packet
 * itself, never against a length the peer wrote into it.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wire.h"

/*
 * Send buf as one packet, with fd in SCM_RIGHTS when fd >= 0.  A peer
 * that went away gives -EPIPE, never SIGPIPE.  A full socket buffer on a
 * non-blocking socket gives -EAGAIN and nothing is sent.
 */
int
wire_send(int sock, const void *buf, size_t len, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cmsg;
	ssize_t n;

	if (len == 0 || len > WIRE_MAX)
		return -EMSGSIZE;
	if (fd >= 0) {
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	}
	do {
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	/* SEQPACKET sends all or nothing; anything else is a broken socket. */
	if ((size_t)n != len)
		return -EIO;
	return 0;
}

void
wire_close_fds(int *fds, size_t *nfds)
{
	size_t i;

	for (i = 0; i < *nfds; i++)
		close(fds[i]);
	*nfds = 0;
}

/*
 * Receive one packet into buf.  Returns its length, 0 at end of stream,
 * or a negative errno: -EMSGSIZE when the packet was larger than cap,
 * -EBADMSG when the ancillary data was cut short or is not SCM_RIGHTS.
 * The fds that came with it land in fds (WIRE_MAX_FDS at most; the kernel
 * drops any beyond and sets MSG_CTRUNC), close-on-exec; on any error they
 * are closed already.
 */
ssize_t
wire_recv(int sock, void *buf, size_t cap, int *fds, size_t *nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * WIRE_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *cmsg;
	size_t i, n;
	ssize_t len;
	int bad = 0;

	*nfds = 0;
	do {
		len = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	} while (len < 0 && errno == EINTR);
	if (len < 0)
		return -errno;

	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS) {
			bad = 1;
			continue;
		}
		n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int),
			    sizeof(int));
			if (*nfds < WIRE_MAX_FDS)
				fds[(*nfds)++] = fd;
			else
				close(fd);
		}
	}
	if (msg.msg_flags & MSG_TRUNC) {
		wire_close_fds(fds, nfds);
		return -EMSGSIZE;
	}
	if (bad || (msg.msg_flags & MSG_CTRUNC)) {
		wire_close_fds(fds, nfds);
		return -EBADMSG;
	}
	return len;
}
