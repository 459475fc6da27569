/*
 * mmapctl: the command-line client of mmapd, on libmmapclient.
 *
 *	mmapctl [--socket PATH] [--json] map --dev NAME --size N [...]
 *	mmapctl [--socket PATH] [--json] read DEVICE OFFSET [WIDTH]
 *	mmapctl [--socket PATH] [--json] write DEVICE OFFSET VALUE [WIDTH]
 *	mmapctl [--socket PATH] [--json] list
 *	mmapctl [--socket PATH] [--json] revoke LEASE | --uid USER |
 *	    --region NAME [--reason TEXT]
 *	mmapctl [--socket PATH] [--json] status
 *	mmapctl [--socket PATH] [--json] offers
 *
 * Every failure is one line on stderr,
 *	mmapctl: WHAT: STRERROR (ERRNONAME, errno N): MESSAGE
 * and exit status 1 (2 for a usage error).  With --json, stdout holds
 * exactly one JSON object per command.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mmapctl.h"

static const char *socket_path;	/* NULL: the library's default */
int json;

static void
usage_text(FILE *f)
{
	fprintf(f,
"usage: mmapctl [--socket PATH] [--json] COMMAND [OPTIONS]\n"
"\n"
"Commands:\n"
"  map --dev NAME --size N [--offset N] [--shared] [--name REGION]\n"
"      [--create|--attach] [--read-only]\n"
"      [--cache default|cached|uncached|wc] [--hold]\n"
"      [--fill BYTE] [--expect BYTE]\n"
"        ask for a mapping, map it and print the grant.  Memory that is\n"
"        not a device is read (fresh memory must read zero; a named\n"
"        region attached again holds what others wrote), then, when\n"
"        writable, a pattern is written and read back.  --expect checks\n"
"        that every byte equals BYTE; --fill writes BYTE everywhere and\n"
"        reads it back, in place of the pattern (a named region never\n"
"        gets the pattern).  --hold keeps the mapping until SIGINT or\n"
"        SIGTERM.  Device memory is neither read nor written.  With\n"
"        --name, --create fails when the region exists (EEXIST) and\n"
"        --attach when it does not (ENOENT); neither does either.\n"
"  map --dev NAME [--size N] [--offset N] [...] --read OFF[:WIDTH]\n"
"      --write OFF=VALUE[:WIDTH]\n"
"        the same, but in place of the checks above (and of --fill and\n"
"        --expect), one access of WIDTH bits per --read or --write, in\n"
"        the order given, at OFF bytes into the mapping (from --offset),\n"
"        with exact-width loads and stores: the way to touch device\n"
"        memory.  Each --read prints 0xOFF: 0xVALUE.  A --write makes\n"
"        the mapping shared and writable; with --read alone it is\n"
"        read-only.  --size defaults to what covers the accesses.  Both\n"
"        may be repeated.\n"
"  read DEVICE OFFSET [WIDTH]\n"
"        have the daemon load one register, WIDTH bits at OFFSET bytes\n"
"        into DEVICE (a region, or mem: a physical address), and print\n"
"        it as 0x and WIDTH/4 hex digits.  No mapping, no lease.\n"
"  write DEVICE OFFSET VALUE [WIDTH]\n"
"        have the daemon store VALUE into one register, as read loads\n"
"        one; prints nothing.\n"
"  list    the leases the daemon lets this client see, with the user\n"
"          and client name that hold each and its state (held,\n"
"          revoking until a deadline, revoked)\n"
"  revoke LEASE | --uid USER | --region NAME [--reason TEXT]\n"
"        take back a lease, every lease of a user, or of a device,\n"
"        region or shared-memory name (root, or the daemon's\n"
"        admin_group): each holder has its entry's revoke_seconds to\n"
"        release it, then on_revoke applies (mmapd.conf(5))\n"
"  status  the daemon's version, uptime, offers, clients and leases\n"
"  offers  what this user may map: each device or region with its\n"
"          largest size, protection, sharing, cache mode and size\n"
"\n"
"Options:\n"
"  --socket PATH  the daemon's socket (default: $%s, else %s)\n"
"  --json         one JSON object on stdout per command (with --hold,\n"
"                 the holding line goes to stderr)\n"
"  -h, --help     this text\n"
"  --version      mmapctl's version\n"
"\n"
"N, OFF, OFFSET: bytes, decimal or 0x hex, with an optional K, M or G\n"
"(powers of 1024).  BYTE: 0 to 255, decimal or 0x hex.  WIDTH: bits,\n"
"8, 16, 32 or 64 (default 32); OFFSET and OFF a multiple of WIDTH/8.\n"
"VALUE: decimal or 0x hex, at most WIDTH bits.\n",
	    MMAPCLIENT_SOCKET_ENV, MMAPCLIENT_DEFAULT_SOCKET);
}


