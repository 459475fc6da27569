#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

static int log_journal;

/* JOURNAL_STREAM is "DEV:INODE" of the stream systemd gave us. */
void
log_init(void)
{
	unsigned long long dev, ino;
	const char *js = getenv("JOURNAL_STREAM");
	struct stat st;

	log_journal = 0;
	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return;
	if (fstat(STDERR_FILENO, &st) < 0)
		return;
	log_journal = (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_msg(int pri, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	/* One write a line, so lines from a dying process are whole. */
	if (log_journal)
		fprintf(stderr, "<%d>%s\n", pri, line);
	else
		fprintf(stderr, "mmapd: %s\n", line);
	fflush(stderr);
}

/*
 * Client-chosen strings (names) go into audit lines: quote them and
 * escape anything that could forge a field or a line.
 */
const char *
log_quote(const char *s, char *buf, unsigned int len)
{
	unsigned int i = 0;
	int plain = *s != '\0';
	const char *p;

	for (p = s; *p; p++)
		if (*p <= ' ' || *p == '"' || *p == '\\' || *p == '=' ||
		    (unsigned char)*p >= 0x7f)
			plain = 0;
	if (plain)
		return s;
	if (len < 3)
		return "\"\"";
	buf[i++] = '"';
	for (p = s; *p && i + 5 < len; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '"' || c == '\\') {
			buf[i++] = '\\';
			buf[i++] = (char)c;
		} else if (c < ' ' || c >= 0x7f) {
			i += (unsigned int)snprintf(buf + i, len - i, "\\x%02x", c);
		} else {
			buf[i++] = (char)c;
		}
	}
	buf[i++] = '"';
	buf[i] = '\0';
	return buf;
}
