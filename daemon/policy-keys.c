#include "config.h"

/*
 * The keys of mmapd.conf: where each may appear, what reads its value
 * into the policy, and the checks at the end of a section of the keys
 * that go together.  The values themselves are policy-parse.c's.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "policy-int.h"

#define DEFAULT_SYSFS_PATH	"/sys/bus/pci/devices"

static void key_socket_mode(struct loader *, const char *, const char *);
static void key_socket_group(struct loader *, const char *, const char *);
static void key_user(struct loader *, const char *, const char *);
static void key_users(struct loader *, const char *, const char *);
static void key_groups(struct loader *, const char *, const char *);
static void key_max_size(struct loader *, const char *, const char *);
static void key_shared(struct loader *, const char *, const char *);
static void key_protection(struct loader *, const char *, const char *);
static void key_cache(struct loader *, const char *, const char *);
static void key_path(struct loader *, const char *, const char *);
static void key_device(struct loader *, const char *, const char *);
static void key_base(struct loader *, const char *, const char *);
static void key_size(struct loader *, const char *, const char *);
static void key_raw_users(struct loader *, const char *, const char *);
static void key_raw_groups(struct loader *, const char *, const char *);
static void key_pci(struct loader *, const char *, const char *);
static void key_index(struct loader *, const char *, const char *);
static void key_bar(struct loader *, const char *, const char *);
static void key_limit(struct loader *, const char *, const char *);
static void key_admin_group(struct loader *, const char *, const char *);
static void key_reach(struct loader *, const char *, const char *);

const struct key policy_keys[KEY_NR] = {
	[KEY_SOCKET_MODE] =	{ "socket_mode", IN_DAEMON, 0, key_socket_mode },
	[KEY_SOCKET_GROUP] =	{ "socket_group", IN_DAEMON, 0,
				  key_socket_group },
	[KEY_USER] =		{ "user", IN_DAEMON, 0, key_user },
	[KEY_USERS] =		{ "users", IN_ENTRY, 0, key_users },
	[KEY_GROUPS] =		{ "groups", IN_ENTRY, 0, key_groups },
	[KEY_MAX_SIZE] =	{ "max_size", IN_ENTRY, IN_MEM, key_max_size },
	[KEY_SHARED] =		{ "shared", IN_ENTRY, 0, key_shared },
	[KEY_PROTECTION] =	{ "protection", IN_ENTRY, 0, key_protection },
	[KEY_CACHE] =		{ "cache", IN_ENTRY, 0, key_cache },
	[KEY_PATH] =		{ "path", IN_MEM, 0, key_path },
	[KEY_IOMEM] =		{ "iomem", IN_MEM, 0, key_path },
	[KEY_DEVICE] =		{ "device", IN_REGION, IN_REGION, key_device },
	/* base and size are required of mem regions only: see close. */
	[KEY_BASE] =		{ "base", IN_REGION, 0, key_base },
	[KEY_SIZE] =		{ "size", IN_REGION, 0, key_size },
	[KEY_RAW_USERS] =	{ "raw_fd_users", IN_MEM | IN_REGION, 0,
				  key_raw_users },
	[KEY_RAW_GROUPS] =	{ "raw_fd_groups", IN_MEM | IN_REGION, 0,
				  key_raw_groups },
	[KEY_PCI] =		{ "pci", IN_REGION, 0, key_pci },
	[KEY_INDEX] =		{ "index", IN_REGION, 0, key_index },
	[KEY_BAR] =		{ "bar", IN_REGION, 0, key_bar },
	[KEY_SYSFS] =		{ "sysfs", IN_REGION, 0, key_path },
	[KEY_CONNECTIONS] =	{ "connections", IN_LIMITS, 0, key_limit },
	[KEY_LEASES_PER_UID] =	{ "leases_per_uid", IN_LIMITS, 0, key_limit },
	[KEY_ZERO_BYTES_PER_UID] = { "zero_bytes_per_uid", IN_LIMITS, 0,
				  key_limit },
	[KEY_REQUESTS_IN_FLIGHT] = { "requests_in_flight", IN_LIMITS, 0,
				  key_limit },
	[KEY_CONNECTIONS_PER_UID] = { "connections_per_uid", IN_LIMITS, 0,
				  key_limit },
	[KEY_CONNECTIONS_RESERVED] = { "connections_reserved", IN_LIMITS, 0,
				  key_limit },
	[KEY_ADMIN_GROUP] =	{ "admin_group", IN_LIMITS, 0, key_admin_group },
	[KEY_IDLE_SECONDS] =	{ "idle_seconds", IN_LIMITS, 0, key_limit },
	[KEY_GRANTS_IN_FLIGHT] = { "grants_in_flight", IN_LIMITS, 0,
				  key_limit },
	[KEY_GRANTS_IN_FLIGHT_PER_UID] = { "grants_in_flight_per_uid",
				  IN_LIMITS, 0, key_limit },
	[KEY_MAP] =		{ "map", IN_MEM | IN_REGION, 0, key_reach },
	[KEY_WHOLE_BAR] =	{ "whole_bar", IN_REGION, 0, key_reach },
	/* revocation: policy-revoke.c */
	[KEY_MAX_LEASE_SECONDS] = { "max_lease_seconds", IN_ENTRY, 0,
				  key_revoke },
	[KEY_REVOKE_SECONDS] =	{ "revoke_seconds", IN_ENTRY, 0, key_revoke },
	[KEY_ON_REVOKE] =	{ "on_revoke", IN_ENTRY, 0, key_revoke },
	/* [shm NAME]: policy-shm.c */
	[KEY_SHM_SIZE] =	{ "size", IN_SHM, IN_SHM, key_shm_size },
	[KEY_SHM_WRITERS] =	{ "writers", IN_SHM, 0, key_shm_who },
	[KEY_SHM_WRITER_GROUPS] = { "writer_groups", IN_SHM, 0, key_shm_who },
	[KEY_SHM_READERS] =	{ "readers", IN_SHM, 0, key_shm_who },
	[KEY_SHM_READER_GROUPS] = { "reader_groups", IN_SHM, 0, key_shm_who },
	[KEY_SHM_CREATORS] =	{ "creators", IN_SHM, 0, key_shm_who },
	[KEY_SHM_CREATOR_GROUPS] = { "creator_groups", IN_SHM, 0,
				  key_shm_who },
	[KEY_SHM_PERSIST] =	{ "persist", IN_SHM, 0, key_shm_persist },
	[KEY_SHM_MAX_LEASE_SECONDS] = { "max_lease_seconds", IN_SHM, 0,
				  key_revoke },
};

