/*
 * The harnesses without libFuzzer: run LLVMFuzzerTestOneInput() once on
 * each file named, or on each file of each folder named, in name order.
 * With no arguments, as make check runs it: $MMAPD_FUZZ_CORPUS/NAME, the
 * seed corpus made by tests/fuzz/fuzz-seeds, and $MMAPD_FUZZ_CRASHES/NAME,
 * every input that ever crashed this harness (NAME: the harness's).
 * A broken contract or a sanitizer report ends the run; otherwise it
 * prints one line counting the inputs, in the form scripts/dev.sh sums
 * up.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

#define INPUT_MAX	(1u << 20)

/* A harness without set-up has none: the weak reference is NULL. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static unsigned int ran;

static int
run_file(const char *path)
{
	FILE *f;
	uint8_t *buf;
	size_t n;

	f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	buf = malloc(INPUT_MAX);
	if (buf == NULL) {
		fclose(f);
		fprintf(stderr, "replay: out of memory\n");
		return -1;
	}
	n = fread(buf, 1, INPUT_MAX, f);
	if (ferror(f) || !feof(f)) {
		fprintf(stderr, "replay: %s: unreadable or over %u bytes\n",
		    path, INPUT_MAX);
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	/* Exactly n bytes: ASan sees a read past the input. */
	buf = realloc(buf, n ? n : 1);
	printf("replay: %s (%zu bytes)\n", path, n);
	fflush(stdout);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	ran++;
	return 0;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
run_path(const char *path)
{
	struct dirent *de;
	struct stat st;
	char **names = NULL, **nn, full[4096];
	size_t n = 0, i;
	DIR *dir;
	int err = 0;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return run_file(path);
	dir = opendir(path);
	if (dir == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;	/* ., .., .gitignore */
		nn = realloc(names, (n + 1) * sizeof(*names));
		if (nn == NULL || (nn[n] = strdup(de->d_name)) == NULL) {
			fprintf(stderr, "replay: out of memory\n");
			free(nn != NULL ? nn : names);
			closedir(dir);
			return -1;
		}
		names = nn;
		n++;
	}
	closedir(dir);
	if (n > 0)
		qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++) {
		snprintf(full, sizeof(full), "%s/%s", path, names[i]);
		if (err == 0 && run_file(full) < 0)
			err = -1;
		free(names[i]);
	}
	free(names);
	return err;
}

int
main(int argc, char **argv)
{
	static const char *const env[] = {
		"MMAPD_FUZZ_CORPUS", "MMAPD_FUZZ_CRASHES",
	};
	char dir[4096];
	const char *p;
	int i, err = 0;

	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	if (argc > 1) {
		for (i = 1; i < argc && err == 0; i++)
			err = run_path(argv[i]);
	} else {
		/* make check's: the seed corpus, then the crashes kept. */
		for (i = 0; i < 2 && err == 0; i++) {
			p = getenv(env[i]);
			if (p == NULL || *p == '\0') {
				fprintf(stderr, "usage: %s FILE|DIR...  (or set "
				    "MMAPD_FUZZ_CORPUS and MMAPD_FUZZ_CRASHES)\n",
				    argv[0]);
				return 2;
			}
			snprintf(dir, sizeof(dir), "%s/%s", p, FUZZ_NAME);
			/* A harness that never crashed has no folder there. */
			if (i == 0 || access(dir, F_OK) == 0)
				err = run_path(dir);
		}
	}
	if (err)
		return 1;
	if (ran == 0) {
		fprintf(stderr, "replay: no inputs found: nothing was tested\n");
		return 1;
	}
	/* The form of Criterion's summary, which scripts/dev.sh adds up. */
	printf("[====] Synthesis: Tested: %u | Passing: %u | Failing: 0 | "
	    "Crashing: 0\n", ran, ran);
	return 0;
}
