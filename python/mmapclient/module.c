/*
 * mmapclient._mmapclient, the extension the package mmapclient
 * (__init__.py) re-exports: its errors, its result types and connect().
 * See pymmapclient.h for the layout, README.md ("Python") for the use.
 */
#include "pymmapclient.h"

#include <errno.h>
#include <string.h>

PyTypeObject *pymc_conn_type;
PyTypeObject *pymc_region_type;
PyTypeObject *pymc_lease_type;
PyTypeObject *pymc_offer_type;
PyTypeObject *pymc_status_type;

/*
 * OSError(errno, message[, what]): OSError's constructor picks the
 * subclass by errno (PermissionError for EACCES and EPERM,
 * FileNotFoundError for ENOENT, ...), so the exception is made by
 * calling it, then raised as what it became.
 */
PyObject *
pymc_raise(int err, const char *msg, const char *what)
{
	PyObject *text, *exc;
	int e = err < 0 ? -err : err;

	if (msg == NULL || *msg == '\0')
		msg = strerror(e);
	text = PyUnicode_DecodeUTF8(msg, (Py_ssize_t)strlen(msg), "replace");
	if (text == NULL)
		return NULL;
	if (what != NULL)
		exc = PyObject_CallFunction(PyExc_OSError, "iOs", e, text,
		    what);
	else
		exc = PyObject_CallFunction(PyExc_OSError, "iO", e, text);
	Py_DECREF(text);
	if (exc == NULL)
		return NULL;
	PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
	Py_DECREF(exc);
	return NULL;
}

const char *
pymc_kind_name(enum mmapclient_kind k)
{
	switch (k) {
	case MMAPCLIENT_KIND_ANON:
		return "anon";
	case MMAPCLIENT_KIND_SHMEM:
		return "shmem";
	case MMAPCLIENT_KIND_DEVICE:
		return "device";
	}
	return "unknown";
}

static const char *const cache_names[] = {
	[MMAPCLIENT_CACHE_DEFAULT] = "default",
	[MMAPCLIENT_CACHE_CACHED] = "cached",
	[MMAPCLIENT_CACHE_UNCACHED] = "uncached",
	[MMAPCLIENT_CACHE_WC] = "wc",
};

const char *
pymc_cache_name(enum mmapclient_cache c)
{
	if ((unsigned int)c < sizeof(cache_names) / sizeof(cache_names[0]))
		return cache_names[c];
	return "unknown";
}

const char *
pymc_lease_state_name(enum mmapclient_lease_state st)
{
	switch (st) {
	case MMAPCLIENT_LEASE_HELD:
		return "held";
	case MMAPCLIENT_LEASE_REVOKING:
		return "revoking";
	case MMAPCLIENT_LEASE_REVOKED:
		return "revoked";
	}
	return "unknown";
}

const char *
pymc_offer_kind_name(enum mmapclient_offer_kind k)
{
	switch (k) {
	case MMAPCLIENT_OFFER_DEVICE:
		return "device";
	case MMAPCLIENT_OFFER_REGION:
		return "region";
	case MMAPCLIENT_OFFER_SHM:
		return "shm";
	}
	return "unknown";
}

int
pymc_cache_parse(PyObject *o, enum mmapclient_cache *out)
{
	const char *s;
	size_t i;

	*out = MMAPCLIENT_CACHE_DEFAULT;
	if (o == NULL || o == Py_None)
		return 0;
	if (!PyUnicode_Check(o)) {
		PyErr_SetString(PyExc_TypeError, "cache must be None or a "
		    "str: 'default', 'cached', 'uncached' or 'wc'");
		return -1;
	}
	s = PyUnicode_AsUTF8AndSize(o, NULL);
	if (s == NULL)
		return -1;
	for (i = 0; i < sizeof(cache_names) / sizeof(cache_names[0]); i++) {
		if (strcmp(s, cache_names[i]) == 0) {
			*out = (enum mmapclient_cache)i;
			return 0;
		}
	}
	PyErr_Format(PyExc_ValueError, "cache %R: not 'default', 'cached', "
	    "'uncached' or 'wc'", o);
	return -1;
}

