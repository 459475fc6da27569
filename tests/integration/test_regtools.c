/*
 * mmapctl as a register tool (issue 14), against a real mmapd on the
 * stand-in /dev/mem of test_regs.c (a sparse file; edu's BAR0 at
 * 0xfe900000 in iomem-q35.txt): devmem's widths and the hints for what
 * devmem and pcimem users type, modify, dump, watch, JSON's hex
 * strings, usage errors, map of device memory, status's counters, the
 * EACCES of a socket's group, and the bash completion run under bash.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

#define STANDIN_SIZE	(8ull << 30)
#define EDU_BAR0	0xfe900000ull

TestSuite(regtools, .fini = h_cleanup, .timeout = 60);

/*
 *	edu	edu's BAR, 1 MiB, rw, root and uid 65534; a raw fd for root
 *	edu-ro	its first page, protection r
 *	rootonly its first page, rw, root alone
 */
static const char *
conf_mode(const char *devpath, const char *daemon)
{
	static char buf[2048];

	snprintf(buf, sizeof(buf),
	    "[daemon]\n%s\n\n"
	    "[zero]\nusers = *\nmax_size = 1M\nshared = yes\n\n"
	    "[mem]\npath = %s\niomem = %s\nusers = root\nmax_size = 1M\n"
	    "shared = yes\nprotection = rw\n\n"
	    "[region edu]\ndevice = mem\nbase = 0xfe900000\nsize = 1M\n"
	    "users = root, 65534\nprotection = rw\nshared = yes\n"
	    "raw_fd_users = root\n\n"
	    "[region edu-ro]\ndevice = mem\nbase = 0xfe900000\nsize = 4K\n"
	    "users = root, 65534\n\n"
	    "[region rootonly]\ndevice = mem\nbase = 0xfe900000\n"
	    "size = 4K\nusers = root\nprotection = rw\n\n"
	    "[shm cam0]\nsize = 64K\nwriters = root, 65534\n",
	    daemon, devpath, h_data("iomem-q35.txt"));
	return buf;
}

static const char *
conf(const char *devpath)
{
	return conf_mode(devpath, "socket_mode = 0666");
}

