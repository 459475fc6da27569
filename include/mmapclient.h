/*
 * libmmapclient: the client library of mmapd.
 *
 * mmapd hands out device-backed memory mappings over an AF_UNIX
 * SOCK_SEQPACKET socket.  A client connects, asks for a range of a device
 * ("zero", "mem", or a region the daemon's configuration names), and gets
 * back a file descriptor with the exact mmap(2) arguments to use.  This
 * library does the whole exchange: mmapclient_map() sends the request,
 * receives the grant and its fd, maps the fd as the grant says, closes the
 * fd and returns the mapped region.  The daemon keeps a lease on every
 * grant until the client releases it or closes the connection.
 *
 * Build with: pkg-config --cflags --libs mmapclient
 *
 * Errors
 *   Every function that can fail returns 0 or a negative errno value
 *   (-EINVAL, -EPERM, ...), never sets errno as its result and never
 *   prints anything.  mmapclient_error() gives the message that goes
 *   with the last failure: the daemon's own explanation when the daemon
 *   refused a request, a local one otherwise.
 *
 *   Errors are of two sorts.  A refused request (the daemon answered with
 *   an errno), a local error found before anything was sent (a bad
 *   argument, -ENOMEM, a request too large for one packet: -EMSGSIZE) or
 *   mmap(2) failing on a grant leaves the connection usable.  A broken
 *   connection does not.  It breaks when the daemon closes it
 *   (-ECONNRESET), when a send or receive fails (-EPIPE, -ECONNRESET,
 *   ...), and when the daemon breaks the protocol (-EPROTO): a reply that
 *   does not decode, that answers another request, that is larger than
 *   one 4096-byte packet or whose body does not match the request; a
 *   Grant without its fd or with more than one, or another reply with
 *   one; a Grant with values outside the protocol, such as mmap flags
 *   other than MAP_SHARED or MAP_PRIVATE, or whose fd is not what it says
 *   (see mmapclient_map()); a ReadReply whose value is wider than the
 *   width asked; a reply to no request in flight, or a second one; an
 *   event this connection did not ask for, or one it cannot take (see
 *   mmapclient_on_revoke()).  The requests in flight then end with the
 *   connection's error (their callbacks run from mmapclient_dispatch()).
 *   From then on every call on that connection fails at once with the
 *   same error and the same message, without talking to the daemon.  A
 *   broken connection is shut down at once, so the daemon ends its
 *   leases; regions already mapped stay mapped (see mmapclient_close()).
 *   The only way on is mmapclient_close() and a new connection.
 *
 * Calls
 *   The plain calls are synchronous: each sends one request and waits
 *   (blocking) for exactly its reply; a call interrupted by a signal is
 *   resumed, not failed with -EINTR.  SIGPIPE is never raised.  Request
 *   ids start at 1 and increase by one per request sent.
 *
 *   The _async calls (mmapclient_map_async() and the like) send their
 *   request without waiting; several may be in flight on one connection
 *   (pipelining), each matched to its reply by request id, and each is
 *   completed by a callback that mmapclient_dispatch() runs.  The
 *   synchronous calls are built on the same path: send, then read until
 *   their own reply has come.  A synchronous call never runs a callback:
 *   the replies to async requests and the events it reads meanwhile are
 *   checked and taken in (a Grant is mapped), then queued, in the order
 *   they came, for the next mmapclient_dispatch().  See "Event loops".
 *
 * Event loops
 *   mmapclient_fd() is readable when a reply or an event has come (or
 *   the daemon closed the connection).  Wait for POLLIN on it with
 *   poll(2), epoll(7) or an event library (libuv: a uv_poll_t on it, for
 *   UV_READABLE) and call mmapclient_dispatch() when it is readable: it
 *   reads what is there without blocking and runs the callbacks.  After
 *   a synchronous call on a connection with requests in flight or a
 *   revoke handler, call mmapclient_dispatch() once before waiting on
 *   the fd again (or when mmapclient_pending() is not 0): what the call
 *   queued is no longer on the socket, so the fd may not turn readable
 *   for it.
 *
 * Thread-safety
 *   One connection (struct mmapclient) is not thread-safe: use one per
 *   thread, or serialize every call on it, the calls on its regions and
 *   mmapclient_dispatch() included, with a lock of your own.  Callbacks
 *   run in the thread that calls mmapclient_dispatch(), inside it.
 *   Different connections may be used by different threads at the same
 *   time without locking.  The memory of a mapped region may of course
 *   be used from any thread.  mmapclient_error(NULL) is per thread.
 *
 * fork(2)
 *   The socket is close-on-exec.  A child created with fork() shares the
 *   parent's socket: use a connection in one process only (the child
 *   should connect anew), or requests and replies of both get mixed up.
 *
 * Device memory
 *   A region of kind MMAPCLIENT_KIND_DEVICE is device memory (a /dev/mem
 *   range, a PCI BAR).  It must be accessed only with exact-width volatile
 *   loads and stores of the width the device expects (uint8_t, uint16_t,
 *   uint32_t, uint64_t through a volatile pointer, naturally aligned),
 *   never with memcpy(), memset(), memcmp(), string functions or struct
 *   copies: those may read or write any width in any order, more than
 *   once, or speculatively, which device registers do not forgive.
 *   mmapclient_region_read() and mmapclient_region_write() are such
 *   accesses, bounds-checked; use them, or volatile pointers of your own,
 *   and nothing else.  Without a mapping at all, mmapclient_read() and
 *   mmapclient_write() ask the daemon to do one access for you (the
 *   policy may allow those where it refuses a mapping).  Memory of kind
 *   MMAPCLIENT_KIND_ANON and MMAPCLIENT_KIND_SHMEM is ordinary memory and
 *   may be used in any way its protection allows.
 *
 *   When a kernel driver claims the device while it is mapped, the
 *   kernel revokes the mapping: the next access raises SIGBUS, whether
 *   through a volatile pointer or these accessors.
 */
