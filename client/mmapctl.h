/*
 * mmapctl's parts: main and its options, list and status (mmapctl.c),
 * map (mmapctl-map.c), and what they print (mmapctl-out.c).
 */
#ifndef MMAPCTL_H
#define MMAPCTL_H

#include <stddef.h>

#include "mmapclient.h"

#define EXIT_REFUSED	1	/* a request refused, a check failed */
#define EXIT_USAGE	2	/* a usage error */

/* --json: one JSON object on stdout per command. */
extern int json;

/* What map was asked, from its options. */
struct map_opts {
	struct mmapclient_request req;
	int hold;		/* --hold */
	int fill;		/* --fill: -1, or the byte */
	int expect;		/* --expect: -1, or the byte */
};

/* The commands.  Each returns the exit status, after printing any failure. */
int cmd_map(struct mmapclient *c, const struct map_opts *o);
int cmd_list(struct mmapclient *c);
int cmd_status(struct mmapclient *c);

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
