"""Pure decoding of a terminal log of md output (PuTTY or minicom capture, the community
script's .log; CRLF or `\\n`-only) into memory bytes, with every line checked.

Returns the bytes and a report: addresses missing (gaps), lines seen twice (duplicates, the
same or different), and md-looking lines that fail their checks. Nothing is guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from .mdcodec import LINE_BYTES, MdError, MdFormat, split_lines

_MD_START = re.compile(rb"^([0-9a-f]{8}|[0-9a-f]{16}): ((?:[0-9a-f]{2})+) ")


@dataclass
class LogReport:
    start: int = 0
    length: int = 0
    width: int = 0
    lines: int = 0
    gaps: list[tuple[int, int]] = field(default_factory=list)  # (address, bytes)
    duplicates: list[int] = field(default_factory=list)  # same data twice: harmless
    conflicts: list[int] = field(default_factory=list)  # different data at one address
    damaged: list[tuple[int, str]] = field(default_factory=list)  # (log line number, why)


def decode_log(
    text: bytes, start: Optional[int] = None, length: Optional[int] = None
) -> tuple[bytes, LogReport]:
    lines = split_lines(text)
    width = 0
    for raw in lines:
        m = _MD_START.match(raw)
        if m:
            width = len(m.group(2)) // 2
            break
    rep = LogReport(width=width)
    if width not in (1, 2, 4, 8):
        return b"", rep
    fmt = MdFormat(width=width)
    good: dict[int, bytes] = {}
    for number, raw in enumerate(lines, 1):
        if not _MD_START.match(raw) and not re.match(rb"^[0-9a-f]{6,}", raw):
            continue
        try:
            line = fmt.parse_line(raw)
        except MdError as exc:
            rep.damaged.append((number, str(exc)))
            continue
        rep.lines += 1
        if line.addr in good:
            if good[line.addr] == line.data:
                rep.duplicates.append(line.addr)
            else:
                rep.conflicts.append(line.addr)
            continue
        good[line.addr] = line.data
    if not good:
        return b"", rep
    first = min(good)
    last = max(good)
    rep.start = first if start is None else start
    end = last + len(good[last]) if length is None else rep.start + length
    rep.length = end - rep.start
    out = bytearray()
    base = rep.start - (rep.start - first) % LINE_BYTES  # the line that holds `start`
    addr = base
    while addr < end:
        data = good.get(addr)
        if data is None:
            gap_start = addr
            while addr < end and addr not in good:
                addr += LINE_BYTES
            rep.gaps.append((gap_start, min(addr, end) - gap_start))
            continue
        out += data[: end - addr]
        addr += len(data)
    return bytes(out[rep.start - base :]), rep
