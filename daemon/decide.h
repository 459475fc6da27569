/*
 * The checks that decide a Map, a Read or a Write before anything is
 * made: the name, the policy's entry and its keys, the device that
 * serves it, the range, how far the fd would reach, [limits], and for
 * shared memory by name the [shm] section.  A session asks them of the
 * daemon's state; mmapd --check-config --explain (explain.c) asks the
 * same functions of a policy file and a daemon state it assumes, so its
 * answer carries the words a client would get.
 *
 * Nothing here opens, sends or logs: a refusal is a negative errno and a
 * reason, into the asker's buffer when it carries numbers.
 */
#ifndef MMAPD_DECIDE_H
#define MMAPD_DECIDE_H

#include <stddef.h>
#include <stdint.h>

#include "daemon.h"
#include "mmapd.pb-c.h"

/* A refusal with a region's and a BAR's numbers. */
#define REACH_LEN	384

/* Who asks, and the daemon's state as the checks see it. */
struct ask {
	struct mmapd *d;
	struct policy_peer pp;		/* uid, gid and groups */
	char why[REACH_LEN];		/* a reason with numbers */
};

/* Which check refused (explain.c names the key behind each). */
enum decide_stage {
	DECIDE_OK,
	DECIDE_REQUEST,		/* the request: name, width, cache */
	DECIDE_ENTRY,		/* no entry of that name */
	DECIDE_POLICY,		/* policy_check(): the entry's keys */
	DECIDE_DEVICE,		/* its device did not open at start-up */
	DECIDE_RANGE,		/* outside the region, or its BAR */
	DECIDE_REACH,		/* the fd would reach beyond the entry */
	DECIDE_QUOTA,		/* [limits] */
};

/* What a Map is to be, once decided. */
struct map_plan {
	enum decide_stage stage;
	const struct policy_entry *e;
	struct map_request req;	/* dev, offset on it, flags, cache */
	uint64_t base;		/* the region's base on the device */
	const struct pci_device *bar;	/* a pci region's BAR, else NULL */
	int raw;		/* the raw /dev/mem fd goes out */
	int wide;		/* the whole BAR goes out (whole_bar = yes) */
};

/* What a Read or Write is to reach, once decided. */
struct reg_plan {
	enum decide_stage stage;
	const struct policy_entry *e;
	const struct map_device *dev;
	uint64_t addr;		/* on the device */
};

void ask_init(struct ask *a, struct mmapd *d, uid_t uid, gid_t gid,
    const gid_t *groups, size_t n_groups);

/*
 * Which opened device serves entry e, where its range starts on it, and
 * for a pci region the BAR (else *bar is NULL): 0, or -ENODEV and *why.
 */
int decide_device(struct ask *a, const struct policy_entry *e,
    const struct map_device **dev, uint64_t *base,
    const struct pci_device **bar, const char **why);

/*
 * Every check of a Map up to the engine (and, for a shared-memory name,
 * up to decide_shm()): 0 with *p filled in, or -errno and *why.
 */
int decide_map(struct ask *a, const Mmapd__V1__Map *m, struct map_plan *p,
    const char **why);

/* The same for a Read or Write of width bits at offset of device. */
int decide_reg(struct ask *a, const char *device, uint64_t offset,
    unsigned int width, int write, uint64_t value, struct reg_plan *p,
    const char **why);

/*
 * A Modify is decided as a Write (of 0), then its bits: set and clear
 * must fit width bits.  0, or -EINVAL with why written into buf.
 */
int decide_modify_bits(unsigned int width, uint64_t set, uint64_t clear,
    char *buf, size_t len);

/*
 * A Map of a shared-memory name (m->region): which memory it is, and
 * whether the caller may attach to it or create it.  0 with *decl (the
 * [shm] section, or NULL for a name of the uid's own) and *n (the memory
 * to attach to, or NULL: create it), or -errno and *why.
 */
int decide_shm(struct ask *a, const Mmapd__V1__Map *m,
    const struct policy_shm **decl, struct shm_name **n, const char **why);

#endif /* MMAPD_DECIDE_H */
