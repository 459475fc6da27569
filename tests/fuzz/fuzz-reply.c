/*
 * libmmapclient's reply handling: the library's public calls on a
 * connection whose other end, a socketpair, is a fake daemon sending
 * what the input says, with and without fds.
 *
 * Input: one byte choosing the call (Map, a named shared Map, Map then
 * Release, Status, List, Read, Write; two Maps and a Read in flight
 * completed by mmapclient_dispatch(); a revoke handler set, then a Map
 * and dispatch; a batch of three Maps and a quiet Release of what it
 * mapped, to a daemon with the features and to one without), then up
 * to four replies, each
 * one byte saying which fds ride along, a 16-bit little-endian length
 * and that many bytes.  The fd byte: bits 0-1 how many fds (0-3), bit 2
 * the first is a memfd (else /dev/null), bit 3 the memfd is sealed
 * against writes and resizing, bits 4-7 its size in pages.  The fake
 * daemon sends every reply before the call and then shuts its end, so
 * a call waiting for more sees the end of the stream, never a hang.
 *
 * The contracts asserted, for any input:
 *   - a call returns 0 or a negative errno, and a failure leaves a
 *     message of one printable line;
 *   - a region that comes back is mapped as large as it says;
 *   - every async request's callback runs once, with 0 and its region
 *     or value, or a negative errno and a message; dispatch returns a
 *     count or a negative errno; an event names a lease, its reason is
 *     one printable line;
 *   - once the connection is closed, no fd the fake daemon sent is left
 *     open: the library closes each one it does not hand over.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "internal.h"

#define REPLIES		4
#define OPS		12

/* The open fds and what they are, for the report of a leak. */
static void
fd_list(char *buf, size_t len)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *de;
	char path[300], target[256];
	size_t used = 0;
	ssize_t n;

	buf[0] = '\0';
	if (dir == NULL)
		return;
	while ((de = readdir(dir)) != NULL && used + 1 < len) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		used += (size_t)snprintf(buf + used, len - used, " %s:%s",
		    de->d_name, target);
	}
	closedir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* The fds a reply carries, as its fd byte says; returns how many. */
static int
fds_make(uint8_t spec, int *fds)
{
	int i, n = spec & 3;
	size_t pages = spec >> 4;

	for (i = 0; i < n; i++) {
		if (i == 0 && (spec & 4)) {
			fds[i] = memfd_create("fuzz-grant", MFD_CLOEXEC |
			    MFD_ALLOW_SEALING);
			FUZZ_ASSERT(fds[i] >= 0, "memfd_create");
			FUZZ_ASSERT(ftruncate(fds[i], (off_t)(pages * 4096)) == 0,
			    "ftruncate");
			if (spec & 8)
				FUZZ_ASSERT(fcntl(fds[i], F_ADD_SEALS, F_SEAL_SEAL |
				    F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) == 0,
				    "seals");
		} else {
			fds[i] = open("/dev/null", O_RDWR | O_CLOEXEC);
			FUZZ_ASSERT(fds[i] >= 0, "/dev/null");
		}
	}
	return n;
}

/* One reply from the fake daemon, its fds in one SCM_RIGHTS. */
static void
daemon_send(int sock, const uint8_t *buf, size_t len, uint8_t spec)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 3)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cmsg;
	int fds[3], n, i;

	n = fds_make(spec, fds);
	if (n > 0) {
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n);
		memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * (size_t)n);
	}
	/* An empty packet reads as the end of the stream: fine too. */
	FUZZ_ASSERT(sendmsg(sock, &msg, MSG_NOSIGNAL) == (ssize_t)len,
	    "sendmsg of %zu bytes: %s", len, strerror(errno));
	for (i = 0; i < n; i++)
		close(fds[i]);
}

static void
error_expect(struct mmapclient *c, int err, const char *call)
{
	const char *m = mmapclient_error(c), *p;

	FUZZ_ASSERT(err <= 0 && err >= -4095, "%s returned %d", call, err);
	if (err == 0)
		return;
	FUZZ_ASSERT(m != NULL && m[0] != '\0', "%s failed (%d) without a "
	    "message", call, err);
	for (p = m; *p; p++)
		FUZZ_ASSERT((unsigned char)*p >= 0x20 && *p != 0x7f,
		    "%s: a control character in its message", call);
}

static void
region_expect(struct mmapclient_region *r)
{
	FUZZ_ASSERT(r != NULL && r->addr != NULL && r->size > 0,
	    "a region without memory");
	FUZZ_ASSERT(r->lease_id != 0, "lease 0");
	/* Mapped as it says: the kernel knows it, no touch needed. */
	FUZZ_ASSERT(msync(r->addr, r->size, MS_ASYNC) == 0, "region of %zu "
	    "bytes at %p not mapped", r->size, r->addr);
}

