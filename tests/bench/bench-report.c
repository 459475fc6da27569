/*
 * bench-grant's tables: what the runs of each case came to over the
 * rounds (struct bench_agg), and their figures: medians and p99s over
 * every request, grants per second, server CPU per grant, and mmapd's
 * ratios to the floor; then issue 13's goals against them.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

const char *const bench_side_name[SIDE_N] = { "floor", "mmapd" };

int
bench_agg_add(struct bench_agg *a, const struct bench_result *r,
    unsigned int grants)
{
	double g = (double)r->ops * grants;
	uint64_t *t;
	size_t cap;

	if (a->n + r->n > a->cap) {
		cap = a->cap ? a->cap : 4096;
		while (cap < a->n + r->n)
			cap *= 2;
		t = realloc(a->t, cap * sizeof(*t));
		if (t == NULL)
			return -ENOMEM;
		a->t = t;
		a->cap = cap;
	}
	memcpy(a->t + a->n, r->t, r->n * sizeof(*t));
	a->n += r->n;
	a->ops += r->ops;
	a->ns += r->ns;
	a->ticks += r->cpu_ticks;
	a->retries += r->retries;
	if (a->runs < BENCH_ROUNDS_MAX && g > 0 && r->ns > 0) {
		a->rate[a->runs] = g / ((double)r->ns / 1e9);
		a->cpu[a->runs] = (double)r->cpu_ticks * 1e6 /
		    (double)sysconf(_SC_CLK_TCK) / g;
	}
	a->runs++;
	return 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * What a table shows of one agg: microseconds, and grants per second.
 * On mmapd's side also its throughput and CPU ratios to the floor: the
 * median over the rounds of each pair's (a floor run and the mmapd run
 * after it), so that what the machine's other load did to one pair
 * does not weigh on the others.
 */
