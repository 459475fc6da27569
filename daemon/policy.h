/*
 * The policy: who may map what, read from mmapd.conf (INI, parsed by
 * libinih) or built in.  It knows names, uids, gids, sizes and flags;
 * it never opens a device and never sees a socket.
 */
#ifndef MMAPD_POLICY_H
#define MMAPD_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine.h"

enum policy_kind {
	POLICY_ZERO,		/* [zero] */
	POLICY_MEM,		/* [mem] */
	POLICY_REGION,		/* [region NAME] */
};

/*
 * What becomes of a revoked lease still held at its deadline: its holder
 * is killed (a mapping cannot be taken back otherwise), or it is logged
 * and kept, listed as revoked.
 */
enum policy_on_revoke {
	POLICY_REVOKE_KILL,
	POLICY_REVOKE_LOG,
};

#define POLICY_DEFAULT_REVOKE_SECONDS	10
#define POLICY_MAX_REVOKE_SECONDS	3600
#define POLICY_MAX_LEASE_SECONDS	(366u * 86400)

/* Who may map: users and groups by id, resolved when the file is read. */
struct policy_who {
	int everyone;		/* users = * */
	uid_t *uids;
	size_t n_uids;
	gid_t *gids;
	size_t n_gids;
};

struct policy_entry {
	char *name;		/* "zero", "mem", or the region's name */
	enum policy_kind kind;
	unsigned int line;	/* of its section header; 0 when built in */
	struct policy_who who;
	uint64_t max_size;	/* largest size one Map may ask for */
	int shared;		/* shared mappings allowed */
	int write;		/* protection = rw */
	enum map_cache cache;	/* cache = ...; DEFAULT: the driver decides */

	/* [mem]: where the device and its table are (test seams). */
	char *path;		/* default /dev/mem */
	char *iomem;		/* default /proc/iomem */

	/*
	 * [mem] and regions of mem: who may be handed the raw /dev/mem fd
	 * by a Map.  Everyone else the entry allows gets Read and Write.
	 */
	struct policy_who raw_who;

	/*
	 * map = no ([mem] and regions): Read and Write only, no Map.
	 * whole_bar = yes (regions of pci): a Map of a region narrower than
	 * its BAR is granted all the same, as the BAR's fd reaches all of it.
	 */
	int regs_only;
	int whole_bar;

	/* [region NAME]: a range of a device. */
	char *device;		/* "mem" or "pci" */
	int is_pci;
	uint64_t base;		/* mem: physical base; pci: offset into the BAR */
	uint64_t size;		/* bytes, offsets in a Map are within it;
				   pci: 0, the rest of the BAR from base */

	/* A region of pci: the function by address, or by id and index. */
	char *pci_address;	/* "0000:00:01.0", or NULL */
	unsigned int pci_vendor, pci_device, pci_index;
	unsigned int bar;
	char *sysfs;		/* default /sys/bus/pci/devices (a test seam) */

	/* Revocation (daemon/revoke.c, policy-revoke.c). */
	unsigned int max_lease_seconds;	/* a lease's lifetime; 0: none */
	unsigned int revoke_seconds;	/* the holder's grace to release */
	enum policy_on_revoke on_revoke; /* after the grace */
};

/*
 * [limits]: what one uid, one connection and all clients together may
 * hold.  Past one, a request is refused (EDQUOT, EAGAIN) or a connection
 * turned away (EMFILE).
 */
struct policy_limits {
	unsigned int connections;	/* connections at once, all clients */
	unsigned int connections_per_uid; /* of one uid at once, root aside */
	unsigned int connections_reserved; /* of connections, the last ones
					   kept for root and admin_group */
	gid_t admin_gid;		/* admin_group, when has_admin_group */
	int has_admin_group;
	unsigned int idle_seconds;	/* a connection without leases that
					   sends nothing so long is closed;
					   0: never */
	unsigned int leases_per_uid;	/* leases one uid holds, all devices */
	uint64_t zero_bytes_per_uid;	/* bytes of zero leases one uid holds */
	unsigned int requests_in_flight; /* replies one connection leaves
					   unread before it is refused */
	unsigned int grants_in_flight;	/* fds of grants one connection has
					   not yet read */
	unsigned int grants_in_flight_per_uid; /* the same, for all of one
					   uid's connections */
};

#define POLICY_DEFAULT_CONNECTIONS		128
#define POLICY_DEFAULT_CONNECTIONS_PER_UID	32
/* 4, or a quarter of connections when that is less. */
#define POLICY_DEFAULT_CONNECTIONS_RESERVED	4
#define POLICY_DEFAULT_IDLE_SECONDS		60
#define POLICY_DEFAULT_LEASES_PER_UID		256
#define POLICY_DEFAULT_ZERO_BYTES_PER_UID	(1ull << 30)
#define POLICY_DEFAULT_REQUESTS_IN_FLIGHT	8
#define POLICY_DEFAULT_GRANTS_IN_FLIGHT		8
#define POLICY_DEFAULT_GRANTS_IN_FLIGHT_PER_UID	32

/*
 * The largest values the file may give: every connection holds an fd,
 * and every reply waiting to go out up to a packet and an fd.
 */
