/*
 * Connection: one struct mmapclient and the calls that go to the daemon.
 *
 * Each call takes the connection's lock, drops the GIL, makes the one
 * library call, takes the GIL back, copies what the library said
 * (result, error message) and lets go of the lock; only then does it
 * make Python objects.  Making objects may run the garbage collector,
 * which may free a Region of this connection, whose release takes the
 * lock: holding it there would deadlock.
 *
 * A call added to the library is bound here in three steps: a method
 * function shaped like conn_read() (parse, CALL_LOCKED, build), a line
 * in conn_methods[], a docstring.
 */
#include "pymmapclient.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

/* What a failed call leaves: the errno and a copy of its message. */
struct call_err {
	int err;
	char msg[1024];
};

static void
err_keep(struct call_err *e, int err, const char *msg)
{
	e->err = err;
	snprintf(e->msg, sizeof(e->msg), "%s", msg != NULL ? msg : "");
}

/*
 * Run expr (assigning err) on self->c with the lock held and the GIL
 * released; on failure keep the error in ce.  Ends with the lock let go.
 */
#define CALL_LOCKED(self, ce, expr) do {				\
	if (pymc_conn_lock(self) < 0)					\
		return NULL;						\
	Py_BEGIN_ALLOW_THREADS						\
	err = (expr);							\
	Py_END_ALLOW_THREADS						\
	if (err < 0)							\
		err_keep(&(ce), err, mmapclient_error((self)->c));	\
	pymc_conn_unlock(self);						\
} while (0)

int
pymc_conn_lock(ConnObject *conn)
{
	if (!PyThread_acquire_lock(conn->lock, NOWAIT_LOCK)) {
		Py_BEGIN_ALLOW_THREADS
		PyThread_acquire_lock(conn->lock, WAIT_LOCK);
		Py_END_ALLOW_THREADS
	}
	if (conn->c == NULL) {
		PyThread_release_lock(conn->lock);
		PyErr_SetString(PyExc_ValueError,
		    "operation on a closed mmapclient.Connection");
		return -1;
	}
	return 0;
}

void
pymc_conn_unlock(ConnObject *conn)
{
	PyThread_release_lock(conn->lock);
}

/* ----------------------------------------------------------------------
 * connect() and the object's life
 * ---------------------------------------------------------------------- */

PyObject *
pymc_connect(PyObject *mod, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = { "path", "name", NULL };
	PyObject *o_path = Py_None, *path = NULL;
	const char *p = NULL, *name = NULL;
	struct mmapclient *c = NULL;
	ConnObject *self = NULL;
	int err;

	(void)mod;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "|Oz:connect", kwlist,
	    &o_path, &name))
		return NULL;
	/* str, bytes or os.PathLike, as open() takes; None: the default. */
	if (o_path != Py_None) {
		if (!PyUnicode_FSConverter(o_path, &path))
			return NULL;
		p = PyBytes_AsString(path);
		if (p == NULL)
			goto fail;
	}
	self = PyObject_New(ConnObject, pymc_conn_type);
	if (self == NULL)
		goto fail;
	self->c = NULL;
	self->fd = -1;
	self->lock = PyThread_allocate_lock();
	if (self->lock == NULL) {
		PyErr_NoMemory();
		goto fail;
	}
	/* mmapclient_error(NULL) is this thread's: the GIL keeps us on it. */
	Py_BEGIN_ALLOW_THREADS
	err = mmapclient_connect_named(p, name, &c);
	Py_END_ALLOW_THREADS
	if (err < 0) {
		pymc_raise(err, mmapclient_error(NULL),
		    p != NULL && *p != '\0' ? p : NULL);
		goto fail;
	}
	self->c = c;
	self->fd = mmapclient_fd(c);
	Py_XDECREF(path);
	return (PyObject *)self;
fail:
	Py_XDECREF(path);
	Py_XDECREF((PyObject *)self);
	return NULL;
}

