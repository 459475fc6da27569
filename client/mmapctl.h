/*
 * mmapctl's parts: main, its options and connect, list, status and
 * offers (mmapctl.c), revoke (mmapctl-revoke.c), map and its options
 * (mmapctl-map.c), register access: read, write, modify and map's
 * --read and --write (mmapctl-reg.c), dump (mmapctl-dump.c), watch
 * (mmapctl-watch.c), the arguments devmem users type (mmapctl-args.c),
 * and what they print (mmapctl-out.c, mmapctl-fmt.c).
 */
#ifndef MMAPCTL_H
#define MMAPCTL_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>

#include "mmapclient.h"

#define EXIT_REFUSED	1	/* a request refused, a check failed */
#define EXIT_USAGE	2	/* a usage error */
#define EXIT_REVOKED	3	/* map --hold: the lease was revoked */

/* --json: one JSON object on stdout per command (watch: per value). */
extern int json;
/* The command being run, for a usage error's usage line; NULL: none yet. */
extern const char *usage_cmd;

/* The options every command takes, as getopt_long's table entries. */
enum {
	OPT_SOCKET = 's',
	OPT_HELP = 'h',
	OPT_JSON = 256,
	OPT_VERSION,
	OPT_FIRST_CMD,		/* a command's own options from here on */
};
#define COMMON_OPTS \
	{ "socket", required_argument, NULL, OPT_SOCKET }, \
	{ "json", no_argument, NULL, OPT_JSON }, \
	{ "help", no_argument, NULL, OPT_HELP }, \
	{ "version", no_argument, NULL, OPT_VERSION }
/* getopt_long's short options for them: ":hs:" (':' first: no messages). */
#define COMMON_SHORT	":hs:"

/* One of those: 1 when opt was one (and is done), 0 when not. */
int common_opt(int opt, const char *arg);
/* What getopt_long found wrong, as a usage error. */
void bad_option(int opt, char **argv) __attribute__((noreturn));
/* Connect to the daemon, or print why not and exit 1. */
struct mmapclient *ctl_connect(void);

/*
 * One register access: read, write or modify, or one --read or --write
 * of map.
 */
struct reg_op {
	int store;		/* a write */
	const char *device;	/* read, write: the device or region */
	uint64_t offset;	/* bytes into the device, or into map's mapping */
	unsigned int width;	/* bits: 8, 16, 32 or 64 */
	uint64_t value;		/* what a write stores */
	int modify;		/* a read-modify-write: clear, then set */
	uint64_t clear;
	uint64_t set;
};

/* dump DEVICE OFFSET [SIZE|TYPE*COUNT] */
struct dump_opts {
	const char *device;
	uint64_t offset;
	unsigned int width;
	uint64_t count;		/* registers */
};

/* watch DEVICE OFFSET */
struct watch_opts {
	const char *device;
	uint64_t offset;
	unsigned int width;
	uint64_t interval_ms;
	uint64_t count;		/* values to print; 0: until interrupted */
	int changes;		/* print the first value and changes only */
};

/* What map was asked, from its options. */
struct map_opts {
	struct mmapclient_request req;
	int hold;		/* --hold */
	int fill;		/* --fill: -1, or the byte */
	int expect;		/* --expect: -1, or the byte */
	struct reg_op *ops;	/* --read and --write, in command-line order */
	size_t n_ops;
};

/* The commands.  Each returns the exit status, after printing any failure. */
int cmd_map(struct mmapclient *c, const struct map_opts *o);
int cmd_list(struct mmapclient *c);
int cmd_status(struct mmapclient *c);
int cmd_offers(struct mmapclient *c, int names);
int cmd_read(struct mmapclient *c, const struct reg_op *op);
int cmd_write(struct mmapclient *c, const struct reg_op *op);
int cmd_modify(struct mmapclient *c, const struct reg_op *op);
int cmd_dump(struct mmapclient *c, const struct dump_opts *o);
int cmd_watch(struct mmapclient **c, const struct watch_opts *o);

/* The options and operands of map, read, write, modify, dump, watch. */
void parse_map(int argc, char **argv, struct map_opts *o);
void parse_reg(int store, int argc, char **argv, struct reg_op *op);
void parse_modify(int argc, char **argv, struct reg_op *op);
void parse_dump(int argc, char **argv, struct dump_opts *o);
void parse_watch(int argc, char **argv, struct watch_opts *o);

