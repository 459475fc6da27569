/*
 * mmapd --check-config FILE --explain REQUEST (explain.h): one request
 * judged by the daemon's own checks (decide.c) against a daemon state
 * built here from the policy alone.  What only a running daemon knows is
 * assumed and said: the devices open, the kernel strict about /dev/mem,
 * a BAR as large as its region, no lease held, no grant in flight, no
 * shared memory made yet (unless the request says "exists").  zero is
 * judged to the end, through the engine on the real /dev/zero; device
 * memory up to its driver, whose /proc/iomem and kernel checks need the
 * device itself.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "decide.h"
#include "explain.h"
#include "session-int.h"

#define MAX_WORDS	32
#define MAX_GROUPS	256

struct asker {
	uid_t uid;
	gid_t gid;
	gid_t groups[MAX_GROUPS];
	size_t n_groups;
	char name[64];		/* "" when the uid has no name */
};

/* What the request says beyond the wire's fields. */
struct extra {
	int exists;		/* the named shared memory exists already */
	int has_bar;
	uint64_t bar;		/* the BAR's size, for pci regions */
};

static int usage_err(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int
usage_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mmapd: --explain: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	return EXPLAIN_USAGE;
}

/* 4096, 0x1000, 64K, 1M, 2G, 1T (binary units), every sum checked. */
static int
num_parse(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0)
		return -EINVAL;
	switch (*end) {
	case 'K': case 'k': shift = 10; end++; break;
	case 'M': case 'm': shift = 20; end++; break;
	case 'G': case 'g': shift = 30; end++; break;
	case 'T': case 't': shift = 40; end++; break;
	}
	if (shift != 0 && (strcmp(end, "iB") == 0 || strcmp(end, "B") == 0))
		end += strlen(end);
	if (*end != '\0' || (shift != 0 && v > (UINT64_MAX >> shift)))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

static int
id_parse(const char *s, unsigned int *out)
{
	uint64_t v;

	if (num_parse(s, &v) < 0 || v >= (uint64_t)(uid_t)-1)
		return -EINVAL;
	*out = (unsigned int)v;
	return 0;
}

/* "uid:gid[,gid...]": the first gid is the primary, the rest besides. */
static int
asker_explicit(struct asker *a, char *s)
{
	char *gids = strchr(s, ':'), *g, *save = NULL;
	unsigned int v;

	*gids++ = '\0';
	if (id_parse(s, &v) < 0)
		return -EINVAL;
	a->uid = v;
	for (g = strtok_r(gids, ",", &save); g != NULL;
	    g = strtok_r(NULL, ",", &save)) {
		if (id_parse(g, &v) < 0)
			return -EINVAL;
		if (g == gids) {
			a->gid = v;
			continue;
		}
		if (a->n_groups == MAX_GROUPS)
			return -E2BIG;
		a->groups[a->n_groups++] = v;
	}
	return gids[0] == '\0' ? -EINVAL : 0;
}

/* A name or a uid, with its primary group and its groups from NSS. */
static int
asker_find(struct asker *a, char *s)
{
	struct passwd *pw;
	unsigned int uid;
	int n = MAX_GROUPS;

	memset(a, 0, sizeof(*a));
	if (strchr(s, ':') != NULL)
		return asker_explicit(a, s);
	if (id_parse(s, &uid) == 0)
		pw = getpwuid(uid);
	else
		pw = getpwnam(s);
	if (pw == NULL)
		return -ENOENT;
	a->uid = pw->pw_uid;
	a->gid = pw->pw_gid;
	snprintf(a->name, sizeof(a->name), "%s", pw->pw_name);
	if (getgrouplist(a->name, a->gid, a->groups, &n) < 0)
		return -E2BIG;
	a->n_groups = (size_t)n;
	return 0;
}

static void
asker_print(const struct asker *a)
{
	size_t i;

	printf("asker: uid %u", (unsigned)a->uid);
	if (a->name[0] != '\0')
		printf(" (%s)", a->name);
	printf(" gid %u groups ", (unsigned)a->gid);
	for (i = 0; i < a->n_groups; i++)
		printf("%s%u", i ? "," : "", (unsigned)a->groups[i]);
	printf("%s\n", a->n_groups ? "" : "none");
}

