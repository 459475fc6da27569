/*
 * A register access that faults: the SIGBUS guard of daemon/regs.c end
 * to end, through a real mmapd.
 *
 * [mem] path names a sparse regular file standing in for /dev/mem, as in
 * test_regs.c, but one that ends a page into edu's BAR (at 0xfe901000)
 * while region edu is the whole MiB of it.  The engine's probe maps a
 * page past the end of a file as the kernel maps any file range; the
 * load or store in it raises SIGBUS, as a revoked /dev/mem mapping does
 * once a driver claims the range.  The daemon must answer EIO with a
 * message that says so, log it, release the page, and go on serving:
 * the same connection, another client, the next fault.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

#define KIB		1024ull
/* In iomem-q35.txt: edu's BAR0, 1 MiB, no driver. */
#define EDU_BAR0	0xfe900000ull
/* The stand-in ends here: edu's first page is in it, the rest is not. */
#define STANDIN_END	(EDU_BAR0 + 4 * KIB)
/* Offsets into region edu: in the file, and past its end. */
#define OFF_IN		0x10ull
#define OFF_PAST	0x1000ull
#define FAULTS		20

TestSuite(regs_fault, .fini = h_cleanup, .timeout = 60);

static const char *
fault_conf(const char *devpath)
{
	static char buf[2048];

	snprintf(buf, sizeof(buf),
	    "[daemon]\nsocket_mode = 0666\n\n"
	    "[zero]\nusers = *\n\n"
	    "# A seam: a regular file, shorter than edu, stands in for "
	    "/dev/mem.\n"
	    "[mem]\npath = %s\niomem = %s\nusers = root\nmax_size = 1M\n"
	    "shared = yes\nprotection = rw\n\n"
	    "[region edu]\ndevice = mem\nbase = 0xfe900000\nsize = 1M\n"
	    "users = *\nprotection = rw\nshared = yes\n",
	    devpath, h_data("iomem-q35.txt"));
	return buf;
}

static uint32_t
file_u32(const char *path, uint64_t off)
{
	uint32_t v = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	cr_assert(fd >= 0, "open %s: %s", path, strerror(errno));
	cr_assert_eq(pread(fd, &v, sizeof(v), (off_t)off), (ssize_t)sizeof(v),
	    "pread %s at %#llx", path, (unsigned long long)off);
	close(fd);
	return v;
}

/* The access works where the stand-in has bytes. */
static void
access_in_file(struct mmapclient *c, const char *dev, uint32_t v)
{
	uint64_t got = 0;
	int err;

	err = mmapclient_write(c, "edu", OFF_IN, 32, v);
	cr_assert_eq(err, 0, "write edu %#llx: %s (%s)",
	    (unsigned long long)OFF_IN, strerror(-err), mmapclient_error(c));
	cr_assert_eq(file_u32(dev, EDU_BAR0 + OFF_IN), v,
	    "the write did not land in the stand-in");
	err = mmapclient_read(c, "edu", OFF_IN, 32, &got);
	cr_assert_eq(err, 0, "read edu %#llx: %s (%s)",
	    (unsigned long long)OFF_IN, strerror(-err), mmapclient_error(c));
	cr_assert_eq(got, v, "read %#llx, wrote %#x", (unsigned long long)got,
	    v);
}

Test(regs_fault, sigbus_is_eio_and_the_daemon_serves_on)
{
	const char *dev = h_sparse("devmem", STANDIN_END);
	struct mmapclient *c, *other;
	uint64_t got;
	pid_t pid;
	int err, fds, i;

	h_start(fault_conf(dev));
	pid = h_pid();
	c = h_connect();
	access_in_file(c, dev, 0x11223344);
	fds = h_fds();

	/* Every fault is one EIO: the guard re-arms, the page goes. */
	for (i = 0; i < FAULTS; i++) {
		got = 0xdeadbeef;
		err = mmapclient_read(c, "edu", OFF_PAST, 32, &got);
		cr_assert_eq(err, -EIO, "read %d past the stand-in's end: "
		    "%d %s (%s)", i, err, strerror(-err), mmapclient_error(c));
		cr_assert_eq(got, 0, "a failed read gave %#llx",
		    (unsigned long long)got);
		cr_assert_not_null(strstr(mmapclient_error(c), "SIGBUS"),
		    "the message does not say SIGBUS: %s", mmapclient_error(c));
		err = mmapclient_write(c, "edu", OFF_PAST + 4, 32, 0x5a5a5a5a);
		cr_assert_eq(err, -EIO, "write %d past the stand-in's end: "
		    "%d %s (%s)", i, err, strerror(-err), mmapclient_error(c));
	}
	cr_assert(h_alive(), "mmapd died of the fault");
	cr_assert_eq(h_pid(), pid);
	/* No page, fd or lease of the faulting accesses is left. */
	cr_assert_eq(h_fds(), fds, "fds %d after the faults, %d before",
	    h_fds(), fds);
	cr_assert_eq(h_status_leases(), 0);

	/* The same connection, then another client, are served. */
	access_in_file(c, dev, 0x55667788);
	other = h_connect();
	access_in_file(other, dev, 0x99aabbcc);
	mmapclient_close(other);
	mmapclient_close(c);

	h_log_expect("audit: event=deny op=read", "device=edu ",
	    "offset=0x1000 ", "width=32 ", "errno=EIO ", "SIGBUS");
	h_log_expect("audit: event=deny op=write", "device=edu ",
	    "offset=0x1004 ", "errno=EIO ", "SIGBUS");
	cr_assert_eq(h_log_count("audit: event=deny op=read", "errno=EIO "),
	    FAULTS, "one audit line a faulting read");
	h_stop();
}

/* mmapctl, unprivileged: exit status 1, the errno named, the reason. */
Test(regs_fault, ctl_nobody_gets_eio)
{
	const char *dev = h_sparse("devmem", STANDIN_END);
	struct ctl r;

	ctl_need_nobody();
	h_start(fault_conf(dev));
	ctl_run(&r, CTL_NOBODY, "read", "edu", "0x2000");
	cr_assert_eq(r.status, 1, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_assert_str_eq(r.out, "");
	cr_assert_not_null(strstr(r.err, "(EIO, errno 5)"), "%s", r.err);
	cr_assert_not_null(strstr(r.err, "SIGBUS"), "%s", r.err);
	ctl_free(&r);
	/* The daemon is there for the next one. */
	ctl_run(&r, CTL_NOBODY, "read", "edu", "0x10");
	cr_assert_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_assert_str_eq(r.out, "0x00000000\n");
	ctl_free(&r);
	h_log_expect("audit: event=deny op=read", "uid=65534 ", "device=edu ",
	    "offset=0x2000 ", "errno=EIO ", "SIGBUS");
	h_stop();
}
