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

int
mmapclient_read(struct mmapclient *c, const char *device, uint64_t offset,
    unsigned int width, uint64_t *value)
{
	Mmapd__V1__Read rd = MMAPD__V1__READ__INIT;
	Mmapd__V1__Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Reply *rep;
	uint64_t v;
	int err;

	if (value)
		*value = 0;
	if (c == NULL)
		return -EINVAL;
	if (value == NULL)
		return conn_fail(c, -EINVAL, "no place to put the value");
	err = register_args(c, device, offset, width, 0);
	if (err)
		return err;

	rd.device = (char *)device;
	rd.offset = offset;
	rd.width = width;
	req.body_case = MMAPD__V1__REQUEST__BODY_READ;
	req.read = &rd;
	err = conn_call(c, &req, MMAPD__V1__REPLY__BODY_READ, &rep, NULL);
	if (err)
		return err;
	v = rep->read->value;
	mmapd__v1__reply__free_unpacked(rep, NULL);
	/* The protocol says zero-extended: more bits is not our register. */
	if (v & ~width_mask(width))
		return conn_break(c, -EPROTO, "the ReadReply's value %#llx is "
		    "wider than the %u bits asked", (unsigned long long)v,
		    width);
	*value = v;
	return 0;
}

int
mmapclient_write(struct mmapclient *c, const char *device, uint64_t offset,
    unsigned int width, uint64_t value)
{
	Mmapd__V1__Write wr = MMAPD__V1__WRITE__INIT;
	Mmapd__V1__Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Reply *rep;
	int err;

	if (c == NULL)
		return -EINVAL;
	err = register_args(c, device, offset, width, value);
	if (err)
		return err;

	wr.device = (char *)device;
	wr.offset = offset;
	wr.width = width;
	wr.value = value;
	req.body_case = MMAPD__V1__REQUEST__BODY_WRITE;
	req.write = &wr;
	err = conn_call(c, &req, MMAPD__V1__REPLY__BODY_WRITE, &rep, NULL);
	if (err)
		return err;
	mmapd__v1__reply__free_unpacked(rep, NULL);
	return 0;
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
