/*
 * mmapctl dump: a range of registers in hex with their addresses, as
 * devmem users would read them one by one, pcimem's TYPE*COUNT and
 * hexdump's lines.  One Read per register, done by the daemon (each is
 * checked and logged as a read would be): no descriptor, no lease, so
 * it works where the policy gives registers only.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmapctl.h"

#define DUMP_SIZE_DEFAULT	256	/* bytes: 64 registers of 32 bits */
#define DUMP_SIZE_MAX		(64 * 1024)	/* one Read each: enough */
#define DUMP_LINE		16	/* bytes a line shows */

enum {
	OPT_COUNT = OPT_FIRST_CMD,
};

static const struct option dump_opts[] = {
	COMMON_OPTS,
	{ "width", required_argument, NULL, 'w' },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ NULL, 0, NULL, 0 },
};

/* pcimem's TYPE*COUNT (w*16): a width and a count of registers. */
static int
type_count(const char *s, unsigned int *width, uint64_t *count)
{
	const char *star = strchr(s, '*');
	char type[8];

	if (star == NULL || (size_t)(star - s) >= sizeof(type))
		return -EINVAL;
	memcpy(type, s, (size_t)(star - s));
	type[star - s] = '\0';
	if (width_parse(type, width) < 0)
		return -EINVAL;
	return number_parse(star + 1, 0, UINT64_MAX, count);
}

/* dump DEVICE OFFSET [SIZE|TYPE*COUNT] [--width W] [--count N] */
void
parse_dump(int argc, char **argv, struct dump_opts *o)
{
	uint64_t size = 0, count = 0, v;
	int opt, n, have_width = 0;

	*o = (struct dump_opts){ .width = 32 };
	while ((opt = getopt_long(argc, argv, COMMON_SHORT "w:", dump_opts,
	    NULL)) != -1) {
		if (common_opt(opt, optarg))
			continue;
		switch (opt) {
		case 'w':
			o->width = width_arg("--width", optarg);
			have_width = 1;
			break;
		case OPT_COUNT:
			if (number_parse(optarg, 0, UINT64_MAX, &count) < 0 ||
			    count == 0)
				usage_fail("--count", "'%s' is not a count of "
				    "registers (1 or more)", optarg);
			break;
		default:
			bad_option(opt, argv);
		}
	}
	argv += optind;
	n = argc - optind;
	if (n < 2)
		usage_fail("dump", "DEVICE OFFSET are required");
	if (n > 3)
		usage_fail("dump", "unexpected argument '%s'", argv[3]);
	if (argv[0][0] == '\0')
		usage_fail("dump", "DEVICE is empty");
	if (number_parse(argv[0], 0, UINT64_MAX, &v) == 0)
		usage_fail("dump", "'%s' is an address, not a device: name "
		    "the device or region first (a physical address: dump "
		    "mem %s)", argv[0], argv[0]);
	o->device = argv[0];
	o->offset = offset_arg("dump", argv[1]);
	if (n == 3 && strchr(argv[2], '*') != NULL) {
		if (have_width || count)
			usage_fail("dump", "TYPE*COUNT does not go with "
			    "--width or --count");
		if (type_count(argv[2], &o->width, &count) < 0 || count == 0)
			usage_fail("dump", "'%s' is not TYPE*COUNT (pcimem's "
			    "w*16: a width, b, h, w, d or bits, and a count)",
			    argv[2]);
	} else if (n == 3) {
		if (count)
			usage_fail("dump", "SIZE does not go with --count");
		if (number_parse(argv[2], 1, UINT64_MAX, &size) < 0 ||
		    size == 0)
			usage_fail("dump", "'%s' is not a size (bytes, "
			    "decimal or 0x hex, optional K)", argv[2]);
	}
	if (count == 0) {
		if (size == 0)
			size = DUMP_SIZE_DEFAULT;
		if (size % (o->width / 8) != 0)
			usage_fail("dump", "size %" PRIu64 " is not a multiple "
			    "of %u bytes (width %u)", size, o->width / 8,
			    o->width);
		count = size / (o->width / 8);
	}
	if (count > DUMP_SIZE_MAX / (o->width / 8))
		usage_fail("dump", "%" PRIu64 " registers of %u bits are more "
		    "than %d KiB: dump at most that at a time, or map the "
		    "region (map --read)", count, o->width,
		    DUMP_SIZE_MAX / 1024);
	o->count = count;
	if (o->offset + count * (o->width / 8) < o->offset)
		usage_fail("dump", "the range wraps past 0xffffffffffffffff");
}

/* Hex digits of the last address, at least 8, so the column lines up. */
static int
addr_digits(uint64_t last)
{
	int d = 1;

	while (last >>= 4)
		d++;
	return d < 8 ? 8 : d;
}

int
cmd_dump(struct mmapclient *c, const struct dump_opts *o)
{
	unsigned int bytes = o->width / 8, per = DUMP_LINE / bytes;
	uint64_t i, off = o->offset, v = 0;
	uint64_t last = o->offset + (o->count - 1) * bytes;
	int digits = addr_digits(last), err = 0;
	char what[300];

	if (json) {
		printf("{\"command\":\"dump\",\"device\":");
		json_str(o->device);
		printf(",\"offset\":");
		json_hex(o->offset);
		printf(",\"width\":%u,\"count\":%" PRIu64 ",\"registers\":[",
		    o->width, o->count);
	}
	for (i = 0; i < o->count; i++) {
		off = o->offset + i * bytes;
		err = mmapclient_read(c, o->device, off, o->width, &v);
		if (err)
			break;
		if (json) {
			printf("%s{\"offset\":", i ? "," : "");
			json_hex(off);
			printf(",\"value\":");
			json_value(v, o->width);
			putchar('}');
			continue;
		}
		if (i % per == 0)
			printf("%s0x%0*" PRIx64 ":", i ? "\n" : "", digits,
			    off);
		printf(" %0*" PRIx64, (int)(o->width / 4), v);
	}
	if (json)
		printf("],\"ok\":%s}\n", err ? "false" : "true");
	else if (i > 0)
		putchar('\n');
	if (err) {
		snprintf(what, sizeof(what), "dump %s 0x%" PRIx64, o->device,
		    off);
		fail_line(err, what, "%s", mmapclient_error(c));
		return EXIT_REFUSED;
	}
	return 0;
}
