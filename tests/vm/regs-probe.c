/*
 * regs-probe: register access to a device region through a libmmapclient
 * mapping and the library's exact-width accessors, for the VM tests
 * (tests/vm/guest-test.sh).  It also says what the client was handed:
 * the file behind the mapping, and whether /dev/mem reached the process.
 *
 *	regs-probe [--offset N] [--size N] [--private] [--read-only]
 *	    [--cache default|cached|uncached|wc] [--hold SECONDS]
 *	    REGION [ACCESS...]
 *
 *	OFF[:WIDTH]		read WIDTH bits (8, 16, 32 or 64; default 32)
 *				at OFF of the mapping with
 *				mmapclient_region_read(), print
 *				"0x<OFF>: 0x<value>" (width/4 hex digits, as
 *				mmapctl map --read prints it)
 *	OFF=VALUE[:WIDTH]	write VALUE with mmapclient_region_write()
 *
 * The accesses run in command-line order.  The mapping is REGION from
 * --offset (default 0) for --size bytes (default one page), shared and
 * writable when an ACCESS writes; --private asks for MAP_PRIVATE,
 * --read-only for a read-only mapping even when an ACCESS writes (to see
 * the library refuse it); --cache asks for a cache mode (default: the
 * device's choice).  --hold keeps the mapping SECONDS seconds and runs
 * the accesses over and over meanwhile, one pass every 100 ms, each
 * read printed as "pass N: 0x<OFF>: 0x<value>" and flushed at once; it
 * reads no event from the daemon (the library's Hello asks for none),
 * so a revoked lease is still held at its deadline: the holder the VM
 * test's revocation must kill.  REGION is what the daemon offers: a [region]
 * of the policy, "mem" (offset = physical address) or "zero".  The
 * socket is $MMAPD_SOCKET, else the library's default.
 *
 * First line, once mapped:
 *	map REGION: kind K, cache C, shared|private, r|rw, N bytes, from PATH
 * PATH is the file /proc/self/maps shows behind the mapping: the file
 * the daemon's descriptor was (/dev/mem, a sysfs resourceN, a memfd).
 * Second line:
 *	raw /dev/mem: no
 * or "raw /dev/mem: YES (...)" when /dev/mem is mapped anywhere in this
 * process or open on any of its descriptors: what the client got, not
 * what the daemon meant to give.  With --hold, then
 *	holding lease ID, pid PID, for SECONDS s
 * and at the end, if nothing stopped it,
 *	held SECONDS s, N passes: releasing
 *
 * Errors go to stderr as "regs-probe: WHAT: strerror (ENAME, errno N):
 * the daemon's message".  Exit status: 0 done; 1 the map was refused or
 * an access failed (the rest are not done); 2 usage.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "mmapclient.h"

static const char *prog = "regs-probe";

static void
usage(void)
{
	fprintf(stderr,
	    "usage: %s [--offset N] [--size N] [--private] [--read-only] "
	    "[--cache default|cached|uncached|wc] [--hold SECONDS] "
	    "REGION [OFF[:WIDTH] | OFF=VALUE[:WIDTH]]...\n", prog);
	exit(2);
}

/* errno's name, as mmapctl prints it, so the guest test can grep both. */
static const char *
errno_name(int err)
{
	const char *s = strerrorname_np(err);

	return s != NULL ? s : "?";
}

