/*
 * mmapctl: the command-line client of mmapd, on libmmapclient.
 *
 *	mmapctl [-s PATH] [--json] map --dev NAME --size N [...]
 *	mmapctl [-s PATH] [--json] read DEVICE OFFSET [WIDTH]
 *	mmapctl [-s PATH] [--json] write DEVICE OFFSET VALUE [WIDTH]
 *	mmapctl [-s PATH] [--json] modify DEVICE OFFSET [WIDTH] --set ...
 *	mmapctl [-s PATH] [--json] dump DEVICE OFFSET [SIZE|TYPE*COUNT]
 *	mmapctl [-s PATH] [--json] watch DEVICE OFFSET [WIDTH] [...]
 *	mmapctl [-s PATH] [--json] list
 *	mmapctl [-s PATH] [--json] revoke LEASE | --uid USER |
 *	    --region NAME [--reason TEXT]
 *	mmapctl [-s PATH] [--json] status
 *	mmapctl [-s PATH] [--json] offers [--names[=shm]]
 *
 * Every failure is one line on stderr,
 *	mmapctl: WHAT: STRERROR (ERRNONAME, errno N): MESSAGE
 * and exit status 1; a usage error is "mmapctl: WHAT: MESSAGE" and the
 * command's usage line, exit status 2; 3 when map --hold's lease was
 * revoked.  With --json, stdout holds exactly one JSON object per
 * command (watch: one per value), and a second one for map --hold's
 * revocation.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "mmapctl.h"

static const char *socket_path;	/* NULL: the library's default */
int json;
const char *usage_cmd;

/* Each command's usage line, for its usage errors. */
static const struct {
	const char *cmd;
	const char *synopsis;
} synopses[] = {
	{ "map", "map --dev NAME --size N [--offset N] [--shared] "
	    "[--name REGION] [...]" },
	{ "read", "read DEVICE OFFSET [WIDTH]" },
	{ "write", "write DEVICE OFFSET VALUE [WIDTH]" },
	{ "modify", "modify DEVICE OFFSET [WIDTH] {--set BITS --clear BITS "
	    "| --mask M --value V}" },
	{ "rmw", "rmw DEVICE OFFSET [WIDTH] {--set BITS --clear BITS "
	    "| --mask M --value V}" },
	{ "dump", "dump DEVICE OFFSET [SIZE|TYPE*COUNT] [--width W] "
	    "[--count N]" },
	{ "watch", "watch DEVICE OFFSET [WIDTH] [--interval SECONDS] "
	    "[--count N] [--changes]" },
	{ "list", "list" },
	{ "revoke", "revoke LEASE | --uid USER | --region NAME "
	    "[--reason TEXT]" },
	{ "status", "status" },
	{ "offers", "offers [--names[=shm]]" },
};

const char *
usage_synopsis(const char *cmd)
{
	size_t i;

	for (i = 0; i < sizeof(synopses) / sizeof(synopses[0]); i++)
		if (strcmp(cmd, synopses[i].cmd) == 0)
			return synopses[i].synopsis;
	return NULL;
}