int
number_parse(const char *s, int suffixes, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	int base = 10;
	char *end;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!(base == 16 ? s[0] && strchr("0123456789abcdefABCDEF", s[0]) :
	    s[0] >= '0' && s[0] <= '9'))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno)
		return -EINVAL;
	if (suffixes) {
		switch (*end) {
		case 'K': case 'k': shift = 10; end++; break;
		case 'M': case 'm': shift = 20; end++; break;
		case 'G': case 'g': shift = 30; end++; break;
		}
	}
	if (*end != '\0' || v > (max >> shift))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

static uint64_t
size_arg(const char *opt, const char *s)
{
	uint64_t v;

	if (number_parse(s, 1, UINT64_MAX, &v) < 0)
		usage_fail(opt, "'%s' is not a size (decimal or 0x hex, "
		    "optional K, M or G)", s);
	return v;
}

static unsigned char
byte_arg(const char *opt, const char *s)
{
	uint64_t v;

	if (number_parse(s, 0, 255, &v) < 0)
		usage_fail(opt, "'%s' is not a byte (0 to 255, decimal or 0x "
		    "hex)", s);
	return (unsigned char)v;
}


static struct mmapclient *
connect_or_die(void)
{
	struct mmapclient *c;
	int err;

	err = mmapclient_connect_named(socket_path, "mmapctl " PACKAGE_VERSION,
	    &c);
	if (err) {
		fail_line(err, "connect", "%s", mmapclient_error(NULL));
		exit(EXIT_REFUSED);
	}
	return c;
}

/* ------------------------------------------------------------------------ */
/* list, status, offers; map is in mmapctl-map.c */

/* What one Map of an offer may get, as JSON fields. */
static void
terms_json(const struct mmapclient_offer_terms *t)
{
	printf("\"max_size\":%" PRIu64 ",\"prot\":\"%s\",\"shared\":%s,"
	    "\"cache\":\"%s\",\"size\":%" PRIu64 ",\"map\":%s",
	    t->max_size, prot_name(t->prot), t->shared ? "true" : "false",
	    cache_name(t->cache), t->size,
	    t->registers_only ? "false" : "true");
}

