/*
 * The daemon's state and the seams between its parts:
 *
 *	server.c	the libuv loop, sockets, signals (the only libuv user)
 *	listen.c	the listening socket: systemd's (LISTEN_FDS) or bound here
 *	inbox.c		client packets in; no client fd closes on the loop
 *	reaper.c	the thread that closes the fds clients send
 *	notify.c	READY=1, RELOADING=1, STOPPING=1, STATUS= (sd_notify)
 *	journal.c	audit lines as journal entries
 *	session.c	one client: decode, check, dispatch, encode
 *	session-map.c	a Map: the checks, the engine, the lease
 *	session-reg.c	Read, Write and Modify: one register access each
 *	stats.c		the counters since start that Status shows
 *	decide.c	the checks that decide a request, before anything is
 *			made (also for mmapd --explain, explain.c)
 *	audit.c		the audit lines of the requests
 *	offers.c	what a client may see: Status and List
 *	lease.c		grants held by clients, and named shared regions
 *	regs.c		register access with a SIGBUS guard
 *	conns.c		connections per uid, fds in flight, idle connections
 *	pcis.c		the pci regions the policy names, opened
 *	revoke.c	taking leases back: Revoke, reload, lifetimes
 *	main.c		options, policy, devices, start-up
 */
#ifndef MMAPD_DAEMON_H
#define MMAPD_DAEMON_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "devices.h"
#include "engine.h"
#include "policy.h"
#include "wire.h"

#define PROTOCOL_MAJOR	1
#define PROTOCOL_MINOR	0
#define NAME_MAX_LEN	63	/* device, region and shared-memory names */

struct session;
struct conns_uid;
struct conns_linger;
struct conns_ring;
struct revoke_ops;

/*
 * A memfd shared by name: lives while a lease holds it, or for good when
 * its [shm] section says persist.  A name the policy declares is one
 * memory for everyone it names; any other name is its uid's alone.
 */
struct shm_name {
	struct shm_name *next;
	char name[NAME_MAX_LEN + 1];
	int declared;			/* by a [shm] section; else private */
	uid_t uid;			/* private: whose it is */
	int persist;			/* kept with no lease: persist = yes */
	int fd;
	uint64_t size;
	unsigned int refs;
};

struct lease {
	struct lease *next;		/* in the daemon's list, by id */
	struct lease *prev;
	struct lease *hnext;		/* in its bucket of lease_hash */
	struct lease *onext, *oprev;	/* in its owner's list, by id */
	uint64_t id;
	struct session *owner;
	uid_t uid;
	pid_t pid;
	char device[NAME_MAX_LEN + 1];
	uint64_t offset;
	uint64_t size;
	int prot;
	int shared;
	time_t created;
	struct shm_name *shm;		/* the named region it holds, if any */
	uint64_t zero_bytes;		/* its uid's zero quota: size, or 0 */
	int granted;			/* its fd went out, grant logged */
	/* revoke.c: held, revoking until deadline, revoked (kept). */
	int state;			/* LEASE_HELD, ... (revoke.h) */
	int enforce;			/* revoking: POLICY_REVOKE_* */
	unsigned int grace;		/* revoke_seconds when granted */
	int64_t created_ms;		/* monotonic, for max_lease_seconds */
	int64_t deadline_ms;		/* revoking: monotonic */
	time_t deadline;		/* the same, for people */
	char revoke_reason[128];	/* revoking or revoked: why */
	int notify_pending;		/* its event waits for room */
};

/* What one uid's leases hold, for [limits]; kept while it holds any. */
struct uid_usage {
	struct uid_usage *next;
	uid_t uid;
	unsigned int leases;
	uint64_t zero_bytes;
};

/*
 * A region of pci, opened as the policy in force names it: at start-up,
 * or by the monitor for a reload (monitor.c).
 */
struct pci_region {
	char name[NAME_MAX_LEN + 1];	/* the policy entry's */
	struct pci_device pci;
};

/*
 * Counts since start, for Status (stats.c).  They count what the audit
 * log writes: a grant line with result=ok, a release line, a deny line
 * by its errno.  Never reset, not even by a reload.
 */
#define STATS_ERRNO_LIMIT	4096	/* errnos run to MAX_ERRNO, 4095 */
struct mmapd_stats {
	uint64_t grants;
	uint64_t releases;
	uint64_t revocations;		/* leases revoked (Revoke, reload) */
	uint64_t denials[STATS_ERRNO_LIMIT];	/* by errno */
	unsigned int peak_clients;	/* most connections at once */
};

