/*
 * The request path: one packet of raw bytes (up to a little over 4096,
 * so that the size check is reached too) sent by a client over a real
 * SOCK_SEQPACKET socketpair, received with wire_recv() and handed to
 * session_input(), the entry server.c feeds, with the reply queued and
 * sent through outq as server.c does.  Only the libuv loop is left out.
 *
 * The daemon is set up as main.c does it, with a policy loaded by the
 * real loader from a file: zero for everyone (private, shared and named)
 * and mem, with four regions of it (one with no raw fd for anyone, one
 * another user's), on a sparse memfd standing in for
 * /dev/mem, judged against tests/unit/data/iomem-q35.txt.
 *
 * Each input gets a session of its own, so that a crash replays from the
 * input alone.  Before the input, the client maps a named region "fuzz"
 * (lease 1) and private zero memory (lease 2), so Release, List and a
 * second Map of the name meet real leases.  After it, the connection
 * ends and every lease, name, usage record and fd must be gone.
 *
 * The contracts asserted on each reply, for any input:
 *   - exactly one reply a packet (none for an empty one, the end of
 *     stream, and none or one for a quiet Release), of at most 4096
 *     bytes, that decodes;
 *   - it answers the request's id, or id 0 with EBADMSG or EMSGSIZE when
 *     the packet was not a request;
 *   - its error is 0 or a positive errno, and a refusal says why;
 *   - an fd comes with a Grant and only with one, and a GrantBatch
 *     carries one per item granted, in order; each Grant maps as it
 *     says, and one without PROT_WRITE comes with a read-only fd
 *     whatever it is (a memfd, the mem device);
 *   - no grant is larger than the policy's max_size.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conns.h"
#include "daemon.h"
#include "fuzz.h"
#include "mmapd.pb-c.h"
#include "outq.h"
#include "regs.h"

#define STANDIN_SIZE	(8ull << 30)
#define MAX_SIZE	(1u << 20)	/* every entry's max_size */

static struct mmapd d;
static int standin_fd = -1;

static const char policy_fmt[] =
	"[limits]\n"
	"leases_per_uid = 8\n"
	"zero_bytes_per_uid = 4M\n"
	"requests_in_flight = 4\n"
	"\n"
	"[zero]\n"
	"users = *\n"
	"max_size = 1M\n"
	"shared = yes\n"
	"protection = rw\n"
	"\n"
	"[mem]\n"
	"path = %s\n"
	"iomem = %s\n"
	"users = root\n"
	"raw_fd_users = root\n"
	"max_size = 1M\n"
	"shared = yes\n"
	"protection = rw\n"
	"cache = uncached\n"
	"\n"
	"[region edu]\n"
	"device = mem\n"
	"base = 0xfe900000\n"
	"size = 1M\n"
	"protection = rw\n"
	"shared = yes\n"
	"users = *\n"
	"raw_fd_users = root\n"
	"\n"
	"[region ahci]\n"
	"device = mem\n"
	"base = 0xfea01000\n"
	"size = 4K\n"
	"protection = r\n"
	"shared = yes\n"
	"users = *\n"
	"\n"
	"[region ivshmem]\n"		/* Read and Write only: no raw fd */
	"device = mem\n"
	"base = 0xfe800000\n"
	"size = 1M\n"
	"protection = rw\n"
	"users = *\n"
	"\n"
	"[region theirs]\n"		/* another user's */
	"device = mem\n"
	"base = 0xfe800000\n"
	"size = 64K\n"
	"users = 4242\n";

