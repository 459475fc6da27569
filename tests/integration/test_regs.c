/*
 * Register access (issue 4): Read and Write done by the daemon, through
 * libmmapclient (mmapclient_read(), mmapclient_write()) and mmapctl
 * (read, write), and the library's accessors on a mapping
 * (mmapclient_region_read(), mmapclient_region_write(), mmapctl map
 * --read and --write).
 *
 * As in test_mem.c, [mem] path names a sparse 8 GiB regular file
 * standing in for /dev/mem and iomem a recorded table, iomem-q35.txt
 * (edu's BAR0 at 0xfe900000, 1 MiB, no driver; ahci's ABAR claimed at
 * 0xfea01000; System RAM 0x00100000-0x1ffdffff).  A register written at
 * offset OFF of region edu lands in the file at 0xfe900000 + OFF, little
 * endian, where pread finds it; a value put there with pwrite is what a
 * Read loads.  The accessors need no device: they are also tried on
 * zero mappings.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"
#include "wire.h"

#define KIB		1024ull
#define MIB		(1024ull * 1024)
#define STANDIN_SIZE	(8ull << 30)

/* In iomem-q35.txt. */
#define EDU_BAR0	0xfe900000ull	/* 1 MiB, no driver */
#define RAM_HIGH	0x10000000ull	/* inside System RAM 00100000-1ffdffff */
#define AHCI_ABAR	0xfea01000ull	/* claimed by ahci */

TestSuite(regs, .fini = h_cleanup, .timeout = 60);

static const unsigned int widths[] = { 8, 16, 32, 64 };
#define N_WIDTHS	(sizeof(widths) / sizeof(widths[0]))

/* A value of each width with every byte different, so order shows. */
static uint64_t
value_of(unsigned int width)
{
	static const uint64_t v = 0x8877665544332211ull;

	return width == 64 ? v : v & ((1ull << width) - 1);
}

/*
 * [mem] on the stand-in, and the regions of it:
 *	edu	all of edu's BAR, rw, raw fd for root (so it maps too)
 *	edu-ro	its first page, protection r (the default)
 *	open	its first 64K, rw, for everyone, no raw fd: Read and Write
 *		only
 *	busy	ahci's claimed ABAR
 */
static const char *
regs_conf(const char *devpath)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf),
	    "[daemon]\nsocket_mode = 0666\n\n"
	    "[zero]\nusers = *\n\n"
	    "# A seam: a regular file stands in for /dev/mem.\n"
	    "[mem]\npath = %s\niomem = %s\nusers = root\nmax_size = 1M\n"
	    "shared = yes\nprotection = rw\n\n"
	    "[region edu]\ndevice = mem\nbase = 0xfe900000\nsize = 1M\n"
	    "users = root\nprotection = rw\nshared = yes\n"
	    "raw_fd_users = root\n\n"
	    "[region edu-ro]\ndevice = mem\nbase = 0xfe900000\nsize = 4K\n"
	    "users = root\nshared = yes\nraw_fd_users = root\n\n"
	    "[region open]\ndevice = mem\nbase = 0xfe900000\nsize = 64K\n"
	    "users = *\nprotection = rw\nshared = yes\n\n"
	    "[region busy]\ndevice = mem\nbase = 0xfea01000\nsize = 4K\n"
	    "users = root\nprotection = rw\nshared = yes\n",
	    devpath, h_data("iomem-q35.txt"));
	return buf;
}

static const char *
standin(void)
{
	return h_sparse("devmem", STANDIN_SIZE);
}

