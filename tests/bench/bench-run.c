/*
 * One run: N client processes, each with a connection of its own, start
 * together, loop for the run's time and keep their latencies in memory
 * shared with the driver; the server's CPU is read around the run.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "floor.h"
#include "mmapclient.h"

/* The client processes get this long past the run to finish, or die. */
#define RUN_GRACE_S	30
/* And this long to connect and say they are ready. */
#define READY_MS	30000

struct bench_shared {
	volatile int stop;
	size_t samples;			/* room in t, all slots together */
	struct bench_slot slot[BENCH_CLIENTS_MAX];
	uint64_t t[];
};

uint64_t
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int
bench_stopped(const struct bench_shared *sh)
{
	return __atomic_load_n(&sh->stop, __ATOMIC_RELAXED);
}

struct bench_shared *
bench_shared_new(size_t samples)
{
	struct bench_shared *sh;

	sh = mmap(NULL, sizeof(*sh) + samples * sizeof(uint64_t),
	    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return NULL;
	sh->samples = samples;
	return sh;
}

void
bench_shared_free(struct bench_shared *sh)
{
	munmap(sh, sizeof(*sh) + sh->samples * sizeof(uint64_t));
}

/* A request sent at t0 was answered at t1; its first part ended at mid. */
static void
slot_note(struct bench_slot *s, uint64_t t0, uint64_t mid, uint64_t t1)
{
	s->ops++;
	s->last_ns = t1;
	if (s->n < s->cap)
		s->t[s->n++] = BENCH_SAMPLE(t1 - t0, mid ? mid - t0 : 0);
}

/* The floor: one request, one memfd, mapped, touched, unmapped. */
int
bench_floor_single(struct bench_conn *cn, struct bench_slot *s,
    const struct bench_shared *sh, unsigned int depth)
{
	uint64_t t0;
	uint32_t tag;
	int err;

	(void)depth;
	while (!bench_stopped(sh)) {
		t0 = bench_now_ns();
		if ((err = floor_ask(cn->fd, 1, 0)) < 0 ||
		    (err = floor_take(cn->fd, 1, &tag)) < 0)
			return err;
		slot_note(s, t0, 0, bench_now_ns());
	}
	return 0;
}

/* The floor: depth memfds in one reply to one request. */
int
bench_floor_batch(struct bench_conn *cn, struct bench_slot *s,
    const struct bench_shared *sh, unsigned int depth)
{
	uint64_t t0;
	uint32_t tag;
	int err;

	while (!bench_stopped(sh)) {
		t0 = bench_now_ns();
		if ((err = floor_ask(cn->fd, depth, 0)) < 0 ||
		    (err = floor_take(cn->fd, depth, &tag)) < 0)
			return err;
		slot_note(s, t0, 0, bench_now_ns());
	}
	return 0;
}

/*
 * The floor: depth requests in flight on one connection; each reply
 * answered sends the next request.  A latency is one request's, sent to
 * answered.
 */
int
bench_floor_pipe(struct bench_conn *cn, struct bench_slot *s,
    const struct bench_shared *sh, unsigned int depth)
{
	uint64_t sent[FLOOR_BATCH_MAX], now;
	unsigned int in_flight = 0;
	uint32_t tag;
	int err;

	if (depth == 0 || depth > FLOOR_BATCH_MAX)
		return -EINVAL;
	for (tag = 0; tag < depth; tag++) {
		sent[tag] = bench_now_ns();
		if ((err = floor_ask(cn->fd, 1, tag)) < 0)
			return err;
		in_flight++;
	}
	while (in_flight > 0) {
		if ((err = floor_take(cn->fd, 1, &tag)) < 0)
			return err;
		if (tag >= depth)
			return -EPROTO;
		now = bench_now_ns();
		slot_note(s, sent[tag], 0, now);
		if (bench_stopped(sh)) {
			in_flight--;
			continue;
		}
		sent[tag] = now;
		if ((err = floor_ask(cn->fd, 1, tag)) < 0)
			return err;
	}
	return 0;
}

/* mmapd, as a user does it: map 4 KiB of shared zero, touch, release. */
int
bench_mmapd_single(struct bench_conn *cn, struct bench_slot *s,
    const struct bench_shared *sh, unsigned int depth)
{
	struct mmapclient_request req = {
		.device = "zero",
		.size = FLOOR_SIZE,
		.flags = MMAPCLIENT_SHARED | MMAPCLIENT_WRITE,
	};
	struct mmapclient_region *r;
	uint64_t t0, t1;
	int err;

	(void)depth;
	while (!bench_stopped(sh)) {
		t0 = bench_now_ns();
		if ((err = mmapclient_map(cn->c, &req, &r)) < 0)
			return err;
		((volatile char *)r->addr)[0] = 1;
		t1 = bench_now_ns();
		if ((err = mmapclient_release(cn->c, r)) < 0)
			return err;
		/* What the Release's own round trip costs, apart. */
		slot_note(s, t0, t1, bench_now_ns());
	}
	return 0;
}

/*
 * mmapd batched: depth zero Maps in one MapBatch (one request, one
 * reply with every fd), each region touched, then one quiet Release of
 * them all, which has no reply: one round trip per batch, as the
 * floor's.  A latency is the whole batch's, sent to released.  A batch
 * with grants refused for EAGAIN ([limits] grants_in_flight) gives back
 * what it got and is sent again, its time running on.
 */
int
bench_mmapd_batch(struct bench_conn *cn, struct bench_slot *s,
    const struct bench_shared *sh, unsigned int depth)
{
	struct mmapclient_request reqs[MMAPCLIENT_BATCH_MAX];
	struct mmapclient_region *r[MMAPCLIENT_BATCH_MAX];
	int errs[MMAPCLIENT_BATCH_MAX];
	unsigned int i, got;
	uint64_t t0;
	int err, bad;

	if (depth == 0 || depth > MMAPCLIENT_BATCH_MAX)
		return -EINVAL;
	for (i = 0; i < depth; i++)
		reqs[i] = (struct mmapclient_request){
			.device = "zero",
			.size = FLOOR_SIZE,
			.flags = MMAPCLIENT_SHARED | MMAPCLIENT_WRITE,
		};
	t0 = bench_now_ns();
	while (!bench_stopped(sh)) {
		err = mmapclient_map_batch(cn->c, reqs, depth, r, errs);
		if (err < 0)
			return err;
		if ((unsigned int)err < depth) {
			/* Give back what was granted; retry EAGAIN only. */
			for (i = got = 0, bad = 0; i < depth; i++) {
				if (r[i] != NULL)
					r[got++] = r[i];
				else if (errs[i] != -EAGAIN && bad == 0)
					bad = errs[i];
			}
			if (got > 0 && (err = mmapclient_release_quiet(cn->c,
			    r, got, NULL, NULL)) < 0)
				return err;
			if (bad < 0)
				return bad;
			s->retries++;
			continue;
		}
		for (i = 0; i < depth; i++)
			((volatile char *)r[i]->addr)[0] = 1;
		err = mmapclient_release_quiet(cn->c, r, depth, NULL, NULL);
		if (err < 0)
			return err;
		slot_note(s, t0, 0, bench_now_ns());
		t0 = bench_now_ns();
	}
	return 0;
}

/* mmapd pipelined: one Map in flight, its send time, its client's loop. */
struct pipe_req {
	struct pipe_run *run;
	uint64_t t0;
};

struct pipe_run {
	struct bench_slot *s;
	const struct bench_shared *sh;
	struct mmapclient_request req;
	unsigned int maps;		/* Maps in flight */
	int err;
};

/*
 * A Map's reply: touch the region, release it with a quiet Release (no
 * reply unless it fails), and send the next Map on the same slot.
 */
static void
pipe_mapped(struct mmapclient *c, const struct mmapclient_result *res,
    void *userdata)
{
	struct pipe_req *q = userdata;
	struct pipe_run *run = q->run;
	uint64_t now;
	int err;

	run->maps--;
	/*
	 * Past [limits] grants_in_flight (mmapd counts a connection's
	 * grants read only once its socket is read to the end, which a
	 * pipelining client's never is): sent again, its time running on.
	 */
	if (res->error == -EAGAIN && !bench_stopped(run->sh)) {
		run->s->retries++;
		err = mmapclient_map_async(c, &run->req, pipe_mapped, q);
		if (err == 0)
			run->maps++;
		else if (run->err == 0)
			run->err = err;
		return;
	}
	if (res->error == -EAGAIN)
		return;
	if (res->error) {
		if (run->err == 0)
			run->err = res->error;
		return;
	}
	((volatile char *)res->region->addr)[0] = 1;
	now = bench_now_ns();
	slot_note(run->s, q->t0, 0, now);
	/* Quiet: no Ack to wake for; the region goes in any case. */
	err = mmapclient_release_quiet(c, &res->region, 1, NULL, NULL);
	if (err) {
		if (run->err == 0)
			run->err = err;
		return;
	}
	if (bench_stopped(run->sh) || run->err)
		return;
	q->t0 = now;
	err = mmapclient_map_async(c, &run->req, pipe_mapped, q);
	if (err == 0)
		run->maps++;
	else if (run->err == 0)
		run->err = err;
}

/*
 * mmapd with depth Maps in flight on one connection (libmmapclient's
 * async requests), each answered Map touched, released without waiting
 * and followed by the next.  A latency is one Map's, sent to mapped.
 */
int
bench_mmapd_pipe(struct bench_conn *cn, struct bench_slot *s,
    const struct bench_shared *sh, unsigned int depth)
{
	struct pipe_req q[FLOOR_BATCH_MAX];
	struct pipe_run run = {
		.s = s, .sh = sh,
		.req = {
			.device = "zero",
			.size = FLOOR_SIZE,
			.flags = MMAPCLIENT_SHARED | MMAPCLIENT_WRITE,
		},
	};
	struct pollfd p = { .fd = mmapclient_fd(cn->c), .events = POLLIN };
	unsigned int k;
	int err;

	if (depth == 0 || depth > FLOOR_BATCH_MAX)
		return -EINVAL;
	for (k = 0; k < depth; k++) {
		q[k].run = &run;
		q[k].t0 = bench_now_ns();
		err = mmapclient_map_async(cn->c, &run.req, pipe_mapped, &q[k]);
		if (err)
			return err;
		run.maps++;
	}
	/*
	 * Until every Map is answered.  The quiet Releases have no reply
	 * to wait for (they count in flight until a later request of the
	 * connection is answered).
	 */
	while (run.err == 0 && run.maps > 0) {
		if (mmapclient_pending(cn->c) == 0 &&
		    poll(&p, 1, RUN_GRACE_S * 1000) == 0)
			return -ETIMEDOUT;
		err = mmapclient_dispatch(cn->c);
		if (err < 0)
			return err;
	}
	return run.err;
}

/*
 * A client process: connect, say so on ready (one byte), wait for the
 * start (go closed), loop, exit.  Never returns.
 */
static void
client_main(struct bench_shared *sh, struct bench_slot *s,
    const struct bench_mode *m, enum side side, const char *path,
    int ready, int go)
{
	struct bench_conn cn = { .fd = -1, .c = NULL };
	char c = 'r';
	int err;

	if (side == SIDE_FLOOR) {
		cn.fd = floor_connect(path);
		err = cn.fd < 0 ? cn.fd : 0;
	} else {
		err = mmapclient_connect(path, &cn.c);
	}
	if (err) {
		s->err = err;
		c = 'e';
	}
	if (write(ready, &c, 1) != 1 || err)
		_exit(1);
	close(ready);
	/* EOF on go: the driver closed it, all start now. */
	if (read(go, &c, 1) != 0)
		_exit(1);
	s->err = m->loop[side](&cn, s, sh, m->depth);
	if (s->err)
		fprintf(stderr, "bench-grant: client %d: %s%s%s\n",
		    (int)getpid(), strerror(-s->err), cn.c ? ": " : "",
		    cn.c ? mmapclient_error(cn.c) : "");
	if (cn.c != NULL)
		mmapclient_close(cn.c);
	if (cn.fd >= 0)
		close(cn.fd);
	_exit(s->err ? 1 : 0);
}

/* Read n ready bytes, READY_MS at most: 0, or -errno. */
static int
run_ready(int fd, unsigned int n)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t end = bench_now_ns() + (uint64_t)READY_MS * 1000000;
	ssize_t got;
	char c;

	while (n > 0) {
		uint64_t now = bench_now_ns();

		if (now >= end)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)((end - now) / 1000000) + 1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got = read(fd, &c, 1);
		if (got <= 0 || c != 'r')
			return -ECONNREFUSED;
		n--;
	}
	return 0;
}

