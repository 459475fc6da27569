/*
 * mmapctl: what it prints.  The one line of a failure, JSON strings, and
 * the names of the library's values.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "mmapctl.h"

const char *
errno_name(int e)
{
	const char *name = NULL;

#if defined(__GLIBC__)
#if __GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32)
	name = strerrorname_np(e);
#endif
#endif
	return name ? name : "E?";
}

const char *
text_str(const char *s, char *buf, size_t cap)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < cap; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	buf[i] = '\0';
	return buf;
}

void
fail_line(int err, const char *what, const char *fmt, ...)
{
	char msg[1024], w[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fflush(stdout);
	fprintf(stderr, "mmapctl: %s: %s (%s, errno %d): %s\n",
	    text_str(what, w, sizeof(w)), strerror(-err), errno_name(-err),
	    -err, text_str(msg, msg, sizeof(msg)));
}

/*
 * Not an errno: the request was never made.  The message, then how the
 * command is used, as getopt-style tools do.
 */
void
usage_fail(const char *what, const char *fmt, ...)
{
	const char *syn = usage_cmd ? usage_synopsis(usage_cmd) : NULL;
	char msg[512], w[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fflush(stdout);
	fprintf(stderr, "mmapctl: %s: %s\n", text_str(what, w, sizeof(w)),
	    text_str(msg, msg, sizeof(msg)));
	if (syn != NULL)
		fprintf(stderr, "usage: mmapctl [-s PATH] [--json] %s\n", syn);
	else
		fprintf(stderr, "usage: mmapctl [-s PATH] [--json] COMMAND "
		    "[ARGS] (mmapctl --help lists them)\n");
	exit(EXIT_USAGE);
}

void
json_str(const char *s)
{
	const unsigned char *p;

	if (s == NULL) {
		fputs("null", stdout);
		return;
	}
	putchar('"');
	for (p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", stdout);
			break;
		case '\\':
			fputs("\\\\", stdout);
			break;
		case '\n':
			fputs("\\n", stdout);
			break;
		case '\r':
			fputs("\\r", stdout);
			break;
		case '\t':
			fputs("\\t", stdout);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				printf("\\u%04x", *p);
			else
				putchar(*p);
		}
	}
	putchar('"');
}

const char *
kind_name(enum mmapclient_kind kind)
{
	switch (kind) {
	case MMAPCLIENT_KIND_ANON:
		return "anon";
	case MMAPCLIENT_KIND_SHMEM:
		return "shmem";
	case MMAPCLIENT_KIND_DEVICE:
		return "device";
	}
	return "unknown";
}

const char *
cache_name(enum mmapclient_cache cache)
{
	switch (cache) {
	case MMAPCLIENT_CACHE_DEFAULT:
		return "default";
	case MMAPCLIENT_CACHE_CACHED:
		return "cached";
	case MMAPCLIENT_CACHE_UNCACHED:
		return "uncached";
	case MMAPCLIENT_CACHE_WC:
		return "wc";
	}
	return "unknown";
}

const char *
prot_name(int prot)
{
	return prot & PROT_WRITE ? "rw" : "r";
}

const char *
offer_kind_name(enum mmapclient_offer_kind kind)
{
	switch (kind) {
	case MMAPCLIENT_OFFER_DEVICE:
		return "device";
	case MMAPCLIENT_OFFER_REGION:
		return "region";
	case MMAPCLIENT_OFFER_SHM:
		return "shm";
	}
	return "unknown";
}
