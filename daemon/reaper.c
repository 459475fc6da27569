/*
 * The reaper thread: a ring of fds under one mutex, closed in the order
 * they came.  See reaper.h.
 *
 * The thread does nothing but wait and close: with every signal blocked
 * it never runs a handler of the loop's, and close() is not interrupted.
 * It is not joined at exit: a close still blocked then is the kernel's
 * to end with the process.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "reaper.h"

static struct {
	pthread_mutex_t lock;
	pthread_cond_t more;		/* the ring is no longer empty */
	pthread_cond_t up;		/* the thread runs */
	int ring[REAPER_MAX];
	size_t head, len;		/* next to close, how many wait */
	int running;
} r = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.more = PTHREAD_COND_INITIALIZER,
	.up = PTHREAD_COND_INITIALIZER,
};

static void *
reaper_main(void *arg)
{
	int fd;

	(void)arg;
	pthread_mutex_lock(&r.lock);
	r.running = 1;
	pthread_cond_signal(&r.up);
	for (;;) {
		while (r.len == 0)
			pthread_cond_wait(&r.more, &r.lock);
		fd = r.ring[r.head];
		/*
		 * The place stays taken while the close runs, so a stuck
		 * close counts against the bound like any fd waiting.
		 */
		pthread_mutex_unlock(&r.lock);
		close(fd);
		pthread_mutex_lock(&r.lock);
		r.head = (r.head + 1) % REAPER_MAX;
		r.len--;
	}
	return NULL;
}

int
reaper_start(void)
{
	pthread_attr_t attr;
	pthread_t t;
	sigset_t all, old;
	int rc;

	if (r.running)
		return 0;
	rc = pthread_attr_init(&attr);
	if (rc)
		return -rc;
	/* A small stack: it calls close() and waits. */
	rc = pthread_attr_setstacksize(&attr, 64 * 1024);
	if (rc == 0)
		rc = pthread_attr_setdetachstate(&attr,
		    PTHREAD_CREATE_DETACHED);
	sigfillset(&all);
	if (rc == 0)
		rc = pthread_sigmask(SIG_SETMASK, &all, &old);
	if (rc == 0) {
		rc = pthread_create(&t, &attr, reaper_main, NULL);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	pthread_attr_destroy(&attr);
	if (rc) {
		log_err("reaper: cannot start its thread: %s", strerror(rc));
		return -rc;
	}
	/*
	 * Wait for it to run: its start-up calls (set_robust_list, rseq,
	 * ...) must be made before the seccomp filter, which forbids them.
	 */
	pthread_mutex_lock(&r.lock);
	while (!r.running)
		pthread_cond_wait(&r.up, &r.lock);
	pthread_mutex_unlock(&r.lock);
	return 0;
}

size_t
reaper_room(void)
{
	size_t n;

	pthread_mutex_lock(&r.lock);
	n = r.running ? REAPER_MAX - r.len : 0;
	pthread_mutex_unlock(&r.lock);
	return n;
}

int
reaper_give(const int *fds, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	pthread_mutex_lock(&r.lock);
	if (!r.running || n > REAPER_MAX - r.len) {
		pthread_mutex_unlock(&r.lock);
		return -ENOSPC;
	}
	for (i = 0; i < n; i++)
		r.ring[(r.head + r.len + i) % REAPER_MAX] = fds[i];
	r.len += n;
	pthread_cond_signal(&r.more);
	pthread_mutex_unlock(&r.lock);
	return 0;
}
