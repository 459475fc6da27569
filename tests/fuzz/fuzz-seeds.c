/*
 * The seed corpora of the fuzz harnesses, written into OUTDIR/NAME/ for
 * each harness NAME: valid messages of every kind, so that fuzzing
 * starts from what the daemon and the library really exchange, and so
 * that make check replays each of them through its harness.
 *
 *	fuzz-seeds OUTDIR SRCDIR
 *
 * request: every Request body (Hello, Map of zero private, shared and
 *	named, of mem and of regions, Read, Write, Release, List, Status),
 *	refusals among them, and a few packets that are no request;
 * reply: for each call of fuzz-reply.c, the reply it wants, with the fds
 *	it wants, and refusals;
 * iomem: the recorded tables of tests/unit/data with ranges the checks
 *	allow, refuse as RAM, and refuse as busy;
 * policy: daemon/mmapd.conf.example and tests/unit/data/policy-*.conf.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "mmapd.pb-c.h"

typedef Mmapd__V1__Request Request;
typedef Mmapd__V1__Reply Reply;

static const char *outdir, *srcdir;
static unsigned int written;

static void die(const char *what) __attribute__((noreturn));

static void
die(const char *what)
{
	fprintf(stderr, "fuzz-seeds: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
mkdir_p(const char *path)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		die(path);
}

static void
put(const char *harness, const char *name, const void *buf, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, harness);
	mkdir_p(path);
	snprintf(path, sizeof(path), "%s/%s/%s", outdir, harness, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(buf, 1, len, f) != len || fclose(f) != 0)
		die(path);
	written++;
}

static char *
slurp(const char *rel, size_t *lenp)
{
	char path[4096], *buf;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s", srcdir, rel);
	f = fopen(path, "rb");
	if (f == NULL || fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) < 0)
		die(path);
	buf = malloc((size_t)n + 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n)
		die(path);
	fclose(f);
	*lenp = (size_t)n;
	return buf;
}

/* ------------------------------------------------------------------ */

static void
request_put(const char *name, Request *r)
{
	uint8_t buf[4096];
	size_t len = mmapd__v1__request__get_packed_size(r);

	if (len > sizeof(buf)) {
		fprintf(stderr, "fuzz-seeds: %s: %zu bytes\n", name, len);
		exit(1);
	}
	mmapd__v1__request__pack(r, buf);
	put("request", name, buf, len);
}

static void
seed_map(const char *name, const char *device, uint64_t offset,
    uint64_t size, int shared, int write, int cache, const char *region)
{
	Request r = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Map m = MMAPD__V1__MAP__INIT;

	m.device = (char *)device;
	m.offset = offset;
	m.size = size;
	m.shared = shared;
	m.write = write;
	m.cache = (Mmapd__V1__CacheMode)cache;
	m.region = (char *)(region ? region : "");
	r.request_id = 3;
	r.body_case = MMAPD__V1__REQUEST__BODY_MAP;
	r.map = &m;
	request_put(name, &r);
}

static void
seed_reg(const char *name, const char *device, uint64_t offset,
    unsigned int width, int write, uint64_t value)
{
	Request r = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Read rd = MMAPD__V1__READ__INIT;
	Mmapd__V1__Write wr = MMAPD__V1__WRITE__INIT;

	r.request_id = 4;
	if (write) {
		wr.device = (char *)device;
		wr.offset = offset;
		wr.width = width;
		wr.value = value;
		r.body_case = MMAPD__V1__REQUEST__BODY_WRITE;
		r.write = &wr;
	} else {
		rd.device = (char *)device;
		rd.offset = offset;
		rd.width = width;
		r.body_case = MMAPD__V1__REQUEST__BODY_READ;
		r.read = &rd;
	}
	request_put(name, &r);
}

/* Revoke: a lease, a uid, a region, or (ways != 1) a wrong one. */
static void
seed_revoke(const char *name, uint64_t lease, int by_uid, uint32_t uid,
    const char *region, const char *reason)
{
	Request r = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Revoke rv = MMAPD__V1__REVOKE__INIT;

	rv.lease_id = lease;
	rv.by_uid = by_uid;
	rv.uid = uid;
	rv.region = (char *)region;
	rv.reason = (char *)reason;
	r.request_id = 6;
	r.body_case = MMAPD__V1__REQUEST__BODY_REVOKE;
	r.revoke = &rv;
	request_put(name, &r);
}

