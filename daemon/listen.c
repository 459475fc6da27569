/*
 * The listening socket, passed by systemd or bound here: see listen.h.
 *
 * systemd's socket unit owns the socket it passes, mode and group
 * included (SocketMode=, SocketGroup=), and removes the file itself; a
 * socket mmapd binds gets [daemon] socket_mode and socket_group and is
 * removed at exit.  mmapd binds only in a folder no one but root (or
 * its own user) may write in, and never follows a link there.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "listen.h"
#include "log.h"
#include "policy.h"

#define LISTEN_FDS_START	3	/* SD_LISTEN_FDS_START */

/* A whole decimal number in [0, max], or -1. */
static long
env_number(const char *s, long max)
{
	char *end;
	long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	return v;
}

int
listen_sockopt(int fd, int opt, int *v)
{
	socklen_t len = sizeof(*v);

	if (getsockopt(fd, SOL_SOCKET, opt, v, &len) < 0)
		return -errno;
	return 0;
}

/* fd is a listening AF_UNIX SOCK_SEQPACKET socket; else say what it is. */
static int
listen_check(int fd)
{
	struct stat st;
	int domain, type, listening, err;

	if (fstat(fd, &st) < 0) {
		err = -errno;
		log_err("LISTEN_FDS=1, but fd %d: %s", fd, strerror(errno));
		return err;
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_err("LISTEN_FDS=1, but fd %d is not a socket (file type "
		    "%#o): mmapd takes the socket of mmapd.socket", fd,
		    (unsigned int)(st.st_mode & S_IFMT));
		return -ENOTSOCK;
	}
	if ((err = listen_sockopt(fd, SO_DOMAIN, &domain)) ||
	    (err = listen_sockopt(fd, SO_TYPE, &type)) ||
	    (err = listen_sockopt(fd, SO_ACCEPTCONN, &listening))) {
		log_err("LISTEN_FDS=1, but fd %d: getsockopt: %s", fd,
		    strerror(-err));
		return err;
	}
	if (domain != AF_UNIX || type != SOCK_SEQPACKET) {
		log_err("LISTEN_FDS=1, but fd %d is a%s %s socket: mmapd "
		    "speaks AF_UNIX SOCK_SEQPACKET (ListenSequentialPacket= "
		    "in mmapd.socket)", fd, domain == AF_UNIX ? "n" : "",
		    domain == AF_UNIX ? (type == SOCK_STREAM ?
		    "AF_UNIX SOCK_STREAM" : type == SOCK_DGRAM ?
		    "AF_UNIX SOCK_DGRAM" : "AF_UNIX") : "non-AF_UNIX");
		return -EPROTOTYPE;
	}
	if (!listening) {
		log_err("LISTEN_FDS=1, but fd %d is not listening", fd);
		return -EINVAL;
	}
	return 0;
}

/* Where a passed socket is, and who may reach it, for the log. */
static void
listen_describe(struct listener *l)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	struct stat st;

	memset(&sa, 0, sizeof(sa));
	if (getsockname(l->fd, (struct sockaddr *)&sa, &len) < 0 ||
	    len <= offsetof(struct sockaddr_un, sun_path) ||
	    sa.sun_path[0] == '\0') {
		snprintf(l->path, sizeof(l->path), "an unnamed socket");
		log_info("listening on a socket passed by systemd");
		return;
	}
	snprintf(l->path, sizeof(l->path), "%.*s",
	    (int)(len - offsetof(struct sockaddr_un, sun_path)), sa.sun_path);
	if (stat(l->path, &st) < 0) {
		log_info("%s: passed by systemd", l->path);
		return;
	}
	log_info("%s: passed by systemd, mode %04o, gid %u: set by the "
	    "socket unit (SocketMode=, SocketGroup=), not by [daemon] "
	    "socket_mode and socket_group", l->path,
	    (unsigned int)(st.st_mode & 07777), (unsigned int)st.st_gid);
}