#ifndef MMAPCLIENT_H
#define MMAPCLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Where mmapclient_connect() goes given no path and no $MMAPD_SOCKET. */
#define MMAPCLIENT_DEFAULT_SOCKET	"/run/mmapd/mmapd.sock"
/* The environment variable read when no path is given. */
#define MMAPCLIENT_SOCKET_ENV		"MMAPD_SOCKET"

/* The protocol version this library speaks (proto/mmapd.proto). */
#define MMAPCLIENT_PROTOCOL_MAJOR	1
#define MMAPCLIENT_PROTOCOL_MINOR	0

/* Longest client name mmapclient_connect_named() takes, in bytes. */
#define MMAPCLIENT_NAME_MAX		255

/* mmapclient_request.flags */
#define MMAPCLIENT_SHARED	(1u << 0)	/* MAP_SHARED; else MAP_PRIVATE */
#define MMAPCLIENT_WRITE	(1u << 1)	/* PROT_READ | PROT_WRITE; else PROT_READ */
/*
 * With a region name only, at most one of them: create the region
 * (-EEXIST when it exists) or attach to it (-ENOENT when it does not).
 * Neither: attach when it exists, else create it.  A daemon without the
 * Hello feature "shm-open" ignores them and does the latter.
 */
#define MMAPCLIENT_CREATE	(1u << 2)
#define MMAPCLIENT_ATTACH	(1u << 3)

/* How the CPU caches the memory.  The values are the protocol's CacheMode. */
enum mmapclient_cache {
	MMAPCLIENT_CACHE_DEFAULT = 0,	/* request only: let the device choose */
	MMAPCLIENT_CACHE_CACHED = 1,	/* ordinary write-back caching */
	MMAPCLIENT_CACHE_UNCACHED = 2,	/* uncached, e.g. /dev/mem opened O_SYNC */
	MMAPCLIENT_CACHE_WC = 3,	/* write-combining, where the device offers it */
};

/* What backs a granted region.  The values are the protocol's FdKind. */
enum mmapclient_kind {
	MMAPCLIENT_KIND_ANON = 1,	/* private /dev/zero: anonymous memory */
	MMAPCLIENT_KIND_SHMEM = 2,	/* a sealed memfd: shared zero, named regions */
	MMAPCLIENT_KIND_DEVICE = 3,	/* the device itself: see "Device memory" above */
};

/* What an offer of mmapclient_status() is: the protocol's OfferKind. */
enum mmapclient_offer_kind {
	MMAPCLIENT_OFFER_DEVICE = 0,	/* a device, e.g. "zero", "mem" */
	MMAPCLIENT_OFFER_REGION = 1,	/* a region the configuration defines */
	MMAPCLIENT_OFFER_SHM = 2,	/* a declared shared-memory name or
					   pattern: map "zero" with region */
};

/* A lease's state in mmapclient_list(): the protocol's LeaseState. */
enum mmapclient_lease_state {
	MMAPCLIENT_LEASE_HELD = 0,
	MMAPCLIENT_LEASE_REVOKING = 1,	/* its holder was told; deadline set */
	MMAPCLIENT_LEASE_REVOKED = 2,	/* past its deadline, kept: on_revoke = log */
};

/* A connection to mmapd.  Opaque. */
struct mmapclient;

/*
 * What mmapclient_map() asks for.  Initialize it with a designated
 * initializer, so that any field a later version adds is zero:
 *
 *	struct mmapclient_request req = {
 *		.device = "zero", .size = 1 << 20,
 *		.flags = MMAPCLIENT_SHARED | MMAPCLIENT_WRITE,
 *	};
 */