/* n bytes of the file at off, as a little-endian number. */
static uint64_t
file_le(const char *path, uint64_t off, unsigned int n)
{
	unsigned char b[8] = { 0 };
	uint64_t v = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned int i;

	cr_assert(fd >= 0, "open %s: %s", path, strerror(errno));
	cr_assert_eq(pread(fd, b, n, (off_t)off), (ssize_t)n,
	    "pread %s at %#llx", path, (unsigned long long)off);
	close(fd);
	for (i = 0; i < n; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

/* v as n little-endian bytes into the file at off. */
static void
file_put_le(const char *path, uint64_t off, unsigned int n, uint64_t v)
{
	unsigned char b[8];
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	unsigned int i;

	cr_assert(fd >= 0, "open %s: %s", path, strerror(errno));
	for (i = 0; i < n; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	cr_assert_eq(pwrite(fd, b, n, (off_t)off), (ssize_t)n,
	    "pwrite %s at %#llx", path, (unsigned long long)off);
	close(fd);
}

/* "0x" and width / 4 hex digits, and a newline: what mmapctl read prints. */
static const char *
hex_line(uint64_t v, unsigned int width)
{
	static char buf[32];
	int digits = width == 8 ? 2 : width == 16 ? 4 : width == 32 ? 8 : 16;

	snprintf(buf, sizeof(buf), "0x%0*" PRIx64 "\n", digits, v);
	return buf;
}

/* v as 0x hex, in one of a few buffers in rotation. */
static const char *
hex(uint64_t v)
{
	static char bufs[4][32];
	static unsigned int k;
	char *b = bufs[k++ % 4];

	snprintf(b, sizeof(bufs[0]), "0x%" PRIx64, v);
	return b;
}

/* ------------------------------------------------------------------------ */
/* Read and Write through the daemon */

Test(regs, ctl_write_read_each_width)
{
	const char *dev = standin();
	char wbuf[8];
	struct ctl r;
	uint64_t off, v;
	size_t i;

	h_start(regs_conf(dev));
	for (i = 0; i < N_WIDTHS; i++) {
		off = 0x100 + 0x10 * i;
		v = value_of(widths[i]);
		snprintf(wbuf, sizeof(wbuf), "%u", widths[i]);

		ctl_run(&r, CTL_ROOT, "write", "edu", hex(off),
		    hex(v), wbuf);
		cr_assert_eq(r.status, 0, "write %u: exit %d:\n%s%s",
		    widths[i], r.status, r.out, r.err);
		cr_expect_str_eq(r.out, "", "write prints nothing");
		ctl_free(&r);

		/* It landed in the device, little endian, and nowhere else. */
		cr_assert_eq(file_le(dev, EDU_BAR0 + off, widths[i] / 8), v,
		    "width %u: the stand-in holds %#llx at %#llx", widths[i],
		    (unsigned long long)file_le(dev, EDU_BAR0 + off,
		    widths[i] / 8), EDU_BAR0 + off);
		cr_assert_eq(file_le(dev, EDU_BAR0 + off - 1, 1), 0,
		    "width %u: the byte before was written", widths[i]);
		cr_assert_eq(file_le(dev, EDU_BAR0 + off + widths[i] / 8, 1),
		    0, "width %u: the byte after was written", widths[i]);

		ctl_run(&r, CTL_ROOT, "read", "edu", hex(off), wbuf);
		cr_assert_eq(r.status, 0, "read %u: exit %d:\n%s%s",
		    widths[i], r.status, r.out, r.err);
		cr_expect_str_eq(r.out, hex_line(v, widths[i]));
		ctl_free(&r);
	}

	/* The default width is 32; mem takes the physical address. */
	ctl_run(&r, CTL_ROOT, "read", "edu", "0x120");
	cr_assert_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect_str_eq(r.out, "0x44332211\n");
	ctl_free(&r);
	ctl_run(&r, CTL_ROOT, "read", "mem", "0xfe900130", "64");
	cr_assert_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect_str_eq(r.out, "0x8877665544332211\n");
	ctl_free(&r);
	/* Leading zeros to the width. */
	ctl_run(&r, CTL_ROOT, "read", "edu", "0x200");
	cr_assert_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect_str_eq(r.out, "0x00000000\n");
	ctl_free(&r);

	h_log_expect("audit: event=write", "device=edu ", "width=32 ",
	    "offset=0x120 ", "errno=0");
	h_log_expect("audit: event=read", "device=mem ", "width=64 ");
	cr_assert_eq(h_status_leases(), 0, "a register access left a lease");
	h_stop();
}

Test(regs, ctl_json)
{
	const char *dev = standin();
	struct ctl r;

	h_start(regs_conf(dev));
	ctl_run(&r, CTL_ROOT, "--json", "write", "edu", "0x40", "0xabcd", "16");
	cr_assert_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	/* Offsets and values as hex strings (issue 14): jq keeps them. */
	cr_expect_str_eq(r.out, "{\"command\":\"write\",\"device\":\"edu\","
	    "\"offset\":\"0x40\",\"width\":16,\"value\":\"0xabcd\"}\n");
	ctl_free(&r);
	ctl_run(&r, CTL_ROOT, "--json", "read", "edu", "0x40", "16");
	cr_assert_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect_str_eq(r.out, "{\"command\":\"read\",\"device\":\"edu\","
	    "\"offset\":\"0x40\",\"width\":16,\"value\":\"0xabcd\"}\n");
	ctl_free(&r);
	h_stop();
}

Test(regs, lib_write_read_each_width)
{
	const char *dev = standin();
	struct mmapclient *c;
	uint64_t off, v, got;
	size_t i;
	int err;

	h_start(regs_conf(dev));
	c = h_connect();
	for (i = 0; i < N_WIDTHS; i++) {
		/* Read first: what was put in the device, little endian. */
		off = 0x300 + 0x10 * i;
		v = value_of(widths[i]);
		file_put_le(dev, EDU_BAR0 + off, widths[i] / 8, v);
		got = 1;
		err = mmapclient_read(c, "edu", off, widths[i], &got);
		cr_assert_eq(err, 0, "read %u at %#llx: %s (%s)", widths[i],
		    (unsigned long long)off, strerror(-err),
		    mmapclient_error(c));
		cr_assert_eq(got, v, "read %u: %#llx, not %#llx", widths[i],
		    (unsigned long long)got, (unsigned long long)v);

		/* Write the complement and see it in the device. */
		v = ~v & (widths[i] == 64 ? UINT64_MAX :
		    (1ull << widths[i]) - 1);
		err = mmapclient_write(c, "edu", off, widths[i], v);
		cr_assert_eq(err, 0, "write %u at %#llx: %s (%s)", widths[i],
		    (unsigned long long)off, strerror(-err),
		    mmapclient_error(c));
		cr_assert_eq(file_le(dev, EDU_BAR0 + off, widths[i] / 8), v,
		    "write %u", widths[i]);
		cr_assert_eq(file_le(dev, EDU_BAR0 + off + widths[i] / 8, 1), 0,
		    "write %u went past its width", widths[i]);
		err = mmapclient_read(c, "edu", off, widths[i], &got);
		cr_assert_eq(err, 0, "%s", mmapclient_error(c));
		cr_assert_eq(got, v);

		/* The same register through mem, by physical address. */
		err = mmapclient_read(c, "mem", EDU_BAR0 + off, widths[i], &got);
		cr_assert_eq(err, 0, "mem: %s", mmapclient_error(c));
		cr_assert_eq(got, v, "mem %u", widths[i]);
	}

	/* The last byte of the region is a register too. */
	err = mmapclient_write(c, "edu", MIB - 8, 64, 0x0102030405060708ull);
	cr_assert_eq(err, 0, "%s", mmapclient_error(c));
	cr_assert_eq(file_le(dev, EDU_BAR0 + MIB - 8, 8), 0x0102030405060708ull);
	err = mmapclient_read(c, "edu", MIB - 1, 8, &got);
	cr_assert_eq(err, 0, "%s", mmapclient_error(c));
	cr_assert_eq(got, 0x01);

	cr_assert_eq(h_status_leases(), 0);
	mmapclient_close(c);
	h_stop();
}

/* ------------------------------------------------------------------------ */
/* Refusals */

/* Found by the library: nothing reaches the daemon. */
Test(regs, lib_local_einval)
{
	static const struct {
		uint64_t offset;
		unsigned int width;
		uint64_t value;
		const char *why;
	} bad[] = {
		{ 0, 0, 0, "width" },
		{ 0, 7, 0, "width" },
		{ 0, 12, 0, "width" },
		{ 0, 128, 0, "width" },
		{ 1, 16, 0, "multiple" },
		{ 2, 32, 0, "multiple" },
		{ 4, 64, 0, "multiple" },
		{ 0x101, 32, 0, "multiple" },
		{ 0, 8, 0x100, "fit" },
		{ 0, 16, 0x10000, "fit" },
		{ 0, 32, 0x100000000ull, "fit" },
	};
	struct mmapclient *c;
	uint64_t v;
	size_t i;
	int err;

	h_start(regs_conf(standin()));
	c = h_connect();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (bad[i].value == 0) {
			v = 1;
			err = mmapclient_read(c, "edu", bad[i].offset,
			    bad[i].width, &v);
			cr_assert_eq(err, -EINVAL, "read %u at %#llx: %d",
			    bad[i].width, (unsigned long long)bad[i].offset,
			    err);
			cr_assert_eq(v, 0, "a failed read leaves *value");
			cr_expect(strstr(mmapclient_error(c), bad[i].why),
			    "%s", mmapclient_error(c));
		}
		err = mmapclient_write(c, "edu", bad[i].offset, bad[i].width,
		    bad[i].value);
		cr_assert_eq(err, -EINVAL, "write %u of %#llx at %#llx: %d",
		    bad[i].width, (unsigned long long)bad[i].value,
		    (unsigned long long)bad[i].offset, err);
		cr_expect(strstr(mmapclient_error(c), bad[i].why), "%s",
		    mmapclient_error(c));
	}
	cr_assert_eq(mmapclient_read(c, NULL, 0, 32, &v), -EINVAL);
	cr_assert_eq(mmapclient_read(c, "edu", 0, 32, NULL), -EINVAL);
	cr_assert_eq(mmapclient_write(c, NULL, 0, 32, 0), -EINVAL);
	cr_assert_eq(mmapclient_read(NULL, "edu", 0, 32, &v), -EINVAL);
	cr_assert_eq(mmapclient_write(NULL, "edu", 0, 32, 0), -EINVAL);

	/* The connection is fine, and no refusal was the daemon's. */
	cr_assert_eq(mmapclient_read(c, "edu", 0, 32, &v), 0, "%s",
	    mmapclient_error(c));
	cr_assert_eq(h_log_count("audit: event=deny", "device=edu "), 0,
	    "a malformed access was sent:\n%s", h_log());
	mmapclient_close(c);
	h_stop();
}

/* The same malformed accesses sent raw: the daemon refuses them too. */
Test(regs, daemon_einval)
{
	static const struct {
		int write;
		const char *device;
		uint64_t offset;
		uint32_t width;
		uint64_t value;
	} bad[] = {
		{ 0, "edu", 0, 12, 0 },
		{ 0, "edu", 0, 0, 0 },
		{ 1, "edu", 0, 128, 0 },
		{ 0, "edu", 2, 32, 0 },
		{ 1, "edu", 4, 64, 0 },
		{ 1, "edu", 0, 8, 0x100 },
		{ 1, "edu", 0, 32, 0x100000000ull },
		{ 0, "edu", MIB, 8, 0 },		/* just past the end */
		{ 1, "edu", MIB, 32, 0 },
		{ 0, "edu", 1ull << 63, 64, 0 },
		{ 0, "edu", UINT64_MAX - 7, 64, 0 },	/* base + offset wraps */
		{ 0, "edu-ro", 4 * KIB, 32, 0 },
		{ 0, "zero", 0, 32, 0 },		/* zero has no registers */
		{ 1, "zero", 0, 32, 0 },
	};
	Reply *rep;
	size_t i;
	int fd;

	h_start(regs_conf(standin()));
	fd = raw_connect();
	raw_hello(fd);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (bad[i].write)
			rep = raw_write(fd, 10 + i, bad[i].device,
			    bad[i].offset, bad[i].width, bad[i].value);
		else
			rep = raw_read(fd, 10 + i, bad[i].device,
			    bad[i].offset, bad[i].width);
		cr_assert_eq(rep->request_id, 10 + i);
		cr_assert_eq(rep->error, EINVAL, "%s %s width %u at %#llx "
		    "value %#llx: %d (%s)", bad[i].write ? "Write" : "Read",
		    bad[i].device, bad[i].width,
		    (unsigned long long)bad[i].offset,
		    (unsigned long long)bad[i].value, rep->error,
		    rep->message);
		cr_assert_eq(rep->body_case, MMAPD__V1__REPLY__BODY__NOT_SET);
		reply_free(rep);
	}
	/* The connection goes on. */
	rep = raw_read(fd, 99, "edu", 0, 32);
	cr_assert_eq(rep->error, 0, "%d (%s)", rep->error, rep->message);
	cr_assert_eq(rep->body_case, MMAPD__V1__REPLY__BODY_READ);
	reply_free(rep);
	close(fd);
	h_stop();
}

Test(regs, lib_daemon_refusals)
{
	const char *dev = standin();
	struct mmapclient *c;
	uint64_t v;
	int err;

	h_start(regs_conf(dev));
	c = h_connect();

	/* Outside the region. */
	err = mmapclient_read(c, "edu", MIB, 32, &v);
	cr_assert_eq(err, -EINVAL, "%d (%s)", err, mmapclient_error(c));
	err = mmapclient_write(c, "edu-ro", 4 * KIB, 8, 1);
	cr_assert(err == -EINVAL || err == -EACCES, "%d (%s)", err,
	    mmapclient_error(c));

	/* zero has no registers. */
	err = mmapclient_read(c, "zero", 0, 32, &v);
	cr_assert_eq(err, -EINVAL, "%d (%s)", err, mmapclient_error(c));
	err = mmapclient_write(c, "zero", 0, 32, 1);
	cr_assert_eq(err, -EINVAL, "%d (%s)", err, mmapclient_error(c));

	/* No such device. */
	err = mmapclient_read(c, "nonesuch", 0, 32, &v);
	cr_assert_eq(err, -ENODEV, "%d (%s)", err, mmapclient_error(c));

	/* protection = r: Read yes, Write no, and nothing written. */
	file_put_le(dev, EDU_BAR0 + 0x10, 4, 0xcafef00d);
	err = mmapclient_read(c, "edu-ro", 0x10, 32, &v);
	cr_assert_eq(err, 0, "%s", mmapclient_error(c));
	cr_assert_eq(v, 0xcafef00d);
	err = mmapclient_write(c, "edu-ro", 0x10, 32, 0x12345678);
	cr_assert_eq(err, -EACCES, "%d (%s)", err, mmapclient_error(c));
	cr_assert_eq(file_le(dev, EDU_BAR0 + 0x10, 4), 0xcafef00d);
	h_log_expect("audit: event=deny", "op=write", "device=edu-ro ",
	    "errno=EACCES ");

	/* System RAM and a driver's range, through mem. */
	err = mmapclient_read(c, "mem", RAM_HIGH, 32, &v);
	cr_assert_eq(err, -EPERM, "System RAM: %d (%s)", err,
	    mmapclient_error(c));
	err = mmapclient_read(c, "busy", 0, 32, &v);
	cr_assert_eq(err, -EBUSY, "ahci's range: %d (%s)", err,
	    mmapclient_error(c));
	cr_expect(strstr(mmapclient_error(c), "ahci") != NULL, "%s",
	    mmapclient_error(c));
	err = mmapclient_write(c, "mem", AHCI_ABAR, 32, 0);
	cr_assert_eq(err, -EBUSY, "ahci's range: %d (%s)", err,
	    mmapclient_error(c));
	cr_assert_eq(file_le(dev, AHCI_ABAR, 4), 0);

	/* Still usable. */
	err = mmapclient_read(c, "edu", 0x10, 32, &v);
	cr_assert_eq(err, 0, "%s", mmapclient_error(c));
	mmapclient_close(c);
	h_stop();
}

Test(regs, ctl_refusals)
{
	const char *dev = standin();
	struct ctl r;

	h_start(regs_conf(dev));

	/* Malformed: the library's refusal, exit 1. */
	ctl_run(&r, CTL_ROOT, "read", "edu", "0x3");
	cr_assert_eq(r.status, 1, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect_str_eq(r.out, "");
	cr_expect(strstr(r.err, "mmapctl: read edu 0x3: Invalid argument "
	    "(EINVAL, errno 22): ") == r.err, "%s", r.err);
	cr_expect(strstr(r.err, "multiple of 4") != NULL, "%s", r.err);
	ctl_free(&r);
	ctl_run(&r, CTL_ROOT, "write", "edu", "0", "0x100", "8");
	cr_assert_eq(r.status, 1, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.err, "EINVAL") != NULL, "%s", r.err);
	ctl_free(&r);

	/* The daemon's refusals, with its message. */
	ctl_run(&r, CTL_ROOT, "read", "edu", "1M");
	cr_assert_eq(r.status, 1, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.err, "mmapctl: read edu 0x100000: ") == r.err,
	    "%s", r.err);
	cr_expect(strstr(r.err, "EINVAL") != NULL, "%s", r.err);
	ctl_free(&r);
	ctl_run(&r, CTL_ROOT, "read", "zero", "0");
	cr_assert_eq(r.status, 1, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.err, "EINVAL") != NULL, "%s", r.err);
	ctl_free(&r);
	ctl_run(&r, CTL_ROOT, "write", "edu-ro", "0", "1");
	cr_assert_eq(r.status, 1, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.err, "mmapctl: write edu-ro 0x0: Permission "
	    "denied (EACCES, errno 13): ") == r.err, "%s", r.err);
	ctl_free(&r);
	cr_assert_eq(file_le(dev, EDU_BAR0, 4), 0);

	/*
	 * Usage errors: exit 2, nothing sent, said as usage errors with the
	 * command's usage line, not as an errno.
	 */
	ctl_run(&r, CTL_ROOT, "read", "edu", "0", "12");
	cr_assert_eq(r.status, 2, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.err, "EINVAL") == NULL, "%s", r.err);
	cr_expect(strstr(r.err, "mmapctl: read: '12' is not a width") ==
	    r.err, "%s", r.err);
	cr_expect(strstr(r.err, "\nusage: mmapctl [-s PATH] [--json] read "
	    "DEVICE OFFSET [WIDTH]\n") != NULL, "%s", r.err);
	ctl_free(&r);
	ctl_run(&r, CTL_ROOT, "read", "edu");
	cr_assert_eq(r.status, 2, "exit %d:\n%s%s", r.status, r.out, r.err);
	ctl_free(&r);
	ctl_run(&r, CTL_ROOT, "write", "edu", "0");
	cr_assert_eq(r.status, 2, "exit %d:\n%s%s", r.status, r.out, r.err);
	ctl_free(&r);
	ctl_run(&r, CTL_ROOT, "write", "edu", "0", "1", "32", "extra");
	cr_assert_eq(r.status, 2, "exit %d:\n%s%s", r.status, r.out, r.err);
	ctl_free(&r);
	ctl_run(&r, CTL_ROOT, "write", "edu", "0", "0x1ffffffffffffffff");
	cr_assert_eq(r.status, 2, "exit %d:\n%s%s", r.status, r.out, r.err);
	ctl_free(&r);
	h_stop();
}

