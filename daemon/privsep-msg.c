/*
 * The monitor's and the worker's messages: see privsep-msg.h.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "privsep-msg.h"

#define PMSG_HDR	offsetof(struct pmsg, u)
#define PMSG_MASK_ALL	((1u << (2 * MAP_CACHE_NR + 1)) - 1)

size_t
pmsg_size(uint32_t type)
{
	switch (type) {
	case PMSG_POLICY:	return PMSG_HDR + sizeof(struct pmsg_policy);
	case PMSG_MEM:		return PMSG_HDR + sizeof(struct pmsg_mem);
	case PMSG_PCI:		return PMSG_HDR + sizeof(struct pmsg_pci);
	case PMSG_COMMIT:	return PMSG_HDR + sizeof(struct pmsg_commit);
	case PMSG_APPLIED:	return PMSG_HDR + sizeof(struct pmsg_applied);
	case PMSG_NOTIFY:	return PMSG_HDR + sizeof(struct pmsg_notify);
	case PMSG_RELOAD:	return PMSG_HDR + sizeof(struct pmsg_reload);
	case PMSG_KILL:		return PMSG_HDR + sizeof(struct pmsg_kill);
	case PMSG_KILL_REPLY:
		return PMSG_HDR + sizeof(struct pmsg_kill_reply);
	default:		return 0;
	}
}

unsigned int
pmsg_mask_count(uint32_t mask)
{
	return (unsigned int)__builtin_popcount(mask);
}

/* How many fds a well-formed message of m's type carries; -1: invalid. */
static int
pmsg_fds_expected(const struct pmsg *m)
{
	switch (m->type) {
	case PMSG_MEM:
		if (m->u.mem.fdmask & ~PMSG_MASK_ALL)
			return -1;
		return (int)pmsg_mask_count(m->u.mem.fdmask);
	case PMSG_PCI:
		if (m->u.pci.fdmask & ~PMSG_MASK_ALL)
			return -1;
		return (int)pmsg_mask_count(m->u.pci.fdmask);
	case PMSG_KILL:
		return 1;
	default:
		return 0;
	}
}

int
pmsg_send(int sock, struct pmsg *m, const int *fds, unsigned int nfds)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * PMSG_FDS_MAX)];
	} cm;
	struct iovec iov;
	struct msghdr msg = { 0 };
	size_t size = pmsg_size(m->type);
	ssize_t n;

	if (size == 0 || nfds > PMSG_FDS_MAX)
		return -EINVAL;
	m->nfds = nfds;
	iov.iov_base = m;
	iov.iov_len = size;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (nfds > 0) {
		memset(&cm, 0, sizeof(cm));
		msg.msg_control = cm.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm.h.cmsg_level = SOL_SOCKET;
		cm.h.cmsg_type = SCM_RIGHTS;
		cm.h.cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(&cm.h), fds, sizeof(int) * nfds);
	}
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == size ? 0 : -EMSGSIZE;
}

static void
fds_close(int *fds, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

int
pmsg_recv(int sock, int flags, uint32_t allow, struct pmsg *m,
    int fds[PMSG_FDS_MAX])
{
	union {
		struct cmsghdr h;
		/* Room for more than any message carries: too many is seen. */
		char buf[CMSG_SPACE(sizeof(int) * (PMSG_FDS_MAX + 8))];
	} cm;
	struct iovec iov;
	struct msghdr msg = { 0 };
	struct cmsghdr *c;
	unsigned int nfds = 0, k;
	int got[PMSG_FDS_MAX + 8], bad = 0, want;
	ssize_t n;

	memset(m, 0, sizeof(*m));
	iov.iov_base = m;
	iov.iov_len = sizeof(*m);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	do
		n = recvmsg(sock, &msg, flags | MSG_CMSG_CLOEXEC | MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ECONNRESET;
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			bad = 1;
			continue;
		}
		k = (unsigned int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		if (k > PMSG_FDS_MAX + 8 - nfds)
			k = PMSG_FDS_MAX + 8 - nfds;
		memcpy(got + nfds, CMSG_DATA(c), k * sizeof(int));
		nfds += k;
	}
	if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
		bad = 1;
	/* The size and the type first: nothing else is read before. */
	if (!bad && ((size_t)n < PMSG_HDR || m->type >= PMSG_NR ||
	    !(allow & (1u << m->type)) || (size_t)n != pmsg_size(m->type)))
		bad = 1;
	if (!bad) {
		want = pmsg_fds_expected(m);
		if (want < 0 || (unsigned int)want != nfds ||
		    m->nfds != nfds)
			bad = 1;
	}
	if (bad) {
		fds_close(got, nfds);
		memset(m, 0, sizeof(*m));
		return -EPROTO;
	}
	memcpy(fds, got, nfds * sizeof(int));
	return 0;
}
