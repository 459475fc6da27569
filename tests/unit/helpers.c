#include "config.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/kcmp.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "helpers.h"

int
fd_count(void)
{
	DIR *dir;
	struct dirent *de;
	int n = 0;

	dir = opendir("/proc/self/fd");
	cr_assert_not_null(dir, "opendir /proc/self/fd: %s", strerror(errno));
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] != '.')
			n++;
	}
	closedir(dir);
	/* The directory's own fd was listed too. */
	return n - 1;
}

int
standin_open(char *path, size_t len)
{
	int fd;

	fd = memfd_create("devmem-standin", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	cr_assert_geq(fd, 0, "memfd_create: %s", strerror(errno));
	cr_assert_eq(ftruncate(fd, STANDIN_SIZE), 0, "ftruncate: %s",
	    strerror(errno));
	snprintf(path, len, "/proc/self/fd/%d", fd);
	return fd;
}

void
data_path(char *buf, size_t len, const char *name)
{
	const char *dir;
	int n;

	dir = getenv("MMAPD_TEST_DATA");
	cr_assert_not_null(dir, "MMAPD_TEST_DATA is not set: the fixtures "
	    "live in tests/unit/data");
	n = snprintf(buf, len, "%s/%s", dir, name);
	cr_assert(n > 0 && (size_t)n < len, "fixture path too long");
	cr_assert_eq(access(buf, R_OK), 0, "%s: %s", buf, strerror(errno));
}

void
engine_open_zero(struct map_engine *eng)
{
	int rc;

	rc = engine_open(eng, "/dev/zero");
	cr_assert_eq(rc, 0, "engine_open(/dev/zero): %d", rc);
}

int
fd_seals(int fd)
{
	int seals;

	seals = fcntl(fd, F_GET_SEALS);
	cr_assert_geq(seals, 0, "F_GET_SEALS: %s", strerror(errno));
	return seals;
}

int
shmem_seals(int fd)
{
	struct stat st;
	int seals = fd_seals(fd);

	cr_assert_eq(fstat(fd, &st), 0, "fstat: %s", strerror(errno));
	cr_assert_eq(st.st_mode & 0111, 0, "the memfd is mode %04o: "
	    "executable", (unsigned)(st.st_mode & 07777));
	return seals & ~F_SEAL_EXEC_BIT;
}

void
fd_target(int fd, char *buf, size_t len)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, len - 1);
	cr_assert_geq(n, 0, "readlink %s: %s", link, strerror(errno));
	buf[n] = '\0';
}

int
fd_same_description(int a, int b)
{
	pid_t pid = getpid();
	long rc;

	/* kcmp says whether two fds share one struct file, i.e. are dups. */
	rc = syscall(SYS_kcmp, pid, pid, KCMP_FILE, a, b);
	cr_assert_geq(rc, 0, "kcmp: %s", strerror(errno));
	return rc == 0;
}

int
fd_same_inode(int a, int b)
{
	struct stat sa, sb;

	cr_assert_eq(fstat(a, &sa), 0);
	cr_assert_eq(fstat(b, &sb), 0);
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int
fd_cloexec(int fd)
{
	int fl;

	fl = fcntl(fd, F_GETFD);
	cr_assert_geq(fl, 0, "F_GETFD: %s", strerror(errno));
	return (fl & FD_CLOEXEC) != 0;
}

int
fd_has_sync(int fd)
{
	int fl;

	fl = fcntl(fd, F_GETFL);
	cr_assert_geq(fl, 0, "F_GETFL: %s", strerror(errno));
	/* O_SYNC is __O_SYNC | O_DSYNC: both bits, not just one. */
	return (fl & O_SYNC) == O_SYNC;
}

int
fd_accmode(int fd)
{
	int fl;

	fl = fcntl(fd, F_GETFL);
	cr_assert_geq(fl, 0, "F_GETFL: %s", strerror(errno));
	return fl & O_ACCMODE;
}

void
res_poison(struct map_result *res)
{
	memset(res, 0, sizeof(*res));
	res->fd = RES_POISON_FD;
	res->kind = MAP_KIND_NONE;
	res->msg = NULL;
}

char *
file_slurp(const char *path, size_t *lenp)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	for (;;) {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
			cr_assert_not_null(buf);
		}
		/* /proc files must be read, not stat'ed: their size is 0. */
		n = read(fd, buf + len, cap - len - 1);
		cr_assert_geq(n, 0, "read %s: %s", path, strerror(errno));
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return buf;
}

int
text_memfd(const char *text, char *path, size_t len)
{
	size_t n = strlen(text);
	int fd;

	fd = memfd_create("iomem-text", MFD_CLOEXEC);
	cr_assert_geq(fd, 0, "memfd_create: %s", strerror(errno));
	cr_assert_eq(write(fd, text, n), (ssize_t)n);
	if (path != NULL)
		snprintf(path, len, "/proc/self/fd/%d", fd);
	return fd;
}

