/*
 * What a server process spent, from /proc: its CPU (utime + stime in
 * /proc/PID/stat, every thread's) and memory (smaps_rollup), summed over
 * it and its children, so that a daemon split into a monitor and the
 * worker that serves is measured whole.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

typedef int proc_fn(pid_t pid, uint64_t *a, uint64_t *b);

/* utime and stime: fields 14 and 15, after the ")" ending the name. */
static int
proc_cpu(pid_t pid, uint64_t *ticks, uint64_t *unused)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	FILE *f;
	size_t n;

	(void)unused;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (f == NULL)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	/* state ppid pgrp session tty tpgid flags minflt cminflt majflt
	   cmajflt utime stime */
	if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u "
	    "%*u %*u %llu %llu", &ut, &st) != 2)
		return -EPROTO;
	*ticks += ut + st;
	return 0;
}

static int
proc_mem(pid_t pid, uint64_t *rss, uint64_t *pss)
{
	char path[64], line[256];
	unsigned long long v;
	int seen = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	f = fopen(path, "re");
	if (f == NULL)
		return -errno;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "Rss: %llu kB", &v) == 1) {
			*rss += v;
			seen |= 1;
		} else if (sscanf(line, "Pss: %llu kB", &v) == 1) {
			*pss += v;
			seen |= 2;
		}
	}
	fclose(f);
	return seen == 3 ? 0 : -EPROTO;
}

/* fn over pid and, through every thread's children list, its children. */
static int
proc_sum(pid_t pid, proc_fn *fn, uint64_t *a, uint64_t *b)
{
	char path[320];
	struct dirent *de;
	DIR *dir;
	FILE *f;
	int err, child;

	err = fn(pid, a, b);
	if (err)
		return err;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (dir == NULL)
		return -errno;
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/children",
		    (int)pid, de->d_name);
		f = fopen(path, "re");
		if (f == NULL)
			continue;
		while (fscanf(f, "%d", &child) == 1)
			(void)fn((pid_t)child, a, b);	/* may just have gone */
		fclose(f);
	}
	closedir(dir);
	return 0;
}

int
bench_cpu(pid_t pid, uint64_t *ticks)
{
	*ticks = 0;
	return proc_sum(pid, proc_cpu, ticks, NULL);
}

int
bench_mem(pid_t pid, uint64_t *rss_kib, uint64_t *pss_kib)
{
	*rss_kib = *pss_kib = 0;
	return proc_sum(pid, proc_mem, rss_kib, pss_kib);
}
