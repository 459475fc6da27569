/*
 * What the fuzz harnesses share.  Each harness is one file defining
 * LLVMFuzzerTestOneInput() (and LLVMFuzzerInitialize() where it sets
 * something up once).  It is linked twice: with libFuzzer by clang
 * (./configure --enable-fuzz, make fuzz), and with tests/fuzz/replay.c,
 * a plain main() that runs each file of the seed corpus and of
 * tests/fuzz/crashes/ once, as a regular test of make check.
 */
#ifndef MMAPD_FUZZ_H
#define MMAPD_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * A contract the code under test must keep for any input: when it does
 * not, say which and abort, so that libFuzzer keeps the input as a crash
 * and make check fails.
 */
#define FUZZ_ASSERT(cond, ...) do {					\
	if (!(cond))							\
		fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);	\
} while (0)

void fuzz_fail(const char *file, int line, const char *cond,
    const char *fmt, ...) __attribute__((format(printf, 4, 5), noreturn));

/*
 * The daemon logs every request to stderr, which would bury libFuzzer's
 * own lines (and fill a disk) over millions of inputs: while quiet,
 * stderr goes to /dev/null.  Sanitizer reports and fuzz_fail() still
 * reach the real stderr.  No-ops where MMAPD_FUZZ_VERBOSE is set.
 */
void fuzz_quiet_begin(void);
void fuzz_quiet_end(void);

/* "$MMAPD_TEST_DATA/name", else the source tree's tests/unit/data. */
void fuzz_data_path(char *buf, size_t len, const char *name);
/* Entries of /proc/self/fd: a harness's fds before and after an input. */
int fuzz_fd_count(void);

#endif /* MMAPD_FUZZ_H */