static void
policy_setup(const char *standin, const char *iomem)
{
	struct policy_errors errs = { 0 };
	char path[64], *text;
	size_t len;
	int fd, n, err;

	n = snprintf(NULL, 0, policy_fmt, standin, iomem);
	text = malloc((size_t)n + 1);
	FUZZ_ASSERT(text != NULL, "out of memory");
	snprintf(text, (size_t)n + 1, policy_fmt, standin, iomem);
	len = (size_t)n;
	fd = memfd_create("fuzz-policy", MFD_CLOEXEC);
	FUZZ_ASSERT(fd >= 0 && write(fd, text, len) == (ssize_t)len,
	    "cannot write the policy");
	free(text);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	err = policy_load(path, &d.policy, &errs);
	FUZZ_ASSERT(err == 0, "the harness's policy does not load: %s",
	    errs.n ? errs.v[0].msg : strerror(-err));
	policy_errors_free(&errs);
	close(fd);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct mem_params p = {
		.access = O_RDWR,
		.cache = MAP_CACHE_UNCACHED,
	};
	char standin[64], iomem[4096];
	uint64_t page;
	int err;

	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	d.started = time(NULL);
	d.engine.zero_fd = -1;
	d.mem.iomem_fd = -1;

	standin_fd = memfd_create("devmem-standin", MFD_CLOEXEC);
	FUZZ_ASSERT(standin_fd >= 0 &&
	    ftruncate(standin_fd, STANDIN_SIZE) == 0, "the /dev/mem stand-in");
	snprintf(standin, sizeof(standin), "/proc/self/fd/%d", standin_fd);
	fuzz_data_path(iomem, sizeof(iomem), "iomem-q35.txt");
	policy_setup(standin, iomem);
	/* The fd limit and the grants in flight it allows, as main.c. */
	fuzz_quiet_begin();
	conns_nofile(&d);
	fuzz_quiet_end();

	err = engine_open(&d.engine, "/dev/zero");
	FUZZ_ASSERT(err == 0, "engine_open: %s", strerror(-err));
	err = zero_device_open(&d.zero, "/dev/zero", O_RDWR);
	FUZZ_ASSERT(err == 0, "zero_device_open: %s", strerror(-err));
	p.path = standin;
	p.iomem_path = iomem;
	err = mem_device_open(&d.mem, &p);
	FUZZ_ASSERT(err == 0, "mem_device_open %s: %s", iomem,
	    strerror(-err));
	d.have_mem = 1;
	/* A stand-in, no physical memory to guard: as main.c decides. */
	err = mem_strict_check(&d.mem, &page);
	FUZZ_ASSERT(err == -ENOTTY, "mem_strict_check on a memfd: %d", err);
	d.mem_raw_ok = 1;
	err = regs_init();
	FUZZ_ASSERT(err == 0, "regs_init: %s", strerror(-err));
	/* The quiet stderr's own fds, opened once, before any count. */
	fuzz_quiet_begin();
	fuzz_quiet_end();
	return 0;
}

/* What server.c's client_read() does with one packet. */
static int
daemon_read(struct session *s, struct outq *q)
{
	uint8_t buf[WIRE_MAX];
	int fds[WIRE_MAX_FDS];
	size_t nfds = 0, had;
	ssize_t len;
	int err;

	len = wire_recv(s->fd, buf, sizeof(buf), fds, &nfds);
	FUZZ_ASSERT(len != -EAGAIN, "the packet sent is not there");
	had = nfds;
	wire_close_fds(fds, &nfds);
	fuzz_quiet_begin();
	err = session_input(s, buf, len, had, outq_len(q));
	fuzz_quiet_end();
	if (err < 0)
		return -1;
	if (s->out_len > 0) {
		/* As server.c queues it: a grant's note goes along. */
		if (s->out_nfds > 0)
			err = outq_push_fds(q, s->out, s->out_len,
			    s->out_fds, s->out_nfds, s->out_note);
		else
			err = outq_push_note(q, s->out, s->out_len,
			    s->out_fd, s->out_note);
		free(s->out_fds);
		s->out_fds = NULL;
		s->out_nfds = 0;
		s->out_fd = -1;
		s->out_note = NULL;
		s->out_len = 0;
		FUZZ_ASSERT(err == 0, "outq_push: %s", strerror(-err));
	}
	fuzz_quiet_begin();
	err = outq_flush(q, s->fd);
	fuzz_quiet_end();
	FUZZ_ASSERT(err == 0, "outq_flush: %s", strerror(-err));
	return 0;
}

/* server.c's client_sent(): the grant's audit line, once it went out. */
static int
daemon_sent(void *arg, void *note, int err, uint8_t *buf, size_t *len)
{
	return session_sent(arg, note, err, buf, len);
}

/* server.c's client_sock(): conns.c counts the grants unread. */
static void
daemon_sock(void *arg, unsigned int nfds, int sent)
{
	if (sent)
		conns_sent(arg, nfds);
	else
		conns_sending(arg, nfds);
}