static void
conn_dealloc(ConnObject *self)
{
	PyTypeObject *tp = Py_TYPE((PyObject *)self);
	freefunc tp_free = PyType_GetSlot(tp, Py_tp_free);

	/* Every Region holds a reference: none is left to need c. */
	mmapclient_close(self->c);
	if (self->lock != NULL)
		PyThread_free_lock(self->lock);
	tp_free(self);
	Py_DECREF((PyObject *)tp);
}

PyDoc_STRVAR(close_doc,
"close($self, /)\n--\n\n"
"Close the connection: the daemon ends every lease it holds.  Regions\n"
"still mapped stay mapped and usable until released (their release\n"
"then only unmaps).  Closing twice is harmless.");

static PyObject *
conn_close(ConnObject *self, PyObject *unused)
{
	(void)unused;
	if (pymc_conn_lock(self) < 0) {
		/* Closed already. */
		PyErr_Clear();
		Py_RETURN_NONE;
	}
	mmapclient_close(self->c);
	self->c = NULL;
	pymc_conn_unlock(self);
	Py_RETURN_NONE;
}

static PyObject *
conn_enter(ConnObject *self, PyObject *unused)
{
	(void)unused;
	if (self->c == NULL) {
		PyErr_SetString(PyExc_ValueError,
		    "operation on a closed mmapclient.Connection");
		return NULL;
	}
	Py_INCREF((PyObject *)self);
	return (PyObject *)self;
}

static PyObject *
conn_exit(ConnObject *self, PyObject *args)
{
	(void)args;
	return conn_close(self, NULL);
}

PyDoc_STRVAR(fileno_doc,
"fileno($self, /)\n--\n\n"
"The connection's socket (an int), for select() and poll(): it becomes\n"
"readable outside a call only when the daemon closes the connection.\n"
"Never read, write or close it.");

static PyObject *
conn_fileno(ConnObject *self, PyObject *unused)
{
	(void)unused;
	if (self->c == NULL) {
		PyErr_SetString(PyExc_ValueError,
		    "operation on a closed mmapclient.Connection");
		return NULL;
	}
	return PyLong_FromLong(self->fd);
}

static PyObject *
conn_closed(ConnObject *self, void *unused)
{
	(void)unused;
	return PyBool_FromLong(self->c == NULL);
}

static PyObject *
conn_repr(ConnObject *self)
{
	if (self->c == NULL)
		return PyUnicode_FromString("<mmapclient.Connection closed>");
	return PyUnicode_FromFormat("<mmapclient.Connection fd=%d>",
	    self->fd);
}

/* ----------------------------------------------------------------------
 * The calls
 * ---------------------------------------------------------------------- */

PyDoc_STRVAR(map_doc,
"map($self, /, device, size, offset=0, shared=False, write=False,\n"
"    cache=None, region=None, create=False, attach=False)\n--\n\n"
"Ask the daemon for a mapping of size bytes at offset into device\n"
"('zero', 'mem' or a region name) and map it.  shared: MAP_SHARED (a\n"
"sealed memfd for zero; required to write device memory).  write:\n"
"read-write.  cache: None or 'default' (the device's choice), 'cached',\n"
"'uncached' or 'wc'.  region: the name of a named shared-memory region\n"
"(device 'zero', shared=True); create=True makes it (FileExistsError\n"
"when it exists), attach=True only attaches (FileNotFoundError when it\n"
"does not), neither does either.  Returns a Region, which holds the\n"
"lease until released (use it as a context manager).  Raises OSError\n"
"with the daemon's errno and message when refused.");

