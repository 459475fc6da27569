/*
 * Shared memory by name, through a real mmapd, with real users: names
 * nobody declared are private to their uid; a name a [shm] section
 * declares is shared as it says (the camera scenario: cam0, 1 MiB,
 * written by the camera's user, read by group video, made by the writer
 * alone, anybody else refused); create, attach or either; a read-only
 * grant stays read-only by every way out the kernel offers; memory that
 * persists, and goes when the policy stops saying so.
 *
 * The users are made up and need no name: the policy names them by
 * number, and the test connects as them (raw_connect_as) or becomes one
 * in a child.  mmapd runs as nobody (H_NOBODY), none of them.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

#define KIB	1024ull
#define MIB	(1024ull * 1024)

/* The camera scenario's users: none is mmapd's (nobody). */
#define CAMERA		65531	/* uid and gid of the camera service */
#define VIEWER		65532	/* a member of group video */
#define VIDEO		65530	/* group video: the viewer's gid */
#define OUTSIDER	H_OTHER	/* 65533: in no list */

#define OPEN_EITHER	MMAPD__V1__REGION_OPEN__OPEN_EITHER
#define OPEN_CREATE	MMAPD__V1__REGION_OPEN__OPEN_CREATE
#define OPEN_ATTACH	MMAPD__V1__REGION_OPEN__OPEN_ATTACH

TestSuite(shm, .fini = h_cleanup, .timeout = 60);

static const char camera_conf[] =
	"[daemon]\n"
	"socket_mode = 0666\n"
	"\n"
	"[zero]\n"
	"users = *\n"
	"\n"
	"[shm cam0]\n"
	"size = 1M\n"
	"writers = 65531\n"
	"reader_groups = 65530\n";

static void
need_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("not root: cannot be other users");
}

/* A Map of zero's shared memory by name, as the wire has it. */
static Reply *
map_name(int fd, uint64_t id, const char *name, uint64_t size, int write,
    int open, int *rfd)
{
	Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Map m = MMAPD__V1__MAP__INIT;

	m.device = (char *)"zero";
	m.size = size;
	m.shared = 1;
	m.write = write;
	m.region = (char *)name;
	m.open = (Mmapd__V1__RegionOpen)open;
	req.request_id = id;
	req.body_case = MMAPD__V1__REQUEST__BODY_MAP;
	req.map = &m;
	return raw_call(fd, &req, rfd);
}

/* The Map must be refused with err, its message holding each needle. */
static void
expect_refused(int fd, const char *who, const char *name, uint64_t size,
    int write, int open, int err, const char *n1, const char *n2)
{
	static uint64_t id = 1000;
	Reply *r;
	int rfd = -1;

	r = map_name(fd, ++id, name, size, write, open, &rfd);
	if (r->error == 0)
		close(rfd);
	cr_expect_eq(r->error, err, "%s: Map %s (%llu bytes, write %d, open "
	    "%d): errno %d, wanted %d: %s", who, name,
	    (unsigned long long)size, write, open, r->error, err,
	    r->message ? r->message : "(granted)");
	if (n1 != NULL)
		cr_expect(r->message && strstr(r->message, n1), "%s: '%s' not "
		    "in '%s'", who, n1, r->message ? r->message : "");
	if (n2 != NULL)
		cr_expect(r->message && strstr(r->message, n2), "%s: '%s' not "
		    "in '%s'", who, n2, r->message ? r->message : "");
	reply_free(r);
}

/* The Map must be granted: its fd, and the grant's prot in *prot. */
static int
expect_granted(int fd, const char *who, const char *name, uint64_t size,
    int write, int open, uint32_t *prot)
{
	static uint64_t id = 2000;
	Reply *r;
	int rfd = -1;

	r = map_name(fd, ++id, name, size, write, open, &rfd);
	cr_assert_eq(r->error, 0, "%s: Map %s (write %d, open %d) refused: "
	    "errno %d: %s", who, name, write, open, r->error, r->message);
	cr_assert_eq(r->grant->size, size);
	cr_assert_eq(r->grant->fd_kind, MMAPD__V1__FD_KIND__FD_KIND_SHMEM);
	if (prot != NULL)
		*prot = r->grant->prot;
	reply_free(r);
	return rfd;
}

