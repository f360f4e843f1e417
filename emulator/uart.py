"""The board's UART as the firmware sees it: putc/puts, tstc, getc (U-Boot's names).

Input arrives from the line at most at the character rate; output goes through the line.
`\\n` goes out as `\\r\\n`, as U-Boot's serial drivers do (so a literal `\\r\\n` becomes
`\\r\\r\\n`).
"""

from __future__ import annotations

import threading
import time
from collections import deque

from .events import PowerOff
from .line import Line

UNPACED_FLUSH = 16384


class Uart:
    def __init__(self, line: Line):
        self.line = line
        line.check = self.check_power
        self._rx: deque[tuple[float, int]] = deque()
        self._cv = threading.Condition()
        self._tx = bytearray()
        self._last_avail = 0.0
        self.powered = False
        self.generation = 0  # counts power changes; a boot runs within one generation
        self._boot_gen = -1
        self.initial_baud = int(line.rate * 10)

    # -- power -------------------------------------------------------------------------
    def power(self, on: bool) -> None:
        with self._cv:
            self.powered = on
            self.generation += 1
            self._rx.clear()
            self._tx.clear()
            self._cv.notify_all()

    def begin(self) -> int:
        """The firmware starts running in the current power generation."""
        self._boot_gen = self.generation
        self.line.set_baud(self.initial_baud)
        return self.generation

    def check_power(self) -> None:
        if not self.powered or self._boot_gen != self.generation:
            raise PowerOff()

    def reset(self) -> None:
        """A CPU reset: the FIFOs are cleared, the baud rate returns to the default."""
        with self._cv:
            self._rx.clear()
            self._tx.clear()
        self.line.set_baud(self.initial_baud)

    # -- input (called from the endpoint's thread) --------------------------------------
    def feed(self, data: bytes) -> None:
        data = self.line.receive(data)
        with self._cv:
            if not self.powered:
                return
            rate = self.line.rate
            if rate:
                t = max(time.monotonic(), self._last_avail)
                for b in data:
                    t += 1.0 / rate
                    self._rx.append((t, b))
                self._last_avail = t
            else:
                self._rx.extend((0.0, b) for b in data)
            self._cv.notify_all()

    # -- firmware side -----------------------------------------------------------------
    def puts(self, s: bytes) -> None:
        self.check_power()
        self._tx += s.replace(b"\n", b"\r\n")
        if self.line.rate or len(self._tx) >= UNPACED_FLUSH:
            self.flush()

    def flush(self) -> None:
        if self._tx:
            data = bytes(self._tx)
            self._tx.clear()
            self.line.send(data)

    def tstc(self) -> bool:
        self.check_power()
        try:
            return self._rx[0][0] <= time.monotonic()
        except IndexError:
            return False

    def getc(self, timeout: float | None = None) -> int | None:
        """The next input byte, or None after `timeout` seconds."""
        self.flush()
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cv:
            while True:
                self.check_power()
                now = time.monotonic()
                if self._rx and self._rx[0][0] <= now:
                    return self._rx.popleft()[1]
                wait = self._rx[0][0] - now if self._rx else None
                if deadline is not None:
                    if now >= deadline:
                        return None
                    wait = deadline - now if wait is None else min(wait, deadline - now)
                self._cv.wait(wait)

    def sleep(self, seconds: float) -> None:
        """Busy for `seconds` (an SPI transfer, a delay); input keeps queueing."""
        self.flush()
        deadline = time.monotonic() + seconds
        with self._cv:
            while True:
                self.check_power()
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._cv.wait(left)

    def set_baud(self, baud: int) -> None:
        self.flush()
        self.line.set_baud(baud)
