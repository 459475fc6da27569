/*
 * A Map request: the policy's check, the device that serves the entry,
 * how far the fd reaches, [limits], then the engine and the lease.  The
 * checks of an entry's range are shared with Read and Write
 * (session-reg.c).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conns.h"
#include "daemon.h"
#include "mmapd.pb-c.h"
#include "reach.h"
#include "session-int.h"

/*
 * The file an entry needed and could not be opened (at start-up or by
 * the monitor for the last reload), for the refusal:
 * /dev/mem as [mem] names it, or the BAR's resourceN file.
 */
static const char *
unopened_why(struct session *s, const struct policy_entry *e)
{
	const struct policy_entry *mem = policy_find(s->d->policy, "mem");
	const char *sysfs = e->sysfs ? e->sysfs : "/sys/bus/pci/devices";

	if (!e->is_pci)
		snprintf(s->why, sizeof(s->why), "%s was not opened "
		    "for this policy: the daemon's log says why",
		    mem != NULL && mem->path != NULL ? mem->path : "/dev/mem");
	else if (e->pci_address != NULL)
		snprintf(s->why, sizeof(s->why), "%s/%s/resource%u was not "
		    "opened for this policy: the daemon's log says why", sysfs,
		    e->pci_address, e->bar);
	else
		snprintf(s->why, sizeof(s->why), "BAR %u of PCI device "
		    "%04x:%04x (index %u) under %s was not opened for "
		    "this policy: the daemon's log says why", e->bar,
		    e->pci_vendor, e->pci_device, e->pci_index, sysfs);
	return s->why;
}

/*
 * Which opened device serves an entry, where its range starts, and for a
 * pci region the BAR (else *bar is NULL).
 */
int
session_entry_device(struct session *s, const struct policy_entry *e,
    const struct map_device **dev, uint64_t *base,
    const struct pci_device **bar, const char **why)
{
	struct mmapd *d = s->d;

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
				*why = unopened_why(s, e);
				return -ENODEV;
			}
			*dev = &r->pci.dev;
			*bar = &r->pci;
			return 0;
		}
		/* FALLTHROUGH */
	case POLICY_MEM:
		if (!d->have_mem) {
			*why = unopened_why(s, e);
			return -ENODEV;
		}
		*dev = &d->mem.dev;
		return 0;
	}
	*why = "no such device";
	return -ENODEV;
}

/*
 * The engine's memfd for a shared grant is open for writing; a grant
 * without write gets a read-only open of it instead (found by
 * tests/fuzz/fuzz-request: a read-only Grant whose fd mapped writable).
 */
static int
result_read_only(struct map_result *res, const char **why)
{
	int fd = -1, err;

	if (res->kind != MAP_KIND_SHMEM || (res->prot & PROT_WRITE))
		return 0;
	err = shm_open_for(res->fd, 0, &fd);
	if (err) {
		engine_result_close(res);
		*why = "cannot reopen the shared memory read-only";
		return err;
	}
	close(res->fd);
	res->fd = fd;
	return 0;
}

/* Bytes for a person: "4095 bytes", "64 KiB", "1.1 GiB". */
const char *
session_size_text(uint64_t v, char *buf, size_t len)
{
	static const char *const units[] = {
		"KiB", "MiB", "GiB", "TiB", "PiB", "EiB",
	};
	uint64_t unit = 1024;
	unsigned int i = 0;

	if (v < unit) {
		snprintf(buf, len, "%llu bytes", (unsigned long long)v);
		return buf;
	}
	while (i + 1 < sizeof(units) / sizeof(units[0]) && v / 1024 >= unit) {
		unit *= 1024;
		i++;
	}
	if (v % unit == 0)
		snprintf(buf, len, "%llu %s", (unsigned long long)(v / unit),
		    units[i]);
	else
		snprintf(buf, len, "%.1f %s", (double)v / (double)unit,
		    units[i]);
	return buf;
}

/* policy_check()'s EFBIG with the numbers: the size asked, max_size. */
const char *
session_size_why(struct session *s, const struct policy_entry *e,
    uint64_t size, int err, const char *why)
{
	char t_ask[32], t_max[32];

	if (err != -EFBIG)
		return why;
	snprintf(s->why, sizeof(s->why), "size %llu (%s) over the entry's "
	    "max_size %llu (%s)", (unsigned long long)size,
	    session_size_text(size, t_ask, sizeof(t_ask)),
	    (unsigned long long)e->max_size,
	    session_size_text(e->max_size, t_max, sizeof(t_max)));
	return s->why;
}

/*
 * [limits] for one more lease of e, of size bytes: asked before anything
 * is made, so that a refusal leaves nothing behind.  The limits may have
 * been lowered by a reload below what is held: held >= limit refuses.
 */