/*
 * The socket systemd passed: 1 when taken, 0 when there is none for us,
 * or a negative errno.  As sd_listen_fds(3): LISTEN_PID must be ours, and
 * the variables are removed so that nothing we start takes them too.
 */
static int
listen_passed(struct listener *l)
{
	const char *pid_s = getenv("LISTEN_PID");
	const char *fds_s = getenv("LISTEN_FDS");
	long pid, n;
	int fd = LISTEN_FDS_START, flags, err;

	if (pid_s == NULL)
		return 0;
	pid = env_number(pid_s, INT_MAX);
	if (pid < 0) {
		log_err("LISTEN_PID=%s is not a process id", pid_s);
		return -EINVAL;
	}
	if (pid != (long)getpid())
		return 0;	/* meant for another process */
	n = env_number(fds_s, INT_MAX - LISTEN_FDS_START);
	if (n < 0) {
		log_err("LISTEN_FDS=%s is not a number of sockets",
		    fds_s != NULL ? fds_s : "(unset)");
		return -EINVAL;
	}
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (n == 0)
		return 0;
	if (n != 1) {
		log_err("LISTEN_FDS=%ld: systemd passed %ld sockets, mmapd "
		    "takes exactly one (one ListenSequentialPacket= in "
		    "mmapd.socket)", n, n);
		return -EINVAL;
	}
	err = listen_check(fd);
	if (err)
		return err;
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		err = -errno;
		log_err("LISTEN_FDS=1: fd %d: fcntl: %s", fd, strerror(errno));
		return err;
	}
	l->fd = fd;
	l->passed = 1;
	listen_describe(l);
	return 1;
}

/*
 * How many sockets systemd passed us at fds 3.., or 0: LISTEN_FDS when
 * LISTEN_PID is ours.  Read, not taken: listen_passed() checks them.
 */
static long
listen_inherited(void)
{
	long pid, n;

	pid = env_number(getenv("LISTEN_PID"), INT_MAX);
	if (pid < 0 || pid != (long)getpid())
		return 0;
	n = env_number(getenv("LISTEN_FDS"), INT_MAX - LISTEN_FDS_START);
	return n < 0 ? 0 : n;
}

/* close_range(2) by hand: every fd of /proc/self/fd from first on. */
static void
fds_close_from_proc(int first)
{
	struct dirent *e;
	DIR *dir;
	long fd;
	char *end;

	dir = opendir("/proc/self/fd");
	if (dir == NULL)
		return;
	while ((e = readdir(dir)) != NULL) {
		errno = 0;
		fd = strtol(e->d_name, &end, 10);
		if (errno != 0 || *end != '\0' || end == e->d_name ||
		    fd < first || fd > INT_MAX || fd == dirfd(dir))
			continue;
		close((int)fd);
	}
	closedir(dir);
}

void
listen_close_inherited(void)
{
	int first = LISTEN_FDS_START + (int)listen_inherited();

#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned int)first, ~0U, 0U) == 0)
		return;
#endif
	fds_close_from_proc(first);
}

/*
 * The socket's folder, opened, after making it when missing (/run/mmapd
 * after a boot).
 *
 * Whoever may write in the folder can put a name of their own where the
 * socket goes: a link to a file of root's between bind() and a chmod()
 * or chown() by path, which then change that file; a socket of their
 * own that clients take for mmapd's.  So the folder must belong to root
 * (or to the user mmapd runs as, who owns the socket anyway) and be
 * writable by no one else.  The sticky bit does not help: others may
 * still make the name first.  The folders above it are not checked:
 * mmapd works in this one through its fd (see listen_here), so renaming
 * a folder above it moves nothing mmapd touches; which folder clients
 * find under the path is the administrator's choice of path.
 */
