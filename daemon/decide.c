/*
 * The checks that decide a request before anything is made (decide.h):
 * a session's Map, Read and Write (session-map.c, session-reg.c, shm.c)
 * and mmapd --explain (explain.c) run these same functions.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "decide.h"
#include "reach.h"
#include "session-int.h"

#define OPEN_CREATE	MMAPD__V1__REGION_OPEN__OPEN_CREATE
#define OPEN_ATTACH	MMAPD__V1__REGION_OPEN__OPEN_ATTACH

void
ask_init(struct ask *a, struct mmapd *d, uid_t uid, gid_t gid,
    const gid_t *groups, size_t n_groups)
{
	a->d = d;
	a->pp.uid = uid;
	a->pp.gid = gid;
	a->pp.groups = groups;
	a->pp.n_groups = n_groups;
	a->why[0] = '\0';
}

static const char *
name_why(struct ask *a, const char *name)
{
	snprintf(a->why, sizeof(a->why), "device name of %zu bytes: 1 to %d "
	    "are allowed", strlen(name), NAME_MAX_LEN);
	return a->why;
}

/*
 * The file an entry needed and could not be opened (at start-up or by
 * the monitor for the last reload), for the refusal:
 * /dev/mem as [mem] names it, or the BAR's resourceN file.
 */
static const char *
unopened_why(struct ask *a, const struct policy_entry *e)
{
	const struct policy_entry *mem = policy_find(a->d->policy, "mem");
	const char *sysfs = e->sysfs ? e->sysfs : "/sys/bus/pci/devices";

	if (!e->is_pci)
		snprintf(a->why, sizeof(a->why), "%s was not opened "
		    "for this policy: the daemon's log says why",
		    mem != NULL && mem->path != NULL ? mem->path : "/dev/mem");
	else if (e->pci_address != NULL)
		snprintf(a->why, sizeof(a->why), "%s/%s/resource%u was not "
		    "opened for this policy: the daemon's log says why", sysfs,
		    e->pci_address, e->bar);
	else
		snprintf(a->why, sizeof(a->why), "BAR %u of PCI device "
		    "%04x:%04x (index %u) under %s was not opened for "
		    "this policy: the daemon's log says why", e->bar,
		    e->pci_vendor, e->pci_device, e->pci_index, sysfs);
	return a->why;
}

/*
 * Which opened device serves an entry, where its range starts, and for a
 * pci region the BAR (else *bar is NULL).
 */
int
decide_device(struct ask *a, const struct policy_entry *e,
    const struct map_device **dev, uint64_t *base,
    const struct pci_device **bar, const char **why)
{
	struct mmapd *d = a->d;

	*base = 0;
	*bar = NULL;
	switch (e->kind) {
	case POLICY_ZERO:
		*dev = &d->zero;
		return 0;
	case POLICY_REGION:
		*base = e->base;
		if (e->is_pci) {
			const struct pci_region *r = pcis_find(d, e->name);

			if (r == NULL) {
				*why = unopened_why(a, e);
				return -ENODEV;
			}
			*dev = &r->pci.dev;
			*bar = &r->pci;
			return 0;
		}
		/* FALLTHROUGH */
	case POLICY_MEM:
		if (!d->have_mem) {
			*why = unopened_why(a, e);
			return -ENODEV;
		}
		*dev = &d->mem.dev;
		return 0;
	}
	*why = "no such device";
	return -ENODEV;
}

/* policy_check()'s EFBIG with the numbers: the size asked, max_size. */
static const char *
size_why(struct ask *a, const struct policy_entry *e, uint64_t size,
    int err, const char *why)
{
	char t_ask[32], t_max[32];

	if (err != -EFBIG)
		return why;
	snprintf(a->why, sizeof(a->why), "size %llu (%s) over the entry's "
	    "max_size %llu (%s)", (unsigned long long)size,
	    session_size_text(size, t_ask, sizeof(t_ask)),
	    (unsigned long long)e->max_size,
	    session_size_text(e->max_size, t_max, sizeof(t_max)));
	return a->why;
}

