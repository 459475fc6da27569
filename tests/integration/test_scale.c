/*
 * What one client holds does not make another's requests dearer.  A
 * Map, a Release and the end of a grant each find their lease by id
 * (lease.c's index); a walk of the daemon's list of every lease would
 * cost each request time in proportion to what all clients hold, so
 * that a few clients holding many leases would slow everyone.
 *
 * The effect is measured where it lands: the worker's CPU time
 * (/proc/PID/task/T/schedstat, ns) for a victim's 2,000 map and release
 * cycles, first with nothing else held, then with 30,000 leases held by
 * another connection.  With the list walked, three walks of 30,000 a
 * cycle made the victim's cycles several times dearer; indexed, the same.
 * The end of a connection walks only its own leases: the same for 300
 * connections opened and closed.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "harness.h"
#include "mmapclient.h"

TestSuite(scale, .fini = h_cleanup, .timeout = 120);

#define HELD		30000
#define CYCLES		2000
#define BATCH		32

/* CPU time of every thread of pid so far, in ns. */
static uint64_t
cpu_ns(pid_t pid)
{
	char path[64], name[384];
	unsigned long long ns;
	struct dirent *e;
	uint64_t sum = 0;
	DIR *d;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	cr_assert_not_null(d, "%s: %s", path, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(name, sizeof(name), "%s/%s/schedstat", path,
		    e->d_name);
		f = fopen(name, "r");
		if (f == NULL)
			continue;	/* the thread ended meanwhile */
		if (fscanf(f, "%llu", &ns) == 1)
			sum += ns;
		fclose(f);
	}
	closedir(d);
	return sum;
}

/*
 * The worker's CPU for CYCLES map + touch + release cycles on c, others
 * leases being held elsewhere.
 */
static uint64_t
cycles_cpu(struct mmapclient *c, pid_t worker, uint32_t others)
{
	const struct mmapclient_request req = {
		.device = "zero", .size = 4096, .flags = MMAPCLIENT_WRITE,
	};
	struct mmapclient_region *r;
	uint64_t t0;
	int i, err;

	t0 = cpu_ns(worker);
	for (i = 0; i < CYCLES; i++) {
		err = mmapclient_map(c, &req, &r);
		cr_assert_eq(err, 0, "cycle %d: %s", i, mmapclient_error(c));
		((volatile char *)r->addr)[0] = 1;
		cr_assert_eq(mmapclient_release(c, r), 0);
	}
	/* The last quiet Release is read once a request after it is. */
	cr_assert_eq(h_leases_wait_on(c, others), others);
	return cpu_ns(worker) - t0;
}

/* The holder's leases: HELD or a few more, granted in batches. */
static int
hold_many(struct mmapclient *holder)
{
	struct mmapclient_request reqs[BATCH];
	struct mmapclient_region *regs[BATCH];
	int errs[BATCH], i, n, held = 0;

	for (i = 0; i < BATCH; i++)
		reqs[i] = (struct mmapclient_request){
			.device = "zero", .size = 4096,
		};
	while (held < HELD) {
		n = mmapclient_map_batch(holder, reqs, BATCH, regs, errs);
		cr_assert_eq(n, BATCH, "batch at %d held: %d (%s)", held, n,
		    mmapclient_error(holder));
		held += n;
		/* Unmapped here; the leases stay with the daemon. */
		for (i = 0; i < n; i++)
			mmapclient_region_free(regs[i]);
	}
	return held;
}

#define LIMITS	"[zero]\nusers = *\n\n[limits]\nleases_per_uid = 40000\n" \
	"zero_bytes_per_uid = 1G\ngrants_in_flight = 64\n" \
	"grants_in_flight_per_uid = 128\nrequests_in_flight = 64\n"

#define CONNS	300

/* The worker's CPU for CONNS connections, each with a lease, closed. */
static uint64_t
conns_cpu(struct mmapclient *k, pid_t worker, uint32_t others)
{
	const struct mmapclient_request req = {
		.device = "zero", .size = 4096, .flags = MMAPCLIENT_WRITE,
	};
	struct mmapclient_region *r;
	struct mmapclient *c;
	uint64_t t0;
	int i;

	t0 = cpu_ns(worker);
	for (i = 0; i < CONNS; i++) {
		c = h_connect();
		cr_assert_eq(mmapclient_map(c, &req, &r), 0, "%s",
		    mmapclient_error(c));
		mmapclient_region_free(r);
		mmapclient_close(c);
	}
	/* Every one of them ended: their leases are gone. */
	cr_assert_eq(h_leases_wait_on(k, others), others);
	return cpu_ns(worker) - t0;
}

Test(scale, leases_held_elsewhere_cost_a_connection_nothing)
{
	struct mmapclient *k, *holder;
	uint64_t quiet, loaded;
	pid_t worker;
	int held;

	h_start(LIMITS);
	worker = h_worker_pid();
	k = h_connect();
	holder = h_connect();
	(void)conns_cpu(k, worker, 0);
	quiet = conns_cpu(k, worker, 0);
	held = hold_many(holder);
	loaded = conns_cpu(k, worker, (uint32_t)held);
	cr_log_info("the worker's CPU for %d connections: %.1f ms with no "
	    "other lease, %.1f ms with %d held by another connection",
	    CONNS, quiet / 1e6, loaded / 1e6, held);
	cr_assert_lt(loaded, 3 * quiet, "%d leases held elsewhere made "
	    "%d connections cost the worker %.1f ms, against %.1f ms with "
	    "none", held, CONNS, loaded / 1e6, quiet / 1e6);
	mmapclient_close(holder);
	cr_assert_eq(h_leases_wait_on(k, 0), 0);
	mmapclient_close(k);
	h_stop();
}

Test(scale, leases_held_elsewhere_cost_a_request_nothing)
{
	struct mmapclient *victim, *holder;
	uint64_t quiet, loaded;
	pid_t worker;
	int held;

	h_start(LIMITS);
	worker = h_worker_pid();
	victim = h_connect();
	holder = h_connect();
	/* Warm: the first cycles pay for allocations made once. */
	(void)cycles_cpu(victim, worker, 0);
	quiet = cycles_cpu(victim, worker, 0);
	held = hold_many(holder);
	loaded = cycles_cpu(victim, worker, (uint32_t)held);
	cr_log_info("the worker's CPU for %d cycles: %.1f ms with no other "
	    "lease, %.1f ms with %d held by another connection",
	    CYCLES, quiet / 1e6, loaded / 1e6, held);
	cr_assert_lt(loaded, 3 * quiet, "%d leases held elsewhere made "
	    "%d cycles cost the worker %.1f ms, against %.1f ms with "
	    "none", held, CYCLES, loaded / 1e6, quiet / 1e6);
	mmapclient_close(holder);
	cr_assert_eq(h_leases_wait_on(victim, 0), 0);
	mmapclient_close(victim);
	h_stop();
}