static uint8_t *
map_fd(int fd, size_t size, int prot)
{
	void *p = mmap(NULL, size, prot, MAP_SHARED, fd, 0);

	cr_assert(p != MAP_FAILED, "mmap of a granted fd: %s",
	    strerror(errno));
	return p;
}

/* ----------------------------------------------------------------------
 * Every way a holder of a read-only fd might write the memory
 * ---------------------------------------------------------------------- */

enum {
	ESC_SETUP = 1 << 0,
	ESC_MMAP_WRITE = 1 << 1,	/* PROT_WRITE, MAP_SHARED */
	ESC_MPROTECT = 1 << 2,		/* a read mapping made writable */
	ESC_REOPEN_RW = 1 << 3,		/* /proc/self/fd/N, O_RDWR */
	ESC_REOPEN_WO = 1 << 4,		/* /proc/self/fd/N, O_WRONLY */
	ESC_GROW = 1 << 5,		/* ftruncate up */
	ESC_SHRINK = 1 << 6,		/* ftruncate down */
	ESC_SEAL = 1 << 7,		/* F_ADD_SEALS F_SEAL_WRITE */
	ESC_FUTURE_SEAL = 1 << 8,	/* F_ADD_SEALS F_SEAL_FUTURE_WRITE */
	ESC_WRITE = 1 << 9,		/* write(2), pwrite(2) */
	ESC_FCHMOD = 1 << 10,		/* fchmod(2) back to writable */
	ESC_PUNCH = 1 << 11,		/* fallocate PUNCH_HOLE: zeroes it */
	ESC_MADV_REMOVE = 1 << 12,	/* MADV_REMOVE: zeroes it */
	ESC_NR = 13
};

static const char *const esc_names[ESC_NR] = {
	"could not become the user", "mmap PROT_WRITE MAP_SHARED",
	"mprotect to PROT_WRITE", "open /proc/self/fd/N O_RDWR",
	"open /proc/self/fd/N O_WRONLY", "ftruncate larger",
	"ftruncate smaller", "F_ADD_SEALS F_SEAL_WRITE",
	"F_ADD_SEALS F_SEAL_FUTURE_WRITE", "write or pwrite",
	"fchmod 0666", "fallocate PUNCH_HOLE", "madvise MADV_REMOVE",
};

/* In the child, as uid: what worked, as ESC_* bits. */
static int
escapes(int fd, size_t size, uid_t uid, gid_t gid)
{
	char path[64];
	int bits = 0, f;
	void *p;

	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
	    setresuid(uid, uid, uid) < 0)
		return ESC_SETUP;
	/* As after an exec: a process of its own uid, dumpable. */
	prctl(PR_SET_DUMPABLE, 1);

	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p != MAP_FAILED) {
		bits |= ESC_MMAP_WRITE;
		munmap(p, size);
	}
	p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return bits | ESC_SETUP;
	if (mprotect(p, size, PROT_READ | PROT_WRITE) == 0)
		bits |= ESC_MPROTECT;
	if (madvise(p, size, MADV_REMOVE) == 0)
		bits |= ESC_MADV_REMOVE;
	munmap(p, size);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	f = open(path, O_RDWR | O_CLOEXEC);
	if (f >= 0) {
		bits |= ESC_REOPEN_RW;
		close(f);
	}
	f = open(path, O_WRONLY | O_CLOEXEC);
	if (f >= 0) {
		bits |= ESC_REOPEN_WO;
		close(f);
	}
	if (ftruncate(fd, (off_t)size * 2) == 0)
		bits |= ESC_GROW;
	if (ftruncate(fd, (off_t)size / 2) == 0)
		bits |= ESC_SHRINK;
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) == 0)
		bits |= ESC_SEAL;
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE) == 0)
		bits |= ESC_FUTURE_SEAL;
	if (write(fd, "x", 1) >= 0 || pwrite(fd, "x", 1, 0) >= 0)
		bits |= ESC_WRITE;
	if (fchmod(fd, 0666) == 0)
		bits |= ESC_FCHMOD;
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
	    (off_t)size) == 0)
		bits |= ESC_PUNCH;
	return bits;
}

