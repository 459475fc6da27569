/*
 * The sandbox of a running mmapd: what /proc/PID/status says of its two
 * processes once it serves (the worker: no capabilities, no_new_privs,
 * the seccomp filter, the user it dropped to; the monitor: root with
 * CAP_SYS_RAWIO and CAP_KILL alone, its own filter), that the worker
 * keeps serving under the filter through SIGHUP reloads (which look up
 * users and groups again), and that a reload offers what it newly names
 * (the monitor opens it and hands it over) and closes in the worker what
 * it no longer names.
 *
 * The harness starts every mmapd with --user nobody (as root) and the
 * default --seccomp=kill, so every other suite runs sandboxed too.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

#define KIB	1024ull
#define MIB	(1024ull * 1024)

/* The fake PCI function's BAR 0: 1 MiB of memory, no driver. */
#define FAKE_PCI	"0000:00:01.0"
#define FAKE_BAR0	0xd0000000ull
#define FAKE_BAR2	0xd0100000ull

TestSuite(sandbox, .fini = h_cleanup, .timeout = 60);

/* ----------------------------------------------------------------------
 * Helpers
 * ---------------------------------------------------------------------- */

/* The value of "Key:\t..." in pid's /proc/PID/status, malloc'd. */
static char *
status_field_of(pid_t pid, const char *key)
{
	char path[64], want[64], *text, *p, *v;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	text = h_read(path);
	snprintf(want, sizeof(want), "\n%s:\t", key);
	p = strstr(text, want);
	cr_assert_not_null(p, "no %s in %s:\n%s", key, path, text);
	p += strlen(want);
	n = strcspn(p, "\n");
	v = strndup(p, n);
	cr_assert_not_null(v);
	free(text);
	return v;
}

/* The worker's: what serves the clients. */
static char *
status_field(const char *key)
{
	return status_field_of(h_worker_pid(), key);
}

static void
expect_field_of(pid_t pid, const char *key, const char *want)
{
	char *v = status_field_of(pid, key);

	cr_assert_str_eq(v, want, "pid %d's %s: '%s', not '%s'", (int)pid,
	    key, v, want);
	free(v);
}

static void
expect_field(const char *key, const char *want)
{
	expect_field_of(h_worker_pid(), key, want);
}

/*
 * A Map on the raw protocol, shared when write: 0, or the errno the
 * daemon replied.
 */
static int
map_errno(int fd, const char *device, uint64_t size, int write, char *msg,
    size_t len)
{
	Reply *r;
	int rfd = -1, err;

	r = raw_map(fd, 1, device, 0, size, write, write, NULL, &rfd);
	err = (int)r->error;
	if (msg != NULL)
		snprintf(msg, len, "%s", r->message ? r->message : "");
	if (rfd >= 0)
		close(rfd);
	reply_free(r);
	return err;
}

/*
 * A raw connection, and the fds mmapd holds with it.  Two round trips
 * first: a connection that closed (h_start's probe) gives its fd back at
 * the end of a loop iteration, after that iteration's replies went out.
 */
static int
connect_and_count(int *fds)
{
	int fd = raw_connect();

	raw_hello(fd);
	raw_hello(fd);
	*fds = h_fds();
	return fd;
}

/* Does the daemon hold an fd of path? */
static int
daemon_holds(const char *path)
{
	char dir[64], link[PATH_MAX + 64], target[PATH_MAX];
	struct dirent *e;
	DIR *d;
	ssize_t n;
	int found = 0;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)h_worker_pid());
	d = opendir(dir);
	cr_assert_not_null(d, "opendir %s: %s", dir, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", dir, e->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		if (strcmp(target, path) == 0)
			found = 1;
	}
	closedir(d);
	return found;
}

static void
reload(const char *conf)
{
	int before = h_log_count("SIGHUP: policy reloaded");

	h_rewrite_conf(conf);
	h_signal(SIGHUP);
	cr_assert_eq(h_log_wait(before + 1, "SIGHUP: policy reloaded"),
	    before + 1, "no reload in the log");
	cr_assert(h_alive(), "mmapd died in the reload");
}