/* A range outside e, which has limit bytes: the numbers to fix it. */
static const char *
range_why(struct ask *a, const struct policy_entry *e, uint64_t limit,
    uint64_t offset, uint64_t size)
{
	snprintf(a->why, sizeof(a->why), "offset %#llx size %#llx is outside "
	    "%s (%#llx bytes from base %#llx)", (unsigned long long)offset,
	    (unsigned long long)size, e->name, (unsigned long long)limit,
	    (unsigned long long)e->base);
	return a->why;
}

/*
 * policy_check() with the numbers behind its refusal: the size over
 * max_size, or the range outside a region with a size.
 */
static int
policy_judge(struct ask *a, const struct policy_entry *e, uint64_t offset,
    uint64_t size, unsigned int flags, enum map_cache cache,
    const char **why)
{
	uint64_t at;
	int err;

	err = policy_check(e, &a->pp, offset, size, flags, cache, why);
	if (err == -EINVAL && e->kind == POLICY_REGION && e->size != 0 &&
	    reach_locate(e->base, e->size, offset, size, &at) < 0)
		*why = range_why(a, e, e->size, offset, size);
	else if (err)
		*why = size_why(a, e, size, err, *why);
	return err;
}

/*
 * A region's offset into its device, every sum checked: a pci region
 * without a size passed policy_check() whatever the offset.
 */
static int
region_locate(struct ask *a, const struct policy_entry *e,
    const struct pci_device *bar, uint64_t base, uint64_t offset,
    uint64_t size, int pages, uint64_t *at, const char **why)
{
	uint64_t limit = reach_limit(e, bar, pages);

	if (reach_locate(base, limit, offset, size, at) == 0)
		return 0;
	*why = range_why(a, e, limit, offset, size);
	return -EINVAL;
}

/*
 * A Map of mem hands out /dev/mem itself, which reaches every non-RAM
 * physical page whatever range was asked: only for whom the entry says
 * so, and only while the kernel keeps RAM out of it.
 */
static int
raw_check(struct ask *a, const struct policy_entry *e, const char **why)
{
	if (!policy_raw_allowed(e, &a->pp) && e->kind == POLICY_REGION) {
		*why = reach_refusal(e, NULL, a->why, sizeof(a->why));
		return -EPERM;
	}
	if (!policy_raw_allowed(e, &a->pp)) {
		*why = "a map of mem hands out the raw /dev/mem fd, which this "
		    "entry's raw_fd_users/raw_fd_groups do not give this user; "
		    "use Read and Write requests (mmapctl read/write)";
		return -EPERM;
	}
	if (!a->d->mem_raw_ok) {
		*why = "the kernel does not refuse System RAM through /dev/mem "
		    "(no STRICT_DEVMEM): raw /dev/mem fds are not handed out";
		return -EPERM;
	}
	return 0;
}

/*
 * The fd a Map hands out must reach no byte the entry does not give:
 * map = no gives none; /dev/mem reaches all physical memory
 * (raw_check()); a BAR's fd reaches the whole BAR, so a region narrower
 * than its BAR is mapped only where it says whole_bar = yes (p->wide).
 */
static int
reach_check(struct ask *a, struct map_plan *p, const char **why)
{
	const struct policy_entry *e = p->e;

	p->wide = 0;
	if (e->regs_only) {
		snprintf(a->why, sizeof(a->why), "%s serves Read and Write "
		    "only (map = no): use Read and Write requests (mmapctl "
		    "read/write)", e->name);
		*why = a->why;
		return -EPERM;
	}
	if (p->raw)
		return raw_check(a, e, why);
	if (e->kind != POLICY_REGION || !e->is_pci ||
	    !reach_beyond(e, p->bar))
		return 0;
	if (!e->whole_bar) {
		*why = reach_refusal(e, p->bar, a->why, sizeof(a->why));
		return -EPERM;
	}
	p->wide = 1;
	return 0;
}