struct mmapclient_request {
	const char *device;	/* "zero", "mem" or a region name; required */
	uint64_t offset;	/* bytes into the device; a multiple of the page size */
	uint64_t size;		/* bytes, > 0; the daemon rounds it up to pages */
	unsigned int flags;	/* MMAPCLIENT_SHARED, MMAPCLIENT_WRITE */
	enum mmapclient_cache cache;	/* CACHE_DEFAULT: the device's choice */
	/*
	 * NULL or "": memory of this lease alone.  Otherwise the name of a
	 * named shared region, valid only with device "zero" and
	 * MMAPCLIENT_SHARED.  A name the daemon's policy declares ([shm
	 * NAME] in mmapd.conf) is one memory for the users it names, at
	 * the size it gives, read-write for its writers and read-only for
	 * its readers (-EPERM for anyone else; -EACCES for a reader asking
	 * MMAPCLIENT_WRITE); only its creators make it.  Any other name is
	 * private to the caller's uid: its other connections and processes
	 * get the same memory by it, other uids their own.  A Map that
	 * creates it gives its size; one that attaches must ask the same
	 * size (-EINVAL, the message names both).  Memory attached to an
	 * existing region holds what others wrote.  See MMAPCLIENT_CREATE
	 * and MMAPCLIENT_ATTACH.
	 */
	const char *region;
};

/*
 * A mapped region, made by mmapclient_map().  The library owns it: read
 * the fields, never write them, never free() the struct; hand it back to
 * mmapclient_release() or mmapclient_region_free().  Later versions may
 * add fields at the end.
 */
struct mmapclient_region {
	void *addr;		/* where it is mapped */
	size_t size;		/* mapped length: the request's size rounded up to pages */
	uint64_t lease_id;	/* the daemon's lease, never 0 */
	enum mmapclient_kind kind;
	int prot;		/* PROT_READ, maybe | PROT_WRITE */
	int mmap_flags;		/* MAP_SHARED or MAP_PRIVATE, as mapped */
	enum mmapclient_cache cache;	/* as given; never CACHE_DEFAULT */
};

/* One lease, as mmapclient_list() shows it. */
struct mmapclient_lease {
	uint64_t id;
	uid_t uid;		/* of the client that holds it */
	pid_t pid;		/* of the client that holds it */
	const char *device;	/* the device or region name it was asked with */
	uint64_t offset;	/* as granted */
	uint64_t size;		/* as granted */
	int prot;		/* as granted: PROT_READ, maybe | PROT_WRITE */
	int shared;		/* 1: MAP_SHARED, 0: MAP_PRIVATE */
	int64_t created_unix_sec;	/* when granted, seconds since the epoch */
	/*
	 * Since 0.3 (mmapclient_list@MMAPCLIENT_0.3; a program built
	 * against 0.1 keeps the layout above).  "" from an older daemon.
	 */
	const char *region;	/* its shared-memory region's name; "": none */
	const char *client;	/* the name its client sent in Hello */
	const char *user;	/* uid's name; "" when it has none */
	/*
	 * Since 0.4 (mmapclient_list@MMAPCLIENT_0.4; programs built
	 * against 0.3 or 0.1 keep their layouts).  HELD, 0 and "" from an
	 * older daemon.
	 */
	enum mmapclient_lease_state state;
	int64_t deadline_unix_sec;	/* REVOKING: when it is enforced */
	const char *revoke_reason;	/* REVOKING, REVOKED: why; else "" */
};

/* A device or region the daemon offers. */
struct mmapclient_offer {
	const char *name;	/* what mmapclient_request.device takes */
	enum mmapclient_offer_kind kind;
};

/*
 * What one Map of an offer may get (offers[i]'s are terms[i]).  An
 * older daemon does not say: max_size is 0 then.
 */
struct mmapclient_offer_terms {
	uint64_t max_size;	/* the largest size one Map may ask for */
	int prot;		/* PROT_READ, maybe | PROT_WRITE: the widest */
	int shared;		/* 1: MMAPCLIENT_SHARED may be asked */
	enum mmapclient_cache cache;	/* what CACHE_DEFAULT gets */
	uint64_t size;		/* region's size; 0: a device, unknown */
	int registers_only;	/* 1: map refused; read, write serve */
};

/* Requests the daemon refused with one errno, since it started. */
struct mmapclient_errno_count {
	int error;		/* a positive errno: EPERM, EFBIG, ... */
	uint64_t count;
};

/*
 * Counts since the daemon started, the daemon's totals whoever asks:
 * what its audit log wrote (a grant line with result=ok, a release
 * line, a revocation, a deny line by its errno) and what is held now.
 */
