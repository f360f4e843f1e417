"""A small JFFS2 node writer for crafted images (escape attempts, deletions, damage)."""

from __future__ import annotations

import stat
import struct
import zlib

DT = {"dir": 4, "file": 8, "link": 10}


def crc(data: bytes) -> int:
    return zlib.crc32(data, 0xFFFFFFFF) ^ 0xFFFFFFFF


def _pad(b: bytes) -> bytes:
    return b + b"\xff" * (-len(b) % 4)


def _header(ntype: int, totlen: int, order: str) -> bytes:
    h = struct.pack(order + "HHI", 0x1985, ntype, totlen)
    return h + struct.pack(order + "I", crc(h))


def dirent(
    pino: int, ino: int, name: bytes, kind: str, version: int = 1, order: str = "<"
) -> bytes:
    head = _header(0xE001, 40 + len(name), order)
    body = struct.pack(order + "IIIIBBH", pino, version, ino, 0, len(name), DT.get(kind, 0), 0)
    node = head + body
    node += struct.pack(order + "II", crc(node), crc(name)) + name
    return _pad(node)


def inode(
    ino: int,
    kind: str,
    data: bytes = b"",
    mode: int = 0o644,
    version: int = 1,
    offset: int = 0,
    isize: int | None = None,
    order: str = "<",
    dsize: int | None = None,
    compr: int = 0,
) -> bytes:
    """An inode node; `data` is the payload as stored (compressed as `compr` says), `dsize`
    what it claims to decode to (default: its length)."""
    fmt = {"dir": stat.S_IFDIR, "file": stat.S_IFREG, "link": stat.S_IFLNK}[kind]
    size = len(data) + offset if isize is None else isize
    head = _header(0xE002, 68 + len(data), order)
    body = struct.pack(
        order + "IIIHHIIIIIIIBBH",
        ino,
        version,
        fmt | mode,
        0,
        0,
        size,
        0,
        0,
        0,
        offset,
        len(data),
        len(data) if dsize is None else dsize,
        compr,
        0,
        0,
    )
    node = head + body  # 60 bytes: node_crc covers them
    node += struct.pack(order + "II", crc(data), crc(node)) + data
    return _pad(node)


def image(*nodes: bytes) -> bytes:
    return b"".join(nodes)