static void
seed_modify(const char *name, const char *device, uint64_t offset,
    unsigned int width, uint64_t clear, uint64_t set)
{
	Request r = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Modify md = MMAPD__V1__MODIFY__INIT;

	r.request_id = 4;
	md.device = (char *)device;
	md.offset = offset;
	md.width = width;
	md.clear = clear;
	md.set = set;
	r.body_case = MMAPD__V1__REQUEST__BODY_MODIFY;
	r.modify = &md;
	request_put(name, &r);
}

/* MapBatch: granted, refused in part, over the max, empty. */
static void
seeds_batch(void)
{
	Request r = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__MapBatch mb = MMAPD__V1__MAP_BATCH__INIT;
	Mmapd__V1__Map m[33], *pm[33];
	size_t i;

	for (i = 0; i < 33; i++) {
		mmapd__v1__map__init(&m[i]);
		m[i].device = (char *)"zero";
		m[i].size = 4096;
		m[i].shared = i & 1;
		m[i].write = 1;
		m[i].region = (char *)"";
		pm[i] = &m[i];
	}
	m[1].region = (char *)"fuzz";
	m[2].size = 1ull << 40;		/* over max_size */
	m[3].device = (char *)"edu";	/* another device, for root */
	r.request_id = 9;
	r.body_case = MMAPD__V1__REQUEST__BODY_MAP_BATCH;
	r.map_batch = &mb;
	mb.maps = pm;
	mb.n_maps = 4;
	request_put("batch-mixed", &r);
	mb.n_maps = 2;
	request_put("batch-two", &r);
	mb.n_maps = 33;
	request_put("batch-over", &r);
	mb.n_maps = 0;
	request_put("batch-empty", &r);
}

