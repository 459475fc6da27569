"""Clients of mmapd, the device memory daemon, over libmmapclient.

    import mmapclient

    with mmapclient.connect() as conn:
        with conn.map("zero", 65536, shared=True, write=True) as r:
            with r.buffer as m:             # a memoryview
                m[0:4] = b"abcd"
        with conn.map("edu", 4096, shared=True, write=True) as dev:
            dev.write(0x4, 32, 0x12345678)  # one 32-bit store
        print(hex(conn.read("edu", 0x0, 32)))

Memory of kind 'anon' or 'shmem' (zero, shared and named memory) is a
buffer: memoryview(region) reads and writes it in place, and release()
refuses (BufferError) while a view of it is alive.  Device memory
(kind 'device') is never a buffer: Region.read() and Region.write() make
single loads and stores of exactly the width asked, as registers need.

Failures raise OSError, or the subclass its errno picks
(PermissionError for EPERM and EACCES, FileNotFoundError for ENOENT,
...), with the errno, the daemon's message as strerror and the device
as filename.  Bad arguments raise ValueError, TypeError or
OverflowError; a call on a closed connection or a released region
raises ValueError.

The work is done by the extension mmapclient._mmapclient (python/ in
mmapd's source, a CPython extension over libmmapclient); this package
re-exports it.  See README.md ("Python") and libmmapclient(3).
"""

from ._mmapclient import (
    DEFAULT_SOCKET,
    PROTOCOL_MAJOR,
    PROTOCOL_MINOR,
    SOCKET_ENV,
    Connection,
    Lease,
    Offer,
    Region,
    Status,
    connect,
)

__all__ = [
    "DEFAULT_SOCKET",
    "PROTOCOL_MAJOR",
    "PROTOCOL_MINOR",
    "SOCKET_ENV",
    "Connection",
    "Lease",
    "Offer",
    "Region",
    "Status",
    "connect",
]
