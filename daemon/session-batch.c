/*
 * Requests that do many things in one packet each way: a MapBatch, up
 * to WIRE_BATCH_MAX Maps answered by one GrantBatch with all its fds in
 * one SCM_RIGHTS, and a Release of many leases, quiet or not.  One
 * packet and one wake-up of the client instead of N is what they save;
 * every Map of a batch is still decided, counted and audited exactly as
 * a lone one (session_map_one()).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "mmapd.pb-c.h"
#include "session-int.h"

/* Room for one refusal's message in a GrantBatch, before any cut. */
#define BATCH_MSG	160

/*
 * Cut s to at most len bytes, not inside a UTF-8 sequence (the message
 * is a proto3 string).
 */
static void
msg_cut(char *s, size_t len)
{
	if (strlen(s) <= len)
		return;
	while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
		len--;
	s[len] = '\0';
}

/*
 * The reply did not fit a packet: refusals' messages are cut shorter
 * until it does (the audit lines keep them whole).  Grants alone always
 * fit: WIRE_BATCH_MAX of the widest take under 2 KiB.
 */
static size_t
batch_fit(Reply *r, char (*msgs)[BATCH_MSG], size_t n)
{
	static const size_t cuts[] = { 96, 48, 24, 0 };
	size_t len = mmapd__v1__reply__get_packed_size(r), i, k;

	for (k = 0; len > WIRE_MAX && k < sizeof(cuts) / sizeof(cuts[0]);
	    k++) {
		for (i = 0; i < n; i++)
			msg_cut(msgs[i], cuts[k]);
		len = mmapd__v1__reply__get_packed_size(r);
	}
	return len;
}

/* Grants made for a reply that cannot go: undone, logged result=failed. */
static void
batch_undo(struct session *s, struct grant_note *head, int *fds, size_t nfds,
    int err)
{
	size_t i;

	if (head != NULL)
		(void)session_sent(s, head, err, NULL, NULL);
	for (i = 0; i < nfds; i++)
		close(fds[i]);
}

void
session_batch(struct session *s, uint64_t id, const Mmapd__V1__MapBatch *mb)
{
	Mmapd__V1__BatchItem items[WIRE_BATCH_MAX], *pitems[WIRE_BATCH_MAX];
	Mmapd__V1__Grant grants[WIRE_BATCH_MAX];
	Mmapd__V1__GrantBatch gb = MMAPD__V1__GRANT_BATCH__INIT;
	Reply r = MMAPD__V1__REPLY__INIT;
	char msgs[WIRE_BATCH_MAX][BATCH_MSG];
	int fds[WIRE_BATCH_MAX], fd, err;
	struct grant_note *head = NULL, **tail = &head, *note;
	size_t i, n = mb->n_maps, nfds = 0, len;

	if (n == 0 || n > WIRE_BATCH_MAX) {
		snprintf(s->why, sizeof(s->why), "a MapBatch of %zu Maps: "
		    "from 1 to %u are taken", n, WIRE_BATCH_MAX);
		audit_limit(s, "map-batch", -EINVAL, s->why);
		reply_error(s, id, -EINVAL, s->why);
		return;
	}
	for (i = 0; i < n; i++) {
		mmapd__v1__batch_item__init(&items[i]);
		mmapd__v1__grant__init(&grants[i]);
		pitems[i] = &items[i];
		msgs[i][0] = '\0';
		items[i].message = msgs[i];
		/* A long reason is cut here; its audit line has it whole. */
		err = session_map_one(s, id, mb->maps[i], &grants[i], &fd,
		    &note, msgs[i], sizeof(msgs[i]));
		if (err) {
			items[i].error = -err;
			continue;
		}
		items[i].grant = &grants[i];
		fds[nfds++] = fd;
		*tail = note;
		tail = &note->next;
	}
	gb.items = pitems;
	gb.n_items = n;
	r.request_id = id;
	r.body_case = MMAPD__V1__REPLY__BODY_GRANTS;
	r.grants = &gb;
	len = batch_fit(&r, msgs, n);
	if (len > WIRE_MAX) {
		log_err("a GrantBatch of %zu items takes %zu bytes", n, len);
		batch_undo(s, head, fds, nfds, -EMSGSIZE);
		reply_error(s, id, -EMSGSIZE, "the batch's reply does not "
		    "fit a packet");
		return;
	}
	if (nfds > 0) {
		s->out_fds = malloc(nfds * sizeof(int));
		if (s->out_fds == NULL) {
			batch_undo(s, head, fds, nfds, -ENOMEM);
			reply_error(s, id, -ENOMEM, "out of memory");
			return;
		}
		memcpy(s->out_fds, fds, nfds * sizeof(int));
	}
	/* The fds go out with the reply, the grant lines once they have. */
	reply_send(s, &r, -1);
	if (s->out_len == 0) {
		/* Cannot be: its size was checked.  The connection closes. */
		free(s->out_fds);
		s->out_fds = NULL;
		batch_undo(s, head, fds, nfds, -EMSGSIZE);
		return;
	}
	s->out_nfds = (unsigned int)nfds;
	s->out_note = head;
}

/* Ids of leases not held, for the reply's message: the first few. */
#define RELEASE_NAMED	8

void
session_release(struct session *s, uint64_t id, const Mmapd__V1__Release *rel)
{
	Reply r = MMAPD__V1__REPLY__INIT;
	Mmapd__V1__Ack ack = MMAPD__V1__ACK__INIT;
	size_t i, n = 1 + rel->n_more_lease_ids, missing = 0, off;
	uint64_t lid;
	struct lease *l;
	char msg[256];
	int w;

	if (rel->n_more_lease_ids > WIRE_BATCH_MAX) {
		snprintf(msg, sizeof(msg), "a Release of %zu more leases: at "
		    "most %u are taken", rel->n_more_lease_ids,
		    WIRE_BATCH_MAX);
		reply_error(s, id, -EINVAL, msg);
		return;
	}
	off = (size_t)snprintf(msg, sizeof(msg), "no such lease on this "
	    "connection:");
	for (i = 0; i < n; i++) {
		lid = i == 0 ? rel->lease_id : rel->more_lease_ids[i - 1];
		l = lease_find(s->d, lid);
		if (l != NULL && l->owner == s) {
			audit_release(s, l, "request");
			lease_drop(s->d, l);
			continue;
		}
		if (missing++ < RELEASE_NAMED && off < sizeof(msg)) {
			w = snprintf(msg + off, sizeof(msg) - off, " %llu",
			    (unsigned long long)lid);
			off += w > 0 ? (size_t)w : 0;
		}
	}
	if (missing > 0) {
		if (n > 1 && off < sizeof(msg))
			snprintf(msg + off, sizeof(msg) - off, " (%zu of the "
			    "%zu named; the others were released)", missing,
			    n);
		reply_error(s, id, -ENOENT, msg);
		return;
	}
	/* Quiet: only a failure is answered, so a cycle costs one trip. */
	if (rel->quiet)
		return;
	r.request_id = id;
	r.body_case = MMAPD__V1__REPLY__BODY_RELEASE;
	r.release = &ack;
	reply_send(s, &r, -1);
}
