"""Pure decoding of a terminal log of md output (PuTTY or minicom capture, the community
script's .log; CRLF or `\\n`-only) into memory bytes, with every line checked.

All or nothing: the bytes of the range come back only when every line of it is there and
intact; otherwise LogError says what is missing (gaps, damaged or cut lines, two different
lines for one address) by address. Gaps are computed as intervals, so a range of any size
costs time in proportion to the log, not to the range.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from harness.console.mdcodec import LINE_BYTES, MdError, MdFormat, split_lines

_MD_START = re.compile(rb"^([0-9a-f]{8}|[0-9a-f]{16}): ((?:[0-9a-f]{2})+) ")
_MD_LIKE = re.compile(rb"^[0-9a-f]{6,}")
MAX_OUTPUT = 1 << 30  # a log of md lines holds less than this


class LogError(ValueError):
    """The log does not hold every byte of the range (the message says what is missing)."""


@dataclass
class LogReport:
    start: int = 0
    length: int = 0
    width: int = 0
    lines: int = 0
    duplicates: list[int] = field(default_factory=list)  # same data twice: harmless


def _describe(kind: str, items: list[str]) -> str:
    more = f" and {len(items) - 5} more" if len(items) > 5 else ""
    return f"{len(items)} {kind} ({', '.join(items[:5])}{more})"


def decode_log(
    text: bytes, start: Optional[int] = None, length: Optional[int] = None
) -> tuple[bytes, LogReport]:
    """The bytes of [start, start+length) (default: the first to the last line); LogError
    when anything in it is missing."""
    lines = split_lines(text)
    width = 0
    for raw in lines:
        m = _MD_START.match(raw)
        if m:
            width = len(m.group(2)) // 2
            break
    if width not in (1, 2, 4, 8):
        raise LogError("no md lines found")
    rep = LogReport(width=width)
    fmt = MdFormat(width=width)
    good: dict[int, bytes] = {}
    conflicts: set[int] = set()
    damaged: list[tuple[int, int, str]] = []  # (address if readable, log line, why)
    for number, raw in enumerate(lines, 1):
        if not _MD_START.match(raw) and not _MD_LIKE.match(raw):
            continue
        try:
            line = fmt.parse_line(raw)
        except MdError as exc:
            head = re.match(rb"^([0-9a-f]{8,16}):", raw)
            damaged.append((int(head.group(1), 16) if head else -1, number, str(exc)))
            continue
        rep.lines += 1
        if line.addr in good:
            if good[line.addr] == line.data:
                rep.duplicates.append(line.addr)
            else:
                conflicts.add(line.addr)
            continue
        good[line.addr] = line.data
    if not good:
        raise LogError(f"no intact md line ({len(damaged)} damaged)")
    # the default range runs from the first to the last line the log has, damaged ones too
    # (a cut last line must not make a short file)
    seen = list(good) + [a for a, _, _ in damaged if a >= 0]
    first, last = min(seen), max(seen)
    last_end = last + len(good.get(last, b"")) if last in good else last + LINE_BYTES
    rep.start = first if start is None else start
    end = last_end if length is None else rep.start + length
    if end <= rep.start:
        raise LogError("the range is empty")
    if end - rep.start > MAX_OUTPUT:
        raise LogError(f"the range is {end - rep.start} bytes, more than an md log holds")
    rep.length = end - rep.start

    # every byte of [start, end) from exactly one intact line, in address order
    out = bytearray()
    gaps: list[str] = []
    at = rep.start
    for addr in sorted(a for a in good if a + len(good[a]) > rep.start and a < end):
        if addr > at:
            gaps.append(f"0x{at:x}+{addr - at}")
        if addr + len(good[addr]) <= at:
            continue
        data = good[addr][max(0, at - addr) :]
        out += data[: end - max(at, addr)]
        at = max(at, addr) + len(data)
    if at < end:
        gaps.append(f"0x{at:x}+{end - at}")
    problems = []
    if gaps:
        problems.append(_describe("gaps", gaps))
    bad = [a for a in conflicts if rep.start - LINE_BYTES < a < end]
    if bad:
        problems.append(_describe("addresses with two different lines", [hex(a) for a in bad]))
    hurt = [d for d in damaged if d[0] < 0 or rep.start - LINE_BYTES < d[0] < end]
    if hurt:
        problems.append(_describe("damaged lines", [f"log line {n} ({w})" for _, n, w in hurt]))
    if problems:
        raise LogError("; ".join(problems))
    return bytes(out), rep
