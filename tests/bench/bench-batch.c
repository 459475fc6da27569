/*
 * bench-batch: what a grant costs one at a time and in batches, against
 * a running mmapd (a report, never a test).
 *
 *	single	16 x (Map 4 KiB shared zero, touch), then 16 x Release,
 *		each waiting for its Ack: 32 round trips for 16 grants
 *	quiet	16 x (Map, touch, quiet Release): 16 round trips
 *	batch	one MapBatch of 16, touch each, one quiet Release of the
 *		16: one round trip for 16 grants
 *
 * For each it prints the client's wall time per grant (median and p99
 * of the rounds, per grant) and the daemon's CPU per grant: the on-CPU
 * time of every thread of mmapd's worker (the child of --pid) from
 * /proc/WORKER/task/T/schedstat, over the whole run.  The daemon needs
 * [limits] grants_in_flight >= 16 for the batch to be granted whole.
 *
 * usage: bench-batch --socket PATH --pid MMAPD_PID [--rounds N]
 *	[--only single|quiet|batch]	(one mode, e.g. under perf)
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mmapclient.h"

#define N	16
#define SIZE	4096

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The child of pid: mmapd's worker. */
static pid_t
worker_of(pid_t pid)
{
	char path[300], buf[512], *p;
	struct dirent *e;
	pid_t found = -1;
	long ppid;
	DIR *d;
	FILE *f;

	d = opendir("/proc");
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL && found < 0) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		if (fgets(buf, sizeof(buf), f) != NULL &&
		    (p = strrchr(buf, ')')) != NULL &&
		    sscanf(p + 2, "%*c %ld", &ppid) == 1 && ppid == pid)
			found = (pid_t)atol(e->d_name);
		fclose(f);
	}
	closedir(d);
	return found;
}

/* Nanoseconds on CPU of every thread of pid. */
static uint64_t
cpu_ns(pid_t pid)
{
	char path[320];
	unsigned long long ns;
	struct dirent *e;
	uint64_t sum = 0;
	DIR *d;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/schedstat",
		    (int)pid, e->d_name);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		if (fscanf(f, "%llu", &ns) == 1)
			sum += ns;
		fclose(f);
	}
	closedir(d);
	return sum;
}

static const struct mmapclient_request req = {
	.device = "zero", .size = SIZE,
	.flags = MMAPCLIENT_SHARED | MMAPCLIENT_WRITE,
};

enum mode { SINGLE, QUIET, BATCH };
static void
acked(struct mmapclient *c, const struct mmapclient_result *res, void *arg)
{
	(void)c;
	*(int *)arg = res->error ? res->error : 1;
}

/*
 * A Release that waits for its Ack, as mmapclient_release() did before
 * it went quiet: the daemon's reply and the client's wake-up included.
 */
static int
release_acked(struct mmapclient *c, struct mmapclient_region *r)
{
	struct pollfd p = { .fd = mmapclient_fd(c), .events = POLLIN };
	int got = 0, err;

	err = mmapclient_release_async(c, r, acked, &got);
	while (err >= 0 && got == 0) {
		if (mmapclient_pending(c) == 0 && poll(&p, 1, 5000) == 0)
			return -ETIMEDOUT;
		err = mmapclient_dispatch(c);
	}
	if (err < 0)
		return err;
	return got < 0 ? got : 0;
}

static const char *const mode_name[] = { "single", "quiet", "batch" };

static void
die(struct mmapclient *c, const char *what, int err)
{
	fprintf(stderr, "bench-batch: %s: %s (%s)\n", what, strerror(-err),
	    mmapclient_error(c));
	exit(1);
}