#define POLICY_MAX_CONNECTIONS			65536
#define POLICY_MAX_LEASES_PER_UID		(1u << 20)
#define POLICY_MAX_REQUESTS_IN_FLIGHT		64
#define POLICY_MAX_IDLE_SECONDS			86400
#define POLICY_MAX_GRANTS_IN_FLIGHT		1024
#define POLICY_MAX_GRANTS_IN_FLIGHT_PER_UID	65536

/*
 * [shm NAME]: shared memory of [zero] declared by name, or by a pattern
 * of names (* and ?, as fnmatch(3) reads them).  A name no section
 * declares is private to the uid that makes it.
 */
struct policy_shm {
	char *name;		/* the name or pattern of the header */
	unsigned int line;	/* of its section header */
	uint64_t size;		/* size: every Map of it asks this */
	struct policy_who writers;	/* writers, writer_groups */
	struct policy_who readers;	/* readers, reader_groups */
	struct policy_who creators;	/* creators, creator_groups */
	int has_creators;	/* else the writers create it */
	int persist;		/* persist = yes: outlives its last lease */
	unsigned int max_lease_seconds;	/* a lease's lifetime; 0: none */
};

struct policy {
	struct policy_entry *entries;	/* in file order */
	size_t n_entries;
	struct policy_shm *shms;	/* [shm NAME], in file order */
	size_t n_shms;
	mode_t socket_mode;		/* [daemon] socket_mode */
	gid_t socket_group;		/* [daemon] socket_group */
	int has_socket_group;
	struct policy_limits limits;	/* [limits], or its defaults */
	char *user;			/* [daemon] user: a name, or NULL */
};

/* What a file got wrong, one line each, in file order. */
struct policy_error {
	unsigned int line;		/* 0: the file as a whole */
	char msg[200];
};

struct policy_errors {
	struct policy_error *v;
	size_t n;
};

/* The caller, as SO_PEERCRED and SO_PEERGROUPS tell. */
struct policy_peer {
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	size_t n_groups;
};

/*
 * Read a policy file.  0 and *out on success.  -EINVAL when the file is
 * wrong, with every problem found in *errs; -errno when it cannot be
 * read.  *errs is the caller's to free with policy_errors_free() in every
 * case.
 */
int policy_load(const char *path, struct policy **out,
    struct policy_errors *errs);

/*
 * The same in two steps, as the monitor and the worker share a policy:
 * the file's bytes (at most POLICY_FILE_MAX, malloc'd, NUL after them),
 * and those bytes parsed.  policy_parse() reads nothing but text.
 */
#define POLICY_FILE_MAX		(1u << 20)
int policy_text_read(const char *path, char **text, size_t *len);
int policy_parse(const char *text, size_t len, struct policy **out,
    struct policy_errors *errs);

/*
 * No file at all: zero for everyone up to POLICY_DEFAULT_MAX, nothing
 * else, within the default [limits].
 */
#define POLICY_DEFAULT_MAX	(64ull << 20)
int policy_default(struct policy **out);

/*
 * What pol says that is likely not meant (policy-warn.c): an entry
 * with no users and no groups, a region of mem without [mem].  0 and
 * *warns, one a line (to be freed with policy_errors_free()), or
 * -ENOMEM.
 */
int policy_warnings(const struct policy *pol, struct policy_errors *warns);

/* Each error, or each warning of pol, as a log line naming path:line. */
void policy_log_errors(const char *path, const struct policy_errors *errs);
void policy_log_warnings(const char *path, const struct policy *pol);

void policy_free(struct policy *pol);
void policy_errors_free(struct policy_errors *errs);

const struct policy_entry *policy_find(const struct policy *pol,
    const char *name);

/*
 * May peer map size bytes at offset of e, shared or not, writable or not,
 * in cache mode cache?  0 if so; else a negative errno and *why:
 *	-EPERM	the peer is not in the entry's users or groups, or asked for
 *		shared where the entry does not allow it
 *	-EACCES	write asked where protection = r
 *	-EFBIG	size over max_size
 *	-EINVAL	a cache mode other than the entry's (when it names one), a
 *		cached mapping of device memory the entry does not name, or
 *		a range outside a region
 *
 * A region of pci whose size is 0 (the rest of a BAR not yet opened) is
 * range-checked by the daemon once its BAR is known (daemon/reach.c).
 */
int policy_check(const struct policy_entry *e, const struct policy_peer *peer,
    uint64_t offset, uint64_t size, unsigned int flags, enum map_cache cache,
    const char **why);

/* Do e's users or groups name peer?  What Status shows it. */
int policy_allows(const struct policy_entry *e,
    const struct policy_peer *peer);

/* May peer be handed the raw /dev/mem fd of e? */
int policy_raw_allowed(const struct policy_entry *e,
    const struct policy_peer *peer);

/*
 * The [shm] section that declares name: one that names it exactly, else
 * the first pattern that matches it; NULL when none does.
 */
const struct policy_shm *policy_shm_find(const struct policy *pol,
    const char *name);

/*
 * May peer attach to declared shared memory s (write: read-write), or
 * create it (create)?  0, or -EPERM (neither writer nor reader; not a
 * creator) or -EACCES (write asked by a reader alone), with *why.
 */
int policy_shm_check(const struct policy_shm *s,
    const struct policy_peer *peer, int write, int create, const char **why);

#endif /* MMAPD_POLICY_H */
