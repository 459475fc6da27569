/*
 * The harnesses' shared helpers: the failed-contract report and the
 * quiet stderr (see fuzz.h).
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz.h"

/* Where sanitizer reports go; weak, so a plain build links without. */
void __sanitizer_set_report_fd(void *fd) __attribute__((weak));
/* ASan calls it as it starts a report: the real stderr back first. */
void __asan_on_error(void);

static int real_stderr = -1;	/* a copy of the first stderr */
static int null_fd = -1;
static int quiet;

static int
quiet_setup(void)
{
	if (real_stderr >= 0)
		return 0;
	if (getenv("MMAPD_FUZZ_VERBOSE") != NULL)
		return -1;
	real_stderr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (real_stderr < 0 || null_fd < 0) {
		perror("fuzz: cannot set up a quiet stderr");
		abort();
	}
	if (__sanitizer_set_report_fd != NULL)
		__sanitizer_set_report_fd((void *)(intptr_t)real_stderr);
	return 0;
}

void
fuzz_quiet_begin(void)
{
	if (quiet_setup() < 0)
		return;
	fflush(stderr);
	if (dup2(null_fd, STDERR_FILENO) < 0)
		abort();
	quiet = 1;
}

void
fuzz_quiet_end(void)
{
	if (!quiet)
		return;
	fflush(stderr);
	if (dup2(real_stderr, STDERR_FILENO) < 0)
		abort();
	quiet = 0;
}

void
__asan_on_error(void)
{
	fuzz_quiet_end();
}

void
fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list ap;

	fuzz_quiet_end();
	fprintf(stderr, "%s:%d: contract broken: %s: ", file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	abort();
}

void
fuzz_data_path(char *buf, size_t len, const char *name)
{
	const char *dir = getenv("MMAPD_TEST_DATA");

	if (dir == NULL || dir[0] == '\0')
		dir = FUZZ_DATA_DIR;
	if ((size_t)snprintf(buf, len, "%s/%s", dir, name) >= len) {
		fprintf(stderr, "fuzz: path %s/%s too long\n", dir, name);
		abort();
	}
}

int
fuzz_fd_count(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	FUZZ_ASSERT(dir != NULL, "cannot list /proc/self/fd");
	while ((de = readdir(dir)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}