/*
 * Read and Write need only the entry's users; a Map of mem hands out
 * /dev/mem itself and needs raw_fd_users too.
 */
Test(regs, users_and_raw_fd)
{
	const char *dev = standin();
	struct ctl r;

	ctl_need_nobody();
	h_start(regs_conf(dev));

	/* edu is root's alone. */
	ctl_run(&r, CTL_NOBODY, "read", "edu", "0");
	cr_assert_eq(r.status, 1, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.err, "EPERM") != NULL, "%s", r.err);
	ctl_free(&r);
	ctl_run(&r, CTL_NOBODY, "write", "edu", "0", "0x11");
	cr_assert_eq(r.status, 1, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.err, "EPERM") != NULL, "%s", r.err);
	ctl_free(&r);
	ctl_run(&r, CTL_NOBODY, "read", "mem", "0xfe900000");
	cr_assert_eq(r.status, 1, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.err, "EPERM") != NULL, "%s", r.err);
	ctl_free(&r);
	cr_assert_eq(file_le(dev, EDU_BAR0, 4), 0);
	h_log_expect("audit: event=deny", "op=write", "uid=65534 ",
	    "device=edu ", "errno=EPERM ");

	/* open lets everyone at its registers... */
	ctl_run(&r, CTL_NOBODY, "write", "open", "0x8", "0x5a5a", "16");
	cr_assert_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	ctl_free(&r);
	cr_assert_eq(file_le(dev, EDU_BAR0 + 8, 2), 0x5a5a);
	ctl_run(&r, CTL_NOBODY, "read", "open", "0x8", "16");
	cr_assert_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect_str_eq(r.out, "0x5a5a\n");
	ctl_free(&r);

	/* ...but hands its raw fd to no one, root included. */
	ctl_run(&r, CTL_NOBODY, "map", "--dev", "open", "--size", "4K",
	    "--shared", "--read-only");
	cr_assert_eq(r.status, 1, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.err, "EPERM") != NULL, "%s", r.err);
	ctl_free(&r);
	ctl_run(&r, CTL_ROOT, "map", "--dev", "open", "--shared",
	    "--read-only", "--read", "0");
	cr_assert_eq(r.status, 1, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.err, "EPERM") != NULL, "%s", r.err);
	ctl_free(&r);
	h_stop();
}