static PyObject *
conn_map(ConnObject *self, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = { "device", "size", "offset", "shared",
		"write", "cache", "region", "create", "attach", NULL };
	struct mmapclient_request req = { .device = NULL };
	struct mmapclient_region *r = NULL;
	PyObject *cache = Py_None;
	int shared = 0, write = 0, create = 0, attach = 0, err;
	struct call_err ce;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "sO&|O&ppOzpp:map", kwlist,
	    &req.device, pymc_u64_conv, &req.size, pymc_u64_conv,
	    &req.offset, &shared, &write, &cache, &req.region, &create,
	    &attach))
		return NULL;
	if (pymc_cache_parse(cache, &req.cache) < 0)
		return NULL;
	req.flags = (shared ? MMAPCLIENT_SHARED : 0) |
	    (write ? MMAPCLIENT_WRITE : 0) |
	    (create ? MMAPCLIENT_CREATE : 0) |
	    (attach ? MMAPCLIENT_ATTACH : 0);
	CALL_LOCKED(self, ce, mmapclient_map(self->c, &req, &r));
	if (err < 0)
		return pymc_raise(ce.err, ce.msg, req.device);
	return pymc_region_new(self, r, req.device);
}

PyDoc_STRVAR(read_doc,
"read($self, /, device, offset, width=32)\n--\n\n"
"Have the daemon load one register: a single access of exactly width\n"
"bits (8, 16, 32 or 64) at offset bytes into device ('mem': the\n"
"physical address), through its own mapping; no lease is taken.  The\n"
"policy judges it as a map of width / 8 bytes at offset.  Returns\n"
"the value, an int.");

static PyObject *
conn_read(ConnObject *self, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = { "device", "offset", "width", NULL };
	const char *device;
	uint64_t offset, value = 0;
	unsigned int width = 32;
	struct call_err ce;
	int err;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "sO&|O&:read", kwlist,
	    &device, pymc_u64_conv, &offset, pymc_width_conv, &width))
		return NULL;
	CALL_LOCKED(self, ce,
	    mmapclient_read(self->c, device, offset, width, &value));
	if (err < 0)
		return pymc_raise(ce.err, ce.msg, device);
	return PyLong_FromUnsignedLongLong(value);
}

PyDoc_STRVAR(write_doc,
"write($self, /, device, offset, width, value)\n--\n\n"
"Have the daemon store one register: a single access of exactly width\n"
"bits (8, 16, 32 or 64) at offset bytes into device.  value must fit\n"
"the width.  The policy entry must be read-write (else\n"
"PermissionError, EACCES).");

static PyObject *
conn_write(ConnObject *self, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = { "device", "offset", "width", "value",
		NULL };
	const char *device;
	uint64_t offset, value;
	unsigned int width;
	struct call_err ce;
	int err;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "sO&O&O&:write", kwlist,
	    &device, pymc_u64_conv, &offset, pymc_width_conv, &width,
	    pymc_u64_conv, &value))
		return NULL;
	CALL_LOCKED(self, ce,
	    mmapclient_write(self->c, device, offset, width, value));
	if (err < 0)
		return pymc_raise(ce.err, ce.msg, device);
	Py_RETURN_NONE;
}

/* Daemon text (client names are any bytes a client sent): never fails. */
static PyObject *
text(const char *s)
{
	if (s == NULL)
		s = "";
	return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "replace");
}

/* A struct sequence of tp from n new references; steals them all. */
static PyObject *
seq_make(PyTypeObject *tp, PyObject **items, Py_ssize_t n)
{
	PyObject *seq = NULL;
	Py_ssize_t i;

	for (i = 0; i < n; i++)
		if (items[i] == NULL)
			goto fail;
	seq = PyStructSequence_New(tp);
	if (seq == NULL)
		goto fail;
	for (i = 0; i < n; i++)
		PyStructSequence_SetItem(seq, i, items[i]);
	return seq;
fail:
	for (i = 0; i < n; i++)
		Py_XDECREF(items[i]);
	return NULL;
}

static PyObject *
lease_make(const struct mmapclient_lease *l)
{
	PyObject *it[] = {
		PyLong_FromUnsignedLongLong(l->id),
		PyLong_FromUnsignedLong((unsigned long)l->uid),
		PyLong_FromLong((long)l->pid),
		text(l->device),
		PyLong_FromUnsignedLongLong(l->offset),
		PyLong_FromUnsignedLongLong(l->size),
		PyBool_FromLong((l->prot & PROT_WRITE) != 0),
		PyBool_FromLong(l->shared),
		PyLong_FromLongLong(l->created_unix_sec),
		text(l->region),
		text(l->client),
		text(l->user),
		PyUnicode_FromString(pymc_lease_state_name(l->state)),
		PyLong_FromLongLong(l->deadline_unix_sec),
		text(l->revoke_reason),
	};

	return seq_make(pymc_lease_type, it, sizeof(it) / sizeof(it[0]));
}

