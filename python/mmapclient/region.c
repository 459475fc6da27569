/*
 * Region: one mapped struct mmapclient_region.
 *
 * Ordinary memory (kind 'anon', 'shmem') is exported through the buffer
 * protocol, so memoryview(region) reads and writes it in place.  Every
 * export is counted, and release() refuses (BufferError) while one is
 * alive, as the mmap module's close() does: a memoryview over unmapped
 * memory would crash the interpreter at its next access.  Copying out
 * instead would lose what shared memory is for: seeing the writes of
 * the other processes that map it, as they happen.
 *
 * Device memory (kind 'device') is never exported: a memoryview would
 * let any code read or write it with any width, in any order (slicing,
 * bytes(), comparisons are memcpy() and memcmp()), which registers do
 * not forgive.  It is reached by read() and write() only, one access of
 * exactly the width asked, through libmmapclient's volatile accessors.
 */
#include "pymmapclient.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static int
region_live(RegionObject *self)
{
	if (self->r == NULL) {
		PyErr_SetString(PyExc_ValueError,
		    "operation on a released mmapclient.Region");
		return -1;
	}
	return 0;
}

/*
 * Unmap r and end its lease: Release on conn, or, once conn is closed
 * (the daemon ended the lease then), unmap only.  r is gone after this,
 * whatever it returns: 0, or a negative errno with its message in msg.
 */
static int
region_drop(ConnObject *conn, struct mmapclient_region *r, char *msg,
    size_t len)
{
	struct mmapclient *c;
	int err = 0;

	msg[0] = '\0';
	if (!PyThread_acquire_lock(conn->lock, NOWAIT_LOCK)) {
		Py_BEGIN_ALLOW_THREADS
		PyThread_acquire_lock(conn->lock, WAIT_LOCK);
		Py_END_ALLOW_THREADS
	}
	c = conn->c;
	if (c == NULL) {
		mmapclient_region_free(r);
	} else {
		Py_BEGIN_ALLOW_THREADS
		err = mmapclient_release(c, r);
		Py_END_ALLOW_THREADS
		if (err < 0)
			snprintf(msg, len, "%s", mmapclient_error(c));
	}
	PyThread_release_lock(conn->lock);
	return err;
}

PyObject *
pymc_region_new(ConnObject *conn, struct mmapclient_region *r,
    const char *device)
{
	RegionObject *self;
	char msg[8];

	self = PyObject_New(RegionObject, pymc_region_type);
	if (self == NULL)
		goto fail;
	self->r = NULL;
	self->exports = 0;
	self->device = strdup(device);
	Py_INCREF((PyObject *)conn);
	self->conn = conn;
	if (self->device == NULL) {
		PyErr_NoMemory();
		goto fail;
	}
	self->r = r;
	return (PyObject *)self;
fail:
	/* Nothing else knows of r: give the lease back now. */
	region_drop(conn, r, msg, sizeof(msg));
	Py_XDECREF((PyObject *)self);
	return NULL;
}

static void
region_dealloc(RegionObject *self)
{
	PyTypeObject *tp = Py_TYPE((PyObject *)self);
	freefunc tp_free = PyType_GetSlot(tp, Py_tp_free);
	char msg[8];

	/*
	 * No memoryview is alive: each holds a reference.  An error of the
	 * Release cannot be raised from here; r is unmapped all the same,
	 * and the lease ends with the connection at the latest.
	 */
	if (self->r != NULL)
		region_drop(self->conn, self->r, msg, sizeof(msg));
	Py_XDECREF((PyObject *)self->conn);
	free(self->device);
	tp_free(self);
	Py_DECREF((PyObject *)tp);
}

PyDoc_STRVAR(release_doc,
"release($self, /)\n--\n\n"
"Unmap the region and end its lease.  Raises BufferError, and changes\n"
"nothing, while a memoryview of it is alive: release those first\n"
"(memoryview.release(), or 'with region.buffer as m:').  Releasing\n"
"twice is harmless.  After a failed Release (OSError) the region is\n"
"unmapped all the same.");

static PyObject *
region_release(RegionObject *self, PyObject *unused)
{
	struct mmapclient_region *r = self->r;
	char msg[1024];
	int err;

	(void)unused;
	if (r == NULL)
		Py_RETURN_NONE;
	if (self->exports > 0) {
		PyErr_Format(PyExc_BufferError, "cannot release the region "
		    "of lease %llu: %zd memoryview(s) of it still exist; "
		    "release them first", (unsigned long long)r->lease_id,
		    self->exports);
		return NULL;
	}
	/* Gone for every thread before the GIL is let go. */
	self->r = NULL;
	err = region_drop(self->conn, r, msg, sizeof(msg));
	if (err < 0)
		return pymc_raise(err, msg, self->device);
	Py_RETURN_NONE;
}

