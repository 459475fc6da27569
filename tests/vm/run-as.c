/*
 * run-as: run a program as another user, for the VM tests
 * (tests/vm/guest-test.sh), which run as root and need an unprivileged
 * client.
 *
 *	run-as USER PROG [ARGS...]
 *
 * Looks USER up in /etc/passwd (the guest's NSS is files only), sets the
 * supplementary groups with initgroups(), then the gid and the uid, real,
 * effective and saved, checks that root cannot be regained, and execs
 * PROG through $PATH with the environment as it is (MMAPD_SOCKET,
 * LD_LIBRARY_PATH: an exec that drops no setuid bit is not AT_SECURE, so
 * the dynamic loader still honours it).
 *
 * busybox su would do, but it parses options after the user name, so
 * every argument of the program run would have to be quoted for sh -c.
 *
 * Exit status: PROG's, or 126 when a step fails before the exec, 127
 * when PROG is not found, 2 usage.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct passwd *pw;

	if (argc < 3) {
		fprintf(stderr, "usage: run-as USER PROG [ARGS...]\n");
		return 2;
	}
	errno = 0;
	pw = getpwnam(argv[1]);
	if (pw == NULL) {
		fprintf(stderr, "run-as: no user '%s'%s%s\n", argv[1],
		    errno ? ": " : "", errno ? strerror(errno) : "");
		return 126;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) != 0) {
		fprintf(stderr, "run-as: initgroups %s: %s\n", pw->pw_name,
		    strerror(errno));
		return 126;
	}
	if (setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0) {
		fprintf(stderr, "run-as: setresgid %lu: %s\n",
		    (unsigned long)pw->pw_gid, strerror(errno));
		return 126;
	}
	if (setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0) {
		fprintf(stderr, "run-as: setresuid %lu: %s\n",
		    (unsigned long)pw->pw_uid, strerror(errno));
		return 126;
	}
	/* A user other than root must not get root back. */
	if (pw->pw_uid != 0 && (setuid(0) == 0 || geteuid() == 0)) {
		fprintf(stderr, "run-as: still able to become root as %s\n",
		    pw->pw_name);
		return 126;
	}
	execvp(argv[2], argv + 2);
	fprintf(stderr, "run-as: %s: %s\n", argv[2], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}
