"""The Python package mmapclient against a real mmapd.

Run by make check (PY_LOG_COMPILER: $(PYTHON) through tests/run-test.sh)
with MMAPD_BIN, MMAPD_TEST_DATA, MMAPD_PYTHON_INIT and MMAPD_PYTHON_EXT
(the package as built) in the environment; mmapd_harness.py, beside it,
starts the daemon.  Stdlib unittest only.

One mmapd serves the whole file, with a policy of zero for everyone,
[mem] and region edu for root on the stand-in /dev/mem, region edu-ro
read-only for uid 65534 too, and shared memory cam0 written by root and
read by uid 65534.  What is covered: zero memory private and shared
through the buffer; a named region between two connections; device
memory by exact-width access only, every buffer access refused; the
daemon's register access; release by with, by collection, refused while
a view lives, after the connection closed; nothing left behind; threads
on one connection; errors with errno and the daemon's message, and the
policy's refusals as uid 65534; Revoke; list() and status() fields.
"""

import errno
import os
import shutil
import socket
import struct
import sys
import threading
import time
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import mmapd_harness as H  # noqa: E402
from mmapd_harness import NOBODY, as_nobody, error_of  # noqa: E402

H.asan_reexec()
# No test may hang: dump every thread's stack and exit after 5 minutes.
import faulthandler  # noqa: E402
faulthandler.dump_traceback_later(300, exit=True)

PACKAGE_DIR = H.stage_package()
import mmapclient  # noqa: E402
if PACKAGE_DIR:
    shutil.rmtree(PACKAGE_DIR)  # imported: the files are no longer read

EDU_BAR0 = 0xFE900000           # in iomem-q35.txt: 1 MiB, no driver


class Daemon(H.Daemon):
    """mmapd with this file's policy."""

    def config(self):
        return f"""[daemon]
socket_mode = 0666

[zero]
users = *
max_size = 16M

# A seam: a regular file stands in for /dev/mem.
[mem]
path = {self.devmem}
iomem = {self.iomem}
users = root
raw_fd_users = root
max_size = 1M
shared = yes
protection = rw

[region edu]
device = mem
base = 0xfe900000
size = 1M
users = root
raw_fd_users = root
protection = rw
shared = yes

[region edu-ro]
device = mem
base = 0xfe900000
size = 4K
users = root, {NOBODY}
shared = yes

[shm cam0]
size = 64K
writers = root
readers = {NOBODY}
"""


D = None


def setUpModule():
    global D
    D = Daemon()
    try:
        D.start()
    except BaseException:
        D.cleanup()
        raise


def tearDownModule():
    try:
        D.stop()
    finally:
        D.cleanup()


def connect(name="test-python"):
    return mmapclient.connect(D.sock, name=name)


def lease_ids(conn):
    return [l.id for l in conn.list()]


