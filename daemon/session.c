/*
 * One client's requests: decode the packet, check it against the policy,
 * run the engine, record the lease, encode the reply.  No libuv here: the
 * server hands in packets and sends out what is left in s->out.
 *
 * A packet that does not decode, or is too big, is a protocol violation:
 * an error reply, then the connection closes.  A request that is well
 * formed but refused gets an error reply and the connection goes on.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conns.h"
#include "daemon.h"
#include "log.h"
#include "mmapd.pb-c.h"
#include "nss.h"
#include "reach.h"
#include "regs.h"
#include "session-int.h"

#define QUOTE_LEN	(4 * NAME_MAX_LEN + 3)
/* A refusal with a region's and a BAR's numbers. */
#define REACH_LEN	384
/*
 * Who asked, in an audit line: the uid's name and the client's own from
 * Hello, cut shorter than a device's so that every field of the longest
 * line still fits log_msg's 1024 bytes (tests/integration/test_audit.c,
 * test_trail.c).
 */
#define WHO_CLIENT	48
#define WHO_USER	36
#define WHO_LEN		(80 + WHO_CLIENT + WHO_USER)

int
peer_read(int fd, struct peer *peer)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	gid_t *g;

	memset(peer, 0, sizeof(*peer));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	peer->uid = cred.uid;
	peer->gid = cred.gid;
	peer->pid = cred.pid;

	/*
	 * Supplementary groups count for the policy.  The kernel says how
	 * much room they need when the first guess is short.
	 */
	len = 32 * sizeof(gid_t);
	for (;;) {
		g = realloc(peer->groups, len ? len : sizeof(gid_t));
		if (g == NULL)
			return -ENOMEM;
		peer->groups = g;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) == 0)
			break;
		if (errno != ERANGE)
			return -errno;
	}
	peer->n_groups = len / sizeof(gid_t);
	return 0;
}

void
peer_free(struct peer *peer)
{
	free(peer->groups);
	peer->groups = NULL;
	peer->n_groups = 0;
}

/* The caller as the policy judges it. */
struct policy_peer
peer_policy(const struct peer *peer)
{
	struct policy_peer pp = {
		.uid = peer->uid,
		.gid = peer->gid,
		.groups = peer->groups,
		.n_groups = peer->n_groups,
	};

	return pp;
}

static int
name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= NAME_MAX_LEN;
}

/* Why a device name is refused, with its length. */
static const char *
name_why(struct session *s, const char *name)
{
	snprintf(s->why, sizeof(s->why), "device name of %zu bytes: 1 to %d "
	    "are allowed", strlen(name), NAME_MAX_LEN);
	return s->why;
}

void
reply_send(struct session *s, Reply *r, int fd)
{
	size_t n = mmapd__v1__reply__get_packed_size(r);

	/* Every reply is bounded by construction; a bug must not overflow. */
	if (n > sizeof(s->out)) {
		log_err("reply of %zu bytes does not fit a packet", n);
		if (fd >= 0)
			close(fd);
		s->closing = 1;
		s->out_len = 0;
		return;
	}
	s->out_len = mmapd__v1__reply__pack(r, s->out);
	s->out_fd = fd;
}

void
reply_error(struct session *s, uint64_t id, int err, const char *msg)
{
	Reply r = MMAPD__V1__REPLY__INIT;

	r.request_id = id;
	r.error = -err;
	r.message = (char *)(msg ? msg : strerror(-err));
	reply_send(s, &r, -1);
}

static const char *
errno_name(int err)
{
	const char *n = strerrorname_np(-err);

	return n ? n : "EUNKNOWN";
}

/*
 * "uid=1000 user=alice gid=1000 pid=42 client=mmapctl": who a line is
 * about.  user="" when the uid has no name, client="" before a Hello.
 */
static const char *
audit_who(const struct session *s, char *buf, size_t len)
{
	char qu[WHO_USER], qc[WHO_CLIENT];

	snprintf(buf, len, "uid=%u user=%s gid=%u pid=%d client=%s",
	    (unsigned)s->peer.uid, log_quote(s->user, qu, sizeof(qu)),
	    (unsigned)s->peer.gid, (int)s->peer.pid,
	    log_quote(s->name, qc, sizeof(qc)));
	return buf;
}

