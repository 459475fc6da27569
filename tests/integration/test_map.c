/*
 * Mapping /dev/zero through a real mmapd: private and shared, through
 * libmmapclient and through mmapctl, and a named shared region that two
 * processes map together, one writing and the other reading.
 *
 * The daemon runs on its built-in default (no -c): zero for everyone up
 * to 64 MiB, nothing else.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <grp.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"
#include "wire.h"

#define KIB	1024ull
/* F_SEAL_EXEC, Linux 6.3: older headers lack it. */
#define F_SEAL_EXEC_BIT	0x0020
#define MIB	(1024ull * 1024)

TestSuite(map, .fini = h_cleanup, .timeout = 30);

static struct mmapclient_region *
map_ok(struct mmapclient *c, const struct mmapclient_request *req)
{
	struct mmapclient_region *r = NULL;
	int err;

	err = mmapclient_map(c, req, &r);
	cr_assert(err == 0, "map %s size %llu: %s (%s)", req->device,
	    (unsigned long long)req->size, strerror(-err),
	    mmapclient_error(c));
	cr_assert(r != NULL);
	return r;
}

static void
pattern_fill(void *p, size_t n, uint64_t seed)
{
	uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)((i * 131 + 17) ^ seed);
}

static int
pattern_ok(const void *p, size_t n, uint64_t seed)
{
	const volatile uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != (uint8_t)((i * 131 + 17) ^ seed))
			return 0;
	return 1;
}

/* The one lease of this process in List, checked field by field. */
static void
list_expect_one(struct mmapclient *c, const struct mmapclient_region *r,
    int shared)
{
	struct mmapclient_lease *l = NULL;
	size_t n = 0;
	int err;

	err = mmapclient_list(c, &l, &n);
	cr_assert(err == 0, "list: %s (%s)", strerror(-err),
	    mmapclient_error(c));
	cr_assert_eq(n, 1, "List shows %zu leases, not 1", n);
	cr_expect_eq(l[0].id, r->lease_id);
	cr_expect_eq(l[0].uid, getuid());
	cr_expect_eq(l[0].pid, getpid());
	cr_expect_str_eq(l[0].device, "zero");
	cr_expect_eq(l[0].size, r->size);
	cr_expect_eq(l[0].prot, PROT_READ | PROT_WRITE);
	cr_expect_eq(l[0].shared, shared);
	cr_expect(l[0].created_unix_sec > 0);
	mmapclient_leases_free(l);
}

static void
zero_roundtrip(unsigned int flags, enum mmapclient_kind kind, int mflags,
    const char *kind_name)
{
	struct mmapclient_request req = {
		.device = "zero", .size = MIB, .flags = flags,
	};
	struct mmapclient_region *r;
	struct mmapclient *c;
	char lease[48];
	int self = h_self_fds(), with_conn;

	h_start(NULL);
	c = h_connect();
	with_conn = h_self_fds();
	r = map_ok(c, &req);

	/* The grant: what it is and how it is mapped. */
	cr_assert_neq(r->lease_id, 0);
	cr_assert_eq(r->size, MIB);
	cr_assert_eq(r->kind, kind, "kind %d, not %d", r->kind, kind);
	cr_assert_eq(r->mmap_flags, mflags);
	cr_assert_eq(r->prot, PROT_READ | PROT_WRITE);
	cr_assert_eq(r->cache, MMAPCLIENT_CACHE_CACHED);
	/* The fd was mapped and closed by the library. */
	cr_assert_eq(h_self_fds(), with_conn, "the grant's fd stayed open");

	/* Fresh memory reads zero; a pattern written reads back. */
	cr_assert(h_all(r->addr, r->size, 0), "fresh memory is not zero");
	pattern_fill(r->addr, r->size, r->lease_id);
	cr_assert(pattern_ok(r->addr, r->size, r->lease_id));

	list_expect_one(c, r, mflags == MAP_SHARED);
	snprintf(lease, sizeof(lease), "lease=%llu ",
	    (unsigned long long)r->lease_id);
	h_log_expect("audit: event=grant", lease, h_pidf(getpid()),
	    "device=zero", kind_name, "result=ok");

	cr_assert_eq(mmapclient_release(c, r), 0, "release: %s",
	    mmapclient_error(c));
	h_log_expect("audit: event=release", lease);
	cr_assert_eq(h_status_leases(), 0);
	mmapclient_close(c);
	cr_assert_eq(h_self_fds(), self, "libmmapclient left fds open");
	h_stop();
}