/*
 * A child becomes uid and tries every way out with fd; none may work,
 * and the memory behind mem (the writer's view) must not change.
 */
static void
expect_read_only(int fd, size_t size, uid_t uid, gid_t gid,
    const uint8_t *mem, uint8_t fill)
{
	int pipefd[2], bits = -1, st, seals, i;
	pid_t pid;

	seals = fcntl(fd, F_GET_SEALS);
	cr_expect(seals >= 0 && (seals & F_SEAL_SEAL) &&
	    (seals & F_SEAL_GROW) && (seals & F_SEAL_SHRINK),
	    "the memfd's seals are %#x: want SEAL, GROW and SHRINK", seals);
	cr_assert(pipe(pipefd) == 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		close(pipefd[0]);
		bits = escapes(fd, size, uid, gid);
		if (write(pipefd[1], &bits, sizeof(bits)) != sizeof(bits))
			_exit(2);
		_exit(0);
	}
	close(pipefd[1]);
	h_track(pid);
	st = h_wait(pid, H_WAIT_MS);
	cr_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "the child: status %#x", st);
	cr_assert_eq(read(pipefd[0], &bits, sizeof(bits)), sizeof(bits));
	close(pipefd[0]);
	for (i = 0; i < ESC_NR; i++)
		cr_expect(!(bits & (1 << i)), "uid %u holds a read-only fd, "
		    "and this worked: %s", (unsigned)uid, esc_names[i]);
	if (mem != NULL)
		cr_expect(h_all(mem, size, fill), "the memory changed under a "
		    "read-only holder (uid %u)", (unsigned)uid);
}

/* ----------------------------------------------------------------------
 * Undeclared names: private to their uid
 * ---------------------------------------------------------------------- */

/*
 * The built-in policy (everyone, shared allowed): bob's "payroll" is
 * not alice's, at any size, and bob cannot attach to hers.
 */
Test(shm, undeclared_names_private_per_uid)
{
	int alice, bob, afd, bfd, b2;
	uint8_t *a, *b;

	need_root();
	h_start(NULL);
	alice = raw_connect_as(CAMERA, CAMERA);
	bob = raw_connect_as(OUTSIDER, OUTSIDER);
	raw_hello(alice);
	raw_hello(bob);

	/* Bob cannot attach: for him the name does not exist. */
	afd = expect_granted(alice, "alice", "payroll", 64 * KIB, 1,
	    OPEN_CREATE, NULL);
	a = map_fd(afd, 64 * KIB, PROT_READ | PROT_WRITE);
	memset(a, 0x5a, 64 * KIB);
	expect_refused(bob, "bob", "payroll", 64 * KIB, 0, OPEN_ATTACH,
	    ENOENT, "payroll", "this uid");

	/* Bob's own payroll, at the same size: other memory. */
	bfd = expect_granted(bob, "bob", "payroll", 64 * KIB, 1, OPEN_EITHER,
	    NULL);
	b = map_fd(bfd, 64 * KIB, PROT_READ | PROT_WRITE);
	cr_expect(h_all(b, 64 * KIB, 0), "bob read alice's payroll");
	memset(b, 0x77, 64 * KIB);
	cr_expect(h_all(a, 64 * KIB, 0x5a), "bob overwrote alice's payroll");

	/* Bob cannot squat the name at another size: alice attaches. */
	b2 = expect_granted(alice, "alice", "payroll", 64 * KIB, 0,
	    OPEN_ATTACH, NULL);
	close(b2);
	expect_refused(bob, "bob", "payroll", 4 * KIB, 1, OPEN_EITHER, EINVAL,
	    "exists with 64 KiB", "asks 4 KiB");

	munmap(a, 64 * KIB);
	munmap(b, 64 * KIB);
	close(afd);
	close(bfd);
	close(alice);
	close(bob);
	cr_assert_eq(h_leases_wait(0), 0);
	h_stop();
}