class ZeroMemory(unittest.TestCase):

    def test_private_write_read_back(self):
        with connect() as c, c.map("zero", 65536, write=True) as r:
            self.assertEqual(r.kind, "anon")
            self.assertFalse(r.shared)
            self.assertTrue(r.writable)
            self.assertEqual(r.size, 65536)
            with r.buffer as m:
                self.assertEqual(len(m), 65536)
                self.assertFalse(m.readonly)
                self.assertEqual(bytes(m[:16]), bytes(16))
                m[100:105] = b"hello"
                m[-4:] = b"\x11\x22\x33\x44"
                self.assertEqual(bytes(m[100:105]), b"hello")
            # The same bytes through the exact-width accessors.
            self.assertEqual(r.read(65532, 32), 0x44332211)
            r.write(8, 64, 0x0102030405060708)
            self.assertEqual(bytes(memoryview(r)[8:16]),
                             struct.pack("<Q", 0x0102030405060708))

    def test_private_size_rounds_to_pages(self):
        with connect() as c, c.map("zero", 100, write=True) as r:
            self.assertEqual(r.size, os.sysconf("SC_PAGE_SIZE"))
            self.assertEqual(len(memoryview(r)), r.size)

    def test_shared_is_shmem(self):
        with connect() as c, c.map("zero", 8192, shared=True,
                                   write=True) as r:
            self.assertEqual(r.kind, "shmem")
            self.assertTrue(r.shared)
            with memoryview(r) as m:
                m[:] = b"\xab" * len(m)
            self.assertEqual(r.read(4096, 8), 0xAB)

    def test_read_only_map_is_a_read_only_buffer(self):
        with connect() as c, c.map("zero", 4096) as r:
            self.assertFalse(r.writable)
            with r.buffer as m:
                self.assertTrue(m.readonly)
                with self.assertRaises(TypeError):
                    m[0] = 1
            with self.assertRaises(PermissionError) as cm:
                r.write(0, 8, 1)
            self.assertEqual(cm.exception.errno, errno.EACCES)

    def test_named_region_between_two_connections(self):
        with connect("writer") as a, connect("viewer") as b:
            ra = a.map("zero", 65536, shared=True, write=True,
                       region="py-shared", create=True)
            rb = b.map("zero", 65536, shared=True, write=True,
                       region="py-shared", attach=True)
            with ra.buffer as ma, rb.buffer as mb:
                ma[0:5] = b"hello"
                self.assertEqual(bytes(mb[0:5]), b"hello")
                mb[65000:65003] = b"xyz"
                self.assertEqual(bytes(ma[65000:65003]), b"xyz")
            # The lease names its region.
            names = {l.id: l.region for l in a.list()}
            self.assertEqual(names[ra.lease_id], "py-shared")
            # create=True on a name that exists: EEXIST.
            e = error_of(lambda: b.map("zero", 65536, shared=True,
                                       write=True, region="py-shared",
                                       create=True))
            self.assertEqual(e[0], errno.EEXIST, e)
            self.assertEqual(e[1], "FileExistsError")
            rb.release()
            ra.release()


class DeviceMemory(unittest.TestCase):

    def test_no_buffer_only_exact_width(self):
        with connect() as c, c.map("edu", 4096, shared=True,
                                   write=True) as r:
            self.assertEqual(r.kind, "device")
            self.assertEqual(r.cache, "uncached")
            for access in (lambda: memoryview(r), lambda: r.buffer,
                           lambda: bytes(r),
                           lambda: struct.unpack_from("<I", r, 0),
                           lambda: bytearray(r)):
                with self.assertRaises(BufferError) as cm:
                    access()
                self.assertIn("device memory is not a buffer",
                              str(cm.exception))
            r.write(0x10, 32, 0xDEADBEEF)
            r.write(0x18, 64, 0x0102030405060708)
            r.write(0x22, 16, 0xBEEF)
            # In the stand-in at the physical address, and nowhere else.
            self.assertEqual(D.pread(EDU_BAR0 + 0x10, 4),
                             struct.pack("<I", 0xDEADBEEF))
            self.assertEqual(D.pread(EDU_BAR0 + 0x18, 8),
                             struct.pack("<Q", 0x0102030405060708))
            self.assertEqual(D.pread(EDU_BAR0 + 0x14, 4), bytes(4))
            self.assertEqual(r.read(0x10, 32), 0xDEADBEEF)
            self.assertEqual(r.read(0x10, 16), 0xBEEF)
            self.assertEqual(r.read(0x13, 8), 0xDE)
            self.assertEqual(r.read(0x22, 16), 0xBEEF)
            # The daemon's own access sees the same register.
            self.assertEqual(c.read("edu", 0x10, 32), 0xDEADBEEF)
            self.assertEqual(c.read("mem", EDU_BAR0 + 0x18, 64),
                             0x0102030405060708)
            c.write("edu", 0x40, 32, 0xCAFEF00D)
            self.assertEqual(r.read(0x40, 32), 0xCAFEF00D)

    def test_accessor_errors(self):
        with connect() as c, c.map("edu", 4096, shared=True,
                                   write=True) as r:
            e = error_of(lambda: r.read(0x2, 32))
            self.assertEqual(e[0], errno.EINVAL, e)
            self.assertIn("not a multiple of 4 bytes", e[2])
            e = error_of(lambda: r.read(4096, 32))
            self.assertEqual(e[0], errno.ERANGE, e)
            self.assertIn("outside the region's 4096 bytes", e[2])
            e = error_of(lambda: r.write(0, 8, 0x100))
            self.assertEqual(e[0], errno.EINVAL, e)
            self.assertIn("wider than 8 bits", e[2])
            with self.assertRaises(ValueError):
                r.read(0, 12)
            with self.assertRaises(OverflowError):
                r.write(0, 32, -1)
            # The daemon's path checks the same and says so.
            e = error_of(lambda: c.write("edu", 0, 16, 0x10000))
            self.assertEqual(e[0], errno.EINVAL, e)

    def test_daemon_register_access_without_a_map(self):
        with connect() as c:
            c.write("edu", 0x80, 16, 0x1234)
            self.assertEqual(c.read("edu", 0x80, 16), 0x1234)
            self.assertEqual(c.read("edu", 0x80), 0x1234)    # width 32
            self.assertEqual(D.pread(EDU_BAR0 + 0x80, 2),
                             struct.pack("<H", 0x1234))
            self.assertEqual(lease_ids(c), [])


