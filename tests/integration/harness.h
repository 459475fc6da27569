/*
 * The integration tests' harness: a real mmapd on a socket in a
 * temporary folder, what it logged, how many fds it holds, a raw
 * protocol client for hostile input, and mmapctl run as a child, as
 * root or as uid 65534.
 *
 * Criterion runs each test in a worker process of its own; every test
 * starts its own daemon (h_start) and stops it (h_stop), which checks
 * that it exited 0 with no sanitizer report.  h_cleanup, the suites'
 * .fini, kills whatever a failed test left running, shows the daemon's
 * log when the test did not stop it cleanly, and removes the folder.
 *
 * Every wait is bounded (H_WAIT_MS); a helper that cannot do its job
 * fails the test on the spot.
 *
 * Environment (set by make check): MMAPD_BIN, MMAPCTL_BIN and
 * MMAPD_TEST_DATA.  MMAPD_TEST_SECCOMP=log starts every mmapd with
 * --seccomp=log, to find what the allow-list lacks (dmesg, type=1326).
 */
#ifndef MMAPD_TESTS_HARNESS_H
#define MMAPD_TESTS_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mmapclient.h"
#include "mmapd.pb-c.h"

#define H_WAIT_MS	5000	/* the longest any single wait may take */
#define H_NOBODY	65534	/* the uid and gid mmapctl runs as when switched */
/*
 * The user mmapd drops to when the tests run as root (h_start passes
 * --user): the build machines have no mmapd user.  Its uid is H_NOBODY,
 * so a test that needs a user other than the daemon's uses H_OTHER.
 */
#define H_DAEMON_USER	"nobody"
#define H_OTHER		65533	/* a uid no one uses: neither mmapd nor nobody */

typedef Mmapd__V1__Request Request;
typedef Mmapd__V1__Reply Reply;

/* The suites' .fini: never asserts. */
void	 h_cleanup(void);

/* ----------------------------------------------------------------------
 * The temporary folder
 * ---------------------------------------------------------------------- */

/* The folder (mode 0755, so uid 65534 reaches the socket); made on first use. */
const char *h_dir(void);
/* DIR/name into a buffer of its own (a few are kept in rotation). */
const char *h_path(const char *name);
/* Write text to DIR/name; returns its path. */
const char *h_write(const char *name, const char *text);
/* A whole file, malloc'd ("" when it cannot be read). */
char	*h_read(const char *path);
/* "$MMAPD_TEST_DATA/name". */
const char *h_data(const char *name);
/* A sparse file of size bytes at DIR/name; returns its path. */
const char *h_sparse(const char *name, uint64_t size);

/* ----------------------------------------------------------------------
 * The daemon
 * ---------------------------------------------------------------------- */

/*
 * Start mmapd on DIR/mmapd.sock with stderr to DIR/mmapd.log.  conf is
 * the text of DIR/mmapd.conf, passed with -c; NULL starts it without -c,
 * on its built-in default (the test is skipped if the default file
 * exists on this machine).  Returns once the socket accepts a connection;
 * fails the test with the log when the daemon dies first.
 */
void	 h_start(const char *conf);
/* The same with extra arguments (NULL-terminated) after -s SOCK. */
void	 h_start_args(const char *conf, const char *const *extra);
/*
 * h_start with JOURNAL_STREAM naming the log file, as systemd names the
 * journal's stream: mmapd then starts each line with a syslog priority.
 */
void	 h_start_journal(const char *conf);
/* h_start with the daemon's RLIMIT_NOFILE set to nofile. */
void	 h_start_limited(const char *conf, int nofile);
/* Both (a --user among extra wins over the harness's). */
void	 h_start_limited_args(const char *conf, int nofile,
	    const char *const *extra);

/*
 * For the next h_start* or h_run_mmapd only: NAME=VALUE in mmapd's
 * environment (NOTIFY_SOCKET, ...; at most 8; the strings must outlive
 * the start).  Set after LISTEN_FDS and LISTEN_PID, so it may override
 * them.
 */
void	 h_next_env(const char *name, const char *value);
/*
 * For the next h_start* or h_run_mmapd only: pass fds as systemd passes
 * sockets: they become mmapd's fds 3.., with LISTEN_FDS=n and LISTEN_PID
 * mmapd's pid (or, when wrong_pid, the test's).  The test keeps its fds.
 */
#define H_MAX_LISTEN	4
void	 h_next_listen_fds(const int *fds, int n, int wrong_pid);

/*
 * Run mmapd with these arguments (NULL-terminated) to its end, its
 * stderr and stdout to DIR/name.out; returns its wait status.  For
 * --check-config and start-up failures.
 */
