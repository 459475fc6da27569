/*
 * bench-grant: what a grant through mmapd costs, side by side with the
 * floor (floor.h) in one run.  It starts both servers itself, measures
 * mmapd's memory per idle connection on the fresh daemon, then runs
 * each case as alternating pairs (floor, mmapd, floor, mmapd, ...) for
 * --rounds rounds, and prints markdown tables: medians, p99s, grants
 * per second, each server's CPU per grant, and mmapd's ratios to the
 * floor.  It reports; it judges no speed.  It fails only when a run
 * fails or gives figures that cannot be (none, zero, p99 < median).
 *
 * usage: bench-grant --mmapd PATH [--rounds N] [--seconds S]
 *                    [--clients N,N,...] [--idle N] [--case NAME]
 *                    [--only floor|mmapd] [--smoke]
 *
 * --case and --only narrow the runs, e.g. for a profile of mmapd alone
 * (its pid and its worker's are said on stderr): --case cycle
 * --clients 8 --only mmapd.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "floor.h"
#include "mmapclient.h"

#define SAMPLES		(4u << 20)	/* latencies kept per run */
#define START_MS	10000		/* for mmapd's socket to appear */

/*
 * The cases.  A new one is a loop in bench-run.c for each side, named
 * here; the tables carry it.  batch16 needs [limits] grants_in_flight
 * >= 16 (mmapd_start()).
 */
static struct bench_mode modes[] = {
	{ "cycle", "map + touch + release (floor: one round trip)", 1, 1,
	    { bench_floor_single, bench_mmapd_single }, NULL, { 1, 8, 64 } },
	{ "batch16", "16 grants in one request and one reply", 16, 16,
	    { bench_floor_batch, bench_mmapd_batch }, NULL, { 1, 8 } },
	{ "pipe8", "8 Maps in flight per connection (mmapd: each answered "
	    "Map released without waiting)", 1, 8,
	    { bench_floor_pipe, bench_mmapd_pipe }, NULL, { 1, 8 } },
};
#define N_MODES	(sizeof(modes) / sizeof(modes[0]))

static struct bench_agg aggs[N_MODES][BENCH_LISTS][SIDE_N];

/* Servers to stop however the driver ends. */
static volatile pid_t floor_pid = -1, mmapd_pid = -1;
static char tmpdir[64];
/* Bytes of mmapd's RSS per idle connection, when measured; else < 0. */
static double idle_bytes = -1;

static void
on_signal(int sig)
{
	if (floor_pid > 0)
		kill(floor_pid, SIGKILL);
	if (mmapd_pid > 0)
		kill(mmapd_pid, SIGTERM);
	_exit(128 + sig);
}

static int
floor_start(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	pid_t pid;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, SOMAXCONN) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	pid = fork();
	if (pid < 0) {
		close(fd);
		return -errno;
	}
	if (pid == 0) {
		int err = floor_serve(fd);

		fprintf(stderr, "bench-grant: floor: %s\n", strerror(-err));
		_exit(1);
	}
	close(fd);
	floor_pid = pid;
	return 0;
}

/*
 * mmapd on a policy of its own: zero for all, room for the idle
 * connections, none closed for idling, and for the grants in flight of
 * every client process (all of one uid) and its requests in flight
 * (pipe8: 8 Maps and their Releases; batch16: 16 grants in one
 * reply).  As root it runs as nobody, like the test suite's.  Its log
 * goes to dir/mmapd.log.
 */
static int
mmapd_start(const char *bin, const char *dir, unsigned int conns)
{
	char conf[96], sock[96], log[96];
	uint64_t end;
	struct stat st;
	FILE *f;
	pid_t pid;
	int fd, status;

	snprintf(conf, sizeof(conf), "%s/mmapd.conf", dir);
	snprintf(sock, sizeof(sock), "%s/mmapd.sock", dir);
	snprintf(log, sizeof(log), "%s/mmapd.log", dir);
	f = fopen(conf, "we");
	if (f == NULL)
		return -errno;
	fprintf(f, "[limits]\nconnections = %u\nconnections_per_uid = %u\n"
	    "idle_seconds = 0\nleases_per_uid = 16384\n"
	    "grants_in_flight_per_uid = 16384\nrequests_in_flight = 64\n"
	    "grants_in_flight = 64\n\n[zero]\nusers = *\n", conns, conns);
	if (fclose(f) != 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
			_exit(127);
		if (geteuid() == 0)
			execl(bin, bin, "-c", conf, "-s", sock, "--user",
			    "nobody", (char *)NULL);
		else
			execl(bin, bin, "-c", conf, "-s", sock, (char *)NULL);
		_exit(127);
	}
	mmapd_pid = pid;
	end = bench_now_ns() + (uint64_t)START_MS * 1000000;
	/* Bound before it listens: ready once a connect goes through. */
	while (stat(sock, &st) < 0 || !S_ISSOCK(st.st_mode) ||
	    (fd = floor_connect(sock)) < 0) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			mmapd_pid = -1;
			return -ECHILD;
		}
		if (bench_now_ns() > end)
			return -ETIMEDOUT;
		usleep(20000);
	}
	close(fd);
	return 0;
}