/* A Grant as the client sees it: usable, and no more than it says. */
static void
grant_expect(const Mmapd__V1__Grant *g, int fd)
{
	int acc = fcntl(fd, F_GETFL) & O_ACCMODE;
	void *p;

	FUZZ_ASSERT(g->lease_id != 0, "lease id 0");
	FUZZ_ASSERT(g->size > 0 && g->size <= MAX_SIZE, "a grant of %llu "
	    "bytes", (unsigned long long)g->size);
	FUZZ_ASSERT(g->prot == PROT_READ || g->prot == (PROT_READ | PROT_WRITE),
	    "prot %#x", g->prot);
	FUZZ_ASSERT(g->mmap_flags == MAP_SHARED || g->mmap_flags == MAP_PRIVATE,
	    "flags %#x", g->mmap_flags);
	if (g->fd_kind != MMAPD__V1__FD_KIND__FD_KIND_ANON &&
	    !(g->prot & PROT_WRITE))
		FUZZ_ASSERT(acc == O_RDONLY, "a read-only grant of kind %d "
		    "came with an fd open for writing", (int)g->fd_kind);
	p = mmap(NULL, (size_t)g->size, (int)g->prot, (int)g->mmap_flags, fd,
	    (off_t)g->mmap_offset);
	FUZZ_ASSERT(p != MAP_FAILED, "the grant does not map: %s",
	    strerror(errno));
	munmap(p, (size_t)g->size);
}

/* A GrantBatch: an fd per item granted, each grant as a lone one's. */
static void
batch_expect(const Mmapd__V1__Reply *r, const int *fds, size_t nfds)
{
	const Mmapd__V1__BatchItem *it;
	size_t i, k = 0;

	FUZZ_ASSERT(r->error == 0, "a GrantBatch with error %d", r->error);
	FUZZ_ASSERT(r->grants->n_items >= 1 &&
	    r->grants->n_items <= WIRE_BATCH_MAX, "a GrantBatch of %zu items",
	    r->grants->n_items);
	for (i = 0; i < r->grants->n_items; i++) {
		it = r->grants->items[i];
		if (it->error != 0) {
			FUZZ_ASSERT(it->error > 0 && it->error <= 4095 &&
			    it->grant == NULL, "item %zu: error %d with%s a "
			    "grant", i, it->error, it->grant ? "" : "out");
			continue;
		}
		FUZZ_ASSERT(it->grant != NULL && k < nfds, "item %zu: no "
		    "grant or no fd (%zu fds)", i, nfds);
		grant_expect(it->grant, fds[k++]);
	}
	FUZZ_ASSERT(k == nfds, "%zu grants, %zu fds", k, nfds);
}

/*
 * Read the replies waiting at the client end; each is checked against
 * the request's id (want_id, or -1: any).  Returns how many came.
 */
static int
client_drain(int sock, int64_t want_id, int bad_packet)
{
	uint8_t buf[WIRE_MAX + 1];
	int fds[WIRE_MAX_FDS];
	size_t nfds = 0, i;
	Mmapd__V1__Reply *r;
	ssize_t len;
	int n = 0;

	for (;;) {
		len = wire_recv(sock, buf, sizeof(buf), fds, &nfds);
		if (len == -EAGAIN || len == 0)
			break;
		FUZZ_ASSERT(len > 0 && len <= WIRE_MAX, "a reply of %zd", len);
		n++;
		r = mmapd__v1__reply__unpack(NULL, (size_t)len, buf);
		FUZZ_ASSERT(r != NULL, "a reply that does not decode");
		if (bad_packet)
			FUZZ_ASSERT(r->request_id == 0 && (r->error == EBADMSG ||
			    r->error == EMSGSIZE), "a packet that is no "
			    "request answered with id %llu error %d",
			    (unsigned long long)r->request_id, r->error);
		else if (want_id >= 0)
			FUZZ_ASSERT(r->request_id == (uint64_t)want_id,
			    "request %lld answered as %llu",
			    (long long)want_id,
			    (unsigned long long)r->request_id);
		FUZZ_ASSERT(r->error >= 0 && r->error <= 4095, "error %d",
		    r->error);
		if (r->error != 0)
			FUZZ_ASSERT(r->message[0] != '\0', "error %d said "
			    "without a reason", r->error);
		if (r->body_case == MMAPD__V1__REPLY__BODY_GRANTS) {
			batch_expect(r, fds, nfds);
		} else if (r->body_case == MMAPD__V1__REPLY__BODY_GRANT) {
			FUZZ_ASSERT(nfds == 1, "%zu fds with a Grant", nfds);
			FUZZ_ASSERT(r->error == 0 && nfds == 1,
			    "a Grant with error %d and %zu fds", r->error, nfds);
			grant_expect(r->grant, fds[0]);
		} else {
			FUZZ_ASSERT(nfds == 0, "an fd with reply body %d",
			    (int)r->body_case);
		}
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		nfds = 0;
		mmapd__v1__reply__free_unpacked(r, NULL);
	}
	return n;
}

