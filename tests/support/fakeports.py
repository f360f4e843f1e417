"""Hostile consoles on a pty, for the tests that the tool ends against them: a U-Boot that
answers synchronisation and `help` like a vendor build but then trickles or never stops,
random bytes (a wrong baud rate), a console that only echoes, a Linux shell.
"""

from __future__ import annotations

import os
import random
import re
import select
import threading
import time
import tty
import zlib
from typing import Optional

PROMPT = b"MStar # "
HELP = (
    b"?       - alias for 'help'\r\ncrc32   - checksum calculation\r\n"
    b"help    - print command description/usage\r\nmd      - memory display\r\n"
    b"sf      - SPI flash sub-system\r\nversion - print monitor, compiler and linker version\r\n"
)
HELP_MD = b"md - memory display\r\n\r\nUsage:\r\nmd [.b, .w, .l] address [# of objects]\r\n"


class FakePort:
    """A thread answering on a pty as `kind` does: trickle, endless, random, echo, linux."""

    def __init__(self, kind: str, seed: int = 0):
        self.kind = kind
        self.rng = random.Random(seed)
        master, slave = os.openpty()
        tty.setraw(slave)
        self.port = os.ttyname(slave)
        os.close(slave)
        self.fd = master
        self._stop = threading.Event()
        self._line = bytearray()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> FakePort:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        os.close(self.fd)

    def _send(self, data: bytes) -> None:
        try:
            os.write(self.fd, data)
        except OSError:
            pass

    def _read(self, timeout: float) -> bytes:
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return b""
        try:
            return os.read(self.fd, 4096)
        except OSError:
            time.sleep(timeout)  # no client has the pty open
            return b""

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.kind == "random":
                self._read(0)
                self._send(self.rng.randbytes(64))
                time.sleep(0.006)  # about 11,000 bytes/s: a line at a wrong rate
                continue
            data = self._read(0.05)
            for b in data:
                self._key(bytes((b,)))

    def _key(self, key: bytes) -> None:
        if self.kind == "echo":
            self._send(key)
            return
        if key == b"\x03":
            self._line.clear()
            self._send(b"^C\r\n/ # " if self.kind == "linux" else b"<INTERRUPT>\r\n" + PROMPT)
            return
        if key not in b"\r\n":
            self._line += key
            self._send(key)
            return
        line = bytes(self._line).decode("latin-1").strip()
        self._line.clear()
        self._send(b"\r\n")
        if self.kind == "linux":
            word = line.split()[0] if line else ""
            self._send(f"-sh: {word}: not found\r\n/ # ".encode() if word else b"/ # ")
            return
        self._send(self._answer(line) + PROMPT if not line.startswith("md") else b"")
        if line.startswith("md"):
            self._md(line)

    def _answer(self, line: str) -> bytes:
        if line == "help":
            return HELP
        if line == "help md":
            return HELP_MD
        m = re.match(r"crc32 ([0-9a-f]+) ([0-9a-f]+)$", line)
        if m:
            addr, n = int(m.group(1), 16), int(m.group(2), 16)
            crc = zlib.crc32(bytes(n))
            return b"CRC32 for %08x ... %08x ==> %08x\r\n" % (addr, addr + n - 1, crc)
        if line:
            return b"Unknown command '%s' - try 'help'\r\n" % line.split()[0].encode()
        return b""

    def _md(self, line: str) -> None:
        """md of zeros: trickled one byte every 0.5 s, or endless (and deaf to Ctrl-C)."""
        addr = int(line.split()[1], 16)
        text = b""
        while not self._stop.is_set():
            if not text:
                text = b"%08x: 00000000 00000000 00000000 00000000    ................\r\n" % addr
                addr += 16
            if self.kind == "trickle":
                self._send(text[:1])
                text = text[1:]
                if self._interrupted(0.5):
                    self._send(b"\r\n" + PROMPT)
                    return
            else:  # endless: as fast as the line goes, Ctrl-C or not
                self._send(text)
                text = b""
                self._read(0)
                time.sleep(0.001)

    def _interrupted(self, wait: float) -> bool:
        data: Optional[bytes] = self._read(wait)
        return bool(data) and b"\x03" in data
