"""Pure parsing of U-Boot's one-line replies (crc32, sf read, mmc read/write); no I/O."""

from __future__ import annotations

import re

_CRC = re.compile(
    rb"^crc32 for ([0-9a-f]{8}) \.\.\. ([0-9a-f]{8}) ==> ([0-9a-f]{8})\r*$", re.I | re.M
)
_SF_READ = re.compile(
    rb"^SF: (\d+) bytes @ (0x[0-9a-f]+|0) Read: OK(?: \(cost \d+ ms\))?\r*$", re.I | re.M
)

_MMC = re.compile(
    rb"MMC (read|write): dev # (\d+), block # (\d+), count (\d+) \.\.\. "
    rb"(?:([\s\S]*?)\b(\d+) blocks (?:read|written): (OK|ERROR)\r?$"
    rb"|(Error: card is write protected!))",
    re.M,
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


class MmcFailed(Exception):
    """`mmc read/write` answered, and it failed: (`reason`, the card's words)."""

    def __init__(self, reason: str, text: str):
        super().__init__(text)
        self.reason = reason  # "protected", "range", "error"


def mmc_reply(output: bytes, op: str, block: int, count: int) -> None:
    """Checks `MMC read: dev # 0, block # B, count C ... C blocks read: OK` (cmd_mmc.c of
    2015.01; block and count in decimal). ReplyError when it is not there whole (damaged on
    the line), MmcFailed when the card said no."""
    m = _MMC.search(output)
    if not m or m.group(1).decode() != op:
        raise ReplyError(f"no mmc {op} reply in {output.strip()[:120]!r}")
    if (int(m.group(3)), int(m.group(4))) != (block, count):
        raise ReplyError(f"mmc {op} reply for another range: {m.group(0)[:120]!r}")
    if m.group(8):
        raise MmcFailed("protected", "the card is write-protected")
    said = m.group(5).decode("latin-1").strip()
    n, ok = int(m.group(6)), m.group(7) == b"OK"
    if (ok and n != count) or (not ok and n != 0):
        raise ReplyError(f"mmc {op} reply does not add up (damaged?): {m.group(0)[:120]!r}")
    if ok:
        return
    if "exceeds max" in said:
        raise MmcFailed("range", said)
    raise MmcFailed("error", said or f"{int(m.group(6))} blocks {op}: ERROR")