static PyObject *
region_enter(RegionObject *self, PyObject *unused)
{
	(void)unused;
	if (region_live(self) < 0)
		return NULL;
	Py_INCREF((PyObject *)self);
	return (PyObject *)self;
}

static PyObject *
region_exit(RegionObject *self, PyObject *args)
{
	(void)args;
	return region_release(self, NULL);
}

/* ----------------------------------------------------------------------
 * The buffer protocol
 * ---------------------------------------------------------------------- */

static int
region_getbuffer(RegionObject *self, Py_buffer *view, int flags)
{
	struct mmapclient_region *r = self->r;

	if (r == NULL) {
		PyErr_SetString(PyExc_BufferError,
		    "the region is released: it has no memory");
		return -1;
	}
	if (r->kind == MMAPCLIENT_KIND_DEVICE) {
		PyErr_Format(PyExc_BufferError, "%s: device memory is not a "
		    "buffer: use Region.read() and Region.write(), exact-width "
		    "accesses", self->device);
		return -1;
	}
	if (PyBuffer_FillInfo(view, (PyObject *)self, r->addr,
	    (Py_ssize_t)r->size, (r->prot & PROT_WRITE) == 0, flags) < 0)
		return -1;
	self->exports++;
	return 0;
}

static void
region_releasebuffer(RegionObject *self, Py_buffer *view)
{
	(void)view;
	self->exports--;
}

static PyObject *
region_buffer(RegionObject *self, void *unused)
{
	(void)unused;
	return PyMemoryView_FromObject((PyObject *)self);
}

/* ----------------------------------------------------------------------
 * Exact-width access
 * ---------------------------------------------------------------------- */

/* The library sets no message for these: say what was wrong. */
static PyObject *
access_error(RegionObject *self, int err, uint64_t offset,
    unsigned int width, const char *what)
{
	char msg[256];

	switch (-err) {
	case EINVAL:
		if (offset % (width / 8) != 0)
			snprintf(msg, sizeof(msg), "%s of %u bits at offset "
			    "0x%llx: not a multiple of %u bytes", what, width,
			    (unsigned long long)offset, width / 8);
		else
			snprintf(msg, sizeof(msg), "%s of %u bits: the value "
			    "is wider than %u bits", what, width, width);
		break;
	case ERANGE:
		snprintf(msg, sizeof(msg), "%s of %u bits at offset 0x%llx: "
		    "outside the region's %zu bytes", what, width,
		    (unsigned long long)offset, self->r->size);
		break;
	case EACCES:
		snprintf(msg, sizeof(msg), "%s at offset 0x%llx: the region "
		    "is mapped read-only", what, (unsigned long long)offset);
		break;
	default:
		snprintf(msg, sizeof(msg), "%s: %s", what, strerror(-err));
		break;
	}
	return pymc_raise(err, msg, self->device);
}

PyDoc_STRVAR(rread_doc,
"read($self, /, offset, width)\n--\n\n"
"One load of exactly width bits (8, 16, 32 or 64) at offset bytes into\n"
"the region, naturally aligned, through a volatile pointer: how device\n"
"memory is read; returns the value, an int.  Works on a region of any\n"
"kind.  OSError: EINVAL (misaligned), ERANGE (outside the region).");

static PyObject *
region_read(RegionObject *self, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = { "offset", "width", NULL };
	uint64_t offset, value = 0;
	unsigned int width;
	int err;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "O&O&:read", kwlist,
	    pymc_u64_conv, &offset, pymc_width_conv, &width) ||
	    region_live(self) < 0)
		return NULL;
	err = mmapclient_region_read(self->r, offset, width, &value);
	if (err < 0)
		return access_error(self, err, offset, width, "read");
	return PyLong_FromUnsignedLongLong(value);
}

PyDoc_STRVAR(rwrite_doc,
"write($self, /, offset, width, value)\n--\n\n"
"One store of exactly width bits (8, 16, 32 or 64) at offset bytes into\n"
"the region, naturally aligned, through a volatile pointer: how device\n"
"memory is written.  value must fit the width.  OSError: EINVAL\n"
"(misaligned, value too wide), ERANGE (outside the region), EACCES\n"
"(mapped read-only).");

static PyObject *
region_write(RegionObject *self, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = { "offset", "width", "value", NULL };
	uint64_t offset, value;
	unsigned int width;
	int err;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "O&O&O&:write", kwlist,
	    pymc_u64_conv, &offset, pymc_width_conv, &width,
	    pymc_u64_conv, &value) ||
	    region_live(self) < 0)
		return NULL;
	err = mmapclient_region_write(self->r, offset, width, value);
	if (err < 0)
		return access_error(self, err, offset, width, "write");
	Py_RETURN_NONE;
}

/* ----------------------------------------------------------------------
 * Attributes
 * ---------------------------------------------------------------------- */