/*
 * [limits] for one more lease of e, of size bytes: asked before anything
 * is made, so that a refusal leaves nothing behind.  The limits may have
 * been lowered by a reload below what is held: held >= limit refuses.
 */
static int
quota_check(struct ask *a, const struct policy_entry *e, uint64_t size,
    const char **why)
{
	const struct policy_limits *lim = &a->d->policy->limits;
	const struct uid_usage *u = usage_find(a->d, a->pp.uid);
	unsigned int leases = u != NULL ? u->leases : 0;
	uint64_t held = u != NULL ? u->zero_bytes : 0, want;
	char t_sum[32], t_held[32], t_want[32], t_lim[32];

	if (leases >= lim->leases_per_uid) {
		snprintf(a->why, sizeof(a->why), "uid %u holds %u lease%s "
		    "(limit %u per uid)", (unsigned)a->pp.uid, leases,
		    leases == 1 ? "" : "s", lim->leases_per_uid);
		*why = a->why;
		return -EDQUOT;
	}
	/* A size that does not round is the engine's to refuse. */
	if (e->kind != POLICY_ZERO || map_size_round(size, &want) < 0)
		return 0;
	if (held < lim->zero_bytes_per_uid &&
	    want <= lim->zero_bytes_per_uid - held)
		return 0;
	snprintf(a->why, sizeof(a->why), "uid %u would hold %s of zero memory "
	    "(holds %s, asks %s; limit %s per uid)", (unsigned)a->pp.uid,
	    session_size_text(want > UINT64_MAX - held ? UINT64_MAX :
	    held + want, t_sum, sizeof(t_sum)),
	    session_size_text(held, t_held, sizeof(t_held)),
	    session_size_text(want, t_want, sizeof(t_want)),
	    session_size_text(lim->zero_bytes_per_uid, t_lim, sizeof(t_lim)));
	*why = a->why;
	return -EDQUOT;
}

static int
stage(struct map_plan *p, enum decide_stage st, int err)
{
	p->stage = err ? st : DECIDE_OK;
	return err;
}

int
decide_map(struct ask *a, const Mmapd__V1__Map *m, struct map_plan *p,
    const char **why)
{
	const struct policy_entry *e;
	uint64_t want;
	int err;

	memset(p, 0, sizeof(*p));
	p->req.flags = (m->shared ? MAP_DESC_SHARED : 0) |
	    (m->write ? MAP_DESC_WRITE : 0);
	p->req.cache = (enum map_cache)m->cache;
	if (!session_name_ok(m->device)) {
		*why = name_why(a, m->device);
		return stage(p, DECIDE_REQUEST, -EINVAL);
	}
	if ((unsigned int)m->cache >= MAP_CACHE_NR) {
		snprintf(a->why, sizeof(a->why), "unknown cache mode %u "
		    "(0 to %u)", (unsigned int)m->cache, MAP_CACHE_NR - 1);
		*why = a->why;
		return stage(p, DECIDE_REQUEST, -EINVAL);
	}
	e = policy_find(a->d->policy, m->device);
	if (e == NULL) {
		*why = "no such device or region (mmapctl offers lists what "
		    "this user may map)";
		return stage(p, DECIDE_ENTRY, -ENODEV);
	}
	p->e = e;
	err = policy_judge(a, e, m->offset, m->size, p->req.flags,
	    p->req.cache, why);
	if (err)
		return stage(p, DECIDE_POLICY, err);
	if (p->req.cache == MAP_CACHE_DEFAULT)
		p->req.cache = e->cache;
	if (m->region[0] != '\0' &&
	    (e->kind != POLICY_ZERO || !m->shared ||
	    !session_name_ok(m->region))) {
		*why = "a shared-memory name (1-63 bytes) goes with a shared "
		    "zero mapping only";
		return stage(p, DECIDE_REQUEST, -EINVAL);
	}
	if (m->region[0] == '\0' && m->open != 0) {
		*why = "create or attach goes with a shared-memory name only";
		return stage(p, DECIDE_REQUEST, -EINVAL);
	}
	err = decide_device(a, e, &p->req.dev, &p->base, &p->bar, why);
	if (err)
		return stage(p, DECIDE_DEVICE, err);
	/* zero and mem have no base: their drivers judge the range. */
	p->req.offset = m->offset;
	if (e->kind == POLICY_REGION) {
		if (map_size_round(m->size, &want) < 0)
			want = m->size;
		err = region_locate(a, e, p->bar, p->base, m->offset, want, 1,
		    &p->req.offset, why);
		if (err)
			return stage(p, DECIDE_RANGE, err);
	}
	p->raw = p->req.dev == &a->d->mem.dev;
	err = reach_check(a, p, why);
	if (err)
		return stage(p, DECIDE_REACH, err);
	err = quota_check(a, e, m->size, why);
	if (err)
		return stage(p, DECIDE_QUOTA, err);
	p->req.size = m->size;
	p->req.peer.uid = a->pp.uid;
	p->req.peer.gid = a->pp.gid;
	return stage(p, DECIDE_OK, 0);
}