static void
seeds_request(void)
{
	Request r = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Hello h = MMAPD__V1__HELLO__INIT;
	Mmapd__V1__Release rel = MMAPD__V1__RELEASE__INIT;
	uint64_t more[33] = { 2, 77 };
	Mmapd__V1__List l = MMAPD__V1__LIST__INIT;
	Mmapd__V1__Status st = MMAPD__V1__STATUS__INIT;
	static const uint8_t junk[] = { 0x08, 0x01, 0x1a, 0x7f, 0x0a };

	h.protocol_major = 1;
	h.client_name = (char *)"fuzz-seeds";
	r.request_id = 1;
	r.body_case = MMAPD__V1__REQUEST__BODY_HELLO;
	r.hello = &h;
	request_put("hello", &r);
	h.protocol_major = 2;
	request_put("hello-v2", &r);

	seed_map("map-zero-private", "zero", 0, 8192, 0, 1, 0, NULL);
	seed_map("map-zero-shared-ro", "zero", 0, 4096, 1, 0, 0, NULL);
	seed_map("map-zero-cached", "zero", 0, 4096, 1, 1, 1, NULL);
	seed_map("map-zero-too-big", "zero", 0, 2 << 20, 1, 1, 0, NULL);
	seed_map("map-named-attach", "zero", 0, 65536, 1, 0, 0, "fuzz");
	seed_map("map-named-other-size", "zero", 0, 4096, 1, 1, 0, "fuzz");
	seed_map("map-named-new", "zero", 0, 4096, 1, 1, 0, "other");
	seed_map("map-named-private", "zero", 0, 4096, 0, 1, 0, "fuzz");
	seed_map("map-mem-raw", "mem", 0xfe900000, 4096, 1, 1, 0, NULL);
	seed_map("map-mem-ram", "mem", 0x200000, 4096, 1, 0, 0, NULL);
	seed_map("map-mem-apic", "mem", 0xfee00000, 4096, 1, 0, 2, NULL);
	seed_map("map-mem-wc", "mem", 0xfe900000, 4096, 1, 0, 3, NULL);
	seed_map("map-edu", "edu", 0x1000, 4096, 1, 1, 0, NULL);
	seed_map("map-edu-outside", "edu", 0xff000, 8192, 1, 0, 0, NULL);
	seed_map("map-ahci-busy", "ahci", 0, 4096, 1, 0, 0, NULL);
	seed_map("map-no-device", "nosuch", 0, 4096, 0, 0, 0, NULL);
	seed_map("map-ivshmem-no-raw", "ivshmem", 0, 4096, 1, 1, 0, NULL);
	seed_map("map-theirs", "theirs", 0, 4096, 1, 0, 0, NULL);

	seed_reg("read-edu", "edu", 0x0, 32, 0, 0);
	seed_reg("read-edu-64", "edu", 0x8, 64, 0, 0);
	seed_reg("read-mem-unaligned", "mem", 0xfe900002, 32, 0, 0);
	seed_reg("read-mem-beyond", "mem", 0x3fffff000, 32, 0, 0);
	seed_reg("read-zero", "zero", 0, 32, 0, 0);
	seed_reg("write-edu", "edu", 0x4, 32, 1, 0x12345678);
	seed_reg("write-edu-8", "edu", 0x7, 8, 1, 0xff);
	seed_reg("write-too-wide", "edu", 0x4, 16, 1, 0x10000);
	seed_reg("write-ahci-ro", "ahci", 0x0, 32, 1, 1);
	seed_reg("write-ivshmem", "ivshmem", 0x10, 64, 1, 1);
	seed_reg("read-theirs", "theirs", 0x0, 32, 0, 0);
	seed_modify("modify-edu", "edu", 0x4, 32, 0xff, 0x1);
	seed_modify("modify-edu-64", "edu", 0x8, 64, UINT64_MAX, 0x80);
	seed_modify("modify-too-wide", "edu", 0x4, 8, 0x100, 0);
	seed_modify("modify-edu-ro", "ahci", 0x0, 32, 0, 1);

	seed_revoke("revoke-lease", 1, 0, 0, "", "fuzz");
	seed_revoke("revoke-uid", 0, 1, 0, "", "");
	seed_revoke("revoke-region", 0, 0, 0, "fuzz", "why");
	seed_revoke("revoke-none", 0, 0, 0, "", "");
	seed_revoke("revoke-two", 2, 1, 0, "zero", "");

	r.request_id = 5;
	r.body_case = MMAPD__V1__REQUEST__BODY_RELEASE;
	r.release = &rel;
	rel.lease_id = 1;
	request_put("release-1", &r);
	rel.lease_id = 2;
	request_put("release-2", &r);
	rel.lease_id = 99;
	request_put("release-none", &r);
	/* Quiet, and many at once (feature "quiet-release"). */
	rel.quiet = 1;
	rel.lease_id = 1;
	request_put("release-quiet", &r);
	rel.lease_id = 99;
	request_put("release-quiet-none", &r);
	rel.more_lease_ids = more;
	rel.n_more_lease_ids = 2;
	request_put("release-quiet-more", &r);
	rel.quiet = 0;
	request_put("release-more", &r);
	rel.n_more_lease_ids = 33;
	request_put("release-more-over", &r);
	rel.more_lease_ids = NULL;
	rel.n_more_lease_ids = 0;
	seeds_batch();

	r.request_id = 6;
	r.body_case = MMAPD__V1__REQUEST__BODY_LIST;
	r.list = &l;
	request_put("list", &r);
	l.after_id = 1;
	request_put("list-after-1", &r);

	r.request_id = 7;
	r.body_case = MMAPD__V1__REQUEST__BODY_STATUS;
	r.status = &st;
	request_put("status", &r);

	r.request_id = 8;
	r.body_case = MMAPD__V1__REQUEST__BODY__NOT_SET;
	request_put("no-body", &r);
	put("request", "not-protobuf", junk, sizeof(junk));
}

/* ------------------------------------------------------------------ */

/* The fd byte of fuzz-reply.c: n fds, the first a memfd of pages. */
#define FDS(n, memfd, sealed, pages) \
	((n) | ((memfd) ? 4 : 0) | ((sealed) ? 8 : 0) | ((pages) << 4))

/* One call's byte and one reply, with its fds. */
static void
reply_put(const char *name, uint8_t op, Reply *r, uint8_t fds)
{
	uint8_t buf[4 + 4096];
	size_t len = mmapd__v1__reply__get_packed_size(r);

	if (len > 4096) {
		fprintf(stderr, "fuzz-seeds: %s: %zu bytes\n", name, len);
		exit(1);
	}
	buf[0] = op;
	buf[1] = fds;
	buf[2] = (uint8_t)(len & 0xff);
	buf[3] = (uint8_t)(len >> 8);
	mmapd__v1__reply__pack(r, buf + 4);
	put("reply", name, buf, 4 + len);
}

