"""Bytes into the camera's RAM over the serial line, with what every U-Boot has: `mw.l`.

One command per 32-bit word, except that a run of equal words is one `mw.l ADDR WORD COUNT`
(a JFFS2 image's erased padding and zero runs cost one line each). The words are written in
the target's order (little-endian, as the cameras' ARM); whatever arrives is proven by the
target's crc32 of the RAM before it is used, so a damaged line costs a retry, never a wrong
byte on the flash. A command damaged on the line is typed again (mw repeats harmlessly)."""

from __future__ import annotations

import struct

from harness.console.session import Console


def runs(data: bytes) -> list[tuple[int, int, int]]:
    """(byte offset, word, count) of each run of equal little-endian 32-bit words."""
    if len(data) % 4:
        raise ValueError("data must be whole 32-bit words")
    words = struct.unpack(f"<{len(data) // 4}I", data)
    out: list[tuple[int, int, int]] = []
    i = 0
    while i < len(words):
        j = i + 1
        while j < len(words) and words[j] == words[i]:
            j += 1
        out.append((4 * i, words[i], j - i))
        i = j
    return out


def commands(ram: int, data: bytes) -> list[str]:
    return [
        f"mw.l {ram + off:x} {word:x}" + (f" {count:x}" if count > 1 else "")
        for off, word, count in runs(data)
    ]


def load(console: Console, ram: int, data: bytes) -> int:
    """`data` at `ram`; the number of commands sent."""
    sent = commands(ram, data)
    for command in sent:
        console.ask(command, expect_chars=64)
    return len(sent)