static void
usage_text(FILE *f)
{
	fprintf(f,
"usage: mmapctl [-s PATH] [--json] COMMAND [OPTIONS]\n"
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
"        SIGTERM, or until the daemon revokes it: then it is unmapped\n"
"        and released, and mmapctl exits 3.  With --name, --create\n"
"        fails when the region exists (EEXIST) and --attach when it\n"
"        does not (ENOENT); neither does either.  Device memory (any\n"
"        NAME but zero) is mapped shared when writable, and neither\n"
"        read nor written (--fill and --expect are refused before\n"
"        anything is asked).\n"
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
"  modify DEVICE OFFSET [WIDTH] [--set BITS] [--clear BITS]\n"
"  modify DEVICE OFFSET [WIDTH] --mask M --value V\n"
"        (or rmw) have the daemon read the register, clear BITS (or\n"
"        M), set BITS (or V) and write it back, as one request: two\n"
"        clients' modifies never interleave in the daemon.  Prints\n"
"        0xOLD -> 0xNEW.\n"
"  dump DEVICE OFFSET [SIZE|TYPE*COUNT] [--width W] [--count N]\n"
"        read SIZE bytes (default 256), or COUNT registers, from\n"
"        OFFSET, one daemon Read per register, and print them in hex,\n"
"        16 bytes a line after their address.  TYPE*COUNT as pcimem:\n"
"        w*16 is 16 registers of 32 bits.  At most 64 KiB.\n"
"  watch DEVICE OFFSET [WIDTH] [--interval SECONDS] [--count N]\n"
"      [--changes]\n"
"        read the register every SECONDS (default 1, down to 0.01)\n"
"        and print each value with the time since the start; with\n"
"        --changes, the first value and then only changes.  Stops\n"
"        after N values printed, or on SIGINT or SIGTERM (exit 0).\n"
"  list    the leases the daemon lets this client see, with the user\n"
"          and client name that hold each and its state (held,\n"
"          revoking until a deadline, revoked)\n"
"  revoke LEASE | --uid USER | --region NAME [--reason TEXT]\n"
"        take back a lease, every lease of a user, or of a device,\n"
"        region or shared-memory name (root, or the daemon's\n"
"        admin_group): each holder has its entry's revoke_seconds to\n"
"        release it, then on_revoke applies (mmapd.conf(5))\n"
"  status  the daemon's version, uptime, offers, clients and leases,\n"
"          and its counters since start: grants, releases,\n"
"          revocations, denials by errno, zero memory held, peak clients\n"
"  offers [--names[=shm]]\n"
"          what this user may map: each device or region with its\n"
"          largest size, protection, sharing, cache mode and size;\n"
"          --names: only the names DEVICE and --dev take, one a line\n"
"          (=shm: the shared-memory names --name takes)\n"
"\n"
"Options:\n"
"  -s, --socket PATH  the daemon's socket (default: $%s, else\n"
"                 %s)\n"
"  --json         one JSON object on stdout per command (watch: one\n"
"                 per value; with --hold, the holding line goes to\n"
"                 stderr, and a revocation is a second object).\n"
"                 Offsets, addresses and register values\n"
"                 are \"0x...\" strings; sizes and counts numbers.\n"
"  -w, --width W  read, write, modify, dump, watch: the WIDTH\n"
"  -h, --help     this text\n"
"  --version      mmapctl's version\n"
"\n"
"N, OFF, OFFSET: bytes, decimal or 0x hex, with an optional K, M or G\n"
"(powers of 1024).  BYTE: 0 to 255, decimal or 0x hex.  WIDTH: bits,\n"
"8, 16, 32 or 64 (default 32), or as devmem, devmem2 and pcimem write\n"
"it: b (8), h (16), w (32), l (a long: %u), d or q (64).  OFFSET and\n"
"OFF a multiple of WIDTH/8.  VALUE, BITS: decimal or 0x hex, at most\n"
"WIDTH bits.  DEVICE: a device or region (mmapctl offers --names);\n"
"mem takes physical addresses.\n"
"\n"
"Exit status: 0 done, 1 refused or failed (one line on stderr naming\n"
"the errno), 2 a usage error (nothing was asked of the daemon).\n",
	    MMAPCLIENT_SOCKET_ENV, MMAPCLIENT_DEFAULT_SOCKET,
	    8 * (unsigned int)sizeof(long));
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

/* The socket the library connects to, as it picks it. */
static const char *
socket_where(void)
{
	const char *env = getenv(MMAPCLIENT_SOCKET_ENV);

	if (socket_path != NULL && socket_path[0] != '\0')
		return socket_path;
	if (env != NULL && env[0] != '\0')
		return env;
	return MMAPCLIENT_DEFAULT_SOCKET;
}

/*
 * EACCES on connect: the socket's mode and group decide who may
 * connect (mmapd's [daemon] socket_mode and socket_group, or the socket
 * unit's), so say which group grants it.
 */
static void
access_why(const char *path, char *buf, size_t len)
{
	char gname[64];
	struct group *gr;
	struct stat st;

	if (stat(path, &st) < 0) {
		snprintf(buf, len, "%s cannot be reached (%s): a folder on "
		    "the way denies this user", path, strerror(errno));
		return;
	}
	gr = getgrgid(st.st_gid);
	if (gr != NULL)
		snprintf(gname, sizeof(gname), "%s", gr->gr_name);
	else
		snprintf(gname, sizeof(gname), "%lu",
		    (unsigned long)st.st_gid);
	if (st.st_mode & S_IWGRP)
		snprintf(buf, len, "%s is mode %04o, group %s: members of "
		    "group %s may connect (usermod -aG %s USER, then log in "
		    "again)", path, (unsigned int)(st.st_mode & 07777), gname,
		    gname, gname);
	else
		snprintf(buf, len, "%s is mode %04o, owner uid %lu, group %s: "
		    "only its owner may connect", path,
		    (unsigned int)(st.st_mode & 07777),
		    (unsigned long)st.st_uid, gname);
}

struct mmapclient *
ctl_connect(void)
{
	struct mmapclient *c;
	char why[512];
	int err;

	err = mmapclient_connect_named(socket_path, "mmapctl " PACKAGE_VERSION,
	    &c);
	if (err == -EACCES) {
		access_why(socket_where(), why, sizeof(why));
		fail_line(err, "connect", "%s", why);
		exit(EXIT_REFUSED);
	}
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
	char when[32], off[24], name[256], user[256], client[256], sz[24];
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
			printf(",\"offset\":");
			json_hex(l[i].offset);
			printf(",\"size\":%" PRIu64
			    ",\"prot\":\"%s\",\"shared\":%s,"
			    "\"created_unix_sec\":%" PRId64 ",\"state\":\"%s\","
			    "\"deadline_unix_sec\":%" PRId64
			    ",\"revoke_reason\":",
			    l[i].size, prot_name(l[i].prot),
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
			    "%-12s %-4s %-7s %-8s %-20s %-20s ",
			    l[i].id,
			    (unsigned long)l[i].uid,
			    l[i].user[0] ? text_str(l[i].user, user,
			    sizeof(user)) : "-", (long)l[i].pid,
			    text_str(l[i].device, name, sizeof(name)), off,
			    size_text(l[i].size, sz, sizeof(sz)),
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
		    ",\"leases\":%" PRIu32, st->offers_left_out,
		    st->clients, st->leases);
		counters_json(st->counters);
		printf("}\n");
	} else {
		printf("version: %s\n", text_str(st->version, name,
		    sizeof(name)));
		printf("uptime: %s\n", duration_text(st->uptime_sec, name,
		    sizeof(name)));
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
		if (st->counters != NULL)
			counters_print(st->counters);
	}
	mmapclient_status_free(st);
	return 0;
}

