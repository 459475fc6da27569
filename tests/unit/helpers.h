/*
 * Small helpers shared by the unit tests.  Each one either answers a
 * question about a real kernel object (an fd, a mapping) or sets one up;
 * a helper that cannot do its job fails the test on the spot, so a test
 * body only ever sees working objects.
 */
#ifndef MMAPD_TESTS_HELPERS_H
#define MMAPD_TESTS_HELPERS_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"

/* The size of the /dev/mem stand-in: sparse, so it costs nothing. */
#define STANDIN_SIZE	(8ull << 30)

/* A result no engine would leave behind, to prove engine_map() sets it. */
#define RES_POISON_FD	12345

/* Open file descriptors of this process, as /proc/self/fd lists them. */
int	 fd_count(void);

/*
 * A memfd standing in for /dev/mem, which the build machines do not have:
 * sized STANDIN_SIZE, sealable.  Its path "/proc/self/fd/N" goes into
 * *path so that a device open can reopen it with and without O_SYNC.
 * Returns the memfd.
 */
int	 standin_open(char *path, size_t len);

/* "$MMAPD_TEST_DATA/name" into buf. */
void	 data_path(char *buf, size_t len, const char *name);

/* The engine every test uses: on the real /dev/zero. */
void	 engine_open_zero(struct map_engine *eng);

/* F_GET_SEALS of fd. */
int	 fd_seals(int fd);
/* F_SEAL_EXEC (Linux 6.3): older headers lack it. */
#define F_SEAL_EXEC_BIT	0x0020
/*
 * F_GET_SEALS of a memfd mmapd made, less F_SEAL_EXEC (MFD_NOEXEC_SEAL
 * on Linux 6.3 and later), after checking that no x bit is set.
 */
int	 shmem_seals(int fd);

/* What /proc/self/fd/N links to, into buf. */
void	 fd_target(int fd, char *buf, size_t len);

/* Whether a and b are the same open file description (a dup). */
int	 fd_same_description(int a, int b);

/* Whether the same inode is behind a and b. */
int	 fd_same_inode(int a, int b);

int	 fd_cloexec(int fd);
int	 fd_has_sync(int fd);
int	 fd_accmode(int fd);

/* A result filled with values engine_map() must overwrite. */
void	 res_poison(struct map_result *res);

/* Read a whole file into a NUL-terminated malloc'd buffer. */
char	*file_slurp(const char *path, size_t *lenp);

/* An in-memory file holding text; returns its fd, its path into *path. */
int	 text_memfd(const char *text, char *path, size_t len);

/*
 * engine_map() with the invariants every call must keep checked on the
 * spot.  MAP_OK: it returned 0, handed over exactly one new fd, and that
 * fd is close-on-exec.  MAP_ERR: it returned err, created nothing,
 * set res->fd to -1, gave a message, and res->raw_error is err itself
 * (nothing was filtered); it yields a copy of the message, good until
 * the next MAP_ERR.  MAP_ERR_FILTERED: the same, but the driver's
 * error_filter err replaced the raw error raw.
 */
#define MAP_OK(eng, req, res) \
	map_ok((eng), (req), (res), __FILE__, __LINE__)
#define MAP_ERR(eng, req, err) \
	map_err((eng), (req), (err), (err), __FILE__, __LINE__)
#define MAP_ERR_FILTERED(eng, req, err, raw) \
	map_err((eng), (req), (err), (raw), __FILE__, __LINE__)
void	 map_ok(const struct map_engine *eng, const struct map_request *req,
	    struct map_result *res, const char *file, int line);
const char *map_err(const struct map_engine *eng,
	    const struct map_request *req, int err, int raw, const char *file,
	    int line);

/* mmap() a result exactly as it says; fails the test if the kernel says no. */
void	*result_mmap(const struct map_result *res);

/*
 * Write a pattern through a mapping of a device result: each 32-bit word
 * holds a function of its device address, so reading it back at the same
 * offset proves the fd maps that very range and no other.
 */
void	 pattern_write(volatile uint32_t *map, uint64_t devoff,
	    uint64_t size);
void	 pattern_expect(int fd, uint64_t devoff, uint64_t size);
void	 zero_expect(int fd, uint64_t off, uint64_t size);

/* Lines of /proc/self/maps containing needle. */
int	 maps_count(const char *needle);

#endif /* MMAPD_TESTS_HELPERS_H */
