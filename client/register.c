/*
 * libmmapclient: register access done by the daemon.  Read and Write
 * carry one access of one width, Modify a load and a store of one
 * register; the daemon performs them through its own mapping, so the
 * client gets no fd and no lease.  A malformed access is refused here,
 * without a round trip.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>

#include "internal.h"

/* What every call checks before anything is sent. */
static int
register_args(struct mmapclient *c, const char *device, uint64_t offset,
    unsigned int width, uint64_t value)
{
	char why[MSG_MAX];

	if (device == NULL)
		return conn_fail(c, -EINVAL, "no device given");
	if (access_check(offset, width, value, why, sizeof(why)))
		return conn_fail(c, -EINVAL, "%s", why);
	return 0;
}

/* Send Read (value NULL) or Write as tmpl says; *id its request id. */
static int
register_start(struct mmapclient *c, const char *device, uint64_t offset,
    unsigned int width, const uint64_t *value, struct call *tmpl,
    uint64_t *id)
{
	Mmapd__V1__Read rd = MMAPD__V1__READ__INIT;
	Mmapd__V1__Write wr = MMAPD__V1__WRITE__INIT;
	Mmapd__V1__Request req = MMAPD__V1__REQUEST__INIT;
	int err;

	err = register_args(c, device, offset, width, value ? *value : 0);
	if (err)
		return err;
	if (value == NULL) {
		rd.device = (char *)device;
		rd.offset = offset;
		rd.width = width;
		req.body_case = MMAPD__V1__REQUEST__BODY_READ;
		req.read = &rd;
		tmpl->kind = CALL_READ;
		tmpl->width = width;
	} else {
		wr.device = (char *)device;
		wr.offset = offset;
		wr.width = width;
		wr.value = *value;
		req.body_case = MMAPD__V1__REQUEST__BODY_WRITE;
		req.write = &wr;
		tmpl->kind = CALL_ACK;
	}
	return call_start(c, &req, tmpl, id);
}

int
mmapclient_read(struct mmapclient *c, const char *device, uint64_t offset,
    unsigned int width, uint64_t *value)
{
	struct call tmpl = { .sync = 1, .fd = -1 }, res;
	uint64_t id;
	int err;

	if (value)
		*value = 0;
	if (c == NULL)
		return -EINVAL;
	if (value == NULL)
		return conn_fail(c, -EINVAL, "no place to put the value");
	err = register_start(c, device, offset, width, NULL, &tmpl, &id);
	if (err)
		return err;
	err = call_wait(c, id, &res);
	if (err == 0)
		*value = res.value;
	return err;
}

int
mmapclient_write(struct mmapclient *c, const char *device, uint64_t offset,
    unsigned int width, uint64_t value)
{
	struct call tmpl = { .sync = 1, .fd = -1 }, res;
	uint64_t id;
	int err;

	if (c == NULL)
		return -EINVAL;
	err = register_start(c, device, offset, width, &value, &tmpl, &id);
	if (err)
		return err;
	return call_wait(c, id, &res);
}

int
mmapclient_read_async(struct mmapclient *c, const char *device,
    uint64_t offset, unsigned int width, mmapclient_done_fn *done,
    void *userdata)
{
	struct call tmpl = { .fn = done, .arg = userdata, .fd = -1 };
	uint64_t id;

	if (c == NULL)
		return -EINVAL;
	if (done == NULL)
		return conn_fail(c, -EINVAL, "no callback to hand the value "
		    "to");
	return register_start(c, device, offset, width, NULL, &tmpl, &id);
}

int
mmapclient_write_async(struct mmapclient *c, const char *device,
    uint64_t offset, unsigned int width, uint64_t value,
    mmapclient_done_fn *done, void *userdata)
{
	struct call tmpl = { .fn = done, .arg = userdata, .fd = -1 };
	uint64_t id;

	if (c == NULL)
		return -EINVAL;
	return register_start(c, device, offset, width, &value, &tmpl, &id);
}

int
mmapclient_modify(struct mmapclient *c, const char *device, uint64_t offset,
    unsigned int width, uint64_t clear, uint64_t set, uint64_t *old_value,
    uint64_t *new_value)
{
	Mmapd__V1__Modify md = MMAPD__V1__MODIFY__INIT;
	Mmapd__V1__Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Reply *rep;
	uint64_t old, new;
	int err;

	if (old_value)
		*old_value = 0;
	if (new_value)
		*new_value = 0;
	if (c == NULL)
		return -EINVAL;
	err = register_args(c, device, offset, width, 0);
	if (err)
		return err;
	if (clear & ~width_mask(width))
		return conn_fail(c, -EINVAL, "clear %#llx does not fit in %u "
		    "bits", (unsigned long long)clear, width);
	if (set & ~width_mask(width))
		return conn_fail(c, -EINVAL, "set %#llx does not fit in %u "
		    "bits", (unsigned long long)set, width);

	md.device = (char *)device;
	md.offset = offset;
	md.width = width;
	md.clear = clear;
	md.set = set;
	req.body_case = MMAPD__V1__REQUEST__BODY_MODIFY;
	req.modify = &md;
	err = conn_call(c, &req, MMAPD__V1__REPLY__BODY_MODIFY, &rep, NULL);
	if (err)
		return err;
	old = rep->modify->old_value;
	new = rep->modify->new_value;
	mmapd__v1__reply__free_unpacked(rep, NULL);
	/* What was written follows from what was read and what was asked. */
	if ((old & ~width_mask(width)) || new != ((old & ~clear) | set))
		return conn_break(c, -EPROTO, "the ModifyReply says %#llx was "
		    "read and %#llx written, which (old & ~%#llx) | %#llx "
		    "in %u bits does not give", (unsigned long long)old,
		    (unsigned long long)new, (unsigned long long)clear,
		    (unsigned long long)set, width);
	if (old_value)
		*old_value = old;
	if (new_value)
		*new_value = new;
	return 0;
}
