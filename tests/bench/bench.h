/*
 * bench-grant: a grant through mmapd against the floor (floor.h), in
 * alternating runs.  bench-grant.c starts both servers and runs the
 * cases; bench-run.c runs the client processes of one run;
 * bench-proc.c reads what a server spent from /proc; bench-report.c
 * prints the tables.
 */
#ifndef MMAPD_BENCH_H
#define MMAPD_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BENCH_CLIENTS_MAX	256
#define BENCH_LISTS		4	/* client counts per case, 0-ended */

enum side { SIDE_FLOOR, SIDE_MMAPD, SIDE_N };

/*
 * A latency sample: the request's nanoseconds in the upper 32 bits (so
 * that samples sort by it), and those of its first part in the lower
 * (mmapd's cycle: the Map and the touch, before the Release), or 0.
 * Each is cut at 4.29 s.
 */
#define BENCH_SAMPLE(all, first)	\
	((uint64_t)bench_u32(all) << 32 | bench_u32(first))
#define BENCH_ALL(v)	((v) >> 32)
#define BENCH_FIRST(v)	((v) & 0xffffffffu)

static inline uint32_t
bench_u32(uint64_t ns)
{
	return ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

/* One client process's connection: fd for the floor, c for mmapd. */
struct bench_conn {
	int fd;
	struct mmapclient *c;
};

/* What one client process did in a run, in memory the driver shares. */
struct bench_slot {
	uint64_t ops;		/* requests answered (a batch is one) */
	uint64_t last_ns;	/* when its last one was answered */
	uint32_t n;		/* latencies kept in t, at most cap */
	int err;		/* -errno of the first failure, or 0 */
	uint64_t retries;	/* requests refused with EAGAIN, sent again */
	uint64_t *t;		/* its share of the samples (BENCH_SAMPLE) */
	uint32_t cap;
};

struct bench_shared;

/* A client process's loop: until bench_stopped(), then its last replies. */
typedef int bench_loop_fn(struct bench_conn *, struct bench_slot *,
    const struct bench_shared *, unsigned int depth);

/*
 * A case the driver runs on both sides.  A side whose loop is NULL is
 * not there yet: the table says why (missing).  A new case is a new
 * entry in bench-grant.c's modes[].
 */
struct bench_mode {
	const char *name;
	const char *what;		/* a line for the table */
	unsigned int grants;		/* grants per request */
	unsigned int depth;		/* requests in flight per client */
	bench_loop_fn *loop[SIDE_N];
	const char *missing;		/* why the mmapd side is NULL */
	unsigned int clients[BENCH_LISTS];
};

/* One run's sums over its client processes. */
struct bench_result {
	uint64_t ops;
	uint64_t ns;			/* from the start to the last reply */
	uint64_t cpu_ticks;		/* the server's, over the run */
	uint64_t retries;		/* the slots' */
	uint64_t *t;			/* the latencies, unsorted */
	size_t n;
	int err;			/* the first client's failure */
};

uint64_t bench_now_ns(void);
int bench_stopped(const struct bench_shared *sh);

/* The samples and slots of up to BENCH_CLIENTS_MAX processes. */
struct bench_shared *bench_shared_new(size_t samples);
void bench_shared_free(struct bench_shared *sh);

/*
 * Run m's side at clients processes against path for seconds, the
 * server's CPU read from pid (and its children) before and after.  0
 * with *res filled (res->t malloc'ed), or -errno.
 */
int bench_run(struct bench_shared *sh, const struct bench_mode *m,
    enum side side, const char *path, unsigned int clients, double seconds,
    pid_t pid, struct bench_result *res);

#define BENCH_ROUNDS_MAX	64

/* What one case at one client count came to, over the rounds. */
struct bench_agg {
	uint64_t ops, ns, ticks, retries;
	uint64_t *t;			/* every run's samples */
	size_t n, cap;
	unsigned int runs;
	double rate[BENCH_ROUNDS_MAX];	/* each run's grants per second */
	double cpu[BENCH_ROUNDS_MAX];	/* and CPU per grant, in us */
};

/* bench-report.c: "floor", "mmapd". */
extern const char *const bench_side_name[SIDE_N];

/* Add a run of a case of grants per request to a: 0, or -ENOMEM. */
int bench_agg_add(struct bench_agg *a, const struct bench_result *r,
    unsigned int grants);
/*
 * Print the tables of the n_modes cases (aggs by case, client count and
 * side) and the goals; idle_bytes < 0 when not measured.  0, or -EPROTO
 * when a figure cannot be (none, zero, p99 below the median), or
 * -ENOMEM.
 */
int bench_report(const struct bench_mode *modes, size_t n_modes,
    struct bench_agg aggs[][BENCH_LISTS][SIDE_N], double idle_bytes);

/* The loops (bench-run.c). */
bench_loop_fn bench_floor_single, bench_floor_batch, bench_floor_pipe;
bench_loop_fn bench_mmapd_single, bench_mmapd_batch, bench_mmapd_pipe;

/*
 * bench-proc.c: user + system CPU of pid and its children in clock
 * ticks, and their resident and proportional set sizes in KiB
 * (smaps_rollup); -errno when pid is gone.
 */
int bench_cpu(pid_t pid, uint64_t *ticks);
int bench_mem(pid_t pid, uint64_t *rss_kib, uint64_t *pss_kib);

#endif /* MMAPD_BENCH_H */