int
pymc_u64_conv(PyObject *o, void *out)
{
	unsigned long long v;
	PyObject *i;

	/* Whatever has __index__ (numpy's integers too), as int() would. */
	i = PyNumber_Index(o);
	if (i == NULL)
		return 0;
	v = PyLong_AsUnsignedLongLong(i);
	Py_DECREF(i);
	if (v == (unsigned long long)-1 && PyErr_Occurred())
		return 0;
	*(uint64_t *)out = v;
	return 1;
}

int
pymc_width_conv(PyObject *o, void *out)
{
	return pymc_width_parse(o, out) == 0;
}

int
pymc_width_parse(PyObject *o, unsigned int *out)
{
	long w;

	w = PyLong_AsLong(o);
	if (w == -1 && PyErr_Occurred())
		return -1;
	if (w != 8 && w != 16 && w != 32 && w != 64) {
		PyErr_Format(PyExc_ValueError, "width %ld: the width is in "
		    "bits, 8, 16, 32 or 64", w);
		return -1;
	}
	*out = (unsigned int)w;
	return 0;
}

/* ----------------------------------------------------------------------
 * The result types: struct sequences, like os.stat_result, so a Lease
 * is a tuple with named fields.  A field a later library adds goes at
 * the end of its list, so code unpacking the old ones keeps working.
 * ---------------------------------------------------------------------- */

static PyStructSequence_Field lease_fields[] = {
	{ "id", "the daemon's lease id" },
	{ "uid", "uid of the client holding it" },
	{ "pid", "pid of the client holding it" },
	{ "device", "the device or region name it was asked with" },
	{ "offset", "offset as granted" },
	{ "size", "size in bytes as granted" },
	{ "writable", "True: mapped read-write" },
	{ "shared", "True: MAP_SHARED" },
	{ "created", "when granted, seconds since the epoch" },
	{ "region", "its shared-memory region's name, '' for none" },
	{ "client", "the name its client gave in Hello" },
	{ "user", "the holder's user name, '' when it has none" },
	{ "state", "'held', 'revoking' (told, deadline set) or 'revoked' "
	    "(past it, kept: on_revoke = log)" },
	{ "deadline", "revoking: when it is enforced, seconds since the "
	    "epoch; else 0" },
	{ "revoke_reason", "revoking, revoked: why; else ''" },
	{ NULL, NULL },
};

static PyStructSequence_Desc lease_desc = {
	"mmapclient.Lease", "One lease, as Connection.list() shows it.",
	lease_fields, 15,
};

static PyStructSequence_Field offer_fields[] = {
	{ "name", "what Connection.map() takes as device" },
	{ "kind", "'device', 'region' or 'shm' (map 'zero' with region=)" },
	{ "max_size", "the largest size one map may ask, 0: not said" },
	{ "writable", "True: a map may be read-write" },
	{ "shared", "True: shared=True may be asked" },
	{ "cache", "the cache mode a default map gets" },
	{ "size", "a region's size, 0 for a device" },
	{ "registers_only", "True: map refused, read and write serve" },
	{ NULL, NULL },
};

static PyStructSequence_Desc offer_desc = {
	"mmapclient.Offer", "A device or region the daemon offers the caller.",
	offer_fields, 8,
};

static PyStructSequence_Field status_fields[] = {
	{ "version", "the daemon's package version" },
	{ "uptime", "seconds since the daemon started" },
	{ "clients", "connections open now, this one included" },
	{ "leases", "leases held now, by all clients" },
	{ "offers", "a tuple of Offer: what this caller may use" },
	{ "offers_left_out", "offers that did not fit the daemon's reply" },
	{ NULL, NULL },
};