/*
 * The servers' pids on stderr, mmapd's children with it (its worker,
 * which serves): what perf record -p wants.
 */
static void
mmapd_say(void)
{
	char path[64], kids[128] = "";
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children",
	    (int)mmapd_pid, (int)mmapd_pid);
	f = fopen(path, "re");
	if (f != NULL) {
		if (fgets(kids, sizeof(kids), f) == NULL)
			kids[0] = '\0';
		fclose(f);
	}
	n = strcspn(kids, "\n");
	while (n > 0 && kids[n - 1] == ' ')
		n--;
	kids[n] = '\0';
	fprintf(stderr, "bench-grant: floor pid %d, mmapd pid %d%s%s%s\n",
	    (int)floor_pid, (int)mmapd_pid, kids[0] ? " (its children: " :
	    "", kids, kids[0] ? ")" : "");
}

static void
servers_stop(void)
{
	uint64_t end = bench_now_ns() + 10000000000ull;
	int status;

	if (floor_pid > 0) {
		kill(floor_pid, SIGKILL);
		waitpid(floor_pid, &status, 0);
		floor_pid = -1;
	}
	if (mmapd_pid <= 0)
		return;
	kill(mmapd_pid, SIGTERM);
	while (waitpid(mmapd_pid, &status, WNOHANG) == 0) {
		if (bench_now_ns() > end) {
			kill(mmapd_pid, SIGKILL);
			waitpid(mmapd_pid, &status, 0);
			break;
		}
		usleep(20000);
	}
	mmapd_pid = -1;
}

/*
 * n idle connections (each said Hello) and mmapd's memory before and
 * after: bytes per connection, RSS and PSS.
 */
static int
idle_measure(const char *sock, unsigned int n)
{
	struct mmapclient **c;
	uint64_t rss0, pss0, rss1, pss1;
	struct rlimit rl;
	unsigned int i, made = 0;
	int err;

	if (n == 0)
		return 0;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < n + 64u) {
		fprintf(stderr, "bench-grant: idle: fd limit %llu: %llu "
		    "connections instead of %u\n",
		    (unsigned long long)rl.rlim_cur,
		    (unsigned long long)rl.rlim_cur - 64, n);
		n = (unsigned int)rl.rlim_cur - 64;
	}
	c = calloc(n, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	err = bench_mem(mmapd_pid, &rss0, &pss0);
	for (i = 0; err == 0 && i < n; i++) {
		err = mmapclient_connect(sock, &c[i]);
		if (err == 0)
			made++;
		else
			fprintf(stderr, "bench-grant: idle: connection %u: "
			    "%s\n", i + 1, mmapclient_error(NULL));
	}
	if (err == 0)
		err = bench_mem(mmapd_pid, &rss1, &pss1);
	for (i = 0; i < made; i++)
		mmapclient_close(c[i]);
	free(c);
	if (err)
		return err;
	idle_bytes = ((double)rss1 - (double)rss0) * 1024 / n;
	printf("Idle connections: %u, each after its Hello: mmapd's RSS "
	    "%llu -> %llu KiB, PSS %llu -> %llu KiB: **%.0f bytes (RSS), "
	    "%.0f bytes (PSS) per connection**.\n\n", n,
	    (unsigned long long)rss0, (unsigned long long)rss1,
	    (unsigned long long)pss0, (unsigned long long)pss1,
	    ((double)rss1 - (double)rss0) * 1024 / n,
	    ((double)pss1 - (double)pss0) * 1024 / n);
	return 0;
}

