/*
 * libmmapclient against a daemon that lies.  A fake daemon, a child of
 * the test listening on a SEQPACKET socket in the test's folder, answers
 * Hello and Map with crafted replies and real kernel objects: memfds too
 * small, not sealed or sealed against writing, regular files, pipes,
 * /dev/null, sysfs files, O_PATH and read-only opens, no fd, two fds.
 * The real library must refuse each with -EPROTO and a message carrying
 * the numbers, map nothing (/proc/self/maps unchanged), keep no fd
 * (/proc/self/fd back to its count), and break the connection (the fake
 * sees it end, with no Release); mmapctl must exit 1 with the message
 * rather than die of SIGBUS touching memory that is not there.  What the
 * real daemon sends (daemon/engine.c, daemon/session.c) is mimicked too
 * and must still map.  Each Map is made twice: by mmapclient_map(), and
 * by mmapclient_map_async() completed through mmapclient_dispatch(),
 * with the same verdicts.  No mmapd runs here.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"
#include "wire.h"

#define KIB		1024ull
/* In /proc/self/maps as /memfd:fake-grant. */
#define MEMFD_NAME	"fake-grant"
/* 4096 bytes; maps nothing. */
#define SYSFS_FILE	"/sys/kernel/uevent_seqnum"
#define TMPFS_MAGIC_V	0x01021994

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE	0x0010
#endif

/* As mmapd seals its memfds. */
#define SEALED	(F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL)

#define ANON	MMAPD__V1__FD_KIND__FD_KIND_ANON
#define SHMEM	MMAPD__V1__FD_KIND__FD_KIND_SHMEM
#define DEVICE	MMAPD__V1__FD_KIND__FD_KIND_DEVICE
#define RW	(PROT_READ | PROT_WRITE)

TestSuite(client_trust, .fini = h_cleanup, .timeout = 60);

/*
 * What goes with the Grant: no fd; a memfd of obj_size bytes with seals,
 * as mmapd makes it; that memfd opened again read-only (as mmapd grants
 * a named region read-only), or O_PATH; a regular file in the folder
 * (obj_size, owner, mode); the read end of a pipe; open(path, O_RDONLY)
 * of /dev/zero, /dev/null, a sysfs file.
 */
enum obj {
	OBJ_NONE,
	OBJ_MEMFD,
	OBJ_MEMFD_RO,
	OBJ_MEMFD_PATH,
	OBJ_FILE,
	OBJ_PIPE,
	OBJ_OPEN,
};

struct fake {
	int hello_fd;		/* the HelloReply comes with /dev/null */
	int refuse_fd;		/* Map refused (EPERM) with /dev/null */
	enum obj obj;
	uint64_t obj_size;
	unsigned int seals;
	uid_t owner;
	mode_t mode;
	int wronly;		/* OBJ_FILE sent opened O_WRONLY */
	const char *path;	/* OBJ_OPEN */
	int copies;		/* dups of the fd sent; 0 means 1 */
	int batch;		/* Hello names "map-batch": a GrantBatch
				   of Grants, with copies fds */
	/* The Grant */
	uint64_t size;
	uint64_t offset;
	uint32_t prot;
	uint32_t flags;
	int kind;
};

/* ---------------------------------------------------------------------
 * The fake daemon: a child process, so its fds are not the test's.  It
 * exits with the number of Releases it got, or 100 and up when the
 * library did something unexpected.
 * --------------------------------------------------------------------- */

static int
wait_in(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, H_WAIT_MS) == 1;
}

