/*
 * burst: grants at full speed, for the systemd VM test's audit trail
 * (tests/vm-systemd/guest-test.sh): N Maps of 4 KiB of zero, each
 * released at once (fewer when S seconds have gone by first: QEMU
 * without KVM is slow), then D Maps over max_size, refused, all on one
 * connection named "burst".  Built in the guest against the installed
 * library:
 *
 *	cc burst.c $(pkg-config --cflags --libs mmapclient)
 *	burst N D S
 *
 * Prints "burst: pid P: G granted and released, D denied in T ms";
 * exit 0, or 1 when any Map or Release did not go as meant.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mmapclient.h>

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
main(int argc, char **argv)
{
	struct mmapclient_request req = {
		.device = "zero",
		.size = 4096,
		.flags = MMAPCLIENT_WRITE,
	};
	struct mmapclient *c = NULL;
	struct mmapclient_region *r;
	long n, d, s, i;
	long long t0;
	int err;

	if (argc != 4 || (n = atol(argv[1])) < 0 || (d = atol(argv[2])) < 0 ||
	    (s = atol(argv[3])) <= 0) {
		fprintf(stderr, "usage: burst GRANTS DENIALS SECONDS\n");
		return 2;
	}
	err = mmapclient_connect_named(NULL, "burst", &c);
	if (err) {
		fprintf(stderr, "burst: connect: %s\n", strerror(-err));
		return 1;
	}
	t0 = now_ms();
	for (i = 0; i < n; i++) {
		if (i % 256 == 0 && now_ms() - t0 > s * 1000)
			break;
		err = mmapclient_map(c, &req, &r);
		if (err == 0)
			err = mmapclient_release(c, r);
		if (err) {
			fprintf(stderr, "burst: grant %ld: %s (%s)\n", i,
			    strerror(-err), mmapclient_error(c));
			mmapclient_close(c);
			return 1;
		}
	}
	n = i;
	req.size = 1ull << 40;	/* over any max_size the test sets */
	for (i = 0; i < d; i++) {
		err = mmapclient_map(c, &req, &r);
		if (err != -EFBIG) {
			fprintf(stderr, "burst: denial %ld: %s, not EFBIG\n",
			    i, err ? strerror(-err) : "granted");
			mmapclient_close(c);
			return 1;
		}
	}
	printf("burst: pid %ld: %ld granted and released, %ld denied in "
	    "%lld ms\n", (long)getpid(), n, d, now_ms() - t0);
	mmapclient_close(c);
	return 0;
}
