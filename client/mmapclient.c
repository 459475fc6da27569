/*
 * libmmapclient: the connection.  Connecting and Hello, the one
 * request/reply exchange every call goes through, the sticky error of a
 * broken connection, and closing.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "internal.h"
#include "wire.h"

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

static const char *
request_name(Mmapd__V1__Request__BodyCase body)
{
	switch (body) {
	case MMAPD__V1__REQUEST__BODY_HELLO:
		return "Hello";
	case MMAPD__V1__REQUEST__BODY_MAP:
		return "Map";
	case MMAPD__V1__REQUEST__BODY_RELEASE:
		return "Release";
	case MMAPD__V1__REQUEST__BODY_LIST:
		return "List";
	case MMAPD__V1__REQUEST__BODY_STATUS:
		return "Status";
	case MMAPD__V1__REQUEST__BODY_READ:
		return "Read";
	case MMAPD__V1__REQUEST__BODY_WRITE:
		return "Write";
	default:
		return "(no body)";
	}
}

static const char *
reply_name(Mmapd__V1__Reply__BodyCase body)
{
	switch (body) {
	case MMAPD__V1__REPLY__BODY__NOT_SET:
		return "no body";
	case MMAPD__V1__REPLY__BODY_HELLO:
		return "a HelloReply";
	case MMAPD__V1__REPLY__BODY_GRANT:
		return "a Grant";
	case MMAPD__V1__REPLY__BODY_RELEASE:
		return "an Ack";
	case MMAPD__V1__REPLY__BODY_LIST:
		return "a ListReply";
	case MMAPD__V1__REPLY__BODY_STATUS:
		return "a StatusReply";
	case MMAPD__V1__REPLY__BODY_READ:
		return "a ReadReply";
	case MMAPD__V1__REPLY__BODY_WRITE:
		return "an Ack of Write";
	default:
		return "an unknown body";
	}
}

/* Errors of a send that sent nothing and leave the connection in step. */
static int
send_error_is_transient(int err)
{
	return err == -EAGAIN || err == -ENOBUFS || err == -ENOMEM;
}

