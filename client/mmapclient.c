/*
 * libmmapclient: the connection.  Connecting and Hello, the sticky
 * error of a broken connection, and closing.  Requests go through
 * call.c, replies through reply.c.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "internal.h"

/* The message of the calling thread's last failed connect. */
static _Thread_local char connect_msg[MSG_MAX];

/* One line of printable text: control characters become spaces. */
static void msg_vset(char *dst, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
msg_vset(char *dst, const char *fmt, va_list ap)
{
	char *p;

	vsnprintf(dst, MSG_MAX, fmt, ap);
	for (p = dst; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	}
}

int
conn_fail(struct mmapclient *c, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_vset(c->msg, fmt, ap);
	va_end(ap);
	return err;
}

int
conn_break(struct mmapclient *c, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_vset(c->broken_msg, fmt, ap);
	va_end(ap);
	memcpy(c->msg, c->broken_msg, sizeof(c->msg));
	c->broken = err;
	/* The daemon sees the end of the connection and ends its leases. */
	shutdown(c->fd, SHUT_RDWR);
	return err;
}

void
conn_add_region(struct mmapclient *c, struct region *reg)
{
	reg->owner = c;
	reg->prev = NULL;
	reg->next = c->regions;
	if (c->regions)
		c->regions->prev = reg;
	c->regions = reg;
}

void
conn_del_region(struct region *reg)
{
	if (reg->owner == NULL)
		return;
	if (reg->prev)
		reg->prev->next = reg->next;
	else
		reg->owner->regions = reg->next;
	if (reg->next)
		reg->next->prev = reg->prev;
	reg->owner = NULL;
	reg->prev = reg->next = NULL;
}

/*
 * The default client name: the program's, as one line of printable
 * ASCII (it lands in the daemon's logs) and no longer than allowed.
 */
static void
default_name(char *dst, size_t cap)
{
	const char *src = program_invocation_short_name;
	size_t i;

	for (i = 0; src && src[i] && i + 1 < cap; i++) {
		unsigned char ch = (unsigned char)src[i];

		dst[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	dst[i] = '\0';
}

int
conn_hello(struct mmapclient *c, int events)
{
	Mmapd__V1__Hello h = MMAPD__V1__HELLO__INIT;
	Mmapd__V1__Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Reply *rep;
	Mmapd__V1__HelloReply *hr;
	int err, had = c->events;
	size_t i;

	h.protocol_major = MMAPCLIENT_PROTOCOL_MAJOR;
	h.protocol_minor = MMAPCLIENT_PROTOCOL_MINOR;
	h.client_name = c->name;
	h.events = events != 0;
	req.body_case = MMAPD__V1__REQUEST__BODY_HELLO;
	req.hello = &h;

	/* An event may come as soon as the daemon has read it. */
	c->events = had || events;
	err = conn_call(c, &req, MMAPD__V1__REPLY__BODY_HELLO, &rep, NULL);
	if (err) {
		c->events = had;
		return err;
	}
	hr = rep->hello;
	c->features = 0;
	for (i = 0; i < hr->n_features; i++) {
		if (strcmp(hr->features[i], "map-batch") == 0)
			c->features |= FEATURE_MAP_BATCH;
		else if (strcmp(hr->features[i], "quiet-release") == 0)
			c->features |= FEATURE_QUIET_RELEASE;
	}
	if (hr->protocol_major != MMAPCLIENT_PROTOCOL_MAJOR) {
		c->events = had;
		err = conn_fail(c, -EPROTONOSUPPORT, "the daemon speaks "
		    "protocol %u.%u, this library %d.%d",
		    (unsigned int)hr->protocol_major,
		    (unsigned int)hr->protocol_minor,
		    MMAPCLIENT_PROTOCOL_MAJOR, MMAPCLIENT_PROTOCOL_MINOR);
	}
	mmapd__v1__reply__free_unpacked(rep, NULL);
	return err;
}

static int
connect_fail(int err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
connect_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_vset(connect_msg, fmt, ap);
	va_end(ap);
	return err;
}

int
mmapclient_connect_named(const char *path, const char *name,
    struct mmapclient **out)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char defname[MMAPCLIENT_NAME_MAX + 1];
	struct mmapclient *c;
	int err, r;

	connect_msg[0] = '\0';
	if (out == NULL)
		return connect_fail(-EINVAL, "no place to put the connection");
	*out = NULL;
	if (path == NULL || path[0] == '\0')
		path = getenv(MMAPCLIENT_SOCKET_ENV);
	if (path == NULL || path[0] == '\0')
		path = MMAPCLIENT_DEFAULT_SOCKET;
	if (strlen(path) >= sizeof(addr.sun_path))
		return connect_fail(-ENAMETOOLONG, "socket path %s is longer "
		    "than %zu bytes", path, sizeof(addr.sun_path) - 1);
	memcpy(addr.sun_path, path, strlen(path) + 1);
	if (name == NULL) {
		default_name(defname, sizeof(defname));
		name = defname;
	} else if (strlen(name) > MMAPCLIENT_NAME_MAX) {
		return connect_fail(-ENAMETOOLONG, "client name longer than "
		    "%d bytes", MMAPCLIENT_NAME_MAX);
	}

	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return connect_fail(-ENOMEM, "cannot allocate a connection");
	c->next_id = 1;
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		err = -errno;
		free(c);
		return connect_fail(err, "cannot make a socket to connect to "
		    "%s", path);
	}
	do {
		r = connect(c->fd, (struct sockaddr *)&addr, sizeof(addr));
	} while (r < 0 && errno == EINTR);
	if (r < 0) {
		err = connect_fail(-errno, "cannot connect to %s", path);
		close(c->fd);
		free(c);
		return err;
	}

	snprintf(c->name, sizeof(c->name), "%s", name);
	err = conn_hello(c, 0);
	if (err) {
		memcpy(connect_msg, c->msg, sizeof(connect_msg));
		mmapclient_close(c);
		return err;
	}
	*out = c;
	return 0;
}

int
mmapclient_connect(const char *path, struct mmapclient **out)
{
	return mmapclient_connect_named(path, NULL, out);
}

int
mmapclient_fd(const struct mmapclient *c)
{
	return c ? c->fd : -EINVAL;
}

const char *
mmapclient_error(const struct mmapclient *c)
{
	return c ? c->msg : connect_msg;
}

void
mmapclient_close(struct mmapclient *c)
{
	struct call *k;
	struct done *d;
	size_t i;

	if (c == NULL)
		return;
	/* The regions stay mapped and stay the caller's. */
	while (c->regions)
		conn_del_region(c->regions);
	/*
	 * Regions granted but not yet handed over by a callback are no
	 * one's: unmapped.  No callback runs from here.
	 */
	for (; c->q_len > 0; c->q_len--) {
		d = &c->q[c->q_head];
		c->q_head = (c->q_head + 1) % c->q_cap;
		if (d->reg)
			region_destroy(d->reg);
	}
	for (i = 0; i < c->calls_cap; i++) {
		k = &c->calls[i];
		if (k->id == 0)
			continue;
		if (k->reg && k->reg->owner == NULL)
			free(k->reg);
		k->reg = NULL;
		call_free(c, k);
	}
	free(c->calls);
	free(c->q);
	free(c->rb);
	close(c->fd);
	free(c);
}
