"""The board's UART as the firmware sees it: putc/puts, tstc, getc (U-Boot's names).

Input arrives from the line at most at the character rate; output goes through the line.
`\\n` goes out as `\\r\\n`, as U-Boot's serial drivers do (so a literal `\\r\\n` becomes
`\\r\\r\\n`).
"""

from __future__ import annotations

import threading
import time
from collections import deque

from emulator.wire.events import PowerOff, Reset
from emulator.wire.line import Line

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
        self.watchdog_s: float | None = None  # armed by the firmware; None: off
        self._wd_deadline = 0.0

    # -- power -------------------------------------------------------------------------
    def power(self, on: bool) -> None:
        with self._cv:
            self.watchdog_s = None
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
        if self.watchdog_s is not None and time.monotonic() > self._wd_deadline:
            self.watchdog_s = None
            raise Reset("watchdog: no input was read for too long")

    # -- the hardware watchdog (kicked while the firmware reads input) ------------------
    def arm_watchdog(self, seconds: float | None) -> None:
        self.watchdog_s = seconds
        self.kick_watchdog()

    def kick_watchdog(self) -> None:
        if self.watchdog_s is not None:
            self._wd_deadline = time.monotonic() + self.watchdog_s

    def reset(self) -> None:
        """A CPU reset: the FIFOs are cleared, the baud rate returns to the default."""
        self.watchdog_s = None
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

    def clear_rx(self) -> None:
        """The firmware resets the receive FIFO (U-Boot's serial init): typed keys are lost."""
        with self._cv:
            self._rx.clear()

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
        """The next input byte, or None after `timeout` seconds. Waiting for input kicks the
        watchdog, as U-Boot's getc() does."""
        self.flush()
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cv:
            while True:
                self.kick_watchdog()
                self.check_power()
                now = time.monotonic()
                if self._rx and self._rx[0][0] <= now:
                    return self._rx.popleft()[1]
                wait = self._rx[0][0] - now if self._rx else None
                if deadline is not None:
                    if now >= deadline:
                        return None
                    wait = deadline - now if wait is None else min(wait, deadline - now)
                self._cv.wait(wait if wait is not None else 1.0)

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
