/*
 * mmapctl's register access, like devmem: read and write, done by the
 * daemon (mmapclient_read(), mmapclient_write()), and map's --read and
 * --write, done through the mapping with the library's exact-width
 * accessors (never memcpy(): device registers answer only the access
 * they expect).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "mmapctl.h"

#define WIDTH_DEFAULT	32
/* "0xffffffffffffffff", or 20 decimal digits and a suffix, and a NUL. */
#define NUMBER_MAX	24

/* value as 0x and width / 4 lowercase hex digits: 0x010000ed. */
static void
value_print(uint64_t value, unsigned int width)
{
	printf("0x%0*" PRIx64, (int)(width / 4), value);
}

static unsigned int
width_arg(const char *what, const char *s)
{
	uint64_t v;

	if (number_parse(s, 0, 64, &v) < 0 ||
	    (v != 8 && v != 16 && v != 32 && v != 64))
		usage_fail(what, "'%s' is not a width: 8, 16, 32 or 64 (bits)",
		    s);
	return (unsigned int)v;
}

static uint64_t
offset_arg(const char *what, const char *s)
{
	uint64_t v;

	if (number_parse(s, 1, UINT64_MAX, &v) < 0)
		usage_fail(what, "'%s' is not an offset (decimal or 0x hex, "
		    "optional K, M or G)", s);
	return v;
}

static uint64_t
value_arg(const char *what, const char *s)
{
	uint64_t v;

	if (number_parse(s, 0, UINT64_MAX, &v) < 0)
		usage_fail(what, "'%s' is not a value (decimal or 0x hex, at "
		    "most 64 bits)", s);
	return v;
}

void
reg_args(int store, char **args, int n, struct reg_op *op)
{
	const char *cmd = store ? "write" : "read";
	int want = store ? 3 : 2;

	if (n < want)
		usage_fail(cmd, "%s", store ? "DEVICE OFFSET VALUE are "
		    "required" : "DEVICE OFFSET are required");
	if (n > want + 1)
		usage_fail(cmd, "unexpected argument '%s'", args[want + 1]);
	if (args[0][0] == '\0')
		usage_fail(cmd, "DEVICE is empty");
	*op = (struct reg_op){
		.store = store,
		.device = args[0],
		.offset = offset_arg(cmd, args[1]),
		.width = WIDTH_DEFAULT,
	};
	if (store)
		op->value = value_arg(cmd, args[2]);
	if (n > want)
		op->width = width_arg(cmd, args[want]);
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
		printf("%s{\"op\":\"%s\",\"offset\":%" PRIu64 ",\"width\":%u,"
		    "\"value\":%" PRIu64 "}", i ? "," : "",
		    op->store ? "write" : "read", op->offset, op->width,
		    op->store ? op->value : values[i]);
	}
	putchar(']');
}

/* The JSON object of read and write. */
static void
reg_json(const struct reg_op *op, uint64_t value)
{
	printf("{\"command\":\"%s\",\"device\":", op->store ? "write" :
	    "read");
	json_str(op->device);
	printf(",\"offset\":%" PRIu64 ",\"width\":%u,\"value\":%" PRIu64
	    "}\n", op->offset, op->width, value);
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
		reg_json(op, value);
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
		reg_json(op, op->value);
	return 0;
}
