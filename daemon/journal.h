/*
 * Audit lines as structured journal entries (mmapd(8), JOURNAL FIELDS).
 *
 * Under journald (JOURNAL_STREAM names our stderr) or when asked
 * (--log-journal), every "audit: key=value ..." line goes to the
 * journal as one entry: MESSAGE is the line as it stands on stderr,
 * MESSAGE_ID says the event's kind, and each key=value of the line
 * becomes a field MMAPD_KEY with the value unquoted, so that
 * "journalctl MESSAGE_ID=... MMAPD_UID=1000" finds a user's grants.
 * Any other line stays on stderr.
 *
 * The datagram socket is made before the sandbox and never connected:
 * each entry is one sendmsg() naming journald's socket, so a journald
 * that restarts is found again.  The socket blocks when journald falls
 * behind: an audit line waits rather than being lost.  An entry that
 * cannot be sent goes to stderr as a line.  Not sd_journal_sendv(),
 * even with libsystemd: it reports success when journald's socket does
 * not exist (systemd 252, journal-send.c), and the line would be lost.
 */
#ifndef MMAPD_JOURNAL_H
#define MMAPD_JOURNAL_H

/* The test seam: journald's socket at another path (mmapd(8)). */
#define JOURNAL_TEST_SEAM	"MMAPD_TEST_JOURNAL_SOCKET"

/*
 * Send audit lines to the journal when stderr is journald's stream, or
 * always when force.  0, or a negative errno (logged): lines stay on
 * stderr then.
 */
int journal_open(int force);
void journal_close(void);

#endif /* MMAPD_JOURNAL_H */
