/*
 * mmapctl map: ask for a mapping, map it, print the grant, prove the
 * memory works or do the --read and --write asked (mmapctl-reg.c),
 * maybe hold it, release it.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "mmapctl.h"

/* What map did to the memory, for the text and JSON reports. */
struct map_result {
	int read;			/* the memory was read */
	uint64_t nonzero;		/* bytes read that were not zero */
	int expect_ok;			/* --expect held */
	const char *write;		/* NULL, "pattern" or "fill" */
	uint64_t *values;		/* what each --read read */
	size_t done;			/* --read and --write done */
	int ok;
};

static unsigned char
pattern(size_t i, uint64_t lease)
{
	return (unsigned char)((i * 31 + 7) ^ (lease * 151));
}

/*
 * The memory checks.  Returns 0, or the exit status after printing why
 * they failed.
 */
static int
map_check(const struct map_opts *o, const struct mmapclient_region *r,
    struct map_result *res)
{
	volatile unsigned char *p = r->addr;
	int fresh = r->kind == MMAPCLIENT_KIND_ANON ||
	    (r->kind == MMAPCLIENT_KIND_SHMEM &&
	    (o->req.region == NULL || o->req.region[0] == '\0'));
	int named = !fresh;
	char what[32];
	size_t i;

	if (r->kind == MMAPCLIENT_KIND_DEVICE) {
		if (o->fill >= 0 || o->expect >= 0) {
			fail_line(-EINVAL, o->fill >= 0 ? "fill" : "expect",
			    "lease %" PRIu64 " is device memory, which mmapctl "
			    "does not read or write", r->lease_id);
			return EXIT_USAGE;
		}
		return 0;
	}

	res->read = 1;
	for (i = 0; i < r->size; i++)
		res->nonzero += p[i] != 0;
	if (fresh && res->nonzero) {
		for (i = 0; p[i] == 0; i++)
			;
		fail_line(-EIO, "read", "fresh memory of lease %" PRIu64
		    " is not zero: %" PRIu64 " bytes are not, the first at "
		    "offset %#zx", r->lease_id, res->nonzero, i);
		return EXIT_REFUSED;
	}

	if (o->expect >= 0) {
		snprintf(what, sizeof(what), "expect %#x", o->expect);
		for (i = 0; i < r->size; i++) {
			if (p[i] != o->expect) {
				fail_line(-EIO, what, "the byte at offset %#zx "
				    "of lease %" PRIu64 " is %#x", i,
				    r->lease_id, p[i]);
				return EXIT_REFUSED;
			}
		}
		res->expect_ok = 1;
	}

	if (!(r->prot & PROT_WRITE)) {
		if (o->fill >= 0) {
			fail_line(-EACCES, "fill", "lease %" PRIu64 " was "
			    "granted read-only", r->lease_id);
			return EXIT_REFUSED;
		}
		return 0;
	}
	if (o->fill >= 0) {
		snprintf(what, sizeof(what), "fill %#x", o->fill);
		for (i = 0; i < r->size; i++)
			p[i] = (unsigned char)o->fill;
		for (i = 0; i < r->size; i++) {
			if (p[i] != o->fill) {
				fail_line(-EIO, what, "the byte at offset %#zx "
				    "of lease %" PRIu64 " reads back %#x", i,
				    r->lease_id, p[i]);
				return EXIT_REFUSED;
			}
		}
		res->write = "fill";
	} else if (!named && o->expect < 0) {
		for (i = 0; i < r->size; i++)
			p[i] = pattern(i, r->lease_id);
		for (i = 0; i < r->size; i++) {
			if (p[i] != pattern(i, r->lease_id)) {
				fail_line(-EIO, "pattern", "the byte at offset "
				    "%#zx of lease %" PRIu64 " reads back %#x, "
				    "not %#x", i, r->lease_id, p[i],
				    pattern(i, r->lease_id));
				return EXIT_REFUSED;
			}
		}
		res->write = "pattern";
	}
	return 0;
}

static void
map_print_text_grant(const struct map_opts *o,
    const struct mmapclient_region *r)
{
	char sz[24];

	printf("lease %" PRIu64 ": %zu bytes of %s (%s) at %p, kind %s, "
	    "prot %s, %s, cache %s", r->lease_id, r->size, o->req.device,
	    size_text(r->size, sz, sizeof(sz)), r->addr,
	    kind_name(r->kind), prot_name(r->prot),
	    r->mmap_flags == MAP_SHARED ? "shared" : "private",
	    cache_name(r->cache));
	if (o->req.region && o->req.region[0])
		printf(", region %s", o->req.region);
	putchar('\n');
}

static void
map_print_text_result(const struct map_opts *o,
    const struct mmapclient_region *r, const struct map_result *res)
{
	if (r->kind == MMAPCLIENT_KIND_DEVICE) {
		printf("device memory: not read or written\n");
		return;
	}
	if (res->nonzero == 0)
		printf("read: %zu bytes, all zero\n", r->size);
	else
		printf("read: %zu bytes, %" PRIu64 " not zero\n", r->size,
		    res->nonzero);
	if (res->expect_ok)
		printf("expect: all %zu bytes are %#x\n", r->size, o->expect);
	if (res->write && strcmp(res->write, "fill") == 0)
		printf("fill: wrote %#x to all %zu bytes and read it back\n",
		    o->fill, r->size);
	else if (res->write)
		printf("write: wrote a pattern to all %zu bytes and read it "
		    "back\n", r->size);
	else if (!(r->prot & PROT_WRITE))
		printf("write: skipped, read-only\n");
	else
		printf("write: skipped, named region (use --fill)\n");
}