/* ----------------------------------------------------------------------
 * The running daemon
 * ---------------------------------------------------------------------- */

Test(sandbox, running_daemon_holds_no_privilege)
{
	struct mmapclient_request req = {
		.device = "zero", .size = 64 * KIB,
		.flags = MMAPCLIENT_SHARED | MMAPCLIENT_WRITE, .region = "cam0",
	};
	struct mmapclient_region *rw, *ro;
	struct mmapclient *c;
	char *v;
	int err;

	h_start("[daemon]\nsocket_mode = 0666\n\n[zero]\nusers = *\n");
	h_log_expect("sandbox: seccomp allow-list in force");
	expect_field("CapEff", "0000000000000000");
	expect_field("CapPrm", "0000000000000000");
	expect_field("CapInh", "0000000000000000");
	expect_field("CapBnd", "0000000000000000");
	expect_field("CapAmb", "0000000000000000");
	expect_field("NoNewPrivs", "1");
	expect_field("Seccomp", "2");
	if (geteuid() == 0) {
		h_log_expect("sandbox: running as nobody (uid 65534, gid 65534)");
		expect_field("Uid", "65534\t65534\t65534\t65534");
		expect_field("Gid", "65534\t65534\t65534\t65534");
		/* No supplementary groups: nothing after the tab but a space. */
		v = status_field("Groups");
		cr_assert(strspn(v, " ") == strlen(v), "Groups: '%s'", v);
		free(v);
	} else {
		h_log_expect("sandbox: not started as root");
	}

	/*
	 * It serves: a named region, written, and attached again read-only
	 * (a second open of the memfd through /proc/self/fd, by an mmapd
	 * that is no longer dumpable).
	 */
	c = h_connect();
	err = mmapclient_map(c, &req, &rw);
	cr_assert_eq(err, 0, "map: %s", mmapclient_error(c));
	memset(rw->addr, 0x6b, rw->size);
	req.flags = MMAPCLIENT_SHARED;
	err = mmapclient_map(c, &req, &ro);
	cr_assert_eq(err, 0, "read-only attach: %s", mmapclient_error(c));
	cr_assert(h_all(ro->addr, ro->size, 0x6b));
	cr_assert_eq(mmapclient_release(c, ro), 0);
	cr_assert_eq(mmapclient_release(c, rw), 0);
	mmapclient_close(c);
	h_stop();
}

/*
 * Two processes: the monitor, mmapd's pid, and the worker, its one
 * child.  The monitor stays root with CAP_SYS_RAWIO (bit 17) and
 * CAP_KILL (bit 5) alone, in every set it has, no_new_privs and a filter
 * of its own; the worker has nothing.
 */
Test(sandbox, monitor_and_worker)
{
	pid_t w;
	char *v;

	h_start("[daemon]\nsocket_mode = 0666\n\n[zero]\nusers = *\n");
	/* Both filters are in force once both say so. */
	cr_assert_eq(h_log_wait(1, "monitor: seccomp allow-list in force"), 1);
	cr_assert_eq(h_log_wait(1, "sandbox: seccomp allow-list in force"), 1);
	w = h_worker_pid();
	cr_assert_neq(w, h_pid());
	v = status_field_of(w, "PPid");
	cr_assert_eq(atoi(v), (int)h_pid(), "the worker's parent is %s", v);
	free(v);
	expect_field_of(w, "CapEff", "0000000000000000");
	expect_field_of(w, "CapPrm", "0000000000000000");
	expect_field_of(w, "CapBnd", "0000000000000000");
	expect_field_of(w, "Seccomp", "2");
	expect_field_of(w, "NoNewPrivs", "1");
	expect_field_of(h_pid(), "Seccomp", "2");
	expect_field_of(h_pid(), "NoNewPrivs", "1");
	expect_field_of(h_pid(), "CapInh", "0000000000000000");
	expect_field_of(h_pid(), "CapAmb", "0000000000000000");
	if (geteuid() == 0) {
		expect_field_of(w, "Uid", "65534\t65534\t65534\t65534");
		expect_field_of(h_pid(), "Uid", "0\t0\t0\t0");
		expect_field_of(h_pid(), "CapEff", "0000000000020020");
		expect_field_of(h_pid(), "CapPrm", "0000000000020020");
		expect_field_of(h_pid(), "CapBnd", "0000000000020020");
	} else {
		expect_field_of(h_pid(), "CapEff", "0000000000000000");
	}
	h_stop();
}