class Release(unittest.TestCase):

    def test_context_manager_ends_the_lease(self):
        with connect() as c:
            with c.map("zero", 4096, write=True) as r:
                lid = r.lease_id
                self.assertIn(lid, lease_ids(c))
            self.assertTrue(r.released)
            self.assertNotIn(lid, lease_ids(c))
            self.assertIn("released", repr(r))
            with self.assertRaises(ValueError):
                r.read(0, 8)
            with self.assertRaises(BufferError):
                memoryview(r)
            r.release()     # twice: harmless

    def test_release_refused_while_a_view_lives(self):
        with connect() as c:
            r = c.map("zero", 4096, shared=True, write=True)
            m = memoryview(r)
            m2 = r.buffer
            with self.assertRaises(BufferError) as cm:
                r.release()
            self.assertIn("2 memoryview(s)", str(cm.exception))
            # Nothing changed: still mapped, still leased, still usable.
            m[0] = 7
            self.assertEqual(r.read(0, 8), 7)
            self.assertIn(r.lease_id, lease_ids(c))
            m.release()
            with self.assertRaises(BufferError):
                r.release()
            m2.release()
            lid = r.lease_id
            r.release()
            self.assertNotIn(lid, lease_ids(c))
            # The released views refuse use; nothing touches the memory.
            with self.assertRaises(ValueError):
                m[0]

    def test_with_block_view_then_release(self):
        with connect() as c:
            with c.map("zero", 4096, write=True) as r:
                with r.buffer as m:
                    m[0] = 1
            self.assertTrue(r.released)

    def test_dropped_region_is_released(self):
        with connect() as c:
            r = c.map("zero", 4096, write=True)
            lid = r.lease_id
            del r
            self.assertNotIn(lid, lease_ids(c))

    def test_region_outlives_its_connection(self):
        c = connect()
        r = c.map("zero", 4096, shared=True, write=True)
        lid = r.lease_id
        with r.buffer as m:
            m[0:3] = b"abc"
        c.close()
        self.assertTrue(c.closed)
        c.close()   # twice: harmless
        with self.assertRaises(ValueError):
            c.list()
        # Still mapped, its lease ended by the close.
        self.assertEqual(bytes(memoryview(r)[0:3]), b"abc")
        with connect() as other:
            self.assertNotIn(lid, [l.id for l in other.list()])
        r.release()     # unmaps only
        self.assertTrue(r.released)

    def test_nothing_left_behind(self):
        """Dropped objects close their socket and unmap their memory: a
        reference the extension forgot to give back would keep both."""
        def fds():
            return len(os.listdir("/proc/self/fd"))

        def maps():
            with open("/proc/self/maps") as f:
                return sum(1 for _ in f)

        for _ in range(3):      # warm up: the allocator's own mappings
            c = connect()
            r = c.map("zero", 1 << 20, shared=True, write=True)
            memoryview(r)[0] = 1
            del r, c
        fds0, maps0 = fds(), maps()
        with connect() as probe:
            leases0 = probe.status().leases
            for _ in range(100):
                c = connect()
                r = c.map("zero", 1 << 20, shared=True, write=True)
                with r.buffer as m:
                    m[-1] = 1
                del r, c        # no release(), no close()
            self.assertEqual(probe.status().leases, leases0)
        self.assertEqual(fds(), fds0)
        self.assertLessEqual(maps(), maps0 + 2)

    def test_threads_share_one_connection(self):
        """Calls from threads on one connection are made one at a time:
        interleaved, their requests and replies would mix (EPROTO)."""
        errors = []
        with connect() as c:
            def work(k):
                try:
                    for i in range(30):
                        with c.map("zero", 4096, write=True) as r:
                            r.write(0, 32, k * 1000 + i)
                            if r.read(0, 32) != k * 1000 + i:
                                errors.append("thread %d: lost a write" % k)
                        c.write("edu", 0x100 + 8 * k, 64, i)
                        if c.read("edu", 0x100 + 8 * k, 64) != i:
                            errors.append("thread %d: register" % k)
                except Exception as e:
                    errors.append("thread %d: %r" % (k, e))
            ts = [threading.Thread(target=work, args=(k,)) for k in range(4)]
            for t in ts:
                t.start()
            for t in ts:
                t.join(60)
            self.assertFalse(any(t.is_alive() for t in ts), "hung")
            self.assertEqual(errors, [])
            self.assertEqual(lease_ids(c), [])


