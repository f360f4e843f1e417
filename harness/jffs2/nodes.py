"""JFFS2 nodes: the one module that knows their layout and walks an image. Pure.

A node header is magic 0x1985 (u16), nodetype (u16), totlen (u32), hdr_crc (u32) over the
first 8 bytes, computed with the ACCURATE bit (0x2000) of nodetype set, even for obsolete
nodes. JFFS2's CRC-32 has seed 0 and no final inversion. Whether an image is little or big
endian, and whether its 32-bit words are reversed, is decided by counting 4-byte-aligned
headers whose hdr_crc verifies under each layout.

Every field is read through the structs below (no offsets anywhere else), and checked
before anything is sized by it: a node's length against the image, an inode's data length
against a page, a name's length against its node.
"""

from __future__ import annotations

import struct
import zlib
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Iterator, Optional, Union

MAGIC = 0x1985
ACCURATE = 0x2000
DIRENT = 0xE001
INODE = 0xE002
NODE_TYPES = {
    DIRENT: "dirent",
    INODE: "inode",
    0x2003: "cleanmarker",
    0x2004: "padding",
    0x2006: "summary",
    0xE008: "xattr",
    0xE009: "xref",
}
LAYOUTS = ("little", "big", "little-swapped", "big-swapped")
MAX_DATA = 0x10000  # an inode node covers at most a page of data (4 KiB; up to 64 KiB)

# The raw layouts (without the byte-order prefix), field names in order.
HEADER = ("HHII", ("magic", "nodetype", "totlen", "hdr_crc"))
DIRENT_FIELDS = (
    "HHIIIIIIBBHII",
    ("magic", "nodetype", "totlen", "hdr_crc", "pino", "version", "ino", "mctime",
     "nsize", "type", "unused", "node_crc", "name_crc"),
)  # fmt: skip
INODE_FIELDS = (
    "HHIIIIIHHIIIIIIIBBHII",
    ("magic", "nodetype", "totlen", "hdr_crc", "ino", "version", "mode", "uid", "gid",
     "isize", "atime", "mtime", "ctime", "offset", "csize", "dsize", "compr", "usercompr",
     "flags", "data_crc", "node_crc"),
)  # fmt: skip
HEADER_SIZE = struct.calcsize("<" + HEADER[0])  # 12
DIRENT_SIZE = struct.calcsize("<" + DIRENT_FIELDS[0])  # 40
INODE_SIZE = struct.calcsize("<" + INODE_FIELDS[0])  # 68
DIRENT_CRC_SPAN = DIRENT_SIZE - 8  # node_crc covers the fields before node_crc, name_crc
INODE_CRC_SPAN = INODE_SIZE - 8  # node_crc covers the fields before data_crc, node_crc


def jffs2_crc(data: bytes | bytearray | memoryview) -> int:
    return zlib.crc32(data, 0xFFFFFFFF) ^ 0xFFFFFFFF


def swap_words(data: bytes) -> bytes:
    """Reverse every 32-bit word (the community scripts' output order); len must be % 4."""
    if len(data) % 4:
        raise ValueError(f"length {len(data)} is not a multiple of 4")
    a = bytearray(data)
    a[0::4], a[1::4], a[2::4], a[3::4] = data[3::4], data[2::4], data[1::4], data[0::4]
    return bytes(a)


def to_layout(data: bytes, layout: str) -> bytes:
    """The image as it would be in `layout`'s own byte order (undoing a word swap)."""
    return swap_words(data) if layout.endswith("-swapped") else data


def byte_order(layout: str) -> str:
    return "<" if layout.startswith("little") else ">"


# -- one node ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Node:
    """A node whose header verifies: where it is, its type and length."""

    offset: int
    nodetype: int  # as stored: without ACCURATE when obsolete
    totlen: int

    @property
    def kind(self) -> int:
        return self.nodetype | ACCURATE

    @property
    def obsolete(self) -> bool:
        return not self.nodetype & ACCURATE

    @property
    def name(self) -> str:
        return NODE_TYPES.get(self.kind, f"0x{self.kind:04x}")

    @property
    def end(self) -> int:
        return self.offset + self.totlen

    @property
    def next(self) -> int:
        return self.offset + ((self.totlen + 3) & ~3)