/* --seccomp=log: the same filter, logging instead of killing. */
Test(sandbox, seccomp_log_mode)
{
	const char *const extra[] = { "--seccomp=log", NULL };
	struct mmapclient *c;

	h_start_args("[daemon]\nsocket_mode = 0666\n\n[zero]\nusers = *\n",
	    extra);
	h_log_expect("sandbox: seccomp allow-list in log mode");
	expect_field("Seccomp", "2");
	expect_field("NoNewPrivs", "1");
	c = h_connect();
	mmapclient_close(c);
	h_stop();
}

Test(sandbox, usage_and_bad_options)
{
	const char *const help[] = { "--help", NULL };
	const char *const bad[] = { "--seccomp=maybe", "--no-config", NULL };
	char *out = NULL;
	int st;

	st = h_run_mmapd("help.out", help, &out);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	cr_expect(strstr(out, "--user USER") != NULL, "%s", out);
	cr_expect(strstr(out, "--seccomp=kill|log") != NULL, "%s", out);
	free(out);

	st = h_run_mmapd("bad.out", bad, &out);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2, "status %#x:\n%s",
	    st, out);
	cr_expect(strstr(out, "--seccomp=maybe: kill or log") != NULL, "%s",
	    out);
	free(out);
}

/*
 * As root, a user that does not exist stops mmapd before it opens or
 * binds anything; so does root itself, which would drop nothing.
 */
Test(sandbox, missing_user_refused_at_start)
{
	const char *const nouser[] = { "--no-config", "-s", h_sock(),
	    "--user", "mmapd-no-such-user", NULL };
	const char *const root[] = { "--no-config", "-s", h_sock(),
	    "--user", "root", NULL };
	char *out = NULL;
	int st;

	if (geteuid() != 0)
		cr_skip_test("not root: mmapd changes no user");
	st = h_run_mmapd("nouser.out", nouser, &out);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %#x:\n%s",
	    st, out);
	cr_expect(strstr(out, "user mmapd-no-such-user does not exist") !=
	    NULL, "%s", out);
	cr_assert_eq(access(h_sock(), F_OK), -1, "a socket was made");
	free(out);

	st = h_run_mmapd("root.out", root, &out);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %#x:\n%s",
	    st, out);
	cr_expect(strstr(out, "user root is root") != NULL, "%s", out);
	free(out);
}

/*
 * Run MMAPD_BIN with exactly these arguments (h_run_mmapd adds --user):
 * its wait status, its output into *out.
 */