class Errors(unittest.TestCase):

    def test_no_socket(self):
        path = D.path("nothing-here.sock")
        e = error_of(lambda: mmapclient.connect(path))
        self.assertEqual(e[:2], [errno.ENOENT, "FileNotFoundError"], e)
        self.assertEqual(e[3], path)

    def test_no_such_device(self):
        with connect() as c:
            e = error_of(lambda: c.map("nosuch", 4096))
            self.assertEqual(e[0], errno.ENODEV, e)
            self.assertEqual(e[3], "nosuch")
            self.assertNotEqual(e[2], os.strerror(errno.ENODEV),
                                "the daemon's message, not strerror")
            # The connection is still usable.
            self.assertIsInstance(c.status(), mmapclient.Status)

    def test_attach_missing_name_is_enoent(self):
        with connect() as c:
            e = error_of(lambda: c.map("zero", 4096, shared=True,
                                       region="py-absent", attach=True))
            self.assertEqual(e[:2], [errno.ENOENT, "FileNotFoundError"], e)
            self.assertTrue(e[2])

    def test_daemon_message_carried(self):
        with connect() as c:
            e = error_of(lambda: c.map("zero", 32 << 20))
            self.assertEqual(e[0], errno.EFBIG, e)
            self.assertIn("max_size", e[2])
            s = str(OSError(*e[:3]))
            self.assertIn("[Errno %d]" % errno.EFBIG, s)

    def test_bad_arguments(self):
        with connect() as c:
            with self.assertRaises(ValueError):
                c.map("zero", 4096, cache="writeback")
            with self.assertRaises(OverflowError):
                c.map("zero", -1)
            with self.assertRaises(TypeError):
                c.map("zero", "4096")
            with self.assertRaises(ValueError):
                c.read("edu", 0, 24)
        with self.assertRaises(TypeError):
            mmapclient.Region()
        with self.assertRaises(TypeError):
            mmapclient.Connection()

    def test_policy_refusals_as_nobody(self):
        def checks():
            out = {}
            with mmapclient.connect(D.sock, name="py-nobody") as c:
                # edu names root only.
                out["map_edu"] = error_of(lambda: c.map(
                    "edu", 4096, shared=True))
                out["read_edu"] = error_of(lambda: c.read("edu", 0, 32))
                # edu-ro: read-only for 65534.
                out["read_ro"] = c.read("edu-ro", 0x10, 32)
                out["write_ro"] = error_of(lambda: c.write(
                    "edu-ro", 0, 32, 1))
                # cam0: root writes, 65534 reads.
                out["cam_rw"] = error_of(lambda: c.map(
                    "zero", 65536, shared=True, write=True,
                    region="cam0", attach=True))
                with c.map("zero", 65536, shared=True, region="cam0",
                           attach=True) as r:
                    with r.buffer as m:
                        out["cam_ro"] = m.readonly
                        out["cam_data"] = bytes(m[0:6]).decode()
                st = c.status()
                out["offers"] = sorted(o.name for o in st.offers)
                out["uid"] = [l.uid for l in c.list()]
            return out

        with connect() as root:
            root.write("edu", 0x10, 32, 0x5A5A5A5A)
            cam = root.map("zero", 65536, shared=True, write=True,
                           region="cam0", create=True)
            with cam.buffer as m:
                m[0:6] = b"frame1"
            try:
                out = as_nobody(checks)
            finally:
                cam.release()
        self.assertEqual(out["map_edu"][:2],
                         [errno.EPERM, "PermissionError"], out)
        self.assertTrue(out["map_edu"][2])
        self.assertEqual(out["read_edu"][0], errno.EPERM, out)
        self.assertEqual(out["read_ro"], 0x5A5A5A5A)
        self.assertEqual(out["write_ro"][:2],
                         [errno.EACCES, "PermissionError"], out)
        self.assertEqual(out["cam_rw"][:2],
                         [errno.EACCES, "PermissionError"], out)
        self.assertTrue(out["cam_ro"])
        self.assertEqual(out["cam_data"], "frame1")
        self.assertNotIn("edu", out["offers"])
        self.assertIn("edu-ro", out["offers"])
        self.assertIn("zero", out["offers"])


