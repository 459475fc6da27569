/*
 * mmapctl's register access, like devmem: read, write and modify, done
 * by the daemon (mmapclient_read(), mmapclient_write(),
 * mmapclient_modify()), and map's --read and --write, done through the
 * mapping with the library's exact-width accessors (never memcpy():
 * device registers answer only the access they expect).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "mmapctl.h"

#define WIDTH_DEFAULT	32
/* "0xffffffffffffffff", or 20 decimal digits and a suffix, and a NUL. */
#define NUMBER_MAX	24

/*
 * Bits, as mmapctl always took them, or the letters of busybox devmem
 * (b, h, w, l: char, short, int, long), devmem2 (b, h, w) and pcimem
 * (b, h, w, d: byte, half-word, word, double-word), and q (quad-word).
 * toybox devmem counts bytes (1, 2, 4, 8): its 1, 2 and 4 mean nothing
 * here and are refused with a hint; its 8 is taken as bits, as busybox
 * and mmapctl take it.
 */
int
width_parse(const char *s, unsigned int *bits)
{
	uint64_t v;

	if (s[0] != '\0' && s[1] == '\0' && !(s[0] >= '0' && s[0] <= '9')) {
		switch (s[0] | 0x20) {
		case 'b': *bits = 8; return 0;
		case 'h': *bits = 16; return 0;
		case 'w': *bits = 32; return 0;
		case 'l': *bits = 8 * (unsigned int)sizeof(long); return 0;
		case 'd': case 'q': *bits = 64; return 0;
		}
		return -EINVAL;
	}
	if (number_parse(s, 0, 64, &v) < 0 ||
	    (v != 8 && v != 16 && v != 32 && v != 64))
		return -EINVAL;
	*bits = (unsigned int)v;
	return 0;
}

unsigned int
width_arg(const char *what, const char *s)
{
	unsigned int bits;

	if (width_parse(s, &bits) == 0)
		return bits;
	if (strcmp(s, "1") == 0 || strcmp(s, "2") == 0 || strcmp(s, "4") == 0)
		usage_fail(what, "'%s' is not a width: mmapctl counts bits "
		    "(toybox devmem counts bytes): say %d", s, atoi(s) * 8);
	usage_fail(what, "'%s' is not a width: 8, 16, 32 or 64 (bits), or "
	    "b, h, w, l, d, q", s);
}

uint64_t
offset_arg(const char *what, const char *s)
{
	uint64_t v;

	if (number_parse(s, 1, UINT64_MAX, &v) < 0)
		usage_fail(what, "'%s' is not an offset (decimal or 0x hex, "
		    "optional K, M or G)", s);
	return v;
}

uint64_t
value_arg(const char *what, const char *s)
{
	uint64_t v;

	if (number_parse(s, 0, UINT64_MAX, &v) < 0)
		usage_fail(what, "'%s' is not a value (decimal or 0x hex, at "
		    "most 64 bits)", s);
	return v;
}

/*
 * A DEVICE that is a number was meant as devmem's ADDRESS: say how to
 * name /dev/mem.
 */
static void
device_check(const char *cmd, const char *device)
{
	uint64_t v;

	if (device[0] == '\0')
		usage_fail(cmd, "DEVICE is empty");
	if (number_parse(device, 0, UINT64_MAX, &v) == 0)
		usage_fail(cmd, "'%s' is an address, not a device: name the "
		    "device or region first (a physical address: %s mem %s)",
		    device, cmd, device);
}

void
reg_args(int store, char **args, int n, struct reg_op *op)
{
	const char *cmd = store ? "write" : "read";
	int want = store ? 3 : 2;

	if (n >= 1)
		device_check(cmd, args[0]);
	if (n < want)
		usage_fail(cmd, "%s", store ? "DEVICE OFFSET VALUE are "
		    "required" : "DEVICE OFFSET are required");
	if (n > want + 1)
		usage_fail(cmd, "unexpected argument '%s'", args[want + 1]);
	op->store = store;
	op->device = args[0];
	op->offset = offset_arg(cmd, args[1]);
	if (store)
		op->value = value_arg(cmd, args[2]);
	if (n > want)
		op->width = width_arg(cmd, args[want]);
}

/* read and write: --width W besides the WIDTH operand. */
static const struct option reg_opts[] = {
	COMMON_OPTS,
	{ "width", required_argument, NULL, 'w' },
	{ NULL, 0, NULL, 0 },
};

/* read DEVICE OFFSET [WIDTH], write DEVICE OFFSET VALUE [WIDTH] */
void
parse_reg(int store, int argc, char **argv, struct reg_op *op)
{
	int opt;

	*op = (struct reg_op){ .width = WIDTH_DEFAULT };
	while ((opt = getopt_long(argc, argv, COMMON_SHORT "w:", reg_opts,
	    NULL)) != -1) {
		if (common_opt(opt, optarg))
			continue;
		if (opt == 'w')
			op->width = width_arg("--width", optarg);
		else
			bad_option(opt, argv);
	}
	reg_args(store, argv + optind, argc - optind, op);
}

