/*
 * The floor broker and its client (floor.h).  The server takes one
 * request per readable event, as mmapd's loop does, and answers it at
 * once: per grant memfd_create, ftruncate, one F_ADD_SEALS, and per
 * reply one sendmsg carrying every fd, then a close per fd.  Nothing
 * else: whatever mmapd spends beyond this is its own.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "floor.h"

#define FLOOR_EVENTS	64

/* Make count sealed memfds of FLOOR_SIZE and send them in one packet. */
static int
floor_grant(int fd, const struct floor_req *req)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * FLOOR_BATCH_MAX)];
		struct cmsghdr align;
	} u;
	int fds[FLOOR_BATCH_MAX];
	struct iovec iov = { (void *)&req->tag, sizeof(req->tag) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;
	uint32_t i, n = 0;
	int err = 0;

	if (req->count == 0 || req->count > FLOOR_BATCH_MAX)
		return -EINVAL;
	for (n = 0; n < req->count; n++) {
		fds[n] = memfd_create("floor", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (fds[n] < 0 || ftruncate(fds[n], FLOOR_SIZE) < 0 ||
		    fcntl(fds[n], F_ADD_SEALS,
		    F_SEAL_GROW | F_SEAL_SHRINK) < 0) {
			err = -errno;
			if (fds[n] >= 0)
				n++;
			goto out;
		}
	}
	msg.msg_control = u.buf;
	msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(cm), fds, sizeof(int) * n);
	if (sendmsg(fd, &msg, MSG_NOSIGNAL) < 0)
		err = -errno;
out:
	for (i = 0; i < n; i++)
		close(fds[i]);
	return err;
}

int
floor_serve(int lfd)
{
	struct epoll_event ev = { .events = EPOLLIN }, evs[FLOOR_EVENTS];
	struct floor_req req;
	ssize_t len;
	int ep, fd, i, n;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return -errno;
	ev.data.fd = lfd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
		return -errno;
	for (;;) {
		n = epoll_wait(ep, evs, FLOOR_EVENTS, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (i = 0; i < n; i++) {
			fd = evs[i].data.fd;
			if (fd == lfd) {
				fd = accept4(lfd, NULL, NULL,
				    SOCK_NONBLOCK | SOCK_CLOEXEC);
				if (fd < 0)
					continue;
				ev.data.fd = fd;
				if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
					close(fd);
				continue;
			}
			len = recv(fd, &req, sizeof(req), 0);
			if (len < 0 && errno == EAGAIN)
				continue;
			/* A hang-up, a bad request or a failed send: gone. */
			if (len != (ssize_t)sizeof(req) ||
			    floor_grant(fd, &req) < 0)
				close(fd);	/* leaves the epoll set too */
		}
	}
}

int
floor_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int
floor_ask(int fd, uint32_t count, uint32_t tag)
{
	struct floor_req req = { count, tag };
	ssize_t n;

	n = send(fd, &req, sizeof(req), MSG_NOSIGNAL);
	if (n < 0)
		return -errno;
	return n == (ssize_t)sizeof(req) ? 0 : -EPROTO;
}

/* What a client does with a grant: map it shared, touch it, let go. */
static int
floor_use(int mfd)
{
	volatile char *p;

	p = mmap(NULL, FLOOR_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (p == MAP_FAILED)
		return -errno;
	p[0] = 1;
	munmap((void *)p, FLOOR_SIZE);
	return 0;
}

int
floor_take(int fd, uint32_t count, uint32_t *tag)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * FLOOR_BATCH_MAX)];
		struct cmsghdr align;
	} u;
	int fds[FLOOR_BATCH_MAX];
	struct iovec iov = { tag, sizeof(*tag) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *cm;
	size_t i, n = 0;
	ssize_t len;
	int err = 0;

	len = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	if (len < 0)
		return -errno;
	cm = CMSG_FIRSTHDR(&msg);
	if (cm != NULL && cm->cmsg_level == SOL_SOCKET &&
	    cm->cmsg_type == SCM_RIGHTS) {
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		memcpy(fds, CMSG_DATA(cm), n * sizeof(int));
	}
	if (len != (ssize_t)sizeof(*tag) || n != count ||
	    (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
		err = -EPROTO;
	for (i = 0; i < n; i++) {
		if (err == 0)
			err = floor_use(fds[i]);
		close(fds[i]);
	}
	return err;
}
