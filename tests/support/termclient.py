"""A bare terminal for tests of the emulator: type a line, collect bytes until a pattern ends
the stream. Deliberately independent of the harness's console driver."""

from __future__ import annotations

import time

import serial


class Term:
    def __init__(self, port: str, timeout: float = 10.0):
        self.s = serial.serial_for_url(port, timeout=0.02)
        self.timeout = timeout

    def close(self) -> None:
        self.s.close()

    def send(self, data: bytes) -> None:
        self.s.write(data)

    def type(self, line: str) -> None:
        """Type a line a character at a time, each after its echo, as a person would."""
        for ch in line.encode("latin-1"):
            self.s.write(bytes((ch,)))
            self.read_until(bytes((ch,)))
        self.s.write(b"\r")

    def read_until(self, end: bytes, timeout: float | None = None, anywhere: bool = False) -> bytes:
        """Read until the stream ends with `end` (or, with anywhere, contains it)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        out = bytearray()
        while not (end in out if anywhere else out.endswith(end)):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {end!r} after {bytes(out[-200:])!r}")
            out += self.s.read(max(1, self.s.in_waiting))
        return bytes(out)

    def command(self, line: str, prompt: bytes, timeout: float | None = None) -> bytes:
        """Send `line` + CR at once; everything up to and including the next prompt."""
        self.s.write(line.encode("latin-1") + b"\r")
        return self.read_until(prompt, timeout)