static const char *
standin(void)
{
	return h_sparse("devmem", STANDIN_SIZE);
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

/* A usage error: exit 2, the message, the command's usage line. */
static void
expect_usage(const struct ctl *r, const char *msg, const char *usage)
{
	cr_expect_eq(r->status, 2, "exit %d:\n%s%s", r->status, r->out,
	    r->err);
	cr_expect(strstr(r->err, msg) != NULL, "no '%s' in:\n%s", msg, r->err);
	cr_expect(strstr(r->err, usage) != NULL, "no '%s' in:\n%s", usage,
	    r->err);
	cr_expect(strstr(r->err, "errno") == NULL, "a usage error said as an "
	    "errno:\n%s", r->err);
	cr_expect_str_eq(r->out, "");
}

/* The string value of "key":"..." in a JSON line, as a number. */
static uint64_t
json_hex_field(const char *json, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	p = strstr(json, pat);
	cr_assert_not_null(p, "no %s string in %s", key, json);
	p += strlen(pat);
	cr_assert(p[0] == '0' && p[1] == 'x', "%s is not 0x...: %s", key, p);
	return strtoull(p, NULL, 16);
}

/* ------------------------------------------------------------------------ */

/* devmem's widths, and what devmem and pcimem users type. */
Test(regtools, widths_and_devmem_hints)
{
	const char *dev = standin();
	static const struct {
		const char *w;
		unsigned int bytes;
		uint64_t v;
		const char *out;
	} ws[] = {
		{ "b", 1, 0xa1, "0xa1\n" },
		{ "h", 2, 0xb2b1, "0xb2b1\n" },
		{ "w", 4, 0xc4c3c2c1, "0xc4c3c2c1\n" },
		{ "q", 8, 0xd8d7d6d5d4d3d2d1ull, "0xd8d7d6d5d4d3d2d1\n" },
		{ "d", 8, 0xe8e7e6e5e4e3e2e1ull, "0xe8e7e6e5e4e3e2e1\n" },
		{ "l", sizeof(long), 0x0102030405060708ull & (sizeof(long) ==
		    8 ? UINT64_MAX : 0xffffffffull), NULL },
	};
	char val[32];
	struct ctl r;
	size_t i;

	h_start(conf(dev));
	for (i = 0; i < sizeof(ws) / sizeof(ws[0]); i++) {
		snprintf(val, sizeof(val), "%#" PRIx64, ws[i].v);
		ctl_run(&r, CTL_ROOT, "write", "edu", "0x40", val, ws[i].w);
		cr_assert_eq(r.status, 0, "write %s: %s", ws[i].w, r.err);
		ctl_free(&r);
		cr_expect_eq(file_le(dev, EDU_BAR0 + 0x40, ws[i].bytes),
		    ws[i].v, "width %s", ws[i].w);
		/* The same width as --width. */
		ctl_run(&r, CTL_ROOT, "read", "edu", "0x40", "--width",
		    ws[i].w);
		cr_assert_eq(r.status, 0, "read %s: %s", ws[i].w, r.err);
		if (ws[i].out != NULL)
			cr_expect_str_eq(r.out, ws[i].out);
		ctl_free(&r);
		file_put_le(dev, EDU_BAR0 + 0x40, 8, 0);
	}

	/* toybox's widths are bytes: refused, with the bits to say. */
	ctl_run(&r, CTL_ROOT, "read", "edu", "0x40", "4");
	expect_usage(&r, "mmapctl: read: '4' is not a width: mmapctl counts "
	    "bits (toybox devmem counts bytes): say 32",
	    "usage: mmapctl [-s PATH] [--json] read DEVICE OFFSET [WIDTH]\n");
	ctl_free(&r);

	/* devmem ADDRESS [WIDTH [VALUE]]: the mmapctl command that does it. */
	ctl_run(&r, CTL_ROOT, "0xfe900040");
	expect_usage(&r, "mmapctl: 0xfe900040: not a command; devmem's "
	    "ADDRESS [WIDTH [VALUE]] is, for mmapctl: mmapctl read mem "
	    "0xfe900040 (", "usage: ");
	ctl_free(&r);
	ctl_run(&r, CTL_ROOT, "0xfe900040", "h", "0x5");
	expect_usage(&r, "for mmapctl: mmapctl write mem 0xfe900040 0x5 16 ",
	    "usage: ");
	ctl_free(&r);
	ctl_run(&r, CTL_ROOT, "read", "0xfe900040");
	expect_usage(&r, "'0xfe900040' is an address, not a device: name the "
	    "device or region first (a physical address: read mem "
	    "0xfe900040)", "read DEVICE OFFSET [WIDTH]");
	ctl_free(&r);
	/* pcimem SYSFILE OFFSET TYPE*COUNT */
	ctl_run(&r, CTL_ROOT, "/sys/bus/pci/devices/0000:00:01.0/resource0",
	    "0x10", "w*4");
	expect_usage(&r, "a BAR is named by the region the policy gives it "
	    "(mmapctl offers lists them): mmapctl dump REGION 0x10 w*4",
	    "usage: ");
	ctl_free(&r);
	/* None of them asked the daemon anything. */
	cr_expect_eq(h_log_count("audit: event=", "0xfe900040"), 0);
	cr_expect_eq(h_log_count("audit: event=deny"), 0);
	h_stop();
}

Test(regtools, ctl_modify)
{
	const char *dev = standin();
	struct ctl r;

	h_start(conf(dev));
	file_put_le(dev, EDU_BAR0 + 0x8, 4, 0x12345678);
	ctl_run(&r, CTL_ROOT, "modify", "edu", "0x8", "--set", "0x80000000",
	    "--clear", "0xff");
	cr_assert_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect_str_eq(r.out, "0x12345678 -> 0x92345600\n");
	ctl_free(&r);
	cr_expect_eq(file_le(dev, EDU_BAR0 + 0x8, 4), 0x92345600);

	/* rmw, --mask and --value, a width: the low byte becomes 0x5a. */
	ctl_run(&r, CTL_ROOT, "rmw", "edu", "0x8", "b", "--mask", "0xff",
	    "--value", "0x5a");
	cr_assert_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect_str_eq(r.out, "0x00 -> 0x5a\n");
	ctl_free(&r);
	cr_expect_eq(file_le(dev, EDU_BAR0 + 0x8, 4), 0x9234565a);

	ctl_run(&r, CTL_ROOT, "--json", "modify", "edu", "0x8", "--clear",
	    "0x80000000");
	cr_assert_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect_str_eq(r.out, "{\"command\":\"modify\",\"device\":\"edu\","
	    "\"offset\":\"0x8\",\"width\":32,\"value\":\"0x1234565a\","
	    "\"old_value\":\"0x9234565a\",\"clear\":\"0x80000000\","
	    "\"set\":\"0x00000000\"}\n");
	ctl_free(&r);

	/* Refused by the policy: exit 1, the errno named. */
	ctl_run(&r, CTL_ROOT, "modify", "edu-ro", "0", "--set", "1");
	cr_expect_eq(r.status, 1, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.err, "mmapctl: modify edu-ro 0x0: Permission "
	    "denied (EACCES, errno 13): ") == r.err, "%s", r.err);
	ctl_free(&r);

	/* Usage errors: exit 2, nothing asked. */
	ctl_run(&r, CTL_ROOT, "modify", "edu", "0x8");
	expect_usage(&r, "--set BITS, --clear BITS, or --mask M --value V is "
	    "required", "usage: mmapctl [-s PATH] [--json] modify DEVICE "
	    "OFFSET [WIDTH]");
	ctl_free(&r);
	ctl_run(&r, CTL_ROOT, "modify", "edu", "0x8", "--mask", "0xf");
	expect_usage(&r, "mmapctl: --mask: needs --value V", "modify DEVICE");
	ctl_free(&r);
	ctl_run(&r, CTL_ROOT, "modify", "edu", "0x8", "--mask", "0xf",
	    "--value", "0x10");
	expect_usage(&r, "0x10 has bits outside --mask 0xf (0x10)",
	    "modify DEVICE");
	ctl_free(&r);
	ctl_run(&r, CTL_ROOT, "modify", "edu", "0x8", "16", "--set",
	    "0x10000");
	expect_usage(&r, "the bits to set 0x10000 does not fit in 16 bits",
	    "modify DEVICE");
	ctl_free(&r);
	ctl_run(&r, CTL_ROOT, "modify", "edu", "0x8", "--set", "1",
	    "--mask", "1", "--value", "1");
	expect_usage(&r, "does not go with --set or --clear", "modify DEVICE");
	ctl_free(&r);
	cr_expect_eq(file_le(dev, EDU_BAR0 + 0x8, 4), 0x1234565a);
	cr_expect_eq(h_log_count("audit: event=modify"), 3);
	h_stop();
}

