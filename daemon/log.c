#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_CUT	" ...(line cut)"
#define LOG_LINE_MAX	1024	/* a message, its NUL included */
#define LOG_PREFIX_MAX	64	/* [a time stamp] "mmapd: ", or "<PRI>" */

static int log_journal;
static int log_stamps;		/* lines start with the time */
static int (*log_audit)(int, const char *);

/*
 * Lines held by the worker's loop for the rest of its turn (log_hold()):
 * a turn that grants to many clients writes their lines with one
 * write(2), not one each.  Only the thread that holds appends; any other
 * (the reaper's, should it ever log) writes at once.  At most PIPE_BUF
 * bytes go in one write, so that on a pipe it lands whole, never
 * between the monitor's lines.
 */
#define LOG_HOLD_MAX	PIPE_BUF
static struct {
	char buf[LOG_HOLD_MAX];
	size_t len;
	int on;
	int due;	/* a line held must go before the next packet */
	pthread_t thread;
} log_held;
static int log_lazy_next;	/* see log_lazy() */

/* JOURNAL_STREAM is "DEV:INODE" of the stream systemd gave us. */
void
log_init(void)
{
	unsigned long long dev, ino;
	const char *js = getenv("JOURNAL_STREAM");
	struct stat st;

	log_journal = 0;
	/* A person watching a terminal wants to know when. */
	log_stamps = isatty(STDERR_FILENO);
	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return;
	if (fstat(STDERR_FILENO, &st) < 0)
		return;
	log_journal = (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
	/* The journal stamps each line itself. */
	if (log_journal)
		log_stamps = 0;
}

int
log_to_journal_stream(void)
{
	return log_journal;
}

void
log_set_timestamps(int on)
{
	if (!log_journal)
		log_stamps = on;
}

void
log_set_audit_sink(int (*sink)(int pri, const char *line))
{
	log_audit = sink;
}

/* "2026-12-06T09:51:16.123456Z ": UTC, so no time zone file is read. */
static const char *
log_stamp(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	if (clock_gettime(CLOCK_REALTIME, &ts) < 0 ||
	    gmtime_r(&ts.tv_sec, &tm) == NULL)
		return "";
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	if (n == 0)
		return "";
	snprintf(buf + n, len - n, ".%06ldZ ", ts.tv_nsec / 1000);
	return buf;
}

/* All of buf to stderr, or as much as it takes before an error. */
static void
log_write(const char *buf, size_t len)
{
	size_t done = 0;
	ssize_t w;

	while (done < len) {
		w = write(STDERR_FILENO, buf + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		done += (size_t)w;
	}
}

/*
 * One line: its prefix ("mmapd: " after the time when asked, or "<PRI>"
 * for the journal's stream), the message and a newline, formatted once
 * into one buffer and written with one write(2), so that lines from a
 * dying process are whole.  (A second pass through stdio, the line
 * copied into stderr's, was about a fifth of what an audit line cost,
 * written to /dev/null.)
 */
void
log_msg(int pri, const char *fmt, ...)
{
	char out[LOG_PREFIX_MAX + LOG_LINE_MAX + 1], *line, stamp[40];
	int n, lazy = log_lazy_next;
	va_list ap;
	size_t len;

	log_lazy_next = 0;
	if (log_journal)
		n = snprintf(out, LOG_PREFIX_MAX, "<%d>", pri);
	else
		n = snprintf(out, LOG_PREFIX_MAX, "%smmapd: ", log_stamps ?
		    log_stamp(stamp, sizeof(stamp)) : "");
	if (n < 0 || n >= LOG_PREFIX_MAX)
		return;
	line = out + n;
	va_start(ap, fmt);
	n = vsnprintf(line, LOG_LINE_MAX, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	/*
	 * Never for an audit line, whose client strings are cut to fit
	 * (log_quote); but a line cut here says so at its end.
	 */
	if (n >= LOG_LINE_MAX) {
		memcpy(line + LOG_LINE_MAX - sizeof(LOG_CUT), LOG_CUT,
		    sizeof(LOG_CUT));
		n = LOG_LINE_MAX - 1;
	}
	/* An audit record the journal took as an entry of its own. */
	if (log_audit != NULL && strncmp(line, "audit: ", 7) == 0 &&
	    log_audit(pri, line) == 0)
		return;
	line[n] = '\n';
	len = (size_t)(line - out) + (size_t)n + 1;
	if (log_held.on && pthread_equal(pthread_self(), log_held.thread)) {
		if (log_held.len + len > sizeof(log_held.buf))
			log_flush();
		memcpy(log_held.buf + log_held.len, out, len);
		log_held.len += len;
		if (!lazy)
			log_held.due = 1;
		/* An error may be the last word before an exit. */
		if (pri <= LOG_PRI_ERR)
			log_flush();
		return;
	}
	log_write(out, len);
}

void
log_hold(int on)
{
	static int at_exit;

	if (!on)
		log_flush();
	/* An exit(3) from inside the loop still writes what is held. */
	if (on && !at_exit && atexit(log_flush) == 0)
		at_exit = 1;
	log_held.thread = pthread_self();
	log_held.on = on;
}

void
log_flush(void)
{
	log_held.due = 0;
	if (log_held.len == 0)
		return;
	log_write(log_held.buf, log_held.len);
	log_held.len = 0;
}

void
log_lazy(void)
{
	log_lazy_next = 1;
}

int
log_due(void)
{
	return log_held.due;
}

/* Bytes c takes once escaped: \" \\ \xNN, or itself. */
static unsigned int
quote_width(unsigned char c)
{
	if (c == '"' || c == '\\')
		return 2;
	if (c < ' ' || c >= 0x7f)
		return 4;
	return 1;
}

static unsigned int
quote_digits(size_t n)
{
	unsigned int d = 1;

	while (n >= 10) {
		n /= 10;
		d++;
	}
	return d;
}

/*
 * Client-chosen strings (names) go into audit lines: quote them, escape
 * anything that could forge a field or a line, and cut them to fit len,
 * so that the fields after them stay on the line (log_msg's lines are
 * 1024 bytes).  A cut value is its quoted start and then +N, the bytes
 * of the string left out: device="aaa...a"+3937.  A client cannot write
 * that itself: its own quotes come out escaped.
 */
const char *
log_quote(const char *s, char *buf, unsigned int len)
{
	size_t n = strlen(s), done;
	unsigned int i = 0, need = 2, room, w;
	int plain = n > 0;
	const char *p;
	unsigned char c;

	for (p = s; *p; p++) {
		w = quote_width((unsigned char)*p);
		if (w > 1 || *p == ' ' || *p == '=')
			plain = 0;
		if (need < len)
			need += w;
	}
	if (plain && n < len)
		return s;
	/* The quotes, +N at most, the NUL. */
	if (len < 4 + quote_digits(n))
		return "\"\"+?";
	room = need + 1 <= len ? len - 1 : len - 2 - quote_digits(n);
	buf[i++] = '"';
	for (p = s; *p; p++) {
		c = (unsigned char)*p;
		w = quote_width(c);
		if (i + w + 1 > room)
			break;	/* an escape is never split */
		if (w == 4) {
			snprintf(buf + i, 5, "\\x%02x", c);
		} else if (w == 2) {
			buf[i] = '\\';
			buf[i + 1] = (char)c;
		} else {
			buf[i] = (char)c;
		}
		i += w;
	}
	buf[i++] = '"';
	done = (size_t)(p - s);
	if (done < n)
		i += (unsigned int)snprintf(buf + i, len - i, "+%zu", n - done);
	buf[i] = '\0';
	return buf;
}