static int
reg_stage(struct reg_plan *p, enum decide_stage st, int err)
{
	p->stage = err ? st : DECIDE_OK;
	return err;
}

int
decide_reg(struct ask *a, const char *device, uint64_t offset,
    unsigned int width, int write, uint64_t value, struct reg_plan *p,
    const char **why)
{
	const struct policy_entry *e;
	const struct pci_device *bar;
	unsigned int bytes = width / 8;
	uint64_t base;
	int err;

	memset(p, 0, sizeof(*p));
	if (!session_name_ok(device)) {
		*why = name_why(a, device);
		return reg_stage(p, DECIDE_REQUEST, -EINVAL);
	}
	if (width != 8 && width != 16 && width != 32 && width != 64) {
		snprintf(a->why, sizeof(a->why), "width %u: it must be 8, 16, "
		    "32 or 64 bits", width);
		*why = a->why;
		return reg_stage(p, DECIDE_REQUEST, -EINVAL);
	}
	if (offset % bytes != 0) {
		snprintf(a->why, sizeof(a->why), "offset %#llx is not a "
		    "multiple of %u bytes (the width): registers are accessed "
		    "naturally aligned", (unsigned long long)offset, bytes);
		*why = a->why;
		return reg_stage(p, DECIDE_REQUEST, -EINVAL);
	}
	if (write && width < 64 && (value >> width) != 0) {
		snprintf(a->why, sizeof(a->why), "value %#llx does not fit "
		    "%u bits", (unsigned long long)value, width);
		*why = a->why;
		return reg_stage(p, DECIDE_REQUEST, -EINVAL);
	}
	e = policy_find(a->d->policy, device);
	if (e == NULL) {
		*why = "no such device or region (mmapctl offers lists what "
		    "this user may map)";
		return reg_stage(p, DECIDE_ENTRY, -ENODEV);
	}
	p->e = e;
	if (e->kind == POLICY_ZERO) {
		*why = "zero has no registers: Read and Write are for device "
		    "memory";
		return reg_stage(p, DECIDE_REQUEST, -EINVAL);
	}
	err = policy_judge(a, e, offset, bytes, write ? MAP_DESC_WRITE : 0,
	    MAP_CACHE_DEFAULT, why);
	if (err)
		return reg_stage(p, DECIDE_POLICY, err);
	err = decide_device(a, e, &p->dev, &base, &bar, why);
	if (err)
		return reg_stage(p, DECIDE_DEVICE, err);
	/*
	 * Within the region, or for a pci region without a size the rest of
	 * its BAR to the byte (a 256-byte BAR has no register at 0x100).
	 */
	err = region_locate(a, e, bar, base, offset, bytes, 0, &p->addr, why);
	return reg_stage(p, err ? DECIDE_RANGE : DECIDE_OK, err);
}