Test(regtools, ctl_dump)
{
	const char *dev = standin();
	struct ctl r;
	int i;

	h_start(conf(dev));
	for (i = 0; i < 8; i++)
		file_put_le(dev, EDU_BAR0 + 0x100 + 4 * (uint64_t)i, 4,
		    0x11111111u * (uint32_t)(i + 1));
	ctl_run(&r, CTL_ROOT, "dump", "edu", "0x100", "32");
	cr_assert_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect_str_eq(r.out,
	    "0x00000100: 11111111 22222222 33333333 44444444\n"
	    "0x00000110: 55555555 66666666 77777777 88888888\n");
	ctl_free(&r);
	cr_expect_eq(h_log_count("audit: event=read", "device=edu "), 8);

	/* pcimem's TYPE*COUNT, and --count with --width. */
	ctl_run(&r, CTL_ROOT, "dump", "edu", "0x100", "h*3");
	cr_assert_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect_str_eq(r.out, "0x00000100: 1111 1111 2222\n");
	ctl_free(&r);
	ctl_run(&r, CTL_ROOT, "dump", "mem", "0xfe900108", "--count", "2",
	    "--width", "64");
	cr_assert_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect_str_eq(r.out,
	    "0xfe900108: 4444444433333333 6666666655555555\n");
	ctl_free(&r);

	ctl_run(&r, CTL_ROOT, "--json", "dump", "edu", "0x104", "w*2");
	cr_assert_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect_str_eq(r.out, "{\"command\":\"dump\",\"device\":\"edu\","
	    "\"offset\":\"0x104\",\"width\":32,\"count\":2,\"registers\":["
	    "{\"offset\":\"0x104\",\"value\":\"0x22222222\"},"
	    "{\"offset\":\"0x108\",\"value\":\"0x33333333\"}],\"ok\":true}\n");
	ctl_free(&r);

	/* Past the region's end: what was read, then the refusal, exit 1. */
	ctl_run(&r, CTL_ROOT, "dump", "edu-ro", "0xff8", "16");
	cr_expect_eq(r.status, 1, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect_str_eq(r.out, "0x00000ff8: 00000000 00000000\n");
	cr_expect(strstr(r.err, "mmapctl: dump edu-ro 0x1000: Invalid "
	    "argument (EINVAL, errno 22): ") == r.err, "%s", r.err);
	ctl_free(&r);

	ctl_run(&r, CTL_ROOT, "dump", "edu", "0", "1M");
	expect_usage(&r, "more than 64 KiB", "usage: mmapctl [-s PATH] "
	    "[--json] dump DEVICE OFFSET [SIZE|TYPE*COUNT]");
	ctl_free(&r);
	ctl_run(&r, CTL_ROOT, "dump", "edu", "0", "6");
	expect_usage(&r, "size 6 is not a multiple of 4 bytes", "dump DEVICE");
	ctl_free(&r);
	ctl_run(&r, CTL_ROOT, "dump", "edu", "0", "x*4");
	expect_usage(&r, "'x*4' is not TYPE*COUNT", "dump DEVICE");
	ctl_free(&r);
	h_stop();
}

Test(regtools, ctl_watch)
{
	const char *dev = standin();
	struct ctl_bg bg;
	struct ctl r;
	char *nl;
	int lines;

	h_start(conf(dev));
	file_put_le(dev, EDU_BAR0 + 0x4, 4, 0xabcd0001);
	/* Every value, --count of them, then exit 0. */
	ctl_run(&r, CTL_ROOT, "watch", "edu", "0x4", "--interval", "0.05",
	    "--count", "3");
	cr_assert_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	/* The first read at once (within 100 ms, however loaded). */
	cr_expect(strncmp(r.out, "0.0", 3) == 0 &&
	    strstr(r.out, " s: 0xabcd0001\n") != NULL, "%s", r.out);
	for (lines = 0, nl = r.out; (nl = strchr(nl, '\n')) != NULL; nl++)
		lines++;
	cr_expect_eq(lines, 3, "not 3 lines:\n%s", r.out);
	ctl_free(&r);

	/* --changes: the first value, then a change made meanwhile. */
	ctl_spawn(&bg, CTL_ROOT, "watch", "edu", "0x4", "16", "--interval",
	    "0.02", "--changes", "--count", "2");
	ctl_bg_wait(&bg, ": 0x0001\n");
	h_sleep_ms(100);
	file_put_le(dev, EDU_BAR0 + 0x4, 2, 0x0002);
	ctl_bg_wait(&bg, " (was 0x0001)\n");
	ctl_bg_stop(&bg, SIGTERM, &r);
	cr_expect_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.out, ": 0x0002 (was 0x0001)\n") != NULL, "%s",
	    r.out);
	ctl_free(&r);

	/* JSON: one object a value; SIGTERM ends it with exit 0. */
	ctl_spawn(&bg, CTL_ROOT, "--json", "watch", "edu", "0x4", "--interval",
	    "0.05");
	ctl_bg_wait(&bg, "\"previous\":\"0xabcd0002\"}\n");
	ctl_bg_stop(&bg, SIGTERM, &r);
	cr_expect_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.out, "{\"command\":\"watch\",\"device\":\"edu\","
	    "\"offset\":\"0x4\",\"width\":32,\"time_ms\":") == r.out, "%s",
	    r.out);
	cr_expect(strstr(r.out, ",\"value\":\"0xabcd0002\",\"previous\":"
	    "null}\n") != NULL, "%s", r.out);
	ctl_free(&r);

	ctl_run(&r, CTL_ROOT, "watch", "edu", "0x4", "--interval", "0.001");
	expect_usage(&r, "'0.001' is not an interval", "usage: mmapctl "
	    "[-s PATH] [--json] watch DEVICE OFFSET");
	ctl_free(&r);
	ctl_run(&r, CTL_ROOT, "watch", "edu");
	expect_usage(&r, "DEVICE OFFSET are required", "watch DEVICE");
	ctl_free(&r);
	h_stop();
}

