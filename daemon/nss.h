/*
 * Users and groups through NSS (getpwnam_r and friends), for the policy's
 * names and for the user mmapd runs as: one place that grows the buffer
 * and tells "no such name" from "NSS could not be asked".
 */
#ifndef MMAPD_NSS_H
#define MMAPD_NSS_H

#include <sys/types.h>

struct nss_user {
	char name[64];			/* for logs: cut when longer */
	uid_t uid;
	gid_t gid;
};

/*
 * 0 and *u; -ENOENT: no such user; -ENOMEM; another -errno: the lookup
 * failed.
 */
int nss_user_by_name(const char *name, struct nss_user *u);
int nss_user_by_uid(uid_t uid, struct nss_user *u);

/* As nss_user_by_name(), for a group. */
int nss_group_by_name(const char *name, gid_t *gid);

#endif /* MMAPD_NSS_H */