/* Create, attach, either: EEXIST, ENOENT, and sizes named. */
Test(shm, create_attach_either)
{
	int c, fd, fd2;

	need_root();
	h_start(NULL);
	c = raw_connect_as(CAMERA, CAMERA);
	raw_hello(c);
	expect_refused(c, "uid 65531", "x", 8 * KIB, 1, OPEN_ATTACH, ENOENT,
	    "no shared memory named x", NULL);
	fd = expect_granted(c, "uid 65531", "x", 8 * KIB, 1, OPEN_CREATE,
	    NULL);
	expect_refused(c, "uid 65531", "x", 8 * KIB, 1, OPEN_CREATE, EEXIST,
	    "exists (8 KiB, 1 lease)", NULL);
	expect_refused(c, "uid 65531", "x", 12 * KIB, 1, OPEN_ATTACH, EINVAL,
	    "exists with 8 KiB", "asks 12 KiB");
	fd2 = expect_granted(c, "uid 65531", "x", 8 * KIB, 1, OPEN_EITHER,
	    NULL);
	close(fd2);
	expect_refused(c, "uid 65531", "x", 8 * KIB, 1, 3, EINVAL,
	    "unknown open mode 3", NULL);
	expect_refused(c, "uid 65531", "", 8 * KIB, 1, OPEN_ATTACH, EINVAL,
	    "goes with a shared-memory name", NULL);
	close(fd);
	close(c);
	cr_assert_eq(h_leases_wait(0), 0);

	/* The name went with its last lease. */
	c = raw_connect_as(CAMERA, CAMERA);
	expect_refused(c, "uid 65531", "x", 8 * KIB, 1, OPEN_ATTACH, ENOENT,
	    NULL, NULL);
	close(c);
	h_stop();
}

/* ----------------------------------------------------------------------
 * The camera scenario: three users
 * ---------------------------------------------------------------------- */

Test(shm, camera_writer_reader_outsider)
{
	int cam, view, out, cfd, vfd;
	uint32_t prot = 0;
	uint8_t *w, *r;
	struct ctl lst;

	need_root();
	h_start(camera_conf);
	cam = raw_connect_as(CAMERA, CAMERA);
	view = raw_connect_as(VIEWER, VIDEO);
	out = raw_connect_as(OUTSIDER, OUTSIDER);
	raw_hello(cam);
	raw_hello(view);
	raw_hello(out);

	/* Before the camera: the viewer waits, and may not make it. */
	expect_refused(view, "viewer", "cam0", MIB, 0, OPEN_EITHER, ENOENT,
	    "may not create it", "[shm cam0]");
	expect_refused(view, "viewer", "cam0", MIB, 0, OPEN_CREATE, EPERM,
	    "writers create", NULL);
	/* The outsider learns nothing, not even whether it exists. */
	expect_refused(out, "outsider", "cam0", MIB, 0, OPEN_ATTACH, EPERM,
	    "not in the [shm] section", NULL);
	/* Its size is fixed: nobody squats the name at another. */
	expect_refused(cam, "camera", "cam0", 4 * KIB, 1, OPEN_CREATE, EINVAL,
	    "cam0 is 1 MiB", "asks 4 KiB");

	cfd = expect_granted(cam, "camera", "cam0", MIB, 1, OPEN_CREATE,
	    &prot);
	cr_expect_eq(prot, PROT_READ | PROT_WRITE);
	w = map_fd(cfd, MIB, PROT_READ | PROT_WRITE);
	memset(w, 0xc3, MIB);
	expect_refused(cam, "camera", "cam0", MIB, 1, OPEN_CREATE, EEXIST,
	    NULL, NULL);

	/* The viewer reads, never writes. */
	expect_refused(view, "viewer", "cam0", MIB, 1, OPEN_ATTACH, EACCES,
	    "reader only", NULL);
	vfd = expect_granted(view, "viewer", "cam0", MIB, 0, OPEN_ATTACH,
	    &prot);
	cr_expect_eq(prot, PROT_READ);
	r = map_fd(vfd, MIB, PROT_READ);
	cr_expect(h_all(r, MIB, 0xc3), "the viewer does not see the frame");
	memset(w, 0x3c, MIB);
	cr_expect(h_all(r, MIB, 0x3c), "the viewer does not see the next "
	    "frame");
	expect_read_only(vfd, MIB, VIEWER, VIDEO, w, 0x3c);

	/* Once it exists the outsider is refused all the same. */
	expect_refused(out, "outsider", "cam0", MIB, 0, OPEN_EITHER, EPERM,
	    NULL, NULL);
	expect_refused(out, "outsider", "cam0", MIB, 1, OPEN_EITHER, EPERM,
	    NULL, NULL);

	/* mmapctl list names the region of both leases. */
	ctl_run(&lst, CTL_ROOT, "--json", "list");
	cr_expect_eq(lst.status, 0, "%s", lst.err);
	cr_expect(strstr(lst.out, "\"uid\":65531") && strstr(lst.out,
	    "\"uid\":65532"), "%s", lst.out);
	cr_expect(strstr(lst.out, "\"region\":\"cam0\"") &&
	    strstr(strstr(lst.out, "\"region\":\"cam0\"") + 1,
	    "\"region\":\"cam0\""), "%s", lst.out);
	ctl_free(&lst);
	ctl_run(&lst, CTL_ROOT, "list");
	cr_expect(strstr(lst.out, "REGION") && strstr(lst.out, " cam0\n"),
	    "%s", lst.out);
	ctl_free(&lst);
	h_log_expect("audit: event=grant", "uid=65532", "region=cam0",
	    "prot=r ");
	h_log_expect("audit: event=deny", "uid=65533", "region=cam0",
	    "errno=EPERM");

	/* The camera goes; the viewer's lease keeps the memory. */
	munmap(w, MIB);
	close(cfd);
	close(cam);
	cr_assert_eq(h_leases_wait(1), 1);
	cr_expect(h_all(r, MIB, 0x3c));
	munmap(r, MIB);
	close(vfd);
	close(view);
	cr_assert_eq(h_leases_wait(0), 0);

	/* persist = no: it went with its last lease; nothing to attach. */
	view = raw_connect_as(VIEWER, VIDEO);
	expect_refused(view, "viewer", "cam0", MIB, 0, OPEN_ATTACH, ENOENT,
	    NULL, NULL);
	close(view);
	close(out);
	h_stop();
}