int	 h_run_mmapd(const char *name, const char *const *argv, char **output);
/* The same, but returns at once: the child's pid, tracked (h_track). */
pid_t	 h_spawn_mmapd(const char *name, const char *const *argv);

const char *h_sock(void);
/* mmapd's main process: the monitor, which signals go to. */
pid_t	 h_pid(void);
/*
 * The worker: the monitor's child, which serves the clients and holds
 * the devices (waits for it, H_WAIT_MS).  h_fds() counts its fds.
 */
pid_t	 h_worker_pid(void);
int	 h_alive(void);
void	 h_signal(int sig);
/* Rewrite DIR/mmapd.conf (for SIGHUP). */
void	 h_rewrite_conf(const char *conf);

/*
 * SIGTERM, wait for the exit (H_WAIT_MS), assert exit status 0 and no
 * sanitizer report in the log.
 */
void	 h_stop(void);
/* The same for another signal (SIGINT). */
void	 h_stop_with(int sig);
/* The default config path the daemon reads without -c (from --help). */
const char *h_default_conf_path(void);

/* ----------------------------------------------------------------------
 * The daemon's fds and log
 * ---------------------------------------------------------------------- */

int	 h_fds(void);			/* entries of /proc/WORKER/fd */
int	 h_self_fds(void);		/* of this process */
/* Wait until the daemon holds want fds; returns what it holds last. */
int	 h_fds_wait(int want);

char	*h_log(void);			/* the whole log, malloc'd */
/* Lines of the log holding every needle (NULL-terminated list). */
int	 h_log_count_v(const char *const *needles);
#define h_log_count(...) \
	h_log_count_v((const char *const[]){ __VA_ARGS__, NULL })
/* The first such line (malloc'd), or NULL. */
char	*h_log_line_v(const char *const *needles);
#define h_log_line(...) \
	h_log_line_v((const char *const[]){ __VA_ARGS__, NULL })
/* Wait until at least n lines hold every needle; returns how many do. */
int	 h_log_wait_v(int n, const char *const *needles);
#define h_log_wait(n, ...) \
	h_log_wait_v((n), (const char *const[]){ __VA_ARGS__, NULL })
/* Fail the test, showing the log, unless a line holds every needle. */
#define h_log_expect(...) \
	h_log_expect_v(__FILE__, __LINE__, \
	    (const char *const[]){ __VA_ARGS__, NULL })
void	 h_log_expect_v(const char *file, int line, const char *const *needles);
/* "pid=N " with the trailing space, so pid=12 does not match pid=123. */
const char *h_pidf(pid_t pid);

/* ----------------------------------------------------------------------
 * libmmapclient
 * ---------------------------------------------------------------------- */

struct mmapclient *h_connect(void);
/* Status from a connection of its own. */
uint32_t h_status_leases(void);
uint32_t h_status_clients(void);
/* Wait until Status says want leases (or clients); returns the last value. */
uint32_t h_leases_wait(uint32_t want);
uint32_t h_clients_wait(uint32_t want);
/*
 * The same through the connection c, which opens none of its own: the
 * count includes c.  Connections the daemon has not yet seen close
 * still count, so wait for the number before counting its fds.
 */
uint32_t h_clients_wait_on(struct mmapclient *c, uint32_t want);
uint32_t h_leases_wait_on(struct mmapclient *c, uint32_t want);
/* Every byte of [p, p + n) equals v. */
int	 h_all(const void *p, size_t n, uint8_t v);

/* ----------------------------------------------------------------------
 * The raw protocol client (proto/wire.h and the generated code)
 * ---------------------------------------------------------------------- */

int	 raw_connect(void);
/* As uid and gid (root only): the daemon sees them in SO_PEERCRED. */
int	 raw_connect_as(uid_t uid, gid_t gid);
/* As raw_connect_as, the connecting process in groups[0..n) besides. */
int	 raw_connect_as_groups(uid_t uid, gid_t gid, const gid_t *groups,
	    int n);
/*
 * After h_stop(): the socket mmapd bound itself is gone, or, where its
 * dropped user may not remove it (the test's root-owned folder), it says
 * so and nothing answers there.
 */
void	 h_own_socket_gone(void);
/* Try to connect: 0 when it does (closed again), else the -errno. */
int	 raw_connect_errno(void);
/* Pack and send; fails the test when the send fails. */
void	 raw_send(int fd, const Request *req);
/* Send bytes as one packet, with nfds fds in SCM_RIGHTS; 0 or -errno. */
int	 raw_send_bytes(int fd, const void *buf, size_t len, const int *fds,
	    size_t nfds);