/* 64-bit values and addresses as hex strings, parsed back exactly. */
Test(regtools, json_hex_strings_exact)
{
	const char *dev = standin();
	struct ctl_bg bg;
	struct ctl r;

	h_start(conf(dev));
	ctl_run(&r, CTL_ROOT, "--json", "write", "edu", "0x18",
	    "0xfedcba9876543210", "64");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_eq(json_hex_field(r.out, "value"), 0xfedcba9876543210ull);
	ctl_free(&r);
	cr_expect_eq(file_le(dev, EDU_BAR0 + 0x18, 8), 0xfedcba9876543210ull);
	ctl_run(&r, CTL_ROOT, "--json", "read", "mem", "0xfe900018", "q");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_eq(json_hex_field(r.out, "value"), 0xfedcba9876543210ull,
	    "%s", r.out);
	cr_expect_eq(json_hex_field(r.out, "offset"), 0xfe900018ull);
	/* No bare number above 2^53 anywhere. */
	cr_expect(strstr(r.out, "18364758544493064720") == NULL, "%s", r.out);
	ctl_free(&r);

	/* list: a lease's offset as a string too. */
	ctl_spawn(&bg, CTL_ROOT, "map", "--dev", "edu", "--offset", "0x3000",
	    "--size", "4K", "--hold");
	ctl_bg_wait(&bg, "holding lease");
	ctl_run(&r, CTL_ROOT, "--json", "list");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_eq(json_hex_field(r.out, "offset"), 0x3000, "%s", r.out);
	ctl_free(&r);
	ctl_bg_stop(&bg, SIGTERM, &r);
	ctl_free(&r);
	h_stop();
}

