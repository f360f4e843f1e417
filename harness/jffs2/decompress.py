"""An inode node's data, decompressed within bounds.

jefferson is used for what it does well, its decompressors (rtime, the JFFS2 LZMA framing,
LZO through lzallright), called directly: none of its module-global state, none of its
prints. Every node is first checked (nodes.inode_problem: at most a page of data), and
every decompressor is held to the node's own dsize: bad or hostile data costs at most a
page of memory and ends in DataError, never in a silent short result.
"""

from __future__ import annotations

import lzma
import struct
import zlib

from harness.jffs2.nodes import MAX_DATA, Inode, inode_problem

NONE, ZERO, RTIME, ZLIB, LZO, LZMA, LZMA_NO_SIZE = 0x00, 0x01, 0x02, 0x06, 0x07, 0x08, 0x15


class DataError(ValueError):
    """An inode node whose data cannot be decoded to what it claims."""


def _zlib(payload: bytes, size: int) -> bytes:
    d = zlib.decompressobj()
    out = d.decompress(payload, size + 1)
    return out


def _rtime(payload: bytes, size: int) -> bytes:
    from jefferson.compression import rtime

    return bytes(rtime.decompress(payload, size))


def _lzma_stream(stream: bytes, size: int) -> bytes:
    d = lzma.LZMADecompressor(format=lzma.FORMAT_ALONE)
    return d.decompress(stream, size + 1)


def _lzma(payload: bytes, size: int) -> bytes:
    from jefferson.compression import jffs2_lzma as j

    header = struct.pack("<BIQ", j.PROPERTIES, j.DICT_SIZE, size)  # jefferson's framing
    return _lzma_stream(header + payload, size)


def _lzma_no_size(payload: bytes, size: int) -> bytes:
    return _lzma_stream(payload[:5] + size.to_bytes(8, "little") + payload[5:], size)


def _lzo(payload: bytes, size: int) -> bytes:
    from lzallright import LZOCompressor

    return LZOCompressor.decompress(payload, output_size_hint=size)


DECODERS = {
    ZLIB: _zlib,
    RTIME: _rtime,
    LZMA: _lzma,
    LZMA_NO_SIZE: _lzma_no_size,
    LZO: _lzo,
}


def node_data(inode: Inode, payload: bytes) -> bytes:
    """Exactly the node's `dsize` bytes, or DataError."""
    problem = inode_problem(inode)
    if problem:
        raise DataError(problem)
    size = inode.dsize
    if inode.compr == NONE:
        return payload
    if inode.compr == ZERO:
        return bytes(size)
    decode = DECODERS.get(inode.compr)
    if decode is None:
        raise DataError(f"inode {inode.ino}: unknown compression {inode.compr}")
    try:
        data = decode(payload, size)
    except Exception as exc:  # noqa: BLE001 - every decoder's own failure is bad data here
        raise DataError(f"inode {inode.ino}: undecodable data ({type(exc).__name__})") from None
    if len(data) != size:
        raise DataError(f"inode {inode.ino}: {len(data)} bytes decoded, the node says {size}")
    return data


assert MAX_DATA <= 1 << 16  # the bound every decoder is held to