/* One call's byte and n replies (n <= 4), each with its fds. */
static void
replies_put(const char *name, uint8_t op, Reply **rs, const uint8_t *fds,
    int n)
{
	uint8_t buf[1 + 4 * (3 + 512)];
	size_t at = 1, len;
	int i;

	buf[0] = op;
	for (i = 0; i < n; i++) {
		len = mmapd__v1__reply__get_packed_size(rs[i]);
		if (len > 512) {
			fprintf(stderr, "fuzz-seeds: %s: %zu bytes\n", name,
			    len);
			exit(1);
		}
		buf[at] = fds[i];
		buf[at + 1] = (uint8_t)len;
		buf[at + 2] = 0;
		mmapd__v1__reply__pack(rs[i], buf + at + 3);
		at += 3 + len;
	}
	put("reply", name, buf, at);
}

/*
 * Requests in flight (call 7: two Maps and a Read) and events (call 8:
 * Hello again, a Map, dispatch), answered well and not.
 */
/* GrantBatch replies to op 10 (batch) and Grants to op 11 (fallback). */
static void
seeds_reply_batch(void)
{
	Reply r[3] = { MMAPD__V1__REPLY__INIT, MMAPD__V1__REPLY__INIT,
	    MMAPD__V1__REPLY__INIT };
	Reply *rs[3] = { &r[0], &r[1], &r[2] };
	Mmapd__V1__Grant g = MMAPD__V1__GRANT__INIT;
	Mmapd__V1__GrantBatch gb = MMAPD__V1__GRANT_BATCH__INIT;
	Mmapd__V1__BatchItem it[3], *pit[3];
	const uint8_t fds[3] = { FDS(1, 1, 1, 1), FDS(1, 1, 1, 1),
	    FDS(1, 1, 1, 1) };
	int i;

	g.lease_id = 7;
	g.size = 4096;
	g.mmap_flags = MAP_SHARED;
	g.prot = PROT_READ;
	g.fd_kind = MMAPD__V1__FD_KIND__FD_KIND_SHMEM;
	g.cache = MMAPD__V1__CACHE_MODE__CACHE_CACHED;
	for (i = 0; i < 3; i++) {
		mmapd__v1__batch_item__init(&it[i]);
		pit[i] = &it[i];
	}
	it[0].grant = &g;
	it[1].error = EFBIG;
	it[1].message = (char *)"size over max_size";
	it[2].error = EAGAIN;
	it[2].message = (char *)"8 grants in flight (limit 8)";
	gb.items = pit;
	gb.n_items = 3;
	r[0].request_id = 1;
	r[0].body_case = MMAPD__V1__REPLY__BODY_GRANTS;
	r[0].grants = &gb;
	reply_put("batch-partial", 10, &r[0], FDS(1, 1, 1, 1));
	/* Then the quiet Release (request 2) refused, read by Status. */
	r[1].request_id = 2;
	r[1].error = ENOENT;
	r[1].message = (char *)"no such lease on this connection: 7";
	replies_put("batch-quiet-refused", 10, rs, fds, 2);
	reply_put("batch-fd-short", 10, &r[0], FDS(0, 0, 0, 0));
	reply_put("batch-fd-extra", 10, &r[0], FDS(2, 1, 1, 1));
	it[1].error = 0;
	it[1].grant = &g;
	reply_put("batch-second-not-memfd", 10, &r[0], FDS(2, 1, 1, 1));
	gb.n_items = 2;
	reply_put("batch-items-short", 10, &r[0], FDS(2, 1, 1, 1));
	it[1].error = -5;
	gb.n_items = 3;
	reply_put("batch-error-negative", 10, &r[0], FDS(1, 1, 1, 1));

	/* Without the features: three Grants to three pipelined Maps. */
	for (i = 0; i < 3; i++) {
		mmapd__v1__reply__init(&r[i]);
		r[i].request_id = (uint64_t)i + 1;
		r[i].body_case = MMAPD__V1__REPLY__BODY_GRANT;
		r[i].grant = &g;
	}
	replies_put("batch-fallback", 11, rs, fds, 3);
}

