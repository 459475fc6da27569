/*
 * The policy loader: the input is a whole mmapd.conf, read by
 * policy_load() from a file, as mmapd reads it at start-up and on
 * SIGHUP.  Seeded with daemon/mmapd.conf.example and the unit tests'
 * policy files.
 *
 * The contracts asserted, for any input:
 *   - 0 comes with a policy and no errors; -EINVAL with no policy and at
 *     least one error; nothing else is returned for a file that reads;
 *   - every error is one terminated line naming a line of the file;
 *   - a loaded policy is what the checks may trust: names 1-63 bytes
 *     that policy_find() finds again, limits within their maxima,
 *     regions of mem page-aligned and not wrapping;
 *   - policy_check() gives a reason exactly when it refuses, and a
 *     refusal is one of its documented errnos.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "policy.h"

/* Lines in the file, counting a last one without its newline. */
static unsigned int
lines_of(const uint8_t *data, size_t size)
{
	unsigned int n = 0;
	size_t i;

	for (i = 0; i < size; i++)
		if (data[i] == '\n')
			n++;
	return n + 1;
}

static void
entry_expect(const struct policy *pol, const struct policy_entry *e)
{
	static const gid_t groups[] = { 0, 1, 65534 };
	static const struct policy_peer peers[] = {
		{ .uid = 0, .gid = 0, .groups = groups, .n_groups = 1 },
		{ .uid = 65534, .gid = 65534, .groups = groups + 2,
		    .n_groups = 1 },
		{ .uid = 4242, .gid = 4343, .groups = groups, .n_groups = 3 },
	};
	const uint64_t ps = (uint64_t)sysconf(_SC_PAGESIZE);
	const char *why;
	size_t len, i;
	int rc;

	FUZZ_ASSERT(e->name != NULL, "an entry without a name");
	len = strlen(e->name);
	FUZZ_ASSERT(len > 0 && len <= 63, "name of %zu bytes", len);
	FUZZ_ASSERT(policy_find(pol, e->name) == e, "'%s' not found again",
	    e->name);
	FUZZ_ASSERT(e->kind == POLICY_ZERO || e->kind == POLICY_MEM ||
	    e->kind == POLICY_REGION, "kind %d", (int)e->kind);
	FUZZ_ASSERT((unsigned int)e->cache < MAP_CACHE_NR, "cache %d",
	    (int)e->cache);
	if (e->kind == POLICY_REGION && !e->is_pci) {
		FUZZ_ASSERT(e->size > 0 && e->base % ps == 0 &&
		    e->size % ps == 0 && e->size <= UINT64_MAX - e->base,
		    "region %s: base "
		    "%#llx size %#llx", e->name, (unsigned long long)e->base,
		    (unsigned long long)e->size);
	}

	for (i = 0; i < sizeof(peers) / sizeof(peers[0]); i++) {
		why = "poison";
		rc = policy_check(e, &peers[i], 0, ps, MAP_DESC_SHARED |
		    MAP_DESC_WRITE, MAP_CACHE_DEFAULT, &why);
		FUZZ_ASSERT(rc == 0 || rc == -EPERM || rc == -EACCES ||
		    rc == -EFBIG || rc == -EINVAL, "policy_check: %d", rc);
		FUZZ_ASSERT((rc == 0) == (why == NULL), "policy_check %d "
		    "with reason %s", rc, why ? why : "(none)");
		rc = policy_check(e, &peers[i], UINT64_MAX - ps, ps * 2, 0,
		    MAP_CACHE_UNCACHED, &why);
		FUZZ_ASSERT((rc == 0) == (why == NULL), "policy_check %d",
		    rc);
		if (e->kind == POLICY_REGION && e->size != 0)
			FUZZ_ASSERT(rc != 0, "a wrapping range inside region "
			    "%s", e->name);
		(void)policy_raw_allowed(e, &peers[i]);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_errors errs = { 0 };
	struct policy *pol = (struct policy *)&errs;	/* not NULL */
	unsigned int lines = lines_of(data, size);
	char path[64];
	size_t i;
	int fd, rc;

	fd = memfd_create("fuzz-policy", MFD_CLOEXEC);
	FUZZ_ASSERT(fd >= 0, "memfd_create failed");
	FUZZ_ASSERT(write(fd, data, size) == (ssize_t)size, "short write");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

	fuzz_quiet_begin();
	rc = policy_load(path, &pol, &errs);
	fuzz_quiet_end();
	close(fd);

	FUZZ_ASSERT(rc == 0 || rc == -EINVAL, "policy_load returned %d", rc);
	FUZZ_ASSERT((rc == 0) == (pol != NULL), "returned %d, policy %p", rc,
	    (void *)pol);
	FUZZ_ASSERT((rc == 0) == (errs.n == 0), "returned %d with %zu "
	    "errors", rc, errs.n);
	for (i = 0; i < errs.n; i++) {
		const char *m = errs.v[i].msg;
		size_t n = strnlen(m, sizeof(errs.v[i].msg));

		FUZZ_ASSERT(n > 0 && n < sizeof(errs.v[i].msg), "error %zu: "
		    "empty or not terminated", i);
		FUZZ_ASSERT(errs.v[i].line <= lines, "error on line %u of %u: "
		    "%s", errs.v[i].line, lines, m);
	}
	policy_errors_free(&errs);
	if (pol == NULL)
		return 0;

	FUZZ_ASSERT(pol->limits.connections >= 1 &&
	    pol->limits.connections <= POLICY_MAX_CONNECTIONS &&
	    pol->limits.leases_per_uid >= 1 &&
	    pol->limits.leases_per_uid <= POLICY_MAX_LEASES_PER_UID &&
	    pol->limits.requests_in_flight >= 1 &&
	    pol->limits.requests_in_flight <= POLICY_MAX_REQUESTS_IN_FLIGHT,
	    "limits %u %u %u", pol->limits.connections,
	    pol->limits.leases_per_uid, pol->limits.requests_in_flight);
	FUZZ_ASSERT((pol->socket_mode & ~07777u) == 0, "socket_mode %o",
	    (unsigned int)pol->socket_mode);
	for (i = 0; i < pol->n_entries; i++)
		entry_expect(pol, &pol->entries[i]);
	policy_free(pol);
	return 0;
}