/*
 * map of device memory: writable means shared, without --shared; and
 * what mmapctl can refuse itself is refused before any lease.
 */
Test(regtools, map_device_shared_and_early_refusals)
{
	const char *dev = standin();
	struct ctl r;

	h_start(conf(dev));
	ctl_run(&r, CTL_ROOT, "map", "--dev", "edu", "--size", "4K");
	cr_assert_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.out, "4096 bytes of edu (4 KiB) at ") != NULL,
	    "%s", r.out);
	cr_expect(strstr(r.out, "kind device, prot rw, shared,") != NULL,
	    "%s", r.out);
	ctl_free(&r);
	h_log_expect("audit: event=grant", "device=edu ", "shared=1 ");

	ctl_run(&r, CTL_ROOT, "map", "--dev", "edu", "--size", "4K",
	    "--fill", "0x5a");
	expect_usage(&r, "mmapctl: --fill: edu is device memory, which "
	    "mmapctl reads and writes only with --read and --write",
	    "usage: mmapctl [-s PATH] [--json] map --dev NAME");
	ctl_free(&r);
	ctl_run(&r, CTL_ROOT, "map", "--dev", "edu", "--size", "4K",
	    "--expect", "0");
	expect_usage(&r, "mmapctl: --expect: edu is device memory", "map ");
	ctl_free(&r);
	ctl_run(&r, CTL_ROOT, "map", "--dev", "edu", "--size", "4K",
	    "--shared", "--name", "cam0");
	expect_usage(&r, "--name: names shared memory of zero, not of edu",
	    "map ");
	ctl_free(&r);
	/* One grant only: the refusals asked nothing. */
	cr_expect_eq(h_log_count("audit: event=grant"), 1);
	cr_expect_eq(h_log_count("audit: event=deny"), 0);
	cr_expect_eq(file_le(dev, EDU_BAR0, 8), 0);
	h_stop();
}

