/*
 * mmapctl map: its options; ask for a mapping, map it, print the grant,
 * prove the memory works or do the --read and --write asked
 * (mmapctl-reg.c), maybe hold it (until a signal, or until the daemon
 * revokes it), and release it.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
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

/* ------------------------------------------------------------------------ */
/* map's options */

enum {
	OPT_DEV = OPT_FIRST_CMD,
	OPT_SIZE,
	OPT_OFFSET,
	OPT_SHARED,
	OPT_NAME,
	OPT_READ_ONLY,
	OPT_CACHE,
	OPT_HOLD,
	OPT_FILL,
	OPT_EXPECT,
	OPT_READ,
	OPT_WRITE,
	OPT_CREATE,
	OPT_ATTACH,
};

static const struct option map_opts[] = {
	COMMON_OPTS,
	{ "dev", required_argument, NULL, OPT_DEV },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "offset", required_argument, NULL, OPT_OFFSET },
	{ "shared", no_argument, NULL, OPT_SHARED },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "read-only", no_argument, NULL, OPT_READ_ONLY },
	{ "cache", required_argument, NULL, OPT_CACHE },
	{ "hold", no_argument, NULL, OPT_HOLD },
	{ "fill", required_argument, NULL, OPT_FILL },
	{ "expect", required_argument, NULL, OPT_EXPECT },
	{ "read", required_argument, NULL, OPT_READ },
	{ "write", required_argument, NULL, OPT_WRITE },
	{ "create", no_argument, NULL, OPT_CREATE },
	{ "attach", no_argument, NULL, OPT_ATTACH },
	{ NULL, 0, NULL, 0 },
};

static uint64_t
size_arg(const char *opt, const char *s)
{
	uint64_t v;

	if (number_parse(s, 1, UINT64_MAX, &v) < 0)
		usage_fail(opt, "'%s' is not a size (decimal or 0x hex, "
		    "optional K, M or G)", s);
	return v;
}

static unsigned char
byte_arg(const char *opt, const char *s)
{
	uint64_t v;

	if (number_parse(s, 0, 255, &v) < 0)
		usage_fail(opt, "'%s' is not a byte (0 to 255, decimal or 0x "
		    "hex)", s);
	return (unsigned char)v;
}


static enum mmapclient_cache
cache_arg(const char *s)
{
	static const char *const names[] = {
		[MMAPCLIENT_CACHE_DEFAULT] = "default",
		[MMAPCLIENT_CACHE_CACHED] = "cached",
		[MMAPCLIENT_CACHE_UNCACHED] = "uncached",
		[MMAPCLIENT_CACHE_WC] = "wc",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i]) == 0)
			return (enum mmapclient_cache)i;
	}
	usage_fail("--cache", "'%s' is not one of default, cached, uncached, "
	    "wc", s);
}

/*
 * Without --size, map's accesses ask for what covers them; the daemon
 * rounds it up to pages.
 */
static uint64_t
ops_size(const struct map_opts *o)
{
	uint64_t end, size = 0;
	size_t i;

	for (i = 0; i < o->n_ops; i++) {
		end = o->ops[i].offset + o->ops[i].width / 8;
		if (end < o->ops[i].offset)
			return UINT64_MAX;	/* the daemon refuses it */
		if (end > size)
			size = end;
	}
	return size;
}

/* Every device and region but zero is device memory (mmapd.conf(5)). */
static int
device_memory(const char *device)
{
	return strcmp(device, "zero") != 0;
}