struct mmapclient_counters {
	uint64_t grants;	/* Maps whose fd went out */
	uint64_t releases;	/* leases ended: Release, disconnect, ... */
	uint64_t revocations;	/* leases taken back */
	/* refusals of the policy, the engine and [limits], by errno, in
	   increasing errno order; n_denials of them (NULL when 0) */
	const struct mmapclient_errno_count *denials;
	size_t n_denials;
	uint64_t zero_bytes_held;	/* zero memory leases hold now */
	uint32_t peak_clients;	/* most connections open at once */
};

/*
 * The daemon's state, as mmapclient_status() reports it.  Its offers are
 * those this caller may use (root: all of them).
 */
struct mmapclient_status {
	const char *version;	/* the daemon's package version, e.g. "0.1.0" */
	uint64_t uptime_sec;	/* seconds since the daemon started */
	struct mmapclient_offer *offers;	/* in configuration order */
	size_t n_offers;
	uint32_t clients;	/* connections open now, this one included */
	uint32_t leases;	/* leases held now, by all clients */
	/* Since 0.3: */
	/* n_offers of them, one for each offer */
	const struct mmapclient_offer_terms *terms;
	size_t offers_left_out;	/* offers that did not fit the reply */
	/*
	 * Since 0.4 (mmapclient_status@MMAPCLIENT_0.4, so that a program
	 * reading it is refused by an older library at load time): NULL
	 * when the daemon sends no counters (an older daemon).
	 */
	const struct mmapclient_counters *counters;
};

/*
 * Connect to mmapd and say hello.
 *
 * path: the socket; NULL or "" means $MMAPD_SOCKET, or when that is unset
 * or empty, MMAPCLIENT_DEFAULT_SOCKET.  The socket is AF_UNIX,
 * SOCK_SEQPACKET, close-on-exec and blocking.  The client name sent in
 * Hello is program_invocation_short_name.  On success *out is a new
 * connection, to be closed with mmapclient_close(); on failure *out is
 * NULL and mmapclient_error(NULL) tells why, in the calling thread.
 *
 * Errors: -EINVAL (out is NULL), -ENAMETOOLONG (path does not fit a
 * sockaddr_un), -ENOMEM, those of socket(2) and connect(2) (-ENOENT: no
 * such socket, -ECONNREFUSED: no daemon listens on it, -EACCES, ...),
 * the daemon's refusal of Hello (-EPROTONOSUPPORT: it does not speak
 * protocol 1; -EPERM, ...; -EMFILE: it serves as many connections as its
 * [limits] allow), and the errors of a broken connection
 * (-ECONNRESET, -EPIPE, -EPROTO).  -EPROTONOSUPPORT also when the daemon
 * accepts but says it speaks another major version.
 */
int mmapclient_connect(const char *path, struct mmapclient **out);

/*
 * mmapclient_connect() with the client name given: free text for the
 * daemon's logs, UTF-8, at most MMAPCLIENT_NAME_MAX bytes (else
 * -ENAMETOOLONG); NULL means program_invocation_short_name.
 */
int mmapclient_connect_named(const char *path, const char *name,
    struct mmapclient **out);

/*
 * Ask for a mapping and map it.
 *
 * Sends Map, receives the Grant and its fd, mmaps the fd exactly as the
 * Grant says (length, protection, MAP_SHARED or MAP_PRIVATE, offset),
 * closes the fd and sets *out to the new region.  Its memory stays mapped
 * until mmapclient_release() or mmapclient_region_free().  The caller
 * owns *out.  On failure *out is NULL and nothing is mapped; a lease
 * granted but not mapped has been released (or ended with the broken
 * connection).
 *
 * Before mapping, the fd is held against the Grant, so that whatever
 * answers on the socket cannot hand out memory that faults (SIGBUS) or
 * is not what the Grant says: MMAPCLIENT_KIND_SHMEM needs a memfd sealed
 * with F_SEAL_GROW and F_SEAL_SHRINK, and for a writable shared map with
 * neither F_SEAL_WRITE nor F_SEAL_FUTURE_WRITE; MMAPCLIENT_KIND_ANON
 * needs /dev/zero; MMAPCLIENT_KIND_DEVICE a character device, a sysfs
 * file or a regular file only root may resize (a stand-in for /dev/mem).
 * The fd must be open for the access mapped, and a memfd or file must
 * reach mmap_offset + size bytes.  A mismatch is -EPROTO, the connection
 * broken, with a message naming what came and what was due, e.g. "the
 * daemon granted a 4096-byte memfd for a 65536-byte shared map at offset
 * 0 (lease 7)".
 *
 * Errors: -EINVAL (c, req, req->device or out NULL, unknown flags or cache
 * mode, MMAPCLIENT_CREATE with MMAPCLIENT_ATTACH or without a region
 * name; nothing sent), -ENOMEM, -EMSGSIZE (the request does not fit one
 * packet: names too long; nothing sent), whatever errno the daemon
 * refuses the request with (-EINVAL, -EPERM, -EACCES, -ENODEV, -ENOMEM,
 * -EDQUOT: the caller's uid holds as many leases or as much zero memory
 * as [limits] allow; -EEXIST, -ENOENT: see MMAPCLIENT_CREATE;
 * -EAGAIN: too many replies of this connection unread, ...), mmap(2)'s errno when the grant cannot be mapped (the
 * lease is then released with the daemon before returning), and those of
 * a broken connection (-EPROTO: a Grant or fd not as above).
 */
