/*
 * Read, Write and Modify requests: the checks that decide them
 * (decide.c), then one register access each (a Modify is a load and a
 * store of one register), through a mapping the engine makes with
 * every check a Map gets, gone again before the reply.
 *
 * A Modify's load and store happen in one turn of the loop, which is
 * single-threaded: no other client's request runs between them, so two
 * clients' Modifies of one register never interleave inside mmapd.  A
 * process that maps the register itself, or the device, may still
 * change it between the two accesses.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "daemon.h"
#include "decide.h"
#include "log.h"
#include "mmapd.pb-c.h"
#include "regs.h"
#include "session-int.h"

static const char *
reg_op_name(const struct reg_op *op)
{
	return op->modify ? "modify" : op->write ? "write" : "read";
}

static void
audit_reg(struct session *s, const struct reg_op *op, int err,
    const char *why)
{
	char qd[QUOTE_LEN], qw[224], who[WHO_LEN];

	if (err == 0 && op->modify) {
		log_info("audit: event=modify %s device=%s offset=%#llx "
		    "width=%u clear=%#llx set=%#llx old=%#llx new=%#llx "
		    "result=ok errno=0", audit_who(s, who, sizeof(who)),
		    log_quote(op->device, qd, sizeof(qd)),
		    (unsigned long long)op->offset, op->width,
		    (unsigned long long)op->clear,
		    (unsigned long long)op->set,
		    (unsigned long long)op->old,
		    (unsigned long long)op->value);
		return;
	}
	if (err == 0) {
		log_info("audit: event=%s %s device=%s "
		    "offset=%#llx width=%u value=%#llx result=ok errno=0",
		    op->write ? "write" : "read",
		    audit_who(s, who, sizeof(who)),
		    log_quote(op->device, qd, sizeof(qd)),
		    (unsigned long long)op->offset, op->width,
		    (unsigned long long)op->value);
		return;
	}
	stats_deny(s->d, err);
	log_notice("audit: event=deny op=%s %s device=%s "
	    "offset=%#llx width=%u result=denied errno=%s msg=%s",
	    reg_op_name(op), audit_who(s, who, sizeof(who)),
	    log_quote(op->device, qd, sizeof(qd)),
	    (unsigned long long)op->offset, op->width, audit_errno_name(err),
	    log_quote(why, qw, sizeof(qw)));
}

/*
 * One register access through a mapping of its page, made by the engine
 * with every check a Map gets, and gone again before the reply.
 */
static int
reg_do(struct session *s, const struct policy_entry *e,
    const struct map_device *dev, uint64_t addr, struct reg_op *op,
    const char **why)
{
	struct mmapd *d = s->d;
	struct map_request req = { .dev = dev };
	struct map_result res = { .fd = -1 };
	uint64_t ps = map_page_size();
	volatile uint8_t *reg;
	void *p;
	int err;

	req.offset = addr & ~(ps - 1);
	req.size = ps;
	req.flags = MAP_DESC_SHARED | (op->write ? MAP_DESC_WRITE : 0);
	req.cache = e->cache;
	req.peer.uid = s->peer.uid;
	req.peer.gid = s->peer.gid;
	req.peer.pid = s->peer.pid;
	err = engine_map(&d->engine, &req, &res);
	if (err) {
		/* The reason may live in res, which is about to go. */
		snprintf(s->why, sizeof(s->why), "%s",
		    res.msg ? res.msg : strerror(-err));
		*why = s->why;
		return err;
	}
	p = mmap(NULL, (size_t)res.size, res.prot, res.mmap_flags, res.fd,
	    (off_t)res.offset);
	if (p == MAP_FAILED) {
		err = -errno;
		*why = "the kernel refused to map the register's page";
		goto out;
	}
	reg = (volatile uint8_t *)p + (addr - req.offset);
	if (op->modify) {
		/* The load, then the store, with nothing between. */
		err = regs_access(reg, op->width, 0, &op->old);
		op->value = (op->old & ~op->clear) | op->set;
		if (err == 0)
			err = regs_access(reg, op->width, 1, &op->value);
	} else {
		err = regs_access(reg, op->width, op->write, &op->value);
	}
	if (err == -EIO)
		*why = "the access faulted (SIGBUS): the device's memory was "
		    "revoked, likely claimed by a kernel driver";
	else if (err)
		*why = "bad width or alignment";
	if (munmap(p, (size_t)res.size) < 0 && err == 0) {
		err = -errno;
		*why = "cannot unmap the register's page";
	}
out:
	engine_result_close(&res);
	return err;
}

void
session_reg(struct session *s, uint64_t id, struct reg_op *op)
{
	Mmapd__V1__ReadReply rr = MMAPD__V1__READ_REPLY__INIT;
	Mmapd__V1__ModifyReply mr = MMAPD__V1__MODIFY_REPLY__INIT;
	Mmapd__V1__Ack ack = MMAPD__V1__ACK__INIT;
	Reply r = MMAPD__V1__REPLY__INIT;
	const char *why = NULL;
	struct reg_plan p;
	struct ask a;
	int err;

	ask_init(&a, s->d, s->peer.uid, s->peer.gid, s->peer.groups,
	    s->peer.n_groups);
	/* A Modify is decided as a Write; its bits are checked after. */
	err = decide_reg(&a, op->device, op->offset, op->width, op->write,
	    op->modify ? 0 : op->value, &p, &why);
	if (err == 0 && op->modify && (err = decide_modify_bits(op->width,
	    op->set, op->clear, s->why, sizeof(s->why))) != 0)
		why = s->why;
	if (err)
		goto deny;
	err = reg_do(s, p.e, p.dev, p.addr, op, &why);
	if (err)
		goto deny;

	audit_reg(s, op, 0, NULL);
	r.request_id = id;
	if (op->modify) {
		mr.old_value = op->old;
		mr.new_value = op->value;
		r.body_case = MMAPD__V1__REPLY__BODY_MODIFY;
		r.modify = &mr;
	} else if (op->write) {
		r.body_case = MMAPD__V1__REPLY__BODY_WRITE;
		r.write = &ack;
	} else {
		rr.value = op->value;
		r.body_case = MMAPD__V1__REPLY__BODY_READ;
		r.read = &rr;
	}
	reply_send(s, &r, -1);
	return;

deny:
	audit_reg(s, op, err, why ? why : strerror(-err));
	reply_error(s, id, err, why);
}