static int
cache_parse(const char *s, int *out)
{
	static const char *const names[] = {
		"default", "cached", "uncached", "wc",
	};
	unsigned int i;

	if (strcmp(s, "write-combine") == 0)
		s = "wc";
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	return -EINVAL;
}

/* "map DEVICE [offset N] [size N] [r|rw] [shared|private] ...". */
static int
map_parse(char **w, int n, Mmapd__V1__Map *m, struct extra *x)
{
	static char region[NAME_MAX_LEN * 4];
	int i, cache;

	m->device = w[0];
	m->size = map_page_size();
	m->write = 1;
	for (i = 1; i < n; i++) {
		const char *k = w[i], *v = i + 1 < n ? w[i + 1] : NULL;

		if (strcmp(k, "rw") == 0)
			m->write = 1;
		else if (strcmp(k, "r") == 0 || strcmp(k, "ro") == 0)
			m->write = 0;
		else if (strcmp(k, "shared") == 0)
			m->shared = 1;
		else if (strcmp(k, "private") == 0)
			m->shared = 0;
		else if (strcmp(k, "create") == 0)
			m->open = MMAPD__V1__REGION_OPEN__OPEN_CREATE;
		else if (strcmp(k, "attach") == 0)
			m->open = MMAPD__V1__REGION_OPEN__OPEN_ATTACH;
		else if (strcmp(k, "exists") == 0)
			x->exists = 1;
		else if (v == NULL)
			return usage_err("%s wants a value", k);
		else if (strcmp(k, "offset") == 0 &&
		    num_parse(v, &m->offset) == 0)
			i++;
		else if (strcmp(k, "size") == 0 && num_parse(v, &m->size) == 0)
			i++;
		else if (strcmp(k, "bar") == 0 && num_parse(v, &x->bar) == 0) {
			x->has_bar = 1;
			i++;
		} else if (strcmp(k, "cache") == 0 &&
		    cache_parse(v, &cache) == 0) {
			m->cache = (Mmapd__V1__CacheMode)cache;
			i++;
		} else if (strcmp(k, "region") == 0 || strcmp(k, "name") == 0) {
			snprintf(region, sizeof(region), "%s", v);
			m->region = region;
			i++;
		} else
			return usage_err("cannot read \"%s\" (mmapd(8), "
			    "--explain)", k);
	}
	return 0;
}

/*
 * "read DEVICE OFFSET [WIDTH]", "write DEVICE OFFSET VALUE [WIDTH]",
 * "modify DEVICE OFFSET [set N] [clear N] [WIDTH]".
 */
static int
reg_parse(char **w, int n, struct reg_op *op, struct extra *x)
{
	int want = op->write && !op->modify ? 3 : 2;
	uint64_t v;

	op->device = w[0];
	op->width = 32;
	if (n < want || num_parse(w[1], &op->offset) < 0 ||
	    (want == 3 && num_parse(w[2], &op->value) < 0))
		return usage_err("%s DEVICE OFFSET%s [WIDTH] [bar N]",
		    op->modify ? "modify" : op->write ? "write" : "read",
		    op->modify ? " [set N] [clear N]" : op->write ? " VALUE" :
		    "");
	for (; want < n; want++) {
		if (strcmp(w[want], "bar") == 0 && want + 1 < n &&
		    num_parse(w[want + 1], &x->bar) == 0) {
			x->has_bar = 1;
			want++;
		} else if (op->modify && strcmp(w[want], "set") == 0 &&
		    want + 1 < n && num_parse(w[want + 1], &op->set) == 0) {
			want++;
		} else if (op->modify && strcmp(w[want], "clear") == 0 &&
		    want + 1 < n && num_parse(w[want + 1], &op->clear) == 0) {
			want++;
		} else if (num_parse(w[want], &v) == 0 && v <= 64)
			op->width = (unsigned int)v;
		else
			return usage_err("cannot read \"%s\"", w[want]);
	}
	return 0;
}