int
cmd_list(struct mmapclient *c)
{
	struct mmapclient_lease *l;
	char when[32], off[24], name[256], user[256], client[256];
	char state[64];
	struct tm tm;
	time_t t;
	size_t n, i;
	int err;

	err = mmapclient_list(c, &l, &n);
	if (err) {
		fail_line(err, "list", "%s", mmapclient_error(c));
		return EXIT_REFUSED;
	}
	if (json) {
		printf("{\"command\":\"list\",\"leases\":[");
		for (i = 0; i < n; i++) {
			printf("%s{\"id\":%" PRIu64 ",\"uid\":%lu,\"pid\":%ld,"
			    "\"user\":", i ? "," : "", l[i].id,
			    (unsigned long)l[i].uid, (long)l[i].pid);
			json_str(l[i].user);
			printf(",\"client\":");
			json_str(l[i].client);
			printf(",\"device\":");
			json_str(l[i].device);
			printf(",\"region\":");
			json_str(l[i].region[0] ? l[i].region : NULL);
			printf(",\"offset\":%" PRIu64 ",\"size\":%" PRIu64
			    ",\"prot\":\"%s\",\"shared\":%s,"
			    "\"created_unix_sec\":%" PRId64 ",\"state\":\"%s\","
			    "\"deadline_unix_sec\":%" PRId64
			    ",\"revoke_reason\":",
			    l[i].offset, l[i].size, prot_name(l[i].prot),
			    l[i].shared ? "true" : "false",
			    l[i].created_unix_sec,
			    lease_state_name(l[i].state),
			    l[i].deadline_unix_sec);
			json_str(l[i].revoke_reason[0] ? l[i].revoke_reason :
			    NULL);
			printf("}");
		}
		printf("]}\n");
	} else {
		printf("%-6s %-6s %-10s %-8s %-12s %-12s %-12s %-4s %-7s %-8s "
		    "%-20s %-20s %s\n", "ID", "UID", "USER", "PID", "DEVICE",
		    "OFFSET", "SIZE", "PROT", "SHARING", "STATE", "CREATED",
		    "CLIENT", "REGION");
		for (i = 0; i < n; i++) {
			t = (time_t)l[i].created_unix_sec;
			if (gmtime_r(&t, &tm) == NULL ||
			    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ",
			    &tm) == 0)
				snprintf(when, sizeof(when), "%" PRId64,
				    l[i].created_unix_sec);
			snprintf(off, sizeof(off), "0x%" PRIx64, l[i].offset);
			printf("%-6" PRIu64 " %-6lu %-10s %-8ld %-12s %-12s "
			    "%-12" PRIu64 " %-4s %-7s %-8s %-20s %-20s ",
			    l[i].id,
			    (unsigned long)l[i].uid,
			    l[i].user[0] ? text_str(l[i].user, user,
			    sizeof(user)) : "-", (long)l[i].pid,
			    text_str(l[i].device, name, sizeof(name)), off,
			    l[i].size,
			    prot_name(l[i].prot),
			    l[i].shared ? "shared" : "private",
			    lease_state_name(l[i].state), when,
			    l[i].client[0] ? text_str(l[i].client, client,
			    sizeof(client)) : "-");
			printf("%s\n", l[i].region[0] ? text_str(l[i].region,
			    name, sizeof(name)) : "-");
			/* Revoking or revoked: until when, and why. */
			if (l[i].state != MMAPCLIENT_LEASE_HELD)
				printf("       %s: %s\n",
				    lease_state_text(&l[i], state,
				    sizeof(state)), text_str(l[i].revoke_reason,
				    name, sizeof(name)));
		}
		if (n == 0)
			printf("(no leases)\n");
	}
	mmapclient_leases_free(l);
	return 0;
}


int
cmd_status(struct mmapclient *c)
{
	struct mmapclient_status *st;
	char name[256];
	size_t i;
	int err;

	err = mmapclient_status(c, &st);
	if (err) {
		fail_line(err, "status", "%s", mmapclient_error(c));
		return EXIT_REFUSED;
	}
	if (json) {
		printf("{\"command\":\"status\",\"version\":");
		json_str(st->version);
		printf(",\"uptime_sec\":%" PRIu64 ",\"offers\":[",
		    st->uptime_sec);
		for (i = 0; i < st->n_offers; i++) {
			printf("%s{\"name\":", i ? "," : "");
			json_str(st->offers[i].name);
			printf(",\"kind\":\"%s\",", offer_kind_name(
			    st->offers[i].kind));
			terms_json(&st->terms[i]);
			putchar('}');
		}
		printf("],\"offers_left_out\":%zu,\"clients\":%" PRIu32
		    ",\"leases\":%" PRIu32 "}\n", st->offers_left_out,
		    st->clients, st->leases);
	} else {
		printf("version: %s\n", text_str(st->version, name,
		    sizeof(name)));
		printf("uptime: %" PRIu64 " s\n", st->uptime_sec);
		printf("offers:");
		for (i = 0; i < st->n_offers; i++)
			printf("%s %s (%s)", i ? "," : "",
			    text_str(st->offers[i].name, name, sizeof(name)),
			    offer_kind_name(st->offers[i].kind));
		printf("%s\n", st->n_offers ? "" : " none");
		if (st->offers_left_out)
			printf("offers left out: %zu (more than one reply "
			    "holds)\n", st->offers_left_out);
		printf("clients: %" PRIu32 "\n", st->clients);
		printf("leases: %" PRIu32 "\n", st->leases);
	}
	mmapclient_status_free(st);
	return 0;
}