int
decide_shm(struct ask *a, const Mmapd__V1__Map *m,
    const struct policy_shm **declp, struct shm_name **np, const char **why)
{
	struct mmapd *d = a->d;
	const struct policy_shm *decl;
	struct shm_name *n;
	char t1[32], t2[32];
	uint64_t size;
	int err;

	*declp = NULL;
	*np = NULL;
	if ((unsigned int)m->open > OPEN_ATTACH) {
		snprintf(a->why, sizeof(a->why), "unknown open mode %d (0 "
		    "either, 1 create, 2 attach)", (int)m->open);
		*why = a->why;
		return -EINVAL;
	}
	if (m->size == 0) {
		*why = "size is zero";
		return -EINVAL;
	}
	if (map_size_round(m->size, &size) < 0) {
		*why = "size does not fit once rounded up to a page";
		return -ENOMEM;
	}
	/*
	 * Who may reach a declared name is judged before whether it exists,
	 * so that an outsider learns nothing of it.
	 */
	decl = policy_shm_find(d->policy, m->region);
	*declp = decl;
	if (decl != NULL) {
		err = policy_shm_check(decl, &a->pp, m->write, 0, why);
		if (err)
			return err;
		if (size != decl->size) {
			snprintf(a->why, sizeof(a->why), "shared memory %s is "
			    "%s ([shm %s], line %u); the Map asks %s",
			    m->region, session_size_text(decl->size, t1,
			    sizeof(t1)), decl->name, decl->line,
			    session_size_text(size, t2, sizeof(t2)));
			*why = a->why;
			return -EINVAL;
		}
	}
	n = shm_find(d, m->region, decl != NULL, a->pp.uid);
	if (n == NULL) {
		if (m->open == OPEN_ATTACH) {
			snprintf(a->why, sizeof(a->why), "no shared memory "
			    "named %s exists%s", m->region, decl != NULL ?
			    "" : " for this uid (an undeclared name is its "
			    "uid's own)");
			*why = a->why;
			return -ENOENT;
		}
		if (decl == NULL)
			return 0;
		err = policy_shm_check(decl, &a->pp, m->write, 1, why);
		/* Either: a reader waits for its creator. */
		if (err && m->open != OPEN_CREATE) {
			snprintf(a->why, sizeof(a->why), "no shared memory "
			    "named %s exists, and this user may not create it "
			    "([shm %s], line %u)", m->region, decl->name,
			    decl->line);
			*why = a->why;
			return -ENOENT;
		}
		return err;
	}
	if (m->open == OPEN_CREATE) {
		snprintf(a->why, sizeof(a->why), "shared memory %s exists "
		    "(%s, %u lease%s)", m->region,
		    session_size_text(n->size, t1, sizeof(t1)), n->refs,
		    n->refs == 1 ? "" : "s");
		*why = a->why;
		return -EEXIST;
	}
	if (size != n->size) {
		snprintf(a->why, sizeof(a->why), "shared memory %s exists with "
		    "%s; the Map asks %s", m->region,
		    session_size_text(n->size, t1, sizeof(t1)),
		    session_size_text(size, t2, sizeof(t2)));
		*why = a->why;
		return -EINVAL;
	}
	*np = n;
	return 0;
}

int
decide_modify_bits(unsigned int width, uint64_t set, uint64_t clear,
    char *buf, size_t len)
{
	if (width >= 64 || ((set | clear) >> width) == 0)
		return 0;
	snprintf(buf, len, "%s %#llx does not fit %u bits",
	    set >> width ? "set" : "clear",
	    (unsigned long long)(set >> width ? set : clear), width);
	return -EINVAL;
}