static void
who_print(const char *users, const char *groups, const struct policy_who *w)
{
	size_t i;

	if (w->everyone) {
		printf("%s = *", users);
		return;
	}
	printf("%s = ", users);
	for (i = 0; i < w->n_uids; i++)
		printf("%s%u", i ? "," : "", (unsigned)w->uids[i]);
	printf("%s; %s = ", w->n_uids ? "" : "(none)", groups);
	for (i = 0; i < w->n_gids; i++)
		printf("%s%u", i ? "," : "", (unsigned)w->gids[i]);
	printf("%s", w->n_gids ? "" : "(none)");
}

static const char *
line_of(const char *path, unsigned int line, char *buf, size_t len)
{
	if (line == 0)
		snprintf(buf, len, "the built-in policy");
	else
		snprintf(buf, len, "%s line %u", path, line);
	return buf;
}

static void
entry_print(const char *path, const struct policy_entry *e)
{
	char t[32], where[300];

	printf("entry: [%s%s] (%s): ", e->kind == POLICY_REGION ? "region " :
	    "", e->name, line_of(path, e->line, where, sizeof(where)));
	who_print("users", "groups", &e->who);
	printf("; max_size = %llu (%s); protection = %s; shared = %s; "
	    "cache = %s", (unsigned long long)e->max_size,
	    session_size_text(e->max_size, t, sizeof(t)), e->write ? "rw" : "r",
	    e->shared ? "yes" : "no", map_cache_name(e->cache));
	if (e->kind == POLICY_REGION)
		printf("; device = %s; base = %#llx; size = %#llx%s%s",
		    e->device, (unsigned long long)e->base,
		    (unsigned long long)e->size, e->regs_only ? "; map = no" :
		    "", e->whole_bar ? "; whole_bar = yes" : "");
	if (e->kind != POLICY_ZERO && !e->is_pci) {
		printf("; ");
		who_print("raw_fd_users", "raw_fd_groups", &e->raw_who);
	}
	printf("\n");
}

/* The key of e that policy_check() refused on, in its order. */
static void
rule_policy(const struct policy_entry *e, const struct ask *a, int err)
{
	printf("rule: ");
	if (!policy_allows(e, &a->pp))
		printf("users/groups of [%s]: neither uid %u nor its groups "
		    "are named\n", e->name, (unsigned)a->pp.uid);
	else if (err == -EFBIG)
		printf("max_size = %llu of [%s]\n",
		    (unsigned long long)e->max_size, e->name);
	else if (err == -EPERM)
		printf("shared = no of [%s]\n", e->name);
	else if (err == -EACCES)
		printf("protection = r of [%s]\n", e->name);
	else if (e->kind == POLICY_REGION && strstr(a->why, "outside"))
		printf("base = %#llx, size = %#llx of [region %s]\n",
		    (unsigned long long)e->base, (unsigned long long)e->size,
		    e->name);
	else
		printf("cache = %s of [%s]\n", map_cache_name(e->cache),
		    e->name);
}

static void
rule_print(const struct policy *pol, enum decide_stage st,
    const struct policy_entry *e, const struct ask *a, int err, int raw)
{
	const struct policy_limits *lim = &pol->limits;
	char t[32];

	switch (st) {
	case DECIDE_OK:
		break;
	case DECIDE_REQUEST:
		printf("rule: the request itself, before any policy key\n");
		break;
	case DECIDE_ENTRY:
		printf("rule: no [zero], [mem] or [region NAME] of that "
		    "name\n");
		break;
	case DECIDE_POLICY:
		rule_policy(e, a, err);
		break;
	case DECIDE_DEVICE:
		printf("rule: the device did not open at start-up\n");
		break;
	case DECIDE_RANGE:
		printf("rule: the size of [region %s], or of its BAR\n",
		    e->name);
		break;
	case DECIDE_REACH:
		if (e->regs_only)
			printf("rule: map = no of [%s]\n", e->name);
		else if (raw)
			printf("rule: raw_fd_users/raw_fd_groups of [%s]\n",
			    e->name);
		else
			printf("rule: whole_bar = no of [region %s]\n",
			    e->name);
		break;
	case DECIDE_QUOTA:
		printf("rule: [limits] leases_per_uid = %u, "
		    "zero_bytes_per_uid = %llu (%s)\n", lim->leases_per_uid,
		    (unsigned long long)lim->zero_bytes_per_uid,
		    session_size_text(lim->zero_bytes_per_uid, t, sizeof(t)));
		break;
	}
}

