/*
 * bench-map: what a mapping through mmapd costs, against a floor measured
 * in the same run (figures on these machines drift 10-40% between runs,
 * so only the ratio to the floor means much).
 *
 *	floor	memfd_create + ftruncate + seals + mmap + touch + munmap +
 *		close, in this process: what mmapd's work costs without it
 *	private	map 4 KiB of private zero through mmapd, touch, release
 *	shared	the same, shared (a sealed memfd crosses the socket)
 *	connect	connect + Hello + close
 *
 * usage: bench-map --socket PATH [--count N]
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "mmapclient.h"

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

static int
floor_once(void)
{
	volatile char *p;
	int fd;

	fd = memfd_create("bench", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, SIZE) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL) < 0) {
		close(fd);
		return -errno;
	}
	p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		close(fd);
		return -errno;
	}
	p[0] = 1;
	munmap((void *)p, SIZE);
	close(fd);
	return 0;
}

static int
map_once(struct mmapclient *c, unsigned int flags)
{
	struct mmapclient_request req = {
		.device = "zero",
		.size = SIZE,
		.flags = flags | MMAPCLIENT_WRITE,
	};
	struct mmapclient_region *r;
	int err;

	err = mmapclient_map(c, &req, &r);
	if (err)
		return err;
	((volatile char *)r->addr)[0] = 1;
	return mmapclient_release(c, r);
}

static int
connect_once(const char *path)
{
	struct mmapclient *c;
	int err;

	err = mmapclient_connect(path, &c);
	if (err)
		return err;
	mmapclient_close(c);
	return 0;
}

/* A 32-bit register read done by the daemon (Read), when one is named. */
static const char *reg_device;
static uint64_t reg_offset;

static int
read_once(struct mmapclient *c)
{
	uint64_t v;

	return mmapclient_read(c, reg_device, reg_offset, 32, &v);
}

enum what { FLOOR, PRIVATE, SHARED, CONNECT, READ };

static int
run(enum what w, const char *path, struct mmapclient *c, unsigned int n,
    uint64_t *t)
{
	uint64_t t0;
	unsigned int i;
	int err = 0;

	for (i = 0; i < n; i++) {
		t0 = now_ns();
		switch (w) {
		case FLOOR:
			err = floor_once();
			break;
		case PRIVATE:
			err = map_once(c, 0);
			break;
		case SHARED:
			err = map_once(c, MMAPCLIENT_SHARED);
			break;
		case CONNECT:
			err = connect_once(path);
			break;
		case READ:
			err = read_once(c);
			break;
		}
		t[i] = now_ns() - t0;
		if (err)
			return err;
	}
	qsort(t, n, sizeof(*t), cmp_u64);
	return 0;
}

static void
report(const char *name, const uint64_t *t, unsigned int n, double floor)
{
	double med = (double)t[n / 2] / 1000.0;
	double p99 = (double)t[(size_t)n * 99 / 100] / 1000.0;

	printf("%-8s median %7.1f us  p99 %7.1f us  %8.0f /s", name, med, p99,
	    1e6 / med);
	if (floor > 0)
		printf("  %5.1fx floor", med / floor);
	printf("\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'n' },
		{ "read", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *names[] = { "floor", "private", "shared", "connect",
	    "read32" };
	char *colon, *end;
	const char *path = NULL;
	struct mmapclient *c = NULL;
	unsigned int n = 20000, w;
	double floor = 0;
	uint64_t *t;
	int ch, err;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			path = optarg;
			break;
		case 'n':
			n = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			/* DEVICE:OFFSET, e.g. mem:0xfe900000 */
			colon = strrchr(optarg, ':');
			if (colon == NULL)
				goto usage;
			*colon = '\0';
			reg_device = optarg;
			errno = 0;
			reg_offset = strtoull(colon + 1, &end, 0);
			if (errno != 0 || *end != '\0' || end == colon + 1)
				goto usage;
			break;
		default:
			goto usage;
		}
	}
	if (n < 100)
		n = 100;
	t = calloc(n, sizeof(*t));
	if (t == NULL)
		return 1;
	err = mmapclient_connect(path, &c);
	if (err) {
		fprintf(stderr, "bench-map: connect: %s\n", strerror(-err));
		return 1;
	}
	printf("bench-map: %u runs each, %d-byte mappings\n", n, SIZE);
	for (w = FLOOR; w <= (reg_device ? READ : CONNECT); w++) {
		/* A short warm-up, then the measured runs. */
		err = run(w, path, c, 100, t);
		if (err == 0)
			err = run(w, path, c, n, t);
		if (err) {
			fprintf(stderr, "bench-map: %s: %s: %s\n", names[w],
			    strerror(-err), mmapclient_error(c));
			mmapclient_close(c);
			return 1;
		}
		if (w == FLOOR)
			floor = (double)t[n / 2] / 1000.0;
		report(names[w], t, n, w == FLOOR ? 0 : floor);
	}
	mmapclient_close(c);
	free(t);
	return 0;

usage:
	fprintf(stderr, "usage: bench-map --socket PATH [--count N] "
	    "[--read DEVICE:OFFSET]\n");
	return 2;
}