PyDoc_STRVAR(list_doc,
"list($self, /)\n--\n\n"
"A list of Lease: those the daemon lets this client see (at least its\n"
"own), in increasing id order.");

static PyObject *
conn_list(ConnObject *self, PyObject *unused)
{
	struct mmapclient_lease *leases = NULL;
	PyObject *out = NULL, *l;
	struct call_err ce;
	size_t n = 0, i;
	int err;

	(void)unused;
	CALL_LOCKED(self, ce, mmapclient_list(self->c, &leases, &n));
	if (err < 0)
		return pymc_raise(ce.err, ce.msg, NULL);
	out = PyList_New(0);
	for (i = 0; out != NULL && i < n; i++) {
		l = lease_make(&leases[i]);
		if (l == NULL || PyList_Append(out, l) < 0)
			Py_CLEAR(out);
		Py_XDECREF(l);
	}
	mmapclient_leases_free(leases);
	return out;
}

PyDoc_STRVAR(revoke_doc,
"revoke($self, /, *, lease_id=None, uid=None, region=None,\n"
"    reason=None)\n--\n\n"
"Revoke leases (root, or the daemon's admin_group): exactly one of\n"
"lease_id, uid (every lease of that uid) or region (every lease of\n"
"that device, region or shared-memory name).  Each holder has its\n"
"entry's revoke_seconds to release; then on_revoke enforces it.\n"
"reason (at most 100 bytes) goes to the holders and the log.  Returns\n"
"how many leases were chosen.  PermissionError (EPERM) for anyone\n"
"else, FileNotFoundError (ENOENT) when no lease matches.");

static PyObject *
conn_revoke(ConnObject *self, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = { "lease_id", "uid", "region", "reason",
		NULL };
	struct mmapclient_revoke_what what = { .lease_id = 0 };
	PyObject *o_lease = Py_None, *o_uid = Py_None;
	struct call_err ce;
	uint64_t uid;
	int err;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "|$OOzz:revoke", kwlist,
	    &o_lease, &o_uid, &what.region, &what.reason))
		return NULL;
	if (o_lease != Py_None && !pymc_u64_conv(o_lease, &what.lease_id))
		return NULL;
	if (o_uid != Py_None) {
		if (!pymc_u64_conv(o_uid, &uid))
			return NULL;
		if (uid != (uid_t)uid) {
			PyErr_Format(PyExc_OverflowError, "uid %llu: not a "
			    "uid", (unsigned long long)uid);
			return NULL;
		}
		what.by_uid = 1;
		what.uid = (uid_t)uid;
	}
	CALL_LOCKED(self, ce, mmapclient_revoke(self->c, &what));
	if (err < 0)
		return pymc_raise(ce.err, ce.msg, what.region);
	return PyLong_FromLong(err);
}

static PyObject *
offer_make(const struct mmapclient_offer *o,
    const struct mmapclient_offer_terms *t)
{
	PyObject *it[] = {
		text(o->name),
		PyUnicode_FromString(pymc_offer_kind_name(o->kind)),
		PyLong_FromUnsignedLongLong(t->max_size),
		PyBool_FromLong((t->prot & PROT_WRITE) != 0),
		PyBool_FromLong(t->shared),
		PyUnicode_FromString(pymc_cache_name(t->cache)),
		PyLong_FromUnsignedLongLong(t->size),
		PyBool_FromLong(t->registers_only),
	};

	return seq_make(pymc_offer_type, it, sizeof(it) / sizeof(it[0]));
}

