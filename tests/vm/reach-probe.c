/*
 * reach-probe: what the fd of one Map reaches, for the VM tests
 * (tests/vm/guest-test.sh).  It speaks the protocol itself (Hello, then
 * one read-only shared Map), keeps the fd the daemon sends, and maps it
 * at offsets of its own choosing, which libmmapclient never does.
 *
 *	reach-probe REGION OFFSET SIZE [AT...]
 *
 * OFFSET and SIZE are the Map's (decimal or 0x hex); each AT is an offset
 * into the fd, mapped one page read-only and shared, whose first 32-bit
 * word is read with one volatile load.  Output:
 *	refused: ENAME: the daemon's message	(exit 1)
 *	granted: mmap_offset 0x..., size 0x...	then per AT:
 *	reach 0x...: 0x<word>		the fd maps there
 *	reach 0x...: ENAME		mmap(2) refused it
 * A refusal that came with an fd is a bug of the daemon: "refused with
 * an fd", exit 3.  The socket is $MMAPD_SOCKET.  Exit 2: usage or a
 * broken connection.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "mmapd.pb-c.h"
#include "wire.h"

typedef Mmapd__V1__Request Request;
typedef Mmapd__V1__Reply Reply;

static const char *
errno_name(int err)
{
	const char *s = strerrorname_np(err);

	return s != NULL ? s : "?";
}

static int
number(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 0);
	return errno != 0 || end == s || *end != '\0' || s[0] == '-' ? -1 : 0;
}

static void
die(const char *what, int err)
{
	fprintf(stderr, "reach-probe: %s: %s\n", what, strerror(err));
	exit(2);
}

/* Send req, receive its reply and at most one fd into *fd. */
static Reply *
call(int sock, const Request *req, int *fd)
{
	uint8_t buf[WIRE_MAX];
	int fds[WIRE_MAX_FDS];
	size_t len = mmapd__v1__request__get_packed_size(req), nfds = 0, i;
	ssize_t n;
	Reply *r;
	int err;

	if (len > sizeof(buf))
		die("request", EMSGSIZE);
	mmapd__v1__request__pack(req, buf);
	err = wire_send(sock, buf, len, -1);
	if (err)
		die("send", -err);
	n = wire_recv(sock, buf, sizeof(buf), fds, &nfds);
	if (n <= 0)
		die("receive", n == 0 ? ECONNRESET : (int)-n);
	r = mmapd__v1__reply__unpack(NULL, (size_t)n, buf);
	if (r == NULL)
		die("reply", EBADMSG);
	*fd = nfds > 0 ? fds[0] : -1;
	for (i = 1; i < nfds; i++)
		close(fds[i]);
	return r;
}

int
main(int argc, char **argv)
{
	Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Hello hello = MMAPD__V1__HELLO__INIT;
	Mmapd__V1__Map map = MMAPD__V1__MAP__INIT;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = getenv("MMAPD_SOCKET");
	uint64_t offset, size, at;
	Reply *r;
	void *p;
	int sock, fd, i;

	if (argc < 4 || number(argv[2], &offset) < 0 ||
	    number(argv[3], &size) < 0) {
		fprintf(stderr, "usage: reach-probe REGION OFFSET SIZE "
		    "[AT...]\n");
		return 2;
	}
	if (path == NULL || strlen(path) >= sizeof(sa.sun_path))
		die("MMAPD_SOCKET", EINVAL);
	strcpy(sa.sun_path, path);
	sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sock < 0)
		die("socket", errno);
	if (connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect", errno);

	hello.protocol_major = 1;
	hello.client_name = (char *)"reach-probe";
	req.request_id = 1;
	req.body_case = MMAPD__V1__REQUEST__BODY_HELLO;
	req.hello = &hello;
	r = call(sock, &req, &fd);
	if (r->error != 0)
		die("hello", r->error);
	if (fd >= 0)
		close(fd);
	mmapd__v1__reply__free_unpacked(r, NULL);

	map.device = argv[1];
	map.offset = offset;
	map.size = size;
	map.shared = 1;
	req.request_id = 2;
	req.body_case = MMAPD__V1__REQUEST__BODY_MAP;
	req.map = &map;
	r = call(sock, &req, &fd);
	if (r->error != 0) {
		printf("refused: %s: %s\n", errno_name(r->error), r->message);
		if (fd >= 0) {
			printf("refused with an fd\n");
			return 3;
		}
		return 1;
	}
	if (r->body_case != MMAPD__V1__REPLY__BODY_GRANT || fd < 0)
		die("grant", EPROTO);
	printf("granted: mmap_offset %#" PRIx64 ", size %#" PRIx64 "\n",
	    r->grant->mmap_offset, r->grant->size);
	mmapd__v1__reply__free_unpacked(r, NULL);

	for (i = 4; i < argc; i++) {
		if (number(argv[i], &at) < 0) {
			fprintf(stderr, "reach-probe: '%s' is no offset\n",
			    argv[i]);
			return 2;
		}
		p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, (off_t)at);
		if (p == MAP_FAILED) {
			printf("reach %#" PRIx64 ": %s\n", at,
			    errno_name(errno));
			continue;
		}
		printf("reach %#" PRIx64 ": 0x%08" PRIx32 "\n", at,
		    *(volatile uint32_t *)p);
		munmap(p, 4096);
	}
	close(fd);
	close(sock);
	return 0;
}
