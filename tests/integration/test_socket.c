/*
 * The socket mmapd binds itself, and the folder it binds in.
 *
 * The attack: whoever may write in the socket's folder swaps the socket
 * for a link to a file of root's between bind() and the chmod() and
 * chown() that gave it socket_mode and socket_group by name; root then
 * changes that file.  mmapd now refuses such a folder, sets the mode at
 * bind(), changes the group without following links, and works in the
 * folder through its fd.  The races below run an attacker (uid
 * H_OTHER: neither root nor mmapd's user) against many real starts of
 * mmapd and measure the victim file after each.
 *
 * The racing tests and the one about a folder of another user need root
 * (to be two users); the others run as anyone.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

TestSuite(socket, .fini = h_cleanup, .timeout = 90);

#define RACE_MS		6000	/* how long a race runs, at most */
#define RACE_TRIES	1000	/* starts of mmapd in a race, at most */
#define RACE_MIN	10	/* starts a race must make to count */
#define SOCK_CONF	"[daemon]\nsocket_mode = 0666\n" \
			"socket_group = nogroup\n\n[zero]\nusers = *\n"

static void
need_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root: the attacker is another user");
}

/* A folder DIR/name with this owner and mode; returns its path. */
static const char *
folder(const char *name, uid_t uid, mode_t mode)
{
	static char bufs[4][256];	/* h_path's are reused */
	static unsigned int next;
	char *p = bufs[next++ % 4];

	snprintf(p, sizeof(bufs[0]), "%s", h_path(name));

	cr_assert(mkdir(p, 0700) == 0, "mkdir %s: %s", p, strerror(errno));
	if (uid != geteuid())
		cr_assert(chown(p, uid, uid) == 0, "chown %s: %s", p,
		    strerror(errno));
	cr_assert(chmod(p, mode) == 0, "chmod %s: %s", p, strerror(errno));
	return p;
}

/* mmapd on dir/mmapd.sock: 1 and *out when it refused, as it must. */
static void
expect_refused(const char *dir, const char *want)
{
	char sock[256], *out = NULL;
	const char *args[] = { "-c", h_write("sock.conf", SOCK_CONF), "-s",
	    sock, NULL };
	int st;

	snprintf(sock, sizeof(sock), "%s/mmapd.sock", dir);
	st = h_run_mmapd("refused.out", args, &out);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1,
	    "mmapd on %s: status %#x, not exit 1:\n%s", sock, st, out);
	cr_expect(strstr(out, want) != NULL, "no \"%s\" in:\n%s", want, out);
	cr_expect(strstr(out, "such as /run/mmapd") != NULL,
	    "the refusal does not say what to do:\n%s", out);
	cr_expect_eq(access(sock, F_OK), -1, "a socket was made at %s", sock);
	free(out);
}

/* ----------------------------------------------------------------------
 * Folders refused, and why
 * ---------------------------------------------------------------------- */

Test(socket, group_writable_folder_is_refused)
{
	char want[128];

	folder("gw", geteuid(), 0775);
	snprintf(want, sizeof(want), "%s: the socket's folder is mode 0775, "
	    "writable by its group", h_path("gw"));
	expect_refused(h_path("gw"), want);
}

Test(socket, world_writable_folder_is_refused)
{
	folder("ww", geteuid(), 0757);
	expect_refused(h_path("ww"), "is mode 0757, writable by others");
}

/* Like /tmp: anyone may make the socket's name before mmapd does. */
Test(socket, sticky_world_writable_folder_is_refused)
{
	char sock[128];
	struct stat st;

	folder("tmp", geteuid(), 01777);
	expect_refused(h_path("tmp"), "is mode 1777, writable by its group "
	    "and others");
	expect_refused(h_path("tmp"), "the sticky bit does not stop them");

	/* And /tmp itself, where it is the usual 1777. */
	if (stat("/tmp", &st) < 0 || (st.st_mode & 07777) != 01777)
		return;
	snprintf(sock, sizeof(sock), "/tmp/mmapd-test-%d.sock", (int)getpid());
	{
		const char *args[] = { "-c", h_write("sock.conf", SOCK_CONF),
		    "-s", sock, NULL };
		char *out = NULL;
		int s;

		s = h_run_mmapd("tmp.out", args, &out);
		unlink(sock);
		cr_assert(WIFEXITED(s) && WEXITSTATUS(s) == 1,
		    "mmapd on %s: status %#x:\n%s", sock, s, out);
		cr_expect(strstr(out, "/tmp: the socket's folder is mode 1777")
		    != NULL, "%s", out);
		free(out);
	}
}

