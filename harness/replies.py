"""Pure parsing of U-Boot's one-line replies (crc32, sf read); no I/O."""

from __future__ import annotations

import re

_CRC = re.compile(
    rb"^crc32 for ([0-9a-f]{8}) \.\.\. ([0-9a-f]{8}) ==> ([0-9a-f]{8})\r*$", re.I | re.M
)
_SF_READ = re.compile(
    rb"^SF: (\d+) bytes @ (0x[0-9a-f]+|0) Read: OK(?: \(cost \d+ ms\))?\r*$", re.I | re.M
)


class ReplyError(ValueError):
    """A reply that is not the expected one (damaged on the line, or a different answer)."""


def crc32_reply(output: bytes, addr: int, length: int) -> int:
    """The CRC from `crc32 addr length` output (MStar `CRC32 for` or mainline `crc32 for`)."""
    m = _CRC.search(output)
    if not m:
        raise ReplyError(f"no crc32 line in {output[:80]!r}")
    first, last, crc = (int(g, 16) for g in m.groups())
    if first != addr & 0xFFFFFFFF or last != (addr + length - 1) & 0xFFFFFFFF:
        raise ReplyError(f"crc32 line for another range: {m.group(0)!r}")
    return crc


def sf_read_reply(output: bytes, offset: int, length: int) -> None:
    """Checks `SF: N bytes @ 0xOFFSET Read: OK` (with or without ` (cost N ms)`)."""
    m = _SF_READ.search(output)
    if not m:
        raise ReplyError(f"sf read did not report OK: {output.strip()[:120]!r}")
    n, off = int(m.group(1)), int(m.group(2), 16)
    if n != length or off != offset:
        raise ReplyError(f"sf read reported {n} bytes @ {off:#x}, asked {length} @ {offset:#x}")