static PyStructSequence_Desc status_desc = {
	"mmapclient.Status", "The daemon's state, as Connection.status() "
	"reports it.", status_fields, 6,
};

/* ----------------------------------------------------------------------
 * The module
 * ---------------------------------------------------------------------- */

PyDoc_STRVAR(connect_doc,
"connect(path=None, name=None)\n--\n\n"
"Connect to mmapd; returns a Connection.  path is the socket (str,\n"
"bytes or path-like); None means $MMAPD_SOCKET, else\n"
"/run/mmapd/mmapd.sock.  name is the client name the daemon logs (at\n"
"most 255 bytes of UTF-8); None means the program's name.  Raises\n"
"OSError with the errno and message when the connection or Hello fails\n"
"(FileNotFoundError: no socket there, ConnectionRefusedError: no daemon\n"
"listens, PermissionError: the socket's mode keeps the caller out).");

static PyMethodDef module_methods[] = {
	{ "connect", (PyCFunction)(void (*)(void))pymc_connect,
	    METH_VARARGS | METH_KEYWORDS, connect_doc },
	{ NULL, NULL, 0, NULL },
};

PyDoc_STRVAR(module_doc,
"The extension half of the package mmapclient: import mmapclient, whose\n"
"names these are.");

static struct PyModuleDef module_def = {
	PyModuleDef_HEAD_INIT,
	.m_name = "mmapclient._mmapclient",
	.m_doc = module_doc,
	.m_size = -1,
	.m_methods = module_methods,
};

static int
add_type(PyObject *mod, const char *name, PyTypeObject *tp)
{
	if (tp == NULL)
		return -1;
	Py_INCREF((PyObject *)tp);
	if (PyModule_AddObject(mod, name, (PyObject *)tp) < 0) {
		Py_DECREF((PyObject *)tp);
		return -1;
	}
	return 0;
}

PyMODINIT_FUNC PyInit__mmapclient(void);

PyMODINIT_FUNC
PyInit__mmapclient(void)
{
	PyObject *mod;

	/* One interpreter's module: single-phase init, types made once. */
	if (pymc_conn_type == NULL) {
		pymc_conn_type = pymc_conn_type_new();
		pymc_region_type = pymc_region_type_new();
		pymc_lease_type = PyStructSequence_NewType(&lease_desc);
		pymc_offer_type = PyStructSequence_NewType(&offer_desc);
		pymc_status_type = PyStructSequence_NewType(&status_desc);
		if (pymc_conn_type == NULL || pymc_region_type == NULL ||
		    pymc_lease_type == NULL || pymc_offer_type == NULL ||
		    pymc_status_type == NULL)
			return NULL;
	}
	mod = PyModule_Create(&module_def);
	if (mod == NULL)
		return NULL;
	if (add_type(mod, "Connection", pymc_conn_type) < 0 ||
	    add_type(mod, "Region", pymc_region_type) < 0 ||
	    add_type(mod, "Lease", pymc_lease_type) < 0 ||
	    add_type(mod, "Offer", pymc_offer_type) < 0 ||
	    add_type(mod, "Status", pymc_status_type) < 0 ||
	    PyModule_AddStringConstant(mod, "DEFAULT_SOCKET",
	    MMAPCLIENT_DEFAULT_SOCKET) < 0 ||
	    PyModule_AddStringConstant(mod, "SOCKET_ENV",
	    MMAPCLIENT_SOCKET_ENV) < 0 ||
	    PyModule_AddIntConstant(mod, "PROTOCOL_MAJOR",
	    MMAPCLIENT_PROTOCOL_MAJOR) < 0 ||
	    PyModule_AddIntConstant(mod, "PROTOCOL_MINOR",
	    MMAPCLIENT_PROTOCOL_MINOR) < 0) {
		Py_DECREF(mod);
		return NULL;
	}
	return mod;
}
