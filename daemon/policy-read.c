#include "config.h"

/*
 * Reading mmapd.conf: the file, its lines and its sections, through
 * libinih; what each key means is policy-keys.c's.
 *
 * libinih splits "key = value" lines; the loader does the rest itself,
 * through the reader callback of ini_parse_stream(), because Debian's
 * inih 55 is built with its default options and so
 *	- gives the handler no line number (INI_HANDLER_LINENO is 0);
 *	- reports only the first bad line, as its return value;
 *	- never calls the handler for a section without keys, which hides
 *	  a [region] that lacks every required key;
 *	- cuts section names at 50 bytes, shorter than "region " and a
 *	  63-byte region name;
 *	- takes ':' as a separator, '#' only at the start of a line, and an
 *	  indented line as the continuation of the previous value.
 * So the reader counts lines, cuts comments, reads section headers and
 * rejects malformed lines itself (collecting every error, not the first),
 * and hands inih only lines of the form "key=value"; everything else
 * reaches inih as an empty line.  inih calls the handler for a line
 * before it asks the reader for the next one, so the reader's line
 * number is the handler's.
 */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>

#include "policy.h"
#include "policy-int.h"

/*
 * A policy file is a few hundred bytes.  The cap (POLICY_FILE_MAX,
 * policy.h) keeps a wrong path (/dev/zero, a log) from being read until
 * memory runs out.
 */

/* ---------------------------------------------------------------------
 * Errors
 * --------------------------------------------------------------------- */

void
loader_error(struct loader *ld, unsigned int line, const char *fmt, ...)
{
	struct policy_errors *errs = ld->errs;
	struct policy_error *v;
	va_list ap;
	size_t i;

	v = reallocarray(errs->v, errs->n + 1, sizeof(*v));
	if (v == NULL) {
		ld->err = -ENOMEM;
		return;
	}
	errs->v = v;

	/*
	 * File order, stable: a missing key is found when its section ends
	 * but is reported at the section's header, before the errors of the
	 * lines under it.
	 */
	i = errs->n;
	while (i > 0 && v[i - 1].line > line)
		i--;
	memmove(&v[i + 1], &v[i], (errs->n - i) * sizeof(*v));
	v[i].line = line;
	va_start(ap, fmt);
	vsnprintf(v[i].msg, sizeof(v[i].msg), fmt, ap);
	va_end(ap);
	errs->n++;
}

/* ---------------------------------------------------------------------
 * Sections
 * --------------------------------------------------------------------- */

static unsigned int
section_mask(const struct loader *ld)
{
	if (ld->sect == SECT_DAEMON)
		return IN_DAEMON;
	if (ld->sect == SECT_LIMITS)
		return IN_LIMITS;
	if (ld->sect == SECT_SHM)
		return IN_SHM;
	switch (ld->pol->entries[ld->entry].kind) {
	case POLICY_ZERO:
		return IN_ZERO;
	case POLICY_MEM:
		return IN_MEM;
	case POLICY_REGION:
		return IN_REGION;
	}
	return 0;
}

/* The end of a section: what needs every key of it. */
static void
loader_close_section(struct loader *ld)
{
	struct policy_entry *e;
	unsigned int mask, line;
	int k;

	if (ld->sect == SECT_SHM)
		loader_close_shm(ld);
	if (ld->sect != SECT_ENTRY)
		return;
	e = loader_entry(ld);
	mask = section_mask(ld);
	for (k = 0; k < KEY_NR; k++) {
		if ((policy_keys[k].required & mask) && ld->key_line[k] == 0)
			loader_error(ld, ld->sect_line,
			    "%s: missing required key '%s'", ld->label,
			    policy_keys[k].name);
	}
	loader_close_cache(ld, e);
	loader_close_raw(ld, e);
	if (e->kind != POLICY_REGION)
		return;
	/* A device that was wrong left e->device NULL: no second error. */
	if (e->device != NULL && !loader_close_device(ld, e))
		return;
	if (ld->key_line[KEY_MAX_SIZE] == 0)
		e->max_size = e->size ? e->size : UINT64_MAX;
	/*
	 * base + size must itself be a 64-bit number, so that the daemon
	 * can add them without a second thought.  A key that was wrong left
	 * its field 0, which cannot overflow: no second error for it.
	 */
	if (e->size > UINT64_MAX - e->base) {
		line = ld->key_line[KEY_BASE] > ld->key_line[KEY_SIZE] ?
		    ld->key_line[KEY_BASE] : ld->key_line[KEY_SIZE];
		loader_error(ld, line, "%s: base %#" PRIx64 " + size %#" PRIx64
		    " overflows 64 bits", ld->label, e->base, e->size);
	}
}