/* A request made here, sent as a client would. */
static void
client_map(int sock, uint64_t id, const char *region, int shared,
    uint64_t size)
{
	Mmapd__V1__Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Map m = MMAPD__V1__MAP__INIT;
	uint8_t buf[WIRE_MAX];
	size_t len;

	m.device = (char *)"zero";
	m.region = (char *)region;
	m.shared = shared;
	m.write = 1;
	m.size = size;
	req.request_id = id;
	req.body_case = MMAPD__V1__REQUEST__BODY_MAP;
	req.map = &m;
	len = mmapd__v1__request__pack(&req, buf);
	FUZZ_ASSERT(wire_send(sock, buf, len, -1) == 0, "send");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct session s = { 0 };
	Mmapd__V1__Request *req;
	struct outq q;
	int64_t want_id = -1;
	int sv[2], err, alive = 1, n, bad, quiet = 0;
	int fds_before = fuzz_fd_count();

	FUZZ_ASSERT(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0, sv) == 0, "socketpair: %s", strerror(errno));
	s.d = &d;
	s.fd = sv[0];
	s.out_fd = -1;
	outq_init(&q);
	outq_set_done(&q, daemon_sent, &s);
	outq_set_sock(&q, daemon_sock);
	err = peer_read(sv[0], &s.peer);
	FUZZ_ASSERT(err == 0, "peer_read: %s", strerror(-err));
	FUZZ_ASSERT(session_admit(&s) == 0, "not admitted");
	d.n_clients++;

	/* Leases 1 and 2, for the input to find. */
	client_map(sv[1], 1, "fuzz", 1, 65536);
	FUZZ_ASSERT(daemon_read(&s, &q) == 0, "lease 1");
	FUZZ_ASSERT(client_drain(sv[1], 1, 0) == 1, "lease 1: no reply");
	client_map(sv[1], 2, "", 0, 4096);
	FUZZ_ASSERT(daemon_read(&s, &q) == 0, "lease 2");
	FUZZ_ASSERT(client_drain(sv[1], 2, 0) == 1, "lease 2: no reply");
	FUZZ_ASSERT(d.n_leases == 2, "%u leases, not 2", d.n_leases);

	/* The input, as one packet. */
	if (send(sv[1], data, size, MSG_NOSIGNAL) < 0) {
		FUZZ_ASSERT(errno == EMSGSIZE, "send: %s", strerror(errno));
		goto out;
	}
	req = NULL;
	bad = size > WIRE_MAX;
	if (!bad) {
		req = mmapd__v1__request__unpack(NULL, size, data);
		bad = req == NULL;
		if (req != NULL)
			want_id = (int64_t)(req->request_id & INT64_MAX);
		/* Answered only when it fails. */
		if (req != NULL &&
		    req->body_case == MMAPD__V1__REQUEST__BODY_RELEASE)
			quiet = req->release->quiet;
		/* An id over 2^63 is not compared. */
		if (req != NULL && req->request_id > INT64_MAX)
			want_id = -1;
		mmapd__v1__request__free_unpacked(req, NULL);
	}
	if (daemon_read(&s, &q) < 0)
		alive = 0;
	n = client_drain(sv[1], want_id, bad && size > 0);
	FUZZ_ASSERT(n == (size > 0) || (quiet && n == 0), "%d replies to a "
	    "packet of %zu bytes", n, size);
	FUZZ_ASSERT(alive == (size > 0), "connection %s after %zu bytes",
	    alive ? "open" : "closed", size);

out:
	fuzz_quiet_begin();
	session_end(&s);
	fuzz_quiet_end();
	outq_clear(&q);
	peer_free(&s.peer);
	close(sv[0]);
	close(sv[1]);
	d.n_clients--;
	FUZZ_ASSERT(d.leases == NULL && d.n_leases == 0 && d.shms == NULL &&
	    d.usage == NULL, "the connection ended with %u leases left",
	    d.n_leases);
	d.next_lease = 0;
	/* What register writes put in the stand-in, gone: bounded memory. */
	FUZZ_ASSERT(fallocate(standin_fd, FALLOC_FL_PUNCH_HOLE |
	    FALLOC_FL_KEEP_SIZE, 0, STANDIN_SIZE) == 0, "punch: %s",
	    strerror(errno));
	n = fuzz_fd_count();
	FUZZ_ASSERT(n == fds_before, "%d fds open after the input, %d before",
	    n, fds_before);
	return 0;
}