/* ------------------------------------------------------------------------ */
/* The accessors on a mapping */

/* What each width reads from bytes 0x11 0x22 ... 0x88 at 0. */
Test(regs, region_accessors_zero)
{
	struct mmapclient_request req = {
		.device = "zero", .size = 4 * KIB, .flags = MMAPCLIENT_WRITE,
	};
	struct mmapclient_region *r = NULL, *ro = NULL;
	volatile unsigned char *p;
	struct mmapclient *c;
	uint64_t v;
	size_t i, k;
	int err;

	h_start(regs_conf(standin()));
	c = h_connect();
	err = mmapclient_map(c, &req, &r);
	cr_assert_eq(err, 0, "%s", mmapclient_error(c));
	p = r->addr;

	for (i = 0; i < N_WIDTHS; i++) {
		/* A store lands little endian at its offset, no wider. */
		err = mmapclient_region_write(r, 0x40 * (i + 1), widths[i],
		    value_of(widths[i]));
		cr_assert_eq(err, 0, "write %u: %d", widths[i], err);
		for (k = 0; k < 8; k++)
			cr_assert_eq(p[0x40 * (i + 1) + k], k < widths[i] / 8 ?
			    0x11 * (k + 1) : 0, "width %u, byte %zu is %#x",
			    widths[i], k, p[0x40 * (i + 1) + k]);
		err = mmapclient_region_read(r, 0x40 * (i + 1), widths[i], &v);
		cr_assert_eq(err, 0);
		cr_assert_eq(v, value_of(widths[i]));
	}
	/* A load of a narrower width reads the low bytes. */
	err = mmapclient_region_read(r, 0x100, 16, &v);
	cr_assert_eq(err, 0);
	cr_assert_eq(v, 0x2211);
	err = mmapclient_region_read(r, 0x106, 16, &v);
	cr_assert_eq(err, 0);
	cr_assert_eq(v, 0x8877);
	/* The last of each width is inside. */
	for (i = 0; i < N_WIDTHS; i++) {
		err = mmapclient_region_write(r, 4 * KIB - widths[i] / 8,
		    widths[i], 1);
		cr_assert_eq(err, 0, "the last %u bits: %d", widths[i], err);
	}

	/* Outside: -ERANGE, wrap-safe. */
	err = mmapclient_region_read(r, 4 * KIB, 8, &v);
	cr_assert_eq(err, -ERANGE);
	err = mmapclient_region_write(r, 4 * KIB, 32, 0);
	cr_assert_eq(err, -ERANGE);
	err = mmapclient_region_read(r, 8 * KIB, 64, &v);
	cr_assert_eq(err, -ERANGE);
	err = mmapclient_region_read(r, UINT64_MAX - 7, 64, &v);
	cr_assert_eq(err, -ERANGE);
	err = mmapclient_region_write(r, UINT64_MAX, 8, 0);
	cr_assert_eq(err, -ERANGE);

	/* Malformed: -EINVAL, and *value 0. */
	v = 7;
	err = mmapclient_region_read(r, 1, 16, &v);
	cr_assert_eq(err, -EINVAL);
	cr_assert_eq(v, 0);
	err = mmapclient_region_read(r, 4 * KIB - 4, 64, &v);
	cr_assert_eq(err, -EINVAL, "unaligned at the end: %d", err);
	err = mmapclient_region_write(r, 2, 32, 0);
	cr_assert_eq(err, -EINVAL);
	err = mmapclient_region_read(r, 0, 12, &v);
	cr_assert_eq(err, -EINVAL);
	err = mmapclient_region_read(r, 0, 0, &v);
	cr_assert_eq(err, -EINVAL);
	err = mmapclient_region_write(r, 0, 8, 0x100);
	cr_assert_eq(err, -EINVAL);
	err = mmapclient_region_write(r, 0, 32, 0x100000000ull);
	cr_assert_eq(err, -EINVAL);
	err = mmapclient_region_read(r, 0, 32, NULL);
	cr_assert_eq(err, -EINVAL);
	err = mmapclient_region_read(NULL, 0, 32, &v);
	cr_assert_eq(err, -EINVAL);
	err = mmapclient_region_write(NULL, 0, 32, 0);
	cr_assert_eq(err, -EINVAL);
	/* None of it touched the memory. */
	cr_assert_eq(p[0], 0);
	cr_assert_eq(p[1], 0);
	cr_assert_eq(p[2], 0);

	/* Read-only: loads yes, stores -EACCES. */
	req.flags = 0;
	err = mmapclient_map(c, &req, &ro);
	cr_assert_eq(err, 0, "%s", mmapclient_error(c));
	cr_assert_eq(ro->prot, PROT_READ);
	err = mmapclient_region_read(ro, 0x80, 64, &v);
	cr_assert_eq(err, 0);
	cr_assert_eq(v, 0);
	err = mmapclient_region_write(ro, 0x80, 64, 1);
	cr_assert_eq(err, -EACCES);
	/* Range first: nothing outside is writable either way. */
	err = mmapclient_region_write(ro, 4 * KIB, 8, 1);
	cr_assert_eq(err, -ERANGE);

	cr_assert_eq(mmapclient_release(c, ro), 0);
	cr_assert_eq(mmapclient_release(c, r), 0);
	mmapclient_close(c);
	h_stop();
}