static int
run_plain(const char *name, const char *const *argv, char **out)
{
	const char *bin = getenv("MMAPD_BIN");
	const char *path = h_path(name);
	char *args[16];
	size_t n = 0;
	pid_t pid;
	int fd, st;

	cr_assert(bin != NULL, "MMAPD_BIN is not set: run through make check");
	args[n++] = (char *)bin;
	for (; *argv != NULL && n < 15; argv++)
		args[n++] = (char *)*argv;
	args[n] = NULL;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert(fd >= 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		if (dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		execv(bin, args);
		_exit(127);
	}
	close(fd);
	h_track(pid);
	st = h_wait(pid, H_WAIT_MS);
	if (st == -1) {
		kill(pid, SIGKILL);
		h_wait(pid, H_WAIT_MS);
	}
	*out = h_read(path);
	cr_assert(st != -1, "mmapd did not end:\n%s", *out);
	return st;
}

/* [daemon] user names the user; --user, when given, wins over it. */
Test(sandbox, user_from_the_policy)
{
	const char *conf = "[daemon]\nsocket_mode = 0666\n"
	    "user = mmapd-no-such-user\n\n[zero]\nusers = *\n";
	const char *args[] = { "-c", h_write("u.conf", conf), "-s", h_sock(),
	    NULL };
	struct mmapclient *c;
	char *out = NULL;
	int st;

	if (geteuid() != 0)
		cr_skip_test("not root: mmapd changes no user");
	st = run_plain("u.out", args, &out);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %#x:\n%s",
	    st, out);
	cr_expect(strstr(out, "user mmapd-no-such-user does not exist") !=
	    NULL, "%s", out);
	cr_assert_eq(access(h_sock(), F_OK), -1, "a socket was made");
	free(out);

	/* The harness passes --user nobody: that one is taken. */
	h_start(conf);
	h_log_expect("sandbox: running as nobody");
	c = h_connect();
	mmapclient_close(c);
	h_stop();
}

/* ----------------------------------------------------------------------
 * Reloads under the filter
 * ---------------------------------------------------------------------- */

/*
 * A reload reads the file and looks up users and groups by name (NSS:
 * /etc/passwd, /etc/group, nscd's socket), all under the filter.
 */
Test(sandbox, reload_under_the_filter)
{
	int fd;

	h_start("[daemon]\nsocket_mode = 0666\n\n[zero]\nusers = root\n"
	    "max_size = 64K\n");
	fd = raw_connect();
	raw_hello(fd);
	cr_assert_eq(map_errno(fd, "zero", MIB, 1, NULL, 0), EFBIG);

	reload("[daemon]\nsocket_mode = 0666\n\n[zero]\n"
	    "users = root, nobody, daemon\ngroups = nogroup, root\n"
	    "max_size = 2M\n");
	cr_assert_eq(map_errno(fd, "zero", MIB, 1, NULL, 0), 0);

	/* A name no one has: the file is refused, the old policy stays. */
	h_rewrite_conf("[daemon]\nsocket_mode = 0666\n\n[zero]\n"
	    "users = mmapd-no-such-user\n");
	h_signal(SIGHUP);
	cr_assert_eq(h_log_wait(1, "is broken: keeping the policy"), 1);
	cr_assert(h_alive(), "mmapd died in the reload");
	cr_assert_eq(map_errno(fd, "zero", MIB, 1, NULL, 0), 0);
	expect_field("Seccomp", "2");
	close(fd);
	h_stop();
}

/*
 * A reload that names mem, not opened at start-up: the monitor opens the
 * stand-in and the worker serves it, raw fd and all, without a restart;
 * a reload that drops it again closes it in the worker.
 */