class Revoke(unittest.TestCase):

    def test_revoke_by_lease_shows_in_list(self):
        if os.geteuid() != 0:
            self.skipTest("not root: Revoke is root's (or admin_group's)")
        with connect("holder") as holder, connect("admin") as admin:
            r = holder.map("zero", 4096, write=True)
            t0 = int(time.time())
            n = admin.revoke(lease_id=r.lease_id, reason="py-test says so")
            self.assertEqual(n, 1)
            l = [l for l in holder.list() if l.id == r.lease_id][0]
            self.assertEqual(l.state, "revoking")
            self.assertIn("py-test says so", l.revoke_reason)
            # [zero]'s default revoke_seconds: 10.
            self.assertTrue(t0 + 8 <= l.deadline <= time.time() + 12,
                            (t0, l.deadline))
            # Released in time: gone.
            r.release()
            self.assertNotIn(l.id, lease_ids(admin))
            # Nothing left to revoke: ENOENT.
            e = error_of(lambda: admin.revoke(lease_id=l.id))
            self.assertEqual(e[:2], [errno.ENOENT, "FileNotFoundError"], e)
            # Exactly one way: EINVAL, the library's message.
            e = error_of(lambda: admin.revoke(lease_id=1, uid=0))
            self.assertEqual(e[0], errno.EINVAL, e)
            with self.assertRaises(TypeError):
                admin.revoke(l.id)          # keywords only
            # A held lease says so.
            with holder.map("zero", 4096) as r2:
                l2 = [l for l in holder.list() if l.id == r2.lease_id][0]
                self.assertEqual((l2.state, l2.deadline, l2.revoke_reason),
                                 ("held", 0, ""))

    def test_revoke_refused_to_others(self):
        def checks():
            with mmapclient.connect(D.sock, name="py-nobody") as c:
                return [error_of(lambda: c.revoke(uid=0)),
                        error_of(lambda: c.revoke(region="zero"))]

        with connect() as root, root.map("zero", 4096) as r:
            out = as_nobody(checks)
            self.assertEqual([l.state for l in root.list()
                              if l.id == r.lease_id], ["held"])
        for e in out:
            self.assertEqual(e[:2], [errno.EPERM, "PermissionError"], out)