/*
 * Receive one reply (H_WAIT_MS).  NULL when the daemon closed the
 * connection; *err then 0 (end of stream) or the socket's -errno.  A
 * reply's fd goes to *rfd (-1 when none; rfd may be NULL: then any fd
 * fails the test).  Fails the test on a timeout or an undecodable reply.
 */
Reply	*raw_recv(int fd, int *rfd, int *err);
/* raw_send then raw_recv, failing the test when the daemon hangs up. */
Reply	*raw_call(int fd, const Request *req, int *rfd);
/* Wait for the end of the stream: 1 when closed, 0 on a timeout. */
int	 raw_closed(int fd, int ms);
void	 raw_hello(int fd);
Reply	*raw_map(int fd, uint64_t id, const char *device, uint64_t offset,
	    uint64_t size, int shared, int write, const char *region, int *rfd);
Reply	*raw_status(int fd, uint64_t id);
/* Read and Write as the wire has them, with any width, offset or value. */
Reply	*raw_read(int fd, uint64_t id, const char *device, uint64_t offset,
	    uint32_t width);
Reply	*raw_write(int fd, uint64_t id, const char *device, uint64_t offset,
	    uint32_t width, uint64_t value);
/*
 * A client process as uid 65534 ("stubborn") holding n_leases leases of
 * size bytes of private zero, its Hello with events when asked, that
 * never releases them and never reads: it waits until killed.  Its pid,
 * tracked (h_track); the first lease's id in *lease, the others after.
 */
pid_t	 h_holder(uint64_t *lease, int n_leases, uint64_t size, int events);
/* A Modify: clear, then set, in one request. */
Reply	*raw_modify(int fd, uint64_t id, const char *device, uint64_t offset,
	    uint32_t width, uint64_t clear, uint64_t set);
void	 reply_free(Reply *r);

/* ----------------------------------------------------------------------
 * mmapctl
 * ---------------------------------------------------------------------- */

#define CTL_ROOT	0
#define CTL_NOBODY	1	/* setpriv --reuid=65534 --regid=65534 --clear-groups */
#define CTL_NOBODY_70	2	/* the same in 70 supplementary groups, 1001-1070 */

struct ctl {
	int status;		/* exit code, or 128 + signal */
	char *out;		/* stdout */
	char *err;		/* stderr */
};

/* Skip the test unless mmapctl can run as uid 65534 here. */
void	 ctl_need_nobody(void);

/*
 * Run MMAPCTL_BIN --socket SOCK ARGS... (NULL-terminated) to its end
 * (H_WAIT_MS, then it is killed and the test fails).
 */
void	 ctl_run_v(struct ctl *r, int who, const char *const *args);
#define ctl_run(r, who, ...) \
	ctl_run_v((r), (who), (const char *const[]){ __VA_ARGS__, NULL })
void	 ctl_free(struct ctl *r);
/* The same for another program, run as it is (no --socket added). */
void	 h_run_v(struct ctl *r, const char *prog, int who,
	    const char *const *args);
#define h_run(r, prog, who, ...) \
	h_run_v((r), (prog), (who), (const char *const[]){ __VA_ARGS__, NULL })

/* A mmapctl left running (map --hold). */
struct ctl_bg {
	pid_t pid;
	char out[256];		/* its stdout's file */
	char err[256];		/* its stderr's file */
};

void	 ctl_spawn_v(struct ctl_bg *b, int who, const char *const *args);
/* The same for another program, run as it is (no --socket added). */
void	 h_spawn_v(struct ctl_bg *b, const char *prog, int who,
	    const char *const *args);
#define ctl_spawn(b, who, ...) \
	ctl_spawn_v((b), (who), (const char *const[]){ __VA_ARGS__, NULL })
/* Wait until its stdout holds needle; fails the test with its output if not. */
void	 ctl_bg_wait(struct ctl_bg *b, const char *needle);
/* Send sig (0: none), wait for the end, collect what it printed. */
void	 ctl_bg_stop(struct ctl_bg *b, int sig, struct ctl *r);

/* ----------------------------------------------------------------------
 * Children of the test
 * ---------------------------------------------------------------------- */

/* Remember a child so h_cleanup kills it if the test fails. */
void	 h_track(pid_t pid);
void	 h_untrack(pid_t pid);
/* Wait for a child (H_WAIT_MS); its wait status, or -1 on a timeout. */
int	 h_wait(pid_t pid, int ms);

/* Milliseconds on the monotonic clock. */
int64_t	 h_now_ms(void);
void	 h_sleep_ms(int ms);

#endif /* MMAPD_TESTS_HARNESS_H */
