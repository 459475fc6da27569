/*
 * sd_notify(3), through libsystemd or by hand: see notify.h.
 *
 * The protocol is one datagram a message on the AF_UNIX socket named by
 * $NOTIFY_SOCKET: a path, or "@name" for the abstract namespace.  The
 * manager learns the sender's pid from SO_PASSCRED, so NotifyAccess=main
 * holds as long as mmapd itself sends.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "log.h"
#include "notify.h"

#define NOTIFY_MAX	512	/* the longest message mmapd sends */

static int notify_on;		/* $NOTIFY_SOCKET was set and usable */
static int (*notify_relay_fn)(const char *msg);	/* the worker's: see notify.h */
static int notify_warned;	/* a failure was logged */
#ifndef HAVE_LIBSYSTEMD
static int notify_fd = -1;
#endif

#ifdef HAVE_LIBSYSTEMD

int
notify_open(void)
{
	const char *path = getenv("NOTIFY_SOCKET");

	/* sd_notify() reads the variable again each time: leave it set. */
	notify_on = path != NULL && *path != '\0';
	notify_warned = 0;
	return 0;
}

void
notify_close(void)
{
	notify_on = 0;
}

static int
notify_write(const char *msg, size_t len)
{
	int r;

	(void)len;
	r = sd_notify(0, msg);
	if (r < 0)
		return r;
	return r == 0 ? -ENOTCONN : 0;
}

#else /* !HAVE_LIBSYSTEMD */

/* $NOTIFY_SOCKET as an address: a path, or "@name" (abstract). */
static int
notify_addr(const char *path, struct sockaddr_un *sa, socklen_t *len)
{
	size_t n = strlen(path);

	if (path[0] != '/' && path[0] != '@')
		return -EAFNOSUPPORT;	/* vsock:..., from a VM's manager */
	if (n >= sizeof(sa->sun_path) || (path[0] == '@' && n < 2))
		return -EINVAL;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, n);
	if (path[0] == '@') {
		/* Abstract: no terminating NUL belongs to the name. */
		sa->sun_path[0] = '\0';
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else {
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    n + 1);
	}
	return 0;
}

/*
 * Connect now, as root and before the seccomp filter: later messages
 * are a sendmsg() on a socket already open, whoever mmapd has become.
 */
int
notify_open(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	socklen_t len;
	int fd, err;

	notify_on = 0;
	notify_warned = 0;
	if (path == NULL || *path == '\0')
		return 0;
	err = notify_addr(path, &sa, &len);
	if (err) {
		log_warn("NOTIFY_SOCKET=%s: %s: not telling the service "
		    "manager how mmapd is", path, err == -EAFNOSUPPORT ?
		    "only AF_UNIX sockets are supported" : "not a socket address");
		return err;
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		log_warn("NOTIFY_SOCKET: socket: %s: not telling the service "
		    "manager how mmapd is", strerror(errno));
		return err;
	}
	if (connect(fd, (const struct sockaddr *)&sa, len) < 0) {
		err = -errno;
		log_warn("NOTIFY_SOCKET=%s: %s: not telling the service "
		    "manager how mmapd is", path, strerror(errno));
		close(fd);
		return err;
	}
	notify_fd = fd;
	notify_on = 1;
	return 0;
}

void
notify_close(void)
{
	if (notify_fd >= 0)
		close(notify_fd);
	notify_fd = -1;
	notify_on = 0;
}

/* sendmsg(2), which the seccomp filter allows for replies, not send(2). */
static int
notify_write(const char *msg, size_t len)
{
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t r;

	do
		r = sendmsg(notify_fd, &mh, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return (size_t)r == len ? 0 : -EMSGSIZE;
}

#endif /* HAVE_LIBSYSTEMD */

void
notify_relay(int (*fn)(const char *msg))
{
	notify_relay_fn = fn;
}

int
notify_enabled(void)
{
	return notify_on || notify_relay_fn != NULL;
}

int
notify_send(const char *fmt, ...)
{
	char msg[NOTIFY_MAX];
	va_list ap;
	int n, err;

	if (!notify_enabled())
		return 0;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return -EMSGSIZE;	/* mmapd's own messages are short */
	if (notify_relay_fn != NULL)
		err = notify_relay_fn(msg);
	else
		err = notify_write(msg, (size_t)n);
	if (err && !notify_warned) {
		notify_warned = 1;
		log_warn("NOTIFY_SOCKET: cannot tell the service manager "
		    "\"%.*s\": %s", (int)strcspn(msg, "\n"), msg,
		    strerror(-err));
	}
	return err;
}

int
notify_reloading(const char *status)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return -errno;
	return notify_send("RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=%s",
	    (unsigned long long)ts.tv_sec * 1000000ull +
	    (unsigned long long)ts.tv_nsec / 1000, status);
}