struct mmapd {
	struct policy *policy;
	struct map_engine engine;
	struct map_device zero;
	struct mem_device mem;
	int have_mem;			/* mem opened for the policy in force */
	int mem_raw_ok;			/* STRICT_DEVMEM holds: raw fds may go out */
	struct pci_region *pcis;
	size_t n_pcis;
	struct lease *leases;		/* oldest first */
	struct lease *lease_last;	/* where a new one goes */
	struct lease **lease_hash;	/* by id: buckets, a power of two */
	size_t lease_buckets;
	uint64_t next_lease;
	unsigned int n_leases;
	struct shm_name *shms;
	struct uid_usage *usage;	/* uids holding leases */
	unsigned int n_clients;
	time_t started;
	/* conns.c: uids with connections, and their grants in flight */
	struct conns_uid *conn_uids;
	struct conns_linger *lingering; /* closed, their grants unread */
	unsigned int grants;		/* all connections' grants in flight */
	unsigned int grants_cap;	/* at most that many: half fd_limit */
	unsigned long fd_limit;		/* RLIMIT_NOFILE, raised at start */
	struct mmapd_stats stats;
	/* server.c's, for revoke.c (NULL: no loop, as in the fuzzers) */
	const struct revoke_ops *revoke_ops;
	void *revoke_arg;
};

/*
 * A grant on its way out: what its audit line says once its fd went,
 * and what undoes it if it cannot go.  Made by session_map(), carried
 * with the reply in the server's queue, handed to session_sent().
 */
struct grant_note {
	struct grant_note *next;	/* the batch's next grant, or NULL */
	uint64_t request_id;
	uint64_t lease;
	int raw;			/* a raw /dev/mem fd */
	const char *wide;		/* whole_bar = yes: what the fd
					   reaches (after fields), or NULL */
	char fields[];			/* "lease=... cache=..." */
};

struct peer {
	uid_t uid;
	gid_t gid;
	pid_t pid;
	gid_t *groups;			/* supplementary, from SO_PEERGROUPS */
	size_t n_groups;
};

/*
 * One connection.  session_input() leaves each reply in out; the server
 * queues it and sends the replies in request order.  out points into
 * session.c's one reply buffer, shared by all connections: a reply must
 * be queued (or sent) before any session is handed anything else, and
 * code that answers another connection than the one it serves queues
 * that reply itself.  So an idle connection holds no packet buffer.  Past
 * requests_in_flight replies unsent, a request is refused and the
 * connection stalls: it is not read again until every reply is out, so
 * a client that never reads stalls itself alone.
 */
struct session {
	struct mmapd *d;
	int fd;
	int clean;			/* no fd can have come: inbox_accept() */
	struct peer peer;
	char name[NAME_MAX_LEN + 1];	/* from Hello, for logs */
	int events;			/* Hello.events: may be sent events */
	int events_pending;		/* events wait for room: revoke.c */
	char user[64];			/* the uid's name, or "" */
	const char *end_reason;		/* set: why it ends; NULL: its
					   client hung up (or a bad packet) */
	const uint8_t *out;		/* the reply's packet (see above) */
	size_t out_len;			/* a reply waiting to be sent, or 0 */
	int out_fd;			/* its fd, or -1 */
	struct grant_note *out_note;	/* its grant's (a batch's: a
					   list), or NULL */
	int *out_fds;			/* a GrantBatch's fds, or NULL */
	unsigned int out_nfds;		/* how many; out_fd is then -1 */
	int closing;			/* drop it once the replies are out */
	int stalled;			/* unread until the replies are out */
	int grant_wait;			/* unread until its grants are read */
	unsigned int n_leases;		/* held by this connection */
	struct lease *own, *own_last;	/* they, oldest first (lease.c) */
	/* conns.c */
	struct conns_uid *uid_rec;	/* its uid's connections */
	struct session *uid_next;	/* in uid_rec's list */
	unsigned int grants_queued;	/* grant fds not yet sent */
	unsigned int grants_sent;	/* sent, maybe not read yet */
	struct conns_ring *ring;	/* what each packet was charged */
	int outq_before;		/* SIOCOUTQ before a send, or -1 */
	int64_t active_ms;		/* the last request, monotonic */
	char why[160];			/* a formatted reason for the reply */
	void *priv;			/* the server's handle */
};