/* The offers this user may use, one a line, with their terms. */
int
cmd_offers(struct mmapclient *c)
{
	struct mmapclient_status *st;
	const struct mmapclient_offer_terms *t;
	char name[256], size[24];
	size_t i;
	int err;

	err = mmapclient_status(c, &st);
	if (err) {
		fail_line(err, "offers", "%s", mmapclient_error(c));
		return EXIT_REFUSED;
	}
	if (json) {
		printf("{\"command\":\"offers\",\"offers\":[");
		for (i = 0; i < st->n_offers; i++) {
			printf("%s{\"name\":", i ? "," : "");
			json_str(st->offers[i].name);
			printf(",\"kind\":\"%s\",", offer_kind_name(
			    st->offers[i].kind));
			terms_json(&st->terms[i]);
			putchar('}');
		}
		printf("],\"offers_left_out\":%zu}\n", st->offers_left_out);
		mmapclient_status_free(st);
		return 0;
	}
	printf("%-16s %-6s %-12s %-4s %-6s %-8s %-4s %s\n", "NAME", "KIND",
	    "MAX_SIZE", "PROT", "SHARED", "CACHE", "MAP", "SIZE");
	for (i = 0; i < st->n_offers; i++) {
		t = &st->terms[i];
		if (t->size)
			snprintf(size, sizeof(size), "%" PRIu64, t->size);
		else
			snprintf(size, sizeof(size), "-");
		printf("%-16s %-6s %-12" PRIu64 " %-4s %-6s %-8s %-4s %s\n",
		    text_str(st->offers[i].name, name, sizeof(name)),
		    offer_kind_name(st->offers[i].kind), t->max_size,
		    prot_name(t->prot), t->shared ? "yes" : "no",
		    cache_name(t->cache), t->registers_only ? "no" : "yes",
		    size);
	}
	if (st->n_offers == 0)
		printf("(nothing this user may map)\n");
	if (st->offers_left_out)
		printf("(%zu more: they do not fit one reply)\n",
		    st->offers_left_out);
	mmapclient_status_free(st);
	return 0;
}

/* ------------------------------------------------------------------------ */

enum {
	OPT_SOCKET = 256,
	OPT_JSON,
	OPT_VERSION,
	OPT_DEV,
	OPT_SIZE,
	OPT_OFFSET,
	OPT_SHARED,
	OPT_NAME,
	OPT_READ_ONLY,
	OPT_CACHE,
	OPT_HOLD,
	OPT_FILL,
	OPT_EXPECT,
	OPT_READ,
	OPT_WRITE,
	OPT_CREATE,
	OPT_ATTACH,
	OPT_UID,
	OPT_REGION,
	OPT_REASON,
};

/* The options every command takes too, after its name. */
#define COMMON_OPTS \
	{ "socket", required_argument, NULL, OPT_SOCKET }, \
	{ "json", no_argument, NULL, OPT_JSON }, \
	{ "help", no_argument, NULL, 'h' }, \
	{ "version", no_argument, NULL, OPT_VERSION }

static const struct option common_opts[] = {
	COMMON_OPTS,
	{ NULL, 0, NULL, 0 },
};