static int
verdict(int err, const char *why)
{
	const char *n = strerrorname_np(-err);

	if (err == 0) {
		printf("decision: allowed\n");
		return EXPLAIN_ALLOWED;
	}
	printf("decision: refused %s (errno %d: %s)\n", n ? n : "EUNKNOWN",
	    -err, strerror(-err));
	printf("message: %s\n", why ? why : strerror(-err));
	return EXPLAIN_REFUSED;
}

static void
shm_print(const char *path, const struct policy_shm *s)
{
	char t[32], where[300];

	printf("shm: [shm %s] (%s): size = %s; ", s->name,
	    line_of(path, s->line, where, sizeof(where)),
	    session_size_text(s->size, t, sizeof(t)));
	who_print("writers", "writer_groups", &s->writers);
	printf("; ");
	who_print("readers", "reader_groups", &s->readers);
	if (s->has_creators) {
		printf("; ");
		who_print("creators", "creator_groups", &s->creators);
	}
	printf("\n");
}

/*
 * The daemon as it would stand after a start-up where everything
 * opened: /dev/mem (the kernel strict about it), and every pci region's
 * BAR, of the size the request says or as large as its region.
 */
static struct pci_region *
state_build(struct mmapd *d, struct policy *pol, const struct extra *x,
    uint64_t end)
{
	struct pci_region *v;
	const struct policy_entry *e;
	uint64_t ps = map_page_size(), len;
	size_t i, n = 0;

	d->policy = pol;
	d->have_mem = 1;
	d->mem_raw_ok = 1;
	v = calloc(pol->n_entries + 1, sizeof(*v));
	if (v == NULL)
		return NULL;
	for (i = 0; i < pol->n_entries; i++) {
		e = &pol->entries[i];
		if (e->kind != POLICY_REGION || !e->is_pci)
			continue;
		if (x->has_bar)
			len = x->bar;
		else if (e->size != 0)
			len = e->base + e->size;
		else
			len = e->base + end;
		snprintf(v[n].name, sizeof(v[n].name), "%s", e->name);
		v[n].pci.bar = e->bar;
		if (e->pci_address != NULL)
			snprintf(v[n].pci.address, sizeof(v[n].pci.address),
			    "%s", e->pci_address);
		else
			snprintf(v[n].pci.address, sizeof(v[n].pci.address),
			    "%04x:%04x#%u", e->pci_vendor, e->pci_device,
			    e->pci_index);
		v[n].pci.len = len;
		v[n].pci.span = len > UINT64_MAX - ps + 1 ? len :
		    (len + ps - 1) & ~(ps - 1);
		printf("assumed: BAR %u of %s is %#llx bytes%s\n", e->bar,
		    v[n].pci.address, (unsigned long long)len, x->has_bar ?
		    " (bar N)" : ": say \"bar N\" for its real size");
		n++;
	}
	d->pcis = v;
	d->n_pcis = n;
	return v;
}

/* zero to the end: the engine on the real /dev/zero, as the daemon. */
static int
zero_judge(struct mmapd *d, struct map_request *req, const char **why,
    int *fatal)
{
	struct map_result res = { .fd = -1 };
	int err;

	*fatal = 0;
	err = engine_open(&d->engine, "/dev/zero");
	if (err == 0)
		err = zero_device_open(&d->zero, "/dev/zero", O_RDWR);
	if (err) {
		fprintf(stderr, "mmapd: --explain: /dev/zero: %s\n",
		    strerror(-err));
		*fatal = 1;
		return err;
	}
	req->dev = &d->zero;
	err = engine_map(&d->engine, req, &res);
	if (err) {
		/* The reason may live in res, which goes now. */
		static char msg[sizeof(res.msg_buf)];

		snprintf(msg, sizeof(msg), "%s", res.msg ? res.msg :
		    strerror(-err));
		*why = msg;
		return err;
	}
	printf("grant: %s, %llu bytes, %s, %s\n", map_kind_name(res.kind),
	    (unsigned long long)res.size, res.prot & PROT_WRITE ? "rw" : "r",
	    res.mmap_flags == MAP_SHARED ? "shared" : "private");
	engine_result_close(&res);
	return 0;
}

