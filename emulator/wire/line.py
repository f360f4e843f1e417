"""The UART wire between the board and the client: pacing at the baud rate and faults.

Output pacing keeps an absolute schedule (the time the line is next free), so sleep jitter
does not accumulate and a long transfer runs at the baud rate's character rate (8N1: baud/10).
"""

from __future__ import annotations

import random
import time
from typing import Callable, Iterator, Protocol

from emulator.wire.events import Reset
from emulator.wire.faults import Fault, Schedule

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

    def inject(self, faults: list[Fault]) -> None:
        """More faults, their @COUNT positions counted from the current character on (a
        test places one in the next command's output)."""
        from dataclasses import replace

        for f in faults:
            schedule = self.inp if f.is_input else self.out
            base = self.received if f.is_input else self.sent
            if f.at is not None:
                f = replace(f, at=f.at + base)
            schedule.faults.append(f)
            schedule.next_at.append(schedule._first(f))

    # -- board to client ---------------------------------------------------------------
    def send(self, data: bytes) -> None:
        out = bytearray()
        done = self.sent
        for clean, fault, b in strikes(self.out, data, self.sent):
            out += clean
            done += len(clean) + 1
            if fault is None:
                break
            kind = fault.kind
            if kind == "flip":
                bit = int(fault.param) if fault.param is not None else self.rng.randrange(8)
                out.append(b ^ (1 << bit))
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
                    self.sent = done
                    raise Reset("spontaneous reset (fault injection)")
        self.sent += len(data)
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
        out = bytearray()
        for clean, fault, b in strikes(self.inp, data, self.received):
            out += clean
            if fault is not None and fault.kind == "in-flip":
                bit = int(fault.param) if fault.param is not None else self.rng.randrange(8)
                out.append(b ^ (1 << bit))
        self.received += len(data)
        return bytes(out)


def strikes(schedule: Schedule, data: bytes, pos: int) -> Iterator[tuple[bytes, Fault | None, int]]:
    """Walk `data` (starting at stream position `pos`) from fault to fault: (the clean bytes
    before a strike, the fault, the byte it strikes); last (the clean rest, None, -1)."""
    end = pos + len(data)
    i = 0
    while True:
        at, k = schedule.next_event()
        if at >= end:
            yield data[i:], None, -1
            return
        j = int(at) - pos
        fault = schedule.faults[k]
        schedule.fired(k)
        yield data[i:j], fault, data[j]
        i = j + 1