static const struct policy_entry *
entry_lookup(const struct policy *pol, enum policy_kind kind,
    const char *name)
{
	size_t i;

	for (i = 0; i < pol->n_entries; i++) {
		if (pol->entries[i].kind == kind &&
		    strcmp(pol->entries[i].name, name) == 0)
			return &pol->entries[i];
	}
	return NULL;
}

/* A new section of an entry: a duplicate is reported, and read all the same. */
static void
loader_open_entry(struct loader *ld, enum policy_kind kind, const char *name)
{
	const struct policy_entry *first;
	int rc;

	first = entry_lookup(ld->pol, kind, name);
	if (first != NULL)
		loader_error(ld, ld->lineno, "duplicate section %s (first at "
		    "line %u)", ld->label, first->line);
	rc = policy_add_entry(ld->pol, kind, name, ld->lineno);
	if (rc < 0) {
		ld->err = rc;
		ld->sect = SECT_SKIP;
		return;
	}
	ld->sect = SECT_ENTRY;
	ld->entry = ld->pol->n_entries - 1;
}

/* s without leading and trailing white space, cut in place. */
static char *
trim(char *s)
{
	size_t n;

	s += strspn(s, WHITESPACE);
	n = strlen(s);
	while (n > 0 && strchr(WHITESPACE, s[n - 1]) != NULL)
		n--;
	s[n] = '\0';
	return s;
}

/* A header line: "[" inner "]", comments and outer space already gone. */
static void
loader_header(struct loader *ld, char *line)
{
	size_t n = strlen(line);
	char *inner, *name;

	loader_close_section(ld);
	memset(ld->key_line, 0, sizeof(ld->key_line));
	ld->sect = SECT_SKIP;
	ld->sect_line = ld->lineno;

	if (line[n - 1] != ']') {
		loader_error(ld, ld->lineno, "section header '%s' does not end "
		    "with ']'", line);
		return;
	}
	line[n - 1] = '\0';
	inner = trim(line + 1);
	snprintf(ld->label, sizeof(ld->label), "[%s]", inner);

	if (strcmp(inner, "daemon") == 0) {
		if (ld->daemon_line != 0)
			loader_error(ld, ld->lineno, "duplicate section [daemon] "
			    "(first at line %u)", ld->daemon_line);
		else
			ld->daemon_line = ld->lineno;
		ld->sect = SECT_DAEMON;
	} else if (strcmp(inner, "limits") == 0) {
		if (ld->limits_line != 0)
			loader_error(ld, ld->lineno, "duplicate section "
			    "[limits] (first at line %u)", ld->limits_line);
		else
			ld->limits_line = ld->lineno;
		ld->sect = SECT_LIMITS;
	} else if (strcmp(inner, "zero") == 0) {
		loader_open_entry(ld, POLICY_ZERO, "zero");
	} else if (strcmp(inner, "mem") == 0) {
		loader_open_entry(ld, POLICY_MEM, "mem");
	} else if (strncmp(inner, "region", 6) == 0 &&
	    (inner[6] == '\0' || strchr(WHITESPACE, inner[6]) != NULL)) {
		name = trim(inner + 6);
		if (*name == '\0') {
			loader_error(ld, ld->lineno, "section [region] needs a "
			    "name: [region NAME]");
			return;
		}
		snprintf(ld->label, sizeof(ld->label), "[region %s]", name);
		if (!policy_region_name_valid(name))
			loader_error(ld, ld->lineno, "%s: '%s' is not a region "
			    "name (1 to %d of A-Z a-z 0-9 _ . -)", ld->label,
			    name, REGION_NAME_MAX);
		else if (strcmp(name, "zero") == 0 || strcmp(name, "mem") == 0)
			loader_error(ld, ld->lineno, "%s: the name '%s' is "
			    "taken by [%s]", ld->label, name, name);
		loader_open_entry(ld, POLICY_REGION, name);
	} else if (strncmp(inner, "shm", 3) == 0 &&
	    (inner[3] == '\0' || strchr(WHITESPACE, inner[3]) != NULL)) {
		loader_open_shm(ld, trim(inner + 3));
	} else {
		loader_error(ld, ld->lineno, "unknown section %s (expected "
		    "[daemon], [limits], [zero], [mem], [region NAME] or "
		    "[shm NAME])", ld->label);
	}
}