Test(map, lib_private_zero)
{
	zero_roundtrip(MMAPCLIENT_WRITE, MMAPCLIENT_KIND_ANON, MAP_PRIVATE,
	    "kind=anonymous");
}

Test(map, lib_shared_zero)
{
	zero_roundtrip(MMAPCLIENT_WRITE | MMAPCLIENT_SHARED,
	    MMAPCLIENT_KIND_SHMEM, MAP_SHARED, "kind=shared-memory");
}

/*
 * Shared zero memory is data, never a program: a client that may not
 * exec what it writes (a noexec tmpfs, a sandbox) must not get an
 * executable file from mmapd.  A script written into the grant is run
 * through execveat(fd, "", AT_EMPTY_PATH), in a child, as root (which
 * needs one x bit set), and must be refused with EACCES; the mode has no
 * x bit, and the client cannot add one.
 */
Test(map, shared_zero_not_executable)
{
	static const char script[] = "#!/bin/sh\nexit 7\n";
	char *const argv[] = { (char *)"granted", NULL };
	struct stat st;
	Reply *rep;
	pid_t pid;
	int fd, gfd, status;
	void *p;

	h_start(NULL);
	fd = raw_connect();
	raw_hello(fd);
	rep = raw_map(fd, 1, "zero", 0, 4 * KIB, 1, 1, NULL, &gfd);
	cr_assert_eq(rep->error, 0, "map: %s", rep->message);
	cr_assert_geq(gfd, 0);
	reply_free(rep);
	p = mmap(NULL, 4 * KIB, PROT_READ | PROT_WRITE, MAP_SHARED, gfd, 0);
	cr_assert_neq(p, MAP_FAILED, "mmap: %s", strerror(errno));
	memcpy(p, script, sizeof(script) - 1);
	cr_assert_eq(fstat(gfd, &st), 0);
	cr_assert_eq(st.st_mode & 0111, 0, "the memfd is mode %04o",
	    (unsigned)(st.st_mode & 07777));
	/* Root may chmod any file, but not against F_SEAL_EXEC (6.3). */
	if (fcntl(gfd, F_GET_SEALS) & F_SEAL_EXEC_BIT)
		cr_assert_neq(fchmod(gfd, 0700), 0, "the holder made the "
		    "memfd executable");
	else
		cr_log_warn("this kernel has no F_SEAL_EXEC: the x bits "
		    "are clear but not sealed");
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		(void)syscall(SYS_execveat, gfd, "", argv, environ,
		    AT_EMPTY_PATH);
		_exit(errno == EACCES ? 0 : 100 + (errno & 63));
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "the child died of signal %d",
	    WTERMSIG(status));
	cr_assert_neq(WEXITSTATUS(status), 7, "the script in the granted "
	    "memory ran");
	cr_assert_eq(WEXITSTATUS(status), 0, "execveat: errno %d, not "
	    "EACCES", WEXITSTATUS(status) - 100);
	munmap(p, 4 * KIB);
	close(gfd);
	close(fd);
	h_stop();
}

/* Leases are distinct, counted in Status, and end with the connection. */
Test(map, lib_leases_counted_and_ended_by_close)
{
	struct mmapclient_request priv = {
		.device = "zero", .size = 4 * KIB, .flags = MMAPCLIENT_WRITE,
	};
	struct mmapclient_request shared = {
		.device = "zero", .size = 8 * KIB + 1,
		.flags = MMAPCLIENT_WRITE | MMAPCLIENT_SHARED,
	};
	struct mmapclient_region *a, *b, *d;
	struct mmapclient *c;
	int self = h_self_fds();

	h_start(NULL);
	c = h_connect();
	a = map_ok(c, &priv);
	b = map_ok(c, &shared);
	d = map_ok(c, &shared);
	cr_assert(a->lease_id != b->lease_id && b->lease_id != d->lease_id &&
	    a->lease_id != d->lease_id, "lease ids repeat");
	/* Rounded up to pages, as mmap(2) does. */
	cr_assert_eq(b->size, 12 * KIB);
	/* Two shared maps without a name are two memories. */
	memset(b->addr, 0x11, b->size);
	cr_assert(h_all(d->addr, d->size, 0));
	cr_assert_eq(h_status_leases(), 3);

	/* Closing the connection ends the leases; the memory stays. */
	mmapclient_close(c);
	cr_assert_eq(h_leases_wait(0), 0);
	cr_assert(h_all(b->addr, b->size, 0x11));
	mmapclient_region_free(a);
	mmapclient_region_free(b);
	mmapclient_region_free(d);
	cr_assert_eq(h_self_fds(), self);
	h_stop();
}