/*
 * A width as devmem and pcimem users write it, into bits: 8, 16, 32,
 * 64, or a letter: b (8), h (16), w (32), l (a C long, as busybox: 64
 * here), d and q (64).  0 or -EINVAL.
 */
int width_parse(const char *s, unsigned int *bits);
/* The same, or a usage error naming what. */
unsigned int width_arg(const char *what, const char *s);
/* An offset or a value, or a usage error naming what. */
uint64_t offset_arg(const char *what, const char *s);
uint64_t value_arg(const char *what, const char *s);

/*
 * When the command typed is not one of mmapctl's but looks like what
 * devmem, devmem2 or pcimem take (an address, a sysfs resource file),
 * a usage error with the mmapctl command that does it; else nothing.
 * args: the command and what follows it.
 */
void devmem_hint(int n, char **args);

int cmd_revoke(struct mmapclient *c,
    const struct mmapclient_revoke_what *what);

/* mmapctl-revoke.c: a lease's state for list, as text and as a name. */
const char *lease_state_text(const struct mmapclient_lease *l, char *buf,
    size_t len);
const char *lease_state_name(enum mmapclient_lease_state state);

/*
 * A number: decimal or 0x hex, no sign, at most max; with suffixes, an
 * optional K, M or G (powers of 1024).  0 or -EINVAL.
 */
int number_parse(const char *s, int suffixes, uint64_t max, uint64_t *out);

/*
 * The arguments of read (DEVICE OFFSET [WIDTH]) or write (DEVICE OFFSET
 * VALUE [WIDTH]): the n operands left after the options.  Exits with a
 * usage error when they do not parse.
 */
void reg_args(int store, char **args, int n, struct reg_op *op);

/* map's --read OFF[:WIDTH] or --write OFF=VALUE[:WIDTH]; usage error else. */
void reg_op_arg(int store, const char *arg, struct reg_op *op);

/*
 * Do map's --read and --write through r, in order, printing each read
 * (text mode).  values[i] is what the i-th access read (0 for a write);
 * *done how many were done.  Returns 0, or the exit status after
 * printing why an access failed.
 */
int reg_ops_run(const struct map_opts *o, const struct mmapclient_region *r,
    uint64_t *values, size_t *done);

/* map's accesses in JSON: ,"access":[...] for the done first ones. */
void reg_ops_json(const struct map_opts *o, const uint64_t *values,
    size_t done);

/*
 * The one line of a failure on stderr:
 *	mmapctl: WHAT: STRERROR (ERRNONAME, errno N): MESSAGE
 * err is a negative errno; the message says more (the daemon's, or ours).
 */
void fail_line(int err, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * A usage error: "mmapctl: WHAT: MESSAGE" and the usage line of the
 * command (usage_cmd) on stderr, then exit(EXIT_USAGE).
 */
void usage_fail(const char *what, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
/* The synopsis of cmd ("read DEVICE OFFSET [WIDTH]"), or NULL. */
const char *usage_synopsis(const char *cmd);

/*
 * s as one line of text: control characters become '?'.  buf may be s.
 * Returns buf.
 */
const char *text_str(const char *s, char *buf, size_t cap);

/* s as a JSON string, quotes included, on stdout; NULL prints null. */
void json_str(const char *s);
/*
 * 64-bit numbers in JSON: offsets and addresses as "0x..." strings, a
 * register's value as "0x" and width / 4 digits, so that no reader
 * rounds them to a double.  Sizes and counts stay numbers.
 */
void json_hex(uint64_t v);
void json_value(uint64_t v, unsigned int width);
/* value as 0x and width / 4 hex digits, on stdout: 0x010000ed. */
void value_print(uint64_t value, unsigned int width);

/* For people: "512 bytes", "64 KiB", "1.5 MiB"; into buf, returned. */
const char *size_text(uint64_t v, char *buf, size_t len);
/* For people: "42 s", "5 min 3 s", "1 h 2 min", "3 d 4 h". */
const char *duration_text(uint64_t sec, char *buf, size_t len);

/* The counters of status, as text lines or as ,"counters":{...}. */
void counters_print(const struct mmapclient_counters *k);
void counters_json(const struct mmapclient_counters *k);
/* An errno's name: "EPERM", or "E?" when unknown. */
const char *errno_name(int e);

const char *kind_name(enum mmapclient_kind kind);
const char *cache_name(enum mmapclient_cache cache);
const char *offer_kind_name(enum mmapclient_offer_kind kind);
const char *prot_name(int prot);	/* "rw" or "r" */

#endif /* MMAPCTL_H */