/* An unnamed read-only shared grant is as read-only as a named one. */
Test(shm, unnamed_read_only_grant)
{
	Reply *rep;
	int c, fd;

	need_root();
	h_start(NULL);
	c = raw_connect_as(VIEWER, VIDEO);
	raw_hello(c);
	rep = raw_map(c, 1, "zero", 0, 64 * KIB, 1, 0, "", &fd);
	cr_assert_eq(rep->error, 0, "%s", rep->message);
	cr_assert_eq(rep->grant->prot, PROT_READ);
	reply_free(rep);
	expect_read_only(fd, 64 * KIB, VIEWER, VIDEO, NULL, 0);
	close(fd);
	close(c);
	h_stop();
}

/*
 * A read-only creator: the memory is made writable inside mmapd, so the
 * fd handed back must be a read-only reopening of it, as an attacher's
 * is.  Every way out fails, and the memory the same uid writes through a
 * writable attach stays as written.
 */
Test(shm, read_only_creator)
{
	uint32_t prot = 0;
	int c, rfd, wfd;
	uint8_t *w;

	need_root();
	h_start(NULL);
	c = raw_connect_as(VIEWER, VIDEO);
	raw_hello(c);
	rfd = expect_granted(c, "creator", "ro", 64 * KIB, 0, OPEN_CREATE,
	    &prot);
	cr_expect_eq(prot, PROT_READ);
	wfd = expect_granted(c, "creator", "ro", 64 * KIB, 1, OPEN_ATTACH,
	    &prot);
	cr_expect_eq(prot, PROT_READ | PROT_WRITE);
	w = map_fd(wfd, 64 * KIB, PROT_READ | PROT_WRITE);
	memset(w, 0xa5, 64 * KIB);
	expect_read_only(rfd, 64 * KIB, VIEWER, VIDEO, w, 0xa5);
	munmap(w, 64 * KIB);
	close(wfd);
	close(rfd);
	close(c);
	cr_assert_eq(h_leases_wait(0), 0);
	h_stop();
}

