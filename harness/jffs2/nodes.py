"""Pure scanning of JFFS2 images: node headers, their CRCs, and the image's layout.

A node header is magic 0x1985 (u16), nodetype (u16), totlen (u32), hdr_crc (u32) over the
first 8 bytes, computed with the ACCURATE bit (0x2000) of nodetype set, even for obsolete
nodes. JFFS2's CRC-32 has seed 0 and no final inversion. Whether an image is little or big
endian, and whether its 32-bit words are reversed, is decided by counting 4-byte-aligned
headers whose hdr_crc verifies under each layout.
"""

from __future__ import annotations

import struct
import zlib
from collections import Counter
from dataclasses import dataclass, field

MAGIC = 0x1985
ACCURATE = 0x2000
NODE_TYPES = {
    0xE001: "dirent",
    0xE002: "inode",
    0x2003: "cleanmarker",
    0x2004: "padding",
    0x2006: "summary",
    0xE008: "xattr",
    0xE009: "xref",
}
LAYOUTS = ("little", "big", "little-swapped", "big-swapped")


def jffs2_crc(data: bytes) -> int:
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


def _order(layout: str) -> str:
    return "<" if layout.startswith("little") else ">"


def header_ok(data: bytes | bytearray, off: int, order: str) -> tuple[int, int] | None:
    """(nodetype, totlen) if a valid header starts at `off`, else None."""
    if off + 12 > len(data):
        return None
    magic, ntype, totlen, crc = struct.unpack_from(order + "HHII", data, off)
    if magic != MAGIC:
        return None
    hdr = struct.pack(order + "HHI", magic, ntype | ACCURATE, totlen)
    if jffs2_crc(hdr) != crc or totlen < 12:
        return None
    return ntype, totlen


def count_headers(data: bytes, layout: str) -> int:
    """4-byte-aligned headers whose hdr_crc verifies when read as `layout`."""
    image = to_layout(data, layout)
    order = _order(layout)
    needle = struct.pack(order + "H", MAGIC)
    n = 0
    pos = image.find(needle)
    while pos >= 0:
        if pos % 4 == 0 and header_ok(image, pos, order):
            n += 1
        pos = image.find(needle, pos + 1)
    return n


def detect_layout(data: bytes) -> tuple[str | None, dict[str, int]]:
    """The layout with the most verified headers (None if no layout has any)."""
    usable = data[: len(data) - len(data) % 4]
    counts = {layout: count_headers(usable, layout) for layout in LAYOUTS}
    best = max(counts, key=counts.__getitem__)
    return (best if counts[best] else None), counts


@dataclass
class Scan:
    layout: str | None
    counts: dict[str, int]
    nodes: Counter = field(default_factory=Counter)
    obsolete: int = 0
    crc_errors: list[tuple[int, str]] = field(default_factory=list)
    used: int = 0
    erased: int = 0
    other: int = 0


def scan(data: bytes) -> Scan:
    """Walk the image node by node in its detected layout, checking node and data CRCs."""
    layout, counts = detect_layout(data)
    s = Scan(layout, counts)
    if layout is None:
        s.other = len(data)
        return s
    image = to_layout(data[: len(data) - len(data) % 4], layout)
    order = _order(layout)
    off = 0
    n = len(image)
    while off < n:
        h = header_ok(image, off, order)
        if h:
            ntype, totlen = h
            if off + totlen > n:
                s.crc_errors.append((off, "node runs past the end of the image"))
                s.other += n - off
                break
            name = NODE_TYPES.get(ntype | ACCURATE, f"0x{ntype:04x}")
            if not ntype & ACCURATE:
                s.obsolete += 1
            s.nodes[name] += 1
            err = _node_crc_error(image, off, ntype | ACCURATE, totlen, order)
            if err:
                s.crc_errors.append((off, err))
            step = (totlen + 3) & ~3
            s.used += step
            off += step
        elif image[off : off + 4] == b"\xff\xff\xff\xff":
            end = off + 4
            while end < n and image[end : end + 4] == b"\xff\xff\xff\xff":
                nxt = len(image[end:]) - len(image[end:].lstrip(b"\xff"))
                end += max(4, nxt - nxt % 4)
            end = min(end, n)
            s.erased += end - off
            off = end
        else:
            if image[off : off + 2] == struct.pack(order + "H", MAGIC):
                s.crc_errors.append((off, "node header CRC"))
            s.other += 4
            off += 4
    return s


def _node_crc_error(image: bytes, off: int, ntype: int, totlen: int, order: str) -> str | None:
    if ntype == 0xE002:  # inode: node_crc over 60 bytes, data_crc over the (compressed) data
        if totlen < 68:
            return "inode node too short"
        csize, _dsize, _compr, _ucompr, _flags, data_crc, node_crc = struct.unpack_from(
            order + "IIBBHII", image, off + 48
        )
        if jffs2_crc(image[off : off + 60]) != node_crc:
            return "inode node CRC"
        if 68 + csize > totlen:
            return "inode data runs past the node"
        if csize and jffs2_crc(image[off + 68 : off + 68 + csize]) != data_crc:
            return "inode data CRC"
    elif ntype == 0xE001:  # dirent: node_crc over 32 bytes, name_crc over the name
        if totlen < 40:
            return "dirent node too short"
        nsize = image[off + 28]
        node_crc, name_crc = struct.unpack_from(order + "II", image, off + 32)
        if jffs2_crc(image[off : off + 32]) != node_crc:
            return "dirent node CRC"
        if jffs2_crc(image[off + 40 : off + 40 + nsize]) != name_crc:
            return "dirent name CRC"
    return None