Test(socket, folder_of_another_user_is_refused)
{
	char want[128];

	need_root();
	/* Mode 0755: only its owner, uid H_OTHER, writes there. */
	folder("other", H_OTHER, 0755);
	snprintf(want, sizeof(want), "the socket's folder belongs to uid %u, "
	    "not to root:", (unsigned)H_OTHER);
	expect_refused(h_path("other"), want);
}

/* The folder mmapd makes when missing is its own, 0755: it serves. */
Test(socket, missing_folder_is_made_and_used)
{
	const char *args[] = { "-c", h_write("sock.conf", SOCK_CONF), "-s",
	    h_path("made/mmapd.sock"), NULL };
	struct stat st;
	int64_t end;
	pid_t pid;
	int s;

	pid = h_spawn_mmapd("made.out", args);
	end = h_now_ms() + H_WAIT_MS;
	/*
	 * Not the socket's name: it is there before mmapd's SIGTERM handler
	 * is, and a SIGTERM then kills it.  "listening on" comes after.
	 */
	while (h_now_ms() < end && waitpid(pid, &s, WNOHANG) == 0) {
		char *out = h_read(h_path("made.out"));
		int up = strstr(out, "listening on") != NULL;

		free(out);
		if (up)
			break;
		h_sleep_ms(10);
	}
	cr_assert_eq(stat(h_path("made"), &st), 0);
	cr_expect_eq(st.st_uid, geteuid());
	cr_expect_eq(st.st_mode & 07777, 0755, "made mode %04o",
	    (unsigned)(st.st_mode & 07777));
	cr_assert_eq(stat(h_path("made/mmapd.sock"), &st), 0,
	    "no socket:\n%s", h_read(h_path("made.out")));
	kill(pid, SIGTERM);
	s = h_wait(pid, H_WAIT_MS);
	cr_assert(s != -1 && WIFEXITED(s) && WEXITSTATUS(s) == 0,
	    "status %#x:\n%s", s, h_read(h_path("made.out")));
}

/* ----------------------------------------------------------------------
 * The socket: its mode from the start, its owner and group
 * ---------------------------------------------------------------------- */

/*
 * The mode is the socket's from bind() on: inotify sees the name made
 * and never its attributes changed, as a chmod() after bind() would.
 */
Test(socket, mode_is_set_at_bind_not_after)
{
	char buf[4096] __attribute__((aligned(8)));
	const struct inotify_event *ev;
	int in, created = 0, changed = 0;
	struct stat st;
	ssize_t n;
	char *p;

	in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	cr_assert(in >= 0, "inotify_init1: %s", strerror(errno));
	cr_assert(inotify_add_watch(in, h_dir(), IN_CREATE | IN_ATTRIB) >= 0,
	    "inotify_add_watch: %s", strerror(errno));
	h_start("[daemon]\nsocket_mode = 0604\n\n[zero]\nusers = *\n");
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		for (p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			if (ev->len == 0 || strcmp(ev->name, "mmapd.sock") != 0)
				continue;
			created += (ev->mask & IN_CREATE) != 0;
			changed += (ev->mask & IN_ATTRIB) != 0;
		}
	}
	close(in);
	cr_expect_eq(created, 1, "the socket was made %d times", created);
	cr_expect_eq(changed, 0, "the socket's attributes changed %d times "
	    "after bind(): its mode was not set at bind()", changed);
	cr_assert_eq(lstat(h_sock(), &st), 0);
	cr_assert(S_ISSOCK(st.st_mode));
	cr_expect_eq(st.st_mode & 07777, 0604, "mode %04o",
	    (unsigned)(st.st_mode & 07777));
	cr_expect_eq(st.st_uid, geteuid(), "owner %u", (unsigned)st.st_uid);
	cr_expect_eq(st.st_gid, getegid(), "group %u", (unsigned)st.st_gid);
	h_stop();
	h_own_socket_gone();
}