/* One case at one client count on one side; progress on stderr. */
static int
run_one(struct bench_shared *sh, unsigned int i, unsigned int j,
    enum side s, const char *floor_sock, const char *mmapd_sock,
    double seconds)
{
	const struct bench_mode *m = &modes[i];
	struct bench_result r;
	int err;

	err = bench_run(sh, m, s, s == SIDE_FLOOR ? floor_sock : mmapd_sock,
	    m->clients[j], seconds, s == SIDE_FLOOR ? floor_pid : mmapd_pid,
	    &r);
	if (err == 0)
		err = bench_agg_add(&aggs[i][j][s], &r, m->grants);
	free(r.t);
	if (err) {
		fprintf(stderr, "bench-grant: %s, %u clients, %s: %s\n",
		    m->name, m->clients[j], bench_side_name[s], strerror(-err));
		return err;
	}
	fprintf(stderr, "bench-grant: %s %2u clients %s: %.0f grants/s\n",
	    m->name, m->clients[j], bench_side_name[s], r.ns ? (double)r.ops *
	    m->grants / ((double)r.ns / 1e9) : 0.0);
	return 0;
}

/* --clients 1,8,...: the same counts for every case. */
static int
parse_clients(char *arg, unsigned int *v)
{
	unsigned int n = 0;
	unsigned long x;
	char *tok, *end;

	for (tok = strtok(arg, ","); tok != NULL; tok = strtok(NULL, ",")) {
		errno = 0;
		x = strtoul(tok, &end, 10);
		if (errno || *end || x == 0 || x > BENCH_CLIENTS_MAX ||
		    n == BENCH_LISTS - 1)
			return -EINVAL;
		v[n++] = (unsigned int)x;
	}
	v[n] = 0;
	return n ? 0 : -EINVAL;
}