static const struct option map_opts[] = {
	COMMON_OPTS,
	{ "dev", required_argument, NULL, OPT_DEV },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "offset", required_argument, NULL, OPT_OFFSET },
	{ "shared", no_argument, NULL, OPT_SHARED },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "read-only", no_argument, NULL, OPT_READ_ONLY },
	{ "cache", required_argument, NULL, OPT_CACHE },
	{ "hold", no_argument, NULL, OPT_HOLD },
	{ "fill", required_argument, NULL, OPT_FILL },
	{ "expect", required_argument, NULL, OPT_EXPECT },
	{ "read", required_argument, NULL, OPT_READ },
	{ "write", required_argument, NULL, OPT_WRITE },
	{ "create", no_argument, NULL, OPT_CREATE },
	{ "attach", no_argument, NULL, OPT_ATTACH },
	{ NULL, 0, NULL, 0 },
};

static const struct option revoke_opts[] = {
	COMMON_OPTS,
	{ "uid", required_argument, NULL, OPT_UID },
	{ "region", required_argument, NULL, OPT_REGION },
	{ "reason", required_argument, NULL, OPT_REASON },
	{ NULL, 0, NULL, 0 },
};

/* An option every command takes; returns 0 when opt is not one. */
static int
common_opt(int opt, const char *arg)
{
	switch (opt) {
	case OPT_SOCKET:
		socket_path = arg;
		return 1;
	case OPT_JSON:
		json = 1;
		return 1;
	case 'h':
		usage_text(stdout);
		exit(0);
	case OPT_VERSION:
		printf("mmapctl %s\n", PACKAGE_VERSION);
		exit(0);
	}
	return 0;
}

/* What getopt_long found wrong, as a usage failure. */
static void __attribute__((noreturn))
bad_option(int opt, char **argv)
{
	const char *arg = argv[optind - 1];

	if (opt == ':')
		usage_fail(arg, "option needs a value");
	usage_fail(arg, "unknown option");
}

static enum mmapclient_cache
cache_arg(const char *s)
{
	static const char *const names[] = {
		[MMAPCLIENT_CACHE_DEFAULT] = "default",
		[MMAPCLIENT_CACHE_CACHED] = "cached",
		[MMAPCLIENT_CACHE_UNCACHED] = "uncached",
		[MMAPCLIENT_CACHE_WC] = "wc",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i]) == 0)
			return (enum mmapclient_cache)i;
	}
	usage_fail("--cache", "'%s' is not one of default, cached, uncached, "
	    "wc", s);
}

/*
 * Without --size, map's accesses ask for what covers them; the daemon
 * rounds it up to pages.
 */
static uint64_t
ops_size(const struct map_opts *o)
{
	uint64_t end, size = 0;
	size_t i;

	for (i = 0; i < o->n_ops; i++) {
		end = o->ops[i].offset + o->ops[i].width / 8;
		if (end < o->ops[i].offset)
			return UINT64_MAX;	/* the daemon refuses it */
		if (end > size)
			size = end;
	}
	return size;
}