static void
seeds_reply_async(void)
{
	Reply r[4] = { MMAPD__V1__REPLY__INIT, MMAPD__V1__REPLY__INIT,
	    MMAPD__V1__REPLY__INIT, MMAPD__V1__REPLY__INIT };
	Reply *rs[4] = { &r[0], &r[1], &r[2], &r[3] };
	Mmapd__V1__Grant g = MMAPD__V1__GRANT__INIT;
	Mmapd__V1__ReadReply rr = MMAPD__V1__READ_REPLY__INIT;
	Mmapd__V1__HelloReply hr = MMAPD__V1__HELLO_REPLY__INIT;
	Mmapd__V1__Event ev = MMAPD__V1__EVENT__INIT;
	Mmapd__V1__Revoking rv = MMAPD__V1__REVOKING__INIT;
	/* A sealed one-page memfd, as a read-only shared Grant wants. */
	const uint8_t fds[4] = { FDS(1, 1, 1, 1), FDS(1, 1, 1, 1), 0, 0 };
	const uint8_t hfds[4] = { 0, FDS(1, 1, 1, 1), 0, 0 };

	g.lease_id = 7;
	g.size = 4096;
	g.mmap_flags = MAP_SHARED;
	g.prot = PROT_READ;
	g.fd_kind = MMAPD__V1__FD_KIND__FD_KIND_SHMEM;
	g.cache = MMAPD__V1__CACHE_MODE__CACHE_CACHED;
	r[0].request_id = 1;
	r[0].body_case = MMAPD__V1__REPLY__BODY_GRANT;
	r[0].grant = &g;
	r[1] = r[0];
	r[1].request_id = 2;
	r[2].request_id = 3;
	r[2].body_case = MMAPD__V1__REPLY__BODY_READ;
	r[2].read = &rr;
	rr.value = 0xbeef;
	replies_put("async-pipelined", 7, rs, fds, 3);
	r[1].request_id = 5;
	replies_put("async-stray-id", 7, rs, fds, 3);

	hr.server_version = (char *)"fuzz";
	hr.protocol_major = 1;
	r[0].body_case = MMAPD__V1__REPLY__BODY_HELLO;
	r[0].hello = &hr;
	r[1].request_id = 2;
	rv.lease_id = 7;
	rv.reason = (char *)"revoked\tby root";
	rv.deadline_unix_sec = 1900000000;
	rv.seconds = 5;
	ev.kind_case = MMAPD__V1__EVENT__KIND_REVOKING;
	ev.revoking = &rv;
	mmapd__v1__reply__init(&r[2]);
	r[2].body_case = MMAPD__V1__REPLY__BODY_EVENT;
	r[2].event = &ev;
	replies_put("event-revoking", 8, rs, hfds, 3);
	rv.lease_id = 0;
	replies_put("event-lease-0", 8, rs, hfds, 3);
	rv.lease_id = 7;
	replies_put("event-unasked", 7, rs + 1, hfds + 1, 2);
}

