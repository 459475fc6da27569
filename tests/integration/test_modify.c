/*
 * Modify (issue 14): a register read, changed and written back by the
 * daemon as one request, under one policy check and one audit line;
 * and the counters since start that Status carries.
 *
 * As in test_regs.c, [mem] path names a sparse 8 GiB file standing in
 * for /dev/mem and iomem the recorded iomem-q35.txt (edu's BAR0 at
 * 0xfe900000, no driver).  A register of region edu at OFF is the
 * file's little-endian bytes at 0xfe900000 + OFF.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

#define STANDIN_SIZE	(8ull << 30)
#define EDU_BAR0	0xfe900000ull
#define RMW_ROUNDS	1000

TestSuite(modify, .fini = h_cleanup, .timeout = 120);

/*
 *	edu	edu's BAR, rw, root and uid 65534
 *	edu-ro	its first page, protection r (the default)
 *	rootonly its first page, rw, root alone
 */
static const char *
conf(const char *devpath)
{
	static char buf[2048];

	snprintf(buf, sizeof(buf),
	    "[daemon]\nsocket_mode = 0666\n\n"
	    "[zero]\nusers = *\nmax_size = 1M\n\n"
	    "[mem]\npath = %s\niomem = %s\nusers = root\nmax_size = 1M\n"
	    "shared = yes\nprotection = rw\n\n"
	    "[region edu]\ndevice = mem\nbase = 0xfe900000\nsize = 1M\n"
	    "users = root, 65534\nprotection = rw\nshared = yes\n\n"
	    "[region edu-ro]\ndevice = mem\nbase = 0xfe900000\nsize = 4K\n"
	    "users = root, 65534\n\n"
	    "[region rootonly]\ndevice = mem\nbase = 0xfe900000\n"
	    "size = 4K\nusers = root\nprotection = rw\n",
	    devpath, h_data("iomem-q35.txt"));
	return buf;
}