int mmapclient_map(struct mmapclient *c, const struct mmapclient_request *req,
    struct mmapclient_region **out);

/*
 * Unmap r, end its lease with the daemon (Release) and free r.
 *
 * r is always unmapped and freed, whatever the result, so it must not be
 * used after this call.  Returns 0, or the daemon's errno when it refused
 * the Release, or the error of a broken connection (its lease is then
 * over anyway), or -EINVAL when c or r is NULL or r does not belong to c
 * (r, when not NULL, is unmapped and freed all the same; nothing is sent).
 *
 * Since 0.5, with a daemon that offers "quiet-release" (mmapd 0.5 and
 * later), the Release is sent quiet and not waited for, so that a map and
 * release cycle costs one round trip: 0 once it is in the socket.  The
 * daemon reads it before anything asked after it on c, so the lease is
 * over for every later request of c; another connection may see it held
 * for as long as the daemon takes to read it.  The daemon cannot refuse
 * the Release of a lease c holds; should it all the same, c is broken
 * (-EPROTO, the daemon's message in mmapclient_error()) and its next call
 * says so.  mmapclient_release_async() still waits for the Ack.
 */
int mmapclient_release(struct mmapclient *c, struct mmapclient_region *r);

/*
 * Unmap r and free it without a word to the daemon.  Meant for the
 * regions of a connection already closed with mmapclient_close(), whose
 * leases the daemon ended then.  On a region whose connection is still
 * open it works too, but the lease stays held (and listed) until the
 * connection closes; use mmapclient_release() there.  NULL is a no-op.
 * Not thread-safe with respect to r's connection while it is open.
 */
void mmapclient_region_free(struct mmapclient_region *r);

/*
 * Load or store one register of a mapped region: a single access of
 * exactly width bits (8, 16, 32 or 64) at offset bytes into r, through a
 * volatile pointer.  This is how device memory (MMAPCLIENT_KIND_DEVICE)
 * is to be read and written, never memcpy() or memset() (see "Device
 * memory" above); they work on a region of any kind.
 *
 * The load is zero-extended into *value; the store takes the low width
 * bits of value, whose higher bits must be 0.  Each call is one access,
 * in program order with the calls before and after it; it is no CPU
 * memory barrier (on a write-combined mapping, stores may merge or pass
 * one another until a fence).
 *
 * Checked in this order, before anything is touched: -EINVAL (r NULL,
 * value NULL for a load, width not 8, 16, 32 or 64, offset not a
 * multiple of width / 8, a stored value wider than width), -ERANGE (the
 * access does not lie wholly within r->size bytes), -EACCES (a store to
 * a region mapped without PROT_WRITE).  On failure *value is 0.  No
 * message is set and the connection is never used, so, like the memory
 * itself, these may be called from any thread while r is mapped.
 */
int mmapclient_region_read(const struct mmapclient_region *r,
    uint64_t offset, unsigned int width, uint64_t *value);
int mmapclient_region_write(const struct mmapclient_region *r,
    uint64_t offset, unsigned int width, uint64_t value);

/*
 * Have the daemon load (Read) or store (Write) one register: a single
 * access of exactly width bits (8, 16, 32 or 64) at offset bytes into
 * device, a device or region the daemon offers ("mem": offset is the
 * physical address).  The daemon does it through its own mapping, so no
 * fd and no lease come to this process; its policy judges the access as
 * a Map of width / 8 bytes at offset, and a Write needs the entry's
 * protection to be rw.  The load is zero-extended into *value; the store
 * takes value, whose bits above width must be 0.
 *
 * Errors: -EINVAL, nothing sent: c, device or value NULL, width not 8,
 * 16, 32 or 64, offset not a multiple of width / 8, value wider than
 * width.  Whatever errno the daemon refuses with: -ENODEV (no such
 * device or region, or not opened), -EPERM (not in the entry's users or
 * groups; System RAM), -EACCES (Write where protection is r), -EBUSY
 * (the range is claimed by a kernel driver), -EINVAL (outside the
 * region; "zero", which has no registers), -EIO (the access faulted in
 * the daemon, e.g. the device was revoked), ...  And those of a broken
 * connection.  On failure *value is 0.
 */
