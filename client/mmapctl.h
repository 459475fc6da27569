/*
 * mmapctl's parts: main and its options, list and status (mmapctl.c),
 * revoke (mmapctl-revoke.c),
 * map (mmapctl-map.c), register access: read, write and map's --read
 * and --write (mmapctl-reg.c), and what they print (mmapctl-out.c).
 */
#ifndef MMAPCTL_H
#define MMAPCTL_H

#include <stddef.h>
#include <stdint.h>

#include "mmapclient.h"

#define EXIT_REFUSED	1	/* a request refused, a check failed */
#define EXIT_USAGE	2	/* a usage error */

/* --json: one JSON object on stdout per command. */
extern int json;

/* One register access: read and write, or one --read or --write of map. */
struct reg_op {
	int store;		/* a write */
	const char *device;	/* read, write: the device or region */
	uint64_t offset;	/* bytes into the device, or into map's mapping */
	unsigned int width;	/* bits: 8, 16, 32 or 64 */
	uint64_t value;		/* what a write stores */
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
int cmd_offers(struct mmapclient *c);
int cmd_read(struct mmapclient *c, const struct reg_op *op);
int cmd_write(struct mmapclient *c, const struct reg_op *op);
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

/* A usage error: fail_line() with EINVAL, then exit(EXIT_USAGE). */
void usage_fail(const char *what, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/*
 * s as one line of text: control characters become '?'.  buf may be s.
 * Returns buf.
 */
const char *text_str(const char *s, char *buf, size_t cap);

/* s as a JSON string, quotes included, on stdout; NULL prints null. */
void json_str(const char *s);

const char *kind_name(enum mmapclient_kind kind);
const char *cache_name(enum mmapclient_cache cache);
const char *offer_kind_name(enum mmapclient_offer_kind kind);
const char *prot_name(int prot);	/* "rw" or "r" */

#endif /* MMAPCTL_H */