/* A number, decimal or 0x hex, whole string; 0 or -1. */
static int
parse_u64(const char *s, size_t len, uint64_t *out)
{
	char buf[64], *end;
	unsigned long long v;

	if (len == 0 || len >= sizeof(buf) || s[0] < '0' || s[0] > '9')
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	v = strtoull(buf, &end, 0);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

static uint64_t
number(const char *what, const char *s)
{
	uint64_t v;

	if (parse_u64(s, strlen(s), &v) != 0) {
		fprintf(stderr, "%s: %s: '%s' is not a number\n", prog, what, s);
		exit(2);
	}
	return v;
}

struct access {
	const char *text;
	int write;
	uint64_t off;
	uint64_t value;
	unsigned int width;
};

/*
 * OFF[:WIDTH] or OFF=VALUE[:WIDTH].  The width is passed on as given
 * (a bad one is for the library to refuse, and the test to see).
 */
static void
parse_access(const char *s, struct access *a)
{
	const char *eq = strchr(s, '='), *colon = strrchr(s, ':');
	const char *off_end = eq ? eq : (colon ? colon : s + strlen(s));
	uint64_t w = 32;

	a->text = s;
	a->write = eq != NULL;
	a->value = 0;
	if (colon != NULL && eq != NULL && colon < eq)
		colon = NULL;
	if (parse_u64(s, (size_t)(off_end - s), &a->off) != 0)
		goto bad;
	if (eq != NULL) {
		const char *v = eq + 1;
		const char *v_end = colon ? colon : v + strlen(v);

		if (parse_u64(v, (size_t)(v_end - v), &a->value) != 0)
			goto bad;
	}
	if (colon != NULL &&
	    (parse_u64(colon + 1, strlen(colon + 1), &w) != 0 || w > UINT_MAX))
		goto bad;
	a->width = (unsigned int)w;
	return;
bad:
	fprintf(stderr, "%s: '%s' is neither OFF[:WIDTH] nor "
	    "OFF=VALUE[:WIDTH]\n", prog, s);
	exit(2);
}

static const char *
kind_name(enum mmapclient_kind k)
{
	switch (k) {
	case MMAPCLIENT_KIND_ANON:
		return "anon";
	case MMAPCLIENT_KIND_SHMEM:
		return "shmem";
	case MMAPCLIENT_KIND_DEVICE:
		return "device";
	}
	return "?";
}

static const char *
cache_name(enum mmapclient_cache c)
{
	switch (c) {
	case MMAPCLIENT_CACHE_DEFAULT:
		return "default";
	case MMAPCLIENT_CACHE_CACHED:
		return "cached";
	case MMAPCLIENT_CACHE_UNCACHED:
		return "uncached";
	case MMAPCLIENT_CACHE_WC:
		return "wc";
	}
	return "?";
}

/*
 * What /proc/self/maps shows behind addr: the path, or "[anonymous]".
 * Also counts the lines backed by /dev/mem, wherever they are.
 */
static void
maps_scan(const void *addr, char *path, size_t len, unsigned int *devmem)
{
	char line[PATH_MAX + 128];
	FILE *f = fopen("/proc/self/maps", "re");

	snprintf(path, len, "(not in /proc/self/maps)");
	*devmem = 0;
	if (f == NULL) {
		snprintf(path, len, "(/proc/self/maps: %s)", strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long lo, hi;
		char *p = strchr(line, '/'), *nl = strchr(line, '\n');

		if (nl != NULL)
			*nl = '\0';
		if (p != NULL && strncmp(p, "/dev/mem", 8) == 0 &&
		    (p[8] == '\0' || p[8] == ' '))
			(*devmem)++;
		if (sscanf(line, "%lx-%lx", &lo, &hi) != 2)
			continue;
		if ((uintptr_t)addr >= lo && (uintptr_t)addr < hi)
			snprintf(path, len, "%s", p != NULL ? p : "[anonymous]");
	}
	fclose(f);
}

/* How many of this process's descriptors are open on /dev/mem. */
static unsigned int
fds_on_devmem(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	unsigned int n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char target[PATH_MAX];
		ssize_t l;

		if (e->d_name[0] == '.')
			continue;
		l = readlinkat(dirfd(d), e->d_name, target, sizeof(target) - 1);
		if (l <= 0)
			continue;
		target[l] = '\0';
		if (strcmp(target, "/dev/mem") == 0)
			n++;
	}
	closedir(d);
	return n;
}

/*
 * The accesses, in order; reads printed with prefix before them.
 * 0, or 1 once one failed (the rest are not done).
 */
static int
accesses_run(struct mmapclient_region *r, struct access *acc, int n,
    const char *prefix)
{
	for (int k = 0; k < n; k++) {
		struct access *a = &acc[k];
		uint64_t v = 0;
		int err;

		if (a->write)
			err = mmapclient_region_write(r, a->off, a->width,
			    a->value);
		else
			err = mmapclient_region_read(r, a->off, a->width, &v);
		if (err) {
			fprintf(stderr, "%s: %s %s: %s (%s, errno %d)\n", prog,
			    a->write ? "write" : "read", a->text,
			    strerror(-err), errno_name(-err), -err);
			return 1;
		}
		if (!a->write)
			printf("%s0x%" PRIx64 ": 0x%0*" PRIx64 "\n", prefix,
			    a->off, (int)(a->width / 4), v);
	}
	return 0;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * --hold: the accesses every 100 ms for seconds, each pass flushed (a
 * SIGKILL must not take the lines already read with it).  0, or 1.
 */
static int
hold(struct mmapclient_region *r, struct access *acc, int n,
    uint64_t seconds)
{
	const struct timespec tick = { .tv_nsec = 100 * 1000 * 1000 };
	int64_t end = now_ms() + (int64_t)seconds * 1000;
	char prefix[32];
	unsigned long pass = 0;

	printf("holding lease %" PRIu64 ", pid %ld, for %" PRIu64 " s\n",
	    r->lease_id, (long)getpid(), seconds);
	if (fflush(stdout) != 0)
		return 1;
	while (now_ms() < end) {
		snprintf(prefix, sizeof(prefix), "pass %lu: ", ++pass);
		if (accesses_run(r, acc, n, prefix) != 0 ||
		    fflush(stdout) != 0)
			return 1;
		nanosleep(&tick, NULL);
	}
	printf("held %" PRIu64 " s, %lu passes: releasing\n", seconds, pass);
	return 0;
}

int
main(int argc, char **argv)
{
	struct mmapclient_request req = { .flags = MMAPCLIENT_SHARED };
	struct mmapclient_region *r = NULL;
	struct mmapclient *c = NULL;
	struct access *acc;
	char path[PATH_MAX + 64];
	unsigned int devmem_maps, devmem_fds;
	int read_only = 0, any_write = 0, err, status = 0, i, n;
	uint64_t hold_seconds = 0;

	req.size = (uint64_t)sysconf(_SC_PAGESIZE);
	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--offset") == 0 && i + 1 < argc)
			req.offset = number("--offset", argv[++i]);
		else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc)
			req.size = number("--size", argv[++i]);
		else if (strcmp(argv[i], "--private") == 0)
			req.flags &= ~MMAPCLIENT_SHARED;
		else if (strcmp(argv[i], "--read-only") == 0)
			read_only = 1;
		else if (strcmp(argv[i], "--hold") == 0 && i + 1 < argc) {
			hold_seconds = number("--hold", argv[++i]);
			if (hold_seconds == 0 || hold_seconds > 3600)
				usage();
		}
		else if (strcmp(argv[i], "--cache") == 0 && i + 1 < argc) {
			const char *m = argv[++i];

			if (strcmp(m, "default") == 0)
				req.cache = MMAPCLIENT_CACHE_DEFAULT;
			else if (strcmp(m, "cached") == 0)
				req.cache = MMAPCLIENT_CACHE_CACHED;
			else if (strcmp(m, "uncached") == 0)
				req.cache = MMAPCLIENT_CACHE_UNCACHED;
			else if (strcmp(m, "wc") == 0)
				req.cache = MMAPCLIENT_CACHE_WC;
			else
				usage();
		} else
			usage();
	}
	if (i >= argc)
		usage();
	req.device = argv[i++];
	n = argc - i;
	acc = calloc((size_t)n + 1, sizeof(*acc));
	if (acc == NULL) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return 1;
	}
	for (int k = 0; k < n; k++) {
		parse_access(argv[i + k], &acc[k]);
		any_write |= acc[k].write;
	}
	if (any_write && !read_only)
		req.flags |= MMAPCLIENT_WRITE;

	err = mmapclient_connect(NULL, &c);
	if (err) {
		fprintf(stderr, "%s: connect: %s (%s, errno %d): %s\n", prog,
		    strerror(-err), errno_name(-err), -err,
		    mmapclient_error(NULL));
		free(acc);
		return 1;
	}
	err = mmapclient_map(c, &req, &r);
	/* Whatever the answer, nothing of /dev/mem may be left behind. */
	if (err) {
		maps_scan(NULL, path, sizeof(path), &devmem_maps);
		devmem_fds = fds_on_devmem();
		fprintf(stderr, "%s: map %s: %s (%s, errno %d): %s\n", prog,
		    req.device, strerror(-err), errno_name(-err), -err,
		    mmapclient_error(c));
		if (devmem_maps || devmem_fds)
			printf("raw /dev/mem: YES (%u mapped, %u fds)\n",
			    devmem_maps, devmem_fds);
		else
			printf("raw /dev/mem: no\n");
		status = 1;
		goto out;
	}

	maps_scan(r->addr, path, sizeof(path), &devmem_maps);
	devmem_fds = fds_on_devmem();
	printf("map %s: kind %s, cache %s, %s, %s, %zu bytes, from %s\n",
	    req.device, kind_name(r->kind), cache_name(r->cache),
	    (r->mmap_flags & MAP_SHARED) ? "shared" : "private",
	    (r->prot & PROT_WRITE) ? "rw" : "r", r->size, path);
	if (devmem_maps || devmem_fds)
		printf("raw /dev/mem: YES (%u mapped, %u fds)\n", devmem_maps,
		    devmem_fds);
	else
		printf("raw /dev/mem: no\n");

	if (hold_seconds != 0)
		status = hold(r, acc, n, hold_seconds);
	else
		status = accesses_run(r, acc, n, "");

	err = mmapclient_release(c, r);
	if (err && status == 0) {
		fprintf(stderr, "%s: release: %s (%s, errno %d): %s\n", prog,
		    strerror(-err), errno_name(-err), -err,
		    mmapclient_error(c));
		status = 1;
	}
out:
	mmapclient_close(c);
	free(acc);
	if (fflush(stdout) != 0)
		status = 1;
	return status;
}