int mmapclient_read(struct mmapclient *c, const char *device,
    uint64_t offset, unsigned int width, uint64_t *value);
int mmapclient_write(struct mmapclient *c, const char *device,
    uint64_t offset, unsigned int width, uint64_t value);

/*
 * Have the daemon read-modify-write one register (Modify): it loads
 * the register with one access of exactly width bits, computes
 * (old & ~clear) | set, and stores that with one access of the same
 * width, under one policy check (the entry's protection must be rw, as
 * for a Write) and one audit line.  The daemon handles one request at
 * a time, so two clients' Modifies of one register never interleave in
 * it: setting different bits from two processes loses none.  (A process
 * that maps the register itself, or the device, may change it between
 * the load and the store.)  *old_value gets what was read, *new_value
 * what was written; either may be NULL.
 *
 * Errors: -EINVAL, nothing sent: c or device NULL, width not 8, 16, 32
 * or 64, offset not a multiple of width / 8, clear or set wider than
 * width.  The daemon's refusals as for mmapclient_write(); a daemon
 * without the Hello feature "modify" answers -EINVAL.  -EPROTO (the
 * connection broken) when the reply's values do not follow from each
 * other and the request.  On failure both values are 0.
 */
int mmapclient_modify(struct mmapclient *c, const char *device,
    uint64_t offset, unsigned int width, uint64_t clear, uint64_t set,
    uint64_t *old_value, uint64_t *new_value);

/*
 * List the leases the daemon lets this client see (its policy decides
 * which: at least this connection's own).  Follows the protocol's
 * pagination until the daemon says there are no more, so it may send
 * several requests.  On success *out is an array of *n leases in
 * increasing id order, to be freed with mmapclient_leases_free() (NULL
 * when *n is 0); on failure *out is NULL and *n is 0.
 *
 * Errors: -EINVAL (an argument NULL), -ENOMEM, the daemon's refusal,
 * those of a broken connection (-EPROTO also when the pages' ids do not
 * increase).
 */
int mmapclient_list(struct mmapclient *c, struct mmapclient_lease **out,
    size_t *n);

/* Free what mmapclient_list() returned.  NULL is a no-op. */
void mmapclient_leases_free(struct mmapclient_lease *leases);

/*
 * Ask how the daemon is.  On success *out is a new status, to be freed
 * with mmapclient_status_free(); on failure *out is NULL.
 *
 * Errors: -EINVAL (an argument NULL), -ENOMEM, the daemon's refusal,
 * those of a broken connection (-EPROTO also when a denial's errno is
 * not between 1 and 4095).
 */
int mmapclient_status(struct mmapclient *c, struct mmapclient_status **out);

/* Free what mmapclient_status() returned.  NULL is a no-op. */
void mmapclient_status_free(struct mmapclient_status *status);

/*
 * Which leases mmapclient_revoke() takes back: exactly one of lease_id
 * (not 0), uid (with by_uid) or region (not NULL nor ""), else -EINVAL.
 * Initialize it with a designated initializer.
 */
struct mmapclient_revoke_what {
	uint64_t lease_id;	/* this lease */
	int by_uid;		/* every lease of uid */
	uid_t uid;
	const char *region;	/* every lease of this device, region or
				   shared-memory name */
	const char *reason;	/* for the holders and the log; NULL: the
				   daemon says who revoked it */
};

/*
 * Since 0.4: revoke leases (root, or the daemon's admin_group).  Each
 * chosen lease's holder is told (when it reads events) and has its
 * entry's revoke_seconds to release it; then on_revoke enforces it (see
 * mmapd.conf(5)).  Returns how many leases were chosen (at least 1), or:
 * -EPERM (neither root nor admin_group), -ENOENT (no lease matches),
 * -EINVAL (what names none or more than one way; a reason over 100
 * bytes), the errors of a broken connection.
 */
int mmapclient_revoke(struct mmapclient *c,
    const struct mmapclient_revoke_what *what);

/*
 * The connection's socket, for poll(2) and the like, or -EINVAL when c is
 * NULL.  It becomes readable when a reply to an async request or an
 * event has come, or when the daemon closes the connection (POLLHUP);
 * then call mmapclient_dispatch().  Without requests in flight and
 * without a revoke handler (mmapclient_on_revoke()), the daemon sends
 * nothing unasked, so it becomes readable outside a call only when the
 * daemon closes the connection.  Do not read from it, write to it,
 * change its flags or close it: it belongs to c.
 */
int mmapclient_fd(const struct mmapclient *c);

/*
 * The message of the last failure on c: the daemon's explanation when it
 * refused a request, otherwise a local one (for a broken connection, the
 * same message every time).  Never NULL; "" when nothing has failed yet.
 * Not cleared by successful calls.  Valid until the next call on c.
 * With c NULL: the message of the calling thread's last
 * mmapclient_connect() or mmapclient_connect_named() ("" when it
 * succeeded), valid until that thread's next connect.
 */