static PyObject *
status_make(const struct mmapclient_status *s)
{
	static const struct mmapclient_offer_terms none;
	PyObject *offers, *o;
	size_t i;

	offers = PyTuple_New((Py_ssize_t)s->n_offers);
	for (i = 0; offers != NULL && i < s->n_offers; i++) {
		o = offer_make(&s->offers[i],
		    s->terms != NULL ? &s->terms[i] : &none);
		if (o == NULL)
			Py_CLEAR(offers);
		else
			PyTuple_SetItem(offers, (Py_ssize_t)i, o);
	}
	{
		PyObject *it[] = {
			text(s->version),
			PyLong_FromUnsignedLongLong(s->uptime_sec),
			PyLong_FromUnsignedLong(s->clients),
			PyLong_FromUnsignedLong(s->leases),
			offers,
			PyLong_FromSize_t(s->offers_left_out),
		};

		return seq_make(pymc_status_type, it,
		    sizeof(it) / sizeof(it[0]));
	}
}

PyDoc_STRVAR(status_doc,
"status($self, /)\n--\n\n"
"A Status: the daemon's version, uptime, clients and leases, and the\n"
"offers this caller may use (root: all of them), each with its terms.");

static PyObject *
conn_status(ConnObject *self, PyObject *unused)
{
	struct mmapclient_status *s = NULL;
	struct call_err ce;
	PyObject *out;
	int err;

	(void)unused;
	CALL_LOCKED(self, ce, mmapclient_status(self->c, &s));
	if (err < 0)
		return pymc_raise(ce.err, ce.msg, NULL);
	out = status_make(s);
	mmapclient_status_free(s);
	return out;
}

/* ----------------------------------------------------------------------
 * The type
 * ---------------------------------------------------------------------- */

#define METH(name, fn, flags, doc) \
	{ name, (PyCFunction)(void (*)(void))(fn), (flags), (doc) }

static PyMethodDef conn_methods[] = {
	METH("map", conn_map, METH_VARARGS | METH_KEYWORDS, map_doc),
	METH("read", conn_read, METH_VARARGS | METH_KEYWORDS, read_doc),
	METH("write", conn_write, METH_VARARGS | METH_KEYWORDS, write_doc),
	METH("list", conn_list, METH_NOARGS, list_doc),
	METH("revoke", conn_revoke, METH_VARARGS | METH_KEYWORDS,
	    revoke_doc),
	METH("status", conn_status, METH_NOARGS, status_doc),
	METH("fileno", conn_fileno, METH_NOARGS, fileno_doc),
	METH("close", conn_close, METH_NOARGS, close_doc),
	METH("__enter__", conn_enter, METH_NOARGS,
	    "__enter__($self, /)\n--\n\nThe connection itself."),
	METH("__exit__", conn_exit, METH_VARARGS,
	    "__exit__($self, exc_type, exc_value, traceback, /)\n--\n\n"
	    "close()."),
	{ NULL, NULL, 0, NULL },
};

static PyGetSetDef conn_getset[] = {
	{ "closed", (getter)conn_closed, NULL, "True once closed", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

PyDoc_STRVAR(conn_doc,
"A connection to mmapd, made by mmapclient.connect().\n\n"
"A context manager: leaving the with block closes it.  Calls on one\n"
"connection from several threads are made one at a time; other\n"
"threads run while a call waits for the daemon.");

static PyType_Slot conn_slots[] = {
	{ Py_tp_dealloc, conn_dealloc },
	{ Py_tp_repr, conn_repr },
	{ Py_tp_methods, conn_methods },
	{ Py_tp_getset, conn_getset },
	{ Py_tp_doc, (void *)conn_doc },
	{ 0, NULL },
};

static PyType_Spec conn_spec = {
	.name = "mmapclient.Connection",
	.basicsize = sizeof(ConnObject),
	/* Made by connect() only: object.__new__ would leave no lock. */
	.flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION,
	.slots = conn_slots,
};

PyTypeObject *
pymc_conn_type_new(void)
{
	return (PyTypeObject *)PyType_FromSpec(&conn_spec);
}
