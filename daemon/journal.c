/*
 * Audit lines as journal entries: see journal.h.
 *
 * journald's native protocol: one datagram an entry, each field
 * "KEY=value\n", or, for a value holding a newline, "KEY\n", its length
 * as 64 bits little-endian, the bytes and "\n".
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "journal.h"
#include "log.h"

#define JOURNAL_SOCKET	"/run/systemd/journal/socket"
#define MAX_FIELDS	40
#define ENTRY_MAX	4096	/* an audit line is 1024 bytes at most */

/*
 * One MESSAGE_ID a kind of event, for "journalctl MESSAGE_ID=...":
 * never change one; a new kind gets a new id (listed in mmapd(8)).
 */
static const struct {
	const char *event;
	const char *result;		/* NULL: any */
	const char *id;
} kinds[] = {
	{ "grant", "ok", "c50662e097124f5b8a04d291cb86af5b" },
	/* result=failed: its fd never went out. */
	{ "grant", NULL, "4e63d1b2b58944d3b80219f5c70a1232" },
	{ "release", NULL, "f58e9732f8c24999a7e85262268a45ed" },
	{ "deny", NULL, "bb37d1bd0ce844cfbab8f46990600459" },
	{ "read", NULL, "d34cd610aa6f4d39aa5b3499f20dcf65" },
	{ "write", NULL, "e0807de87c2c47289ad16f47b986bafd" },
	{ "modify", NULL, "931b8edf1efe46cea33e46ebcf6cca84" },
	{ "raw-fd", NULL, "6814811085cd4d5c8eb7830b8caa387c" },
	{ "whole-bar", NULL, "1b4fde4455da4b6cba1eeee94eb932fc" },
	{ "close", NULL, "fe23b12cedc94c678bd74e9cbbef1722" },
	{ "revoke-request", NULL, "177beaf9c3cb44de8ecba4c6736ea13c" },
	{ "revoke", NULL, "332b0de983ec4a76a71556d27f2d703e" },
	{ "revoke-notify", NULL, "8d385104e8d0436996d457df5c52cb7f" },
	{ "revoke-kill", NULL, "31063c0a50d141e59c559207518bbab2" },
	{ "revoke-expired", NULL, "e78bbc968ed54b2e8c49554f51ddca63" },
};
/* Any other event (mmapd(8)). */
#define ID_OTHER	"a3f0d6b1c2e94f0b8d7e6c5b4a392817"

static int journal_fd = -1;
static struct sockaddr_un journal_sa;
static socklen_t journal_salen;

/* A field: "KEY=value", value unquoted, in the entry's scratch space. */
struct field {
	char *text;
	size_t len;
	size_t key_len;
};

struct entry {
	struct field f[MAX_FIELDS];
	size_t n;
	char buf[ENTRY_MAX];
	size_t used;
};

static char *
entry_add(struct entry *en, const char *key, size_t key_len,
    const char *val, size_t val_len)
{
	struct field *f;
	char *p;

	if (en->n == MAX_FIELDS ||
	    key_len + 1 + val_len > sizeof(en->buf) - en->used)
		return NULL;
	p = en->buf + en->used;
	memcpy(p, key, key_len);
	p[key_len] = '=';
	if (val != NULL)
		memcpy(p + key_len + 1, val, val_len);
	f = &en->f[en->n++];
	f->text = p;
	f->key_len = key_len;
	f->len = key_len + 1 + val_len;
	en->used += f->len;
	return p + key_len + 1;
}