const char *mmapclient_error(const struct mmapclient *c);

/*
 * Close the connection and free c.  The daemon then ends every lease of
 * the connection.  Regions still mapped stay mapped, and their memory
 * stays valid (the kernel keeps it while it is mapped), but the daemon
 * no longer holds a lease on it and no longer lists it.  Their handles
 * stay the caller's and must still be passed to mmapclient_region_free(),
 * which unmaps and frees them (mmapclient_release() on them gives
 * -EINVAL, and unmaps and frees them too).  NULL is a no-op.
 */
void mmapclient_close(struct mmapclient *c);

/* ----------------------------------------------------------------------
 * Since 0.4: requests in flight, callbacks and events
 * ---------------------------------------------------------------------- */

/*
 * How an async request ended, as its callback is told.  Valid during the
 * callback only (the region excepted, which is the caller's from then
 * on).  Later versions may add fields at the end.
 */
struct mmapclient_result {
	uint64_t request_id;	/* the request's id on this connection */
	int error;		/* 0, or a negative errno, as the sync call */
	const char *message;	/* why it failed; "" on success */
	/* Map: the new region, the caller's to release; NULL on failure. */
	struct mmapclient_region *region;
	uint64_t lease_id;	/* Map (on success), Release: the lease */
	uint64_t value;		/* Read: the value loaded */
};

/*
 * An async request's callback: run by mmapclient_dispatch(), once per
 * request, whatever its end (a broken connection included).
 */
typedef void mmapclient_done_fn(struct mmapclient *c,
    const struct mmapclient_result *res, void *userdata);

/*
 * The async forms of mmapclient_map(), mmapclient_release(),
 * mmapclient_read() and mmapclient_write().  Each checks its arguments
 * as the sync call does, sends the request without waiting (one
 * send(2), MSG_DONTWAIT) and returns 0; done(c, res, userdata) then runs
 * from mmapclient_dispatch() when the reply has come, with what the sync
 * call would have returned: res->error, res->message, and the region,
 * the lease or the value.  A Map's Grant is checked and mapped as
 * mmapclient_map() does it, when it is read.  done may be NULL for
 * Release and Write (the result is then dropped), not for Map or Read.
 *
 * Many may be in flight on one connection; the daemon answers them in
 * order, and at most its [limits] requests_in_flight replies unread and
 * grants_in_flight grants unread (mmapd.conf(5)): a request beyond those
 * completes with -EAGAIN and the daemon's message, the connection
 * usable.
 *
 * mmapclient_release_async() unmaps and frees r once the Release is
 * sent (its lease is the daemon's to end); when nothing could be sent
 * (-EAGAIN, -ENOBUFS, -ENOMEM) r is left as it was, mapped and held, so
 * that the call may be retried.  A region of another connection gives
 * -EINVAL and is unmapped and freed, as by mmapclient_release().
 *
 * Errors, nothing sent and no callback to come: -EINVAL (as the sync
 * call, or done NULL where it is needed), -EMSGSIZE, -ENOMEM, -EAGAIN
 * (the socket's send buffer is full: dispatch replies, then retry), and
 * those of a broken connection.
 */
int mmapclient_map_async(struct mmapclient *c,
    const struct mmapclient_request *req, mmapclient_done_fn *done,
    void *userdata);
int mmapclient_release_async(struct mmapclient *c,
    struct mmapclient_region *r, mmapclient_done_fn *done, void *userdata);
int mmapclient_read_async(struct mmapclient *c, const char *device,
    uint64_t offset, unsigned int width, mmapclient_done_fn *done,
    void *userdata);
int mmapclient_write_async(struct mmapclient *c, const char *device,
    uint64_t offset, unsigned int width, uint64_t value,
    mmapclient_done_fn *done, void *userdata);

/*
 * Read what has come on c without blocking (recvmmsg(2), MSG_DONTWAIT)
 * and run the callbacks: first those queued by synchronous calls, then
 * those of the packets read, in the order they came.  Returns the number
 * of callbacks run (0 when nothing was there: never -EAGAIN), or, once
 * the connection is broken, its error (after running, with that error,
 * the callbacks of every request that was in flight).  It reads at most
 * a few dozen packets a call, so a flood cannot hold the caller; the fd
 * stays readable for the rest.
 *
 * Callbacks may call any function on c (synchronous calls, new async
 * requests, mmapclient_dispatch() itself) but mmapclient_close().
 */
int mmapclient_dispatch(struct mmapclient *c);

/*
 * Callbacks queued to run at the next mmapclient_dispatch() without
 * reading the socket: what synchronous calls read meanwhile.  0 for NULL.
 */