/* A read-only grant of private zero memory is mapped PROT_READ. */
Test(map, lib_read_only)
{
	struct mmapclient_request req = { .device = "zero", .size = 64 * KIB };
	struct mmapclient_region *r;
	struct mmapclient *c;

	h_start(NULL);
	c = h_connect();
	r = map_ok(c, &req);
	cr_assert_eq(r->prot, PROT_READ);
	cr_assert(h_all(r->addr, r->size, 0));
	cr_assert_eq(mmapclient_release(c, r), 0);
	mmapclient_close(c);
	h_stop();
}

/* ----------------------------------------------------------------------
 * mmapctl
 * ---------------------------------------------------------------------- */

Test(map, ctl_private_zero)
{
	struct ctl r;

	h_start(NULL);
	ctl_run(&r, CTL_ROOT, "map", "--dev", "zero", "--size", "1M");
	cr_assert_eq(r.status, 0, "mmapctl exit %d; stdout:\n%s\nstderr:\n%s",
	    r.status, r.out, r.err);
	cr_expect(strstr(r.out, "1048576 bytes of zero") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "kind anon") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "private") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "all zero") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "wrote a pattern") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "released lease") != NULL, "%s", r.out);
	cr_expect_str_empty(r.err);
	ctl_free(&r);

	ctl_run(&r, CTL_ROOT, "--json", "map", "--dev", "zero", "--size",
	    "64K");
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_expect(strstr(r.out, "\"kind\":\"anon\"") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "\"size\":65536") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "\"shared\":false") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "\"ok\":true") != NULL, "%s", r.out);
	ctl_free(&r);

	h_log_expect("audit: event=grant", "device=zero", "size=1048576",
	    "kind=anonymous");
	/* mmapctl released what it took. */
	cr_assert_eq(h_leases_wait(0), 0);
	h_stop();
}

Test(map, ctl_shared_zero)
{
	struct ctl r;

	h_start(NULL);
	ctl_run(&r, CTL_ROOT, "--json", "map", "--dev", "zero", "--size",
	    "1M", "--shared");
	cr_assert_eq(r.status, 0, "mmapctl exit %d; stdout:\n%s\nstderr:\n%s",
	    r.status, r.out, r.err);
	cr_expect(strstr(r.out, "\"kind\":\"shmem\"") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "\"shared\":true") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "\"prot\":\"rw\"") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "\"nonzero\":0") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "\"write\":\"pattern\"") != NULL, "%s", r.out);
	ctl_free(&r);
	h_log_expect("audit: event=grant", "device=zero", "shared=1",
	    "kind=shared-memory");
	cr_assert_eq(h_leases_wait(0), 0);
	h_stop();
}

/* ----------------------------------------------------------------------
 * A named region, two processes
 * ---------------------------------------------------------------------- */