struct figures {
	double med, p99, rate, cpu;
	double rate_ratio, cpu_ratio;
	int have;
};

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of the pairs' ratios mm[k] / fl[k]; 0 with none. */
static double
pair_ratio(const double *mm, const double *fl, unsigned int runs)
{
	double v[BENCH_ROUNDS_MAX];
	unsigned int k, n = 0;

	for (k = 0; k < runs && k < BENCH_ROUNDS_MAX; k++)
		if (mm[k] > 0 && fl[k] > 0)
			v[n++] = mm[k] / fl[k];
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static struct figures
agg_figures(struct bench_agg *a, unsigned int grants)
{
	struct figures f = { 0 };
	double g = (double)a->ops * grants;

	if (a->runs == 0 || a->n == 0 || a->ns == 0)
		return f;
	qsort(a->t, a->n, sizeof(*a->t), cmp_u64);
	f.med = (double)BENCH_ALL(a->t[a->n / 2]) / 1e3;
	f.p99 = (double)BENCH_ALL(a->t[a->n * 99 / 100]) / 1e3;
	f.rate = g / ((double)a->ns / 1e9);
	f.cpu = (double)a->ticks * 1e6 / (double)sysconf(_SC_CLK_TCK) / g;
	f.have = 1;
	return f;
}

static void
print_ratio(double a, double b)
{
	if (b > 0 && a > 0)
		printf(" %.2fx |", a / b);
	else
		printf(" - |");
}

/*
 * The medians of the parts of a's samples: the first (mmapd's Map and
 * touch) in *first, the rest (its Release) in *rest.  0, or -ENOMEM.
 */
static int
agg_parts(const struct bench_agg *a, double *first, double *rest)
{
	uint64_t *v;
	size_t k;

	v = malloc(a->n * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	for (k = 0; k < a->n; k++)
		v[k] = BENCH_FIRST(a->t[k]);
	qsort(v, a->n, sizeof(*v), cmp_u64);
	*first = (double)v[a->n / 2] / 1e3;
	for (k = 0; k < a->n; k++)
		v[k] = BENCH_ALL(a->t[k]) - BENCH_FIRST(a->t[k]);
	qsort(v, a->n, sizeof(*v), cmp_u64);
	*rest = (double)v[a->n / 2] / 1e3;
	free(v);
	return 0;
}

/*
 * mmapd's cycle in two, from the cycle case (a, by client count): the
 * Map with the touch, and the Release's own round trip.
 */
static void
split(const struct bench_mode *m, struct bench_agg a[BENCH_LISTS][SIDE_N])
{
	double first, rest;
	unsigned int j;

	printf("\nmmapd's cycle in two, medians: ");
	for (j = 0; j < BENCH_LISTS && m->clients[j]; j++) {
		struct bench_agg *x = &a[j][SIDE_MMAPD];

		if (x->n == 0 || agg_parts(x, &first, &rest) < 0)
			continue;
		printf("%s%u client%s: Map + touch %.1f us, Release %.1f us",
		    j ? "; " : "", m->clients[j], m->clients[j] == 1 ? "" : "s",
		    first, rest);
	}
	printf(".\n");
}

/* A goal's figure, and whether it is met (none: not measured). */
static void
goal(const char *what, double have, double want, int at_most, int digits)
{
	if (!(have > 0)) {
		printf("- %s: not measured\n", what);
		return;
	}
	printf("- %s: %.*f (goal %s %.*f: %s)\n", what, digits, have,
	    at_most ? "<=" : ">=", digits, want, (at_most ? have <= want :
	    have >= want) ? "met" : "not met");
}

static double
ratio(double a, double b)
{
	return a > 0 && b > 0 ? a / b : 0;
}

/*
 * Issue 13's goals, from the cycle case (f, by client count): 1 client
 * at most 1.15x the floor's round trip, median and p99; throughput at
 * least 0.9x the floor's at 8 and 64; CPU per grant at most 1.5x; an
 * idle connection at most 4 KiB.
 */
static void
goals(const struct bench_mode *m, struct figures f[BENCH_LISTS][SIDE_N],
    double idle_bytes)
{
	char what[96];
	unsigned int j;

	printf("\nGoals (issue 13), from the cycle case:\n");
	for (j = 0; j < BENCH_LISTS && m->clients[j]; j++) {
		struct figures *fl = f[j] + SIDE_FLOOR, *mm = f[j] + SIDE_MMAPD;

		if (!fl->have || !mm->have)
			continue;
		if (m->clients[j] == 1) {
			goal("1 client, median latency ratio",
			    ratio(mm->med, fl->med), 1.15, 1, 2);
			goal("1 client, p99 ratio", ratio(mm->p99, fl->p99),
			    1.15, 1, 2);
		} else {
			snprintf(what, sizeof(what), "%u clients, throughput "
			    "ratio", m->clients[j]);
			goal(what, mm->rate_ratio, 0.9, 0, 2);
		}
		snprintf(what, sizeof(what), "%u client%s, CPU per grant ratio",
		    m->clients[j], m->clients[j] == 1 ? "" : "s");
		goal(what, mm->cpu_ratio, 1.5, 1, 2);
	}
	goal("bytes of mmapd's RSS per idle connection", idle_bytes, 4096, 1,
	    0);
}

/*
 * Batches: mmapd's CPU per grant in the cycle case (c: one Map and its
 * Release at a time) over that in the batch case (b), at each client
 * count both ran.
 */
static void
goals_batch(const struct bench_mode *c, struct figures fc[BENCH_LISTS][SIDE_N],
    const struct bench_mode *b, struct figures fb[BENCH_LISTS][SIDE_N])
{
	char what[128];
	unsigned int i, j;

	for (j = 0; j < BENCH_LISTS && b->clients[j]; j++) {
		for (i = 0; i < BENCH_LISTS && c->clients[i]; i++)
			if (c->clients[i] == b->clients[j])
				break;
		if (i == BENCH_LISTS || c->clients[i] == 0)
			continue;
		snprintf(what, sizeof(what), "%u client%s, mmapd CPU per "
		    "grant, %s over %s (%u in one batch at least 3x cheaper "
		    "per grant than single Maps)", b->clients[j],
		    b->clients[j] == 1 ? "" : "s", c->name, b->name,
		    b->grants);
		goal(what, fc[i][SIDE_MMAPD].have && fb[j][SIDE_MMAPD].have ?
		    ratio(fc[i][SIDE_MMAPD].cpu, fb[j][SIDE_MMAPD].cpu) : 0,
		    3.0, 0, 2);
	}
}

/* Pipelining: the floor's throughput at the same depth (f: pipe8's). */
static void
goals_pipe(const struct bench_mode *m, struct figures f[BENCH_LISTS][SIDE_N])
{
	char what[96];
	unsigned int j;

	for (j = 0; j < BENCH_LISTS && m->clients[j]; j++) {
		snprintf(what, sizeof(what), "%s, %u client%s, throughput "
		    "ratio", m->name, m->clients[j],
		    m->clients[j] == 1 ? "" : "s");
		goal(what, f[j][SIDE_MMAPD].rate_ratio, 1.0, 0, 2);
	}
}

int
bench_report(const struct bench_mode *modes, size_t n_modes,
    struct bench_agg aggs[][BENCH_LISTS][SIDE_N], double idle_bytes)
{
	struct figures (*f)[BENCH_LISTS][SIDE_N];
	const struct bench_mode *m;
	unsigned int i, j, s;
	int bad = 0;

	f = calloc(n_modes, sizeof(*f));
	if (f == NULL)
		return -ENOMEM;
	for (i = 0; i < n_modes; i++) {
		for (j = 0; j < BENCH_LISTS && modes[i].clients[j]; j++) {
			struct bench_agg *fl = &aggs[i][j][SIDE_FLOOR];
			struct bench_agg *mm = &aggs[i][j][SIDE_MMAPD];
			unsigned int runs = mm->runs < fl->runs ? mm->runs :
			    fl->runs;

			for (s = 0; s < SIDE_N; s++)
				f[i][j][s] = agg_figures(&aggs[i][j][s],
				    modes[i].grants);
			f[i][j][SIDE_MMAPD].rate_ratio = pair_ratio(mm->rate,
			    fl->rate, runs);
			f[i][j][SIDE_MMAPD].cpu_ratio = pair_ratio(mm->cpu,
			    fl->cpu, runs);
		}
	}

	printf("| case | clients | floor median | mmapd median | latency "
	    "ratio | floor p99 | mmapd p99 | p99 ratio | throughput ratio | "
	    "CPU ratio |\n|---|---|---|---|---|---|---|---|---|---|\n");
	for (i = 0; i < n_modes; i++) {
		m = &modes[i];
		if (m->loop[SIDE_MMAPD] == NULL)
			continue;
		for (j = 0; j < BENCH_LISTS && m->clients[j]; j++) {
			struct figures *fl = &f[i][j][SIDE_FLOOR];
			struct figures *mm = &f[i][j][SIDE_MMAPD];

			if (!fl->have || !mm->have)
				continue;
			printf("| %s | %u | %.1f us | %.1f us |", m->name,
			    m->clients[j], fl->med, mm->med);
			print_ratio(mm->med, fl->med);
			printf(" %.1f us | %.1f us |", fl->p99, mm->p99);
			print_ratio(mm->p99, fl->p99);
			print_ratio(mm->rate_ratio, 1);
			print_ratio(mm->cpu_ratio, 1);
			printf("\n");
		}
	}

	printf("\n| case | clients | server | median | p99 | grants/s | "
	    "server CPU per grant |\n|---|---|---|---|---|---|---|\n");
	for (i = 0; i < n_modes; i++) {
		m = &modes[i];
		for (j = 0; j < BENCH_LISTS && m->clients[j]; j++) {
			for (s = 0; s < SIDE_N; s++) {
				struct figures *x = &f[i][j][s];

				printf("| %s | %u | %s |", m->name,
				    m->clients[j], bench_side_name[s]);
				if (m->loop[s] == NULL) {
					printf(" not yet: needs %s | | | |\n",
					    m->missing);
					continue;
				}
				if (aggs[i][j][s].runs == 0) {
					printf(" not run | | | |\n");
					continue;
				}
				printf(" %.1f us | %.1f us | %.0f | %.2f us |"
				    "\n", x->med, x->p99, x->rate, x->cpu);
				if (!x->have || !(x->med > 0) ||
				    x->p99 < x->med || !isfinite(x->rate) ||
				    !(x->rate > 0) || !isfinite(x->cpu)) {
					fprintf(stderr, "bench-grant: %s, %u "
					    "clients, %s: figures make no "
					    "sense\n", m->name, m->clients[j],
					    bench_side_name[s]);
					bad = 1;
				}
			}
		}
	}
	for (i = 0; i < n_modes; i++)
		for (j = 0; j < BENCH_LISTS && modes[i].clients[j]; j++)
			if (aggs[i][j][SIDE_MMAPD].retries > 0)
				printf("\n%s, %u client%s: mmapd refused %llu "
				    "of %llu Maps with EAGAIN (grants in "
				    "flight); each was sent again.\n",
				    modes[i].name,
				    modes[i].clients[j],
				    modes[i].clients[j] == 1 ? "" : "s",
				    (unsigned long long)
				    aggs[i][j][SIDE_MMAPD].retries,
				    (unsigned long long)
				    aggs[i][j][SIDE_MMAPD].ops);
	split(&modes[0], aggs[0]);
	goals(&modes[0], f[0], idle_bytes);
	for (i = 1; i < n_modes; i++)
		if (strncmp(modes[i].name, "batch", 5) == 0 &&
		    modes[i].loop[SIDE_MMAPD] != NULL)
			goals_batch(&modes[0], f[0], &modes[i], f[i]);
	for (i = 1; i < n_modes; i++)
		if (strncmp(modes[i].name, "pipe", 4) == 0 &&
		    modes[i].loop[SIDE_MMAPD] != NULL)
			goals_pipe(&modes[i], f[i]);
	printf("\nCases: ");
	for (i = 0; i < n_modes; i++)
		printf("%s%s: %s", i ? "; " : "", modes[i].name,
		    modes[i].what);
	printf(".  Latency: one request to its answer (cycle: mmapd's map, "
	    "touch and release against the floor's one round trip; batch16: "
	    "the whole batch, mmapd's with its quiet release), median and "
	    "p99 over every request of every round.  CPU: utime + stime of the server process and its "
	    "children over the run, per grant.  Throughput and CPU ratios: "
	    "the median over the rounds of each pair's ratio.\n");
	free(f);
	return bad ? -EPROTO : 0;
}

