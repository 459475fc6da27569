/*
 * client-test: what a user of libmmapclient writes, built in the systemd
 * VM test (tests/vm-systemd/guest-test.sh) the way such a user builds
 * it, against the installed library:
 *
 *	cc client-test.c $(pkg-config --cflags --libs mmapclient)
 *
 * It connects to the daemon at the library's default socket (no path,
 * no $MMAPD_SOCKET: the unit's socket must be where the library looks),
 * maps 1 MiB of zero shared and writable, checks that it reads zero,
 * writes a pattern through the mapping and reads it back, asks the
 * daemon for its status, releases the lease and closes.
 *
 * It uses only the installed header, so it builds with no config.h.
 * Exit status: 0 all done, "client-test: ok" last; 1 anything failed,
 * said on stderr.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <mmapclient.h>

#define MAP_BYTES	(1u << 20)

static int
fail(const struct mmapclient *c, const char *what, int err)
{
	fprintf(stderr, "client-test: %s: %s (%s)\n", what, strerror(-err),
	    mmapclient_error(c));
	return 1;
}

/* The word at index i: differs from one word to the next, never 0. */
static uint32_t
pattern(size_t i)
{
	return 0x9e3779b9u ^ (uint32_t)i;
}

/* Zero first, then the pattern written and read back, word by word. */
static int
touch(const struct mmapclient_region *r)
{
	volatile uint32_t *w = r->addr;
	size_t i, n = r->size / sizeof(*w);

	for (i = 0; i < n; i++) {
		if (w[i] != 0) {
			fprintf(stderr, "client-test: word %zu of fresh memory "
			    "is %#" PRIx32 ", not 0\n", i, w[i]);
			return 1;
		}
	}
	for (i = 0; i < n; i++)
		w[i] = pattern(i);
	for (i = 0; i < n; i++) {
		if (w[i] != pattern(i)) {
			fprintf(stderr, "client-test: word %zu reads %#" PRIx32
			    " after writing %#" PRIx32 "\n", i, w[i],
			    pattern(i));
			return 1;
		}
	}
	return 0;
}

int
main(void)
{
	const struct mmapclient_request req = {
		.device = "zero",
		.size = MAP_BYTES,
		.flags = MMAPCLIENT_SHARED | MMAPCLIENT_WRITE,
	};
	struct mmapclient *c = NULL;
	struct mmapclient_region *r = NULL;
	struct mmapclient_status *st = NULL;
	int err, status = 1;

	err = mmapclient_connect(NULL, &c);
	if (err)
		return fail(NULL, "connect to the default socket", err);
	err = mmapclient_map(c, &req, &r);
	if (err) {
		status = fail(c, "map 1 MiB of zero, shared, writable", err);
		goto out;
	}
	if (r->size != MAP_BYTES || r->kind != MMAPCLIENT_KIND_SHMEM) {
		fprintf(stderr, "client-test: granted %zu bytes of kind %d, "
		    "wanted %u of shmem\n", r->size, (int)r->kind, MAP_BYTES);
		goto out;
	}
	if (touch(r))
		goto out;
	printf("client-test: lease %" PRIu64 ": %zu bytes mapped, read zero, "
	    "pattern written and read back\n", r->lease_id, r->size);
	err = mmapclient_status(c, &st);
	if (err) {
		status = fail(c, "status", err);
		goto out;
	}
	printf("client-test: daemon %s, %" PRIu32 " lease(s) held\n",
	    st->version, st->leases);
	if (st->leases < 1) {
		fprintf(stderr, "client-test: the daemon counts no lease "
		    "while this one is held\n");
		goto out;
	}
	err = mmapclient_release(c, r);
	r = NULL;
	if (err) {
		status = fail(c, "release", err);
		goto out;
	}
	printf("client-test: ok\n");
	status = 0;
out:
	mmapclient_status_free(st);
	if (r != NULL)
		mmapclient_region_free(r);
	mmapclient_close(c);
	return status;
}