static void
parse_map(int argc, char **argv, struct map_opts *o)
{
	int opt, have_size = 0, read_only = 0, stores = 0;

	*o = (struct map_opts){
		.req = { .flags = MMAPCLIENT_WRITE },
		.fill = -1,
		.expect = -1,
	};
	/* At most one access per argument: no growing as they come. */
	o->ops = calloc((size_t)argc, sizeof(*o->ops));
	if (o->ops == NULL) {
		fail_line(-ENOMEM, "map", "cannot allocate the accesses");
		exit(EXIT_REFUSED);
	}
	while ((opt = getopt_long(argc, argv, ":h", map_opts, NULL)) != -1) {
		if (common_opt(opt, optarg))
			continue;
		switch (opt) {
		case OPT_DEV:
			o->req.device = optarg;
			break;
		case OPT_SIZE:
			o->req.size = size_arg("--size", optarg);
			have_size = 1;
			break;
		case OPT_OFFSET:
			o->req.offset = size_arg("--offset", optarg);
			break;
		case OPT_SHARED:
			o->req.flags |= MMAPCLIENT_SHARED;
			break;
		case OPT_NAME:
			o->req.region = optarg;
			break;
		case OPT_READ_ONLY:
			read_only = 1;
			break;
		case OPT_CREATE:
			o->req.flags |= MMAPCLIENT_CREATE;
			break;
		case OPT_ATTACH:
			o->req.flags |= MMAPCLIENT_ATTACH;
			break;
		case OPT_CACHE:
			o->req.cache = cache_arg(optarg);
			break;
		case OPT_HOLD:
			o->hold = 1;
			break;
		case OPT_FILL:
			o->fill = byte_arg("--fill", optarg);
			break;
		case OPT_EXPECT:
			o->expect = byte_arg("--expect", optarg);
			break;
		case OPT_READ:
		case OPT_WRITE:
			reg_op_arg(opt == OPT_WRITE, optarg, &o->ops[o->n_ops]);
			stores += opt == OPT_WRITE;
			o->n_ops++;
			break;
		default:
			bad_option(opt, argv);
		}
	}
	if (optind != argc)
		usage_fail("map", "unexpected argument '%s'", argv[optind]);
	if (o->req.device == NULL || o->req.device[0] == '\0')
		usage_fail("map", "--dev NAME is required");
	if (!have_size && o->n_ops == 0)
		usage_fail("map", "--size N is required");
	if (!have_size)
		o->req.size = ops_size(o);
	if (read_only)
		o->req.flags &= ~MMAPCLIENT_WRITE;
	if ((o->req.flags & MMAPCLIENT_CREATE) &&
	    (o->req.flags & MMAPCLIENT_ATTACH))
		usage_fail("--create", "does not go with --attach");
	if ((o->req.flags & (MMAPCLIENT_CREATE | MMAPCLIENT_ATTACH)) &&
	    (o->req.region == NULL || o->req.region[0] == '\0'))
		usage_fail(o->req.flags & MMAPCLIENT_CREATE ? "--create" :
		    "--attach", "needs --name REGION");
	if (o->fill >= 0 && read_only)
		usage_fail("--fill", "cannot write with --read-only");
	if (stores && read_only)
		usage_fail("--write", "cannot write with --read-only");
	if (o->n_ops && (o->fill >= 0 || o->expect >= 0))
		usage_fail(o->fill >= 0 ? "--fill" : "--expect", "does not go "
		    "with --read or --write");
	/*
	 * The accesses are all the mapping is for: writable only for a
	 * store, and then shared, since a private copy of device memory
	 * never reaches the device.
	 */
	if (stores)
		o->req.flags |= MMAPCLIENT_SHARED | MMAPCLIENT_WRITE;
	else if (o->n_ops)
		o->req.flags &= ~MMAPCLIENT_WRITE;
}

/* read DEVICE OFFSET [WIDTH], write DEVICE OFFSET VALUE [WIDTH] */
static void
parse_reg(int store, int argc, char **argv, struct reg_op *op)
{
	int opt;

	while ((opt = getopt_long(argc, argv, ":h", common_opts, NULL)) != -1) {
		if (!common_opt(opt, optarg))
			bad_option(opt, argv);
	}
	reg_args(store, argv + optind, argc - optind, op);
}

static void
parse_plain(const char *cmd, int argc, char **argv)
{
	int opt;

	while ((opt = getopt_long(argc, argv, ":h", common_opts, NULL)) != -1) {
		if (!common_opt(opt, optarg))
			bad_option(opt, argv);
	}
	if (optind != argc)
		usage_fail(cmd, "unexpected argument '%s'", argv[optind]);
}

