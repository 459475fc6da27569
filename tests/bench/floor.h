/*
 * The floor: the least a broker of shared memory over a Unix
 * SOCK_SEQPACKET socket can do per grant, to measure mmapd against.  The
 * server is one thread on epoll doing only the kernel's work per request
 * (memfd_create, ftruncate, the seals, sendmsg with SCM_RIGHTS, close);
 * it checks no policy, keeps no lease and logs nothing.  Its client
 * sends a request, takes the fd and maps, touches and unmaps it.
 */
#ifndef MMAPD_BENCH_FLOOR_H
#define MMAPD_BENCH_FLOOR_H

#include <stdint.h>

#define FLOOR_SIZE	4096	/* bytes per grant, as the mmapd runs map */
#define FLOOR_BATCH_MAX	64	/* fds in one reply (the kernel: 253) */

/* A request: how many memfds, and a tag the reply carries back. */
struct floor_req {
	uint32_t count;
	uint32_t tag;
};

/*
 * Serve on lfd, a listening SOCK_SEQPACKET socket, until killed.
 * Returns only on a failure of epoll itself: -errno.
 */
int floor_serve(int lfd);

/* A connected client socket, or -errno. */
int floor_connect(const char *path);

/* Ask for count memfds (tag comes back with them). 0 or -errno. */
int floor_ask(int fd, uint32_t count, uint32_t tag);
/*
 * Take one reply: its memfds mapped shared, touched, unmapped and
 * closed; *tag its request's.  0, or -errno (-EPROTO: not one tag
 * and the count of fds asked).
 */
int floor_take(int fd, uint32_t count, uint32_t *tag);

#endif /* MMAPD_BENCH_FLOOR_H */