enum {
	OPT_SET = OPT_FIRST_CMD,
	OPT_CLEAR,
	OPT_MASK,
	OPT_VALUE,
};

static const struct option modify_opts[] = {
	COMMON_OPTS,
	{ "width", required_argument, NULL, 'w' },
	{ "set", required_argument, NULL, OPT_SET },
	{ "clear", required_argument, NULL, OPT_CLEAR },
	{ "mask", required_argument, NULL, OPT_MASK },
	{ "value", required_argument, NULL, OPT_VALUE },
	{ NULL, 0, NULL, 0 },
};

/*
 * modify DEVICE OFFSET [WIDTH] --set BITS --clear BITS, or --mask M
 * --value V: clear M, set V (which must lie within M).
 */
void
parse_modify(int argc, char **argv, struct reg_op *op)
{
	uint64_t mask = 0, value = 0;
	int opt, have_mask = 0, have_value = 0, have_bits = 0, n;

	*op = (struct reg_op){ .width = WIDTH_DEFAULT, .store = 1,
	    .modify = 1 };
	while ((opt = getopt_long(argc, argv, COMMON_SHORT "w:", modify_opts,
	    NULL)) != -1) {
		if (common_opt(opt, optarg))
			continue;
		switch (opt) {
		case 'w':
			op->width = width_arg("--width", optarg);
			break;
		case OPT_SET:
			op->set = value_arg("--set", optarg);
			have_bits = 1;
			break;
		case OPT_CLEAR:
			op->clear = value_arg("--clear", optarg);
			have_bits = 1;
			break;
		case OPT_MASK:
			mask = value_arg("--mask", optarg);
			have_mask = 1;
			break;
		case OPT_VALUE:
			value = value_arg("--value", optarg);
			have_value = 1;
			break;
		default:
			bad_option(opt, argv);
		}
	}
	argv += optind;
	n = argc - optind;
	if (n >= 1)
		device_check("modify", argv[0]);
	if (n < 2)
		usage_fail("modify", "DEVICE OFFSET are required");
	if (n > 3)
		usage_fail("modify", "unexpected argument '%s'", argv[3]);
	op->device = argv[0];
	op->offset = offset_arg("modify", argv[1]);
	if (n == 3)
		op->width = width_arg("modify", argv[2]);
	if (have_mask != have_value)
		usage_fail(have_mask ? "--mask" : "--value", "needs %s",
		    have_mask ? "--value V" : "--mask M");
	if (have_mask && have_bits)
		usage_fail("--mask", "does not go with --set or --clear");
	if (!have_mask && !have_bits)
		usage_fail("modify", "--set BITS, --clear BITS, or --mask M "
		    "--value V is required");
	if (have_mask) {
		if (value & ~mask)
			usage_fail("--value", "0x%" PRIx64 " has bits outside "
			    "--mask 0x%" PRIx64 " (0x%" PRIx64 ")", value,
			    mask, value & ~mask);
		op->clear = mask;
		op->set = value;
	}
	if (op->width < 64 && ((op->set | op->clear) >> op->width) != 0)
		usage_fail("modify", "%s 0x%" PRIx64 " does not fit in %u bits",
		    op->set >> op->width ? "the bits to set" :
		    "the bits to clear", op->set >> op->width ? op->set :
		    op->clear, op->width);
}

/* s up to its first stop character (or its end) into buf; the rest. */
static const char *
field(const char *opt, const char *s, const char *stops, char *buf)
{
	size_t len = strcspn(s, stops);

	if (len == 0 || len >= NUMBER_MAX)
		usage_fail(opt, "'%.*s' is not a number", (int)len, s);
	memcpy(buf, s, len);
	buf[len] = '\0';
	return s + len;
}

void
reg_op_arg(int store, const char *arg, struct reg_op *op)
{
	const char *opt = store ? "--write" : "--read";
	char buf[NUMBER_MAX];
	const char *p;

	*op = (struct reg_op){ .store = store, .width = WIDTH_DEFAULT };
	p = field(opt, arg, store ? "=" : ":", buf);
	op->offset = offset_arg(opt, buf);
	if (store) {
		if (*p != '=')
			usage_fail(opt, "'%s' is not OFF=VALUE[:WIDTH]", arg);
		p = field(opt, p + 1, ":", buf);
		op->value = value_arg(opt, buf);
	}
	if (*p == ':')
		op->width = width_arg(opt, p + 1);
	else if (*p != '\0')
		usage_fail(opt, "'%s' is not %s", arg, store ?
		    "OFF=VALUE[:WIDTH]" : "OFF[:WIDTH]");
}