/* A user by name or number. */
static uid_t
uid_arg(const char *s)
{
	struct passwd *pw;
	uint64_t v;

	if (number_parse(s, 0, UINT32_MAX - 1, &v) == 0)
		return (uid_t)v;
	pw = getpwnam(s);
	if (pw == NULL)
		usage_fail("--uid", "no such user '%s'", s);
	return pw->pw_uid;
}

/* revoke LEASE | --uid USER | --region NAME [--reason TEXT] */
static void
parse_revoke(int argc, char **argv, struct mmapclient_revoke_what *w)
{
	uint64_t v;
	int opt;

	memset(w, 0, sizeof(*w));
	while ((opt = getopt_long(argc, argv, ":h", revoke_opts, NULL)) != -1) {
		if (common_opt(opt, optarg))
			continue;
		switch (opt) {
		case OPT_UID:
			w->by_uid = 1;
			w->uid = uid_arg(optarg);
			break;
		case OPT_REGION:
			w->region = optarg;
			break;
		case OPT_REASON:
			w->reason = optarg;
			break;
		default:
			bad_option(opt, argv);
		}
	}
	if (optind < argc) {
		if (number_parse(argv[optind], 0, UINT64_MAX, &v) < 0 ||
		    v == 0)
			usage_fail("revoke", "'%s' is not a lease id",
			    argv[optind]);
		w->lease_id = v;
		optind++;
	}
	if (optind != argc)
		usage_fail("revoke", "unexpected argument '%s'", argv[optind]);
	if ((w->lease_id != 0) + w->by_uid + (w->region != NULL) != 1)
		usage_fail("revoke", "name exactly one of LEASE, --uid USER "
		    "or --region NAME");
}

int
main(int argc, char **argv)
{
	struct map_opts mo = { .ops = NULL };
	struct reg_op ro;
	struct mmapclient_revoke_what rw;
	struct mmapclient *c;
	const char *cmd;
	int opt, status;

	opterr = 0;
	/* "+": stop at the command; its options are parsed below. */
	while ((opt = getopt_long(argc, argv, "+:h", common_opts, NULL)) != -1) {
		if (!common_opt(opt, optarg))
			bad_option(opt, argv);
	}
	if (optind == argc)
		usage_fail("usage", "no command given (map, read, write, list, "
		    "revoke, status, offers)");
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	optind = 0;	/* glibc: start afresh on the command's arguments */

	if (strcmp(cmd, "map") == 0)
		parse_map(argc, argv, &mo);
	else if (strcmp(cmd, "read") == 0 || strcmp(cmd, "write") == 0)
		parse_reg(cmd[0] == 'w', argc, argv, &ro);
	else if (strcmp(cmd, "list") == 0 || strcmp(cmd, "status") == 0 ||
	    strcmp(cmd, "offers") == 0)
		parse_plain(cmd, argc, argv);
	else if (strcmp(cmd, "revoke") == 0)
		parse_revoke(argc, argv, &rw);
	else if (strcmp(cmd, "help") == 0) {
		usage_text(stdout);
		return 0;
	} else
		usage_fail(cmd, "unknown command (map, read, write, list, "
		    "revoke, status, offers)");

	c = connect_or_die();
	if (strcmp(cmd, "map") == 0)
		status = cmd_map(c, &mo);
	else if (strcmp(cmd, "read") == 0)
		status = cmd_read(c, &ro);
	else if (strcmp(cmd, "write") == 0)
		status = cmd_write(c, &ro);
	else if (strcmp(cmd, "list") == 0)
		status = cmd_list(c);
	else if (strcmp(cmd, "offers") == 0)
		status = cmd_offers(c);
	else if (strcmp(cmd, "revoke") == 0)
		status = cmd_revoke(c, &rw);
	else
		status = cmd_status(c);
	mmapclient_close(c);
	free(mo.ops);
	if (fflush(stdout) != 0 && status == 0) {
		fail_line(-errno, "stdout", "cannot write the output");
		status = EXIT_REFUSED;
	}
	return status;
}