static int
map_explain(const char *path, struct mmapd *d, struct ask *a,
    const Mmapd__V1__Map *m, const struct extra *x)
{
	const struct policy_shm *decl = NULL;
	struct shm_name fake = { .fd = -1, .refs = 1 }, *n;
	struct map_plan p;
	const char *why = NULL;
	uint64_t size;
	int err, fatal;

	err = decide_map(a, m, &p, &why);
	if (p.e != NULL)
		entry_print(path, p.e);
	if (err) {
		rule_print(d->policy, p.stage, p.e, a, err, p.raw);
		return verdict(err, why);
	}
	if (m->region[0] != '\0') {
		decl = policy_shm_find(d->policy, m->region);
		if (decl != NULL)
			shm_print(path, decl);
		else
			printf("shm: %s is declared by no [shm] section: it "
			    "is uid %u's own\n", m->region,
			    (unsigned)a->pp.uid);
		if (x->exists && map_size_round(m->size, &size) == 0) {
			snprintf(fake.name, sizeof(fake.name), "%s",
			    m->region);
			fake.declared = decl != NULL;
			fake.uid = a->pp.uid;
			fake.size = decl != NULL ? decl->size : size;
			d->shms = &fake;
		}
		printf("assumed: shared memory %s %s\n", m->region, x->exists ?
		    "exists, of the size the Map asks or [shm] says, one lease "
		    "holding it" : "does not exist yet (say \"exists\" for a "
		    "name another user made)");
		err = decide_shm(a, m, &decl, &n, &why);
		d->shms = NULL;
		if (err) {
			printf("rule: %s\n", decl != NULL ? "writers, readers "
			    "and creators of the [shm] section, and its size" :
			    "an undeclared name belongs to the uid that made "
			    "it");
			return verdict(err, why);
		}
		if (n != NULL) {
			printf("grant: attach to %s, %s\n", m->region,
			    m->write ? "rw" : "r");
			return verdict(0, NULL);
		}
	}
	if (p.e->kind != POLICY_ZERO) {
		printf("not judged offline: the %s driver's checks "
		    "(/proc/iomem: System RAM and ranges a kernel driver "
		    "claims; the cache mode; the kernel's own, as EAGAIN)\n",
		    p.e->kind == POLICY_MEM || !p.e->is_pci ? "mem" : "pci");
		if (p.raw)
			printf("grant: the raw /dev/mem fd "
			    "(root-equivalent)\n");
		else if (p.wide)
			printf("grant: the whole BAR (whole_bar = yes)\n");
		return verdict(0, NULL);
	}
	err = zero_judge(d, &p.req, &why, &fatal);
	if (fatal)
		return EXPLAIN_USAGE;
	if (err)
		printf("rule: the engine's checks of the request (size, "
		    "offset)\n");
	return verdict(err, why);
}

static int
reg_explain(const char *path, struct mmapd *d, struct ask *a,
    const struct reg_op *op)
{
	struct reg_plan p;
	const char *why = NULL;
	char bits[128];
	int err;

	/* As session_reg(): a Modify is decided as a Write, then its bits. */
	err = decide_reg(a, op->device, op->offset, op->width, op->write,
	    op->modify ? 0 : op->value, &p, &why);
	if (p.e != NULL)
		entry_print(path, p.e);
	if (err) {
		rule_print(d->policy, p.stage, p.e, a, err, 0);
		return verdict(err, why);
	}
	if (op->modify && (err = decide_modify_bits(op->width, op->set,
	    op->clear, bits, sizeof(bits))) != 0) {
		printf("rule: a Modify's set and clear bits must fit its "
		    "width (%u bits)\n", op->width);
		return verdict(err, bits);
	}
	printf("not judged offline: the access itself (the driver's checks "
	    "of the register's page, and the device's answer)\n");
	printf("grant: one %u-bit %s at %#llx of the device\n", op->width,
	    op->modify ? "load and store (clear, then set)" : op->write ?
	    "store" : "load", (unsigned long long)p.addr);
	return verdict(0, NULL);
}

