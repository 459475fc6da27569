/*
 * The Python package mmapclient: __init__.py, which re-exports the
 * extension mmapclient._mmapclient, a CPython extension over
 * libmmapclient made of these files.
 *
 * Built against the limited API of Python 3.11 (Py_LIMITED_API, set by
 * Makefile.am), so one _mmapclient.abi3.so serves every Python 3 from
 * 3.11 on; 3.11 is the first whose limited API has the buffer protocol.
 *
 *   module.c      the module: errors, the result types (Lease, Offer,
 *                 Status), names of kinds and cache modes, connect()
 *   connection.c  Connection: one struct mmapclient, its lock, and the
 *                 calls that go to the daemon
 *   region.c      Region: one struct mmapclient_region, its buffer
 *                 exports and its exact-width accessors
 *
 * The GIL is released while a call waits for the daemon; a lock per
 * connection then keeps the calls on it one at a time, as the library
 * asks (mmapclient.h, "Thread-safety").  A region's memory is only ever
 * touched with the GIL held, and a region is marked released, with the
 * GIL held, before it is unmapped: no thread can reach unmapped memory.
 */
#ifndef PYMMAPCLIENT_H
#define PYMMAPCLIENT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "mmapclient.h"

typedef struct {
	PyObject_HEAD
	struct mmapclient *c;		/* NULL once closed */
	int fd;				/* c's socket, for fileno() */
	PyThread_type_lock lock;	/* held by a call on c */
} ConnObject;

typedef struct {
	PyObject_HEAD
	struct mmapclient_region *r;	/* NULL once released */
	ConnObject *conn;		/* a strong reference */
	Py_ssize_t exports;		/* memoryviews alive over r */
	char *device;			/* as asked, for messages */
} RegionObject;

extern PyTypeObject *pymc_conn_type;
extern PyTypeObject *pymc_region_type;
extern PyTypeObject *pymc_lease_type;
extern PyTypeObject *pymc_offer_type;
extern PyTypeObject *pymc_status_type;

/* Raise OSError(-err, msg or strerror, what); returns NULL. */
PyObject *pymc_raise(int err, const char *msg, const char *what);
/* Names of the library's enums, for Python: "anon", "uncached", ... */
const char *pymc_kind_name(enum mmapclient_kind k);
const char *pymc_cache_name(enum mmapclient_cache c);
const char *pymc_offer_kind_name(enum mmapclient_offer_kind k);
const char *pymc_lease_state_name(enum mmapclient_lease_state st);
/* A cache name (or None) to the enum; -1 with ValueError raised. */
int	 pymc_cache_parse(PyObject *o, enum mmapclient_cache *out);
/* A width in bits: 8, 16, 32 or 64, else ValueError; -1 on error. */
int	 pymc_width_parse(PyObject *o, unsigned int *out);
/* "O&" converters: an int of 0 .. 2^64 - 1 (a uint64_t), a width. */
int	 pymc_u64_conv(PyObject *o, void *out);
int	 pymc_width_conv(PyObject *o, void *out);

/* connection.c */
PyObject *pymc_connect(PyObject *mod, PyObject *args, PyObject *kw);
PyTypeObject *pymc_conn_type_new(void);
/*
 * Take conn's lock, the GIL released while waiting; ValueError when the
 * connection is closed (the lock is then not held).  0 or -1.
 */
int	 pymc_conn_lock(ConnObject *conn);
void	 pymc_conn_unlock(ConnObject *conn);

/* region.c */
PyTypeObject *pymc_region_type_new(void);
/* A Region for r, mapped on conn; takes r (freed on failure). */
PyObject *pymc_region_new(ConnObject *conn, struct mmapclient_region *r,
	    const char *device);

#endif /* PYMMAPCLIENT_H */