/*
 * persist = yes: the memory outlives its last lease, and goes once a
 * reload no longer declares it so.  (A pattern may not persist: the
 * other names it matches come and go with their leases.)
 */
Test(shm, persist_and_reload)
{
	static const char conf[] =
		"[daemon]\n"
		"socket_mode = 0666\n"
		"[zero]\n"
		"users = *\n"
		"[shm log1]\n"
		"size = 16K\n"
		"writers = 65531\n"
		"readers = 65532\n"
		"persist = yes\n"
		"[shm log*]\n"
		"size = 16K\n"
		"writers = 65531\n"
		"readers = 65532\n";
	int cam, view, fd;
	uint8_t *p;

	need_root();
	h_start(conf);
	cam = raw_connect_as(CAMERA, CAMERA);
	fd = expect_granted(cam, "camera", "log1", 16 * KIB, 1, OPEN_CREATE,
	    NULL);
	p = map_fd(fd, 16 * KIB, PROT_READ | PROT_WRITE);
	memset(p, 0x42, 16 * KIB);
	munmap(p, 16 * KIB);
	close(fd);
	close(cam);
	cr_assert_eq(h_leases_wait(0), 0);

	/* No lease holds it: it is there all the same. */
	view = raw_connect_as(VIEWER, VIEWER);
	fd = expect_granted(view, "viewer", "log1", 16 * KIB, 0, OPEN_ATTACH,
	    NULL);
	p = map_fd(fd, 16 * KIB, PROT_READ);
	cr_expect(h_all(p, 16 * KIB, 0x42), "persistent memory lost what "
	    "was written");
	munmap(p, 16 * KIB);
	close(fd);
	/* Another name of the pattern is other memory. */
	expect_refused(view, "viewer", "log2", 16 * KIB, 0, OPEN_ATTACH,
	    ENOENT, NULL, NULL);
	close(view);
	cr_assert_eq(h_leases_wait(0), 0);

	/* The policy stops saying persist: it goes. */
	h_rewrite_conf("[daemon]\nsocket_mode = 0666\n[zero]\nusers = *\n"
	    "[shm log*]\nsize = 16K\nwriters = 65531\nreaders = 65532\n");
	h_signal(SIGHUP);
	cr_assert_eq(h_log_wait(1, "no longer declared to persist"), 1);
	view = raw_connect_as(VIEWER, VIEWER);
	expect_refused(view, "viewer", "log1", 16 * KIB, 0, OPEN_ATTACH,
	    ENOENT, NULL, NULL);
	close(view);
	h_stop();
}

/* Persistent memory no lease holds is closed at exit, without a word. */
Test(shm, persist_closed_at_exit)
{
	static const char conf[] =
		"[daemon]\n"
		"socket_mode = 0666\n"
		"[zero]\n"
		"users = *\n"
		"[shm keep]\n"
		"size = 4K\n"
		"writers = 65531\n"
		"persist = yes\n";
	int cam, fd;

	need_root();
	h_start(conf);
	cam = raw_connect_as(CAMERA, CAMERA);
	fd = expect_granted(cam, "camera", "keep", 4 * KIB, 1, OPEN_EITHER,
	    NULL);
	close(fd);
	close(cam);
	cr_assert_eq(h_leases_wait(0), 0);
	h_stop();
	cr_expect_eq(h_log_count("leases left at exit"), 0);
}