static void
run_sleep(double seconds)
{
	struct timespec ts;

	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int
bench_run(struct bench_shared *sh, const struct bench_mode *m,
    enum side side, const char *path, unsigned int clients, double seconds,
    pid_t pid, struct bench_result *res)
{
	pid_t kids[BENCH_CLIENTS_MAX];
	int ready[2] = { -1, -1 }, go[2] = { -1, -1 };
	unsigned int i, started = 0;
	uint64_t cpu0 = 0, cpu1 = 0, t0 = 0, last = 0;
	size_t cap, k;
	int err = 0, st;

	memset(res, 0, sizeof(*res));
	if (clients == 0 || clients > BENCH_CLIENTS_MAX ||
	    m->loop[side] == NULL)
		return -EINVAL;
	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0) {
		err = -errno;
		goto out;
	}
	sh->stop = 0;
	cap = sh->samples / clients;
	if (cap > UINT32_MAX)
		cap = UINT32_MAX;
	for (i = 0; i < clients; i++) {
		memset(&sh->slot[i], 0, sizeof(sh->slot[i]));
		sh->slot[i].t = sh->t + i * cap;
		sh->slot[i].cap = (uint32_t)cap;
	}
	for (i = 0; i < clients; i++) {
		kids[i] = fork();
		if (kids[i] < 0) {
			err = -errno;
			goto reap;
		}
		if (kids[i] == 0) {
			close(ready[0]);
			close(go[1]);
			/* A stalled server must not hang the run. */
			alarm((unsigned int)seconds + RUN_GRACE_S);
			client_main(sh, &sh->slot[i], m, side, path, ready[1],
			    go[0]);
		}
		started++;
	}
	close(ready[1]);
	ready[1] = -1;
	err = run_ready(ready[0], clients);
	if (err == 0)
		err = bench_cpu(pid, &cpu0);
	t0 = bench_now_ns();
	/* Go (EOF on go[0]); on a failure too, so that the clients end. */
	if (err)
		sh->stop = 1;
	close(go[1]);
	go[1] = -1;
	if (err == 0) {
		run_sleep(seconds);
		__atomic_store_n(&sh->stop, 1, __ATOMIC_RELAXED);
	}
reap:
	if (err)
		sh->stop = 1;
	if (go[1] >= 0) {
		close(go[1]);
		go[1] = -1;
	}
	for (i = 0; i < started; i++) {
		if (waitpid(kids[i], &st, 0) < 0) {
			if (err == 0)
				err = -errno;
			continue;
		}
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			continue;
		/* The client's own error says more than the driver's. */
		if (sh->slot[i].err && (err == 0 || err == -ECONNREFUSED))
			err = sh->slot[i].err;
		else if (err == 0)
			err = -ECHILD;
	}
	if (err == 0)
		err = bench_cpu(pid, &cpu1);
	if (err)
		goto out;
	for (i = 0; i < clients; i++) {
		res->ops += sh->slot[i].ops;
		res->n += sh->slot[i].n;
		res->retries += sh->slot[i].retries;
		if (sh->slot[i].last_ns > last)
			last = sh->slot[i].last_ns;
	}
	res->ns = last > t0 ? last - t0 : 0;
	res->cpu_ticks = cpu1 - cpu0;
	res->t = malloc((res->n ? res->n : 1) * sizeof(uint64_t));
	if (res->t == NULL) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0, k = 0; i < clients; i++) {
		memcpy(res->t + k, sh->slot[i].t,
		    sh->slot[i].n * sizeof(uint64_t));
		k += sh->slot[i].n;
	}
out:
	for (i = 0; i < 2; i++) {
		if (ready[i] >= 0)
			close(ready[i]);
		if (go[i] >= 0)
			close(go[i]);
	}
	res->err = err;
	return err;
}
