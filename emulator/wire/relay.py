"""The emulated line in front of a real console: pacing and faults between a client and any
port pyserial opens (the vendor U-Boot built as a program, U-Boot under QEMU, a lab's port).

    uboot-emu --relay /dev/pts/7 --baud 115200 --faults flip=1e-4 --link /tmp/ttyFAULTY

The client talks to the relay's own pty (or TCP port); what the real console prints goes
through the same `Line` as the emulator's output (pacing at baud/10 characters per second,
output faults), and what the client types goes through the line's input faults and is
paced before it reaches the console. A `reset` fault power-cycles the target when the relay
was given a way to do it; otherwise it is ignored.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Optional

import serial

from emulator.wire.endpoint import PtyEndpoint, TcpEndpoint
from emulator.wire.events import Reset
from emulator.wire.faults import parse_spec
from emulator.wire.line import Line


class Relay:
    def __init__(
        self,
        upstream: str,
        *,
        baud: int = 0,
        faults: str = "",
        seed: int = 0,
        link: Optional[str] = None,
        listen: Optional[tuple[str, int]] = None,
        power_cycle: Optional[Callable[[], None]] = None,
        on_new_path: Optional[Callable[[str], None]] = None,
    ):
        self.upstream_url = upstream
        self.up = serial.serial_for_url(upstream, baudrate=115200, timeout=0.02)
        if listen is not None:
            self.endpoint: PtyEndpoint | TcpEndpoint = TcpEndpoint(*listen)
        else:
            self.endpoint = PtyEndpoint(link=link, on_new_path=on_new_path)
        self.line = Line(self.endpoint, baud, parse_spec(faults), seed)
        self.power_cycle = power_cycle
        self._stop = threading.Event()
        self._in_lock = threading.Lock()
        self._in_next = 0.0
        self._thread = threading.Thread(target=self._downstream, name="relay", daemon=True)

    @property
    def port(self) -> str:
        return self.endpoint.url

    def start(self) -> Relay:
        self.endpoint.start(self._upstream_write)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.endpoint.close()
        self.up.close()

    def __enter__(self) -> Relay:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # target -> client ------------------------------------------------------------------
    def _downstream(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.up.read(max(1, self.up.in_waiting))
            except (serial.SerialException, OSError):
                time.sleep(0.05)
                continue
            if not data:
                continue
            try:
                self.line.send(data)
            except Reset:
                if self.power_cycle is not None:
                    self.power_cycle()

    # client -> target ------------------------------------------------------------------
    def _upstream_write(self, data: bytes) -> None:
        data = self.line.receive(data)
        rate = self.line.rate
        with self._in_lock:  # typed characters reach the target no faster than the line
            try:
                if not rate:
                    self.up.write(data)
                    return
                for b in data:
                    now = time.monotonic()
                    self._in_next = max(self._in_next, now) + 1.0 / rate
                    if self._in_next - now > 1.0 / rate:
                        time.sleep(self._in_next - now - 1.0 / rate)
                    self.up.write(bytes((b,)))
            except (serial.SerialException, OSError):
                return
