"""A JFFS2 image as a file tree: the live directory entries and the inodes they name.

Node headers are found by harness.jffs2.nodes in the image's detected layout; inode data is
decompressed by jefferson's parser (zlib, rtime, lzo, lzma ...). Unlike jefferson's own
extraction, directory entries are resolved by (parent, name) and version, so a deleted
entry (a newer dirent with ino 0) is deleted, and hard links keep both names; the inode's
size is honoured. Pure: bytes in, entries out.
"""

from __future__ import annotations

import contextlib
import io
import stat
import struct
from dataclasses import dataclass, field

from .nodes import ACCURATE, header_ok, scan, to_layout

ROOT_INO = 1
DT_NAMES = {4: "dir", 8: "file", 10: "link", 2: "chr", 6: "blk", 1: "fifo", 12: "sock"}


class Jffs2Error(ValueError):
    """An image that cannot be read as JFFS2."""


@dataclass
class Entry:
    path: tuple[str, ...]
    ino: int
    kind: str  # file, dir, link, device, other
    mode: int = 0
    data: bytes = b""  # file contents, or a link's target


@dataclass
class Fs:
    layout: str
    entries: list[Entry] = field(default_factory=list)
    crc_errors: list[tuple[int, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _jefferson(order: str):
    from jefferson import jffs2 as jj

    jj.set_endianness(order)  # module-global in jefferson: set before every use
    return jj


def read_fs(data: bytes) -> Fs:
    s = scan(data)
    if s.layout is None:
        raise Jffs2Error("no JFFS2 node with a valid header CRC in this image")
    image = to_layout(data[: len(data) - len(data) % 4], s.layout)
    order = "<" if s.layout.startswith("little") else ">"
    fs = Fs(s.layout, crc_errors=list(s.crc_errors))
    jj = _jefferson(order)
    dirents: dict[tuple[int, bytes], tuple[int, int, int]] = {}  # (pino, name) -> (ver, ino, type)
    inodes: dict[int, list] = {}
    off = 0
    sink = io.StringIO()
    while off < len(image):
        h = header_ok(image, off, order)
        if not h:
            off += 4
            continue
        ntype, totlen = h
        node = image[off : off + totlen]
        if ntype & ACCURATE and len(node) == totlen:  # obsolete nodes are history
            if ntype == 0xE001 and totlen >= 40:
                pino, version, ino = struct.unpack_from(order + "III", node, 12)
                nsize, dtype = node[28], node[29]
                key = (pino, node[40 : 40 + nsize])
                if key not in dirents or dirents[key][0] < version:
                    dirents[key] = (version, ino, dtype)
            elif ntype == 0xE002 and totlen >= 68:
                with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                    inode = jj.parse_inode(node)
                inodes.setdefault(inode.ino, []).append(inode)
        off += (totlen + 3) & ~3
    live = {k: v for k, v in dirents.items() if v[1] != 0}
    children: dict[int, list[tuple[bytes, int, int]]] = {}
    for (pino, name), (_v, ino, dtype) in live.items():
        children.setdefault(pino, []).append((name, ino, dtype))
    seen: set[int] = set()

    def walk(dir_ino: int, prefix: tuple[str, ...]) -> None:
        if dir_ino in seen:
            fs.problems.append(f"directory loop at /{'/'.join(prefix)}")
            return
        seen.add(dir_ino)
        for name, ino, dtype in sorted(children.get(dir_ino, [])):
            text = name.decode("utf-8", "surrogateescape")
            path = prefix + (text,)
            e = _entry(path, ino, dtype, inodes.get(ino, []))
            fs.entries.append(e)
            if e.kind == "dir":
                walk(ino, path)

    walk(ROOT_INO, ())
    reached = {e.ino for e in fs.entries} | {ROOT_INO}
    orphans = [k for k in live if k[0] not in reached]
    if orphans:
        fs.problems.append(f"{len(orphans)} entries whose directory is missing were left out")
    return fs


def _entry(path: tuple[str, ...], ino: int, dtype: int, nodes: list) -> Entry:
    if not nodes:
        kind = DT_NAMES.get(dtype, "other")
        return Entry(path, ino, "dir" if kind == "dir" else "other", 0o755 if kind == "dir" else 0)
    nodes = sorted(nodes, key=lambda n: n.version)
    last = nodes[-1]
    mode = last.mode
    if stat.S_ISDIR(mode):
        return Entry(path, ino, "dir", stat.S_IMODE(mode))
    if stat.S_ISLNK(mode):
        return Entry(path, ino, "link", stat.S_IMODE(mode), bytes(last.data))
    if stat.S_ISREG(mode):
        buf = bytearray()
        for n in nodes:
            end = n.offset + len(n.data)
            if len(buf) < end:
                buf.extend(b"\x00" * (end - len(buf)))
            buf[n.offset : end] = n.data
        size = last.isize
        buf = buf[:size] + b"\x00" * max(0, size - len(buf))
        return Entry(path, ino, "file", stat.S_IMODE(mode), bytes(buf))
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return Entry(path, ino, "device", stat.S_IMODE(mode))
    return Entry(path, ino, "other", stat.S_IMODE(mode))