/* socket_mode and socket_group, on a new socket and on a stale one. */
Test(socket, mode_owner_and_group)
{
	struct stat st;
	int i;

	need_root();	/* only root gives a file to nogroup */
	for (i = 0; i < 2; i++) {
		/* The second replaces what the first left (root's folder). */
		h_start("[daemon]\nsocket_mode = 0660\nsocket_group = nogroup\n"
		    "\n[zero]\nusers = *\n");
		cr_assert_eq(lstat(h_sock(), &st), 0);
		cr_assert(S_ISSOCK(st.st_mode));
		cr_expect_eq(st.st_mode & 07777, 0660, "mode %04o",
		    (unsigned)(st.st_mode & 07777));
		cr_expect_eq(st.st_uid, 0, "owner %u", (unsigned)st.st_uid);
		cr_expect_eq(st.st_gid, H_NOBODY, "group %u",
		    (unsigned)st.st_gid);
		h_stop();
	}
	h_log_expect("replacing a stale socket");
}

/* ----------------------------------------------------------------------
 * The races
 * ---------------------------------------------------------------------- */

/* The victim: a file of root's, mode 0600, that no start may change. */
static const char *
victim_make(void)
{
	static char v[256];

	snprintf(v, sizeof(v), "%s", h_write("victim", "root's secret\n"));
	cr_assert(chmod(v, 0600) == 0);
	return v;
}

static void
victim_check(const char *v, int try, const char *what)
{
	struct stat st;

	cr_assert_eq(lstat(v, &st), 0, "%s: %s", v, strerror(errno));
	cr_assert(st.st_uid == 0 && st.st_gid == 0 &&
	    (st.st_mode & 07777) == 0600,
	    "%s: start %d of mmapd made the victim uid %u gid %u mode %04o "
	    "(was 0:0 0600)", what, try, (unsigned)st.st_uid,
	    (unsigned)st.st_gid, (unsigned)(st.st_mode & 07777));
}

/* The attacker: a child that becomes uid and gid H_OTHER, then runs fn. */
static pid_t
attacker(void (*fn)(const char *, const char *), const char *a,
    const char *b)
{
	pid_t pid = fork();

	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (setgroups(0, NULL) < 0 || setgid(H_OTHER) < 0 ||
		    setuid(H_OTHER) < 0)
			_exit(126);
		fn(a, b);
		_exit(0);
	}
	h_track(pid);
	return pid;
}

/*
 * One start of mmapd under attack: until it exits, or listens (then
 * SIGTERM), checking the victim all along.  1 when it refused to start.
 */
static int
race_start(const char *sock, const char *victim, int try, const char *what)
{
	const char *args[] = { "-c", h_path("sock.conf"), "-s", sock, NULL };
	int64_t end = h_now_ms() + H_WAIT_MS;
	int st, stopping = 0;
	pid_t pid, r;
	char *out;

	pid = h_spawn_mmapd("race.out", args);
	for (;;) {
		r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			break;
		victim_check(victim, try, what);
		if (!stopping) {
			out = h_read(h_path("race.out"));
			if (strstr(out, "listening on") != NULL) {
				kill(pid, SIGTERM);
				stopping = 1;
			}
			free(out);
		}
		cr_assert(h_now_ms() < end, "%s: start %d of mmapd neither "
		    "ended nor listened within %d ms", what, try, H_WAIT_MS);
		h_sleep_ms(2);
	}
	h_untrack(pid);
	victim_check(victim, try, what);
	cr_assert(WIFEXITED(st), "%s: start %d: status %#x:\n%s", what, try,
	    st, h_read(h_path("race.out")));
	return !stopping;
}

/*
 * The attack of the report: in a folder of its own, the attacker waits
 * for the socket and swaps a link to the victim in its place.
 */