void
parse_map(int argc, char **argv, struct map_opts *o)
{
	int opt, have_size = 0, read_only = 0, stores = 0;

	*o = (struct map_opts){
		.req = { .flags = MMAPCLIENT_WRITE },
		.fill = -1,
		.expect = -1,
	};
	/* At most one access per argument: no growing as they come. */
	o->ops = calloc((size_t)argc, sizeof(*o->ops));
	if (o->ops == NULL) {
		fail_line(-ENOMEM, "map", "cannot allocate the accesses");
		exit(EXIT_REFUSED);
	}
	while ((opt = getopt_long(argc, argv, COMMON_SHORT, map_opts, NULL)) !=
	    -1) {
		if (common_opt(opt, optarg))
			continue;
		switch (opt) {
		case OPT_DEV:
			o->req.device = optarg;
			break;
		case OPT_SIZE:
			o->req.size = size_arg("--size", optarg);
			have_size = 1;
			break;
		case OPT_OFFSET:
			o->req.offset = size_arg("--offset", optarg);
			break;
		case OPT_SHARED:
			o->req.flags |= MMAPCLIENT_SHARED;
			break;
		case OPT_NAME:
			o->req.region = optarg;
			break;
		case OPT_READ_ONLY:
			read_only = 1;
			break;
		case OPT_CREATE:
			o->req.flags |= MMAPCLIENT_CREATE;
			break;
		case OPT_ATTACH:
			o->req.flags |= MMAPCLIENT_ATTACH;
			break;
		case OPT_CACHE:
			o->req.cache = cache_arg(optarg);
			break;
		case OPT_HOLD:
			o->hold = 1;
			break;
		case OPT_FILL:
			o->fill = byte_arg("--fill", optarg);
			break;
		case OPT_EXPECT:
			o->expect = byte_arg("--expect", optarg);
			break;
		case OPT_READ:
		case OPT_WRITE:
			reg_op_arg(opt == OPT_WRITE, optarg, &o->ops[o->n_ops]);
			stores += opt == OPT_WRITE;
			o->n_ops++;
			break;
		default:
			bad_option(opt, argv);
		}
	}
	if (optind != argc)
		usage_fail("map", "unexpected argument '%s'", argv[optind]);
	if (o->req.device == NULL || o->req.device[0] == '\0')
		usage_fail("map", "--dev NAME is required");
	if (!have_size && o->n_ops == 0)
		usage_fail("map", "--size N is required");
	if (!have_size)
		o->req.size = ops_size(o);
	if (read_only)
		o->req.flags &= ~MMAPCLIENT_WRITE;
	if ((o->req.flags & MMAPCLIENT_CREATE) &&
	    (o->req.flags & MMAPCLIENT_ATTACH))
		usage_fail("--create", "does not go with --attach");
	if ((o->req.flags & (MMAPCLIENT_CREATE | MMAPCLIENT_ATTACH)) &&
	    (o->req.region == NULL || o->req.region[0] == '\0'))
		usage_fail(o->req.flags & MMAPCLIENT_CREATE ? "--create" :
		    "--attach", "needs --name REGION");
	if (o->fill >= 0 && read_only)
		usage_fail("--fill", "cannot write with --read-only");
	if (stores && read_only)
		usage_fail("--write", "cannot write with --read-only");
	if (o->n_ops && (o->fill >= 0 || o->expect >= 0))
		usage_fail(o->fill >= 0 ? "--fill" : "--expect", "does not go "
		    "with --read or --write");
	/*
	 * What mmapctl knows before it asks: every name but zero is device
	 * memory ([mem] and the regions, of mem or pci), which mmapctl
	 * never touches but through --read and --write, and which no name
	 * of shared memory goes with.
	 */
	if (device_memory(o->req.device) && (o->fill >= 0 || o->expect >= 0))
		usage_fail(o->fill >= 0 ? "--fill" : "--expect", "%s is "
		    "device memory, which mmapctl reads and writes only with "
		    "--read and --write (exact-width accesses)",
		    o->req.device);
	if (device_memory(o->req.device) && o->req.region != NULL)
		usage_fail("--name", "names shared memory of zero, not of %s",
		    o->req.device);
	/*
	 * The accesses are all the mapping is for: writable only for a
	 * store, and then shared, since a private copy of device memory
	 * never reaches the device.
	 */
	if (stores)
		o->req.flags |= MMAPCLIENT_SHARED | MMAPCLIENT_WRITE;
	else if (o->n_ops)
		o->req.flags &= ~MMAPCLIENT_WRITE;
	/*
	 * A private writable map of device memory is copy-on-write: its
	 * writes would never reach the device, and the daemon refuses it.
	 * Writable means shared there.
	 */
	if ((o->req.flags & MMAPCLIENT_WRITE) && device_memory(o->req.device))
		o->req.flags |= MMAPCLIENT_SHARED;
}

/* ------------------------------------------------------------------------ */

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

/* What the revoke handler saw of the lease held. */
struct hold_state {
	uint64_t lease;
	int revoked;
	char reason[256];
	int64_t deadline;
	uint32_t seconds;
	enum mmapclient_enforce enforce;
};

/* A lease of the connection is being revoked: note it, for hold(). */
static void
hold_revoke(struct mmapclient *c, const struct mmapclient_revoking *ev,
    void *arg)
{
	struct hold_state *h = arg;

	(void)c;
	/* mmapctl holds one lease; the daemon names no other. */
	if (ev->lease_id != h->lease || h->revoked)
		return;
	h->revoked = 1;
	snprintf(h->reason, sizeof(h->reason), "%s", ev->reason);
	h->deadline = ev->deadline_unix_sec;
	h->seconds = ev->seconds;
	h->enforce = ev->enforce;
}