/* The accessors on a device mapping reach the device. */
Test(regs, region_accessors_device)
{
	struct mmapclient_request req = {
		.device = "edu", .offset = 0x2000, .size = 4 * KIB,
		.flags = MMAPCLIENT_SHARED | MMAPCLIENT_WRITE,
	};
	struct mmapclient_region *r = NULL;
	struct mmapclient *c;
	const char *dev = standin();
	uint64_t v;
	size_t i;
	int err;

	h_start(regs_conf(dev));
	c = h_connect();
	err = mmapclient_map(c, &req, &r);
	cr_assert_eq(err, 0, "map edu+0x2000: %s (%s)", strerror(-err),
	    mmapclient_error(c));
	cr_assert_eq(r->kind, MMAPCLIENT_KIND_DEVICE);
	for (i = 0; i < N_WIDTHS; i++) {
		err = mmapclient_region_write(r, 0x20 * i, widths[i],
		    value_of(widths[i]));
		cr_assert_eq(err, 0, "width %u: %d", widths[i], err);
		cr_assert_eq(file_le(dev, EDU_BAR0 + 0x2000 + 0x20 * i,
		    widths[i] / 8), value_of(widths[i]), "width %u", widths[i]);
	}
	/* And the daemon's Read sees what the mapping wrote. */
	err = mmapclient_read(c, "edu", 0x2060, 64, &v);
	cr_assert_eq(err, 0, "%s", mmapclient_error(c));
	cr_assert_eq(v, value_of(64));
	/* What the daemon wrote, the mapping reads. */
	err = mmapclient_write(c, "edu", 0x2040, 32, 0xfeedface);
	cr_assert_eq(err, 0, "%s", mmapclient_error(c));
	err = mmapclient_region_read(r, 0x40, 32, &v);
	cr_assert_eq(err, 0);
	cr_assert_eq(v, 0xfeedface);
	cr_assert_eq(mmapclient_region_read(r, 4 * KIB, 32, &v), -ERANGE);
	cr_assert_eq(mmapclient_release(c, r), 0);
	mmapclient_close(c);
	h_stop();
}