Test(regtools, status_counters_and_human_text)
{
	struct ctl r;

	h_start(conf(standin()));
	ctl_run(&r, CTL_ROOT, "map", "--dev", "zero", "--size", "2M");
	cr_expect_eq(r.status, 1, "%s", r.err);
	ctl_free(&r);
	ctl_run(&r, CTL_ROOT, "map", "--dev", "zero", "--size", "64K");
	cr_expect_eq(r.status, 0, "%s", r.err);
	ctl_free(&r);

	ctl_run(&r, CTL_ROOT, "status");
	cr_assert_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.out, "\nuptime: ") != NULL &&
	    strstr(r.out, " s\n") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "\ngrants: 1\nreleases: 1\nrevocations: 0\n"
	    "denials: 1 (EFBIG 1)\nzero memory held: 0 bytes\n") != NULL,
	    "%s", r.out);
	cr_expect(strstr(r.out, "\npeak clients: ") != NULL, "%s", r.out);
	ctl_free(&r);

	ctl_run(&r, CTL_ROOT, "--json", "status");
	cr_assert_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.out, ",\"counters\":{\"grants\":1,\"releases\":1,"
	    "\"revocations\":0,\"denials\":[{\"errno\":\"EFBIG\",\"error\":27,"
	    "\"count\":1}],\"zero_bytes_held\":0,\"peak_clients\":") != NULL,
	    "%s", r.out);
	ctl_free(&r);

	/* Sizes for people in offers and list. */
	ctl_run(&r, CTL_ROOT, "offers");
	cr_expect(strstr(r.out, "\nzero             device 1 MiB ") != NULL,
	    "%s", r.out);
	cr_expect(strstr(r.out, "\ncam0             shm    64 KiB ") != NULL,
	    "%s", r.out);
	ctl_free(&r);
	h_stop();
}

/* -s for --socket; EACCES names the socket's group. */
Test(regtools, socket_short_option_and_eacces)
{
	struct group *g = getgrgid(0);
	char want[256];
	struct ctl r;

	ctl_need_nobody();
	cr_assert_not_null(g);
	h_start(conf_mode(standin(), "socket_mode = 0660\nsocket_group = 0"));
	ctl_run(&r, CTL_ROOT, "-s", h_sock(), "status");
	cr_expect_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	ctl_free(&r);
	ctl_run(&r, CTL_ROOT, "-s", "/nonexistent/mmapd.sock", "status");
	cr_expect_eq(r.status, 1, "%s", r.err);
	cr_expect(strstr(r.err, "/nonexistent/mmapd.sock") != NULL, "-s was "
	    "not the socket used:\n%s", r.err);
	ctl_free(&r);

	ctl_run(&r, CTL_NOBODY, "status");
	cr_expect_eq(r.status, 1, "exit %d:\n%s%s", r.status, r.out, r.err);
	snprintf(want, sizeof(want), "mmapctl: connect: Permission denied "
	    "(EACCES, errno 13): %s is mode 0660, group %s: members of group "
	    "%s may connect", h_sock(), g->gr_name, g->gr_name);
	cr_expect(strstr(r.err, want) == r.err, "no '%s' in:\n%s", want,
	    r.err);
	ctl_free(&r);
	h_stop();
}

/* ------------------------------------------------------------------------ */
/* bash completion: sourced under bash, its function run on COMP_WORDS */

/*
 * Complete words (the last is the one under the cursor) as uid (0 or
 * H_NOBODY); what COMPREPLY holds, one a line, malloc'd.
 */
static char *
complete_v(uid_t uid, const char *const *words)
{
	const char *bin = getenv("MMAPCTL_BIN");
	const char *script = "export LC_ALL=C; source \"$1\"; shift; "
	    "COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1)); _mmapctl; "
	    "if ((${#COMPREPLY[@]})); then "
	    "printf '%s\\n' \"${COMPREPLY[@]}\" | sort; fi";
	const char *argv[32];
	const char *out = h_path("complete.out");
	size_t n = 0;
	pid_t pid;
	int fd, st;
	char *s;

	argv[n++] = "bash";
	argv[n++] = "-c";
	argv[n++] = script;
	argv[n++] = "bash";
	argv[n++] = COMPLETION_SCRIPT;
	argv[n++] = bin;
	for (; *words != NULL && n < 31; words++)
		argv[n++] = *words;
	argv[n] = NULL;
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert(fd >= 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		if (dup2(fd, 1) < 0)
			_exit(126);
		if (uid != 0 && (setgroups(0, NULL) < 0 ||
		    setresgid(uid, uid, uid) < 0 ||
		    setresuid(uid, uid, uid) < 0))
			_exit(125);
		execvp("bash", (char *const *)argv);
		_exit(127);
	}
	close(fd);
	h_track(pid);
	st = h_wait(pid, H_WAIT_MS);
	h_untrack(pid);
	cr_assert(st != -1, "the completion did not end within %d ms",
	    H_WAIT_MS);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "bash: %#x", st);
	s = h_read(out);
	return s;
}
#define complete(uid, ...) \
	complete_v((uid), (const char *const[]){ __VA_ARGS__, NULL })