static int
obj_make(const struct fake *f, int *out)
{
	char proc[64];
	int fd = -1, p[2];

	switch (f->obj) {
	case OBJ_NONE:
		*out = -1;
		return 0;
	case OBJ_MEMFD:
	case OBJ_MEMFD_RO:
	case OBJ_MEMFD_PATH:
		fd = memfd_create(MEMFD_NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (fd < 0 || ftruncate(fd, (off_t)f->obj_size) < 0)
			return -1;
		if (f->seals && fcntl(fd, F_ADD_SEALS, f->seals) < 0)
			return -1;
		if (f->obj == OBJ_MEMFD)
			break;
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		*out = open(proc, (f->obj == OBJ_MEMFD_RO ? O_RDONLY : O_PATH) |
		    O_CLOEXEC);
		close(fd);
		return *out < 0 ? -1 : 0;
	case OBJ_FILE:
		fd = open(h_path("fake-file"), O_RDWR | O_CREAT | O_TRUNC |
		    O_CLOEXEC, 0600);
		if (fd < 0 || ftruncate(fd, (off_t)f->obj_size) < 0 ||
		    fchown(fd, f->owner, (gid_t)-1) < 0 ||
		    fchmod(fd, f->mode) < 0)
			return -1;
		if (!f->wronly)
			break;
		close(fd);
		fd = open(h_path("fake-file"), O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return -1;
		break;
	case OBJ_PIPE:
		if (pipe2(p, O_CLOEXEC) < 0)
			return -1;
		close(p[1]);
		fd = p[0];
		break;
	case OBJ_OPEN:
		fd = open(f->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -1;
		break;
	}
	*out = fd;
	return 0;
}

static int
reply_send(int sock, Reply *r, int fd, int copies)
{
	uint8_t buf[WIRE_MAX];
	int fds[64];
	size_t len = mmapd__v1__reply__get_packed_size(r);
	int i;

	if (len > sizeof(buf) || copies > 64)
		return -1;
	mmapd__v1__reply__pack(r, buf);
	for (i = 0; i < copies; i++)
		fds[i] = fd;
	return raw_send_bytes(sock, buf, len, fds, fd < 0 ? 0 :
	    (size_t)copies);
}

static int
fake_answer(int sock, const struct fake *f, const Request *q, int *releases)
{
	Mmapd__V1__HelloReply hr = MMAPD__V1__HELLO_REPLY__INIT;
	Mmapd__V1__Grant g = MMAPD__V1__GRANT__INIT;
	Mmapd__V1__Ack ack = MMAPD__V1__ACK__INIT;
	Reply r = MMAPD__V1__REPLY__INIT;
	Mmapd__V1__GrantBatch gb = MMAPD__V1__GRANT_BATCH__INIT;
	Mmapd__V1__BatchItem it[WIRE_BATCH_MAX], *pit[WIRE_BATCH_MAX];
	char *features[] = { (char *)"map-batch" };
	int fd = -1, err;
	size_t i;

	r.request_id = q->request_id;
	switch (q->body_case) {
	case MMAPD__V1__REQUEST__BODY_HELLO:
		hr.server_version = (char *)"fake";
		hr.protocol_major = MMAPCLIENT_PROTOCOL_MAJOR;
		if (f->batch) {
			hr.features = features;
			hr.n_features = 1;
		}
		r.body_case = MMAPD__V1__REPLY__BODY_HELLO;
		r.hello = &hr;
		if (f->hello_fd)
			fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		break;
	case MMAPD__V1__REQUEST__BODY_MAP:
		if (f->refuse_fd) {
			r.error = EPERM;
			r.message = (char *)"no";
			fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
			break;
		}
		if (obj_make(f, &fd) < 0)
			return 102;
		g.lease_id = 7;
		g.size = f->size;
		g.mmap_offset = f->offset;
		g.mmap_flags = f->flags;
		g.prot = f->prot;
		g.fd_kind = (Mmapd__V1__FdKind)f->kind;
		g.cache = MMAPD__V1__CACHE_MODE__CACHE_CACHED;
		r.body_case = MMAPD__V1__REPLY__BODY_GRANT;
		r.grant = &g;
		break;
	case MMAPD__V1__REQUEST__BODY_MAP_BATCH:
		if (!f->batch || q->map_batch->n_maps > WIRE_BATCH_MAX ||
		    obj_make(f, &fd) < 0)
			return 105;
		g.lease_id = 7;
		g.size = f->size;
		g.mmap_offset = f->offset;
		g.mmap_flags = f->flags;
		g.prot = f->prot;
		g.fd_kind = (Mmapd__V1__FdKind)f->kind;
		g.cache = MMAPD__V1__CACHE_MODE__CACHE_CACHED;
		for (i = 0; i < q->map_batch->n_maps; i++) {
			mmapd__v1__batch_item__init(&it[i]);
			it[i].grant = &g;
			pit[i] = &it[i];
		}
		gb.items = pit;
		gb.n_items = q->map_batch->n_maps;
		r.body_case = MMAPD__V1__REPLY__BODY_GRANTS;
		r.grants = &gb;
		break;
	case MMAPD__V1__REQUEST__BODY_RELEASE:
		(*releases)++;
		r.body_case = MMAPD__V1__REPLY__BODY_RELEASE;
		r.release = &ack;
		break;
	default:
		return 103;
	}
	err = reply_send(sock, &r, fd, f->copies ? f->copies : 1);
	if (fd >= 0)
		close(fd);
	return err ? 104 : 0;
}

static int
fake_serve(int lfd, const struct fake *f)
{
	uint8_t buf[WIRE_MAX];
	int fds[WIRE_MAX_FDS];
	size_t nfds;
	int sock, releases = 0, rc;
	Request *q;
	ssize_t n;

	if (!wait_in(lfd))
		return 110;
	sock = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (sock < 0)
		return 111;
	close(lfd);
	for (;;) {
		if (!wait_in(sock))
			return 112;
		n = wire_recv(sock, buf, sizeof(buf), fds, &nfds);
		if (n == 0 || n == -ECONNRESET)
			return releases;
		if (n < 0)
			return 113;
		wire_close_fds(fds, &nfds);
		q = mmapd__v1__request__unpack(NULL, (size_t)n, buf);
		if (q == NULL)
			return 114;
		rc = fake_answer(sock, f, q, &releases);
		mmapd__v1__request__free_unpacked(q, NULL);
		if (rc)
			return rc;
	}
}

/* Listen at h_sock() and serve one connection in a child. */
static pid_t
fake_start(const struct fake *f)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	pid_t pid;
	int lfd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", h_sock());
	unlink(sa.sun_path);
	lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	cr_assert(lfd >= 0, "socket: %s", strerror(errno));
	cr_assert(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
	    "bind %s: %s", sa.sun_path, strerror(errno));
	cr_assert(listen(lfd, 4) == 0, "listen: %s", strerror(errno));
	pid = fork();
	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0)
		_exit(fake_serve(lfd, f));
	h_track(pid);
	close(lfd);
	return pid;
}

/* The fake's exit code: the Releases it got. */
static int
fake_end(pid_t pid)
{
	int st = h_wait(pid, H_WAIT_MS);

	cr_assert(st != -1, "the fake daemon did not end within %d ms",
	    H_WAIT_MS);
	cr_assert(WIFEXITED(st), "the fake daemon died of signal %d",
	    WTERMSIG(st));
	cr_assert(WEXITSTATUS(st) < 100, "the fake daemon failed: %d",
	    WEXITSTATUS(st));
	return WEXITSTATUS(st);
}

/* ---------------------------------------------------------------------
 * What this process holds
 * --------------------------------------------------------------------- */

static int
maps_count(const char *needle, int *found)
{
	char line[1024];
	FILE *fp = fopen("/proc/self/maps", "re");
	int n = 0;

	cr_assert(fp != NULL, "/proc/self/maps: %s", strerror(errno));
	*found = 0;
	while (fgets(line, sizeof(line), fp)) {
		n++;
		if (strstr(line, needle))
			*found = 1;
	}
	fclose(fp);
	return n;
}

static struct mmapclient_request
request_of(const struct fake *f)
{
	struct mmapclient_request req = {
		.device = f->kind == DEVICE ? "mem" : "zero",
		.size = f->size,
		.flags = (f->flags == MAP_SHARED ? MMAPCLIENT_SHARED : 0) |
		    (f->prot & PROT_WRITE ? MMAPCLIENT_WRITE : 0),
	};

	return req;
}

/* What an async Map's callback was told. */
struct async_map {
	int ran;
	int error;
	char msg[512];
	struct mmapclient_region *r;
};

static void
async_map_done(struct mmapclient *c, const struct mmapclient_result *res,
    void *arg)
{
	struct async_map *m = arg;

	(void)c;
	m->ran++;
	m->error = res->error;
	snprintf(m->msg, sizeof(m->msg), "%s", res->message);
	m->r = res->region;
}

/*
 * mmapclient_map(), or the same through mmapclient_map_async(), poll(2)
 * and mmapclient_dispatch(), as an event loop makes it: the callback's
 * result.  dispatch's last return goes to *last.
 */
static int
map_by(struct mmapclient *c, const struct mmapclient_request *req,
    int async, struct mmapclient_region **r, int *last)
{
	struct async_map m = { .ran = 0 };
	struct pollfd p = { .fd = mmapclient_fd(c), .events = POLLIN };
	int64_t end = h_now_ms() + H_WAIT_MS;
	int err;

	*last = 0;
	if (!async)
		return mmapclient_map(c, req, r);
	err = mmapclient_map_async(c, req, async_map_done, &m);
	cr_assert_eq(err, 0, "map_async: %d: %s", err, mmapclient_error(c));
	cr_assert_eq(mmapclient_in_flight(c), 1);
	while (m.ran == 0) {
		cr_assert_lt(h_now_ms(), end, "no completion within %d ms",
		    H_WAIT_MS);
		cr_assert_geq(poll(&p, 1, H_WAIT_MS), 0);
		*last = mmapclient_dispatch(c);
	}
	cr_assert_eq(m.ran, 1, "the callback ran %d times", m.ran);
	cr_assert_eq(mmapclient_in_flight(c), 0);
	cr_assert((m.error == 0) == (m.r != NULL), "error %d, region %p",
	    m.error, (void *)m.r);
	if (m.error)
		cr_assert_str_eq(m.msg, mmapclient_error(c));
	*r = m.r;
	return m.error;
}

/*
 * Map what f grants: -EPROTO with needle in the message, nothing mapped,
 * the granted fd closed, the connection broken and ended.  Synchronous,
 * then async.
 */
static void
expect_refused_by(const struct fake *f, const char *needle, int async)
{
	struct mmapclient_request req = request_of(f);
	struct mmapclient_region *r = (void *)1;
	struct mmapclient_status *st = NULL;
	const char *where = f->obj == OBJ_FILE ? h_path("fake-file") :
	    f->obj == OBJ_OPEN ? f->path : MEMFD_NAME;
	int fds0, fds1, maps0, maps1, found, err, last;
	struct mmapclient *c;
	char msg[512];
	pid_t pid;

	fds0 = h_self_fds();
	pid = fake_start(f);
	err = mmapclient_connect(h_sock(), &c);
	cr_assert_eq(err, 0, "connect to the fake: %s", mmapclient_error(NULL));
	fds1 = h_self_fds();
	cr_assert_eq(fds1, fds0 + 1, "connected: %d fds, %d before", fds1,
	    fds0);
	maps0 = maps_count(where, &found);

	err = map_by(c, &req, async, &r, &last);
	snprintf(msg, sizeof(msg), "%s", mmapclient_error(c));
	cr_assert_eq(err, -EPROTO, "%s map gave %d (%s), not -EPROTO: %s",
	    async ? "async" : "sync", err, strerror(-err), msg);
	cr_assert_null(r);
	cr_assert(strstr(msg, needle) != NULL, "message \"%s\" lacks \"%s\"",
	    msg, needle);
	if (async)
		cr_assert_eq(last, -EPROTO, "dispatch gave %d", last);
	maps1 = maps_count(where, &found);
	cr_assert_eq(maps1, maps0, "%d mappings after, %d before: %s", maps1,
	    maps0, msg);
	cr_assert(!found, "%s is mapped", where);
	cr_assert_eq(h_self_fds(), fds1, "%d fds after the Grant, %d before: "
	    "the granted fd is kept", h_self_fds(), fds1);

	/* Broken: the same error again at once, and the fake saw the end. */
	err = mmapclient_status(c, &st);
	cr_assert_eq(err, -EPROTO);
	cr_assert_str_eq(mmapclient_error(c), msg);
	cr_assert_eq(mmapclient_dispatch(c), -EPROTO);
	cr_assert_eq(fake_end(pid), 0, "the lease was released, not ended");
	mmapclient_close(c);
	cr_assert_eq(h_self_fds(), fds0);
}

static void
expect_refused(const struct fake *f, const char *needle)
{
	expect_refused_by(f, needle, 0);
	expect_refused_by(f, needle, 1);
}

/* Map what f grants, touch every byte, release it. */
static void
expect_mapped_by(const struct fake *f, int async)
{
	struct mmapclient_request req = request_of(f);
	struct mmapclient_region *r = NULL;
	volatile unsigned char *p;
	struct mmapclient *c;
	int fds0, err, last;
	unsigned int sum = 0;
	size_t i;
	pid_t pid;

	fds0 = h_self_fds();
	pid = fake_start(f);
	err = mmapclient_connect(h_sock(), &c);
	cr_assert_eq(err, 0, "connect to the fake: %s", mmapclient_error(NULL));
	err = map_by(c, &req, async, &r, &last);
	cr_assert_eq(err, 0, "map: %s (%d): %s", strerror(-err), err,
	    mmapclient_error(c));
	cr_assert_eq(r->size, f->size);
	cr_assert_eq(h_self_fds(), fds0 + 1, "the granted fd is kept");
	p = r->addr;
	for (i = 0; i < r->size; i += 512) {
		sum += p[i];
		if (r->prot & PROT_WRITE)
			p[i] = 1;
	}
	cr_assert_eq(sum, 0);
	err = mmapclient_release(c, r);
	cr_assert_eq(err, 0, "release: %s", mmapclient_error(c));
	mmapclient_close(c);
	cr_assert_eq(fake_end(pid), 1);
	cr_assert_eq(h_self_fds(), fds0);
}

static void
expect_mapped(const struct fake *f)
{
	expect_mapped_by(f, 0);
	expect_mapped_by(f, 1);
}

static struct fake
memfd_grant(uint64_t have, unsigned int seals, uint64_t size, uint32_t prot)
{
	struct fake f = {
		.obj = OBJ_MEMFD, .obj_size = have, .seals = seals,
		.size = size, .prot = prot, .flags = MAP_SHARED, .kind = SHMEM,
	};

	return f;
}

/* ---------------------------------------------------------------------
 * Shared memory
 * --------------------------------------------------------------------- */

/* The attack of the finding: a 4 KiB memfd as 64 KiB; SIGBUS past 4 KiB. */
Test(client_trust, memfd_smaller_than_the_grant)
{
	struct fake f = memfd_grant(4 * KIB, SEALED, 64 * KIB, RW);

	expect_refused(&f, "the daemon granted a 4096-byte memfd for a "
	    "65536-byte shared map at offset 0 (lease 7)");
}

/* Big enough, but the map starts where the memfd is about to end. */
Test(client_trust, memfd_offset_past_its_end)
{
	struct fake f = memfd_grant(64 * KIB, SEALED, 64 * KIB, RW);

	f.offset = 4 * KIB;
	expect_refused(&f, "65536-byte memfd for a 65536-byte shared map at "
	    "offset 0x1000");
}

/* The right size, but its sender may ftruncate it to 0 once mapped. */
Test(client_trust, memfd_not_sealed)
{
	struct fake f = memfd_grant(64 * KIB, 0, 64 * KIB, RW);

	expect_refused(&f, "65536-byte memfd whose size is not sealed "
	    "(seals 0");
}

Test(client_trust, memfd_sealed_against_growing_only)
{
	struct fake f = memfd_grant(64 * KIB, F_SEAL_GROW | F_SEAL_SEAL,
	    64 * KIB, RW);

	expect_refused(&f, "whose size is not sealed (seals 0x5, not both "
	    "F_SEAL_GROW and F_SEAL_SHRINK)");
}

/* mmap(2) would refuse it (EPERM); the daemon broke the protocol. */
Test(client_trust, memfd_future_write_sealed_for_a_writable_map)
{
	struct fake f = memfd_grant(64 * KIB, SEALED | F_SEAL_FUTURE_WRITE,
	    64 * KIB, RW);

	expect_refused(&f, "65536-byte memfd sealed against writing (seals "
	    "0x17) for a writable shared map");
}

Test(client_trust, memfd_write_sealed_for_a_writable_map)
{
	struct fake f = memfd_grant(64 * KIB, SEALED | F_SEAL_WRITE,
	    64 * KIB, RW);

	expect_refused(&f, "sealed against writing (seals 0xf)");
}

Test(client_trust, memfd_open_read_only_for_a_writable_map)
{
	struct fake f = memfd_grant(64 * KIB, SEALED, 64 * KIB, RW);

	f.obj = OBJ_MEMFD_RO;
	expect_refused(&f, "65536-byte memfd open read-only for a writable "
	    "shared map (lease 7)");
}

Test(client_trust, memfd_o_path)
{
	struct fake f = memfd_grant(64 * KIB, SEALED, 64 * KIB, PROT_READ);

	f.obj = OBJ_MEMFD_PATH;
	expect_refused(&f, "an O_PATH fd of a 65536-byte regular file, which "
	    "maps nothing");
}

/* A file of the right size, on a disk: nothing seals it. */
Test(client_trust, regular_file_for_shared_memory)
{
	struct fake f = memfd_grant(64 * KIB, 0, 64 * KIB, RW);
	struct statfs sfs;

	f.obj = OBJ_FILE;
	f.owner = 0;
	f.mode = 0600;
	cr_assert(statfs(h_dir(), &sfs) == 0);
	/* On tmpfs a file answers F_GET_SEALS (F_SEAL_SEAL alone). */
	expect_refused(&f, sfs.f_type == TMPFS_MAGIC_V ?
	    "whose size is not sealed (seals 0x1" :
	    "the daemon granted a 65536-byte regular file, not a memfd, for "
	    "a shared-memory map (lease 7)");
}

Test(client_trust, pipe_for_shared_memory)
{
	struct fake f = memfd_grant(0, 0, 64 * KIB, RW);

	f.obj = OBJ_PIPE;
	expect_refused(&f, "the daemon granted a pipe, not a memfd, for a "
	    "shared-memory map");
}

/* What mmapd sends for shared zero memory, and for named regions. */
Test(client_trust, sealed_memfds_as_mmapd_makes_them_map)
{
	struct fake f = memfd_grant(64 * KIB, SEALED, 64 * KIB, RW);

	expect_mapped(&f);
	/* A named region granted read-only: a read-only open of it. */
	f.obj = OBJ_MEMFD_RO;
	f.prot = PROT_READ;
	expect_mapped(&f);
	/* Read-only, a write seal is no obstacle; bigger than asked is fine. */
	f = memfd_grant(128 * KIB, SEALED | F_SEAL_FUTURE_WRITE, 64 * KIB,
	    PROT_READ);
	expect_mapped(&f);
}

/* ---------------------------------------------------------------------
 * Anonymous memory: /dev/zero and nothing else
 * --------------------------------------------------------------------- */

Test(client_trust, anonymous_grant_of_dev_null)
{
	struct fake f = {
		.obj = OBJ_OPEN, .path = "/dev/null", .size = 64 * KIB,
		.prot = RW, .flags = MAP_PRIVATE, .kind = ANON,
	};

	expect_refused(&f, "the daemon granted a character device 1:3 where "
	    "/dev/zero (character device 1:5) was due for an anonymous map");
}

/* A private map of a 4 KiB memfd: SIGBUS past 4 KiB, as shared. */
Test(client_trust, anonymous_grant_of_a_memfd)
{
	struct fake f = memfd_grant(4 * KIB, SEALED, 64 * KIB, RW);

	f.flags = MAP_PRIVATE;
	f.kind = ANON;
	expect_refused(&f, "the daemon granted a 4096-byte memfd where "
	    "/dev/zero (character device 1:5) was due");
}

Test(client_trust, anonymous_grant_without_an_fd)
{
	struct fake f = {
		.obj = OBJ_NONE, .size = 64 * KIB, .prot = RW,
		.flags = MAP_PRIVATE, .kind = ANON,
	};

	expect_refused(&f, "the Grant came without its file descriptor");
}

Test(client_trust, dev_zero_maps)
{
	struct fake f = {
		.obj = OBJ_OPEN, .path = "/dev/zero", .size = 64 * KIB,
		.prot = RW, .flags = MAP_PRIVATE, .kind = ANON,
	};

	expect_mapped(&f);
}

/* ---------------------------------------------------------------------
 * Devices: a character device, a sysfs file, root's own stand-in
 * --------------------------------------------------------------------- */

Test(client_trust, device_grant_of_a_pipe)
{
	struct fake f = {
		.obj = OBJ_PIPE, .size = 4 * KIB, .prot = PROT_READ,
		.flags = MAP_SHARED, .kind = DEVICE,
	};

	expect_refused(&f, "the daemon granted a pipe where a character "
	    "device or a sysfs file was due for a device map");
}

/* Its owner, not root, may truncate it under the client's map. */
Test(client_trust, device_grant_of_another_users_file)
{
	struct fake f = {
		.obj = OBJ_FILE, .obj_size = 64 * KIB, .owner = H_NOBODY,
		.mode = 0644, .size = 64 * KIB, .prot = PROT_READ,
		.flags = MAP_SHARED, .kind = DEVICE,
	};

	expect_refused(&f, "the daemon granted a 65536-byte regular file of "
	    "uid 65534, mode 0644, for a device map (lease 7)");
}

Test(client_trust, device_grant_of_a_file_others_may_write)
{
	struct fake f = {
		.obj = OBJ_FILE, .obj_size = 64 * KIB, .owner = 0,
		.mode = 0666, .size = 64 * KIB, .prot = PROT_READ,
		.flags = MAP_SHARED, .kind = DEVICE,
	};

	expect_refused(&f, "of uid 0, mode 0666, for a device map");
}

Test(client_trust, device_grant_open_write_only)
{
	struct fake f = {
		.obj = OBJ_FILE, .obj_size = 64 * KIB, .owner = 0,
		.mode = 0644, .wronly = 1, .size = 64 * KIB, .prot = PROT_READ,
		.flags = MAP_SHARED, .kind = DEVICE,
	};

	expect_refused(&f, "the daemon granted a 65536-byte regular file "
	    "open write-only, which maps nothing (lease 7)");
}

/* A memfd is anybody's to write (mode 0777): not a device. */
Test(client_trust, device_grant_of_a_memfd)
{
	struct fake f = memfd_grant(64 * KIB, SEALED, 64 * KIB, PROT_READ);

	f.kind = DEVICE;
	expect_refused(&f, "the daemon granted a 65536-byte memfd of uid 0");
}

/* root's stand-in for /dev/mem (as test_mem.c has it), too short. */
Test(client_trust, device_grant_of_roots_file_too_short)
{
	struct fake f = {
		.obj = OBJ_FILE, .obj_size = 8 * KIB, .owner = 0,
		.mode = 0644, .size = 4 * KIB, .offset = 8 * KIB,
		.prot = PROT_READ, .flags = MAP_SHARED, .kind = DEVICE,
	};

	expect_refused(&f, "the daemon granted a 8192-byte regular file for "
	    "a 4096-byte shared map at offset 0x2000 (lease 7)");
}

Test(client_trust, device_grant_of_a_sysfs_file_too_short)
{
	struct fake f = {
		.obj = OBJ_OPEN, .path = SYSFS_FILE, .size = 64 * KIB,
		.prot = PROT_READ, .flags = MAP_SHARED, .kind = DEVICE,
	};
	struct stat st;

	if (stat(SYSFS_FILE, &st) != 0 || st.st_size != 4096)
		cr_skip_test("no 4096-byte " SYSFS_FILE " here");
	expect_refused(&f, "the daemon granted a 4096-byte sysfs file for a "
	    "65536-byte shared map at offset 0");
}

/* A character device and root's stand-in pass; /dev/zero maps. */
Test(client_trust, device_grants_that_map)
{
	struct fake f = {
		.obj = OBJ_OPEN, .path = "/dev/zero", .size = 64 * KIB,
		.prot = PROT_READ, .flags = MAP_PRIVATE, .kind = DEVICE,
	};

	expect_mapped(&f);
	f.obj = OBJ_FILE;
	f.obj_size = 128 * KIB;
	f.owner = 0;
	f.mode = 0644;
	f.offset = 64 * KIB;
	expect_mapped(&f);
}

/* ---------------------------------------------------------------------
 * fds where none belong, and too many
 * --------------------------------------------------------------------- */

/*
 * A daemon without "map-batch" and "quiet-release" (the fake's Hello
 * names no feature): mmapclient_map_batch() sends plain Maps, pipelined,
 * each Grant checked and mapped; mmapclient_release_quiet() sends a
 * plain Release per region, whose Acks dispatch takes in silently.
 */
Test(client_trust, batch_falls_back_without_the_features)
{
	struct fake f = memfd_grant(64 * KIB, SEALED, 64 * KIB, RW);
	struct mmapclient_request reqs[3];
	struct mmapclient_region *out[3];
	struct mmapclient *c;
	int errs[3], i;
	int64_t end;
	pid_t pid;

	pid = fake_start(&f);
	cr_assert_eq(mmapclient_connect(h_sock(), &c), 0, "%s",
	    mmapclient_error(NULL));
	for (i = 0; i < 3; i++)
		reqs[i] = request_of(&f);
	cr_assert_eq(mmapclient_map_batch(c, reqs, 3, out, errs), 3, "%s",
	    mmapclient_error(c));
	for (i = 0; i < 3; i++) {
		cr_assert_eq(errs[i], 0);
		cr_assert_not_null(out[i]);
		memset(out[i]->addr, i, out[i]->size);
	}
	cr_assert_eq(mmapclient_release_quiet(c, out, 3, NULL, NULL), 0, "%s",
	    mmapclient_error(c));
	end = h_now_ms() + H_WAIT_MS;
	while (mmapclient_in_flight(c) > 0 && h_now_ms() < end) {
		cr_assert_geq(mmapclient_dispatch(c), 0, "%s",
		    mmapclient_error(c));
		usleep(1000);
	}
	cr_assert_eq(mmapclient_in_flight(c), 0, "the Acks were not taken in");
	mmapclient_close(c);
	cr_assert_eq(fake_end(pid), 3, "the fake did not get 3 Releases");
}

/*
 * A GrantBatch of two Grants: with two fds both are checked and mapped;
 * with one fd, or three, the connection breaks (-EPROTO) and nothing is
 * mapped or kept.
 */
static void
batch_with_fds(int copies, int want)
{
	struct fake f = memfd_grant(64 * KIB, SEALED, 64 * KIB, RW);
	struct mmapclient_request reqs[2];
	struct mmapclient_region *out[2];
	struct mmapclient *c;
	int errs[2], fds0, got;
	pid_t pid;

	f.batch = 1;
	f.copies = copies;
	fds0 = h_self_fds();
	pid = fake_start(&f);
	cr_assert_eq(mmapclient_connect(h_sock(), &c), 0, "%s",
	    mmapclient_error(NULL));
	reqs[0] = reqs[1] = request_of(&f);
	got = mmapclient_map_batch(c, reqs, 2, out, errs);
	cr_assert_eq(got, want, "%d fds: %d (%s)", copies, got,
	    mmapclient_error(c));
	if (want == 2) {
		/* (The fake sends one memfd twice: one memory.) */
		memset(out[0]->addr, 1, out[0]->size);
		memset(out[1]->addr, 2, out[1]->size);
		cr_assert(h_all(out[0]->addr, out[0]->size, 2));
		mmapclient_region_free(out[0]);
		mmapclient_region_free(out[1]);
	} else {
		cr_assert_null(out[0]);
		cr_assert_null(out[1]);
		cr_assert(strstr(mmapclient_error(c), "the GrantBatch of 2 "
		    "grants came with"), "%s", mmapclient_error(c));
	}
	mmapclient_close(c);
	(void)fake_end(pid);
	cr_assert_eq(h_self_fds(), fds0, "%d fds after, %d before",
	    h_self_fds(), fds0);
}

Test(client_trust, batch_with_its_fds)
{
	batch_with_fds(2, 2);
}

Test(client_trust, batch_short_of_fds)
{
	batch_with_fds(1, -EPROTO);
}

Test(client_trust, batch_with_an_fd_too_many)
{
	batch_with_fds(3, -EPROTO);
}

Test(client_trust, grant_with_two_fds)
{
	struct fake f = memfd_grant(64 * KIB, SEALED, 64 * KIB, RW);

	f.copies = 2;
	expect_refused(&f, "the Grant came with 2 file descriptors, not 1");
}

/*
 * More than the library takes off a packet (WIRE_MAX_FDS, the most a
 * GrantBatch carries): the kernel cuts them short.
 */
Test(client_trust, grant_with_too_many_fds)
{
	struct fake f = memfd_grant(64 * KIB, SEALED, 64 * KIB, RW);

	f.copies = WIRE_MAX_FDS + 4;
	expect_refused(&f, "the reply to Map came with ancillary data cut "
	    "short");
}

Test(client_trust, refusal_with_an_fd)
{
	struct fake f = memfd_grant(64 * KIB, SEALED, 64 * KIB, RW);

	f.refuse_fd = 1;
	expect_refused(&f, "the refusal of Map came with a file descriptor");
}

Test(client_trust, hello_reply_with_an_fd)
{
	struct fake f = { .hello_fd = 1 };
	struct mmapclient *c = (void *)1;
	int fds0, err;
	pid_t pid;

	fds0 = h_self_fds();
	pid = fake_start(&f);
	err = mmapclient_connect(h_sock(), &c);
	cr_assert_eq(err, -EPROTO, "connect gave %d: %s", err,
	    mmapclient_error(NULL));
	cr_assert_null(c);
	cr_assert_str_eq(mmapclient_error(NULL), "the reply to Hello came "
	    "with a file descriptor");
	cr_assert_eq(h_self_fds(), fds0);
	cr_assert_eq(fake_end(pid), 0);
}

/* ---------------------------------------------------------------------
 * mmapctl
 * --------------------------------------------------------------------- */

/*
 * mmapctl reads and writes every byte it maps: given the 4 KiB memfd as
 * 64 KiB, it died of SIGBUS.  Now it says why and exits 1.
 */
Test(client_trust, mmapctl_refuses_a_short_memfd)
{
	struct fake f = memfd_grant(4 * KIB, SEALED, 64 * KIB, RW);
	struct ctl r;
	pid_t pid;

	pid = fake_start(&f);
	ctl_run(&r, CTL_ROOT, "map", "--dev", "zero", "--size", "64K",
	    "--shared");
	cr_assert_eq(r.status, 1, "mmapctl exited %d (128 + %d: SIGBUS); "
	    "stderr: %s", r.status, SIGBUS, r.err);
	cr_assert(strstr(r.err, "mmapctl: map zero: Protocol error (EPROTO, "
	    "errno 71): the daemon granted a 4096-byte memfd for a "
	    "65536-byte shared map") != NULL, "stderr: %s", r.err);
	cr_assert_str_eq(r.out, "");
	ctl_free(&r);
	cr_assert_eq(fake_end(pid), 0);
}