void
map_ok(const struct map_engine *eng, const struct map_request *req,
    struct map_result *res, const char *file, int line)
{
	int before, rc;

	before = fd_count();
	res_poison(res);
	rc = engine_map(eng, req, res);
	cr_assert_eq(rc, 0, "%s:%d: engine_map: %d (%s)", file, line, rc,
	    res->msg != NULL ? res->msg : "no message");
	cr_assert_geq(res->fd, 0, "%s:%d: no fd", file, line);
	cr_assert_neq(res->fd, RES_POISON_FD, "%s:%d: fd untouched", file,
	    line);
	cr_assert_eq(fd_count(), before + 1,
	    "%s:%d: expected exactly one new fd", file, line);
	cr_assert(fd_cloexec(res->fd), "%s:%d: result fd lacks FD_CLOEXEC",
	    file, line);
}

const char *
map_err(const struct map_engine *eng, const struct map_request *req,
    int err, int raw, const char *file, int line)
{
	static char msg[512];
	struct map_result res;
	int before, rc;

	before = fd_count();
	res_poison(&res);
	rc = engine_map(eng, req, &res);
	if (rc == 0)
		engine_result_close(&res);
	cr_assert_eq(rc, err, "%s:%d: engine_map: %d (%s), expected %d (%s)",
	    file, line, rc, res.msg != NULL ? res.msg : "no message",
	    err, strerror(-err));
	cr_assert_eq(res.fd, -1, "%s:%d: res.fd %d on failure", file, line,
	    res.fd);
	cr_assert_not_null(res.msg, "%s:%d: no message on failure", file,
	    line);
	cr_assert_eq(res.raw_error, raw, "%s:%d: raw_error %d, expected %d",
	    file, line, res.raw_error, raw);
	cr_assert_eq(fd_count(), before, "%s:%d: a failed map left fds open",
	    file, line);
	/*
	 * A message the driver formatted lives in res.msg_buf, which goes
	 * with this frame: hand back a copy that outlives it.
	 */
	snprintf(msg, sizeof(msg), "%s", res.msg);
	return msg;
}

void *
result_mmap(const struct map_result *res)
{
	void *p;

	p = mmap(NULL, res->size, res->prot, res->mmap_flags, res->fd,
	    (off_t)res->offset);
	cr_assert_neq(p, MAP_FAILED, "mmap of the result: %s",
	    strerror(errno));
	return p;
}

static uint32_t
pattern_word(uint64_t addr)
{
	/* Never zero, and different for every word of a 2^34-byte space. */
	return (uint32_t)(addr >> 2) ^ 0xa5000000u ^ (uint32_t)(addr >> 34);
}

void
pattern_write(volatile uint32_t *map, uint64_t devoff, uint64_t size)
{
	uint64_t i;

	/* Exact-width volatile stores, as device memory wants them. */
	for (i = 0; i < size / 4; i++)
		map[i] = pattern_word(devoff + i * 4);
}

void
pattern_expect(int fd, uint64_t devoff, uint64_t size)
{
	uint32_t *buf;
	uint64_t i;
	ssize_t n;

	buf = malloc(size);
	cr_assert_not_null(buf);
	n = pread(fd, buf, size, (off_t)devoff);
	cr_assert_eq(n, (ssize_t)size, "pread: %s", strerror(errno));
	/* One assertion for the first mismatch, not one per word. */
	for (i = 0; i < size / 4; i++) {
		if (buf[i] != pattern_word(devoff + i * 4))
			break;
	}
	if (i != size / 4)
		cr_assert_fail("word at device offset %#llx: %#x, expected %#x",
		    (unsigned long long)(devoff + i * 4), buf[i],
		    pattern_word(devoff + i * 4));
	free(buf);
}

void
zero_expect(int fd, uint64_t off, uint64_t size)
{
	unsigned char *buf;
	uint64_t i;
	ssize_t n;

	buf = malloc(size);
	cr_assert_not_null(buf);
	n = pread(fd, buf, size, (off_t)off);
	cr_assert_eq(n, (ssize_t)size, "pread: %s", strerror(errno));
	for (i = 0; i < size; i++) {
		if (buf[i] != 0)
			break;
	}
	if (i != size)
		cr_assert_fail("byte at %#llx is %#x, expected 0",
		    (unsigned long long)(off + i), buf[i]);
	free(buf);
}

int
maps_count(const char *needle)
{
	char *maps, *line, *save = NULL;
	int n = 0;

	maps = file_slurp("/proc/self/maps", NULL);
	for (line = strtok_r(maps, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, needle) != NULL)
			n++;
	}
	free(maps);
	return n;
}