/* One round of mode: N grants, touched and released. */
static void
round_run(struct mmapclient *c, enum mode m)
{
	struct mmapclient_region *r[N];
	struct mmapclient_request reqs[N];
	int errs[N], i, err;

	switch (m) {
	case SINGLE:
		for (i = 0; i < N; i++) {
			if ((err = mmapclient_map(c, &req, &r[i])) < 0)
				die(c, "map", err);
			((volatile char *)r[i]->addr)[0] = 1;
		}
		for (i = 0; i < N; i++)
			if ((err = release_acked(c, r[i])) < 0)
				die(c, "release", err);
		break;
	case QUIET:
		for (i = 0; i < N; i++) {
			if ((err = mmapclient_map(c, &req, &r[i])) < 0)
				die(c, "map", err);
			((volatile char *)r[i]->addr)[0] = 1;
			err = mmapclient_release_quiet(c, &r[i], 1, NULL,
			    NULL);
			if (err < 0)
				die(c, "quiet release", err);
		}
		break;
	case BATCH:
		for (i = 0; i < N; i++)
			reqs[i] = req;
		err = mmapclient_map_batch(c, reqs, N, r, errs);
		if (err != N)
			die(c, "map batch", err < 0 ? err : errs[0] ?
			    errs[0] : -EAGAIN);
		for (i = 0; i < N; i++)
			((volatile char *)r[i]->addr)[0] = 1;
		if ((err = mmapclient_release_quiet(c, r, N, NULL, NULL)) < 0)
			die(c, "quiet release", err);
		break;
	}
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "pid", required_argument, NULL, 'p' },
		{ "rounds", required_argument, NULL, 'n' },
		{ "only", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = NULL;
	pid_t pid = -1, worker;
	int rounds = 2000, ch, i, m, err, only = -1;
	uint64_t *t, t0, cpu0, cpu1, wall0, wall1;
	double cpu_grant[3] = { 0 };
	struct mmapclient *c;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		case 'p':
			pid = (pid_t)atol(optarg);
			break;
		case 'n':
			rounds = atoi(optarg);
			break;
		case 'o':
			for (m = SINGLE; m <= BATCH; m++)
				if (strcmp(optarg, mode_name[m]) == 0)
					only = m;
			if (only < 0)
				return 2;
			break;
		default:
			return 2;
		}
	}
	if (sock == NULL || pid <= 0 || rounds < 10) {
		fprintf(stderr, "usage: bench-batch --socket PATH --pid "
		    "MMAPD_PID [--rounds N >= 10]\n");
		return 2;
	}
	worker = worker_of(pid);
	if (worker < 0)
		worker = pid;	/* no child: mmapd serves in pid itself */
	t = calloc((size_t)rounds, sizeof(*t));
	if (t == NULL)
		return 1;
	err = mmapclient_connect(sock, &c);
	if (err)
		die(NULL, "connect", err);
	printf("%d rounds of %d grants of %d bytes; mmapd worker pid %d\n",
	    rounds, N, SIZE, (int)worker);
	printf("%-7s %12s %12s %12s %14s\n", "mode", "median/grant",
	    "p99/grant", "wall/grant", "daemon CPU/grant");
	for (m = SINGLE; m <= BATCH; m++) {
		if (only >= 0 && m != only)
			continue;
		for (i = 0; i < rounds / 10; i++)	/* warm up */
			round_run(c, (enum mode)m);
		cpu0 = cpu_ns(worker);
		wall0 = now_ns();
		for (i = 0; i < rounds; i++) {
			t0 = now_ns();
			round_run(c, (enum mode)m);
			t[i] = now_ns() - t0;
		}
		wall1 = now_ns();
		cpu1 = cpu_ns(worker);
		qsort(t, (size_t)rounds, sizeof(*t), cmp_u64);
		cpu_grant[m] = (double)(cpu1 - cpu0) / ((double)rounds * N);
		printf("%-7s %10.2f us %10.2f us %10.2f us %12.2f us\n",
		    mode_name[m], (double)t[rounds / 2] / N / 1000.0,
		    (double)t[rounds * 99 / 100] / N / 1000.0,
		    (double)(wall1 - wall0) / ((double)rounds * N) / 1000.0,
		    cpu_grant[m] / 1000.0);
	}
	if (only < 0)
		printf("daemon CPU per grant, single / batch: %.2fx; single / "
		    "quiet: %.2fx\n", cpu_grant[SINGLE] / cpu_grant[BATCH],
		    cpu_grant[SINGLE] / cpu_grant[QUIET]);
	mmapclient_close(c);
	free(t);
	return 0;
}