static void
swap_socket(const char *dir, const char *victim)
{
	char sock[256], lnk[256];
	int64_t swapped = 0;
	struct stat st;

	snprintf(sock, sizeof(sock), "%s/mmapd.sock", dir);
	snprintf(lnk, sizeof(lnk), "%s/lnk", dir);
	for (;;) {
		if (lstat(lnk, &st) < 0 && symlink(victim, lnk) < 0)
			_exit(125);
		if (lstat(sock, &st) < 0)
			continue;
		if (S_ISSOCK(st.st_mode)) {
			if (rename(lnk, sock) == 0)
				swapped = h_now_ms();
		} else if (S_ISLNK(st.st_mode) &&
		    h_now_ms() - swapped > 100) {
			/* Its link, long followed or not: clear the name. */
			unlink(sock);
		}
	}
}

Test(socket, race_link_for_the_socket)
{
	const char *victim, *dir;
	char sock[256], *out;
	int try, refused = 0;
	int64_t end;
	pid_t pid;

	need_root();
	victim = victim_make();
	dir = folder("att", H_OTHER, 0755);
	snprintf(sock, sizeof(sock), "%s/mmapd.sock", dir);
	h_write("sock.conf", SOCK_CONF);
	pid = attacker(swap_socket, dir, victim);
	end = h_now_ms() + RACE_MS;
	for (try = 1; try <= RACE_TRIES && h_now_ms() < end; try++)
		refused += race_start(sock, victim, try, "link for the socket");
	kill(pid, SIGKILL);
	h_wait(pid, H_WAIT_MS);
	cr_log_info("link for the socket: %d starts, %d refused", try - 1,
	    refused);
	cr_expect_geq(try - 1, RACE_MIN, "only %d starts", try - 1);
	/* The folder is the attacker's: every start refuses it. */
	cr_expect_eq(refused, try - 1, "%d of %d starts used a folder of "
	    "uid %u", try - 1 - refused, try - 1, (unsigned)H_OTHER);
	out = h_read(h_path("race.out"));
	cr_expect(strstr(out, "belongs to uid") != NULL, "%s", out);
	free(out);
	victim_check(victim, try, "link for the socket, at the end");
}

/*
 * One level up: the socket's folder is root's, but it sits in a folder
 * of the attacker's, who keeps exchanging it with a link to a folder of
 * its own where the socket's name is a link to the victim.  mmapd
 * either finds the attacker's folder (and refuses it) or works in
 * root's through its fd, wherever that goes meanwhile.
 */
static void
swap_folder(const char *top, const char *victim)
{
	char box[256], evil[256], lnk[256], sock[256];

	snprintf(box, sizeof(box), "%s/box", top);
	snprintf(evil, sizeof(evil), "%s/evil", top);
	snprintf(lnk, sizeof(lnk), "%s/lnk", top);
	snprintf(sock, sizeof(sock), "%s/evil/mmapd.sock", top);
	if (mkdir(evil, 0755) < 0 || symlink(victim, sock) < 0 ||
	    symlink("evil", lnk) < 0)
		_exit(125);
	for (;;)
		renameat2(AT_FDCWD, box, AT_FDCWD, lnk, RENAME_EXCHANGE);
}

Test(socket, race_folder_swapped_above)
{
	const char *victim, *top;
	char sock[320], box[256];
	int try, refused = 0;
	int64_t end;
	pid_t pid;

	need_root();
	victim = victim_make();
	top = folder("top", H_OTHER, 0755);
	snprintf(box, sizeof(box), "%s/box", top);
	cr_assert(mkdir(box, 0755) == 0, "mkdir %s: %s", box, strerror(errno));
	snprintf(sock, sizeof(sock), "%s/mmapd.sock", box);
	h_write("sock.conf", SOCK_CONF);
	pid = attacker(swap_folder, top, victim);
	end = h_now_ms() + RACE_MS;
	for (try = 1; try <= RACE_TRIES && h_now_ms() < end; try++)
		refused += race_start(sock, victim, try, "folder swapped");
	kill(pid, SIGKILL);
	h_wait(pid, H_WAIT_MS);
	cr_log_info("folder swapped: %d starts, %d refused", try - 1, refused);
	cr_expect_geq(try - 1, RACE_MIN, "only %d starts", try - 1);
}
