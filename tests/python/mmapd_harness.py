"""What tests/python/test_mmapclient.py needs around it: a real mmapd,
the package as built, a child as uid 65534, and the ASan preload.

mmapd is started as the integration harness starts it
(tests/integration/harness.c): -c CONF -s SOCK in a temporary folder of
mode 0755, --user nobody when run as root, stdin from /dev/null, its log
checked for sanitizer reports when it is stopped, every wait bounded
(WAIT).  [mem] goes on the harness's seam: a sparse 8 GiB regular file
stands in for /dev/mem (self.devmem) and iomem-q35.txt for /proc/iomem
(self.iomem), so what a device mapping writes lands in the file at the
physical address.

as_nobody() runs a function in a forked child that drops to uid and gid
65534 (setresuid, no groups) before it connects: the daemon sees that
uid in SO_PEERCRED, as it sees mmapctl run under setpriv.

In a build with --enable-sanitizers the extension and libmmapclient
carry ASan, whose runtime must be loaded first: asan_reexec() runs the
test again with LD_PRELOAD naming $CC's libasan (LeakSanitizer off for
the Python process only: the interpreter keeps its objects at exit by
design; the daemon keeps it on), or exits 77, SKIP, saying why.
"""

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

WAIT = 5.0                      # seconds any single wait may take
NOBODY = 65534
STANDIN_SIZE = 8 << 30
SAN_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
             "runtime error:", "WARNING: ThreadSanitizer")



def asan_reexec():
    """In an ASan build, run again with the ASan runtime preloaded."""
    if "-fsanitize=address" not in os.environ.get("SAN_CFLAGS", ""):
        return
    with open("/proc/self/maps") as f:
        if "libasan" in f.read():
            return
    cc = os.environ.get("CC", "cc").split()
    lib = ""
    try:
        lib = subprocess.run(cc + ["-print-file-name=libasan.so"],
                             capture_output=True, text=True,
                             timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    if not os.path.isabs(lib) or not os.path.exists(lib):
        print("SKIP: an ASan build: the module needs the ASan runtime "
              "loaded before Python, and %s does not say where libasan.so "
              "is (got %r): the Python module is NOT tested in this tree"
              % (" ".join(cc), lib), file=sys.stderr)
        sys.exit(77)
    env = dict(os.environ)
    env["MMAPD_PY_ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "")
    env["LD_PRELOAD"] = lib
    env["ASAN_OPTIONS"] = "detect_leaks=0"
    print("test_mmapclient: ASan build: running again with LD_PRELOAD=%s"
          % lib, file=sys.stderr)
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


def child_env():
    """The environment of programs this test starts: no preload."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.pop("MMAPD_SOCKET", None)
    env.pop("JOURNAL_STREAM", None)
    if "MMAPD_PY_ASAN_OPTIONS" in env:
        env["ASAN_OPTIONS"] = env.pop("MMAPD_PY_ASAN_OPTIONS")
    return env



def stage_package():
    """The package as built, in a folder of its own first on sys.path:
    __init__.py from the source tree, the extension from the build
    tree's .libs (make check names both)."""
    init = os.environ.get("MMAPD_PYTHON_INIT")
    ext = os.environ.get("MMAPD_PYTHON_EXT")
    if not init or not ext:
        return None     # run by hand: whatever mmapclient is installed
    top = tempfile.mkdtemp(prefix="mmapd-pylib.")
    os.chmod(top, 0o755)
    os.mkdir(os.path.join(top, "mmapclient"), 0o755)
    for src in (init, ext):
        os.symlink(src, os.path.join(top, "mmapclient",
                                     os.path.basename(src)))
    sys.path.insert(0, top)
    return top




class Daemon:
    """A real mmapd on a socket in a temporary folder."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="mmapd-py.", dir="/tmp")
        os.chmod(self.dir, 0o755)   # uid 65534 must reach the socket
        self.sock = os.path.join(self.dir, "mmapd.sock")
        self.log = os.path.join(self.dir, "mmapd.log")
        self.devmem = os.path.join(self.dir, "devmem")
        self.iomem = os.path.join(os.environ["MMAPD_TEST_DATA"],
                                  "iomem-q35.txt")
        self.proc = None

    def path(self, name):
        return os.path.join(self.dir, name)

    def config(self):
        """The policy's text: a subclass says it (self.devmem and
        self.iomem name the stand-ins)."""
        raise NotImplementedError

    def start(self):
        with open(self.devmem, "wb") as f:
            f.truncate(STANDIN_SIZE)
        conf = self.path("mmapd.conf")
        with open(conf, "w") as f:
            f.write(self.config())
        args = [os.environ["MMAPD_BIN"], "-c", conf, "-s", self.sock]
        if os.geteuid() == 0:
            args += ["--user", "nobody"]
        log = open(self.log, "ab")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=log,
                                     env=child_env(), close_fds=True)
        log.close()
        end = time.monotonic() + WAIT
        while True:
            if self.proc.poll() is not None:
                raise AssertionError("mmapd died at start-up (%d):\n%s"
                                     % (self.proc.returncode, self.text()))
            s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            try:
                s.connect(self.sock)
                return
            except OSError:
                pass
            finally:
                s.close()
            if time.monotonic() > end:
                raise AssertionError("mmapd did not accept within %.0f s:"
                                     "\n%s" % (WAIT, self.text()))
            time.sleep(0.01)

    def text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def stop(self):
        """SIGTERM; it must exit 0 with no sanitizer report."""
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(WAIT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(WAIT)
            raise AssertionError("mmapd did not stop within %.0f s" % WAIT)
        finally:
            self.proc = None
        log = self.text()
        if rc != 0 or any(m in log for m in SAN_MARKS):
            raise AssertionError("mmapd exited %d; its log:\n%s"
                                 % (rc, log[-12000:]))

    def cleanup(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(WAIT)
        shutil.rmtree(self.dir, ignore_errors=True)

    def pread(self, offset, n):
        with open(self.devmem, "rb") as f:
            f.seek(offset)
            return f.read(n)



def as_nobody(fn):
    """Run fn() in a child as uid and gid 65534; return what it returns
    (a JSON value).  Skips the test when not root."""
    if os.geteuid() != 0:
        raise unittest.SkipTest("not root: cannot be uid %d" % NOBODY)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        out = {}
        try:
            os.close(r)
            os.setgroups([])
            os.setresgid(NOBODY, NOBODY, NOBODY)
            os.setresuid(NOBODY, NOBODY, NOBODY)
            out = {"ok": fn()}
        except BaseException as e:  # report everything to the parent
            import traceback
            out = {"error": traceback.format_exc(), "repr": repr(e)}
        os.write(w, json.dumps(out).encode())
        os._exit(0)
    os.close(w)
    data = b""
    end = time.monotonic() + WAIT
    try:
        while True:
            left = end - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                raise AssertionError("the uid %d child did not answer "
                                     "within %.0f s" % (NOBODY, WAIT))
            ready, _, _ = select.select([r], [], [], left)
            if not ready:
                continue
            chunk = os.read(r, 65536)
            if not chunk:
                break
            data += chunk
    finally:
        os.close(r)
        os.waitpid(pid, 0)
    out = json.loads(data or b"{}")
    if "error" in out:
        raise AssertionError("in the uid %d child:\n%s"
                             % (NOBODY, out["error"]))
    return out["ok"]


def error_of(fn):
    """[errno, class name, strerror, filename] of the OSError fn raises."""
    try:
        fn()
    except OSError as e:
        return [e.errno, type(e).__name__, e.strerror, e.filename]
    return None
