"""The UART wire between the board and the client: pacing at the baud rate and faults.

Output pacing keeps an absolute schedule (the time the line is next free), so sleep jitter
does not accumulate and a long transfer runs at the baud rate's character rate (8N1: baud/10).
"""

from __future__ import annotations

import random
import time
from typing import Callable, Protocol

from .events import Reset
from .faults import Fault, Schedule

SLOT_S = 0.004  # write granularity when paced: 4 ms of characters at a time


class Endpoint(Protocol):
    def write(self, data: bytes, check: Callable[[], None]) -> None: ...
    def vanish(self, seconds: float) -> None: ...


class Line:
    def __init__(self, endpoint: Endpoint, baud: int, faults: list[Fault], seed: int):
        self.endpoint = endpoint
        self.rng = random.Random(seed)
        self.out = Schedule([f for f in faults if not f.is_input], self.rng)
        self.inp = Schedule([f for f in faults if f.is_input], random.Random(seed + 1))
        self.rate = 0.0
        self.set_baud(baud)
        self.sent = 0  # characters offered by the board (before faults)
        self.received = 0  # characters offered by the client (before faults)
        self.check: Callable[[], None] = lambda: None  # raises when the board loses power
        self._t_next = 0.0

    def set_baud(self, baud: int) -> None:
        self.rate = baud / 10.0 if baud else 0.0

    # -- board to client ---------------------------------------------------------------
    def send(self, data: bytes) -> None:
        pos, end = self.sent, self.sent + len(data)
        out = bytearray()
        i = 0
        while True:
            at, k = self.out.next_event()
            if at >= end:
                out += data[i:]
                break
            j = int(at) - pos
            out += data[i:j]
            b = data[j]
            i = j + 1
            fault = self.out.faults[k]
            self.out.fired(k)
            kind = fault.kind
            if kind == "flip":
                out.append(b ^ (1 << self.rng.randrange(8)))
            elif kind == "drop":
                pass
            elif kind == "dup":
                out += bytes((b, b))
            elif kind == "garbage":
                out.append(b)
                n = int(fault.value()) or self.rng.randint(1, 16)
                out += self.rng.randbytes(n)
            else:
                out.append(b)
                self._emit(bytes(out))
                out.clear()
                if kind == "stall":
                    self._pause(fault.value())
                elif kind == "disconnect":
                    self.endpoint.vanish(fault.value())
                elif kind == "reset":
                    self.sent = pos + i
                    raise Reset("spontaneous reset (fault injection)")
        self.sent = end
        self._emit(bytes(out))

    def _pause(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.check()
            time.sleep(min(left, 0.05))
        self._t_next = time.monotonic()

    def _emit(self, data: bytes) -> None:
        if not data:
            return
        if not self.rate:
            self.endpoint.write(data, self.check)
            return
        step = max(1, int(self.rate * SLOT_S))
        for k in range(0, len(data), step):
            piece = data[k : k + step]
            now = time.monotonic()
            if now > self._t_next + 0.02:  # the line was idle: start a new schedule
                self._t_next = now
            elif self._t_next > now:
                time.sleep(self._t_next - now)
            self.check()
            self.endpoint.write(piece, self.check)
            self._t_next += len(piece) / self.rate

    # -- client to board ---------------------------------------------------------------
    def receive(self, data: bytes) -> bytes:
        """Apply input faults to what the client typed; returns what reaches the UART."""
        pos, end = self.received, self.received + len(data)
        self.received = end
        if self.inp.next_event()[0] >= end:
            return data
        out = bytearray()
        i = 0
        while True:
            at, k = self.inp.next_event()
            if at >= end:
                out += data[i:]
                return bytes(out)
            j = int(at) - pos
            out += data[i:j]
            i = j + 1
            if self.inp.faults[k].kind == "in-flip":
                out.append(data[j] ^ (1 << self.rng.randrange(8)))
            self.inp.fired(k)