static int
quota_map(struct session *s, const struct policy_entry *e, uint64_t size,
    const char **why)
{
	const struct policy_limits *lim = &s->d->policy->limits;
	const struct uid_usage *u = usage_find(s->d, s->peer.uid);
	unsigned int leases = u != NULL ? u->leases : 0;
	uint64_t held = u != NULL ? u->zero_bytes : 0, want;
	char t_sum[32], t_held[32], t_want[32], t_lim[32];

	if (leases >= lim->leases_per_uid) {
		snprintf(s->why, sizeof(s->why), "uid %u holds %u lease%s "
		    "(limit %u per uid)", (unsigned)s->peer.uid, leases,
		    leases == 1 ? "" : "s", lim->leases_per_uid);
		*why = s->why;
		return -EDQUOT;
	}
	/* A size that does not round is the engine's to refuse. */
	if (e->kind != POLICY_ZERO || map_size_round(size, &want) < 0)
		return 0;
	if (held < lim->zero_bytes_per_uid &&
	    want <= lim->zero_bytes_per_uid - held)
		return 0;
	snprintf(s->why, sizeof(s->why), "uid %u would hold %s of zero memory "
	    "(holds %s, asks %s; limit %s per uid)", (unsigned)s->peer.uid,
	    session_size_text(want > UINT64_MAX - held ? UINT64_MAX :
	    held + want, t_sum, sizeof(t_sum)),
	    session_size_text(held, t_held, sizeof(t_held)),
	    session_size_text(want, t_want, sizeof(t_want)),
	    session_size_text(lim->zero_bytes_per_uid, t_lim, sizeof(t_lim)));
	*why = s->why;
	return -EDQUOT;
}

/*
 * A Map of mem hands out /dev/mem itself, which reaches every non-RAM
 * physical page whatever range was asked: only for whom the entry says
 * so, and only while the kernel keeps RAM out of it.
 */
