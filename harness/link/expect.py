"""An interactive console for test authors: pexpect over the tool's Transport, so any port
pyserial opens (a device, a pty, socket://, rfc2217://) works the same, as labgrid's and
U-Boot's own test consoles do (`sendline`, `expect`, `before`, `after`).

Every line sent passes `check` first (the plugin gives the read-only command policy's, unless
the test was marked as allowed to write, `@pytest.mark.uboot_writes`); a line it refuses
(by raising) never reaches the port.
Everything received is appended to `log` (the plugin gives each test its own file).
"""

from __future__ import annotations

from typing import BinaryIO, Callable, Optional

import pexpect
from pexpect.spawnbase import SpawnBase

from harness.link.transport import Transport


class SerialExpect(SpawnBase):
    def __init__(
        self,
        transport: Transport,
        check: Optional[Callable[[str], None]],
        *,
        timeout: float = 10.0,
        log: Optional[BinaryIO] = None,
    ):
        super().__init__(timeout=timeout, maxread=4096, searchwindowsize=None, encoding="latin-1")
        self.transport = transport
        self.check = check
        self.log = log
        self._pending = b""  # typed since the last Enter: checked as a whole at Enter

    def read_nonblocking(self, size: int = 1, timeout: Optional[float] = -1) -> str:
        if timeout == -1:
            timeout = self.timeout
        data = self.transport.read(0.05 if timeout is None else max(0.0, timeout))
        if not data:
            raise pexpect.TIMEOUT("no data")
        self._record(data)
        return data.decode("latin-1")

    def _record(self, data: bytes) -> None:
        if self.log is not None:
            self.log.write(data)
            self.log.flush()

    def _write(self, data: bytes) -> int:
        self._record(data)
        self.transport.write(data)
        return len(data)

    def send(self, s: str | bytes) -> int:
        """Bytes as typed; every complete line in them passes `check` first."""
        data = s.encode("latin-1") if isinstance(s, str) else s
        lines = (self._pending + data).replace(b"\r", b"\n").split(b"\n")
        if self.check is not None:
            for line in lines[:-1]:
                self.check(line.decode("latin-1"))
        self._pending = lines[-1]
        return self._write(data)

    def sendline(self, s: str | bytes = "") -> int:
        """The line, then Enter (U-Boot reads `\\r`). An empty line is refused by the policy
        (U-Boot would repeat its last command)."""
        data = s.encode("latin-1") if isinstance(s, str) else s
        return self.send(data + b"\r")

    def sendcontrol(self, char: str) -> int:
        if char.lower() == "c":
            self._pending = b""  # U-Boot drops the line typed so far
        return self._write(bytes((ord(char.lower()) - ord("a") + 1,)))

    def flush_input(self) -> None:
        """Drop what has arrived and not been expected (another owner's leftovers)."""
        self.buffer = ""
        self.before = ""
        while self.transport.read(0.05):
            pass
