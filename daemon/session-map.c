/*
 * A Map request: the checks that decide it (decide.c: the policy, the
 * device that serves the entry, how far the fd reaches, [limits]), the
 * grants in flight, then the engine and the lease.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conns.h"
#include "daemon.h"
#include "decide.h"
#include "mmapd.pb-c.h"
#include "reach.h"
#include "session-int.h"

/*
 * The engine's memfd for a shared grant is open for writing; a grant
 * without write gets a read-only open of it instead (found by
 * tests/fuzz/fuzz-request: a read-only Grant whose fd mapped writable).
 */
static int
result_read_only(struct map_result *res, const char **why)
{
	int fd = -1, err;

	if (res->kind != MAP_KIND_SHMEM || (res->prot & PROT_WRITE))
		return 0;
	err = shm_open_for(res->fd, 0, &fd);
	if (err) {
		engine_result_close(res);
		*why = "cannot reopen the shared memory read-only";
		return err;
	}
	close(res->fd);
	res->fd = fd;
	return 0;
}

/* Bytes for a person: "4095 bytes", "64 KiB", "1.1 GiB". */
const char *
session_size_text(uint64_t v, char *buf, size_t len)
{
	static const char *const units[] = {
		"KiB", "MiB", "GiB", "TiB", "PiB", "EiB",
	};
	uint64_t unit = 1024;
	unsigned int i = 0;

	if (v < unit) {
		snprintf(buf, len, "%llu bytes", (unsigned long long)v);
		return buf;
	}
	while (i + 1 < sizeof(units) / sizeof(units[0]) && v / 1024 >= unit) {
		unit *= 1024;
		i++;
	}
	if (v % unit == 0)
		snprintf(buf, len, "%llu %s", (unsigned long long)(v / unit),
		    units[i]);
	else
		snprintf(buf, len, "%.1f %s", (double)v / (double)unit,
		    units[i]);
	return buf;
}

/*
 * Decide and make one Map: 0 with g filled, *fdp the fd to send and
 * *notep its audit note (its lease made, counted as a grant queued);
 * or -errno, audited as a denial, with the reason for the reply copied
 * into whybuf (it may point into this frame's ask or result).  A lone
 * Map and each Map of a batch (session-batch.c) come here alike.
 */
int
session_map_one(struct session *s, uint64_t id, const Mmapd__V1__Map *m,
    Mmapd__V1__Grant *g, int *fdp, struct grant_note **notep,
    char *whybuf, size_t whylen)
{
	struct mmapd *d = s->d;
	struct ask a;
	struct map_plan p;
	struct map_request *req = &p.req;
	struct map_result res = { .fd = -1 };
	struct shm_name *shm = NULL;
	const char *why = NULL;
	struct grant_note *note;
	struct lease *l;
	char msg[REACH_LEN];
	int err, raw_err = 0;

	ask_init(&a, d, s->peer.uid, s->peer.gid, s->peer.groups,
	    s->peer.n_groups);
	err = decide_map(&a, m, &p, &why);
	if (err)
		goto deny;
	/* Fds this connection, its uid, everyone have not read yet. */
	err = conns_grant_check(s);
	if (err) {
		why = s->why;
		goto deny;
	}
	req->peer.pid = s->peer.pid;

	if (m->region[0] != '\0')
		err = shm_map(s, &a, m, req, &res, &shm, &why);
	else {
		err = engine_map(&d->engine, req, &res);
		why = res.msg;
		if (err)
			raw_err = res.raw_error;
		if (err == 0)
			err = result_read_only(&res, &why);
	}
	if (err)
		goto deny;

	/* A lease shows the offset as asked: within the region, if any. */
	l = lease_add(d, s, m->device, res.offset - p.base, res.size, res.prot,
	    res.mmap_flags == MAP_SHARED, shm);
	if (l == NULL) {
		if (shm != NULL)
			shm_put(d, shm);
		engine_result_close(&res);
		err = -ENOMEM;
		why = "out of memory";
		goto deny;
	}
	note = audit_grant_note(s, id, l, map_kind_name(res.kind), res.cache,
	    p.raw, p.wide ? reach_granted(p.e, p.bar, msg, sizeof(msg)) :
	    NULL);
	if (note == NULL) {
		lease_drop(d, l);
		engine_result_close(&res);
		err = -ENOMEM;
		why = "out of memory";
		goto deny;
	}
	g->lease_id = l->id;
	g->size = res.size;
	g->mmap_offset = res.offset;
	g->mmap_flags = (uint32_t)res.mmap_flags;
	g->prot = (uint32_t)res.prot;
	g->fd_kind = (Mmapd__V1__FdKind)res.kind;
	g->cache = (Mmapd__V1__CacheMode)res.cache;
	*fdp = res.fd;
	*notep = note;
	conns_grant_queued(s);
	return 0;

deny:
	if (why == NULL)
		why = strerror(-err);
	audit_deny(s, m, err, raw_err, why);
	snprintf(whybuf, whylen, "%s", why);
	return err;
}

void
session_map(struct session *s, uint64_t id, const Mmapd__V1__Map *m)
{
	Mmapd__V1__Grant g = MMAPD__V1__GRANT__INIT;
	Reply r = MMAPD__V1__REPLY__INIT;
	struct grant_note *note;
	struct lease *l;
	char why[REACH_LEN];
	int err, fd;

	err = session_map_one(s, id, m, &g, &fd, &note, why, sizeof(why));
	if (err) {
		reply_error(s, id, err, why);
		return;
	}
	r.request_id = id;
	r.body_case = MMAPD__V1__REPLY__BODY_GRANT;
	r.grant = &g;
	/*
	 * The fd goes out with the reply, and the audit line once it has
	 * (session_sent()); the server closes the fd then.
	 */
	reply_send(s, &r, fd);
	if (s->out_len == 0) {
		/* reply_send() refused it and closed the fd. */
		conns_grant_done(s, 0);
		l = lease_find(s->d, g.lease_id);
		if (l != NULL)
			lease_drop(s->d, l);
		free(note);
		return;
	}
	s->out_note = note;
}
