/*
 * The listening socket: the one systemd passed (socket activation,
 * LISTEN_FDS and LISTEN_PID, sd_listen_fds(3)), or one mmapd binds.
 */
#ifndef MMAPD_LISTEN_H
#define MMAPD_LISTEN_H

#include <sys/un.h>

struct policy;

struct listener {
	int fd;
	int passed;		/* systemd's: its socket unit removes the file */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];	/* for logs */
};

/*
 * Take the socket systemd passed, when LISTEN_PID is ours; else bind
 * path with the policy's socket_mode and socket_group.  0, or a negative
 * errno after logging why.  A passed socket that is not one listening
 * AF_UNIX SOCK_SEQPACKET socket is an error, never silently replaced.
 */
int listen_open(struct listener *l, const char *path, const struct policy *pol);
/*
 * At the very start: close every fd the process inherited but the
 * standard streams and, when LISTEN_PID is ours, the LISTEN_FDS sockets
 * systemd passed (fds 3..).  Nothing is logged: log_init() comes after.
 */
void listen_close_inherited(void);
/* Close it; the file goes too unless systemd passed the socket. */
void listen_close(struct listener *l);
/* An int SOL_SOCKET option of fd into *v: 0 or -errno. */
int listen_sockopt(int fd, int opt, int *v);

#endif /* MMAPD_LISTEN_H */