/* mmapctl map --create and --attach. */
Test(shm, ctl_create_attach)
{
	struct ctl_bg bg;
	struct ctl r;

	h_start(NULL);
	ctl_run(&r, CTL_ROOT, "map", "--dev", "zero", "--size", "64K",
	    "--shared", "--name", "frame", "--attach");
	cr_expect_eq(r.status, 1, "%s%s", r.out, r.err);
	cr_expect(strstr(r.err, "(ENOENT, errno"), "%s", r.err);
	ctl_free(&r);
	ctl_run(&r, CTL_ROOT, "map", "--dev", "zero", "--size", "64K",
	    "--shared", "--name", "frame", "--create", "--attach");
	cr_expect_eq(r.status, 2, "%s%s", r.out, r.err);
	ctl_free(&r);
	ctl_run(&r, CTL_ROOT, "map", "--dev", "zero", "--size", "64K",
	    "--shared", "--attach");
	cr_expect_eq(r.status, 2, "%s%s", r.out, r.err);
	ctl_free(&r);

	ctl_spawn(&bg, CTL_ROOT, "map", "--dev", "zero", "--size", "64K",
	    "--shared", "--name", "frame", "--create", "--fill", "0x5e",
	    "--hold");
	ctl_bg_wait(&bg, "holding lease");
	ctl_run(&r, CTL_ROOT, "map", "--dev", "zero", "--size", "64K",
	    "--shared", "--name", "frame", "--create");
	cr_expect_eq(r.status, 1, "%s%s", r.out, r.err);
	cr_expect(strstr(r.err, "(EEXIST, errno"), "%s", r.err);
	ctl_free(&r);
	ctl_run(&r, CTL_ROOT, "map", "--dev", "zero", "--size", "64K",
	    "--shared", "--name", "frame", "--attach", "--read-only",
	    "--expect", "0x5e");
	cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
	ctl_free(&r);
	ctl_run(&r, CTL_ROOT, "list");
	cr_expect(strstr(r.out, " frame\n"), "%s", r.out);
	ctl_free(&r);
	ctl_bg_stop(&bg, SIGTERM, &r);
	cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
	ctl_free(&r);
	h_stop();
}

/*
 * libmmapclient: MMAPCLIENT_CREATE and MMAPCLIENT_ATTACH, refused
 * locally when both or without a name; mmapclient_list() names the
 * region of each lease, "" for none.
 */
Test(shm, lib_create_attach_list)
{
	struct mmapclient_request req = {
		.device = "zero", .size = 8 * KIB, .region = "lib",
		.flags = MMAPCLIENT_SHARED | MMAPCLIENT_WRITE |
		    MMAPCLIENT_ATTACH,
	};
	struct mmapclient_region *a = NULL, *b = NULL, *p = NULL;
	struct mmapclient_lease *l = NULL;
	struct mmapclient *c;
	size_t n = 0;

	h_start(NULL);
	c = h_connect();
	cr_expect_eq(mmapclient_map(c, &req, &a), -ENOENT, "%s",
	    mmapclient_error(c));
	req.flags ^= MMAPCLIENT_ATTACH | MMAPCLIENT_CREATE;
	cr_assert_eq(mmapclient_map(c, &req, &a), 0, "%s",
	    mmapclient_error(c));
	memset(a->addr, 0x21, a->size);
	cr_expect_eq(mmapclient_map(c, &req, &b), -EEXIST);
	cr_expect(strstr(mmapclient_error(c), "exists (8 KiB"), "%s",
	    mmapclient_error(c));
	req.flags ^= MMAPCLIENT_ATTACH | MMAPCLIENT_CREATE;
	cr_assert_eq(mmapclient_map(c, &req, &b), 0, "%s",
	    mmapclient_error(c));
	cr_expect(h_all(b->addr, b->size, 0x21));

	/* Refused before anything is sent. */
	req.flags |= MMAPCLIENT_CREATE;
	cr_expect_eq(mmapclient_map(c, &req, &p), -EINVAL);
	req.flags &= ~MMAPCLIENT_CREATE;
	req.region = NULL;
	cr_expect_eq(mmapclient_map(c, &req, &p), -EINVAL);
	req.flags &= ~MMAPCLIENT_ATTACH;
	cr_assert_eq(mmapclient_map(c, &req, &p), 0, "%s",
	    mmapclient_error(c));

	cr_assert_eq(mmapclient_list(c, &l, &n), 0, "%s", mmapclient_error(c));
	cr_assert_eq(n, 3);
	cr_expect_str_eq(l[0].region, "lib");
	cr_expect_str_eq(l[1].region, "lib");
	cr_expect_str_eq(l[2].region, "");
	cr_expect_str_eq(l[2].device, "zero");
	mmapclient_leases_free(l);
	cr_expect_eq(mmapclient_release(c, a), 0);
	cr_expect_eq(mmapclient_release(c, b), 0);
	cr_expect_eq(mmapclient_release(c, p), 0);
	mmapclient_close(c);
	h_stop();
}