/* A receive would not block: a packet, or the end, is there. */
static int
readable_now(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

int
conn_call(struct mmapclient *c, Mmapd__V1__Request *req,
    Mmapd__V1__Reply__BodyCase expect, Mmapd__V1__Reply **out, int *fdp)
{
	const char *what = request_name(req->body_case);
	uint8_t buf[WIRE_MAX];
	int fds[WIRE_MAX_FDS];
	size_t nfds = 0, len;
	Mmapd__V1__Reply *rep;
	ssize_t n;
	int err;

	*out = NULL;
	if (fdp)
		*fdp = -1;
	if (c->broken) {
		memcpy(c->msg, c->broken_msg, sizeof(c->msg));
		return c->broken;
	}

	req->request_id = c->next_id;
	len = mmapd__v1__request__get_packed_size(req);
	if (len > WIRE_MAX)
		return conn_fail(c, -EMSGSIZE, "the %s request takes %zu bytes, "
		    "more than one %d-byte packet", what, len, WIRE_MAX);
	mmapd__v1__request__pack(req, buf);
	c->next_id++;

	err = wire_send(c->fd, buf, len, -1);
	if (err && send_error_is_transient(err))
		return conn_fail(c, err, "cannot send the %s request", what);
	/*
	 * A daemon that closed the connection may have said why before
	 * (it turns away connections past its limit): read that instead.
	 */
	if (err && ((err != -EPIPE && err != -ECONNRESET) ||
	    !readable_now(c->fd)))
		return conn_break(c, err, "cannot send the %s request: "
		    "the connection is lost", what);

	n = wire_recv(c->fd, buf, sizeof(buf), fds, &nfds);
	/*
	 * The kernel tells of a reset (a peer that closed with our request
	 * unread) before the packets still queued: once told, it hands
	 * them out, and the daemon's last word may be among them.
	 */
	if (n == -ECONNRESET && readable_now(c->fd)) {
		n = wire_recv(c->fd, buf, sizeof(buf), fds, &nfds);
		if (n <= 0)
			n = -ECONNRESET;
	}
	if (err && n <= 0) {
		wire_close_fds(fds, &nfds);
		return conn_break(c, err, "cannot send the %s request: "
		    "the connection is lost", what);
	}
	if (n == 0) {
		wire_close_fds(fds, &nfds);
		return conn_break(c, -ECONNRESET, "the daemon closed the "
		    "connection before answering %s", what);
	}
	if (n == -EMSGSIZE)
		return conn_break(c, -EPROTO, "the reply to %s is larger than "
		    "%d bytes", what, WIRE_MAX);
	if (n == -EBADMSG)
		return conn_break(c, -EPROTO, "the reply to %s came with "
		    "ancillary data cut short or not SCM_RIGHTS (out of file "
		    "descriptors?)", what);
	if (n < 0)
		return conn_break(c, (int)n, "cannot receive the reply to %s",
		    what);

	rep = mmapd__v1__reply__unpack(NULL, (size_t)n, buf);
	if (rep == NULL) {
		wire_close_fds(fds, &nfds);
		return conn_break(c, -EPROTO, "the reply to %s does not decode",
		    what);
	}

	if (rep->request_id != req->request_id) {
		if (rep->request_id == 0 && (rep->error == EBADMSG ||
		    rep->error == EMSGSIZE))
			err = conn_break(c, -rep->error, "the daemon could not "
			    "parse the %s request: %s", what,
			    rep->message[0] ? rep->message : "no reason given");
		else if (rep->request_id == 0 && rep->error > 0 &&
		    rep->error <= ERRNO_MAX)
			err = conn_break(c, -rep->error, "the daemon %s the "
			    "connection: %s", rep->error == EMFILE ?
			    "refused" : "ended", rep->message[0] ?
			    rep->message : "no reason given");
		else
			err = conn_break(c, -EPROTO, "the reply to %s request "
			    "%llu is for request %llu", what,
			    (unsigned long long)req->request_id,
			    (unsigned long long)rep->request_id);
		goto fail;
	}
	if (rep->error != 0) {
		if (rep->error < 0 || rep->error > ERRNO_MAX)
			err = conn_break(c, -EPROTO, "the reply to %s has error "
			    "%d, not an errno value", what, (int)rep->error);
		else if (nfds > 0)
			err = conn_break(c, -EPROTO, "the refusal of %s came "
			    "with a file descriptor", what);
		else
			err = conn_fail(c, -rep->error, "%s", rep->message[0] ?
			    rep->message : "the daemon gave no reason");
		goto fail;
	}
	if (rep->body_case != expect) {
		err = conn_break(c, -EPROTO, "the reply to %s carries %s", what,
		    reply_name(rep->body_case));
		goto fail;
	}
	if (expect == MMAPD__V1__REPLY__BODY_GRANT) {
		if (nfds == 0 || fdp == NULL) {
			err = conn_break(c, -EPROTO, "the Grant came without "
			    "its file descriptor");
			goto fail;
		}
		/* Which of several would be the memory is anyone's guess. */
		if (nfds > 1) {
			err = conn_break(c, -EPROTO, "the Grant came with %zu "
			    "file descriptors, not 1", nfds);
			goto fail;
		}
		*fdp = fds[0];
	} else if (nfds > 0) {
		err = conn_break(c, -EPROTO, "the reply to %s came with a file "
		    "descriptor", what);
		goto fail;
	}
	*out = rep;
	return 0;

fail:
	wire_close_fds(fds, &nfds);
	mmapd__v1__reply__free_unpacked(rep, NULL);
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

static int
hello(struct mmapclient *c, const char *name)
{
	Mmapd__V1__Hello h = MMAPD__V1__HELLO__INIT;
	Mmapd__V1__Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Reply *rep;
	Mmapd__V1__HelloReply *hr;
	int err;

	h.protocol_major = MMAPCLIENT_PROTOCOL_MAJOR;
	h.protocol_minor = MMAPCLIENT_PROTOCOL_MINOR;
	h.client_name = (char *)name;
	req.body_case = MMAPD__V1__REQUEST__BODY_HELLO;
	req.hello = &h;

	err = conn_call(c, &req, MMAPD__V1__REPLY__BODY_HELLO, &rep, NULL);
	if (err)
		return err;
	hr = rep->hello;
	if (hr->protocol_major != MMAPCLIENT_PROTOCOL_MAJOR)
		err = conn_fail(c, -EPROTONOSUPPORT, "the daemon speaks "
		    "protocol %u.%u, this library %d.%d",
		    (unsigned int)hr->protocol_major,
		    (unsigned int)hr->protocol_minor,
		    MMAPCLIENT_PROTOCOL_MAJOR, MMAPCLIENT_PROTOCOL_MINOR);
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

	err = hello(c, name);
	if (err) {
		memcpy(connect_msg, c->msg, sizeof(connect_msg));
		close(c->fd);
		free(c);
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
	if (c == NULL)
		return;
	/* The regions stay mapped and stay the caller's. */
	while (c->regions)
		conn_del_region(c->regions);
	close(c->fd);
	free(c);
}
