"""Emulator benchmarks: line-rate fidelity when paced, md text throughput when unpaced.

    python -m benchmarks.bench_emulator

Prints each figure, the bound it is measured against, and their ratio (one run, same machine).
"""

from __future__ import annotations

import random
import sys
import time

import serial

from emulator import Emulator

PROMPT = b"MStar # "


def _measure(emu: Emulator, command: bytes, seconds: float | None) -> tuple[int, float]:
    """Characters received after the echo, and the time they took (first to last byte)."""
    s = serial.serial_for_url(emu.port, timeout=0.5)
    s.write(command + b"\r")
    got = bytearray()
    while b"\r\n" not in got:
        got += s.read(1)
    first = time.perf_counter()
    n = 0
    last = first
    while True:
        chunk = s.read(max(1, s.in_waiting) if seconds else 1 << 20)
        if not chunk:
            break
        n += len(chunk)
        last = time.perf_counter()
        if seconds and last - first >= seconds:
            break
        if chunk.endswith(PROMPT):
            break
    s.close()
    return n, last - first


def paced(seconds: float = 5.0) -> bool:
    image = random.Random(1).randbytes(16 << 20)
    with Emulator(image, "mstar", at_prompt=True, baud=115200) as emu:
        n, dt = _measure(emu, b"md.l 21000000 100000", seconds)
        emu.power_cycle()  # stop the md
    rate = n / dt
    bound = 115200 / 10
    ratio = rate / bound
    ok = abs(ratio - 1) <= 0.02
    print(
        f"paced 115200 8N1: {rate:,.0f} chars/s over {dt:.1f} s; bound 11,520 chars/s; "
        f"ratio {ratio:.4f} (goal: within 2 %) {'OK' if ok else 'MISSED'}"
    )
    return ok


def unpaced(nbytes: int = 8 << 20) -> bool:
    image = random.Random(2).randbytes(16 << 20)
    with Emulator(image, "mstar", at_prompt=True, baud=0) as emu:
        s = serial.serial_for_url(emu.port, timeout=2)
        s.write(b"sf probe\r")
        s.read_until(PROMPT)
        s.close()
        # md of DRAM: nbytes of memory as md.l text
        n, dt = _measure(emu, b"md.l 20000000 %x" % (nbytes // 4), None)
    rate = n / dt / 1e6
    ok = rate >= 5.0
    print(
        f"unpaced md.l text: {rate:.2f} MB/s ({n / 1e6:.1f} MB in {dt:.2f} s); bound 5 MB/s; "
        f"ratio {rate / 5.0:.2f} {'OK' if ok else 'MISSED'}"
    )
    return ok


def main() -> int:
    results = [paced(), unpaced()]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