/* What the async callbacks and the revoke handler were given. */
struct seen {
	int ends;
	int events;
	struct mmapclient_region *gone;	/* released by the handler */
};

static void
text_expect(const char *m, const char *what)
{
	const char *p;

	FUZZ_ASSERT(m != NULL, "%s: NULL", what);
	for (p = m; *p; p++)
		FUZZ_ASSERT((unsigned char)*p >= 0x20 && *p != 0x7f,
		    "%s: a control character", what);
}

static void
on_end(struct mmapclient *c, const struct mmapclient_result *res, void *arg)
{
	struct seen *s = arg;

	s->ends++;
	FUZZ_ASSERT(res->error <= 0 && res->error >= -4095, "error %d",
	    res->error);
	text_expect(res->message, "a result's message");
	if (res->error) {
		FUZZ_ASSERT(res->message[0] != '\0', "failed without a "
		    "message");
		FUZZ_ASSERT(res->region == NULL, "a region with error %d",
		    res->error);
		return;
	}
	if (res->region) {
		region_expect(res->region);
		mmapclient_region_free(res->region);
	}
	(void)c;
}

static void
on_revoke(struct mmapclient *c, const struct mmapclient_revoking *ev,
    void *arg)
{
	struct seen *s = arg;

	s->events++;
	FUZZ_ASSERT(ev->lease_id != 0, "an event for lease 0");
	text_expect(ev->reason, "a reason");
	if (ev->region) {
		FUZZ_ASSERT(ev->region->lease_id == ev->lease_id, "the region "
		    "of lease %llu for lease %llu",
		    (unsigned long long)ev->region->lease_id,
		    (unsigned long long)ev->lease_id);
		s->gone = ev->region;
		mmapclient_release(c, ev->region);
	}
}

/*
 * Dispatch to the end of the stream: the fake has shut its end, so the
 * connection breaks once everything sent was read.
 */
static void
dispatch_all(struct mmapclient *c, struct seen *s, int asked)
{
	int i, r = 0;

	for (i = 0; i < 64 && r >= 0; i++) {
		r = mmapclient_dispatch(c);
		FUZZ_ASSERT(r >= -4095, "dispatch returned %d", r);
	}
	FUZZ_ASSERT(r < 0, "no end of the stream after %d dispatches", i);
	FUZZ_ASSERT(mmapclient_in_flight(c) == 0 &&
	    mmapclient_pending(c) == 0, "a broken connection with requests "
	    "or callbacks left");
	FUZZ_ASSERT(s->ends == asked, "%d callbacks for %d requests",
	    s->ends, asked);
}

/* Requests in flight, or events, as an event loop has them. */
static void
client_async(struct mmapclient *c, unsigned int op)
{
	/* Read-only: a memfd of the fd byte, sealed, may serve it. */
	struct mmapclient_request mr = {
		.device = "zero", .size = 4096, .flags = MMAPCLIENT_SHARED,
	};
	struct mmapclient_region *r = NULL;
	struct seen s = { 0, 0, NULL };
	int asked = 0, err;

	if (op == 7) {
		err = mmapclient_map_async(c, &mr, on_end, &s);
		asked += err == 0;
		err = mmapclient_map_async(c, &mr, on_end, &s);
		asked += err == 0;
		err = mmapclient_read_async(c, "mem", 0x1000, 16, on_end, &s);
		asked += err == 0;
		dispatch_all(c, &s, asked);
		return;
	}
	/* Hello again, answered by whatever comes first. */
	err = mmapclient_on_revoke(c, on_revoke, &s);
	error_expect(c, err, "mmapclient_on_revoke");
	if (err)
		return;
	err = mmapclient_map(c, &mr, &r);
	error_expect(c, err, "mmapclient_map");
	dispatch_all(c, &s, 0);
	/* The handler may have released it; else it is still ours. */
	if (err == 0 && r != s.gone)
		mmapclient_region_free(r);
}

/* The call the first byte chose, as a program would make it. */
/* Three Maps in one batch (op 10) or pipelined (11), quietly released. */
static void
client_batch(struct mmapclient *c, unsigned int op)
{
	struct mmapclient_request mr[3];
	struct mmapclient_region *r[3], *got[3];
	int errs[3], err, i, n = 0;

	if (op == 10)
		c->features = FEATURE_MAP_BATCH | FEATURE_QUIET_RELEASE;
	for (i = 0; i < 3; i++)
		mr[i] = (struct mmapclient_request){
			.device = "zero", .size = 4096,
			.flags = MMAPCLIENT_SHARED,
		};
	err = mmapclient_map_batch(c, mr, 3, r, errs);
	if (err < 0)
		error_expect(c, err, "mmapclient_map_batch");
	FUZZ_ASSERT(err <= 3, "%d regions of 3", err);
	for (i = 0; i < 3; i++) {
		FUZZ_ASSERT((errs[i] == 0) == (r[i] != NULL) || err < 0,
		    "item %d: error %d, region %p", i, errs[i], (void *)r[i]);
		FUZZ_ASSERT(errs[i] <= 0, "item %d: error %d", i, errs[i]);
		if (r[i] == NULL)
			continue;
		region_expect(r[i]);
		got[n++] = r[i];
	}
	FUZZ_ASSERT(err < 0 || err == n, "%d mapped, %d regions", err, n);
	if (n == 0)
		return;
	/* The regions go whatever its end. */
	err = mmapclient_release_quiet(c, got, (size_t)n, NULL, NULL);
	if (err)
		error_expect(c, err, "mmapclient_release_quiet");
}

