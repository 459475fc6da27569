/*
 * Logging to stderr, one line a message.  Under systemd (JOURNAL_STREAM
 * names our stderr) each line starts with a syslog priority, "<6>", so the
 * journal files it at the right level, and audit lines go to the journal
 * as structured entries (journal.c).  On a terminal, or when asked, lines
 * start with the time.
 */
#ifndef MMAPD_LOG_H
#define MMAPD_LOG_H

#define LOG_PRI_ERR	3
#define LOG_PRI_WARNING	4
#define LOG_PRI_NOTICE	5
#define LOG_PRI_INFO	6

void log_init(void);
/* Whether stderr is journald's stream (JOURNAL_STREAM names it). */
int log_to_journal_stream(void);
/*
 * Lines on a plain stderr start with the time (UTC, microseconds): by
 * default when stderr is a terminal; on asks for it (--log-timestamps).
 * Never under journald, which stamps them itself.
 */
void log_set_timestamps(int on);
/*
 * Where "audit: " lines go instead of stderr (journal.c): sink returns
 * 0 when it took the line, else the line goes to stderr.  NULL: none.
 */
void log_set_audit_sink(int (*sink)(int pri, const char *line));
void log_msg(int pri, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/*
 * on: lines of this thread to stderr are held (up to 4 KiB; an error
 * line is written at once, with those before it) until log_flush(),
 * which the worker's loop calls before it waits for events: one write(2)
 * a turn.  off: flushed, and written as they come again.  Lines the
 * journal takes (log_set_audit_sink()) are never held.
 */
void log_hold(int on);
void log_flush(void);
/*
 * The next line need not be written before the next packet goes to a
 * client: it tells of what is done already (a grant sent, a lease
 * ended).  Every other line held makes log_due() 1 until log_flush().
 */
void log_lazy(void);
int log_due(void);

#define log_err(...)	log_msg(LOG_PRI_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_PRI_WARNING, __VA_ARGS__)
#define log_notice(...)	log_msg(LOG_PRI_NOTICE, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_PRI_INFO, __VA_ARGS__)

/*
 * A value safe inside a key=value line: quoted when it needs to be,
 * control bytes and quotes escaped, and cut to fit buf (len bytes, at
 * least 24) with the bytes left out counted: "abc"+3997.  Returns s
 * when it is plain and fits, else buf.
 */
const char *log_quote(const char *s, char *buf, unsigned int len);

#endif /* MMAPD_LOG_H */