static void
seeds_reply(void)
{
	Reply r = MMAPD__V1__REPLY__INIT;
	Mmapd__V1__Grant g = MMAPD__V1__GRANT__INIT;
	Mmapd__V1__Ack ack = MMAPD__V1__ACK__INIT;
	Mmapd__V1__StatusReply sr = MMAPD__V1__STATUS_REPLY__INIT;
	Mmapd__V1__Offer o[2] = { MMAPD__V1__OFFER__INIT,
	    MMAPD__V1__OFFER__INIT }, *op[2] = { &o[0], &o[1] };
	Mmapd__V1__ListReply lr = MMAPD__V1__LIST_REPLY__INIT;
	Mmapd__V1__Lease le = MMAPD__V1__LEASE__INIT, *lp[1] = { &le };
	Mmapd__V1__ReadReply rr = MMAPD__V1__READ_REPLY__INIT;
	Mmapd__V1__ModifyReply mr = MMAPD__V1__MODIFY_REPLY__INIT;
	Mmapd__V1__Counters k = MMAPD__V1__COUNTERS__INIT;
	Mmapd__V1__ErrnoCount ec[2] = { MMAPD__V1__ERRNO_COUNT__INIT,
	    MMAPD__V1__ERRNO_COUNT__INIT }, *ecp[2] = { &ec[0], &ec[1] };
	uint8_t two[4 + 2 * 256], *p;
	size_t n1, n2;

	r.request_id = 1;
	r.body_case = MMAPD__V1__REPLY__BODY_GRANT;
	r.grant = &g;
	g.lease_id = 1;
	g.size = 4096;
	g.mmap_flags = MAP_PRIVATE;
	g.prot = PROT_READ | PROT_WRITE;
	g.fd_kind = MMAPD__V1__FD_KIND__FD_KIND_ANON;
	g.cache = MMAPD__V1__CACHE_MODE__CACHE_CACHED;
	reply_put("map-anon", 0, &r, FDS(1, 0, 0, 0));
	g.mmap_flags = MAP_SHARED;
	g.fd_kind = MMAPD__V1__FD_KIND__FD_KIND_SHMEM;
	g.size = 8192;
	reply_put("map-shmem", 1, &r, FDS(1, 1, 0, 2));
	g.prot = PROT_READ;
	reply_put("map-shmem-sealed-ro", 1, &r, FDS(1, 1, 1, 2));
	reply_put("map-extra-fds", 0, &r, FDS(3, 1, 0, 2));
	reply_put("map-no-fd", 0, &r, FDS(0, 0, 0, 0));
	g.size = 1 << 20;
	reply_put("map-beyond-memfd", 0, &r, FDS(1, 1, 0, 1));
	g.size = 4096;
	g.fd_kind = MMAPD__V1__FD_KIND__FD_KIND_DEVICE;
	g.cache = MMAPD__V1__CACHE_MODE__CACHE_UNCACHED;
	g.mmap_offset = 0x1000;
	reply_put("map-device", 0, &r, FDS(1, 1, 0, 2));
	g.lease_id = 0;
	reply_put("map-lease-0", 0, &r, FDS(1, 1, 0, 2));

	/* Map then Release: the Grant, then the Ack of request 2. */
	g.lease_id = 7;
	g.mmap_offset = 0;
	g.fd_kind = MMAPD__V1__FD_KIND__FD_KIND_SHMEM;
	g.cache = MMAPD__V1__CACHE_MODE__CACHE_CACHED;
	n1 = mmapd__v1__reply__get_packed_size(&r);
	two[0] = 2;
	two[1] = FDS(1, 1, 0, 1);
	two[2] = (uint8_t)n1;
	two[3] = 0;
	mmapd__v1__reply__pack(&r, two + 4);
	p = two + 4 + n1;
	mmapd__v1__reply__init(&r);
	r.request_id = 2;
	r.body_case = MMAPD__V1__REPLY__BODY_RELEASE;
	r.release = &ack;
	n2 = mmapd__v1__reply__get_packed_size(&r);
	p[0] = 0;
	p[1] = (uint8_t)n2;
	p[2] = 0;
	mmapd__v1__reply__pack(&r, p + 3);
	put("reply", "map-release", two, 4 + n1 + 3 + n2);

	mmapd__v1__reply__init(&r);
	r.request_id = 1;
	r.error = EPERM;
	r.message = (char *)"user not allowed";
	reply_put("map-refused", 0, &r, 0);
	reply_put("map-refused-with-fd", 0, &r, FDS(1, 0, 0, 0));
	r.error = 5000;
	reply_put("map-bad-errno", 0, &r, 0);
	r.request_id = 0;
	r.error = EMFILE;
	r.message = (char *)"mmapd serves 128 connections\n(limit 128)";
	reply_put("refused-connection", 3, &r, 0);
	r.request_id = 9;
	r.error = 0;
	reply_put("wrong-id", 3, &r, 0);

	mmapd__v1__reply__init(&r);
	r.request_id = 1;
	r.body_case = MMAPD__V1__REPLY__BODY_STATUS;
	r.status = &sr;
	sr.version = (char *)"0.1.0";
	sr.uptime_sec = 42;
	o[0].name = (char *)"zero";
	o[1].name = (char *)"edu";
	o[1].kind = MMAPD__V1__OFFER_KIND__OFFER_REGION;
	sr.offers = op;
	sr.n_offers = 2;
	sr.clients = 1;
	sr.leases = 2;
	reply_put("status", 3, &r, 0);
	reply_put("status-with-fd", 3, &r, FDS(1, 0, 0, 0));
	k.grants = 7;
	k.releases = 6;
	k.zero_bytes_held = 4096;
	k.peak_clients = 3;
	ec[0].error = 1;
	ec[0].count = 2;
	ec[1].error = 27;
	ec[1].count = 1;
	k.denials = ecp;
	k.n_denials = 2;
	sr.counters = &k;
	reply_put("status-counters", 3, &r, 0);
	ec[1].error = 5000;
	reply_put("status-counters-bad-errno", 3, &r, 0);
	sr.counters = NULL;

	mmapd__v1__reply__init(&r);
	r.request_id = 1;
	r.body_case = MMAPD__V1__REPLY__BODY_LIST;
	r.list = &lr;
	le.id = 1;
	le.uid = 1000;
	le.pid = 4242;
	le.device = (char *)"zero";
	le.size = 4096;
	le.prot = PROT_READ | PROT_WRITE;
	lr.leases = lp;
	lr.n_leases = 1;
	reply_put("list", 4, &r, 0);
	lr.more = 1;
	reply_put("list-more", 4, &r, 0);

	mmapd__v1__reply__init(&r);
	r.request_id = 1;
	r.body_case = MMAPD__V1__REPLY__BODY_READ;
	r.read = &rr;
	rr.value = 0x010000ed;
	reply_put("read", 5, &r, 0);
	rr.value = 0x100000000ull;
	reply_put("read-too-wide", 5, &r, 0);

	mmapd__v1__reply__init(&r);
	r.request_id = 1;
	r.body_case = MMAPD__V1__REPLY__BODY_WRITE;
	r.write = &ack;
	reply_put("write", 6, &r, 0);
	r.body_case = MMAPD__V1__REPLY__BODY_RELEASE;
	r.release = &ack;
	reply_put("write-wrong-body", 6, &r, 0);
	seeds_reply_async();
	seeds_reply_batch();

	mmapd__v1__reply__init(&r);
	r.request_id = 1;
	r.body_case = MMAPD__V1__REPLY__BODY_MODIFY;
	r.modify = &mr;
	mr.old_value = 0x1234;
	mr.new_value = 0x1201;
	reply_put("modify", 9, &r, 0);
	mr.new_value = 0x1234;
	reply_put("modify-not-following", 9, &r, 0);
	mr.old_value = 0x10000;
	mr.new_value = 0x10001;
	reply_put("modify-too-wide", 9, &r, 0);
}

