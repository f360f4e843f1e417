"""A JFFS2 image as a file tree: the live directory entries and the inodes they name.

Nodes come from harness.jffs2.nodes in the image's detected layout; inode data is decoded
by harness.jffs2.decompress within bounds. Directory entries are resolved by (parent,
name) and version, so a deleted entry (a newer dirent with ino 0) is deleted and hard links
keep both names; a file's size is its newest inode's. Nothing is sized by a field before it
is checked: a file's contents are produced node by node (`Entry.chunks`), each at most a
page, and a file larger than MAX_FILE is refused, whatever its inode claims. The tree is
walked without recursion and no deeper than MAX_DEPTH. Pure: bytes in, entries out.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass, field
from typing import Iterator

from harness.jffs2.decompress import DataError, node_data
from harness.jffs2.nodes import (
    DIRENT,
    INODE,
    Gap,
    Inode,
    byte_order,
    node_crc_error,
    parse_dirent,
    parse_inode,
    scan,
    to_layout,
    walk,
)

ROOT_INO = 1
DT_NAMES = {4: "dir", 8: "file", 10: "link", 2: "chr", 6: "blk", 1: "fifo", 12: "sock"}
MAX_FILE = 64 << 20  # no file on a 16 MiB camera flash is larger (four times the flash)
MAX_DEPTH = 128  # directories deeper than this are not walked
MAX_LINK = 4096  # a link's target is at most PATH_MAX


class Jffs2Error(ValueError):
    """An image that cannot be read as JFFS2."""


@dataclass
class Entry:
    path: tuple[str, ...]
    ino: int
    kind: str  # file, dir, link, device, other
    mode: int = 0
    size: int = 0
    nodes: tuple[Inode, ...] = ()  # a file's data nodes, oldest first
    image: bytes = b""  # the image (in its layout's byte order) the nodes point into
    target: bytes = b""  # a link's target

    def chunks(self) -> Iterator[tuple[int, bytes]]:
        """(file offset, bytes) node by node, oldest first, cut at the file's size."""
        for n in self.nodes:
            if n.offset >= self.size or not n.dsize:
                continue
            data = node_data(n, self.image[n.payload])
            yield n.offset, data[: self.size - n.offset]

    @property
    def data(self) -> bytes:
        """The whole contents in memory: a file's (at most MAX_FILE), or a link's target."""
        if self.kind == "link":
            return self.target
        buf = bytearray(self.size)
        for off, chunk in self.chunks():
            buf[off : off + len(chunk)] = chunk
        return bytes(buf)


@dataclass
class Fs:
    layout: str
    entries: list[Entry] = field(default_factory=list)
    crc_errors: list[tuple[int, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # what was left out, and why


def read_fs(data: bytes) -> Fs:
    s = scan(data)
    if s.layout is None:
        raise Jffs2Error("no JFFS2 node with a valid header CRC in this image")
    image = to_layout(data[: len(data) - len(data) % 4], s.layout)
    order = byte_order(s.layout)
    fs = Fs(s.layout, crc_errors=list(s.crc_errors))
    dirents: dict[tuple[int, bytes], tuple[int, int, int]] = {}  # (pino, name) -> (ver, ino, t)
    inodes: dict[int, list[Inode]] = {}
    for node in walk(image, order):
        if isinstance(node, Gap) or node.obsolete or node_crc_error(image, node, order):
            continue  # obsolete nodes are history; damaged ones are counted by scan()
        if node.kind == DIRENT:
            d = parse_dirent(image, node, order)
            if d is not None:
                key = (d.pino, d.name)
                if key not in dirents or dirents[key][0] < d.version:
                    dirents[key] = (d.version, d.ino, d.type)
        elif node.kind == INODE:
            i = parse_inode(image, node, order)
            if i is not None:
                inodes.setdefault(i.ino, []).append(i)
    children: dict[int, list[tuple[bytes, int, int]]] = {}
    for (pino, name), (_v, ino, dtype) in dirents.items():
        if ino:  # a dirent with ino 0 deletes the name
            children.setdefault(pino, []).append((name, ino, dtype))
    _walk_tree(fs, children, inodes, image)
    reached = {e.ino for e in fs.entries} | {ROOT_INO}
    orphans = [p for p in children if p not in reached]
    if orphans:
        count = sum(len(children[p]) for p in orphans)
        fs.problems.append(f"{count} entries whose directory is missing were left out")
    return fs


def _walk_tree(fs: Fs, children, inodes, image: bytes) -> None:
    """Depth first from the root, iteratively; a directory seen twice is a loop."""
    seen = {ROOT_INO}
    stack: list[tuple[int, tuple[str, ...]]] = [(ROOT_INO, ())]
    while stack:
        dir_ino, prefix = stack.pop()
        for name, ino, dtype in sorted(children.get(dir_ino, []), reverse=True):
            path = prefix + (name.decode("utf-8", "surrogateescape"),)
            try:
                e = _entry(path, ino, dtype, inodes.get(ino, []), image)
            except DataError as exc:
                fs.problems.append(f"/{'/'.join(path)}: {exc}")
                continue
            if e.kind == "dir":
                if ino in seen:
                    fs.problems.append(f"directory loop at /{'/'.join(path)}: left out")
                    continue
                if len(path) > MAX_DEPTH:
                    fs.problems.append(
                        f"/{'/'.join(path[:3])}/...: deeper than {MAX_DEPTH} levels, left out"
                    )
                    continue
                seen.add(ino)
                stack.append((ino, path))
            fs.entries.append(e)
    fs.entries.sort(key=lambda e: e.path)


def _entry(path: tuple[str, ...], ino: int, dtype: int, nodes: list[Inode], image) -> Entry:
    if not nodes:
        kind = DT_NAMES.get(dtype, "other")
        return Entry(path, ino, "dir" if kind == "dir" else "other", 0o755 if kind == "dir" else 0)
    nodes = sorted(nodes, key=lambda n: n.version)
    last = nodes[-1]
    mode = last.mode
    perm = stat.S_IMODE(mode)
    if stat.S_ISDIR(mode):
        return Entry(path, ino, "dir", perm)
    if stat.S_ISLNK(mode):
        if last.dsize > MAX_LINK:
            raise DataError(f"a link target of {last.dsize} bytes")
        return Entry(path, ino, "link", perm, target=node_data(last, image[last.payload]))
    if stat.S_ISREG(mode):
        if last.isize > MAX_FILE:
            raise DataError(
                f"its inode claims {last.isize} bytes, more than any file on a camera "
                f"flash ({MAX_FILE} at most): left out"
            )
        e = Entry(path, ino, "file", perm, last.isize, tuple(nodes), image)
        for _ in e.chunks():  # every node decodes, or the file is damaged
            pass
        return e
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return Entry(path, ino, "device", perm)
    return Entry(path, ino, "other", perm)