static const char *const cache_names[MAP_CACHE_NR] = {
	[MAP_CACHE_DEFAULT] = "default",
	[MAP_CACHE_CACHED] = "cached",
	[MAP_CACHE_UNCACHED] = "uncached",
	[MAP_CACHE_WC] = "wc",
};

/* ---------------------------------------------------------------------
 * Keys
 * --------------------------------------------------------------------- */

static void
key_socket_mode(struct loader *ld, const char *key, const char *value)
{
	uint64_t v;

	/* Octal only: "660" means what chmod 660 means. */
	if (policy_parse_digits(value, 8, &v) < 0 || v > 0777) {
		loader_error(ld, ld->lineno,
		    "%s: '%s' is not an octal mode from 0 to 0777", key, value);
		return;
	}
	ld->pol->socket_mode = (mode_t)v;
}

static void
key_socket_group(struct loader *ld, const char *key, const char *value)
{
	uint32_t gid;

	if (loader_resolve(ld, key, value, 1, &gid) < 0)
		return;
	ld->pol->socket_group = gid;
	ld->pol->has_socket_group = 1;
}

/*
 * The user mmapd runs as once set up.  Kept as a name: whether it exists
 * is mmapd's start-up to judge, as root, not --check-config's.
 */
static void
key_user(struct loader *ld, const char *key, const char *value)
{
	size_t n = strlen(value);
	char *copy;

	if (n == 0 || n > 32 || value[0] == '-' ||
	    strspn(value, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n) {
		loader_error(ld, ld->lineno, "%s: '%s' is not a user name "
		    "(letters, digits, '.', '_', '-'; at most 32)", key, value);
		return;
	}
	copy = strdup(value);
	if (copy == NULL) {
		ld->err = -ENOMEM;
		return;
	}
	free(ld->pol->user);
	ld->pol->user = copy;
}

/* Append id to *v, which holds *n. */
static int
id_append(uint32_t **v, size_t *n, uint32_t id)
{
	uint32_t *nv;

	nv = reallocarray(*v, *n + 1, sizeof(**v));
	if (nv == NULL)
		return -ENOMEM;
	nv[(*n)++] = id;
	*v = nv;
	return 0;
}

/* users and groups: names or numbers, separated by commas or spaces. */
static void
key_who(struct loader *ld, struct policy_who *who, const char *key,
    const char *value, int is_group)
{
	char *copy, *tok, *save = NULL;
	uint32_t id;
	size_t named = 0;
	int rc;

	/* uid_t and gid_t are what id_append() grows. */
	_Static_assert(sizeof(uid_t) == sizeof(uint32_t) &&
	    sizeof(gid_t) == sizeof(uint32_t), "uid_t or gid_t is not 32 bits");

	copy = strdup(value);
	if (copy == NULL) {
		ld->err = -ENOMEM;
		return;
	}
	for (tok = strtok_r(copy, "," WHITESPACE, &save); tok != NULL;
	    tok = strtok_r(NULL, "," WHITESPACE, &save)) {
		named++;
		if (strcmp(tok, "*") == 0) {
			if (is_group)
				loader_error(ld, ld->lineno, "%s: '*' is for "
				    "users only (users = * allows everyone)",
				    key);
			else
				who->everyone = 1;
			continue;
		}
		if (loader_resolve(ld, key, tok, is_group, &id) < 0)
			continue;
		if (is_group)
			rc = id_append(&who->gids, &who->n_gids, id);
		else
			rc = id_append(&who->uids, &who->n_uids, id);
		if (rc < 0) {
			ld->err = rc;
			break;
		}
	}
	if (named == 0)
		loader_error(ld, ld->lineno, "%s: names no one (leave the key "
		    "out to allow no one)", key);
	free(copy);
}

static void
key_users(struct loader *ld, const char *key, const char *value)
{
	key_who(ld, &loader_entry(ld)->who, key, value, 0);
}

static void
key_groups(struct loader *ld, const char *key, const char *value)
{
	key_who(ld, &loader_entry(ld)->who, key, value, 1);
}

static void
key_raw_users(struct loader *ld, const char *key, const char *value)
{
	key_who(ld, &loader_entry(ld)->raw_who, key, value, 0);
}

static void
key_raw_groups(struct loader *ld, const char *key, const char *value)
{
	key_who(ld, &loader_entry(ld)->raw_who, key, value, 1);
}

static void
key_max_size(struct loader *ld, const char *key, const char *value)
{
	uint64_t v;
	int rc;

	rc = policy_parse_size(value, &v);
	if (rc < 0) {
		loader_bad_number(ld, key, value, rc, "a size");
		return;
	}
	if (v == 0) {
		loader_error(ld, ld->lineno, "%s: 0 allows nothing: give a "
		    "size of at least 1", key);
		return;
	}
	loader_entry(ld)->max_size = v;
}

static void
key_shared(struct loader *ld, const char *key, const char *value)
{
	int v;

	if (policy_parse_bool(value, &v) < 0) {
		loader_error(ld, ld->lineno, "%s: '%s' is not yes or no (yes, "
		    "no, true, false, on, off, 1, 0)", key, value);
		return;
	}
	loader_entry(ld)->shared = v;
}

/* map = yes|no and whole_bar = yes|no: how far a Map may reach. */
static void
key_reach(struct loader *ld, const char *key, const char *value)
{
	struct policy_entry *e = loader_entry(ld);
	int v;

	if (policy_parse_bool(value, &v) < 0) {
		loader_error(ld, ld->lineno, "%s: '%s' is not yes or no (yes, "
		    "no, true, false, on, off, 1, 0)", key, value);
		return;
	}
	if (strcmp(key, "map") == 0)
		e->regs_only = !v;
	else
		e->whole_bar = v;
}

static void
key_protection(struct loader *ld, const char *key, const char *value)
{
	if (strcmp(value, "r") == 0) {
		loader_entry(ld)->write = 0;
	} else if (strcmp(value, "rw") == 0) {
		loader_entry(ld)->write = 1;
	} else {
		loader_error(ld, ld->lineno, "%s: '%s' is not r or rw", key,
		    value);
	}
}

static void
key_cache(struct loader *ld, const char *key, const char *value)
{
	struct policy_entry *e = loader_entry(ld);
	int c;

	for (c = 0; c < MAP_CACHE_NR; c++) {
		if (strcmp(value, cache_names[c]) == 0)
			break;
	}
	if (c == MAP_CACHE_NR) {
		loader_error(ld, ld->lineno, "%s: '%s' is not default, cached, "
		    "uncached or wc", key, value);
		return;
	}
	/* Whether the device can give it is judged when the section ends. */
	e->cache = (enum map_cache)c;
}

/* path and iomem of [mem], sysfs of a region of pci. */
static void
key_path(struct loader *ld, const char *key, const char *value)
{
	struct policy_entry *e = loader_entry(ld);
	char **field, *copy;

	if (strcmp(key, "path") == 0)
		field = &e->path;
	else if (strcmp(key, "iomem") == 0)
		field = &e->iomem;
	else
		field = &e->sysfs;

	/* The daemon runs from /: a relative path would mean something else. */
	if (value[0] != '/') {
		loader_error(ld, ld->lineno, "%s: '%s' is not an absolute path",
		    key, value);
		return;
	}
	copy = strdup(value);
	if (copy == NULL) {
		ld->err = -ENOMEM;
		return;
	}
	free(*field);
	*field = copy;
}

static void
key_device(struct loader *ld, const char *key, const char *value)
{
	struct policy_entry *e = loader_entry(ld);

	if (strcmp(value, "mem") != 0 && strcmp(value, "pci") != 0) {
		loader_error(ld, ld->lineno, "%s: '%s' is not a device a region "
		    "can be of (mem or pci)", key, value);
		return;
	}
	free(e->device);
	e->device = strdup(value);
	if (e->device == NULL)
		ld->err = -ENOMEM;
	e->is_pci = strcmp(value, "pci") == 0;
}

/*
 * "0000:00:01.0" (domain:bus:device.function, as sysfs names it) or
 * "1234:11e8" (vendor:device, with index saying which one).
 */
static void
key_pci(struct loader *ld, const char *key, const char *value)
{
	struct policy_entry *e = loader_entry(ld);
	unsigned int v[4];
	size_t n = strlen(value);

	if (n == 9 && value[4] == ':' &&
	    policy_hex_field(value, 4, 0xffff, &v[0]) == 0 &&
	    policy_hex_field(value + 5, 4, 0xffff, &v[1]) == 0) {
		e->pci_vendor = v[0];
		e->pci_device = v[1];
		free(e->pci_address);
		e->pci_address = NULL;
		return;
	}
	if (n == 12 && value[4] == ':' && value[7] == ':' && value[10] == '.' &&
	    policy_hex_field(value, 4, 0xffff, &v[0]) == 0 &&
	    policy_hex_field(value + 5, 2, 0xff, &v[1]) == 0 &&
	    policy_hex_field(value + 8, 2, 0x1f, &v[2]) == 0 &&
	    policy_hex_field(value + 11, 1, 7, &v[3]) == 0) {
		free(e->pci_address);
		/* sysfs spells it in lower case. */
		if (asprintf(&e->pci_address, "%04x:%02x:%02x.%x", v[0], v[1],
		    v[2], v[3]) < 0) {
			e->pci_address = NULL;
			ld->err = -ENOMEM;
		}
		return;
	}
	loader_error(ld, ld->lineno, "%s: '%s' is neither an address "
	    "(0000:00:01.0) nor vendor:device (1234:11e8)", key, value);
}

/* A decimal from 0 to max into *out, else an error naming what. */
static void
key_decimal(struct loader *ld, const char *key, const char *value,
    uint64_t max, const char *what, unsigned int *out)
{
	uint64_t v;

	if (policy_parse_digits(value, 10, &v) < 0 || v > max) {
		loader_error(ld, ld->lineno, "%s: '%s' is not %s from 0 to "
		    "%llu", key, value, what, (unsigned long long)max);
		return;
	}
	*out = (unsigned int)v;
}

static void
key_index(struct loader *ld, const char *key, const char *value)
{
	key_decimal(ld, key, value, 255, "a number",
	    &loader_entry(ld)->pci_index);
}

static void
key_bar(struct loader *ld, const char *key, const char *value)
{
	/* BARs 0-5; the expansion ROM is not device memory to hand out. */
	key_decimal(ld, key, value, 5, "a BAR number",
	    &loader_entry(ld)->bar);
}

/*
 * [limits]: counts from 1 to a maximum that keeps what the daemon may
 * hold (fds, reply buffers) within reason; a size from 1 byte up.
 */
static void
key_limit(struct loader *ld, const char *key, const char *value)
{
	struct policy_limits *lim = &ld->pol->limits;
	unsigned int *field;
	uint64_t v, min, max;
	int rc;

	if (strcmp(key, "zero_bytes_per_uid") == 0) {
		rc = policy_parse_size(value, &v);
		if (rc < 0) {
			loader_bad_number(ld, key, value, rc, "a size");
			return;
		}
		if (v == 0) {
			loader_error(ld, ld->lineno, "%s: 0 allows nothing: "
			    "give a size of at least 1", key);
			return;
		}
		lim->zero_bytes_per_uid = v;
		return;
	}
	min = 1;
	if (strcmp(key, "connections") == 0) {
		field = &lim->connections;
		max = POLICY_MAX_CONNECTIONS;
	} else if (strcmp(key, "connections_per_uid") == 0) {
		field = &lim->connections_per_uid;
		max = POLICY_MAX_CONNECTIONS;
	} else if (strcmp(key, "connections_reserved") == 0) {
		/* Checked against connections once the section is read. */
		field = &lim->connections_reserved;
		min = 0;
		max = POLICY_MAX_CONNECTIONS - 1;
		ld->reserved_line = ld->lineno;
	} else if (strcmp(key, "idle_seconds") == 0) {
		/* 0: connections are never closed for being idle. */
		field = &lim->idle_seconds;
		min = 0;
		max = POLICY_MAX_IDLE_SECONDS;
	} else if (strcmp(key, "leases_per_uid") == 0) {
		field = &lim->leases_per_uid;
		max = POLICY_MAX_LEASES_PER_UID;
	} else if (strcmp(key, "grants_in_flight") == 0) {
		field = &lim->grants_in_flight;
		max = POLICY_MAX_GRANTS_IN_FLIGHT;
	} else if (strcmp(key, "grants_in_flight_per_uid") == 0) {
		field = &lim->grants_in_flight_per_uid;
		max = POLICY_MAX_GRANTS_IN_FLIGHT_PER_UID;
	} else {
		field = &lim->requests_in_flight;
		max = POLICY_MAX_REQUESTS_IN_FLIGHT;
	}
	if (policy_parse_number(value, &v) < 0 || v < min || v > max) {
		loader_error(ld, ld->lineno, "%s: '%s' is not a number from %"
		    PRIu64 " to %" PRIu64, key, value, min, max);
		return;
	}
	*field = (unsigned int)v;
}

/* admin_group: a group whose members may use connections_reserved. */
static void
key_admin_group(struct loader *ld, const char *key, const char *value)
{
	uint32_t gid;

	if (loader_resolve(ld, key, value, 1, &gid) < 0)
		return;
	ld->pol->limits.admin_gid = gid;
	ld->pol->limits.has_admin_group = 1;
}

/* key_who() for policy-shm.c's keys. */
void
loader_who(struct loader *ld, struct policy_who *who, const char *key,
    const char *value, int is_group)
{
	key_who(ld, who, key, value, is_group);
}

/*
 * The reserve comes out of connections: given, it must leave at least
 * one connection to everyone else; not given, it is the default or a
 * quarter of connections, whichever is less, so that a small
 * connections still serves others.
 */
void
loader_close_limits(struct loader *ld)
{
	struct policy_limits *lim = &ld->pol->limits;

	if (ld->reserved_line == 0) {
		if (lim->connections_reserved > lim->connections / 4)
			lim->connections_reserved = lim->connections / 4;
		return;
	}
	if (lim->connections_reserved >= lim->connections)
		loader_error(ld, ld->reserved_line, "connections_reserved: %u "
		    "leaves no connection to anyone but root and admin_group "
		    "(connections = %u)", lim->connections_reserved,
		    lim->connections);
}

static void
key_base(struct loader *ld, const char *key, const char *value)
{
	struct policy_entry *e = loader_entry(ld);
	uint64_t v;
	int rc;

	rc = policy_parse_number(value, &v);
	if (rc < 0) {
		loader_bad_number(ld, key, value, rc,
		    "a number (decimal or 0x hex)");
		return;
	}
	if (!policy_page_aligned(v)) {
		loader_error(ld, ld->lineno, "%s: base %#" PRIx64 " is not "
		    "page-aligned", ld->label, v);
		return;
	}
	e->base = v;
}

static void
key_size(struct loader *ld, const char *key, const char *value)
{
	struct policy_entry *e = loader_entry(ld);
	uint64_t v;
	int rc;

	rc = policy_parse_size(value, &v);
	if (rc < 0) {
		loader_bad_number(ld, key, value, rc, "a size");
		return;
	}
	if (v == 0) {
		loader_error(ld, ld->lineno, "%s: size must be greater than 0",
		    ld->label);
		return;
	}
	if (!policy_page_aligned(v)) {
		loader_error(ld, ld->lineno, "%s: size %#" PRIx64 " is not "
		    "page-aligned", ld->label, v);
		return;
	}
	e->size = v;
}

/* ---------------------------------------------------------------------
 * Sections
 * --------------------------------------------------------------------- */

/*
 * Refuse at load time a cache mode no request could ever get: /dev/zero
 * has one (cached) mode, /dev/mem cannot be opened for write-combine,
 * and a PCI BAR is never mapped cached.
 */
void
loader_close_cache(struct loader *ld, struct policy_entry *e)
{
	unsigned int line = ld->key_line[KEY_CACHE];
	enum map_cache c = e->cache;

	if (line == 0 || c == MAP_CACHE_DEFAULT)
		return;
	if (e->kind == POLICY_ZERO && c != MAP_CACHE_CACHED)
		loader_error(ld, line, "cache: /dev/zero has no '%s' mode "
		    "(default or cached)", cache_names[c]);
	else if (e->kind == POLICY_REGION && e->is_pci && c == MAP_CACHE_CACHED)
		loader_error(ld, line, "cache: a PCI BAR is not mapped cached "
		    "(default, uncached or wc)");
	else if (e->kind != POLICY_ZERO && !e->is_pci && c == MAP_CACHE_WC)
		loader_error(ld, line, "cache: /dev/mem cannot give "
		    "write-combine (default, cached or uncached)");
}

/*
 * raw_fd_* hand out /dev/mem: they mean nothing for a PCI BAR.  They and
 * whole_bar = yes give a Map: they contradict map = no.
 */
void
loader_close_raw(struct loader *ld, struct policy_entry *e)
{
	unsigned int line = ld->key_line[KEY_RAW_USERS] ?
	    ld->key_line[KEY_RAW_USERS] : ld->key_line[KEY_RAW_GROUPS];

	if (line != 0 && e->kind == POLICY_REGION && e->is_pci)
		loader_error(ld, line, "%s: raw_fd_users and raw_fd_groups are "
		    "for /dev/mem: a pci region hands out only its BAR",
		    ld->label);
	else if (line != 0 && e->regs_only)
		loader_error(ld, line, "%s: raw_fd_users and raw_fd_groups "
		    "give a Map, which map = no refuses to everyone",
		    ld->label);
	if (ld->key_line[KEY_WHOLE_BAR] != 0 && e->is_pci && e->whole_bar &&
	    e->regs_only)
		loader_error(ld, ld->key_line[KEY_WHOLE_BAR], "%s: whole_bar = "
		    "yes gives a Map, which map = no refuses to everyone",
		    ld->label);
}

/* The keys of one kind of region, and none of the other's.  0: wrong. */
int
loader_close_device(struct loader *ld, struct policy_entry *e)
{
	static const int pci_only[] = {
		KEY_PCI, KEY_INDEX, KEY_BAR, KEY_SYSFS, KEY_WHOLE_BAR,
	};
	size_t i;
	int ok = 1;

	if (!e->is_pci) {
		for (i = 0; i < sizeof(pci_only) / sizeof(pci_only[0]); i++) {
			if (ld->key_line[pci_only[i]] == 0)
				continue;
			loader_error(ld, ld->key_line[pci_only[i]], "%s: '%s' "
			    "is for regions of pci", ld->label,
			    policy_keys[pci_only[i]].name);
			ok = 0;
		}
		if (ld->key_line[KEY_BASE] == 0 || ld->key_line[KEY_SIZE] == 0) {
			loader_error(ld, ld->sect_line, "%s: a region of mem "
			    "needs base and size", ld->label);
			ok = 0;
		}
		return ok;
	}
	if (ld->key_line[KEY_PCI] == 0) {
		loader_error(ld, ld->sect_line, "%s: a region of pci needs "
		    "'pci' (an address or vendor:device)", ld->label);
		ok = 0;
	}
	if (ld->key_line[KEY_BAR] == 0) {
		loader_error(ld, ld->sect_line, "%s: a region of pci needs "
		    "'bar'", ld->label);
		ok = 0;
	}
	if (ld->key_line[KEY_INDEX] != 0 && e->pci_address != NULL) {
		loader_error(ld, ld->key_line[KEY_INDEX], "%s: 'index' goes with "
		    "pci = vendor:device, not with an address", ld->label);
		ok = 0;
	}
	if (e->sysfs == NULL) {
		e->sysfs = strdup(DEFAULT_SYSFS_PATH);
		if (e->sysfs == NULL)
			ld->err = -ENOMEM;
	}
	return ok;
}