static const char *
enforce_name(enum mmapclient_enforce e)
{
	switch (e) {
	case MMAPCLIENT_ENFORCE_KILL:
		return "kill";
	case MMAPCLIENT_ENFORCE_LOG:
		return "log";
	default:
		return "unknown";
	}
}

static void
hold_print_revoke(const struct hold_state *h)
{
	char reason[sizeof(h->reason)];

	if (json) {
		printf("{\"event\":\"revoking\",\"lease\":%" PRIu64
		    ",\"reason\":", h->lease);
		json_str(h->reason);
		printf(",\"deadline_unix_sec\":%" PRId64 ",\"seconds\":%"
		    PRIu32 ",\"enforce\":\"%s\"}\n", h->deadline, h->seconds,
		    enforce_name(h->enforce));
	} else {
		printf("revoking lease %" PRIu64 ": %s; deadline %" PRId64
		    " (in %" PRIu32 " s), then %s\n", h->lease,
		    h->reason[0] ? text_str(h->reason, reason,
		    sizeof(reason)) : "no reason given", h->deadline,
		    h->seconds, enforce_name(h->enforce));
	}
	fflush(stdout);
}

/*
 * Wait for SIGINT or SIGTERM, for the daemon to revoke the lease, or for
 * it to drop the connection.  The signals are blocked by the caller
 * before it says it is holding, so one sent as soon as that line is read
 * is not lost.  0 on a signal, EXIT_REVOKED on a revocation (printed).
 */
static int
hold(struct mmapclient *c, const struct mmapclient_region *r,
    const sigset_t *sigs, struct hold_state *h)
{
	struct signalfd_siginfo si;
	struct pollfd pfd[2];
	int sfd, n, status = 0;

	sfd = signalfd(-1, sigs, SFD_CLOEXEC);
	if (sfd < 0) {
		fail_line(-errno, "hold", "signalfd");
		return EXIT_REFUSED;
	}
	pfd[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = mmapclient_fd(c), .events = POLLIN };
	/* An event read by the Hello that asked for them is queued. */
	n = mmapclient_dispatch(c);
	while (n >= 0 && !h->revoked) {
		n = poll(pfd, 2, -1);
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n < 0) {
			fail_line(-errno, "hold", "poll");
			status = EXIT_REFUSED;
			break;
		}
		if (pfd[0].revents) {
			if (read(sfd, &si, sizeof(si)) < 0 && errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents)
			n = mmapclient_dispatch(c);
	}
	if (n == -ECONNRESET) {
		fail_line(n, "hold", "the daemon closed the connection while "
		    "lease %" PRIu64 " was held", r->lease_id);
		status = EXIT_REFUSED;
	} else if (n < 0 && status == 0) {
		fail_line(n, "hold", "%s", mmapclient_error(c));
		status = EXIT_REFUSED;
	} else if (h->revoked) {
		hold_print_revoke(h);
		status = EXIT_REVOKED;
	}
	close(sfd);
	return status;
}

int
cmd_map(struct mmapclient *c, const struct map_opts *o)
{
	struct map_result res = { .ok = 0 };
	struct hold_state hs = { .lease = 0 };
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
		/* Told of a revocation before it says it holds. */
		hs.lease = lease;
		err = mmapclient_on_revoke(c, hold_revoke, &hs);
		if (err) {
			fail_line(err, "hold", "%s", mmapclient_error(c));
			mmapclient_region_free(r);
			return EXIT_REFUSED;
		}
		if (json)
			fprintf(stderr, "holding lease %" PRIu64 "; interrupt "
			    "to release\n", lease);
		else
			printf("holding lease %" PRIu64 "; interrupt to "
			    "release\n", lease);
		fflush(stdout);
		status = hold(c, r, &sigs, &hs);
		if (status && status != EXIT_REVOKED) {
			mmapclient_region_free(r);
			return status;
		}
	}

	/* Revoked: unmapped and released, as the daemon asked. */
	err = mmapclient_release(c, r);
	if (err) {
		snprintf(what, sizeof(what), "release lease %" PRIu64, lease);
		fail_line(err, what, "%s", mmapclient_error(c));
		return status && status != EXIT_REVOKED ? status :
		    EXIT_REFUSED;
	}
	if (!json && (status == 0 || status == EXIT_REVOKED))
		printf("released lease %" PRIu64 "\n", lease);
	return status;
}
