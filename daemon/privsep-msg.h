/*
 * What crosses between the monitor and the worker (see monitor.c), after
 * OpenBSD's imsg: one message a packet on a SOCK_SEQPACKET socketpair, a
 * fixed size for each type, fds only where the type carries them, in
 * SCM_RIGHTS.  A packet of another size, a type the receiver does not
 * take, fds where none belong or too few: the peer is broken, and the
 * receiver says so (-EPROTO) without looking at the payload.
 *
 * Two socketpairs: "ctl" carries the policy and its devices to the
 * worker, and the worker's applied / notify / reload-asked the other way;
 * "rpc" carries the worker's kill requests, each answered in turn, so a
 * reply never has to be told from a policy push.
 *
 * No message asks the monitor to open anything: it opens only what the
 * policy file it read itself names.
 */
#ifndef MMAPD_PRIVSEP_MSG_H
#define MMAPD_PRIVSEP_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"

enum pmsg_type {
	/* monitor -> worker, ctl */
	PMSG_POLICY = 1,	/* a piece of the policy file's text */
	PMSG_MEM,		/* /dev/mem as the policy names it */
	PMSG_PCI,		/* one pci region's BAR */
	PMSG_COMMIT,		/* that is all: parse and swap in */
	/* worker -> monitor, ctl */
	PMSG_APPLIED,		/* the policy of gen is in force, or err */
	PMSG_NOTIFY,		/* STATUS=, READY=1, STOPPING=1 for sd_notify */
	PMSG_RELOAD,		/* the worker got SIGHUP: read the policy */
	/* worker -> monitor, rpc, and the answer */
	PMSG_KILL,		/* SIGKILL the peer of this connection */
	PMSG_KILL_REPLY,
	PMSG_NR
};

#define PMSG_TEXT_CHUNK	4096
#define PMSG_PATH_MAX	256
#define PMSG_NAME_MAX	64
#define PMSG_FDS_MAX	(2 * MAP_CACHE_NR + 1)	/* fd[], fd_ro[], iomem */

/* The fds a device message carries: bit i fd[i], bit 4+i fd_ro[i]. */
#define PMSG_FD_RO(i)	(1u << (MAP_CACHE_NR + (i)))
#define PMSG_FD_IOMEM	(1u << (2 * MAP_CACHE_NR))

struct pmsg_policy {
	uint32_t gen;
	uint32_t total;		/* the whole text's length */
	uint32_t offset;	/* of this piece */
	uint32_t len;		/* of this piece, at most PMSG_TEXT_CHUNK */
	char data[PMSG_TEXT_CHUNK];
};

struct pmsg_mem {
	uint32_t gen;
	uint32_t fdmask;
	uint32_t cache;
	uint32_t addr_bits;
	uint32_t phys_bits;
	int32_t access;
	char path[PMSG_PATH_MAX];	/* for the log */
};

struct pmsg_pci {
	uint32_t gen;
	uint32_t fdmask;
	char name[PMSG_NAME_MAX];	/* the policy entry's */
	char address[32];
	uint32_t bar;
	int32_t access;
	uint32_t prefetch;
	uint32_t pad;
	uint64_t start, len, span;
};

struct pmsg_commit {
	uint32_t gen;
	uint32_t builtin;	/* no file: the built-in policy, no text */
	uint32_t have_mem;	/* a PMSG_MEM came */
	uint32_t n_pci;		/* PMSG_PCIs came */
};

struct pmsg_applied {
	uint32_t gen;
	int32_t err;		/* 0, or -errno: the old policy stays */
	uint32_t entries;
	uint32_t clients, leases;	/* for the STATUS= line */
};

struct pmsg_notify {
	char text[512];		/* NUL-terminated */
};

struct pmsg_reload {
	uint32_t zero;
};

struct pmsg_kill {
	uint32_t seq;
	char reason[128];	/* NUL-terminated, for the monitor's log */
};

struct pmsg_kill_reply {
	uint32_t seq;
	int32_t err;		/* 0: sent; -errno */
	int32_t pid;		/* whom, for the worker's log; 0 if none */
};

struct pmsg {
	uint32_t type;
	uint32_t nfds;		/* fds in SCM_RIGHTS, as the type says */
	union {
		struct pmsg_policy policy;
		struct pmsg_mem mem;
		struct pmsg_pci pci;
		struct pmsg_commit commit;
		struct pmsg_applied applied;
		struct pmsg_notify notify;
		struct pmsg_reload reload;
		struct pmsg_kill kill;
		struct pmsg_kill_reply kill_reply;
	} u;
};

/* The packet's size for type: header and that type's payload; 0 if none. */
size_t pmsg_size(uint32_t type);

/*
 * Send one message of m->type with nfds fds (m->nfds is set here).
 * 0 or -errno (-EAGAIN on a non-blocking socket that is full).
 */
int pmsg_send(int sock, struct pmsg *m, const int *fds, unsigned int nfds);

/*
 * Receive one message.  allow is a mask of (1u << type) the receiver
 * takes.  0 with *m and fds[0..m->nfds) (the caller's to close); -EAGAIN
 * when nothing is there (flags MSG_DONTWAIT); -ECONNRESET at the peer's
 * close; -EPROTO when the packet is not one of those messages whole,
 * any fds it carried closed.
 */
int pmsg_recv(int sock, int flags, uint32_t allow, struct pmsg *m,
    int fds[PMSG_FDS_MAX]);

/* The fds a fdmask names. */
unsigned int pmsg_mask_count(uint32_t mask);

#endif /* MMAPD_PRIVSEP_MSG_H */