Test(map, ctl_named_region_two_processes)
{
	struct ctl_bg holder;
	struct ctl r;

	h_start(NULL);
	ctl_spawn(&holder, CTL_ROOT, "map", "--dev", "zero", "--size", "64K",
	    "--shared", "--name", "foo", "--fill", "0xab", "--hold");
	ctl_bg_wait(&holder, "holding lease");

	/* A second process sees what the first wrote. */
	ctl_run(&r, CTL_ROOT, "map", "--dev", "zero", "--size", "64K",
	    "--shared", "--name", "foo", "--expect", "0xab");
	cr_assert_eq(r.status, 0, "second mmapctl exit %d; stdout:\n%s\n"
	    "stderr:\n%s", r.status, r.out, r.err);
	cr_expect(strstr(r.out, "region foo") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "all 65536 bytes are 0xab") != NULL, "%s",
	    r.out);
	ctl_free(&r);

	/* --expect does check: a wrong byte fails. */
	ctl_run(&r, CTL_ROOT, "map", "--dev", "zero", "--size", "64K",
	    "--shared", "--name", "foo", "--expect", "0xcd");
	cr_assert_neq(r.status, 0, "--expect 0xcd passed on 0xab memory:\n%s",
	    r.out);
	cr_expect(strstr(r.err, "is 0xab") != NULL, "%s", r.err);
	ctl_free(&r);

	/* Another size for an existing name is refused. */
	ctl_run(&r, CTL_ROOT, "map", "--dev", "zero", "--size", "128K",
	    "--shared", "--name", "foo");
	cr_assert_eq(r.status, 1, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.err, "EINVAL") != NULL, "%s", r.err);
	ctl_free(&r);

	cr_assert_eq(h_status_leases(), 1);
	ctl_bg_stop(&holder, SIGINT, &r);
	cr_assert_eq(r.status, 0, "holder exit %d; stdout:\n%s\nstderr:\n%s",
	    r.status, r.out, r.err);
	cr_expect(strstr(r.out, "released lease") != NULL, "%s", r.out);
	ctl_free(&r);
	cr_assert_eq(h_leases_wait(0), 0);

	/* The region died with its last lease: the name is free again. */
	ctl_run(&r, CTL_ROOT, "map", "--dev", "zero", "--size", "128K",
	    "--shared", "--name", "foo");
	cr_assert_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.out, "all zero") != NULL, "%s", r.out);
	ctl_free(&r);
	h_stop();
}

/* Read exactly one byte from fd within H_WAIT_MS. */
static int
pipe_get(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	unsigned char b;

	if (poll(&p, 1, H_WAIT_MS) <= 0 || read(fd, &b, 1) != 1)
		return -1;
	return b;
}

/*
 * The writer: map "bar", fill it with 0x5a, say so, wait for the reader
 * to overwrite it with 0xa5, check that, release.  Exit 0 when all went
 * well, else the step that failed.
 */
static void __attribute__((noreturn))
writer(int tell, int hear)
{
	struct mmapclient_request req = {
		.device = "zero", .size = 64 * KIB,
		.flags = MMAPCLIENT_SHARED | MMAPCLIENT_WRITE, .region = "bar",
	};
	struct mmapclient_region *r;
	struct mmapclient *c;
	unsigned char ok = 'w';

	if (mmapclient_connect(h_sock(), &c) != 0)
		_exit(10);
	if (mmapclient_map(c, &req, &r) != 0)
		_exit(11);
	if (r->kind != MMAPCLIENT_KIND_SHMEM || !h_all(r->addr, r->size, 0))
		_exit(12);
	memset(r->addr, 0x5a, r->size);
	if (write(tell, &ok, 1) != 1)
		_exit(13);
	if (pipe_get(hear) != 'r')
		_exit(14);
	if (!h_all(r->addr, r->size, 0xa5))
		_exit(15);
	if (mmapclient_release(c, r) != 0)
		_exit(16);
	mmapclient_close(c);
	_exit(0);
}