#define LIVE_OR_NULL(self) do {			\
	if (region_live(self) < 0)		\
		return NULL;			\
} while (0)

static PyObject *
get_size(RegionObject *self, void *unused)
{
	(void)unused;
	LIVE_OR_NULL(self);
	return PyLong_FromSize_t(self->r->size);
}

static PyObject *
get_lease_id(RegionObject *self, void *unused)
{
	(void)unused;
	LIVE_OR_NULL(self);
	return PyLong_FromUnsignedLongLong(self->r->lease_id);
}

static PyObject *
get_kind(RegionObject *self, void *unused)
{
	(void)unused;
	LIVE_OR_NULL(self);
	return PyUnicode_FromString(pymc_kind_name(self->r->kind));
}

static PyObject *
get_writable(RegionObject *self, void *unused)
{
	(void)unused;
	LIVE_OR_NULL(self);
	return PyBool_FromLong((self->r->prot & PROT_WRITE) != 0);
}

static PyObject *
get_shared(RegionObject *self, void *unused)
{
	(void)unused;
	LIVE_OR_NULL(self);
	return PyBool_FromLong(self->r->mmap_flags == MAP_SHARED);
}

static PyObject *
get_cache(RegionObject *self, void *unused)
{
	(void)unused;
	LIVE_OR_NULL(self);
	return PyUnicode_FromString(pymc_cache_name(self->r->cache));
}

static PyObject *
get_device(RegionObject *self, void *unused)
{
	(void)unused;
	return PyUnicode_FromString(self->device);
}

static PyObject *
get_released(RegionObject *self, void *unused)
{
	(void)unused;
	return PyBool_FromLong(self->r == NULL);
}

static PyObject *
region_repr(RegionObject *self)
{
	if (self->r == NULL)
		return PyUnicode_FromFormat("<mmapclient.Region %s released>",
		    self->device);
	return PyUnicode_FromFormat("<mmapclient.Region %s lease=%llu "
	    "size=%zu kind=%s>", self->device,
	    (unsigned long long)self->r->lease_id, self->r->size,
	    pymc_kind_name(self->r->kind));
}

#define GET(name, fn, doc) { name, (getter)(fn), NULL, doc, NULL }

static PyGetSetDef region_getset[] = {
	GET("buffer", region_buffer, "a new memoryview of the memory "
	    "(BufferError for device memory): use it in a with block"),
	GET("size", get_size, "mapped length in bytes (whole pages)"),
	GET("lease_id", get_lease_id, "the daemon's lease id"),
	GET("kind", get_kind, "'anon', 'shmem' or 'device'"),
	GET("writable", get_writable, "True: mapped read-write"),
	GET("shared", get_shared, "True: MAP_SHARED"),
	GET("cache", get_cache, "'cached', 'uncached' or 'wc'"),
	GET("device", get_device, "the device or region name asked"),
	GET("released", get_released, "True once released"),
	{ NULL, NULL, NULL, NULL, NULL },
};

#define METH(name, fn, flags, doc) \
	{ name, (PyCFunction)(void (*)(void))(fn), (flags), (doc) }

static PyMethodDef region_methods[] = {
	METH("read", region_read, METH_VARARGS | METH_KEYWORDS, rread_doc),
	METH("write", region_write, METH_VARARGS | METH_KEYWORDS,
	    rwrite_doc),
	METH("release", region_release, METH_NOARGS, release_doc),
	METH("__enter__", region_enter, METH_NOARGS,
	    "__enter__($self, /)\n--\n\nThe region itself."),
	METH("__exit__", region_exit, METH_VARARGS,
	    "__exit__($self, exc_type, exc_value, traceback, /)\n--\n\n"
	    "release()."),
	{ NULL, NULL, 0, NULL },
};

PyDoc_STRVAR(region_doc,
"A mapped region, made by Connection.map(); it holds a lease.\n\n"
"A context manager: leaving the with block releases it.  Memory of\n"
"kind 'anon' or 'shmem' is a buffer (memoryview(region), region.buffer);\n"
"device memory is reached by read() and write() only.");

static PyType_Slot region_slots[] = {
	{ Py_tp_dealloc, region_dealloc },
	{ Py_tp_repr, region_repr },
	{ Py_tp_methods, region_methods },
	{ Py_tp_getset, region_getset },
	{ Py_tp_doc, (void *)region_doc },
	{ Py_bf_getbuffer, region_getbuffer },
	{ Py_bf_releasebuffer, region_releasebuffer },
	{ 0, NULL },
};

static PyType_Spec region_spec = {
	.name = "mmapclient.Region",
	.basicsize = sizeof(RegionObject),
	/* Made by Connection.map() only. */
	.flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION,
	.slots = region_slots,
};

PyTypeObject *
pymc_region_type_new(void)
{
	return (PyTypeObject *)PyType_FromSpec(&region_spec);
}