@dataclass(frozen=True)
class Dirent:
    pino: int
    version: int
    ino: int
    mctime: int
    nsize: int
    type: int
    unused: int
    node_crc: int
    name_crc: int
    name: bytes
    magic: int = MAGIC
    nodetype: int = DIRENT
    totlen: int = 0
    hdr_crc: int = 0


@dataclass(frozen=True)
class Inode:
    ino: int
    version: int
    mode: int
    uid: int
    gid: int
    isize: int
    atime: int
    mtime: int
    ctime: int
    offset: int
    csize: int
    dsize: int
    compr: int
    usercompr: int
    flags: int
    data_crc: int
    node_crc: int
    at: int = 0  # where its node starts in the image
    magic: int = MAGIC
    nodetype: int = INODE
    totlen: int = 0
    hdr_crc: int = 0

    @property
    def payload(self) -> slice:
        return slice(self.at + INODE_SIZE, self.at + INODE_SIZE + self.csize)


def _unpack(layout: tuple[str, tuple[str, ...]], order: str, image, offset: int) -> dict:
    return dict(zip(layout[1], struct.unpack_from(order + layout[0], image, offset)))


def header_ok(image: bytes | bytearray, off: int, order: str) -> Optional[Node]:
    """The node whose header verifies at `off`, or None."""
    if off + HEADER_SIZE > len(image):
        return None
    h = _unpack(HEADER, order, image, off)
    if h["magic"] != MAGIC or h["totlen"] < HEADER_SIZE:
        return None
    raw = struct.pack(order + "HHI", MAGIC, h["nodetype"] | ACCURATE, h["totlen"])
    if jffs2_crc(raw) != h["hdr_crc"]:
        return None
    return Node(off, h["nodetype"], h["totlen"])


def parse_dirent(image: bytes, node: Node, order: str) -> Optional[Dirent]:
    """The dirent at `node`, or None when its lengths do not fit its node."""
    if node.totlen < DIRENT_SIZE or node.end > len(image):
        return None
    f = _unpack(DIRENT_FIELDS, order, image, node.offset)
    if DIRENT_SIZE + f["nsize"] > node.totlen:
        return None
    start = node.offset + DIRENT_SIZE
    return Dirent(name=bytes(image[start : start + f["nsize"]]), **f)


def parse_inode(image: bytes, node: Node, order: str) -> Optional[Inode]:
    """The inode at `node`, or None when its lengths do not fit its node."""
    if node.totlen < INODE_SIZE or node.end > len(image):
        return None
    f = _unpack(INODE_FIELDS, order, image, node.offset)
    if INODE_SIZE + f["csize"] > node.totlen:
        return None
    return Inode(at=node.offset, **f)


def node_crc_error(image: bytes, node: Node, order: str) -> Optional[str]:
    """What is wrong with a node whose header verifies, or None."""
    if node.kind == INODE:
        if node.totlen < INODE_SIZE:
            return "inode node too short"
        i = parse_inode(image, node, order)
        if i is None:
            return "inode data runs past the node"
        if jffs2_crc(image[node.offset : node.offset + INODE_CRC_SPAN]) != i.node_crc:
            return "inode node CRC"
        if i.csize and jffs2_crc(image[i.payload]) != i.data_crc:
            return "inode data CRC"
    elif node.kind == DIRENT:
        if node.totlen < DIRENT_SIZE:
            return "dirent node too short"
        d = parse_dirent(image, node, order)
        if d is None:
            return "dirent name runs past the node"
        if jffs2_crc(image[node.offset : node.offset + DIRENT_CRC_SPAN]) != d.node_crc:
            return "dirent node CRC"
        if jffs2_crc(d.name) != d.name_crc:
            return "dirent name CRC"
    return None


def inode_problem(i: Inode) -> Optional[str]:
    """A field of an (intact) inode node that no real image has: sizes nothing by it."""
    if i.dsize > MAX_DATA:
        return f"inode {i.ino} node claims {i.dsize} bytes of data (a node holds a page)"
    if i.compr == 0 and i.csize != i.dsize:  # uncompressed: the payload is the data
        return f"inode {i.ino} node: uncompressed, but {i.csize} bytes for {i.dsize}"
    return None