Test(regtools, bash_completion)
{
	char *s;

	if (getenv("MMAPCTL_BIN") == NULL)
		cr_skip_test("MMAPCTL_BIN is not set (make check sets it)");
	ctl_need_nobody();
	h_start(conf(standin()));

	s = complete(0, "mo");
	cr_expect_str_eq(s, "modify\n");
	free(s);
	s = complete(0, "-s", h_sock(), "--js");
	cr_expect_str_eq(s, "--json\n");
	free(s);
	s = complete(0, "-s", h_sock(), "watch", "edu", "0", "--c");
	cr_expect_str_eq(s, "--changes\n--count\n");
	free(s);
	s = complete(0, "-s", h_sock(), "read", "edu", "0", "--width", "");
	cr_expect_str_eq(s, "16\n32\n64\n8\nb\nh\nl\nq\nw\n");
	free(s);

	/* Names from the daemon: root is offered everything... */
	s = complete(0, "-s", h_sock(), "read", "");
	cr_expect_str_eq(s, "edu\nedu-ro\nmem\nrootonly\nzero\n");
	free(s);
	s = complete(0, "--socket", h_sock(), "map", "--dev", "ed");
	cr_expect_str_eq(s, "edu\nedu-ro\n");
	free(s);
	s = complete(0, "--socket", h_sock(), "map", "--dev", "zero",
	    "--name", "");
	cr_expect_str_eq(s, "cam0\n");
	free(s);
	/* ...uid 65534 only what its policy gives it. */
	s = complete(H_NOBODY, "-s", h_sock(), "modify", "");
	cr_expect_str_eq(s, "edu\nedu-ro\nzero\n");
	free(s);
	/* An option's value is skipped: the operand after it is DEVICE. */
	s = complete(0, "-s", h_sock(), "dump", "--width", "w", "ed");
	cr_expect_str_eq(s, "edu\nedu-ro\n");
	free(s);
	s = complete(0, "-s", h_sock(), "revoke", "--region", "c");
	cr_expect_str_eq(s, "cam0\n");
	free(s);
	/* A second operand is no device. */
	s = complete(0, "-s", h_sock(), "dump", "edu", "");
	cr_expect_str_eq(s, "");
	free(s);
	/* No daemon: nothing, and no error on the terminal. */
	s = complete(0, "-s", "/nonexistent", "read", "");
	cr_expect_str_eq(s, "");
	free(s);
	h_stop();
}

/*
 * watch with an interval longer than the daemon's idle_seconds: mmapd
 * closes the quiet connection (ETIMEDOUT), watch connects again and
 * goes on.
 */
Test(regtools, watch_connects_again_after_an_idle_close)
{
	char cfg[2300];
	struct ctl r;

	snprintf(cfg, sizeof(cfg), "%s\n[limits]\nidle_seconds = 1\n",
	    conf(standin()));
	h_start(cfg);
	ctl_run(&r, CTL_ROOT, "watch", "edu", "0", "--interval", "2.5",
	    "--count", "2");
	cr_expect_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
	cr_expect(strncmp(r.out, "0.0", 3) == 0 &&
	    strstr(r.out, " s: 0x00000000\n2.") != NULL, "%s", r.out);
	ctl_free(&r);
	h_log_expect("audit: event=close", "reason=idle");
	cr_expect_eq(h_log_count("audit: event=read", "device=edu "), 2);
	h_stop();
}
