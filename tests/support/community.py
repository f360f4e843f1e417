"""The community's manual procedure (../shared/seed), as a small client written from its
description: `md` in steps, an empty line to repeat, fixed 67-character MStar lines, hex words
joined in printed order, then every 4-byte word reversed (swap.py)."""

from __future__ import annotations

import serial

LINE = 67  # MStar md.l line with \r\n
PROMPT = b"MStar # "


class _Reader:
    def __init__(self, s: serial.Serial):
        self.s = s
        self.buf = bytearray()

    def until(self, end: bytes) -> bytes:
        while True:
            i = self.buf.find(end)
            if i >= 0:
                out = bytes(self.buf[: i + len(end)])
                del self.buf[: i + len(end)]
                return out
            chunk = self.s.read(max(1, self.s.in_waiting))
            if not chunk:
                raise TimeoutError(f"no {end!r} in {bytes(self.buf[-100:])!r}")
            self.buf += chunk


def dump(port: str, start: int, end_inclusive: int, step_lines: int = 64) -> tuple[bytes, bytes]:
    """Returns (image as the community script writes it, the terminal log)."""
    s = serial.serial_for_url(port, timeout=5)
    r = _Reader(s)
    data = bytearray()
    log = bytearray()
    expect = start
    s.write(b"md %x %x\n" % (start, step_lines * 4))
    r.until(b"\n")  # the echo of the command
    try:
        while True:
            raw = r.until(b"\n")
            if len(raw) != LINE:
                raise AssertionError(f"line of {len(raw)} characters: {raw!r}")
            addr = int(raw[:8], 16)
            assert raw[8:10] == b": " and addr == expect, raw
            data += bytes.fromhex(raw[10:45].replace(b" ", b"").decode())
            log += raw
            expect += 16
            if addr >= end_inclusive:
                break
            if (addr - start) % (step_lines * 16) == (step_lines - 1) * 16:
                assert r.until(PROMPT).endswith(PROMPT)
                s.write(b"\n")  # empty line: md continues where it stopped
                assert r.until(b"\n") == b"\r\n"  # its echo
    finally:
        s.close()
    return bytes(data), bytes(log)


def swap(data: bytes) -> bytes:
    """swap.py: reverse every 4-byte word."""
    return b"".join(data[i : i + 4][::-1] for i in range(0, len(data), 4))