int
explain_run(const char *path, const struct policy *pol, const char *request)
{
	Mmapd__V1__Map m = MMAPD__V1__MAP__INIT;
	struct reg_op op = { 0 };
	struct extra x = { 0 };
	struct mmapd d = { 0 };
	struct asker who;
	struct ask a;
	char *copy, *w[MAX_WORDS], *save = NULL, *t;
	int n = 0, rc, is_map = 0, i;

	copy = strdup(request);
	if (copy == NULL)
		return usage_err("%s", strerror(ENOMEM));
	for (t = strtok_r(copy, " \t\n", &save); t != NULL;
	    t = strtok_r(NULL, " \t\n", &save)) {
		if (n == MAX_WORDS) {
			free(copy);
			return usage_err("more than %d words", MAX_WORDS);
		}
		w[n++] = t;
	}
	rc = EXPLAIN_USAGE;
	m.region = "";
	if (n < 3)
		usage_err("%s", "USER map|read|write|modify DEVICE ... "
		    "(mmapd(8))");
	else if (asker_find(&who, w[0]) < 0)
		usage_err("no user %s (a name, a uid, or uid:gid[,gid...])",
		    w[0]);
	else if (strcmp(w[1], "map") == 0) {
		is_map = 1;
		rc = map_parse(w + 2, n - 2, &m, &x);
	} else if (strcmp(w[1], "read") == 0)
		rc = reg_parse(w + 2, n - 2, &op, &x);
	else if (strcmp(w[1], "write") == 0) {
		op.write = 1;
		rc = reg_parse(w + 2, n - 2, &op, &x);
	} else if (strcmp(w[1], "modify") == 0) {
		op.write = op.modify = 1;
		rc = reg_parse(w + 2, n - 2, &op, &x);
	} else
		usage_err("%s: map, read, write or modify", w[1]);
	if (rc != 0) {
		free(copy);
		return rc;
	}

	asker_print(&who);
	if (is_map)
		printf("request: map %s offset %#llx size %llu %s %s cache %s"
		    "%s%s\n", m.device, (unsigned long long)m.offset,
		    (unsigned long long)m.size, m.write ? "rw" : "r",
		    m.shared ? "shared" : "private",
		    map_cache_name((enum map_cache)m.cache),
		    m.region[0] ? " region " : "", m.region);
	else if (op.modify)
		printf("request: modify %s offset %#llx width %u set %#llx "
		    "clear %#llx\n", op.device, (unsigned long long)op.offset,
		    op.width, (unsigned long long)op.set,
		    (unsigned long long)op.clear);
	else
		printf("request: %s %s offset %#llx width %u value %#llx\n",
		    op.write ? "write" : "read", op.device,
		    (unsigned long long)op.offset, op.width,
		    (unsigned long long)op.value);
	printf("assumed: every device opens at start-up; the kernel refuses "
	    "System RAM through /dev/mem; uid %u holds no lease and has no "
	    "grant in flight\n", (unsigned)who.uid);
	d.engine.zero_fd = -1;
	for (i = 0; i < MAP_CACHE_NR; i++)
		d.zero.fd[i] = d.zero.fd_ro[i] = -1;
	if (state_build(&d, (struct policy *)pol, &x,
	    is_map ? m.offset + m.size : op.offset + op.width / 8) == NULL) {
		free(copy);
		return usage_err("%s", strerror(ENOMEM));
	}
	ask_init(&a, &d, who.uid, who.gid, who.groups, who.n_groups);
	if (is_map)
		rc = map_explain(path, &d, &a, &m, &x);
	else
		rc = reg_explain(path, &d, &a, &op);
	map_device_close(&d.zero);
	engine_close(&d.engine);
	free(d.pcis);
	free(copy);
	return rc;
}