class Module(unittest.TestCase):

    def test_imported_as_built(self):
        if PACKAGE_DIR is None:
            self.skipTest("run by hand: testing the installed mmapclient")
        self.assertTrue(mmapclient.__file__.startswith(PACKAGE_DIR),
                        mmapclient.__file__)
        ext = sys.modules["mmapclient._mmapclient"].__file__
        self.assertTrue(ext.endswith("_mmapclient.abi3.so"), ext)
        self.assertEqual(mmapclient.Connection.__module__, "mmapclient")

    def test_every_call_documented(self):
        import inspect
        self.assertIn("memoryview", mmapclient.__doc__)
        for name in mmapclient.__all__:
            obj = getattr(mmapclient, name)
            if not callable(obj):
                continue
            self.assertTrue(obj.__doc__, name)
            if not isinstance(obj, type):
                continue
            for attr, member in vars(obj).items():
                if attr.startswith("__") and attr not in ("__enter__",
                                                          "__exit__"):
                    continue
                self.assertTrue(getattr(member, "__doc__", None),
                                "%s.%s" % (name, attr))
        # Signatures as Python states them (from the docstrings).
        self.assertEqual(
            str(inspect.signature(mmapclient.Connection.map)),
            "(self, /, device, size, offset=0, shared=False, write=False, "
            "cache=None, region=None, create=False, attach=False)")
        self.assertEqual(str(inspect.signature(mmapclient.Region.write)),
                         "(self, /, offset, width, value)")

    def test_default_path_is_the_environment(self):
        old = os.environ.get("MMAPD_SOCKET")
        os.environ["MMAPD_SOCKET"] = D.sock
        try:
            with mmapclient.connect() as a, mmapclient.connect(None) as b:
                self.assertGreaterEqual(a.status().clients, 2)
                self.assertFalse(b.closed)
        finally:
            if old is None:
                del os.environ["MMAPD_SOCKET"]
            else:
                os.environ["MMAPD_SOCKET"] = old
        # A path given wins over the environment.
        os.environ["MMAPD_SOCKET"] = D.path("nothing-here.sock")
        try:
            with mmapclient.connect(D.sock.encode()) as c:
                self.assertFalse(c.closed)
        finally:
            if old is None:
                del os.environ["MMAPD_SOCKET"]
            else:
                os.environ["MMAPD_SOCKET"] = old

    def test_keywords_and_index_ints(self):
        class Four:
            def __index__(self):
                return 4

        with connect() as c, c.map(device="zero", size=4096, write=True,
                                   offset=0, cache="default") as r:
            r.write(offset=Four(), width=16, value=0xBEEF)
            self.assertEqual(r.read(width=16, offset=4), 0xBEEF)
            self.assertEqual(r.read(Four(), 8), 0xEF)
            c.write(device="edu", offset=0x200, width=32, value=Four())
            self.assertEqual(c.read(device="edu", offset=0x200), 4)


class Queries(unittest.TestCase):

    def test_list_fields(self):
        t0 = int(time.time())
        with connect("py-lister") as c:
            with c.map("zero", 8192, shared=True, write=True) as r:
                ls = [l for l in c.list() if l.id == r.lease_id]
                self.assertEqual(len(ls), 1)
                l = ls[0]
                self.assertIsInstance(l, tuple)
                self.assertEqual(l.uid, os.getuid())
                self.assertEqual(l.pid, os.getpid())
                self.assertEqual(l.device, "zero")
                self.assertEqual(l.size, 8192)
                self.assertTrue(l.writable)
                self.assertTrue(l.shared)
                self.assertEqual(l.region, "")
                self.assertEqual(l.client, "py-lister")
                if os.getuid() == 0:
                    self.assertEqual(l.user, "root")
                self.assertTrue(t0 - 2 <= l.created <= time.time() + 2)

    def test_status_fields(self):
        with connect() as c, c.map("zero", 4096) as r:
            s = c.status()
            self.assertIsInstance(s.version, str)
            self.assertRegex(s.version, r"^\d+\.\d+")
            self.assertGreaterEqual(s.uptime, 0)
            self.assertGreaterEqual(s.clients, 1)
            self.assertGreaterEqual(s.leases, 1)
            self.assertEqual(s.offers_left_out, 0)
            offers = {o.name: o for o in s.offers}
            z = offers["zero"]
            self.assertEqual(z.kind, "device")
            self.assertEqual(z.max_size, 16 << 20)
            self.assertTrue(z.writable)
            self.assertTrue(z.shared)
            self.assertEqual(offers["edu"].kind, "region")
            self.assertEqual(offers["edu"].size, 1 << 20)
            self.assertFalse(offers["edu-ro"].writable)
            self.assertEqual(offers["cam0"].kind, "shm")
            self.assertTrue(r.lease_id > 0)

    def test_fileno_and_repr(self):
        with connect() as c:
            fd = c.fileno()
            self.assertGreaterEqual(fd, 0)
            with socket.socket(fileno=os.dup(fd)) as s:
                self.assertEqual(s.type, socket.SOCK_SEQPACKET)
            self.assertIn("fd=%d" % fd, repr(c))


if __name__ == "__main__":
    unittest.main(verbosity=2)