Test(sandbox, reload_opens_mem_and_closes_it)
{
	const char *devmem = h_sparse("devmem", 8ull << 30);
	char conf[1024], msg[256];
	uint32_t v = 0;
	Reply *r;
	int fd, fds, rfd = -1, err;

	h_start("[daemon]\nsocket_mode = 0666\n\n[zero]\nusers = *\n");
	fd = connect_and_count(&fds);
	cr_assert(!daemon_holds(devmem));
	snprintf(conf, sizeof(conf), "[daemon]\nsocket_mode = 0666\n\n"
	    "[zero]\nusers = *\n\n"
	    "[mem]\npath = %s\niomem = %s\nusers = root\nmax_size = 1M\n\n"
	    "[region phys]\ndevice = mem\nbase = 0xfe900000\nsize = 1M\n"
	    "users = root\nraw_fd_users = root\n", devmem,
	    h_data("iomem-q35.txt"));
	reload(conf);
	h_log_expect("mem: ", devmem, " opened");
	cr_assert(daemon_holds(devmem), "the worker does not hold %s after "
	    "the reload", devmem);

	/* Served: the raw fd reaches the stand-in at the region's base. */
	rfd = open(devmem, O_WRONLY | O_CLOEXEC);
	v = 0x5eed1234;
	cr_assert_eq(pwrite(rfd, &v, 4, 0xfe900000), 4);
	close(rfd);
	rfd = -1;
	r = raw_map(fd, 1, "phys", 0, 4 * KIB, 0, 0, NULL, &rfd);
	cr_assert_eq(r->error, 0, "map phys: %s", r->message);
	reply_free(r);
	cr_assert(rfd >= 0, "no fd came with the grant");
	v = 0;
	cr_assert_eq(pread(rfd, &v, 4, 0xfe900000), 4);
	close(rfd);
	cr_assert_eq(v, 0x5eed1234, "the grant does not reach the stand-in");

	/* Dropped: closed in the worker, back to the fds before. */
	reload("[daemon]\nsocket_mode = 0666\n\n[zero]\nusers = *\n");
	cr_assert(!daemon_holds(devmem), "the worker still holds %s", devmem);
	cr_assert_eq(h_fds_wait(fds), fds, "the worker holds %d fds, not %d",
	    h_fds(), fds);
	err = map_errno(fd, "phys", 4 * KIB, 0, msg, sizeof(msg));
	cr_assert_eq(err, ENODEV, "map phys: %s (%s)", strerror(err), msg);
	cr_assert_eq(map_errno(fd, "zero", 4 * KIB, 1, NULL, 0), 0);
	cr_assert_eq(h_log_count("restart"), 0, "the log says restart");
	close(fd);
	h_stop();
}

/* ----------------------------------------------------------------------
 * pci regions across reloads
 * ---------------------------------------------------------------------- */