def restamp(image: bytearray, node: Node, order: str, when: int) -> None:
    """Set an inode's atime/mtime/ctime or a dirent's mctime to `when`, its CRC again."""
    if node.kind == INODE and node.totlen >= INODE_SIZE:
        i = parse_inode(bytes(image), node, order)
        if i is None:
            return
        new = replace(i, atime=when, mtime=when, ctime=when)
        _store(image, node.offset, order, INODE_FIELDS, new, INODE_CRC_SPAN)
    elif node.kind == DIRENT and node.totlen >= DIRENT_SIZE:
        d = parse_dirent(bytes(image), node, order)
        if d is None:
            return
        _store(image, node.offset, order, DIRENT_FIELDS, replace(d, mctime=when), DIRENT_CRC_SPAN)


def field_offset(layout: tuple[str, tuple[str, ...]], name: str) -> int:
    """Where a field starts in its node."""
    index = layout[1].index(name)
    return struct.calcsize("<" + layout[0][:index])


def _store(image: bytearray, off: int, order: str, layout, obj, crc_span: int) -> None:
    values = [getattr(obj, name) for name in layout[1]]
    struct.pack_into(order + layout[0], image, off, *values)
    crc = jffs2_crc(bytes(image[off : off + crc_span]))
    struct.pack_into(order + "I", image, off + field_offset(layout, "node_crc"), crc)


# -- an image ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Gap:
    """Bytes between nodes: erased flash, anything else, or a node cut off by the end."""

    offset: int
    length: int
    what: str  # "erased", "other", "truncated", "bad header"


def walk(image: bytes, order: str) -> Iterator[Union[Node, Gap]]:
    """Node by node through an image (already in its layout's byte order)."""
    off = 0
    n = len(image) - len(image) % 4
    magic = struct.pack(order + "H", MAGIC)
    while off < n:
        node = header_ok(image, off, order)
        if node is not None:
            if node.end > n:
                yield Gap(off, n - off, "truncated")
                return
            yield node
            off = node.next
        elif image[off : off + 4] == b"\xff\xff\xff\xff":
            run = len(image[off:n]) - len(image[off:n].lstrip(b"\xff"))
            run -= run % 4
            yield Gap(off, run, "erased")
            off += run
        else:
            yield Gap(off, 4, "bad header" if image[off : off + 2] == magic else "other")
            off += 4


def count_headers(data: bytes, layout: str) -> int:
    """4-byte-aligned headers whose hdr_crc verifies when read as `layout`."""
    image = to_layout(data, layout)
    order = byte_order(layout)
    needle = struct.pack(order + "H", MAGIC)
    count = 0
    pos = image.find(needle)
    while pos >= 0:
        if pos % 4 == 0 and header_ok(image, pos, order):
            count += 1
        pos = image.find(needle, pos + 1)
    return count


def detect_layout(data: bytes) -> tuple[Optional[str], dict[str, int]]:
    """The layout with the most verified headers (None if no layout has any)."""
    usable = data[: len(data) - len(data) % 4]
    counts = {layout: count_headers(usable, layout) for layout in LAYOUTS}
    best = max(counts, key=counts.__getitem__)
    return (best if counts[best] else None), counts


@dataclass
class Scan:
    layout: Optional[str]
    counts: dict[str, int]
    nodes: Counter = field(default_factory=Counter)
    obsolete: int = 0
    crc_errors: list[tuple[int, str]] = field(default_factory=list)
    used: int = 0
    erased: int = 0
    other: int = 0
    first_node: Optional[int] = None


def scan(data: bytes) -> Scan:
    """Walk the image node by node in its detected layout, checking node and data CRCs."""
    layout, counts = detect_layout(data)
    s = Scan(layout, counts)
    if layout is None:
        s.other = len(data)
        return s
    image = to_layout(data[: len(data) - len(data) % 4], layout)
    order = byte_order(layout)
    for item in walk(image, order):
        if isinstance(item, Gap):
            if item.what == "erased":
                s.erased += item.length
            else:
                s.other += item.length
            if item.what == "truncated":
                s.crc_errors.append((item.offset, "node runs past the end of the image"))
            elif item.what == "bad header":
                s.crc_errors.append((item.offset, "node header CRC"))
            continue
        if s.first_node is None:
            s.first_node = item.offset
        s.obsolete += item.obsolete
        s.nodes[item.name] += 1
        err = node_crc_error(image, item, order)
        if err is None and item.kind == INODE:
            inode = parse_inode(image, item, order)
            err = inode_problem(inode) if inode else None
        if err:
            s.crc_errors.append((item.offset, err))
        s.used += item.next - item.offset
    return s