static int
raw_check(const struct mmapd *d, const struct policy_entry *e,
    const struct policy_peer *pp, char *msg, size_t len, const char **why)
{
	if (!policy_raw_allowed(e, pp) && e->kind == POLICY_REGION) {
		*why = reach_refusal(e, NULL, msg, len);
		return -EPERM;
	}
	if (!policy_raw_allowed(e, pp)) {
		*why = "a map of mem hands out the raw /dev/mem fd, which this "
		    "entry's raw_fd_users/raw_fd_groups do not give this user; "
		    "use Read and Write requests (mmapctl read/write)";
		return -EPERM;
	}
	if (!d->mem_raw_ok) {
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
 * than its BAR is mapped only where it says whole_bar = yes (*wide).
 */
static int
reach_check(struct session *s, const struct policy_entry *e,
    const struct policy_peer *pp, const struct pci_device *bar, int raw,
    int *wide, char *msg, size_t len, const char **why)
{
	*wide = 0;
	if (e->regs_only) {
		snprintf(msg, len, "%s serves Read and Write only (map = no): "
		    "use Read and Write requests (mmapctl read/write)",
		    e->name);
		*why = msg;
		return -EPERM;
	}
	if (raw)
		return raw_check(s->d, e, pp, msg, len, why);
	if (e->kind != POLICY_REGION || !e->is_pci || !reach_beyond(e, bar))
		return 0;
	if (!e->whole_bar) {
		*why = reach_refusal(e, bar, msg, len);
		return -EPERM;
	}
	*wide = 1;
	return 0;
}

/* A range outside e, which has limit bytes: the numbers to fix it. */
static const char *
range_why(const struct policy_entry *e, uint64_t limit, uint64_t offset,
    uint64_t size, char *msg, size_t len)
{
	snprintf(msg, len, "offset %#llx size %#llx is outside %s "
	    "(%#llx bytes from base %#llx)", (unsigned long long)offset,
	    (unsigned long long)size, e->name, (unsigned long long)limit,
	    (unsigned long long)e->base);
	return msg;
}

/*
 * policy_check() refused a range outside a region with a size: say
 * which numbers, when that was the reason.
 */
void
session_range_explain(const struct policy_entry *e, int err, uint64_t offset,
    uint64_t size, char *msg, size_t len, const char **why)
{
	uint64_t at;

	if (err == -EINVAL && e->kind == POLICY_REGION && e->size != 0 &&
	    reach_locate(e->base, e->size, offset, size, &at) < 0)
		*why = range_why(e, e->size, offset, size, msg, len);
}

/*
 * A region's offset into its device, every sum checked: a pci region
 * without a size passed policy_check() whatever the offset.
 */
int
session_region_locate(const struct policy_entry *e,
    const struct pci_device *bar, uint64_t base, uint64_t offset,
    uint64_t size, int pages, uint64_t *at, char *msg, size_t len,
    const char **why)
{
	uint64_t limit = reach_limit(e, bar, pages);

	if (reach_locate(base, limit, offset, size, at) == 0)
		return 0;
	*why = range_why(e, limit, offset, size, msg, len);
	return -EINVAL;
}

void
session_map(struct session *s, uint64_t id, const Mmapd__V1__Map *m)
{
	struct mmapd *d = s->d;
	const struct policy_entry *e;
	const struct policy_peer pp = peer_policy(&s->peer);
	struct map_request req = { 0 };
	struct map_result res = { .fd = -1 };
	struct shm_name *shm = NULL;
	Mmapd__V1__Grant g = MMAPD__V1__GRANT__INIT;
	Reply r = MMAPD__V1__REPLY__INIT;
	const char *why = NULL;
	const struct pci_device *bar;
	struct grant_note *note;
	struct lease *l;
	uint64_t base, want;
	char msg[REACH_LEN];
	int err, raw, wide, raw_err = 0;

	req.flags = (m->shared ? MAP_DESC_SHARED : 0) |
	    (m->write ? MAP_DESC_WRITE : 0);
	req.cache = (enum map_cache)m->cache;
	if (!session_name_ok(m->device)) {
		err = -EINVAL;
		why = session_name_why(s, m->device);
		goto deny;
	}
	if ((unsigned int)m->cache >= MAP_CACHE_NR) {
		err = -EINVAL;
		snprintf(s->why, sizeof(s->why), "unknown cache mode %u "
		    "(0 to %u)", (unsigned int)m->cache, MAP_CACHE_NR - 1);
		why = s->why;
		goto deny;
	}
	e = policy_find(d->policy, m->device);
	if (e == NULL) {
		err = -ENODEV;
		why = "no such device or region (mmapctl offers lists what "
		    "this user may map)";
		goto deny;
	}
	err = policy_check(e, &pp, m->offset, m->size, req.flags, req.cache,
	    &why);
	if (err) {
		session_range_explain(e, err, m->offset, m->size, msg,
		    sizeof(msg), &why);
		why = session_size_why(s, e, m->size, err, why);
		goto deny;
	}
	if (req.cache == MAP_CACHE_DEFAULT)
		req.cache = e->cache;
	if (m->region[0] != '\0' &&
	    (e->kind != POLICY_ZERO || !m->shared ||
	    !session_name_ok(m->region))) {
		err = -EINVAL;
		why = "a shared-memory name (1-63 bytes) goes with a shared "
		    "zero mapping only";
		goto deny;
	}
	if (m->region[0] == '\0' && m->open != 0) {
		err = -EINVAL;
		why = "create or attach goes with a shared-memory name only";
		goto deny;
	}
	err = session_entry_device(s, e, &req.dev, &base, &bar, &why);
	if (err)
		goto deny;
	/* zero and mem have no base: their drivers judge the range. */
	req.offset = m->offset;
	if (e->kind == POLICY_REGION) {
		if (map_size_round(m->size, &want) < 0)
			want = m->size;
		err = session_region_locate(e, bar, base, m->offset, want, 1,
		    &req.offset, msg, sizeof(msg), &why);
		if (err)
			goto deny;
	}
	raw = req.dev == &d->mem.dev;
	err = reach_check(s, e, &pp, bar, raw, &wide, msg, sizeof(msg), &why);
	if (err)
		goto deny;
	err = quota_map(s, e, m->size, &why);
	if (err)
		goto deny;
	/* Fds this connection, its uid, everyone have not read yet. */
	err = conns_grant_check(s);
	if (err) {
		why = s->why;
		goto deny;
	}
	req.size = m->size;
	req.peer.uid = s->peer.uid;
	req.peer.gid = s->peer.gid;
	req.peer.pid = s->peer.pid;

	if (m->region[0] != '\0')
		err = shm_map(s, m, &req, &res, &shm, &why);
	else {
		err = engine_map(&d->engine, &req, &res);
		why = res.msg;
		if (err)
			raw_err = res.raw_error;
		if (err == 0)
			err = result_read_only(&res, &why);
	}
	if (err)
		goto deny;

	/* A lease shows the offset as asked: within the region, if any. */
	l = lease_add(d, s, m->device, res.offset - base, res.size, res.prot,
	    res.mmap_flags == MAP_SHARED, shm);
	if (l == NULL) {
		if (shm != NULL)
			shm_put(d, shm);
		engine_result_close(&res);
		err = -ENOMEM;
		why = "out of memory";
		goto deny;
	}
	g.lease_id = l->id;
	g.size = res.size;
	g.mmap_offset = res.offset;
	g.mmap_flags = (uint32_t)res.mmap_flags;
	g.prot = (uint32_t)res.prot;
	g.fd_kind = (Mmapd__V1__FdKind)res.kind;
	g.cache = (Mmapd__V1__CacheMode)res.cache;
	r.request_id = id;
	r.body_case = MMAPD__V1__REPLY__BODY_GRANT;
	r.grant = &g;
	note = audit_grant_note(s, id, l, map_kind_name(res.kind), res.cache,
	    raw, wide ? reach_granted(e, bar, msg, sizeof(msg)) : NULL);
	if (note == NULL) {
		lease_drop(d, l);
		engine_result_close(&res);
		err = -ENOMEM;
		why = "out of memory";
		goto deny;
	}
	/*
	 * The fd goes out with the reply, and the audit line once it has
	 * (session_sent()); the server closes the fd then.
	 */
	reply_send(s, &r, res.fd);
	if (s->out_len == 0) {
		/* reply_send() refused it and closed the fd. */
		lease_drop(d, l);
		free(note);
		return;
	}
	s->out_note = note;
	conns_grant_queued(s);
	return;

deny:
	audit_deny(s, m, err, raw_err, why ? why : strerror(-err));
	reply_error(s, id, err, why);
}