static void
put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	cr_assert(fd >= 0, "open %s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/*
 * A stand-in sysfs tree (a seam of the policy: sysfs = DIR): one
 * function with two 1 MiB memory BARs, 0 and 2, as files.
 */
static const char *
fake_sysfs(void)
{
	static char root[256];
	char dir[512], path[600], text[1024];
	size_t off = 0;
	int i;

	snprintf(root, sizeof(root), "%s", h_path("sysfs"));
	cr_assert_eq(mkdir(root, 0755), 0);
	snprintf(dir, sizeof(dir), "%s/%s", root, FAKE_PCI);
	cr_assert_eq(mkdir(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/vendor", dir);
	put(path, "0x1234\n");
	snprintf(path, sizeof(path), "%s/device", dir);
	put(path, "0x11e8\n");
	for (i = 0; i < 7; i++) {
		uint64_t start = i == 0 ? FAKE_BAR0 : i == 2 ? FAKE_BAR2 : 0;

		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    "0x%016llx 0x%016llx 0x%016llx\n",
		    (unsigned long long)start,
		    (unsigned long long)(start ? start + MIB - 1 : 0),
		    start ? 0x40200ull : 0ull);
	}
	snprintf(path, sizeof(path), "%s/resource", dir);
	put(path, text);
	for (i = 0; i <= 2; i += 2) {
		snprintf(path, sizeof(path), "%s/resource%d", dir, i);
		put(path, "");
		cr_assert_eq(truncate(path, (off_t)MIB), 0);
	}
	return root;
}

static const char *
pci_conf(const char *regions)
{
	static char buf[2048];

	snprintf(buf, sizeof(buf), "[daemon]\nsocket_mode = 0666\n\n"
	    "[zero]\nusers = *\n\n%s", regions);
	return buf;
}

static const char *
region(const char *name, const char *sysfs, unsigned int bar,
    const char *protection)
{
	static char bufs[4][512];
	static unsigned int next;
	char *b = bufs[next++ % 4];

	snprintf(b, sizeof(bufs[0]), "[region %s]\ndevice = pci\npci = %s\n"
	    "bar = %u\nsysfs = %s\nprotection = %s\nshared = yes\n"
	    "users = root\n\n", name, FAKE_PCI, bar, sysfs, protection);
	return b;
}

/*
 * Offered: the engine got as far as the driver.  On a machine where the
 * fake BAR's address is claimed in the real /proc/iomem, EBUSY says so.
 */
static void
expect_offered(int fd, const char *name)
{
	char msg[256];
	int err = map_errno(fd, name, 4 * KIB, 0, msg, sizeof(msg));

	cr_assert(err == 0 || err == EBUSY, "map %s: %s (%s)", name,
	    strerror(err), msg);
}

static void
expect_not_offered(int fd, const char *name)
{
	char msg[256];
	int err = map_errno(fd, name, 4 * KIB, 0, msg, sizeof(msg));

	cr_assert_eq(err, ENODEV, "map %s: %s (%s), not ENODEV", name,
	    strerror(err), msg);
}

Test(sandbox, pci_regions_follow_reloads)
{
	const char *sysfs = fake_sysfs();
	char both[1024], bar0[600], bar2[600];
	int fd, fds, fds_edu;

	snprintf(bar0, sizeof(bar0), "%s/%s/resource0", sysfs, FAKE_PCI);
	snprintf(bar2, sizeof(bar2), "%s/%s/resource2", sysfs, FAKE_PCI);
	h_start(pci_conf(""));
	fd = connect_and_count(&fds);
	expect_not_offered(fd, "edu");

	/* A region start-up did not open: opened by the monitor, served. */
	reload(pci_conf(region("edu", sysfs, 0, "r")));
	h_log_expect("region edu: pci " FAKE_PCI " BAR 0");
	cr_assert(daemon_holds(bar0), "the worker does not hold %s", bar0);
	expect_offered(fd, "edu");
	/* Two round trips: what the Map's reply left is closed by then. */
	raw_hello(fd);
	raw_hello(fd);
	fds_edu = h_fds();

	/* The same again: opened anew, the old fds closed. */
	reload(pci_conf(region("edu", sysfs, 0, "r")));
	expect_offered(fd, "edu");
	cr_assert_eq(h_fds_wait(fds_edu), fds_edu, "%d fds, not %d", h_fds(),
	    fds_edu);

	/* A second BAR, and the first made writable: both served. */
	snprintf(both, sizeof(both), "%s%s", region("edu", sysfs, 0, "rw"),
	    region("edu2", sysfs, 2, "r"));
	reload(pci_conf(both));
	expect_offered(fd, "edu2");
	cr_assert(daemon_holds(bar2));
	cr_assert_eq(map_errno(fd, "edu", 4 * KIB, 1, NULL, 0) == 0 ||
	    map_errno(fd, "edu", 4 * KIB, 1, NULL, 0) == EBUSY, 1,
	    "edu is not served writable after the reload");

	/* A policy without them: every BAR file closed in the worker. */
	reload(pci_conf(""));
	expect_not_offered(fd, "edu");
	expect_not_offered(fd, "edu2");
	cr_assert(!daemon_holds(bar0) && !daemon_holds(bar2),
	    "the worker still holds a BAR file");
	cr_assert_eq(h_fds_wait(fds), fds, "the worker holds %d fds, not %d",
	    h_fds(), fds);
	cr_assert_eq(h_log_count("restart"), 0, "the log says restart");
	close(fd);
	h_stop();
}

/* ----------------------------------------------------------------------
 * Not root
 * ---------------------------------------------------------------------- */

/*
 * Started by a user, as a developer runs it: mmapd keeps its uid (there
 * is no user to change to), and still sets no_new_privs, holds no
 * capability and enters the filter.  Its socket is in a folder of its
 * own, so it removes it at exit.
 */
Test(sandbox, unprivileged_start_keeps_its_uid)
{
	const char *bin = getenv("MMAPD_BIN");
	const char *dir = h_path("dev");
	const char *conf = h_write("dev.conf", "[daemon]\nsocket_mode = 0666\n"
	    "\n[zero]\nusers = *\n");
	char sock[256], logpath[256], uid[64], *log;
	struct mmapclient_region *r;
	struct mmapclient_request req = {
		.device = "zero", .size = 64 * KIB,
		.flags = MMAPCLIENT_SHARED | MMAPCLIENT_WRITE,
	};
	struct mmapclient *c = NULL;
	int64_t end;
	pid_t pid;
	int fd, st, err;

	if (geteuid() != 0)
		cr_skip_test("not root: cannot start mmapd as another user");
	cr_assert(bin != NULL, "MMAPD_BIN is not set: run through make check");
	cr_assert_eq(mkdir(dir, 0755), 0);
	cr_assert_eq(chown(dir, H_OTHER, H_OTHER), 0);
	snprintf(sock, sizeof(sock), "%s/mmapd.sock", dir);
	snprintf(logpath, sizeof(logpath), "%s", h_path("dev.log"));
	fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert(fd >= 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		char *const args[] = { (char *)bin, (char *)"-c", (char *)conf,
		    (char *)"-s", sock, NULL };

		if (dup2(fd, 1) < 0 || dup2(fd, 2) < 0 ||
		    setgroups(0, NULL) < 0 ||
		    setresgid(H_OTHER, H_OTHER, H_OTHER) < 0 ||
		    setresuid(H_OTHER, H_OTHER, H_OTHER) < 0)
			_exit(126);
		execv(bin, args);
		_exit(127);
	}
	close(fd);
	h_track(pid);

	end = h_now_ms() + H_WAIT_MS;
	while (mmapclient_connect(sock, &c) < 0) {
		st = h_wait(pid, 0);
		if (st != -1) {
			/* 127: execv failed, the build tree is not its to run. */
			if (WIFEXITED(st) && WEXITSTATUS(st) == 127) {
				h_cleanup();
				cr_skip_test("uid %d cannot run %s", H_OTHER, bin);
			}
			log = h_read(logpath);
			cr_assert_fail("mmapd as uid %d died (status %#x):\n%s",
			    H_OTHER, st, log);
		}
		cr_assert(h_now_ms() < end, "mmapd as uid %d did not listen",
		    H_OTHER);
		h_sleep_ms(10);
	}
	err = mmapclient_map(c, &req, &r);
	cr_assert_eq(err, 0, "map: %s", mmapclient_error(c));
	memset(r->addr, 0x42, r->size);
	cr_assert_eq(mmapclient_release(c, r), 0);
	mmapclient_close(c);

	{
		char path[64], *status;

		int64_t until = h_now_ms() + 5000;

		/*
		 * pid is the monitor: it loads its filter after the fork, so
		 * the worker may serve a Map before it is in force.
		 */
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
		status = h_read(path);
		while (strstr(status, "\nSeccomp:\t2\n") == NULL &&
		    h_now_ms() < until) {
			free(status);
			h_sleep_ms(10);
			status = h_read(path);
		}
		snprintf(uid, sizeof(uid), "\nUid:\t%d\t%d\t%d\t%d\n", H_OTHER,
		    H_OTHER, H_OTHER, H_OTHER);
		cr_expect(strstr(status, uid) != NULL, "%s", status);
		cr_expect(strstr(status, "\nCapEff:\t0000000000000000\n") !=
		    NULL, "%s", status);
		cr_expect(strstr(status, "\nCapPrm:\t0000000000000000\n") !=
		    NULL, "%s", status);
		cr_expect(strstr(status, "\nNoNewPrivs:\t1\n") != NULL, "%s",
		    status);
		cr_expect(strstr(status, "\nSeccomp:\t2\n") != NULL, "%s",
		    status);
		free(status);
	}

	cr_assert_eq(kill(pid, SIGTERM), 0);
	st = h_wait(pid, H_WAIT_MS);
	log = h_read(logpath);
	cr_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "mmapd as uid %d: status %#x:\n%s", H_OTHER, st, log);
	snprintf(uid, sizeof(uid), "not started as root: keeps running as "
	    "uid %d", H_OTHER);
	cr_expect(strstr(log, uid) != NULL, "%s", log);
	cr_expect(strstr(log, "seccomp allow-list in force") != NULL, "%s",
	    log);
	cr_assert_eq(access(sock, F_OK), -1, "the socket file stayed");
	free(log);
}
