/*
 * Framing shared by mmapd and libmmapclient: one protobuf message per
 * AF_UNIX SOCK_SEQPACKET packet, at most WIRE_MAX bytes, and at most one
 * fd riding along in SCM_RIGHTS.
 */
#ifndef MMAPD_WIRE_H
#define MMAPD_WIRE_H

#include <stddef.h>
#include <sys/types.h>

#define WIRE_MAX	4096	/* bytes in one packet, checked before decoding */
/*
 * Maps in one MapBatch, and so fds in one GrantBatch packet: far below
 * the kernel's SCM_MAX_FD (253), and 32 grants (about 50 bytes each)
 * leave half the packet for the refusals' messages.
 */
#define WIRE_BATCH_MAX	32
/* fds the client takes off one packet (mmapd: daemon/inbox.c) */
#define WIRE_MAX_FDS	WIRE_BATCH_MAX

int wire_send(int sock, const void *buf, size_t len, int fd);
/* The same with n fds (at most WIRE_MAX_FDS) in one SCM_RIGHTS. */
int wire_send_fds(int sock, const void *buf, size_t len, const int *fds,
    size_t n);
ssize_t wire_recv(int sock, void *buf, size_t cap, int *fds, size_t *nfds);
ssize_t wire_recv_flags(int sock, void *buf, size_t cap, int *fds,
    size_t *nfds, int flags);
struct msghdr;
ssize_t wire_take_fds(struct msghdr *msg, ssize_t len, int *fds,
    size_t *nfds);
void wire_close_fds(int *fds, size_t *nfds);

#endif /* MMAPD_WIRE_H */
