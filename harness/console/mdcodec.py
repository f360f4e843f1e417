"""Pure decoding of U-Boot `md` output: text in, (address, bytes in memory order) out.

No I/O. Every line is checked: its address, the exact number of hex groups, the width of
each, the padding of a short last line, the gap before the ASCII column, and that the ASCII
column agrees with the decoded bytes (memory order, `.` for bytes outside 0x20..0x7e). Line
endings may be `\\r\\n`, `\\r\\r\\n` or `\\n`. Words are decoded to memory order using the
target's byte order, which is given or found from the ASCII column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

LINE_BYTES = 16
_PRINTABLE = bytes(b if 0x20 <= b <= 0x7E else 0x2E for b in range(256))
_HEX = re.compile(rb"[0-9a-f]+\Z")
_ADDR = re.compile(rb"([0-9a-f]{8}|[0-9a-f]{16}):")


class MdError(ValueError):
    """A line that is not a valid md line (or not the expected one)."""


def line_chars(width: int, gap: int = 4, addr_digits: int = 8) -> int:
    """Characters of one full md line with its `\r\n`: `ADDR:`, a space and 2*width hex
    digits per object, the gap, 16 ASCII characters (67 for an MStar md.l line)."""
    return addr_digits + 1 + (LINE_BYTES // width) * (2 * width + 1) + gap + LINE_BYTES + 2


def text_chars(length: int, width: int) -> int:
    """Characters of md's output for `length` bytes (whole lines; the last may be short but
    is counted whole: an upper bound)."""
    return -(-length // LINE_BYTES) * line_chars(width)


def bytes_within(chars: float, width: int) -> int:
    """The most bytes whose md lines fit in `chars` characters (at least one line)."""
    return max(1, int(chars / line_chars(width))) * LINE_BYTES


def ascii_column(data: bytes) -> bytes:
    return data.translate(_PRINTABLE)


def split_lines(text: bytes) -> list[bytes]:
    """Lines without their endings (`\\r\\n`, `\\r\\r\\n`, `\\n`); empty lines dropped; a last
    unterminated piece is kept (it may be a line cut short, which then fails its checks)."""
    return [ln for ln in (raw.rstrip(b"\r") for raw in text.split(b"\n")) if ln]


def _decode(tokens: list[bytes], width: int, order: str) -> bytes:
    return b"".join(int(t, 16).to_bytes(width, order) for t in tokens)  # type: ignore[arg-type]


@dataclass
class Line:
    addr: int
    data: bytes


LEARN_AFTER = 3  # agreeing full lines (4 for each one disagreeing) before the gap and the
# address width are fixed
ENDIAN_AFTER = 8  # decisive lines (with no contrary one) before the byte order is fixed


@dataclass
class MdFormat:
    """What is known of the target's md lines. `endian`, `gap` and `addr_digits` are given
    or learnt from the data, and then fixed for the session: a value is fixed only once
    several lines agree and (nearly) none disagrees, so one damaged line (two spaces of the
    gap lost, say) cannot teach a wrong format."""

    width: int = 4
    endian: Optional[str] = None  # "little", "big", or None: find from the data
    gap: Optional[int] = None  # 4 (U-Boot <= 2021.07, MStar) or 2; None: find from the data
    addr_digits: Optional[int] = None
    votes: dict[str, int] = field(default_factory=lambda: {"little": 0, "big": 0})
    wrong_order: int = 0  # lines that read right only in the other byte order than `endian`
    seen: dict[tuple[str, int], int] = field(default_factory=dict)  # (what, value): lines

    def _learn(self, what: str, value: int) -> None:
        self.seen[(what, value)] = self.seen.get((what, value), 0) + 1
        agree = self.seen[(what, value)]
        others = sum(n for (w, v), n in self.seen.items() if w == what and v != value)
        if agree >= max(LEARN_AFTER, 4 * others):
            setattr(self, what, value)

    def _vote(self, order: str) -> None:
        self.votes[order] += 1
        other = "big" if order == "little" else "little"
        if self.votes[order] >= ENDIAN_AFTER and not self.votes[other]:
            self.endian = order

    def parse_line(self, line: bytes) -> Line:
        """Check one line (without its ending) and decode it; raises MdError."""
        w = self.width
        per = LINE_BYTES // w
        m = _ADDR.match(line)
        if not m:
            raise MdError("no address")
        digits = len(m.group(1))
        if self.addr_digits is not None and digits != self.addr_digits:
            raise MdError("address width")
        addr = int(m.group(1), 16)
        rest = line[m.end() :]
        step = 2 * w + 1
        tokens: list[bytes] = []
        pos = 0
        while len(tokens) < per and rest[pos : pos + 1] == b" ":
            tok = rest[pos + 1 : pos + step]
            if (
                len(tok) != 2 * w
                or not _HEX.match(tok)
                or rest[pos + step : pos + step + 1] not in (b" ", b"")
            ):
                break
            tokens.append(tok)
            pos += step
        n = len(tokens)
        if n == 0:
            raise MdError("no hex groups")
        pad = (per - n) * step
        if n < per and rest[pos : pos + pad] == b" " * pad and len(rest) - pos - pad >= n * w + 2:
            pos += pad  # padded short line (U-Boot 2013.04 and later)
        tail = rest[pos:]
        nbytes = n * w
        gap = len(tail) - nbytes
        if gap not in (2, 4) or tail[:gap] != b" " * gap:
            raise MdError("gap or ASCII column length")
        if self.gap is not None and gap != self.gap:
            raise MdError("gap differs from earlier lines")
        data = self._decode_checked(tokens, tail[gap:])
        if n == per:  # full good lines teach the format for the lines after them
            if self.gap is None:
                self._learn("gap", gap)
            if self.addr_digits is None:
                self._learn("addr_digits", digits)
        return Line(addr, data)

    def _decode_checked(self, tokens: list[bytes], text: bytes) -> bytes:
        w = self.width
        if w == 1 or self.endian is not None:
            order = self.endian or "little"
            data = _decode(tokens, w, order)
            if ascii_column(data) != text:
                other = "big" if order == "little" else "little"
                if w > 1 and ascii_column(_decode(tokens, w, other)) == text:
                    self.wrong_order += 1
                raise MdError("ASCII column disagrees with the hex")
            return data
        le = _decode(tokens, w, "little")
        be = _decode(tokens, w, "big")
        le_ok = ascii_column(le) == text
        be_ok = ascii_column(be) == text
        if le_ok and not be_ok:
            self._vote("little")
            return le
        if be_ok and not le_ok:
            self._vote("big")
            return be
        if le_ok:  # both agree: the line cannot tell (e.g. no printable bytes)
            return le if self.votes["little"] >= self.votes["big"] else be
        raise MdError("ASCII column disagrees with the hex")


def decode_range(
    text: bytes, start: int, length: int, fmt: MdFormat
) -> tuple[dict[int, bytes], list[int]]:
    """Decode md output meant to cover [start, start+length).

    Returns (good lines by address, addresses of expected lines that are missing or damaged).
    A line is accepted only at an address inside the range, on the line grid, after the last
    accepted one and not further ahead than the lines in between allow; two different lines
    claiming one address are both rejected.
    """
    good: dict[int, bytes] = {}
    conflicted: set[int] = set()
    last, last_i = start - LINE_BYTES, -1
    end = start + length
    for i, raw in enumerate(split_lines(text)):
        try:
            line = fmt.parse_line(raw)
        except MdError:
            continue
        a = line.addr
        if a < start or a >= end or (a - start) % LINE_BYTES:
            continue
        if len(line.data) != min(LINE_BYTES, end - a):
            continue
        if a in good:
            if good[a] != line.data:
                conflicted.add(a)
            continue
        # in order, and no further ahead than the lines seen since the last good one allow
        # (a damaged address must not push the genuine lines after it out)
        if a <= last or a - last > LINE_BYTES * (i - last_i + 1):
            continue
        good[a] = line.data
        last, last_i = a, i
    for a in conflicted:
        good.pop(a, None)
    missing = [a for a in range(start, end, LINE_BYTES) if a not in good]
    return good, missing


def decode_exact(text: bytes, start: int, length: int, fmt: MdFormat) -> bytes:
    """Strict: the text must hold exactly the lines for the range, in order; raises MdError."""
    out = bytearray()
    expect = start
    for raw in split_lines(text):
        line = fmt.parse_line(raw)
        if line.addr != expect:
            raise MdError(f"line at 0x{line.addr:x}, expected 0x{expect:x}")
        out += line.data
        expect += len(line.data)
    if len(out) != length:
        raise MdError(f"{len(out)} bytes decoded, {length} expected")
    return bytes(out)