/* --names: the names alone, for scripts and the shell's completion. */
static void
offer_names(const struct mmapclient_status *st, int shm)
{
	const char *n;
	size_t i;

	for (i = 0; i < st->n_offers; i++) {
		n = st->offers[i].name;
		if ((st->offers[i].kind == MMAPCLIENT_OFFER_SHM) != shm)
			continue;
		/* A pattern ([shm cam*]) is no name to type. */
		if (strpbrk(n, "*?[") != NULL || n[strcspn(n, " \t\n")])
			continue;
		printf("%s\n", n);
	}
}

/* The offers this user may use, one a line, with their terms. */
int
cmd_offers(struct mmapclient *c, int names)
{
	struct mmapclient_status *st;
	const struct mmapclient_offer_terms *t;
	char name[256], size[24], max[24];
	size_t i;
	int err;

	err = mmapclient_status(c, &st);
	if (err) {
		fail_line(err, "offers", "%s", mmapclient_error(c));
		return EXIT_REFUSED;
	}
	if (names) {
		offer_names(st, names == 2);
		mmapclient_status_free(st);
		return 0;
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
			size_text(t->size, size, sizeof(size));
		else
			snprintf(size, sizeof(size), "-");
		printf("%-16s %-6s %-12s %-4s %-6s %-8s %-4s %s\n",
		    text_str(st->offers[i].name, name, sizeof(name)),
		    offer_kind_name(st->offers[i].kind),
		    size_text(t->max_size, max, sizeof(max)),
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
	OPT_NAMES = OPT_FIRST_CMD,
	OPT_UID,
	OPT_REGION,
	OPT_REASON,
};

static const struct option common_opts[] = {
	COMMON_OPTS,
	{ NULL, 0, NULL, 0 },
};

static const struct option offers_opts[] = {
	COMMON_OPTS,
	{ "names", optional_argument, NULL, OPT_NAMES },
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
int
common_opt(int opt, const char *arg)
{
	switch (opt) {
	case OPT_SOCKET:
		socket_path = arg;
		return 1;
	case OPT_JSON:
		json = 1;
		return 1;
	case OPT_HELP:
		usage_text(stdout);
		exit(0);
	case OPT_VERSION:
		printf("mmapctl %s\n", PACKAGE_VERSION);
		exit(0);
	}
	return 0;
}

/* What getopt_long found wrong, as a usage failure. */
void
bad_option(int opt, char **argv)
{
	const char *arg = argv[optind - 1];

	if (opt == ':')
		usage_fail(arg, "option needs a value");
	usage_fail(arg, "unknown option");
}

static void
parse_plain(const char *cmd, int argc, char **argv)
{
	int opt;

	while ((opt = getopt_long(argc, argv, COMMON_SHORT, common_opts,
	    NULL)) != -1) {
		if (!common_opt(opt, optarg))
			bad_option(opt, argv);
	}
	if (optind != argc)
		usage_fail(cmd, "unexpected argument '%s'", argv[optind]);
}

/* offers [--names[=shm]]: 0 the table, 1 the device names, 2 shm's. */
static int
parse_offers(int argc, char **argv)
{
	int opt, names = 0;

	while ((opt = getopt_long(argc, argv, COMMON_SHORT, offers_opts,
	    NULL)) != -1) {
		if (common_opt(opt, optarg))
			continue;
		if (opt != OPT_NAMES)
			bad_option(opt, argv);
		if (optarg == NULL || strcmp(optarg, "device") == 0)
			names = 1;
		else if (strcmp(optarg, "shm") == 0)
			names = 2;
		else
			usage_fail("--names", "'%s' is not device or shm",
			    optarg);
	}
	if (optind != argc)
		usage_fail("offers", "unexpected argument '%s'", argv[optind]);
	if (names && json)
		usage_fail("--names", "does not go with --json");
	return names;
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
	while ((opt = getopt_long(argc, argv, COMMON_SHORT, revoke_opts,
	    NULL)) != -1) {
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

#define COMMANDS "map, read, write, modify, dump, watch, list, revoke, " \
    "status, offers"

int
main(int argc, char **argv)
{
	struct map_opts mo = { .ops = NULL };
	struct dump_opts dop;
	struct watch_opts wop;
	struct reg_op ro;
	struct mmapclient_revoke_what rw;
	struct mmapclient *c;
	const char *cmd;
	int opt, status, names = 0;

	opterr = 0;
	/* "+": stop at the command; its options are parsed below. */
	while ((opt = getopt_long(argc, argv, "+" COMMON_SHORT, common_opts,
	    NULL)) != -1) {
		if (!common_opt(opt, optarg))
			bad_option(opt, argv);
	}
	if (optind == argc)
		usage_fail("usage", "no command given (" COMMANDS ")");
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	optind = 0;	/* glibc: start afresh on the command's arguments */
	if (strcmp(cmd, "rmw") == 0)
		cmd = "modify";
	usage_cmd = usage_synopsis(cmd) != NULL ? cmd : NULL;

	if (strcmp(cmd, "map") == 0)
		parse_map(argc, argv, &mo);
	else if (strcmp(cmd, "read") == 0 || strcmp(cmd, "write") == 0)
		parse_reg(cmd[0] == 'w', argc, argv, &ro);
	else if (strcmp(cmd, "modify") == 0)
		parse_modify(argc, argv, &ro);
	else if (strcmp(cmd, "dump") == 0)
		parse_dump(argc, argv, &dop);
	else if (strcmp(cmd, "watch") == 0)
		parse_watch(argc, argv, &wop);
	else if (strcmp(cmd, "offers") == 0)
		names = parse_offers(argc, argv);
	else if (strcmp(cmd, "list") == 0 || strcmp(cmd, "status") == 0)
		parse_plain(cmd, argc, argv);
	else if (strcmp(cmd, "revoke") == 0)
		parse_revoke(argc, argv, &rw);
	else if (strcmp(cmd, "help") == 0) {
		usage_text(stdout);
		return 0;
	} else {
		devmem_hint(argc, argv);
		usage_fail(cmd, "unknown command (" COMMANDS ")");
	}

	c = ctl_connect();
	if (strcmp(cmd, "map") == 0)
		status = cmd_map(c, &mo);
	else if (strcmp(cmd, "read") == 0)
		status = cmd_read(c, &ro);
	else if (strcmp(cmd, "write") == 0)
		status = cmd_write(c, &ro);
	else if (strcmp(cmd, "modify") == 0)
		status = cmd_modify(c, &ro);
	else if (strcmp(cmd, "dump") == 0)
		status = cmd_dump(c, &dop);
	else if (strcmp(cmd, "watch") == 0)
		status = cmd_watch(&c, &wop);
	else if (strcmp(cmd, "list") == 0)
		status = cmd_list(c);
	else if (strcmp(cmd, "offers") == 0)
		status = cmd_offers(c, names);
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
