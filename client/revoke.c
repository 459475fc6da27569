/*
 * libmmapclient: Revoke, an administrator's request to take leases
 * back.  The daemon judges who may ask; this only says what is asked.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "internal.h"

int
mmapclient_revoke(struct mmapclient *c,
    const struct mmapclient_revoke_what *what)
{
	Mmapd__V1__Request req = MMAPD__V1__REQUEST__INIT;
	Mmapd__V1__Revoke rv = MMAPD__V1__REVOKE__INIT;
	Mmapd__V1__Reply *rep;
	int ways, err, n;

	if (c == NULL)
		return -EINVAL;
	if (what == NULL)
		return conn_fail(c, -EINVAL, "nothing to revoke");
	ways = (what->lease_id != 0) + (what->by_uid != 0) +
	    (what->region != NULL && what->region[0] != '\0');
	if (ways != 1)
		return conn_fail(c, -EINVAL, "name exactly one of a lease, a "
		    "uid or a region to revoke (%d given)", ways);
	rv.lease_id = what->lease_id;
	rv.by_uid = what->by_uid != 0;
	rv.uid = what->by_uid ? (uint32_t)what->uid : 0;
	rv.region = (char *)(what->region != NULL ? what->region : "");
	rv.reason = (char *)(what->reason != NULL ? what->reason : "");
	req.body_case = MMAPD__V1__REQUEST__BODY_REVOKE;
	req.revoke = &rv;
	err = conn_call(c, &req, MMAPD__V1__REPLY__BODY_REVOKE, &rep, NULL);
	if (err)
		return err;
	/* The daemon counts what it chose; a count past int is a lie. */
	if (rep->revoke->leases > INT32_MAX)
		n = conn_break(c, -EPROTO, "the daemon says it revoked %u "
		    "leases", rep->revoke->leases);
	else
		n = (int)rep->revoke->leases;
	mmapd__v1__reply__free_unpacked(rep, NULL);
	return n;
}