/*
 * raw: the error before the driver's error_filter replaced it (0 when
 * none did).  The client gets the filtered one; the log keeps both.
 */
static void
audit_deny(struct session *s, const Mmapd__V1__Map *m, int err, int raw,
    const char *why)
{
	char qd[QUOTE_LEN], qr[QUOTE_LEN], qw[REACH_LEN + 64], who[WHO_LEN];
	char qk[48] = "";

	if (raw != 0 && raw != err)
		snprintf(qk, sizeof(qk), " raw_errno=%s", errno_name(raw));
	log_notice("audit: event=deny %s device=%s "
	    "region=%s offset=%llu size=%llu shared=%d write=%d "
	    "result=denied errno=%s%s msg=%s", audit_who(s, who, sizeof(who)),
	    log_quote(m->device, qd, sizeof(qd)),
	    log_quote(m->region, qr, sizeof(qr)),
	    (unsigned long long)m->offset, (unsigned long long)m->size,
	    m->shared ? 1 : 0, m->write ? 1 : 0, errno_name(err), qk,
	    log_quote(why, qw, sizeof(qw)));
}

/*
 * The grant's audit fields, kept with its reply: the line is written
 * once its fd has gone out (session_sent()), not before.  NULL when out
 * of memory.
 */
static struct grant_note *
grant_note(struct session *s, uint64_t id, const struct lease *l,
    const char *kind, enum map_cache cache, int raw, const char *wide)
{
	char qd[QUOTE_LEN], qr[QUOTE_LEN], fields[768], who[WHO_LEN];
	size_t wlen = wide != NULL ? strlen(wide) + 1 : 0;
	struct grant_note *n;
	int len;

	len = snprintf(fields, sizeof(fields), "lease=%llu %s "
	    "device=%s region=%s offset=%llu size=%llu prot=%s "
	    "shared=%d kind=%s cache=%s",
	    (unsigned long long)l->id, audit_who(s, who, sizeof(who)),
	    log_quote(l->device, qd, sizeof(qd)),
	    log_quote(l->shm ? l->shm->name : "", qr, sizeof(qr)),
	    (unsigned long long)l->offset, (unsigned long long)l->size,
	    l->prot & PROT_WRITE ? "rw" : "r", l->shared, kind,
	    map_cache_name(cache));
	if (len < 0)
		return NULL;
	if ((size_t)len >= sizeof(fields))
		len = sizeof(fields) - 1;
	n = malloc(sizeof(*n) + (size_t)len + 1 + wlen);
	if (n == NULL)
		return NULL;
	n->request_id = id;
	n->lease = l->id;
	n->raw = raw;
	memcpy(n->fields, fields, (size_t)len);
	n->fields[len] = '\0';
	n->wide = NULL;
	if (wide != NULL)
		n->wide = memcpy(n->fields + len + 1, wide, wlen);
	return n;
}

/*
 * A lease ends: reason=request (Release), disconnect (the client closed
 * its connection or died), protocol (mmapd closed it on a bad packet),
 * shutdown (mmapd stops).  Logged before it is dropped.
 */
static void
audit_release(struct session *s, const struct lease *l, const char *reason)
{
	char qd[QUOTE_LEN], qr[QUOTE_LEN], who[WHO_LEN];

	log_info("audit: event=release lease=%llu %s device=%s region=%s "
	    "offset=%llu size=%llu reason=%s", (unsigned long long)l->id,
	    audit_who(s, who, sizeof(who)),
	    log_quote(l->device, qd, sizeof(qd)),
	    log_quote(l->shm ? l->shm->name : "", qr, sizeof(qr)),
	    (unsigned long long)l->offset, (unsigned long long)l->size,
	    reason);
}

