/*
 * Telling the service manager how we are (sd_notify(3)), from the
 * monitor, mmapd's main process: READY=1 once
 * clients are served, RELOADING=1 and READY=1 around a SIGHUP, STOPPING=1
 * on SIGTERM, and STATUS= lines for "systemctl status".
 *
 * With libsystemd at configure time its sd_notify() sends them.  Without,
 * notify_open() connects one datagram socket to $NOTIFY_SOCKET at
 * start-up, before the sandbox, and each message is one sendmsg() on it.
 * Without $NOTIFY_SOCKET every call does nothing.
 */
#ifndef MMAPD_NOTIFY_H
#define MMAPD_NOTIFY_H

/*
 * Read $NOTIFY_SOCKET.  0 when it is usable or unset; a negative errno
 * (logged) when it is set but unusable: mmapd goes on without telling.
 */
int notify_open(void);
void notify_close(void);

/*
 * In the worker, which the service manager does not listen to
 * (NotifyAccess=main): every message goes to fn instead, which passes
 * it to the monitor (monitor.c says which lines it forwards).
 */
void notify_relay(int (*fn)(const char *msg));

/* Whether there is anyone to tell. */
int notify_enabled(void);

/*
 * Send one message: newline-separated VARIABLE=value lines.  0, or a
 * negative errno; the first failure is logged, later ones are not.
 */
int notify_send(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* RELOADING=1 with MONOTONIC_USEC=now, as systemd 253 wants it, and a STATUS=. */
int notify_reloading(const char *status);

#endif /* MMAPD_NOTIFY_H */
