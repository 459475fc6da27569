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
	return wire_send_fds(sock, buf, len, &fd, fd >= 0 ? 1 : 0);
}

int
wire_send_fds(int sock, const void *buf, size_t len, const int *fds,
    size_t nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * WIRE_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cmsg;
	ssize_t n;

	if (len == 0 || len > WIRE_MAX || nfds > WIRE_MAX_FDS)
		return -EMSGSIZE;
	if (nfds > 0) {
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * nfds);
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
 * Take the fds of msg, a packet of len bytes just received, into fds
 * (WIRE_MAX_FDS at most; the kernel drops any beyond and sets
 * MSG_CTRUNC).  Returns len, or -EMSGSIZE when the packet was larger
 * than its buffer, -EBADMSG when the ancillary data was cut short or is
 * not SCM_RIGHTS; on those errors the fds are closed already.
 */
ssize_t
wire_take_fds(struct msghdr *msg, ssize_t len, int *fds, size_t *nfds)
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
	if (msg->msg_flags & MSG_TRUNC) {
		wire_close_fds(fds, nfds);
		return -EMSGSIZE;
	}
	if (bad || (msg->msg_flags & MSG_CTRUNC)) {
		wire_close_fds(fds, nfds);
		return -EBADMSG;
	}
	return len;
}

/*
 * Receive one packet into buf, with recvmsg(2)'s flags (MSG_DONTWAIT:
 * -EAGAIN when none is there).  Returns its length, 0 at end of stream,
 * or a negative errno: -EMSGSIZE when the packet was larger than cap,
 * -EBADMSG when the ancillary data was cut short or is not SCM_RIGHTS.
 * The fds that came with it land in fds (see wire_take_fds()),
 * close-on-exec; on any error they are closed already.
 */
ssize_t
wire_recv_flags(int sock, void *buf, size_t cap, int *fds, size_t *nfds,
    int flags)
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
	ssize_t len;

	*nfds = 0;
	do {
		len = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | flags);
	} while (len < 0 && errno == EINTR);
	if (len < 0)
		return -errno;
	return wire_take_fds(&msg, len, fds, nfds);
}

/* wire_recv_flags() without flags: waits on a blocking socket. */
ssize_t
wire_recv(int sock, void *buf, size_t cap, int *fds, size_t *nfds)
{
	return wire_recv_flags(sock, buf, cap, fds, nfds, 0);
}