static void
machine(const char *when)
{
	char load[64] = "?";
	struct utsname u;
	FILE *f;

	if (uname(&u) < 0)
		strcpy(u.release, "?");
	f = fopen("/proc/loadavg", "re");
	if (f != NULL) {
		if (fgets(load, sizeof(load), f) == NULL)
			strcpy(load, "?");
		load[strcspn(load, "\n")] = '\0';
		fclose(f);
	}
	printf("%s: %ld cores online, Linux %s, load average (/proc/loadavg) "
	    "%s.\n\n", when, sysconf(_SC_NPROCESSORS_ONLN), u.release, load);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mmapd", required_argument, NULL, 'm' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 't' },
		{ "clients", required_argument, NULL, 'c' },
		{ "idle", required_argument, NULL, 'i' },
		{ "smoke", no_argument, NULL, 'S' },
		{ "case", required_argument, NULL, 'C' },
		{ "only", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char floor_sock[96], mmapd_sock[96], path[96];
	unsigned int rounds = 5, idle = 10000, round, i, j, clients[4] = { 0 };
	const char *bin = NULL, *only_case = NULL;
	int only_side = -1;
	double seconds = 1.0;
	struct bench_shared *sh = NULL;
	struct stat st;
	off_t log0 = 0;
	uint64_t t0;
	int ch, err = 0, ret = 1;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'm':
			bin = optarg;
			break;
		case 'r':
			rounds = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 't':
			seconds = strtod(optarg, NULL);
			break;
		case 'c':
			if (parse_clients(optarg, clients) < 0)
				goto usage;
			break;
		case 'i':
			idle = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'C':
			only_case = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "floor") == 0)
				only_side = SIDE_FLOOR;
			else if (strcmp(optarg, "mmapd") == 0)
				only_side = SIDE_MMAPD;
			else
				goto usage;
			break;
		case 'S':
			/* A check that it works, in make check: no figures. */
			rounds = 1;
			seconds = 0.2;
			idle = 50;
			clients[0] = 1;
			clients[1] = 3;
			clients[2] = 0;
			break;
		default:
			goto usage;
		}
	}
	if (bin == NULL || rounds == 0 || rounds > BENCH_ROUNDS_MAX ||
	    !(seconds > 0) || seconds > 3600)
		goto usage;
	if (clients[0] != 0)
		for (i = 0; i < N_MODES; i++)
			memcpy(modes[i].clients, clients, sizeof(clients));
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);

	snprintf(tmpdir, sizeof(tmpdir), "%s/bench-grant.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (strlen(tmpdir) > 60 || mkdtemp(tmpdir) == NULL) {
		fprintf(stderr, "bench-grant: a folder in $TMPDIR: %s\n",
		    strerror(errno));
		return 1;
	}
	snprintf(floor_sock, sizeof(floor_sock), "%s/floor.sock", tmpdir);
	snprintf(mmapd_sock, sizeof(mmapd_sock), "%s/mmapd.sock", tmpdir);
	machine("Machine, at the start");
	sh = bench_shared_new(SAMPLES);
	if (sh == NULL) {
		err = -ENOMEM;
		goto out;
	}
	if ((err = floor_start(floor_sock)) < 0 ||
	    (err = mmapd_start(bin, tmpdir,
	    idle + 2 * BENCH_CLIENTS_MAX)) < 0) {
		fprintf(stderr, "bench-grant: starting the servers: %s (%s)\n",
		    strerror(-err), bin);
		goto out;
	}
	mmapd_say();
	/* On the fresh daemon, before any run grew its heap. */
	if ((err = idle_measure(mmapd_sock, idle)) < 0) {
		fprintf(stderr, "bench-grant: idle connections: %s\n",
		    strerror(-err));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/mmapd.log", tmpdir);
	log0 = stat(path, &st) == 0 ? st.st_size : 0;
	t0 = bench_now_ns();
	for (round = 0; round < rounds; round++) {
		fprintf(stderr, "bench-grant: round %u of %u\n", round + 1,
		    rounds);
		for (i = 0; i < N_MODES; i++) {
			if (only_case && strcmp(only_case, modes[i].name))
				continue;
			for (j = 0; j < BENCH_LISTS && modes[i].clients[j];
			    j++) {
				for (ch = 0; ch < SIDE_N; ch++) {
					if (modes[i].loop[ch] == NULL ||
					    (only_side >= 0 && ch != only_side))
						continue;
					err = run_one(sh, i, j, ch, floor_sock,
					    mmapd_sock, seconds);
					if (err < 0)
						goto out;
				}
			}
		}
	}
	printf("%u rounds of alternating runs, %.1f s each, in %.0f s.\n\n",
	    rounds, seconds, (double)(bench_now_ns() - t0) / 1e9);
	err = bench_report(modes, N_MODES, aggs, idle_bytes);
	snprintf(path, sizeof(path), "%s/mmapd.log", tmpdir);
	if (stat(path, &st) == 0) {
		uint64_t g = 0;

		for (i = 0; i < N_MODES; i++)
			for (j = 0; j < BENCH_LISTS && modes[i].clients[j];
			    j++)
				g += aggs[i][j][SIDE_MMAPD].ops *
				    modes[i].grants;
		printf("mmapd's log (stderr, a file) over the runs: %.1f MB, "
		    "%.0f bytes per grant and its release.\n\n",
		    (double)(st.st_size - log0) / 1e6,
		    g ? (double)(st.st_size - log0) / (double)g : 0.0);
		if (g > 0 && st.st_size <= log0)
			err = -EPROTO;	/* no audit line: not a real mmapd */
	}
	machine("At the end");
	if (err == 0)
		ret = 0;
out:
	servers_stop();
	if (err && tmpdir[0]) {
		snprintf(path, sizeof(path), "tail -n 20 %s/mmapd.log >&2",
		    tmpdir);
		fprintf(stderr, "bench-grant: mmapd's log ends:\n");
		if (system(path) != 0)
			fprintf(stderr, "(no log)\n");
	}
	if (sh != NULL)
		bench_shared_free(sh);
	for (i = 0; i < N_MODES; i++)
		for (j = 0; j < BENCH_LISTS; j++)
			for (ch = 0; ch < SIDE_N; ch++)
				free(aggs[i][j][ch].t);
	snprintf(path, sizeof(path), "%s/mmapd.conf", tmpdir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/mmapd.log", tmpdir);
	unlink(path);
	unlink(floor_sock);
	unlink(mmapd_sock);
	rmdir(tmpdir);
	return ret;

usage:
	fprintf(ch == 'h' ? stdout : stderr, "usage: bench-grant --mmapd "
	    "PATH [--rounds N] [--seconds S]\n"
	    "                   [--clients N,N,...] [--idle N] [--case NAME]\n"
	    "                   [--only floor|mmapd] [--smoke]\n");
	return ch == 'h' ? 0 : 2;
}