/* ------------------------------------------------------------------------ */
/* mmapctl map --read --write */

Test(regs, ctl_map_read_write)
{
	const char *dev = standin();
	struct ctl r;

	h_start(regs_conf(dev));
	file_put_le(dev, EDU_BAR0 + 0x1000, 4, 0x010000ed);
	/* No --size: the page that covers the accesses.  --write: shared. */
	ctl_run(&r, CTL_ROOT, "map", "--dev", "edu", "--offset", "0x1000",
	    "--read", "0", "--write", "0x10=0xdeadbeef", "--read", "0x10",
	    "--read", "0x10:16", "--write", "0x18=0x0102030405060708:64",
	    "--read", "0x18:64", "--read", "0x1c:8", "--write", "0x21=0x7:8",
	    "--read", "0x20:16");
	cr_assert_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.out, "4096 bytes of edu") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "kind device, prot rw, shared") != NULL, "%s",
	    r.out);
	cr_expect(strstr(r.out, "\n0x0: 0x010000ed\n0x10: 0xdeadbeef\n"
	    "0x10: 0xbeef\n0x18: 0x0102030405060708\n0x1c: 0x04\n"
	    "0x20: 0x0700\nreleased lease ") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "not read or written") == NULL, "%s", r.out);
	ctl_free(&r);
	cr_assert_eq(file_le(dev, EDU_BAR0 + 0x1010, 4), 0xdeadbeef);
	cr_assert_eq(file_le(dev, EDU_BAR0 + 0x1018, 8), 0x0102030405060708ull);
	cr_assert_eq(file_le(dev, EDU_BAR0 + 0x1020, 2), 0x0700);
	cr_assert_eq(file_le(dev, EDU_BAR0 + 0x1014, 4), 0);

	/* JSON: the accesses, in order. */
	ctl_run(&r, CTL_ROOT, "--json", "map", "--dev", "edu", "--write",
	    "4=0x12345678", "--read", "4:16");
	cr_assert_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.out, "\"kind\":\"device\",\"prot\":\"rw\","
	    "\"shared\":true") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, ",\"access\":[{\"op\":\"write\","
	    "\"offset\":\"0x4\",\"width\":32,\"value\":\"0x12345678\"},"
	    "{\"op\":\"read\",\"offset\":\"0x4\",\"width\":16,"
	    "\"value\":\"0x5678\"}],\"hold\":false,\"ok\":true}\n")
	    != NULL, "%s", r.out);
	ctl_free(&r);
	cr_assert_eq(file_le(dev, EDU_BAR0 + 4, 4), 0x12345678);

	/* Reads alone map read-only, so protection = r will do. */
	ctl_run(&r, CTL_ROOT, "map", "--dev", "edu-ro", "--read", "4");
	cr_assert_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.out, "kind device, prot r, private") != NULL, "%s",
	    r.out);
	cr_expect(strstr(r.out, "\n0x4: 0x12345678\n") != NULL, "%s", r.out);
	ctl_free(&r);
	ctl_run(&r, CTL_ROOT, "map", "--dev", "edu-ro", "--shared", "--read",
	    "4:8", "--read", "7:8");
	cr_assert_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.out, "kind device, prot r, shared") != NULL, "%s",
	    r.out);
	cr_expect(strstr(r.out, "\n0x4: 0x78\n0x7: 0x12\n") != NULL, "%s",
	    r.out);
	ctl_free(&r);

	/* On zero as anywhere. */
	ctl_run(&r, CTL_ROOT, "map", "--dev", "zero", "--size", "8K",
	    "--write", "0x1ff8=0xff:8", "--read", "0x1ff8:64");
	cr_assert_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.out, "\n0x1ff8: 0x00000000000000ff\n") != NULL,
	    "%s", r.out);
	ctl_free(&r);
	cr_assert_eq(h_leases_wait(0), 0);
	h_stop();
}