static int
listen_dir(const char *path, char *name, size_t len, int *dfdp)
{
	char buf[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const char *base, *dir, *who;
	struct stat st;
	uid_t me = geteuid();
	int dfd, err;

	snprintf(buf, sizeof(buf), "%s", path);
	base = strrchr(path, '/');
	base = base != NULL ? base + 1 : path;
	if (*base == '\0' || strcmp(base, ".") == 0 ||
	    strcmp(base, "..") == 0) {
		log_err("%s: names a folder, not a socket", path);
		return -EISDIR;
	}
	snprintf(name, len, "%s", base);
	dir = dirname(buf);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		err = -errno;
		log_err("%s: cannot make the socket's folder: %s", dir,
		    strerror(errno));
		return err;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fstat(dfd, &st) < 0) {
		err = -errno;
		log_err("%s: the socket's folder: %s", dir, strerror(errno));
		goto fail;
	}
	if (st.st_uid != 0 && st.st_uid != me) {
		log_err("%s: the socket's folder belongs to uid %u, not to "
		    "root%s: its owner could swap the socket for a link while "
		    "mmapd sets it up, or put a socket of their own there; "
		    "use a folder of root's, such as /run/mmapd", dir,
		    (unsigned int)st.st_uid, me == 0 ? "" :
		    " nor to the user mmapd runs as");
		err = -EPERM;
		goto fail;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		who = (st.st_mode & S_IWGRP) == 0 ? "others" :
		    (st.st_mode & S_IWOTH) == 0 ? "its group" :
		    "its group and others";
		log_err("%s: the socket's folder is mode %04o, writable by "
		    "%s: they could swap the socket for a link while mmapd "
		    "sets it up, or put a socket of their own there%s; use a "
		    "folder only its owner writes, such as /run/mmapd", dir,
		    (unsigned int)(st.st_mode & 07777), who,
		    st.st_mode & S_ISVTX ? " (the sticky bit does not stop "
		    "them making the name first)" : "");
		err = -EPERM;
		goto fail;
	}
	*dfdp = dfd;
	return 0;
fail:
	if (dfd >= 0)
		close(dfd);
	return err;
}

/*
 * Bind name, in the current folder (the socket's: see listen_here), with
 * mode from the start: the umask leaves only its bits, so the file never
 * has another mode and nothing changes it by name afterwards.  A socket
 * file left by a dead daemon is replaced; one that a live daemon answers
 * on is left alone.
 */
