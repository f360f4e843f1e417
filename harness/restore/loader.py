"""Bytes into the camera's RAM over the serial line: with `loady` (YMODEM, 1 KiB binary
blocks with a CRC-16 each) where the target's U-Boot has it, else with what every U-Boot has:
`mw.l`.

One command per 32-bit word, except that a run of equal words is one `mw.l ADDR WORD COUNT`
(a JFFS2 image's erased padding and zero runs cost one line each). The words are written in
the target's order (little-endian, as the cameras' ARM); whatever arrives is proven by the
target's crc32 of the RAM before it is used, so a damaged line costs a retry, never a wrong
byte on the flash. A command damaged on the line is typed again (mw repeats harmlessly)."""

from __future__ import annotations

import struct

from harness.console.session import Console
from harness.link import ymodem

READY = b"## Ready for binary (ymodem) download"  # cmd/load.c do_load_serial_bin


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


def mw_chars(sent: list[str], prompt: int = 8) -> int:
    """What the mw.l lines cost the line back from the target: each echoed with CR LF, and
    the prompt after it."""
    return sum(len(c) + 2 + prompt for c in sent)


def load(console: Console, ram: int, data: bytes) -> int:
    """`data` at `ram` by the way that moves fewer characters: loady where the target has it
    and the data is dense (a block of runs of equal words is fewer mw.l lines than YMODEM's
    1,029 bytes a KiB); the number of commands sent."""
    caps = console.knowledge.capabilities
    sent = commands(ram, data)
    if caps is not None and caps.has("loady") and ymodem.wire_bytes(len(data)) < mw_chars(sent):
        console.transfer(
            f"loady {ram:x}",
            READY,
            lambda port, after: ymodem.send(port, "block.bin", data, already=after).rest,
        )
        return 1
    for command in sent:
        console.ask(command, expect_chars=64)
    return len(sent)