/* ---------------------------------------------------------------------
 * inih's callbacks
 * --------------------------------------------------------------------- */

/*
 * inih's handler: one "key = value" line of the section being read.
 * section is inih's copy of the header, cut at 50 bytes and never set
 * here (the reader keeps headers from inih): the loader's own is used.
 * Always 1: every error is recorded here, never through inih.
 */
static int
loader_handle(void *user, const char *section, const char *name,
    const char *value)
{
	struct loader *ld = user;
	unsigned int mask;
	int k;

	(void)section;
	if (ld->err < 0 || ld->sect == SECT_SKIP)
		return 1;
	if (ld->sect == SECT_NONE) {
		loader_error(ld, ld->lineno, "key '%s' outside any section",
		    name);
		return 1;
	}
	mask = section_mask(ld);
	for (k = 0; k < KEY_NR; k++) {
		if (strcmp(name, policy_keys[k].name) == 0 &&
		    (policy_keys[k].where & mask))
			break;
	}
	if (k == KEY_NR) {
		loader_error(ld, ld->lineno, "unknown key '%s' in %s", name,
		    ld->label);
		return 1;
	}
	if (ld->key_line[k] != 0) {
		loader_error(ld, ld->lineno, "duplicate key '%s' in %s (first "
		    "at line %u)", name, ld->label, ld->key_line[k]);
		return 1;
	}
	ld->key_line[k] = ld->lineno;
	if (*value == '\0') {
		loader_error(ld, ld->lineno, "%s: no value", name);
		return 1;
	}
	policy_keys[k].set(ld, name, value);
	return 1;
}

/*
 * inih's reader: the next physical line, made canonical.  A key line
 * goes to inih as it is; anything else (blank, comment, header, error)
 * as an empty line, which inih skips.
 */
static char *
loader_read(char *str, int num, void *stream)
{
	struct loader *ld = stream;
	char *line, *end, *nl, *eq;
	size_t n;

	if (ld->pos >= ld->len)
		return NULL;
	line = ld->text + ld->pos;
	nl = memchr(line, '\n', ld->len - ld->pos);
	end = nl != NULL ? nl : ld->text + ld->len;
	ld->pos = (size_t)(end - ld->text) + (nl != NULL);
	ld->lineno++;
	*end = '\0';		/* text has a byte past len for the last line */
	str[0] = '\0';

	if (strlen(line) != (size_t)(end - line)) {
		loader_error(ld, ld->lineno, "line holds a NUL byte");
		return str;
	}
	if (ld->lineno == 1 && strncmp(line, "\xef\xbb\xbf", 3) == 0)
		line += 3;	/* a UTF-8 byte order mark */

	/* '#' and ';' start a comment anywhere, as the example file says. */
	line[strcspn(line, "#;")] = '\0';
	line = trim(line);
	n = strlen(line);
	if (n == 0)
		return str;
	if (line[0] == '[') {
		loader_header(ld, line);
		return str;
	}

	eq = strchr(line, '=');
	if (eq == NULL) {
		loader_error(ld, ld->lineno, "expected 'key = value' or "
		    "'[section]', not '%s'", line);
		return str;
	}
	if (eq == line) {
		loader_error(ld, ld->lineno, "missing key before '='");
		return str;
	}
	/* inih would split "a:b = c" at the ':'. */
	if (memchr(line, ':', (size_t)(eq - line)) != NULL) {
		*eq = '\0';
		loader_error(ld, ld->lineno, "'%s' is not a key name",
		    trim(line));
		return str;
	}
	/* inih's line buffer holds num bytes, newline and NUL included. */
	if (num < 2 || n > (size_t)num - 2) {
		loader_error(ld, ld->lineno, "line too long: %zu characters "
		    "without the comment, at most %d", n, num - 2);
		return str;
	}
	memcpy(str, line, n);
	str[n] = '\n';
	str[n + 1] = '\0';
	return str;
}