static int
listen_bind(int fd, int dfd, const struct sockaddr_un *sa, mode_t mode,
    const char *path)
{
	struct stat st;
	mode_t old;
	int probe, r, err;

	old = umask(~mode & 0777);
	r = bind(fd, (const struct sockaddr *)sa, sizeof(*sa));
	err = errno;
	umask(old);
	if (r == 0)
		return 0;
	if (err != EADDRINUSE)
		return -err;

	if (fstatat(dfd, sa->sun_path, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (probe < 0)
		return -errno;
	r = connect(probe, (const struct sockaddr *)sa, sizeof(*sa));
	err = errno;
	close(probe);
	if (r == 0)
		return -EADDRINUSE;
	if (err != ECONNREFUSED)
		return -err;
	log_info("%s: replacing a stale socket", path);
	if (unlinkat(dfd, sa->sun_path, 0) < 0)
		return -errno;
	old = umask(~mode & 0777);
	r = bind(fd, (const struct sockaddr *)sa, sizeof(*sa));
	err = errno;
	umask(old);
	return r == 0 ? 0 : -err;
}

/*
 * The group, and a check of what bind() made.  By name in the folder's
 * fd, never following a link: only root (or mmapd's user) writes in the
 * folder, so the name is still the socket bound; the check says so
 * before the socket listens.  Until then a client that finds it
 * (through the group bind() gave it, say) is refused by the kernel.
 */
static int
listen_own(int dfd, const char *path, const char *name,
    const struct policy *pol)
{
	struct stat st;
	mode_t mode = pol->socket_mode;
	int err;

	if (pol->has_socket_group &&
	    fchownat(dfd, name, (uid_t)-1, pol->socket_group,
	    AT_SYMLINK_NOFOLLOW) < 0) {
		err = -errno;
		log_err("%s: cannot give the socket group %u: %s", path,
		    (unsigned int)pol->socket_group, strerror(-err));
		return err;
	}
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		err = -errno;
		log_err("%s: %s", path, strerror(-err));
		return err;
	}
	if (!S_ISSOCK(st.st_mode) || (st.st_mode & 07777) != mode ||
	    (pol->has_socket_group && st.st_gid != pol->socket_group)) {
		/* A default ACL on the folder, say, overrides the umask. */
		log_err("%s: bound, but it is file type %#o, mode %04o, gid "
		    "%u instead of a socket, mode %04o%s", path,
		    (unsigned int)(st.st_mode & S_IFMT),
		    (unsigned int)(st.st_mode & 07777),
		    (unsigned int)st.st_gid, (unsigned int)mode,
		    pol->has_socket_group ? ", the group of socket_group" :
		    "");
		return -EPERM;
	}
	return 0;
}

/*
 * Bind path.  bind() has no *at() form, so mmapd steps into the folder it
 * checked and binds the bare name there, then steps back: every step
 * happens in that folder, whatever is renamed above it meanwhile.
 */
static int
listen_here(const char *path, const struct policy *pol, int *fdp)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = -1, dfd = -1, cwd = -1, err;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_err("%s: %s", path, strerror(ENAMETOOLONG));
		return -ENAMETOOLONG;
	}
	err = listen_dir(path, sa.sun_path, sizeof(sa.sun_path), &dfd);
	if (err)
		return err;
	cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cwd < 0 || fchdir(dfd) < 0) {
		err = -errno;
		log_err("%s: cannot step into the socket's folder: %s", path,
		    strerror(errno));
		goto out;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		log_err("%s: socket: %s", path, strerror(errno));
		goto back;
	}
	err = listen_bind(fd, dfd, &sa, pol->socket_mode, path);
	if (err) {
		log_err("%s: %s%s", path, strerror(-err),
		    err == -EADDRINUSE ? " (a running mmapd serves it)" :
		    err == -EEXIST ? " (it is not a socket)" : "");
		goto back;
	}
	err = listen_own(dfd, path, sa.sun_path, pol);
	if (err == 0 && listen(fd, 128) < 0) {
		err = -errno;
		log_err("%s: listen: %s", path, strerror(errno));
	}
	if (err)
		unlinkat(dfd, sa.sun_path, 0);
back:
	if (fchdir(cwd) < 0 && err == 0) {
		err = -errno;
		log_err("cannot step back into the working folder: %s",
		    strerror(errno));
		unlinkat(dfd, sa.sun_path, 0);
	}
out:
	if (err == 0)
		*fdp = fd;
	else if (fd >= 0)
		close(fd);
	if (cwd >= 0)
		close(cwd);
	close(dfd);
	return err;
}

int
listen_open(struct listener *l, const char *path, const struct policy *pol)
{
	int err;

	l->fd = -1;
	l->passed = 0;
	l->path[0] = '\0';
	err = listen_passed(l);
	if (err < 0)
		return err;
	if (err == 1)
		return 0;

	snprintf(l->path, sizeof(l->path), "%s", path);
	/* listen_here says why when it fails. */
	return listen_here(path, pol, &l->fd);
}

/*
 * After the privilege drop, the socket's folder (root's /run/mmapd, say)
 * may not let this user remove the file: it stays, and the next start
 * replaces it as a stale socket.
 */
static void
socket_remove(const char *path)
{
	if (unlink(path) == 0 || errno == ENOENT)
		return;
	log_info("%s: left in place (%s, as uid %u); the next start replaces "
	    "it", path, strerror(errno), (unsigned)geteuid());
}

void
listen_close(struct listener *l)
{
	if (l->fd < 0)
		return;
	if (!l->passed)
		socket_remove(l->path);
	close(l->fd);
	l->fd = -1;
}
