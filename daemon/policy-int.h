/*
 * What the parts of the policy (daemon/policy*.c) share: the loader that
 * reads mmapd.conf, the key table, and the helpers that more than one
 * part calls.  Nothing outside daemon/policy*.c includes it.
 */
#ifndef MMAPD_POLICY_INT_H
#define MMAPD_POLICY_INT_H

#include <stddef.h>
#include <stdint.h>

#include "policy.h"

#define REGION_NAME_MAX		63

#define WHITESPACE		" \t\r\f\v"

/* Where a key may appear. */
#define IN_DAEMON	(1u << 0)
#define IN_ZERO		(1u << 1)
#define IN_MEM		(1u << 2)
#define IN_REGION	(1u << 3)
#define IN_ENTRY	(IN_ZERO | IN_MEM | IN_REGION)
#define IN_LIMITS	(1u << 4)
#define IN_SHM		(1u << 5)

enum key_id {
	KEY_SOCKET_MODE,
	KEY_SOCKET_GROUP,
	KEY_USER,
	KEY_USERS,
	KEY_GROUPS,
	KEY_MAX_SIZE,
	KEY_SHARED,
	KEY_PROTECTION,
	KEY_CACHE,
	KEY_PATH,
	KEY_IOMEM,
	KEY_DEVICE,
	KEY_BASE,
	KEY_SIZE,
	KEY_RAW_USERS,
	KEY_RAW_GROUPS,
	KEY_PCI,
	KEY_INDEX,
	KEY_BAR,
	KEY_SYSFS,
	KEY_CONNECTIONS,
	KEY_LEASES_PER_UID,
	KEY_ZERO_BYTES_PER_UID,
	KEY_REQUESTS_IN_FLIGHT,
	KEY_CONNECTIONS_PER_UID,
	KEY_CONNECTIONS_RESERVED,
	KEY_ADMIN_GROUP,
	KEY_IDLE_SECONDS,
	KEY_GRANTS_IN_FLIGHT,
	KEY_GRANTS_IN_FLIGHT_PER_UID,
	KEY_MAP,
	KEY_WHOLE_BAR,
	/* revocation: policy-revoke.c */
	KEY_MAX_LEASE_SECONDS,
	KEY_REVOKE_SECONDS,
	KEY_ON_REVOKE,
	/* [shm NAME]: policy-shm.c */
	KEY_SHM_SIZE,
	KEY_SHM_WRITERS,
	KEY_SHM_WRITER_GROUPS,
	KEY_SHM_READERS,
	KEY_SHM_READER_GROUPS,
	KEY_SHM_CREATORS,
	KEY_SHM_CREATOR_GROUPS,
	KEY_SHM_PERSIST,
	KEY_SHM_MAX_LEASE_SECONDS,	/* policy-revoke.c */
	KEY_NR
};

enum sect {
	SECT_NONE,	/* before the first header */
	SECT_SKIP,	/* a header that was wrong: its keys mean nothing */
	SECT_DAEMON,
	SECT_LIMITS,
	SECT_ENTRY,
	SECT_SHM,	/* [shm NAME]: policy-shm.c */
};

struct loader {
	struct policy *pol;
	struct policy_errors *errs;
	int err;			/* -ENOMEM once an allocation failed */

	/* The file, read whole; the reader cuts it in place. */
	char *text;
	size_t len;
	size_t pos;
	unsigned int lineno;		/* of the line last handed out */

	/* The section being read. */
	enum sect sect;
	size_t entry;			/* SECT_ENTRY: index in pol->entries */
	size_t shm;			/* SECT_SHM: index in pol->shms */
	unsigned int sect_line;
	char label[256];		/* "[zero]", "[region edu]" */
	unsigned int key_line[KEY_NR];	/* where each key was set; 0: not */
	unsigned int daemon_line;	/* the first [daemon]; 0: none yet */
	unsigned int limits_line;	/* the first [limits]; 0: none yet */
	unsigned int reserved_line;	/* connections_reserved; 0: not given */
};

struct key {
	const char *name;
	unsigned int where;		/* IN_* */
	unsigned int required;		/* IN_* where it must be given */
	void (*set)(struct loader *ld, const char *key, const char *value);
};

extern const struct key policy_keys[KEY_NR];

/* policy.c: a policy with the defaults; an entry appended to it. */
struct policy *policy_alloc(void);
int policy_add_entry(struct policy *pol, enum policy_kind kind,
    const char *name, unsigned int line);

/* policy-read.c: an error of the file at line (0: of the whole file). */
void loader_error(struct loader *ld, unsigned int line,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The entry whose section is being read. */
static inline struct policy_entry *
loader_entry(struct loader *ld)
{
	return &ld->pol->entries[ld->entry];
}

/* policy-keys.c: the checks at the end of a section. */
void loader_close_cache(struct loader *ld, struct policy_entry *e);
void loader_close_raw(struct loader *ld, struct policy_entry *e);
int loader_close_device(struct loader *ld, struct policy_entry *e);
void loader_close_limits(struct loader *ld);

/* policy-parse.c: values; 0, or -EINVAL or -ERANGE. */
int policy_parse_digits(const char *s, unsigned int base, uint64_t *out);
int policy_parse_number(const char *s, uint64_t *out);
int policy_parse_size(const char *s, uint64_t *out);
int policy_parse_bool(const char *s, int *out);
int policy_hex_field(const char *s, size_t n, unsigned int max,
    unsigned int *out);
int policy_page_aligned(uint64_t v);
int policy_region_name_valid(const char *name);
int loader_resolve(struct loader *ld, const char *key, const char *tok,
    int is_group, uint32_t *id);
void loader_bad_number(struct loader *ld, const char *key,
    const char *value, int rc, const char *what);

/* policy-keys.c: users or groups of key into who. */
void loader_who(struct loader *ld, struct policy_who *who, const char *key,
    const char *value, int is_group);

/* policy-check.c: is peer one of who? */
int policy_who_allows(const struct policy_who *who,
    const struct policy_peer *peer);

/* policy-shm.c: [shm NAME], its keys, the end of its section. */
void loader_open_shm(struct loader *ld, const char *name);
void loader_close_shm(struct loader *ld);
void key_shm_size(struct loader *ld, const char *key, const char *value);
void key_shm_who(struct loader *ld, const char *key, const char *value);
void key_shm_persist(struct loader *ld, const char *key, const char *value);
void policy_shm_free(struct policy_shm *s);

/* policy-revoke.c: max_lease_seconds, revoke_seconds, on_revoke. */
void key_revoke(struct loader *ld, const char *key, const char *value);

#endif /* MMAPD_POLICY_INT_H */