/* ---------------------------------------------------------------------
 * Loading
 * --------------------------------------------------------------------- */

/* The whole file into a malloc'd buffer with one spare byte at the end. */
static int
file_read(const char *path, char **textp, size_t *lenp)
{
	char *buf = NULL, *nbuf;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	for (;;) {
		if (cap - len < 2) {
			cap = cap != 0 ? cap * 2 : 4096;
			nbuf = realloc(buf, cap);
			if (nbuf == NULL) {
				err = -ENOMEM;
				goto fail;
			}
			buf = nbuf;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > POLICY_FILE_MAX) {
			err = -EFBIG;
			goto fail;
		}
	}
	close(fd);
	buf[len] = '\0';
	*textp = buf;
	*lenp = len;
	return 0;

fail:
	free(buf);
	close(fd);
	return err;
}

int
policy_text_read(const char *path, char **textp, size_t *lenp)
{
	return file_read(path, textp, lenp);
}

/* Parse ld->text (ld->len bytes, one spare byte after them). */
static int
loader_parse(struct loader *ld, struct policy **out)
{
	int rc;

	ld->pol = policy_alloc();
	if (ld->pol == NULL)
		return -ENOMEM;
	rc = ini_parse_stream(loader_read, ld, loader_handle, ld);
	loader_close_section(ld);
	loader_close_limits(ld);
	if (ld->err < 0)
		return ld->err;
	/*
	 * The handler never fails and the reader hands inih only valid
	 * lines, so inih has nothing to say but "out of memory" (-2); any
	 * other complaint means it read a line differently than the reader
	 * thought, and the file is not trusted.
	 */
	if (rc == -2)
		return -ENOMEM;
	if (rc != 0)
		loader_error(ld, rc > 0 ? (unsigned int)rc : 0,
		    "libinih could not parse this line");
	if (ld->err < 0)
		return ld->err;
	if (ld->errs->n > 0)
		return -EINVAL;
	*out = ld->pol;
	ld->pol = NULL;
	return 0;
}

int
policy_load(const char *path, struct policy **out,
    struct policy_errors *errs)
{
	struct policy_errors local = { NULL, 0 };
	struct loader ld;
	int rc;

	if (errs == NULL)
		errs = &local;
	errs->v = NULL;
	errs->n = 0;
	if (out == NULL || path == NULL)
		return -EINVAL;
	*out = NULL;

	memset(&ld, 0, sizeof(ld));
	ld.errs = errs;
	ld.sect = SECT_NONE;

	rc = file_read(path, &ld.text, &ld.len);
	if (rc < 0) {
		if (rc == -EFBIG)
			loader_error(&ld, 0, "%s: larger than %u bytes: not a "
			    "policy file", path, POLICY_FILE_MAX);
		else
			loader_error(&ld, 0, "cannot read %s: %s", path,
			    strerror(-rc));
		goto out;
	}
	rc = loader_parse(&ld, out);
out:
	policy_free(ld.pol);
	free(ld.text);
	policy_errors_free(&local);
	return rc;
}

int
policy_parse(const char *text, size_t len, struct policy **out,
    struct policy_errors *errs)
{
	struct policy_errors local = { NULL, 0 };
	struct loader ld;
	int rc;

	if (errs == NULL)
		errs = &local;
	errs->v = NULL;
	errs->n = 0;
	*out = NULL;
	if (len > POLICY_FILE_MAX)
		return -EFBIG;
	memset(&ld, 0, sizeof(ld));
	ld.errs = errs;
	ld.sect = SECT_NONE;
	/* The reader writes a NUL past the last line: a copy, one byte more. */
	ld.text = malloc(len + 1);
	if (ld.text == NULL)
		return -ENOMEM;
	memcpy(ld.text, text, len);
	ld.text[len] = '\0';
	ld.len = len;
	rc = loader_parse(&ld, out);
	policy_free(ld.pol);
	free(ld.text);
	policy_errors_free(&local);
	return rc;
}