Test(map, lib_named_region_two_processes)
{
	struct mmapclient_request req = {
		.device = "zero", .size = 64 * KIB,
		.flags = MMAPCLIENT_SHARED | MMAPCLIENT_WRITE, .region = "bar",
	};
	struct mmapclient_request ro = req;
	struct mmapclient_region *r, *q;
	struct mmapclient *c;
	int to_parent[2], to_child[2], st;
	unsigned char go = 'r';
	pid_t pid;

	h_start(NULL);
	cr_assert(pipe(to_parent) == 0 && pipe(to_child) == 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		close(to_parent[0]);
		close(to_child[1]);
		writer(to_parent[1], to_child[0]);
	}
	h_track(pid);
	close(to_parent[1]);
	close(to_child[0]);
	cr_assert_eq(pipe_get(to_parent[0]), 'w', "the writer did not map "
	    "and fill the region (exit %d)", h_wait(pid, 100));

	c = h_connect();
	r = map_ok(c, &req);
	cr_assert_eq(r->kind, MMAPCLIENT_KIND_SHMEM);
	cr_assert_eq(r->size, 64 * KIB);
	cr_assert(h_all(r->addr, r->size, 0x5a),
	    "the reader does not see what the writer wrote");

	/* A read-only attach gets a read-only fd: no mprotect to write. */
	ro.flags = MMAPCLIENT_SHARED;
	q = map_ok(c, &ro);
	cr_assert_eq(q->prot, PROT_READ);
	cr_assert(h_all(q->addr, q->size, 0x5a));
	cr_assert_eq(mprotect(q->addr, q->size, PROT_READ | PROT_WRITE), -1,
	    "a read-only grant of a named region could be made writable");
	cr_assert_eq(errno, EACCES);

	memset(r->addr, 0xa5, r->size);
	cr_assert(h_all(q->addr, q->size, 0xa5));
	cr_assert_eq(write(to_child[1], &go, 1), 1);
	st = h_wait(pid, H_WAIT_MS);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "the writer failed at step %d (wait status %#x)",
	    WIFEXITED(st) ? WEXITSTATUS(st) : -1, st);
	h_log_expect("audit: event=grant", "device=zero", "region=bar",
	    h_pidf(pid));

	cr_assert_eq(mmapclient_release(c, q), 0);
	cr_assert_eq(mmapclient_release(c, r), 0);
	mmapclient_close(c);
	cr_assert_eq(h_leases_wait(0), 0);
	close(to_parent[0]);
	close(to_child[1]);
	h_stop();
}

/*
 * What the child of the test below found: 0 when it could not write to
 * a region granted to it read-only, else how it could.
 */
enum { RO_HELD = 0, RO_SETUP, RO_NO_GRANT, RO_MMAP_WRITE, RO_REOPEN_RW };

/*
 * As uid H_OTHER, on the raw protocol (a hostile client keeps its fd):
 * attach to the named region read-only, then try to write to it, by
 * mapping the fd writable and by opening it again through /proc.
 */
static int
ro_attacker(void)
{
	Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Map m = MMAPD__V1__MAP__INIT;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint8_t buf[WIRE_MAX];
	int fds[WIRE_MAX_FDS], sock, fd;
	char path[64];
	size_t nfds = 0, len;
	ssize_t n;
	Reply *r;
	void *p;

	if (setgroups(0, NULL) < 0 || setresgid(H_OTHER, H_OTHER,
	    H_OTHER) < 0 || setresuid(H_OTHER, H_OTHER, H_OTHER) < 0)
		return RO_SETUP;
	/* As after an exec: a process of its own uid, dumpable. */
	prctl(PR_SET_DUMPABLE, 1);
	memcpy(sa.sun_path, h_sock(), strlen(h_sock()) + 1);
	sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sock < 0 || connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return RO_SETUP;
	m.device = (char *)"zero";
	m.size = 64 * KIB;
	m.shared = 1;
	m.write = 0;
	m.region = (char *)"ro";
	req.request_id = 1;
	req.body_case = MMAPD__V1__REQUEST__BODY_MAP;
	req.map = &m;
	len = mmapd__v1__request__pack(&req, buf);
	if (wire_send(sock, buf, len, -1) != 0)
		return RO_SETUP;
	n = wire_recv(sock, buf, sizeof(buf), fds, &nfds);
	if (n <= 0)
		return RO_SETUP;
	r = mmapd__v1__reply__unpack(NULL, (size_t)n, buf);
	if (r == NULL || r->error != 0 || nfds != 1)
		return RO_NO_GRANT;
	fd = fds[0];
	mmapd__v1__reply__free_unpacked(r, NULL);

	p = mmap(NULL, 64 * KIB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p != MAP_FAILED) {
		memset(p, 0x99, 64 * KIB);
		return RO_MMAP_WRITE;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		p = mmap(NULL, 64 * KIB, PROT_READ | PROT_WRITE, MAP_SHARED,
		    fd, 0);
		if (p != MAP_FAILED)
			memset(p, 0x99, 64 * KIB);
		return RO_REOPEN_RW;
	}
	return RO_HELD;
}

