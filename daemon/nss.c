/*
 * Users and groups through NSS.  The _r calls want a buffer of a size
 * nobody can tell in advance (ERANGE: try a bigger one), and say "not
 * found" in several ways, depending on the module.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nss.h"

/* Past this, a buffer that is still too small is an error (ERANGE). */
#define NSS_BUF_MAX	(1u << 24)

static size_t
buf_size(int which)
{
	long sz;

	sz = sysconf(which);
	return sz > 0 ? (size_t)sz : 1024;
}

/*
 * A getpwnam_r()-style result as 0, -ENOENT (no such name) or another
 * -errno.  They say "not found" as 0 with no result, and some NSS modules
 * as ENOENT, ESRCH, EBADF or EPERM.
 */
static int
status(int rc, int found)
{
	if (rc == 0 && found)
		return 0;
	if (rc == 0 || rc == ENOENT || rc == ESRCH || rc == EBADF ||
	    rc == EPERM)
		return -ENOENT;
	return -rc;
}

/* By name when name is not NULL, else by uid. */
static int
user_get(const char *name, uid_t uid, struct nss_user *u)
{
	struct passwd pw, *res = NULL;
	size_t sz = buf_size(_SC_GETPW_R_SIZE_MAX);
	char *buf;
	int rc;

	for (;;) {
		buf = malloc(sz);
		if (buf == NULL)
			return -ENOMEM;
		if (name != NULL)
			rc = getpwnam_r(name, &pw, buf, sz, &res);
		else
			rc = getpwuid_r(uid, &pw, buf, sz, &res);
		if (rc != ERANGE || sz >= NSS_BUF_MAX)
			break;
		free(buf);
		sz *= 2;
	}
	rc = status(rc, res != NULL);
	if (rc == 0) {
		/* For logs only: a longer name is cut. */
		snprintf(u->name, sizeof(u->name), "%s", pw.pw_name);
		u->uid = pw.pw_uid;
		u->gid = pw.pw_gid;
	}
	free(buf);
	return rc;
}

int
nss_user_by_name(const char *name, struct nss_user *u)
{
	return user_get(name, 0, u);
}

int
nss_user_by_uid(uid_t uid, struct nss_user *u)
{
	return user_get(NULL, uid, u);
}

int
nss_group_by_name(const char *name, gid_t *gid)
{
	struct group gr, *res = NULL;
	size_t sz = buf_size(_SC_GETGR_R_SIZE_MAX);
	char *buf;
	int rc;

	for (;;) {
		buf = malloc(sz);
		if (buf == NULL)
			return -ENOMEM;
		rc = getgrnam_r(name, &gr, buf, sz, &res);
		if (rc != ERANGE || sz >= NSS_BUF_MAX)
			break;
		free(buf);
		sz *= 2;
	}
	rc = status(rc, res != NULL);
	if (rc == 0)
		*gid = gr.gr_gid;
	free(buf);
	return rc;
}