static uint64_t
file_le(const char *path, uint64_t off, unsigned int n)
{
	unsigned char b[8] = { 0 };
	uint64_t v = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned int i;

	cr_assert(fd >= 0, "open %s: %s", path, strerror(errno));
	cr_assert_eq(pread(fd, b, n, (off_t)off), (ssize_t)n);
	close(fd);
	for (i = 0; i < n; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static void
file_put_le(const char *path, uint64_t off, unsigned int n, uint64_t v)
{
	unsigned char b[8];
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	unsigned int i;

	cr_assert(fd >= 0, "open %s: %s", path, strerror(errno));
	for (i = 0; i < n; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	cr_assert_eq(pwrite(fd, b, n, (off_t)off), (ssize_t)n);
	close(fd);
}

/* ------------------------------------------------------------------------ */

Test(modify, result_audit_and_hello)
{
	const char *dev = h_sparse("devmem", STANDIN_SIZE);
	struct mmapclient *c;
	uint64_t old, new;
	Reply *r;
	int fd;
	size_t i;
	int seen = 0;

	h_start(conf(dev));
	file_put_le(dev, EDU_BAR0 + 0x10, 4, 0xf0f0a5a5);
	c = h_connect();
	cr_assert_eq(mmapclient_modify(c, "edu", 0x10, 32, 0x0000ffff,
	    0x00001234, &old, &new), 0, "%s", mmapclient_error(c));
	cr_expect_eq(old, 0xf0f0a5a5, "old %#" PRIx64, old);
	cr_expect_eq(new, 0xf0f01234, "new %#" PRIx64, new);
	/* It reached the device, and only the register's four bytes. */
	cr_expect_eq(file_le(dev, EDU_BAR0 + 0x10, 4), 0xf0f01234);
	cr_expect_eq(file_le(dev, EDU_BAR0 + 0x14, 4), 0);
	cr_expect_eq(file_le(dev, EDU_BAR0 + 0xc, 4), 0);
	/* One audit line, with both values. */
	h_log_expect("audit: event=modify", "device=edu ", "offset=0x10 ",
	    "width=32 ", "clear=0xffff ", "set=0x1234 ", "old=0xf0f0a5a5 ",
	    "new=0xf0f01234 ", "result=ok errno=0");
	cr_expect_eq(h_log_count("audit: event=modify"), 1);
	cr_expect_eq(h_log_count("audit: event=read"), 0,
	    "a Modify is not logged as a Read and a Write");

	/* 8 and 64 bits; clear and set of one bit, set wins. */
	file_put_le(dev, EDU_BAR0 + 0x20, 8, 0xfedcba9876543210ull);
	cr_assert_eq(mmapclient_modify(c, "edu", 0x20, 64, UINT64_MAX,
	    0x8000000000000001ull, &old, &new), 0, "%s",
	    mmapclient_error(c));
	cr_expect_eq(old, 0xfedcba9876543210ull);
	cr_expect_eq(file_le(dev, EDU_BAR0 + 0x20, 8), 0x8000000000000001ull);
	cr_assert_eq(mmapclient_modify(c, "edu", 0x27, 8, 0x80, 0x80, &old,
	    &new), 0, "%s", mmapclient_error(c));
	cr_expect_eq(old, 0x80);
	cr_expect_eq(new, 0x80);
	mmapclient_close(c);

	/* The feature is named in Hello. */
	fd = raw_connect();
	{
		Request req = MMAPD__V1__REQUEST__INIT;
		Mmapd__V1__Hello h = MMAPD__V1__HELLO__INIT;

		h.protocol_major = 1;
		req.request_id = 1;
		req.body_case = MMAPD__V1__REQUEST__BODY_HELLO;
		req.hello = &h;
		r = raw_call(fd, &req, NULL);
	}
	cr_assert_eq(r->error, 0);
	for (i = 0; i < r->hello->n_features; i++)
		seen |= strcmp(r->hello->features[i], "modify") == 0;
	cr_expect(seen, "no feature \"modify\" in Hello");
	reply_free(r);
	close(fd);
	cr_assert_eq(h_status_leases(), 0, "a Modify left a lease");
	h_stop();
}

/*
 * The refusals, each before the device is touched: protection = r
 * (EACCES, as for a Write), a user the entry does not name (EPERM),
 * bits wider than the width (EINVAL with the numbers, from the daemon
 * when the library's check is bypassed), zero.
 */
Test(modify, refusals)
{
	const char *dev = h_sparse("devmem", STANDIN_SIZE);
	struct mmapclient *c;
	uint64_t old = 1, new = 1;
	Reply *r;
	int fd;

	h_start(conf(dev));
	file_put_le(dev, EDU_BAR0, 4, 0x11111111);
	c = h_connect();
	cr_expect_eq(mmapclient_modify(c, "edu-ro", 0, 32, 0, 1, &old, &new),
	    -EACCES, "%s", mmapclient_error(c));
	cr_expect_eq(old, 0);
	cr_expect_eq(new, 0);
	cr_expect(strstr(mmapclient_error(c), "protection") != NULL ||
	    strstr(mmapclient_error(c), "read-only") != NULL, "%s",
	    mmapclient_error(c));
	cr_expect_eq(mmapclient_modify(c, "zero", 0, 32, 0, 1, NULL, NULL),
	    -EINVAL);
	/* The library refuses wide bits without a round trip. */
	cr_expect_eq(mmapclient_modify(c, "edu", 0, 8, 0x100, 0, NULL, NULL),
	    -EINVAL);
	cr_expect(strstr(mmapclient_error(c), "clear 0x100 does not fit in 8 "
	    "bits") != NULL, "%s", mmapclient_error(c));
	mmapclient_close(c);

	/* The daemon refuses them too, with the numbers. */
	fd = raw_connect();
	raw_hello(fd);
	r = raw_modify(fd, 2, "edu", 0, 16, 0, 0x10000);
	cr_expect_eq(r->error, EINVAL);
	cr_expect(strstr(r->message, "set 0x10000 does not fit 16 bits") !=
	    NULL, "%s", r->message);
	reply_free(r);
	r = raw_modify(fd, 3, "edu", 0, 32, 0x100000000ull, 0);
	cr_expect_eq(r->error, EINVAL);
	cr_expect(strstr(r->message, "clear 0x100000000 does not fit 32 "
	    "bits") != NULL, "%s", r->message);
	reply_free(r);
	r = raw_modify(fd, 4, "edu", 2, 32, 0, 1);
	cr_expect_eq(r->error, EINVAL, "unaligned: %d", r->error);
	reply_free(r);
	close(fd);

	/* uid 65534 is not in rootonly's users; it is in edu-ro's. */
	fd = raw_connect_as(H_NOBODY, H_NOBODY);
	raw_hello(fd);
	r = raw_modify(fd, 2, "rootonly", 0, 32, 0, 1);
	cr_expect_eq(r->error, EPERM, "got %d: %s", r->error, r->message);
	reply_free(r);
	r = raw_modify(fd, 3, "edu-ro", 0, 32, 0, 1);
	cr_expect_eq(r->error, EACCES, "got %d: %s", r->error, r->message);
	reply_free(r);
	/* And where it may, it is served. */
	r = raw_modify(fd, 4, "edu", 0, 32, 0xff, 0x22);
	cr_assert_eq(r->error, 0, "%s", r->message);
	cr_expect_eq(r->modify->old_value, 0x11111111);
	cr_expect_eq(r->modify->new_value, 0x11111122);
	reply_free(r);
	close(fd);

	/* Nothing refused reached the register. */
	cr_expect_eq(file_le(dev, EDU_BAR0, 4), 0x11111122);
	h_log_expect("audit: event=deny op=modify", "uid=65534 ",
	    "device=rootonly ", "errno=EPERM");
	h_log_expect("audit: event=deny op=modify", "device=edu-ro ",
	    "errno=EACCES");
	h_log_expect("audit: event=deny op=modify", "errno=EINVAL",
	    "does not fit 16 bits");
	h_stop();
}

/*
 * One client's RMW loop on its half of a 64-bit register: round i
 * writes i + 1 there (clear the half, set i + 1) and checks that its
 * half read i, what it wrote last.  Only this client writes this half;
 * had the other client's read and write of the register been split by
 * this one's, the other's write would have put back an older half
 * here, and a later round would read it.  Exits 0, or 1 + the round.
 */
static int
rmw_loop(int upper)
{
	struct mmapclient *c;
	unsigned int shift = upper ? 32 : 0;
	uint64_t half = 0xffffffffull << shift, old, new, i;
	int err;

	err = mmapclient_connect(h_sock(), &c);
	if (err)
		return 2;
	for (i = 0; i < RMW_ROUNDS; i++) {
		err = mmapclient_modify(c, "edu", 0x100, 64, half,
		    (i + 1) << shift, &old, &new);
		if (err) {
			fprintf(stderr, "round %" PRIu64 ": %s\n", i,
			    mmapclient_error(c));
			return 3;
		}
		if ((old & half) >> shift != i) {
			fprintf(stderr, "%s half: round %" PRIu64 " read "
			    "%#" PRIx64 "\n", upper ? "upper" : "lower", i,
			    old);
			return 4;
		}
	}
	mmapclient_close(c);
	return 0;
}

Test(modify, two_clients_never_interleave)
{
	const char *dev = h_sparse("devmem", STANDIN_SIZE);
	pid_t pid[2];
	int i, st;

	h_start(conf(dev));
	for (i = 0; i < 2; i++) {
		pid[i] = fork();
		cr_assert(pid[i] >= 0);
		if (pid[i] == 0)
			_exit(rmw_loop(i));
		h_track(pid[i]);
	}
	for (i = 0; i < 2; i++) {
		st = h_wait(pid[i], 60000);
		h_untrack(pid[i]);
		cr_assert(st != -1, "client %d did not finish its %d rounds "
		    "within 60 s", i, RMW_ROUNDS);
		cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		    "client %d: status %#x (4: it read a half the other "
		    "client's write had put back)", i, st);
	}
	/* Both halves hold their client's last write: no update lost. */
	cr_expect_eq(file_le(dev, EDU_BAR0 + 0x100, 8),
	    ((uint64_t)RMW_ROUNDS << 32) | RMW_ROUNDS, "the register holds "
	    "%#" PRIx64, file_le(dev, EDU_BAR0 + 0x100, 8));
	cr_expect_eq(h_log_count("audit: event=modify", "offset=0x100 "),
	    2 * RMW_ROUNDS);
	h_stop();
}

/* ------------------------------------------------------------------------ */
/* Counters since start */

static uint64_t
denials_of(const struct mmapclient_counters *k, int e)
{
	size_t i;

	for (i = 0; i < k->n_denials; i++)
		if (k->denials[i].error == e)
			return k->denials[i].count;
	return 0;
}

Test(modify, counters_follow_grants_and_denials)
{
	const char *dev = h_sparse("devmem", STANDIN_SIZE);
	struct mmapclient_request big = {
		.device = "zero", .size = 2 << 20,
	};
	struct mmapclient_request one = {
		.device = "zero", .size = 64 << 10,
		.flags = MMAPCLIENT_SHARED | MMAPCLIENT_WRITE,
	};
	struct mmapclient_region *a, *b, *x;
	struct mmapclient_status *st;
	struct mmapclient *c, *c2, *c3;
	const struct mmapclient_counters *k;
	Reply *r;
	int fd;

	h_start(conf(dev));
	c = h_connect();
	cr_assert_eq(mmapclient_status(c, &st), 0);
	k = st->counters;
	cr_assert_not_null(k, "no counters in Status");
	cr_expect_eq(k->grants, 0);
	cr_expect_eq(k->releases, 0);
	cr_expect_eq(k->revocations, 0);
	cr_expect_eq(k->n_denials, 0);
	cr_expect_eq(k->zero_bytes_held, 0);
	/* c, and h_start's probe if mmapd has not yet seen it close. */
	cr_expect(k->peak_clients >= 1 && k->peak_clients <= 2,
	    "peak clients %" PRIu32, k->peak_clients);
	mmapclient_status_free(st);

	/* Two grants held, one released; two EFBIG, one EPERM. */
	cr_assert_eq(mmapclient_map(c, &one, &a), 0, "%s",
	    mmapclient_error(c));
	cr_assert_eq(mmapclient_map(c, &one, &b), 0, "%s",
	    mmapclient_error(c));
	cr_assert_eq(mmapclient_release(c, b), 0);
	cr_expect_eq(mmapclient_map(c, &big, &x), -EFBIG);
	cr_expect_eq(mmapclient_map(c, &big, &x), -EFBIG);
	fd = raw_connect_as(H_NOBODY, H_NOBODY);
	raw_hello(fd);
	r = raw_read(fd, 2, "rootonly", 0, 32);
	cr_expect_eq(r->error, EPERM);
	reply_free(r);
	/* Three connections at once, then fewer. */
	c2 = h_connect();
	c3 = h_connect();
	mmapclient_close(c3);
	mmapclient_close(c2);
	close(fd);
	cr_assert_eq(h_clients_wait_on(c, 1), 1);

	cr_assert_eq(mmapclient_status(c, &st), 0);
	k = st->counters;
	cr_assert_not_null(k);
	cr_expect_eq(k->grants, 2, "grants %" PRIu64, k->grants);
	cr_expect_eq(k->releases, 1, "releases %" PRIu64, k->releases);
	cr_expect_eq(denials_of(k, EFBIG), 2);
	cr_expect_eq(denials_of(k, EPERM), 1);
	cr_expect_eq(k->n_denials, 2);
	cr_expect(k->denials[0].error < k->denials[1].error,
	    "denials not in errno order");
	cr_expect_eq(k->zero_bytes_held, 64 << 10, "held %" PRIu64,
	    k->zero_bytes_held);
	/* c, the raw client, c2, c3 and h_clients_wait_on's own: at most. */
	cr_expect(k->peak_clients >= 4 && k->peak_clients <= 5,
	    "peak clients %" PRIu32, k->peak_clients);
	cr_expect_eq(st->clients, 1);
	mmapclient_status_free(st);

	/* A revocation counts once, however often it is asked. */
	{
		struct mmapclient_revoke_what w = { .lease_id = a->lease_id,
		    .reason = "counters" };

		cr_assert_eq(mmapclient_revoke(c, &w), 1, "%s",
		    mmapclient_error(c));
		cr_assert_eq(mmapclient_revoke(c, &w), 1, "%s",
		    mmapclient_error(c));
	}
	cr_assert_eq(mmapclient_status(c, &st), 0);
	cr_expect_eq(st->counters->revocations, 1, "revocations %" PRIu64,
	    st->counters->revocations);
	mmapclient_status_free(st);

	/* The lease goes with its connection: a release, nothing held. */
	mmapclient_close(c);
	cr_assert_eq(h_leases_wait(0), 0);
	c = h_connect();
	cr_assert_eq(mmapclient_status(c, &st), 0);
	cr_expect_eq(st->counters->releases, 2);
	cr_expect_eq(st->counters->zero_bytes_held, 0);
	cr_expect_eq(st->counters->grants, 2);
	mmapclient_status_free(st);
	mmapclient_close(c);
	mmapclient_region_free(a);
	h_stop();
}

/*
 * A Modify's deny line, with a device name of 4000 bytes: cut, and
 * every field after it still in the line (log lines are 1024 bytes).
 */
Test(modify, deny_line_with_a_4000_byte_device_keeps_every_field)
{
	static const char *const fields[] = { " op=modify ", " width=32 ",
	    " result=denied ", " errno=EINVAL ", " msg=\"device name of 4000 "
	    "bytes: 1 to 63 are allowed\"", NULL };
	char *dev = malloc(4001), *line;
	Reply *r;
	size_t i;
	int fd;

	cr_assert_not_null(dev);
	memset(dev, 'm', 4000);
	dev[4000] = '\0';
	h_start(NULL);
	fd = raw_connect();
	raw_hello(fd);
	r = raw_modify(fd, 2, dev, 0, 32, 0, 1);
	cr_assert_eq(r->error, EINVAL, "error %d: %s", r->error, r->message);
	reply_free(r);
	cr_assert_eq(h_log_wait(1, "event=deny op=modify"), 1);
	line = h_log_line("event=deny op=modify");
	cr_assert_not_null(line);
	cr_expect(strlen(line) < 1024, "a line of %zu bytes", strlen(line));
	cr_expect(strstr(line, "\"+") != NULL, "the name was not cut: %s",
	    line);
	for (i = 0; fields[i] != NULL; i++)
		cr_expect(strstr(line, fields[i]) != NULL, "no '%s' in %s",
		    fields[i], line);
	free(line);
	close(fd);
	free(dev);
	h_stop();
}