int peer_read(int fd, struct peer *peer);
void peer_free(struct peer *peer);

/*
 * Handle one packet (or the error inbox_recv() gave for it) and leave the
 * reply in s->out.  unsent: replies of this connection not yet sent; at
 * [limits] requests_in_flight the request is refused with EAGAIN and
 * s->stalled set.  Returns 0, or -1 when the connection must be closed
 * at once without a reply.
 */
int session_input(struct session *s, const uint8_t *buf, ssize_t len,
    size_t nfds, unsigned int unsent);
/*
 * A new connection, its peer read.  0, or -EMFILE when the daemon
 * already serves [limits] connections: the refusal is logged and its
 * reply left in s->out, to be sent once before the connection closes.
 */
int session_admit(struct session *s);
void session_end(struct session *s);
/*
 * A grant's reply went out (err 0) or could not (-errno; -ECANCELED when
 * the connection ended first).  Logs its audit line and takes the note.
 * When buf is not NULL and the grant failed, its lease is undone and an
 * error reply to the request packed into buf (WIRE_MAX bytes), its
 * length in *len: 1 then, else 0.
 */
int session_sent(struct session *s, struct grant_note *n, int err,
    uint8_t *buf, size_t *len);
/*
 * Idle past [limits] idle_seconds without a lease: logged, and told in
 * one error reply (ETIMEDOUT, request id 0) left in s->out.
 */
void session_idle(struct session *s);

struct lease *lease_add(struct mmapd *d, struct session *owner,
    const char *device, uint64_t offset, uint64_t size, int prot,
    int shared, struct shm_name *shm);
struct lease *lease_find(struct mmapd *d, uint64_t id);
void lease_drop(struct mmapd *d, struct lease *l);
void lease_drop_owner(struct mmapd *d, struct session *owner);
/* The index of leases by id, once every lease is gone (at exit). */
void lease_index_free(struct mmapd *d);
/* What uid's leases hold; NULL when it holds none. */
const struct uid_usage *usage_find(const struct mmapd *d, uid_t uid);

/*
 * stats.c: a refusal the audit log writes as event=deny (err negative);
 * a connection more (server.c, once it is counted in n_clients).
 */
void stats_deny(struct mmapd *d, int err);
void stats_client(struct mmapd *d);

/*
 * Open the pci regions of pol into *out; failures are logged and left
 * out.  iomem_kept: see mem_params.
 */
int pcis_open(const struct policy *pol, const int *iomem_kept,
    struct pci_region **out, size_t *n);
void pcis_close(struct pci_region *v, size_t n);
/* Does pol name mem, or a region of it? */
int policy_wants_mem(const struct policy *pol);
/*
 * /dev/mem as pol's [mem] says, or by default.  0; -ENOENT when pol
 * names no mem; another -errno, logged: mem is then not offered.
 */
int mem_open_policy(const struct policy *pol, const int *iomem_kept,
    struct mem_device *mem);
/* The region of that name, when offered. */
const struct pci_region *pcis_find(const struct mmapd *d, const char *name);

/*
 * Named shared memory (lease.c): the memory of name, declared or uid's
 * own; a new one, taking fd; a region no lease holds closed, unless it
 * persists.
 */
struct shm_name *shm_find(struct mmapd *d, const char *name, int declared,
    uid_t uid);
struct shm_name *shm_add(struct mmapd *d, const char *name, int declared,
    uid_t uid, int fd, uint64_t size);
void shm_put(struct mmapd *d, struct shm_name *n);
/* A new policy: persistent memory it no longer declares so goes. */
void shm_reload(struct mmapd *d);
/* At exit: persistent memory goes; 1 when anything else was left. */
int shm_close_all(struct mmapd *d);

/*
 * shm.c: a Map of a shared-memory name (m->region): attach to it or
 * create it, as the policy and m->open say (decide_shm()).  0 with res
 * and *shmp set, or -errno and *why (which may point into a).
 */
struct Mmapd__V1__Map;
struct ask;
int shm_map(struct session *s, struct ask *a,
    const struct Mmapd__V1__Map *m, struct map_request *req,
    struct map_result *res,
    struct shm_name **shmp, const char **why);
/*
 * A second open of shared memory: a dup for write, else a read-only
 * open, which its holder cannot map writable nor open again for
 * writing (the memfd is mode 0600, mmapd's user's).
 */
int shm_open_for(int shm_fd, int write, int *fdp);

#endif /* MMAPD_DAEMON_H */
