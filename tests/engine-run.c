/*
 * engine-run: one real /dev/zero request through the engine, in-process.
 * It stands where `mmapctl map --dev zero` will stand once the daemon
 * exists: it prints the grant, maps the fd as the grant says, checks the
 * memory reads zero, writes a pattern and reads it back.
 *
 * usage: engine-run --dev zero --size N[K|M|G] [--shared] [--read-only]
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "devices.h"
#include "engine.h"

static void
usage(void)
{
	fprintf(stderr, "usage: engine-run --dev zero --size N[K|M|G] "
	    "[--shared] [--read-only]\n");
	exit(2);
}

static int
size_parse(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'K': case 'k': shift = 10; end++; break;
	case 'M': case 'm': shift = 20; end++; break;
	case 'G': case 'g': shift = 30; end++; break;
	}
	if (*end != '\0' || v > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

/* Prove the memory works: zero first, then a pattern that reads back. */
static int
memory_check(unsigned char *p, uint64_t size, int writable)
{
	uint64_t i;

	for (i = 0; i < size; i++) {
		if (p[i] != 0) {
			fprintf(stderr, "engine-run: byte %" PRIu64
			    " reads %#x, not zero\n", i, p[i]);
			return -1;
		}
	}
	if (!writable)
		return 0;
	for (i = 0; i < size; i++)
		p[i] = (unsigned char)(i * 31 + 7);
	for (i = 0; i < size; i++) {
		if (p[i] != (unsigned char)(i * 31 + 7)) {
			fprintf(stderr, "engine-run: byte %" PRIu64
			    " did not keep its pattern\n", i);
			return -1;
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "size", required_argument, NULL, 's' },
		{ "shared", no_argument, NULL, 'S' },
		{ "read-only", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct map_request req = { .flags = MAP_DESC_WRITE };
	struct map_result res;
	struct map_engine eng;
	struct map_device zero;
	const char *dev = NULL;
	void *p;
	int c, err, status = 1;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dev = optarg;
			break;
		case 's':
			if (size_parse(optarg, &req.size) < 0) {
				fprintf(stderr, "engine-run: bad size '%s'\n",
				    optarg);
				return 2;
			}
			break;
		case 'S':
			req.flags |= MAP_DESC_SHARED;
			break;
		case 'r':
			req.flags &= ~MAP_DESC_WRITE;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || dev == NULL || req.size == 0)
		usage();
	if (strcmp(dev, "zero") != 0) {
		fprintf(stderr, "engine-run: only --dev zero runs without "
		    "the daemon\n");
		return 2;
	}

	err = engine_open(&eng, "/dev/zero");
	if (err) {
		fprintf(stderr, "engine-run: /dev/zero: %s\n", strerror(-err));
		return 1;
	}
	err = zero_device_open(&zero, "/dev/zero", O_RDWR);
	if (err) {
		fprintf(stderr, "engine-run: /dev/zero: %s\n", strerror(-err));
		goto out_engine;
	}

	req.dev = &zero;
	req.peer.uid = getuid();
	req.peer.gid = getgid();
	req.peer.pid = getpid();
	err = engine_map(&eng, &req, &res);
	if (err) {
		fprintf(stderr, "engine-run: map failed: %s (errno %d): %s\n",
		    strerror(-err), -err, res.msg);
		goto out_dev;
	}
	printf("granted: dev=zero kind=%s size=%" PRIu64 " offset=%" PRIu64
	    " prot=%s flags=%s cache=%s\n", map_kind_name(res.kind), res.size,
	    res.offset, res.prot & PROT_WRITE ? "rw" : "r",
	    res.mmap_flags == MAP_SHARED ? "shared" : "private",
	    map_cache_name(res.cache));

	p = mmap(NULL, res.size, res.prot, res.mmap_flags, res.fd,
	    (off_t)res.offset);
	if (p == MAP_FAILED) {
		fprintf(stderr, "engine-run: mmap: %s\n", strerror(errno));
		goto out_res;
	}
	if (memory_check(p, res.size, res.prot & PROT_WRITE) == 0) {
		printf("mapped at %p: read %" PRIu64 " zero bytes%s\n", p,
		    res.size, res.prot & PROT_WRITE ?
		    ", wrote a pattern and read it back" : "");
		status = 0;
	}
	munmap(p, res.size);
out_res:
	engine_result_close(&res);
out_dev:
	map_device_close(&zero);
out_engine:
	engine_close(&eng);
	return status;
}
