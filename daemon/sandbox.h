/*
 * The sandbox: once every device is open and the socket listens, mmapd
 * gives up root (sandbox_drop) and then every system call it does not
 * need (sandbox_filter).  After that nothing it parses can open a device
 * or run a program.
 */
#ifndef MMAPD_SANDBOX_H
#define MMAPD_SANDBOX_H

#include <sys/types.h>

#define SANDBOX_DEFAULT_USER	"mmapd"

/* Who mmapd becomes: looked up at start-up, before anything is opened. */
struct sandbox_user {
	char name[64];
	uid_t uid;
	gid_t gid;
};

/* What a system call outside the allow-list does. */
enum sandbox_action {
	SANDBOX_KILL,		/* the process dies of SIGSYS (the default) */
	SANDBOX_LOG,		/* the kernel logs it and lets it run */
};

/* "kill" or "log": 0, or -EINVAL. */
int sandbox_action_parse(const char *s, enum sandbox_action *out);

/*
 * The user by name (or number): 0; -ENOENT when there is no such user,
 * -EPERM when it is root (uid 0: nothing would be dropped), another
 * -errno when the lookup failed.
 */
int sandbox_user_find(const char *name, struct sandbox_user *u);

/*
 * Become u, for good: no supplementary groups, no capabilities (the
 * bounding set emptied too), no_new_privs; then check that it holds and
 * that root cannot be had back.  Not root (u is then NULL): keep the uid,
 * drop whatever capabilities can be dropped, set no_new_privs.  0 or a
 * negative errno; the log says what failed.
 */
int sandbox_drop(const struct sandbox_user *u);

/*
 * Load the allow-list: from here on a system call mmapd does not make is
 * killed (or logged).  Needs no_new_privs (sandbox_drop sets it).
 */
int sandbox_filter(enum sandbox_action act);

#endif /* MMAPD_SANDBOX_H */