static void
client_call(struct mmapclient *c, unsigned int op)
{
	struct mmapclient_request mr = { .device = "zero", .size = 4096 };
	struct mmapclient_region *r = NULL;
	struct mmapclient_status *st = NULL;
	struct mmapclient_lease *leases = NULL;
	uint64_t v = 0, w = 0;
	size_t n = 0;
	int err;

	switch (op) {
	case 0:
	case 1:
	case 2:
		if (op >= 1) {
			mr.flags = MMAPCLIENT_SHARED | MMAPCLIENT_WRITE;
			mr.region = op == 1 ? "fuzz" : NULL;
		}
		err = mmapclient_map(c, &mr, &r);
		error_expect(c, err, "mmapclient_map");
		FUZZ_ASSERT((err == 0) == (r != NULL), "map %d, region %p",
		    err, (void *)r);
		if (r == NULL)
			break;
		region_expect(r);
		if (op == 2) {
			err = mmapclient_release(c, r);
			error_expect(c, err, "mmapclient_release");
		} else {
			mmapclient_region_free(r);
		}
		break;
	case 3:
		err = mmapclient_status(c, &st);
		error_expect(c, err, "mmapclient_status");
		FUZZ_ASSERT((err == 0) == (st != NULL), "status %d", err);
		mmapclient_status_free(st);
		break;
	case 4:
		err = mmapclient_list(c, &leases, &n);
		error_expect(c, err, "mmapclient_list");
		if (err == 0)
			FUZZ_ASSERT(n == 0 || leases != NULL, "%zu leases, "
			    "no array", n);
		mmapclient_leases_free(leases);
		break;
	case 7:
	case 8:
		client_async(c, op);
		break;
	case 5:
		err = mmapclient_read(c, "mem", 0x1000, 32, &v);
		error_expect(c, err, "mmapclient_read");
		if (err == 0)
			FUZZ_ASSERT(v <= UINT32_MAX, "a 32-bit read gave "
			    "%#llx", (unsigned long long)v);
		break;
	case 9:
		err = mmapclient_modify(c, "mem", 0x1000, 16, 0xff, 0x1, &v,
		    &w);
		error_expect(c, err, "mmapclient_modify");
		if (err == 0)
			FUZZ_ASSERT(v <= UINT16_MAX && w == ((v & ~0xffull) | 1),
			    "a 16-bit modify read %#llx, wrote %#llx",
			    (unsigned long long)v, (unsigned long long)w);
		else
			FUZZ_ASSERT(v == 0 && w == 0, "failed, values set");
		break;
	case 6:
		err = mmapclient_write(c, "mem", 0x1000, 16, 0xbeef);
		error_expect(c, err, "mmapclient_write");
		break;
	case 10:
	case 11:
		client_batch(c, op);
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mmapclient *c;
	size_t pos = 1, len;
	int sv[2], i, n, fds_before;

	if (size < 1)
		return 0;
	fds_before = fuzz_fd_count();
	FUZZ_ASSERT(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
	    sv) == 0, "socketpair: %s", strerror(errno));
	for (i = 0; i < REPLIES && pos + 3 <= size; i++) {
		len = (size_t)data[pos + 1] | (size_t)data[pos + 2] << 8;
		if (len > size - pos - 3)
			len = size - pos - 3;
		daemon_send(sv[1], data + pos + 3, len, data[pos]);
		pos += 3 + len;
	}
	FUZZ_ASSERT(shutdown(sv[1], SHUT_WR) == 0, "shutdown");

	/* A connection past its Hello, as mmapclient_connect() leaves it. */
	c = calloc(1, sizeof(*c));
	FUZZ_ASSERT(c != NULL, "out of memory");
	c->fd = sv[0];
	c->next_id = 1;
	client_call(c, data[0] % OPS);
	/* Whatever is left, to a second call (a broken one stays broken). */
	client_call(c, 3);
	mmapclient_close(c);
	close(sv[1]);

	n = fuzz_fd_count();
	if (n != fds_before) {
		char open_fds[1024];

		fd_list(open_fds, sizeof(open_fds));
		FUZZ_ASSERT(n == fds_before, "%d fds open after the input, %d "
		    "before: the library kept an fd the daemon sent; open:%s",
		    n, fds_before, open_fds);
	}
	return 0;
}