/* ------------------------------------------------------------------ */

static void
iomem_put(const char *name, const char *table, uint64_t start,
    uint64_t size, int through_fd)
{
	char *text, *buf;
	size_t len;
	int i;

	text = slurp(table, &len);
	buf = malloc(17 + len);
	if (buf == NULL)
		die("malloc");
	for (i = 0; i < 8; i++) {
		buf[i] = (char)(start >> (8 * i));
		buf[8 + i] = (char)(size >> (8 * i));
	}
	buf[16] = (char)through_fd;
	memcpy(buf + 17, text, len);
	put("iomem", name, buf, 17 + len);
	free(buf);
	free(text);
}

static void
seeds_iomem(void)
{
	static const char q35[] = "tests/unit/data/iomem-q35.txt";
	static const char host[] = "tests/unit/data/iomem-host.txt";

	iomem_put("q35-edu", q35, 0xfe900000, 4096, 1);
	iomem_put("q35-ram", q35, 0x200000, 4096, 0);
	iomem_put("q35-ahci", q35, 0xfea01000, 4096, 1);
	iomem_put("q35-apic", q35, 0xfee00000, 4096, 0);
	iomem_put("q35-low", q35, 0x1000, 4096, 0);
	iomem_put("q35-wrap", q35, UINT64_MAX - 4095, 8192, 0);
	iomem_put("host-ram", host, 0x100000, 4096, 1);
	iomem_put("host-high", host, 0x100000000ull, 1 << 20, 0);
}

static void
seeds_policy(void)
{
	static const char *const files[] = {
		"daemon/mmapd.conf.example",
		"tests/unit/data/policy-empty.conf",
		"tests/unit/data/policy-errors.conf",
		"tests/unit/data/policy-full.conf",
	};
	char *text, name[64];
	size_t i, len;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		text = slurp(files[i], &len);
		snprintf(name, sizeof(name), "%s", strrchr(files[i], '/') + 1);
		put("policy", name, text, len);
		free(text);
	}
}

int
main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: fuzz-seeds OUTDIR SRCDIR\n");
		return 2;
	}
	outdir = argv[1];
	srcdir = argv[2];
	mkdir_p(outdir);
	seeds_request();
	seeds_reply();
	seeds_iomem();
	seeds_policy();
	printf("fuzz-seeds: %u seeds in %s\n", written, outdir);
	return 0;
}