/*
 * A read-only attach to a named region must stay read-only for another
 * user: neither its fd nor a reopen of it through /proc/self/fd may be
 * mapped writable.  Another user than mmapd's own too (H_OTHER, not
 * nobody, which mmapd runs as here): the memfd is its user's, and a
 * process of that user could reopen it read-write, or ptrace mmapd.
 * mmapd's user must be its own.
 */
Test(map, named_region_read_only_stays_read_only)
{
	static const char *const how[] = {
		[RO_SETUP] = "the child could not set up",
		[RO_NO_GRANT] = "the read-only attach was refused",
		[RO_MMAP_WRITE] = "its fd could be mapped PROT_WRITE, "
		    "MAP_SHARED",
		[RO_REOPEN_RW] = "its fd could be opened again O_RDWR through "
		    "/proc/self/fd (a memfd is made mode 0777) and written",
	};
	struct mmapclient_request req = {
		.device = "zero", .size = 64 * KIB,
		.flags = MMAPCLIENT_SHARED | MMAPCLIENT_WRITE, .region = "ro",
	};
	struct mmapclient_region *r;
	struct mmapclient *c;
	pid_t pid;
	int st, code;

	if (geteuid() != 0)
		cr_skip_test("not root: cannot be another user");
	/* Declared: an undeclared name would be H_OTHER's own memory. */
	h_start("[daemon]\nsocket_mode = 0666\n\n[zero]\nusers = *\n\n"
	    "[shm ro]\nsize = 64K\nwriters = 0\nreaders = 65533\n");
	c = h_connect();
	r = map_ok(c, &req);
	memset(r->addr, 0x11, r->size);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0)
		_exit(ro_attacker());
	h_track(pid);
	st = h_wait(pid, H_WAIT_MS);
	cr_assert(st != -1 && WIFEXITED(st), "the child: status %#x", st);
	code = WEXITSTATUS(st);
	cr_expect(h_all(r->addr, r->size, 0x11), "uid %d wrote to a region "
	    "it was granted read-only", H_OTHER);
	cr_assert_eq(code, RO_HELD, "uid %d attached to a named region "
	    "read-only, and %s", H_OTHER, code < 5 ? how[code] : "?");
	cr_assert_eq(mmapclient_release(c, r), 0);
	mmapclient_close(c);
	h_stop();
}

/*
 * /dev/zero is ordinary cached memory: uncached or write-combining cannot
 * be given, and mmapd.proto says "A mode the device cannot give fails
 * with EINVAL".  Cached (or the default) is granted as cached.
 */
Test(map, zero_cache_modes)
{
	static const Mmapd__V1__CacheMode bad[] = {
		MMAPD__V1__CACHE_MODE__CACHE_UNCACHED,
		MMAPD__V1__CACHE_MODE__CACHE_WC,
	};
	Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Map m = MMAPD__V1__MAP__INIT;
	Reply *rep;
	size_t i;
	int fd, rfd, shared;

	h_start(NULL);
	fd = raw_connect();
	raw_hello(fd);
	m.device = (char *)"zero";
	m.size = 4096;
	m.write = 1;
	m.region = (char *)"";
	req.body_case = MMAPD__V1__REQUEST__BODY_MAP;
	req.map = &m;
	for (shared = 0; shared < 2; shared++) {
		m.shared = shared;
		m.cache = MMAPD__V1__CACHE_MODE__CACHE_CACHED;
		req.request_id++;
		rep = raw_call(fd, &req, &rfd);
		cr_assert_eq(rep->error, 0, "%s", rep->message);
		cr_assert_eq(rep->grant->cache,
		    MMAPD__V1__CACHE_MODE__CACHE_CACHED);
		close(rfd);
		reply_free(rep);
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			m.cache = bad[i];
			req.request_id++;
			rep = raw_call(fd, &req, &rfd);
			if (rep->error == 0)
				close(rfd);
			cr_expect_eq(rep->error, EINVAL, "%s zero with cache "
			    "mode %d: errno %d, granted as cache mode %d",
			    shared ? "shared" : "private", bad[i], rep->error,
			    rep->grant ? (int)rep->grant->cache : -1);
			reply_free(rep);
		}
	}
	close(fd);
	h_stop();
}