Test(regs, ctl_map_refusals)
{
	const char *dev = standin();
	struct ctl r;

	h_start(regs_conf(dev));
	/* Outside the mapping: the reads before it are printed, exit 1. */
	ctl_run(&r, CTL_ROOT, "map", "--dev", "edu", "--size", "4K",
	    "--shared", "--read-only", "--read", "0", "--read", "0x1000");
	cr_assert_eq(r.status, 1, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.out, "\n0x0: 0x00000000\n") != NULL, "%s", r.out);
	cr_expect(strstr(r.err, "mmapctl: read 0x1000: Numerical result out "
	    "of range (ERANGE, errno 34): ") == r.err, "%s", r.err);
	ctl_free(&r);
	/* Unaligned, too wide. */
	ctl_run(&r, CTL_ROOT, "map", "--dev", "edu", "--write", "2=0:32");
	cr_assert_eq(r.status, 1, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.err, "EINVAL") != NULL, "%s", r.err);
	cr_expect(strstr(r.err, "multiple of 4 bytes") != NULL, "%s", r.err);
	ctl_free(&r);
	ctl_run(&r, CTL_ROOT, "map", "--dev", "edu", "--write", "0=0x100:8");
	cr_assert_eq(r.status, 1, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.err, "does not fit in 8 bits") != NULL, "%s",
	    r.err);
	ctl_free(&r);
	cr_assert_eq(file_le(dev, EDU_BAR0, 4), 0);
	/* A read-only mapping of zero, to its last word. */
	ctl_run(&r, CTL_ROOT, "map", "--dev", "zero", "--size", "4K",
	    "--read-only", "--read", "0", "--read", "0xffc");
	cr_assert_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	ctl_free(&r);

	/* Usage errors: exit 2, nothing mapped. */
	ctl_run(&r, CTL_ROOT, "map", "--dev", "edu", "--read-only",
	    "--write", "0=1");
	cr_assert_eq(r.status, 2, "exit %d:\n%s%s", r.status, r.out, r.err);
	ctl_free(&r);
	ctl_run(&r, CTL_ROOT, "map", "--dev", "edu", "--read", "0:12");
	cr_assert_eq(r.status, 2, "exit %d:\n%s%s", r.status, r.out, r.err);
	ctl_free(&r);
	ctl_run(&r, CTL_ROOT, "map", "--dev", "edu", "--write", "0");
	cr_assert_eq(r.status, 2, "exit %d:\n%s%s", r.status, r.out, r.err);
	ctl_free(&r);
	ctl_run(&r, CTL_ROOT, "map", "--dev", "edu", "--read", "0x10=1");
	cr_assert_eq(r.status, 2, "exit %d:\n%s%s", r.status, r.out, r.err);
	ctl_free(&r);
	ctl_run(&r, CTL_ROOT, "map", "--dev", "zero", "--size", "4K",
	    "--fill", "1", "--read", "0");
	cr_assert_eq(r.status, 2, "exit %d:\n%s%s", r.status, r.out, r.err);
	ctl_free(&r);
	ctl_run(&r, CTL_ROOT, "map", "--dev", "zero");
	cr_assert_eq(r.status, 2, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.err, "--size") != NULL, "%s", r.err);
	ctl_free(&r);
	cr_assert_eq(h_leases_wait(0), 0);
	h_stop();
}

/* ------------------------------------------------------------------------ */
/* Nothing stays open */