static void
session_hello(struct session *s, uint64_t id, const Mmapd__V1__Hello *h)
{
	Reply r = MMAPD__V1__REPLY__INIT;
	Mmapd__V1__HelloReply hr = MMAPD__V1__HELLO_REPLY__INIT;
	char *features[6];
	size_t n = 0;
	char msg[128];

	if (h->protocol_major != PROTOCOL_MAJOR) {
		snprintf(msg, sizeof(msg), "protocol %u.%u is not spoken here; "
		    "this daemon speaks %u.%u", h->protocol_major,
		    h->protocol_minor, PROTOCOL_MAJOR, PROTOCOL_MINOR);
		reply_error(s, id, -EPROTONOSUPPORT, msg);
		return;
	}
	snprintf(s->name, sizeof(s->name), "%s", h->client_name);
	hr.server_version = (char *)PACKAGE_VERSION;
	hr.protocol_major = PROTOCOL_MAJOR;
	hr.protocol_minor = PROTOCOL_MINOR;
	features[n++] = (char *)"zero";
	features[n++] = (char *)"shared-names";
	features[n++] = (char *)"shm-open";
	features[n++] = (char *)"registers";
	if (s->d->have_mem)
		features[n++] = (char *)"mem";
	if (s->d->n_pcis > 0)
		features[n++] = (char *)"pci";
	hr.features = features;
	hr.n_features = n;
	r.request_id = id;
	r.body_case = MMAPD__V1__REPLY__BODY_HELLO;
	r.hello = &hr;
	reply_send(s, &r, -1);
}

/*
 * The file an entry needed and start-up did not open, for the refusal:
 * /dev/mem as [mem] names it, or the BAR's resourceN file.
 */
static const char *
unopened_why(struct session *s, const struct policy_entry *e)
{
	const struct policy_entry *mem = policy_find(s->d->policy, "mem");
	const char *sysfs = e->sysfs ? e->sysfs : "/sys/bus/pci/devices";

	if (!e->is_pci)
		snprintf(s->why, sizeof(s->why), "%s was not opened at "
		    "start-up: the daemon's log says why",
		    mem != NULL && mem->path != NULL ? mem->path : "/dev/mem");
	else if (e->pci_address != NULL)
		snprintf(s->why, sizeof(s->why), "%s/%s/resource%u was not "
		    "opened at start-up: the daemon's log says why", sysfs,
		    e->pci_address, e->bar);
	else
		snprintf(s->why, sizeof(s->why), "BAR %u of PCI device "
		    "%04x:%04x (index %u) under %s was not opened at "
		    "start-up: the daemon's log says why", e->bar,
		    e->pci_vendor, e->pci_device, e->pci_index, sysfs);
	return s->why;
}

/*
 * Which opened device serves an entry, where its range starts, and for a
 * pci region the BAR (else *bar is NULL).
 */