/* Why mmapclient_region_*() refused op on r, for the failure line. */
static void
op_fail(int err, const struct reg_op *op, const struct mmapclient_region *r)
{
	char what[64];

	snprintf(what, sizeof(what), "%s 0x%" PRIx64, op->store ? "write" :
	    "read", op->offset);
	switch (err) {
	case -ERANGE:
		fail_line(err, what, "%u bytes at offset 0x%" PRIx64 " are not "
		    "within the %zu bytes of lease %" PRIu64, op->width / 8,
		    op->offset, r->size, r->lease_id);
		break;
	case -EACCES:
		fail_line(err, what, "lease %" PRIu64 " was granted read-only",
		    r->lease_id);
		break;
	default:
		if (op->offset % (op->width / 8) != 0)
			fail_line(err, what, "offset 0x%" PRIx64 " is not a "
			    "multiple of %u bytes (width %u)", op->offset,
			    op->width / 8, op->width);
		else
			fail_line(err, what, "value 0x%" PRIx64 " does not fit "
			    "in %u bits", op->value, op->width);
	}
}

int
reg_ops_run(const struct map_opts *o, const struct mmapclient_region *r,
    uint64_t *values, size_t *done)
{
	const struct reg_op *op;
	size_t i;
	int err;

	*done = 0;
	for (i = 0; i < o->n_ops; i++) {
		op = &o->ops[i];
		values[i] = 0;
		if (op->store)
			err = mmapclient_region_write(r, op->offset, op->width,
			    op->value);
		else
			err = mmapclient_region_read(r, op->offset, op->width,
			    &values[i]);
		if (err) {
			op_fail(err, op, r);
			return EXIT_REFUSED;
		}
		*done = i + 1;
		if (!op->store && !json) {
			printf("0x%" PRIx64 ": ", op->offset);
			value_print(values[i], op->width);
			putchar('\n');
		}
	}
	return 0;
}

void
reg_ops_json(const struct map_opts *o, const uint64_t *values, size_t done)
{
	const struct reg_op *op;
	size_t i;

	printf(",\"access\":[");
	for (i = 0; i < done; i++) {
		op = &o->ops[i];
		printf("%s{\"op\":\"%s\",\"offset\":", i ? "," : "",
		    op->store ? "write" : "read");
		json_hex(op->offset);
		printf(",\"width\":%u,\"value\":", op->width);
		json_value(op->store ? op->value : values[i], op->width);
		putchar('}');
	}
	putchar(']');
}

/*
 * The JSON object of read, write and modify: the register and its
 * value (what was read, or written), then modify's own.
 */
static void
reg_json(const struct reg_op *op, uint64_t value, uint64_t old)
{
	printf("{\"command\":\"%s\",\"device\":", op->modify ? "modify" :
	    op->store ? "write" : "read");
	json_str(op->device);
	printf(",\"offset\":");
	json_hex(op->offset);
	printf(",\"width\":%u,\"value\":", op->width);
	json_value(value, op->width);
	if (op->modify) {
		printf(",\"old_value\":");
		json_value(old, op->width);
		printf(",\"clear\":");
		json_value(op->clear, op->width);
		printf(",\"set\":");
		json_value(op->set, op->width);
	}
	printf("}\n");
}

int
cmd_read(struct mmapclient *c, const struct reg_op *op)
{
	char what[300];
	uint64_t value;
	int err;

	err = mmapclient_read(c, op->device, op->offset, op->width, &value);
	if (err) {
		snprintf(what, sizeof(what), "read %s 0x%" PRIx64, op->device,
		    op->offset);
		fail_line(err, what, "%s", mmapclient_error(c));
		return EXIT_REFUSED;
	}
	if (json) {
		reg_json(op, value, 0);
	} else {
		value_print(value, op->width);
		putchar('\n');
	}
	return 0;
}

int
cmd_write(struct mmapclient *c, const struct reg_op *op)
{
	char what[300];
	int err;

	err = mmapclient_write(c, op->device, op->offset, op->width,
	    op->value);
	if (err) {
		snprintf(what, sizeof(what), "write %s 0x%" PRIx64, op->device,
		    op->offset);
		fail_line(err, what, "%s", mmapclient_error(c));
		return EXIT_REFUSED;
	}
	if (json)
		reg_json(op, op->value, 0);
	return 0;
}

int
cmd_modify(struct mmapclient *c, const struct reg_op *op)
{
	char what[300];
	uint64_t old, new;
	int err;

	err = mmapclient_modify(c, op->device, op->offset, op->width,
	    op->clear, op->set, &old, &new);
	if (err) {
		snprintf(what, sizeof(what), "modify %s 0x%" PRIx64,
		    op->device, op->offset);
		fail_line(err, what, "%s", mmapclient_error(c));
		return EXIT_REFUSED;
	}
	if (json) {
		reg_json(op, new, old);
	} else {
		value_print(old, op->width);
		printf(" -> ");
		value_print(new, op->width);
		putchar('\n');
	}
	return 0;
}