int mmapclient_pending(const struct mmapclient *c);

/* Requests sent on c whose replies have not been read yet.  0 for NULL. */
int mmapclient_in_flight(const struct mmapclient *c);

/* Since 0.5: the most requests one batch call takes. */
#define MMAPCLIENT_BATCH_MAX	32

/*
 * Since 0.5.  Map reqs[0..n) (1 to MMAPCLIENT_BATCH_MAX) in one round
 * trip: one MapBatch request, one reply packet with every fd (a daemon
 * without the "map-batch" feature gets the n Maps pipelined instead).
 * Each request is decided, audited and checked (as mmapclient_map()
 * checks a grant) on its own, so some may be granted and others not:
 * out[i] is the region of reqs[i], or NULL with errs[i] its negative
 * errno (a request wrong here is refused here, the others still go).
 * Returns how many were mapped (0 to n), the message of the first
 * refusal in mmapclient_error(); or a negative errno for the call as a
 * whole: -EINVAL for n out of range or NULL arrays, or the connection's
 * error once broken.  Regions set in out[] are the caller's even then.
 */
int mmapclient_map_batch(struct mmapclient *c,
    const struct mmapclient_request *reqs, size_t n,
    struct mmapclient_region **out, int *errs);

/*
 * Since 0.5.  Unmap regs[0..n) (1 to MMAPCLIENT_BATCH_MAX, all granted
 * on c) and end their leases with one quiet Release, sent without
 * waiting for an answer (only for room in the socket): the daemon
 * answers it only if it fails, so a map-and-release cycle costs one
 * round trip.  0 once sent.  The regions are unmapped and freed in every
 * case but -EINVAL for the arguments (then nothing is done); should the
 * Release not go out (the connection's error, or -ENOMEM, which breaks
 * the connection so that the daemon ends the leases) it is returned.
 * The request counts in mmapclient_in_flight()
 * until a later request is answered.  done, if not NULL, runs from
 * mmapclient_dispatch() only when the release failed (res->error, e.g.
 * -ENOENT, its message in res->message); the message is also left in
 * mmapclient_error().  A daemon without "quiet-release" is sent a plain
 * Release per region, whose Acks are taken in and dropped.
 * mmapclient_release() is this, for one region and with no callback (a
 * refusal breaks the connection there); mmapclient_release_async()
 * still waits for, and reports, the reply.
 */
int mmapclient_release_quiet(struct mmapclient *c,
    struct mmapclient_region *const *regs, size_t n,
    mmapclient_done_fn *done, void *userdata);

/* What a revocation's deadline brings: the protocol's RevokeEnforce. */
enum mmapclient_enforce {
	MMAPCLIENT_ENFORCE_KILL = 0,	/* the holder is sent SIGKILL */
	MMAPCLIENT_ENFORCE_LOG = 1,	/* logged; the lease stays */
};

/*
 * A lease of this connection is being taken back (mmapd's Revoking
 * event): unmap it and release it before the deadline.  Valid during the
 * callback only.
 */
struct mmapclient_revoking {
	uint64_t lease_id;
	/*
	 * This connection's region of the lease, when it was mapped by it
	 * and is not released yet; else NULL.  Release it with
	 * mmapclient_release() or mmapclient_release_async().
	 */
	struct mmapclient_region *region;
	const char *reason;	/* one line, e.g. "revoked by root", or "" */
	int64_t deadline_unix_sec;	/* when it is enforced */
	uint32_t seconds;	/* the same, in seconds from sending */
	/* A later daemon may send a value not named above. */
	enum mmapclient_enforce enforce;
};

typedef void mmapclient_revoking_fn(struct mmapclient *c,
    const struct mmapclient_revoking *ev, void *userdata);

/*
 * Ask the daemon for events and have fn(c, ev, userdata) run, from
 * mmapclient_dispatch(), for each Revoking event.  A connection sends
 * Hello with events off, so the daemon sends it none; the first call
 * with fn set sends Hello again with events on and waits for its reply
 * (a synchronous call; an older daemon ignores the field and sends no
 * events).  From then on the daemon may send events at any time;
 * synchronous calls queue those they read.  fn NULL drops the events
 * that come from then on (the daemon still sends them; it enforces the
 * revocation at the deadline all the same).  An event with no known kind
 * is ignored; a Revoking with lease 0, or any event on a connection that
 * did not ask for them, breaks it (-EPROTO).
 *
 * Errors: -EINVAL (c NULL), those of Hello (see mmapclient_connect())
 * and of a broken connection; the handler is then not set.
 */
int mmapclient_on_revoke(struct mmapclient *c, mmapclient_revoking_fn *fn,
    void *userdata);

#ifdef __cplusplus
}
#endif

#endif /* MMAPCLIENT_H */