Test(regs, fd_count)
{
	struct mmapclient_request req = {
		.device = "edu", .size = 4 * KIB,
		.flags = MMAPCLIENT_SHARED | MMAPCLIENT_WRITE,
	};
	struct mmapclient_region *r = NULL;
	struct mmapclient *c;
	int fds, self, i, err;
	uint64_t v;
	struct ctl ctl;

	h_start(regs_conf(standin()));
	c = h_connect();
	cr_assert_eq(h_clients_wait_on(c, 1), 1);
	fds = h_fds();
	self = h_self_fds();
	for (i = 0; i < 64; i++) {
		err = mmapclient_write(c, "edu", 8 * (uint64_t)i, 64,
		    (uint64_t)i);
		cr_assert_eq(err, 0, "%s", mmapclient_error(c));
		err = mmapclient_read(c, "mem", EDU_BAR0 + 8 * (uint64_t)i, 64,
		    &v);
		cr_assert_eq(err, 0, "%s", mmapclient_error(c));
		cr_assert_eq(v, (uint64_t)i);
		/* Refusals leave nothing either. */
		err = mmapclient_write(c, "edu-ro", 0, 32, 1);
		cr_assert_eq(err, -EACCES, "%s", mmapclient_error(c));
		err = mmapclient_read(c, "busy", 0, 32, &v);
		cr_assert_neq(err, 0);
	}
	cr_assert_eq(h_fds(), fds, "the daemon's fds: %d before, %d after",
	    fds, h_fds());
	cr_assert_eq(h_self_fds(), self);
	cr_assert_eq(h_leases_wait_on(c, 0), 0);

	/* A mapping's accessors hold no fd; the mapping's fd is closed. */
	err = mmapclient_map(c, &req, &r);
	cr_assert_eq(err, 0, "%s", mmapclient_error(c));
	for (i = 0; i < 64; i++)
		cr_assert_eq(mmapclient_region_read(r, 8 * (uint64_t)i, 64,
		    &v), 0);
	cr_assert_eq(h_self_fds(), self);
	cr_assert_eq(mmapclient_release(c, r), 0);
	cr_assert_eq(h_fds_wait(fds), fds);

	/* Nor does mmapctl's, once it is gone. */
	ctl_run(&ctl, CTL_ROOT, "read", "edu", "0");
	cr_assert_eq(ctl.status, 0, "%s", ctl.err);
	ctl_free(&ctl);
	ctl_run(&ctl, CTL_ROOT, "map", "--dev", "edu", "--write", "0=1",
	    "--read", "0");
	cr_assert_eq(ctl.status, 0, "%s", ctl.err);
	ctl_free(&ctl);
	cr_assert_eq(h_clients_wait_on(c, 1), 1);
	cr_assert_eq(h_fds_wait(fds), fds);
	mmapclient_close(c);
	h_stop();
}

/* ------------------------------------------------------------------------ */
/* A daemon that breaks the protocol */

/* Answer one request as the fake does: see fake_daemon(). */
static void
fake_answer(int fd, const Request *req, uint64_t value)
{
	Mmapd__V1__HelloReply hr = MMAPD__V1__HELLO_REPLY__INIT;
	Mmapd__V1__ReadReply rr = MMAPD__V1__READ_REPLY__INIT;
	Reply rep = MMAPD__V1__REPLY__INIT;
	uint8_t buf[WIRE_MAX];
	size_t len;

	rep.request_id = req->request_id;
	if (req->body_case == MMAPD__V1__REQUEST__BODY_HELLO) {
		hr.server_version = (char *)"fake";
		hr.protocol_major = 1;
		rep.body_case = MMAPD__V1__REPLY__BODY_HELLO;
		rep.hello = &hr;
	} else {
		/* A ReadReply to everything, Write included. */
		rr.value = value;
		rep.body_case = MMAPD__V1__REPLY__BODY_READ;
		rep.read = &rr;
	}
	len = mmapd__v1__reply__pack(&rep, buf);
	if (wire_send(fd, buf, len, -1) < 0)
		_exit(1);
}

/*
 * A daemon on DIR/fake.sock that answers Hello, and every other request
 * with a ReadReply holding value, whatever the width asked.
 */
static pid_t
fake_daemon(uint64_t value)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fds[WIRE_MAX_FDS];
	uint8_t buf[WIRE_MAX];
	Request *req;
	size_t nfds;
	ssize_t n;
	int ls, fd;
	pid_t pid;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", h_path("fake.sock"));
	ls = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	cr_assert(ls >= 0, "socket: %s", strerror(errno));
	cr_assert_eq(bind(ls, (struct sockaddr *)&a, sizeof(a)), 0, "bind: %s",
	    strerror(errno));
	cr_assert_eq(listen(ls, 4), 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		for (;;) {
			fd = accept(ls, NULL, NULL);
			if (fd < 0)
				_exit(1);
			for (;;) {
				nfds = 0;
				n = wire_recv(fd, buf, sizeof(buf), fds, &nfds);
				if (n <= 0)
					break;
				req = mmapd__v1__request__unpack(NULL,
				    (size_t)n, buf);
				if (req == NULL)
					break;
				fake_answer(fd, req, value);
				mmapd__v1__request__free_unpacked(req, NULL);
			}
			close(fd);
		}
	}
	close(ls);
	h_track(pid);
	return pid;
}

Test(regs, lib_reply_checked)
{
	struct mmapclient *c = NULL;
	pid_t pid = fake_daemon(0x1ff);
	uint64_t v;
	int err;

	/* 0x1ff is a 16-bit value... */
	err = mmapclient_connect(h_path("fake.sock"), &c);
	cr_assert_eq(err, 0, "%s", mmapclient_error(NULL));
	err = mmapclient_read(c, "edu", 0, 16, &v);
	cr_assert_eq(err, 0, "%s", mmapclient_error(c));
	cr_assert_eq(v, 0x1ff);
	/* ...but not an 8-bit one: the connection is broken for good. */
	v = 5;
	err = mmapclient_read(c, "edu", 0, 8, &v);
	cr_assert_eq(err, -EPROTO, "%d (%s)", err, mmapclient_error(c));
	cr_assert_eq(v, 0);
	cr_expect(strstr(mmapclient_error(c), "wider") != NULL, "%s",
	    mmapclient_error(c));
	err = mmapclient_read(c, "edu", 0, 16, &v);
	cr_assert_eq(err, -EPROTO, "%d (%s)", err, mmapclient_error(c));
	mmapclient_close(c);

	/* A Write answered by anything but its Ack. */
	err = mmapclient_connect(h_path("fake.sock"), &c);
	cr_assert_eq(err, 0, "%s", mmapclient_error(NULL));
	err = mmapclient_write(c, "edu", 0, 32, 1);
	cr_assert_eq(err, -EPROTO, "%d (%s)", err, mmapclient_error(c));
	cr_expect(strstr(mmapclient_error(c), "the reply to Write carries a "
	    "ReadReply") != NULL, "%s", mmapclient_error(c));
	mmapclient_close(c);

	kill(pid, SIGKILL);
	cr_assert_neq(h_wait(pid, H_WAIT_MS), -1);
	h_untrack(pid);
}
