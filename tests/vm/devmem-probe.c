/*
 * devmem-probe: 32-bit register access to a device region through a
 * libmmapclient mapping, for the VM tests (tests/vm/guest-test.sh).
 *
 *	devmem-probe [--private] REGION COMMAND ARGS...
 *
 *	read32 OFF		prints the word at OFF
 *	write32 OFF VAL		writes VAL at OFF, prints the word read back
 *	fill32 OFF N VAL	writes N words of VAL from OFF, then reads them
 *				back
 *	expect32 OFF N VAL	checks that the N words from OFF all read VAL
 *
 * --private asks for a MAP_PRIVATE mapping instead of a shared one.  A
 * private writable mapping of device memory is copy-on-write: a write
 * lands in a private copy of the page and never reaches the device, and
 * this shows it.
 *
 * REGION is what the daemon offers (a [region NAME] of the policy, or
 * "mem" with OFF a physical address).  The socket is $MMAPD_SOCKET, else
 * the library's default.  OFF is a byte offset, 4-byte aligned; numbers
 * are decimal or 0x hex.  Only the pages that cover the words are asked
 * for, writable only for write32 and fill32.
 *
 * Device memory is touched only with exact-width volatile 32-bit loads
 * and stores, never memcpy() or memset(): those may use any width, and
 * MMIO registers (edu's among them) answer only the access they expect.
 *
 * Exit status: 0 done; 1 the map was refused, the grant is not device
 * memory, or a word read back is not what it should be; 2 usage.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmapclient.h"

/* Enough for the 1 MiB regions of the tests, far below any overflow. */
#define MAX_WORDS	(UINT64_C(1) << 24)

static const char *prog = "devmem-probe";

static void
usage(void)
{
	fprintf(stderr,
	    "usage: %s [--private] REGION read32 OFF\n"
	    "       %s [--private] REGION write32 OFF VAL\n"
	    "       %s [--private] REGION fill32 OFF N VAL\n"
	    "       %s [--private] REGION expect32 OFF N VAL\n",
	    prog, prog, prog, prog);
	exit(2);
}

/* errno's name, as mmapctl prints it, so the guest test can grep both. */
static const char *
errno_name(int err)
{
	const char *s = strerrorname_np(err);

	return s != NULL ? s : "?";
}

static uint64_t
number(const char *what, const char *s, uint64_t max)
{
	unsigned long long v;
	char *end;

	if (s[0] < '0' || s[0] > '9') {
		fprintf(stderr, "%s: %s: '%s' is not a number\n", prog, what, s);
		exit(2);
	}
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0' || v > max) {
		fprintf(stderr, "%s: %s: '%s' is not a number up to %#" PRIx64
		    "\n", prog, what, s, max);
		exit(2);
	}
	return v;
}

int
main(int argc, char **argv)
{
	enum { READ, WRITE, FILL, EXPECT } op;
	struct mmapclient_request req = { .flags = MMAPCLIENT_SHARED };
	struct mmapclient_region *r = NULL;
	struct mmapclient *c = NULL;
	volatile uint32_t *w;
	uint64_t off, n = 1, page, start, end, i, bad = 0, first_bad = 0;
	uint32_t val = 0, got, first_got = 0;
	int err, status = 0;

	if (argc > 1 && strcmp(argv[1], "--private") == 0) {
		req.flags &= ~MMAPCLIENT_SHARED;
		argv[1] = argv[0];
		argv++;
		argc--;
	}
	if (argc < 4)
		usage();
	if (strcmp(argv[2], "read32") == 0 && argc == 4)
		op = READ;
	else if (strcmp(argv[2], "write32") == 0 && argc == 5)
		op = WRITE;
	else if (strcmp(argv[2], "fill32") == 0 && argc == 6)
		op = FILL;
	else if (strcmp(argv[2], "expect32") == 0 && argc == 6)
		op = EXPECT;
	else
		usage();

	off = number("OFF", argv[3], UINT64_MAX / 2);
	if (off % 4 != 0) {
		fprintf(stderr, "%s: OFF %#" PRIx64 " is not 4-byte aligned\n",
		    prog, off);
		return 2;
	}
	if (op == FILL || op == EXPECT)
		n = number("N", argv[4], MAX_WORDS);
	if (n == 0) {
		fprintf(stderr, "%s: N must be at least 1\n", prog);
		return 2;
	}
	if (op != READ)
		val = (uint32_t)number("VAL", argv[argc - 1], UINT32_MAX);

	/* The pages that hold the words, and no more. */
	page = (uint64_t)sysconf(_SC_PAGESIZE);
	start = off & ~(page - 1);
	end = (off + 4 * n + page - 1) & ~(page - 1);
	req.device = argv[1];
	req.offset = start;
	req.size = end - start;
	if (op == WRITE || op == FILL)
		req.flags |= MMAPCLIENT_WRITE;

	err = mmapclient_connect(NULL, &c);
	if (err) {
		fprintf(stderr, "%s: connect: %s (%s, errno %d): %s\n", prog,
		    strerror(-err), errno_name(-err), -err,
		    mmapclient_error(NULL));
		return 1;
	}
	err = mmapclient_map(c, &req, &r);
	if (err) {
		fprintf(stderr, "%s: map %s at %#" PRIx64 " size %#" PRIx64
		    ": %s (%s, errno %d): %s\n", prog, req.device, req.offset,
		    req.size, strerror(-err), errno_name(-err), -err,
		    mmapclient_error(c));
		mmapclient_close(c);
		return 1;
	}
	if (r->kind != MMAPCLIENT_KIND_DEVICE || r->size < req.size) {
		fprintf(stderr, "%s: map %s: granted %zu bytes of kind %d, "
		    "not %" PRIu64 " bytes of device memory\n", prog,
		    req.device, r->size, (int)r->kind, req.size);
		status = 1;
		goto out;
	}

	w = (volatile uint32_t *)((char *)r->addr + (off - start));
	switch (op) {
	case READ:
		printf("0x%08" PRIx32 "\n", w[0]);
		break;
	case WRITE:
		w[0] = val;
		got = w[0];
		printf("0x%08" PRIx32 "\n", got);
		break;
	case FILL:
	case EXPECT:
		if (op == FILL)
			for (i = 0; i < n; i++)
				w[i] = val;
		for (i = 0; i < n; i++) {
			got = w[i];
			if (got != val && bad++ == 0) {
				/* Kept: a second read may differ. */
				first_bad = i;
				first_got = got;
			}
		}
		if (bad) {
			fprintf(stderr, "%s: %s %s: %" PRIu64 " of %" PRIu64
			    " words are not 0x%08" PRIx32 ", the first at "
			    "%#" PRIx64 " reads 0x%08" PRIx32 "\n", prog,
			    req.device, argv[2], bad, n, val,
			    off + 4 * first_bad, first_got);
			status = 1;
			break;
		}
		printf("%s: %" PRIu64 " words of 0x%08" PRIx32 " at %#" PRIx64
		    "%s\n", argv[2], n, val, off,
		    op == FILL ? ", written and read back" : " read");
		break;
	}
out:
	err = mmapclient_release(c, r);
	if (err && status == 0) {
		fprintf(stderr, "%s: release: %s (%s, errno %d): %s\n", prog,
		    strerror(-err), errno_name(-err), -err,
		    mmapclient_error(c));
		status = 1;
	}
	mmapclient_close(c);
	if (fflush(stdout) != 0)
		status = 1;
	return status;
}