static int
hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * A value of an audit line at *pp: plain up to a space, or quoted as
 * log_quote() writes it (\" \\ \xNN, and +N when it was cut).  Unquoted
 * into out (room bytes); *pp moves past it.  -1 when it is not one.
 */
static ssize_t
value_read(const char **pp, char *out, size_t room)
{
	const char *p = *pp;
	size_t n = 0;
	int h, l;

	if (*p != '"') {
		while (*p != '\0' && *p != ' ' && n < room)
			out[n++] = *p++;
		*pp = p;
		return *p == '\0' || *p == ' ' ? (ssize_t)n : -1;
	}
	for (p++; *p != '"'; p++) {
		if (*p == '\0' || n == room)
			return -1;
		if (*p == '\\' && (p[1] == '"' || p[1] == '\\')) {
			out[n++] = *++p;
		} else if (*p == '\\' && p[1] == 'x' &&
		    (h = hex(p[2])) >= 0 && (l = hex(p[3])) >= 0) {
			out[n++] = (char)(h << 4 | l);
			p += 3;
		} else
			out[n++] = *p;
	}
	p++;
	/* A cut value's "+N": the line keeps it, the field does not. */
	if (*p == '+')
		while (*++p >= '0' && *p <= '9')
			;
	*pp = p;
	return (ssize_t)n;
}

/* MMAPD_KEY for key: upper case, '-' as '_'. */
static size_t
key_make(const char *k, size_t n, char *out, size_t room)
{
	size_t i, len = strlen("MMAPD_");

	if (n == 0 || len + n > room)
		return 0;
	memcpy(out, "MMAPD_", len);
	for (i = 0; i < n; i++) {
		if (k[i] >= 'a' && k[i] <= 'z')
			out[len++] = (char)(k[i] - 'a' + 'A');
		else if (k[i] == '-' || k[i] == '_' ||
		    (k[i] >= '0' && k[i] <= '9'))
			out[len++] = k[i] == '-' ? '_' : k[i];
		else
			return 0;
	}
	return len;
}

/*
 * The key=value pairs of line after "audit: ", as fields, up to the
 * first word that is not one (prose ends the fields).  *event and
 * *result: where the values of event= and result= are, or NULL.
 */
static void
fields_parse(struct entry *en, const char *line, const char **event,
    const char **result)
{
	const char *p = line + strlen("audit: "), *eq;
	char key[64], *v;
	size_t kl;
	ssize_t vl;

	*event = *result = NULL;
	while (*p != '\0') {
		eq = strchr(p, '=');
		if (eq == NULL || memchr(p, ' ', (size_t)(eq - p)) != NULL)
			return;
		kl = key_make(p, (size_t)(eq - p), key, sizeof(key) - 1);
		if (kl == 0)
			return;
		key[kl] = '\0';
		v = entry_add(en, key, kl, NULL, 0);
		if (v == NULL)
			return;
		p = eq + 1;
		vl = value_read(&p, v, sizeof(en->buf) - en->used);
		if (vl < 0) {
			en->n--;	/* nothing of it is kept */
			return;
		}
		en->f[en->n - 1].len += (size_t)vl;
		en->used += (size_t)vl;
		/* NUL-ended copies of two values, for the kind. */
		if (strcmp(key, "MMAPD_EVENT") == 0)
			*event = v;
		else if (strcmp(key, "MMAPD_RESULT") == 0)
			*result = v;
		while (*p == ' ')
			p++;
	}
}

static const char *
kind_id(const char *event, size_t elen, const char *result, size_t rlen)
{
	size_t i;

	for (i = 0; event != NULL && i < sizeof(kinds) / sizeof(kinds[0]);
	    i++) {
		if (strlen(kinds[i].event) != elen ||
		    memcmp(kinds[i].event, event, elen) != 0)
			continue;
		if (kinds[i].result == NULL || (result != NULL &&
		    strlen(kinds[i].result) == rlen &&
		    memcmp(kinds[i].result, result, rlen) == 0))
			return kinds[i].id;
	}
	return ID_OTHER;
}

static size_t
field_value_len(const struct entry *en, const char *v)
{
	size_t i;

	for (i = 0; i < en->n; i++)
		if (v == en->f[i].text + en->f[i].key_len + 1)
			return en->f[i].len - en->f[i].key_len - 1;
	return 0;
}

/* The native protocol, into out: 0 and *len, or -EMSGSIZE. */
static int
entry_pack(const struct entry *en, char *out, size_t room, size_t *len)
{
	const struct field *f;
	uint64_t vl;
	size_t i, n = 0, b;

	for (i = 0; i < en->n; i++) {
		f = &en->f[i];
		vl = f->len - f->key_len - 1;
		if (memchr(f->text, '\n', f->len) == NULL) {
			if (f->len + 1 > room - n)
				return -EMSGSIZE;
			memcpy(out + n, f->text, f->len);
			n += f->len;
			out[n++] = '\n';
			continue;
		}
		if (f->key_len + 1 + 8 + vl + 1 > room - n)
			return -EMSGSIZE;
		memcpy(out + n, f->text, f->key_len);
		n += f->key_len;
		out[n++] = '\n';
		for (b = 0; b < 8; b++)
			out[n++] = (char)(vl >> (8 * b));
		memcpy(out + n, f->text + f->key_len + 1, vl);
		n += vl;
		out[n++] = '\n';
	}
	*len = n;
	return 0;
}

static int
entry_send(const struct entry *en)
{
	char pkt[ENTRY_MAX + MAX_FIELDS * 10];
	struct iovec iov;
	struct msghdr mh = {
		.msg_name = &journal_sa,
		.msg_namelen = journal_salen,
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};
	size_t len;
	ssize_t r;
	int err;

	err = entry_pack(en, pkt, sizeof(pkt), &len);
	if (err)
		return err;
	iov.iov_base = pkt;
	iov.iov_len = len;
	do
		r = sendmsg(journal_fd, &mh, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return 0;
}

/* log.c's audit sink: 0 when the journal took the line. */
static int
journal_audit(int pri, const char *line)
{
	static int warned;
	struct entry en;
	const char *event, *result, *id;
	char prio[2] = { (char)('0' + pri), '\0' };
	int err;

	en.n = 0;
	en.used = 0;
	if (entry_add(&en, "MESSAGE", 7, line, strlen(line)) == NULL ||
	    entry_add(&en, "PRIORITY", 8, prio, 1) == NULL ||
	    entry_add(&en, "SYSLOG_IDENTIFIER", 17, "mmapd", 5) == NULL ||
	    entry_add(&en, "MESSAGE_ID", 10, ID_OTHER, 32) == NULL)
		return -EMSGSIZE;
	fields_parse(&en, line, &event, &result);
	id = kind_id(event, event ? field_value_len(&en, event) : 0, result,
	    result ? field_value_len(&en, result) : 0);
	memcpy(en.f[3].text + 11, id, 32);
	err = entry_send(&en);
	if (err && !warned) {
		warned = 1;
		log_warn("journal: cannot send an audit entry: %s; audit "
		    "lines that cannot be sent go to stderr", strerror(-err));
	}
	return err;
}

int
journal_open(int force)
{
	const char *seam = getenv(JOURNAL_TEST_SEAM);
	const char *path = seam != NULL && *seam != '\0' ? seam :
	    JOURNAL_SOCKET;
	size_t n = strlen(path);
	int fd;

	if (!force && !log_to_journal_stream())
		return 0;
	if (seam != NULL && *seam != '\0')
		log_warn("%s=%s (a test seam): journal entries go there",
		    JOURNAL_TEST_SEAM, seam);
	if (n >= sizeof(journal_sa.sun_path)) {
		log_warn("journal: %s: path too long: audit lines stay on "
		    "stderr", path);
		return -ENAMETOOLONG;
	}
	memset(&journal_sa, 0, sizeof(journal_sa));
	journal_sa.sun_family = AF_UNIX;
	memcpy(journal_sa.sun_path, path, n);
	journal_salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    n + 1);
	/* Now, before the sandbox: later, each entry is a sendmsg(). */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_warn("journal: socket: %s: audit lines stay on stderr",
		    strerror(errno));
		return -errno;
	}
	journal_fd = fd;
	log_set_audit_sink(journal_audit);
	return 0;
}

void
journal_close(void)
{
	log_set_audit_sink(NULL);
	if (journal_fd >= 0)
		close(journal_fd);
	journal_fd = -1;
}