static void
map_print_json(const struct map_opts *o, const struct mmapclient_region *r,
    const struct map_result *res)
{
	printf("{\"command\":\"map\",\"lease\":%" PRIu64 ",\"device\":",
	    r->lease_id);
	json_str(o->req.device);
	printf(",\"region\":");
	json_str(o->req.region && o->req.region[0] ? o->req.region : NULL);
	printf(",\"size\":%zu,\"address\":\"%p\",\"kind\":\"%s\","
	    "\"prot\":\"%s\",\"shared\":%s,\"cache\":\"%s\"", r->size,
	    r->addr, kind_name(r->kind), prot_name(r->prot),
	    r->mmap_flags == MAP_SHARED ? "true" : "false",
	    cache_name(r->cache));
	if (res->read)
		printf(",\"read\":{\"bytes\":%zu,\"nonzero\":%" PRIu64 "}",
		    r->size, res->nonzero);
	else
		printf(",\"read\":null");
	if (o->expect >= 0)
		printf(",\"expect\":{\"byte\":%d,\"ok\":%s}", o->expect,
		    res->expect_ok ? "true" : "false");
	printf(",\"write\":");
	json_str(res->write);
	if (o->n_ops)
		reg_ops_json(o, res->values, res->done);
	printf(",\"hold\":%s,\"ok\":%s}\n", o->hold ? "true" : "false",
	    res->ok ? "true" : "false");
}

/*
 * Wait for SIGINT or SIGTERM, or for the daemon to drop the connection.
 * The signals are blocked by the caller before it says it is holding, so
 * one sent as soon as that line is read is not lost.
 */
static int
hold(struct mmapclient *c, const struct mmapclient_region *r,
    const sigset_t *sigs)
{
	struct signalfd_siginfo si;
	struct pollfd pfd[2];
	int sfd, n;

	sfd = signalfd(-1, sigs, SFD_CLOEXEC);
	if (sfd < 0) {
		fail_line(-errno, "hold", "signalfd");
		return EXIT_REFUSED;
	}
	pfd[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = mmapclient_fd(c), .events = POLLIN };
	for (;;) {
		n = poll(pfd, 2, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fail_line(-errno, "hold", "poll");
			close(sfd);
			return EXIT_REFUSED;
		}
		if (pfd[0].revents) {
			if (read(sfd, &si, sizeof(si)) < 0 && errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents) {
			fail_line(-ECONNRESET, "hold", "the daemon closed the "
			    "connection while lease %" PRIu64 " was held",
			    r->lease_id);
			close(sfd);
			return EXIT_REFUSED;
		}
	}
	close(sfd);
	return 0;
}

int
cmd_map(struct mmapclient *c, const struct map_opts *o)
{
	struct map_result res = { .ok = 0 };
	struct mmapclient_region *r;
	char what[64];
	sigset_t sigs;
	int err, status;
	uint64_t lease;

	snprintf(what, sizeof(what), "map %s", o->req.device);
	err = mmapclient_map(c, &o->req, &r);
	if (err) {
		fail_line(err, what, "%s", mmapclient_error(c));
		return EXIT_REFUSED;
	}
	lease = r->lease_id;
	if (!json)
		map_print_text_grant(o, r);
	if (o->n_ops) {
		res.values = calloc(o->n_ops, sizeof(*res.values));
		if (res.values == NULL) {
			fail_line(-ENOMEM, "map", "cannot allocate the values "
			    "read");
			status = EXIT_REFUSED;
		} else {
			status = reg_ops_run(o, r, res.values, &res.done);
		}
	} else {
		status = map_check(o, r, &res);
	}
	res.ok = status == 0;
	if (json)
		map_print_json(o, r, &res);
	else if (status == 0 && o->n_ops == 0)
		map_print_text_result(o, r, &res);
	free(res.values);

	if (status == 0 && o->hold) {
		sigemptyset(&sigs);
		sigaddset(&sigs, SIGINT);
		sigaddset(&sigs, SIGTERM);
		sigprocmask(SIG_BLOCK, &sigs, NULL);
		if (json)
			fprintf(stderr, "holding lease %" PRIu64 "; interrupt "
			    "to release\n", lease);
		else
			printf("holding lease %" PRIu64 "; interrupt to "
			    "release\n", lease);
		fflush(stdout);
		status = hold(c, r, &sigs);
		if (status) {
			mmapclient_region_free(r);
			return status;
		}
	}

	err = mmapclient_release(c, r);
	if (err) {
		snprintf(what, sizeof(what), "release lease %" PRIu64, lease);
		fail_line(err, what, "%s", mmapclient_error(c));
		return status ? status : EXIT_REFUSED;
	}
	if (!json && status == 0)
		printf("released lease %" PRIu64 "\n", lease);
	return status;
}