static int
entry_device(struct session *s, const struct policy_entry *e,
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
static const char *
size_text(uint64_t v, char *buf, size_t len)
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
static const char *
size_why(struct session *s, const struct policy_entry *e, uint64_t size,
    int err, const char *why)
{
	char t_ask[32], t_max[32];

	if (err != -EFBIG)
		return why;
	snprintf(s->why, sizeof(s->why), "size %llu (%s) over the entry's "
	    "max_size %llu (%s)", (unsigned long long)size,
	    size_text(size, t_ask, sizeof(t_ask)),
	    (unsigned long long)e->max_size,
	    size_text(e->max_size, t_max, sizeof(t_max)));
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
	    size_text(want > UINT64_MAX - held ? UINT64_MAX : held + want,
	    t_sum, sizeof(t_sum)), size_text(held, t_held, sizeof(t_held)),
	    size_text(want, t_want, sizeof(t_want)),
	    size_text(lim->zero_bytes_per_uid, t_lim, sizeof(t_lim)));
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
static void
range_explain(const struct policy_entry *e, int err, uint64_t offset,
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
static int
region_locate(const struct policy_entry *e, const struct pci_device *bar,
    uint64_t base, uint64_t offset, uint64_t size, int pages, uint64_t *at,
    char *msg, size_t len, const char **why)
{
	uint64_t limit = reach_limit(e, bar, pages);

	if (reach_locate(base, limit, offset, size, at) == 0)
		return 0;
	*why = range_why(e, limit, offset, size, msg, len);
	return -EINVAL;
}

static void
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
	if (!name_ok(m->device)) {
		err = -EINVAL;
		why = name_why(s, m->device);
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
		range_explain(e, err, m->offset, m->size, msg, sizeof(msg),
		    &why);
		why = size_why(s, e, m->size, err, why);
		goto deny;
	}
	if (req.cache == MAP_CACHE_DEFAULT)
		req.cache = e->cache;
	if (m->region[0] != '\0' &&
	    (e->kind != POLICY_ZERO || !m->shared || !name_ok(m->region))) {
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
	err = entry_device(s, e, &req.dev, &base, &bar, &why);
	if (err)
		goto deny;
	/* zero and mem have no base: their drivers judge the range. */
	req.offset = m->offset;
	if (e->kind == POLICY_REGION) {
		if (map_size_round(m->size, &want) < 0)
			want = m->size;
		err = region_locate(e, bar, base, m->offset, want, 1,
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
	note = grant_note(s, id, l, map_kind_name(res.kind), res.cache, raw,
	    wide ? reach_granted(e, bar, msg, sizeof(msg)) : NULL);
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

/* What a Read or Write asked, for its audit line. */
struct reg_op {
	const char *device;
	uint64_t offset;
	unsigned int width;
	int write;
	uint64_t value;
};

static void
audit_reg(struct session *s, const struct reg_op *op, int err,
    const char *why)
{
	char qd[QUOTE_LEN], qw[224], who[WHO_LEN];

	if (err == 0) {
		log_info("audit: event=%s %s device=%s "
		    "offset=%#llx width=%u value=%#llx result=ok errno=0",
		    op->write ? "write" : "read",
		    audit_who(s, who, sizeof(who)),
		    log_quote(op->device, qd, sizeof(qd)),
		    (unsigned long long)op->offset, op->width,
		    (unsigned long long)op->value);
		return;
	}
	log_notice("audit: event=deny op=%s %s device=%s "
	    "offset=%#llx width=%u result=denied errno=%s msg=%s",
	    op->write ? "write" : "read", audit_who(s, who, sizeof(who)),
	    log_quote(op->device, qd, sizeof(qd)),
	    (unsigned long long)op->offset, op->width, errno_name(err),
	    log_quote(why, qw, sizeof(qw)));
}

/*
 * One register access through a mapping of its page, made by the engine
 * with every check a Map gets, and gone again before the reply.
 */
static int
reg_do(struct session *s, const struct policy_entry *e,
    const struct map_device *dev, uint64_t addr, struct reg_op *op,
    const char **why)
{
	struct mmapd *d = s->d;
	struct map_request req = { .dev = dev };
	struct map_result res = { .fd = -1 };
	uint64_t ps = map_page_size();
	void *p;
	int err;

	req.offset = addr & ~(ps - 1);
	req.size = ps;
	req.flags = MAP_DESC_SHARED | (op->write ? MAP_DESC_WRITE : 0);
	req.cache = e->cache;
	req.peer.uid = s->peer.uid;
	req.peer.gid = s->peer.gid;
	req.peer.pid = s->peer.pid;
	err = engine_map(&d->engine, &req, &res);
	if (err) {
		/* The reason may live in res, which is about to go. */
		snprintf(s->why, sizeof(s->why), "%s",
		    res.msg ? res.msg : strerror(-err));
		*why = s->why;
		return err;
	}
	p = mmap(NULL, (size_t)res.size, res.prot, res.mmap_flags, res.fd,
	    (off_t)res.offset);
	if (p == MAP_FAILED) {
		err = -errno;
		*why = "the kernel refused to map the register's page";
		goto out;
	}
	err = regs_access((volatile uint8_t *)p + (addr - req.offset),
	    op->width, op->write, &op->value);
	if (err == -EIO)
		*why = "the access faulted (SIGBUS): the device's memory was "
		    "revoked, likely claimed by a kernel driver";
	else if (err)
		*why = "bad width or alignment";
	if (munmap(p, (size_t)res.size) < 0 && err == 0) {
		err = -errno;
		*why = "cannot unmap the register's page";
	}
out:
	engine_result_close(&res);
	return err;
}

static void
session_reg(struct session *s, uint64_t id, struct reg_op *op)
{
	struct mmapd *d = s->d;
	const struct policy_entry *e;
	const struct policy_peer pp = peer_policy(&s->peer);
	Mmapd__V1__ReadReply rr = MMAPD__V1__READ_REPLY__INIT;
	Mmapd__V1__Ack ack = MMAPD__V1__ACK__INIT;
	Reply r = MMAPD__V1__REPLY__INIT;
	unsigned int bytes = op->width / 8;
	const char *why = NULL;
	const struct map_device *dev;
	const struct pci_device *bar;
	uint64_t base, addr;
	char msg[REACH_LEN];
	int err;

	if (!name_ok(op->device)) {
		err = -EINVAL;
		why = name_why(s, op->device);
		goto deny;
	}
	if (op->width != 8 && op->width != 16 && op->width != 32 &&
	    op->width != 64) {
		err = -EINVAL;
		snprintf(s->why, sizeof(s->why), "width %u: it must be 8, 16, "
		    "32 or 64 bits", op->width);
		why = s->why;
		goto deny;
	}
	if (op->offset % bytes != 0) {
		err = -EINVAL;
		snprintf(s->why, sizeof(s->why), "offset %#llx is not a "
		    "multiple of %u bytes (the width): registers are accessed "
		    "naturally aligned", (unsigned long long)op->offset, bytes);
		why = s->why;
		goto deny;
	}
	if (op->write && op->width < 64 && (op->value >> op->width) != 0) {
		err = -EINVAL;
		snprintf(s->why, sizeof(s->why), "value %#llx does not fit "
		    "%u bits", (unsigned long long)op->value, op->width);
		why = s->why;
		goto deny;
	}
	e = policy_find(d->policy, op->device);
	if (e == NULL) {
		err = -ENODEV;
		why = "no such device or region (mmapctl offers lists what "
		    "this user may map)";
		goto deny;
	}
	if (e->kind == POLICY_ZERO) {
		err = -EINVAL;
		why = "zero has no registers: Read and Write are for device "
		    "memory";
		goto deny;
	}
	err = policy_check(e, &pp, op->offset, bytes,
	    op->write ? MAP_DESC_WRITE : 0, MAP_CACHE_DEFAULT, &why);
	if (err) {
		range_explain(e, err, op->offset, bytes, msg, sizeof(msg),
		    &why);
		why = size_why(s, e, bytes, err, why);
		goto deny;
	}
	err = entry_device(s, e, &dev, &base, &bar, &why);
	if (err)
		goto deny;
	/*
	 * Within the region, or for a pci region without a size the rest of
	 * its BAR to the byte (a 256-byte BAR has no register at 0x100).
	 */
	err = region_locate(e, bar, base, op->offset, bytes, 0, &addr, msg,
	    sizeof(msg), &why);
	if (err)
		goto deny;
	err = reg_do(s, e, dev, addr, op, &why);
	if (err)
		goto deny;

	audit_reg(s, op, 0, NULL);
	r.request_id = id;
	if (op->write) {
		r.body_case = MMAPD__V1__REPLY__BODY_WRITE;
		r.write = &ack;
	} else {
		rr.value = op->value;
		r.body_case = MMAPD__V1__REPLY__BODY_READ;
		r.read = &rr;
	}
	reply_send(s, &r, -1);
	return;

deny:
	audit_reg(s, op, err, why ? why : strerror(-err));
	reply_error(s, id, err, why);
}

static void
session_release(struct session *s, uint64_t id, const Mmapd__V1__Release *rel)
{
	Reply r = MMAPD__V1__REPLY__INIT;
	Mmapd__V1__Ack ack = MMAPD__V1__ACK__INIT;
	struct lease *l = lease_find(s->d, rel->lease_id);

	if (l == NULL || l->owner != s) {
		reply_error(s, id, -ENOENT, "no such lease on this connection");
		return;
	}
	audit_release(s, l, "request");
	lease_drop(s->d, l);
	r.request_id = id;
	r.body_case = MMAPD__V1__REPLY__BODY_RELEASE;
	r.release = &ack;
	reply_send(s, &r, -1);
}

static const char *
request_name(Mmapd__V1__Request__BodyCase body)
{
	switch (body) {
	case MMAPD__V1__REQUEST__BODY_HELLO:
		return "hello";
	case MMAPD__V1__REQUEST__BODY_MAP:
		return "map";
	case MMAPD__V1__REQUEST__BODY_RELEASE:
		return "release";
	case MMAPD__V1__REQUEST__BODY_LIST:
		return "list";
	case MMAPD__V1__REQUEST__BODY_STATUS:
		return "status";
	case MMAPD__V1__REQUEST__BODY_READ:
		return "read";
	case MMAPD__V1__REQUEST__BODY_WRITE:
		return "write";
	default:
		return "unknown";
	}
}

/* A refusal of [limits] that names no device: a connection, a request. */
static void
audit_limit(struct session *s, const char *op, int err, const char *why)
{
	char qw[256], who[WHO_LEN];

	log_notice("audit: event=deny op=%s %s result=denied errno=%s msg=%s",
	    op, audit_who(s, who, sizeof(who)), errno_name(err),
	    log_quote(why, qw, sizeof(qw)));
}

static void
user_lookup(struct session *s)
{
	struct nss_user u;

	if (nss_user_by_uid(s->peer.uid, &u) == 0)
		snprintf(s->user, sizeof(s->user), "%s", u.name);
}

int
session_admit(struct session *s)
{
	int err;

	/* [limits] connections, connections_per_uid, the reserve: conns.c */
	err = conns_admit(s);
	/*
	 * The uid's name, for the audit lines and List: from another
	 * connection of the uid (conns.c links them), else looked up, as
	 * the policy's names are (nss.c), so that a client opening many
	 * connections does not cost a lookup each.  No name is no error.
	 */
	if (err == 0 && s->uid_next != NULL)
		memcpy(s->user, s->uid_next->user, sizeof(s->user));
	else
		user_lookup(s);
	if (err == 0)
		return 0;
	audit_limit(s, "connect", err, s->why);
	reply_error(s, 0, err, s->why);
	return err;
}

/*
 * Too many replies unsent: the request is not carried out, and the
 * connection is read no more until they are all out, so what it holds
 * stays bounded.
 */
static void
session_busy(struct session *s, const Mmapd__V1__Request *req,
    unsigned int unsent)
{
	snprintf(s->why, sizeof(s->why), "%u request%s in flight on this "
	    "connection (limit %u): read the replies", unsent,
	    unsent == 1 ? "" : "s", s->d->policy->limits.requests_in_flight);
	audit_limit(s, request_name(req->body_case), -EAGAIN, s->why);
	reply_error(s, req->request_id, -EAGAIN, s->why);
	s->stalled = 1;
}

int
session_input(struct session *s, const uint8_t *buf, ssize_t len,
    size_t nfds, unsigned int unsent)
{
	Mmapd__V1__Request *req;

	if (len == 0)
		return -1;		/* end of stream */
	conns_touch(s);
	if (len < 0) {
		if (len != -EMSGSIZE && len != -EBADMSG)
			return -1;	/* the socket itself failed */
		reply_error(s, 0, (int)len, len == -EMSGSIZE ?
		    "packet over 4096 bytes" : "unexpected ancillary data");
		s->closing = 1;
		return 0;
	}
	req = mmapd__v1__request__unpack(NULL, (size_t)len, buf);
	if (req == NULL) {
		reply_error(s, 0, -EBADMSG, "request does not decode");
		s->closing = 1;
		return 0;
	}
	if (unsent >= s->d->policy->limits.requests_in_flight) {
		session_busy(s, req, unsent);
		mmapd__v1__request__free_unpacked(req, NULL);
		return 0;
	}
	if (nfds > 0) {
		/* The reaper closes them (inbox.c); the request is refused. */
		reply_error(s, req->request_id, -EINVAL,
		    "file descriptors are not accepted from clients");
		mmapd__v1__request__free_unpacked(req, NULL);
		return 0;
	}
	switch (req->body_case) {
	case MMAPD__V1__REQUEST__BODY_HELLO:
		session_hello(s, req->request_id, req->hello);
		break;
	case MMAPD__V1__REQUEST__BODY_MAP:
		session_map(s, req->request_id, req->map);
		break;
	case MMAPD__V1__REQUEST__BODY_RELEASE:
		session_release(s, req->request_id, req->release);
		break;
	case MMAPD__V1__REQUEST__BODY_LIST:
		session_list(s, req->request_id, req->list);
		break;
	case MMAPD__V1__REQUEST__BODY_STATUS:
		session_status(s, req->request_id);
		break;
	case MMAPD__V1__REQUEST__BODY_READ: {
		struct reg_op op = {
			.device = req->read->device,
			.offset = req->read->offset,
			.width = req->read->width,
		};

		session_reg(s, req->request_id, &op);
		break;
	}
	case MMAPD__V1__REQUEST__BODY_WRITE: {
		struct reg_op op = {
			.device = req->write->device,
			.offset = req->write->offset,
			.width = req->write->width,
			.write = 1,
			.value = req->write->value,
		};

		session_reg(s, req->request_id, &op);
		break;
	}
	default:
		/* No body, or one this version does not know. */
		reply_error(s, req->request_id, -EINVAL,
		    "missing or unknown request type");
		break;
	}
	mmapd__v1__request__free_unpacked(req, NULL);
	return 0;
}

/* The connection is gone: its leases end with it. */
void
session_end(struct session *s)
{
	const struct lease *l;

	/*
	 * A lease whose fd has not gone out ends unlogged here: its grant
	 * line says result=failed (session_sent()).
	 */
	for (l = s->d->leases; l != NULL; l = l->next)
		if (l->owner == s && l->granted)
			audit_release(s, l, s->end_reason ? s->end_reason :
			    s->closing ? "protocol" : "disconnect");
	lease_drop_owner(s->d, s);
	conns_leave(s);
	if (s->out_fd >= 0)
		close(s->out_fd);
	s->out_fd = -1;
	s->out_len = 0;
	free(s->out_note);
	s->out_note = NULL;
}

int
session_sent(struct session *s, struct grant_note *n, int err, uint8_t *buf,
    size_t *len)
{
	Reply r = MMAPD__V1__REPLY__INIT;
	struct lease *l;
	char msg[160], qm[200], who[WHO_LEN];

	conns_grant_done(s, err == 0);
	if (err == 0) {
		log_info("audit: event=grant %s result=ok errno=0", n->fields);
		/* Released meanwhile (pipelined): its release line is out. */
		l = lease_find(s->d, n->lease);
		if (l != NULL)
			l->granted = 1;
		if (n->raw)
			log_warn("audit: event=raw-fd lease=%llu %s: "
			    "a raw /dev/mem fd went out; its holder can map any "
			    "non-RAM physical memory (root-equivalent)",
			    (unsigned long long)n->lease,
			    audit_who(s, who, sizeof(who)));
		if (n->wide != NULL)
			log_warn("audit: event=whole-bar lease=%llu %s: %s",
			    (unsigned long long)n->lease,
			    audit_who(s, who, sizeof(who)), n->wide);
		free(n);
		return 0;
	}
	if (buf == NULL)
		snprintf(msg, sizeof(msg), "the connection ended before the "
		    "grant went out");
	else
		snprintf(msg, sizeof(msg), "mmapd could not send the grant's "
		    "fd: %s", strerror(-err));
	log_notice("audit: event=grant %s result=failed errno=%s msg=%s",
	    n->fields, errno_name(err), log_quote(msg, qm, sizeof(qm)));
	/* A lease released meanwhile (pipelined) is gone already. */
	l = lease_find(s->d, n->lease);
	if (l != NULL && l->owner == s)
		lease_drop(s->d, l);
	if (buf != NULL) {
		r.request_id = n->request_id;
		r.error = -err;
		r.message = msg;
		*len = mmapd__v1__reply__pack(&r, buf);
	}
	free(n);
	return buf != NULL;
}

void
session_idle(struct session *s)
{
	unsigned int idle = s->d->policy->limits.idle_seconds;
	char who[WHO_LEN];

	log_notice("audit: event=close %s reason=idle "
	    "msg=\"no request for %u s and no lease held (idle_seconds = "
	    "%u)\"", audit_who(s, who, sizeof(who)), idle, idle);
	snprintf(s->why, sizeof(s->why), "closed: no request for %u s and "
	    "no lease held (limit idle_seconds = %u)", idle, idle);
	reply_error(s, 0, -ETIMEDOUT, s->why);
}
