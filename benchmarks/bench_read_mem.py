"""read-mem benchmarks against the emulator (MStar profile).

    python -m benchmarks.bench_read_mem [--quick]

1. Line rate: at 115200 baud with verification on, payload bytes/s against the md.l
   line-rate bound of the MStar format (11,520 chars/s * 16 bytes / 67 chars = 2,751 B/s);
   goal >= 97 %. The community approach (md of 1 KiB, then wait for a 1 s idle timeout) is
   measured the same way, and the ratio of the two printed.
2. A bad line: 1 MiB reads at 1e-5, 1e-4 and 1e-3 character errors (flips and drops
   together), throughput next to the clean read's; the first two must be exact. Unpaced by
   default (seconds); `--baud 115200` measures what a user sees (about 30 minutes).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import serial

from emulator import Emulator
from harness.base.errors import DumpError
from harness.console.session import Console
from harness.link.transport import Transport
from harness.read.reader import MemoryReader

RAM = 0x21000000
BOUND = 115200 / 10 * 16 / 67


def memory(n: int, seed: int = 1) -> bytes:
    r = random.Random(seed)
    return r.randbytes(n)


def ours(baud: int, n: int, faults: str = "", seed: int = 1) -> tuple[float, bool, object]:
    data = memory(n, seed)
    with Emulator(
        bytes(16 << 20), "mstar", at_prompt=True, baud=baud, faults=faults, seed=seed
    ) as emu:
        emu.board.target.memory.write(RAM, data)
        t = Transport(emu.port)
        c = Console(t, "MStar # ")
        c.sync()
        with tempfile.TemporaryDirectory() as d:
            out = Path(d) / "out.bin"
            r = MemoryReader(c)
            t0 = time.perf_counter()
            try:
                stats = r.read_to_file(RAM, n, out)
            except DumpError as exc:
                return 0.0, False, exc
            dt = time.perf_counter() - t0
            exact = out.read_bytes() == data
        t.close()
    return n / dt, exact, stats


def community(n: int) -> float:
    """The community approach: md of 1 KiB, read until the line is idle for 1 s, repeat."""
    with Emulator(bytes(16 << 20), "mstar", at_prompt=True, baud=115200) as emu:
        emu.board.target.memory.write(RAM, memory(n))
        s = serial.serial_for_url(emu.port, timeout=1)
        got = 0
        t0 = time.perf_counter()
        s.write(b"md %x %x\n" % (RAM, 256))
        while got < n:
            text = bytearray()
            while chunk := s.read(max(1, s.in_waiting)):  # until 1 s without a byte
                text += chunk
            got += sum(16 for ln in text.split(b"\n") if len(ln) == 66)
            if got < n:
                s.write(b"\n")  # an empty line: md continues
        dt = time.perf_counter() - t0
        s.close()
    return n / dt


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller reads (noisier figures)")
    ap.add_argument(
        "--baud", type=int, default=0, help="line rate of the error-rate runs (0: unpaced)"
    )
    ap.add_argument(
        "--size", type=lambda t: int(t, 0), default=1 << 20, help="bytes per error-rate run"
    )
    ap.add_argument("--skip-line-rate", action="store_true", help="only the error-rate runs")
    args = ap.parse_args()
    paced_n = 0x8000 if args.quick else 0x20000
    comm_n = 0x2000 if args.quick else 0x8000
    ok = True

    if not args.skip_line_rate:
        ok &= line_rate(paced_n, comm_n)
    ok &= error_rates(args.baud, args.size)
    return 0 if ok else 1


def line_rate(paced_n: int, comm_n: int) -> bool:
    ok = True
    rate, exact, stats = ours(115200, paced_n)
    ratio = rate / BOUND
    ok &= exact and ratio >= 0.97
    print(
        f"read-mem at 115200, verified: {rate:,.0f} B/s over {paced_n // 1024} KiB; "
        f"md.l line-rate bound {BOUND:,.0f} B/s; ratio {ratio:.3f} (goal >= 0.97) "
        f"{'OK' if exact and ratio >= 0.97 else 'MISSED'}"
    )
    crate = community(comm_n)
    print(
        f"community approach (1 KiB md + 1 s idle timeout): {crate:,.0f} B/s over "
        f"{comm_n // 1024} KiB; ratio to the bound {crate / BOUND:.3f}; "
        f"read-mem is {rate / crate:.2f}x faster"
    )
    return ok


def error_rates(baud: int, n: int) -> bool:
    clean, exact, _ = ours(baud, n)
    where = f"at {baud} baud" if baud else "unpaced"
    print(
        f"{where}, {n // 1024} KiB reads: clean {clean:,.0f} B/s "
        f"({'exact' if exact else 'NOT EXACT'})"
    )
    ok = exact
    for p in (1e-5, 1e-4, 1e-3):
        rate, exact, stats = ours(baud, n, f"flip={p / 2},drop={p / 2}", seed=7)
        must = p < 1e-3
        line = f"  at {p:g} errors/char: "
        if rate:
            line += (
                f"{rate:,.0f} B/s ({rate / clean:.0%} of clean), "
                f"{'exact' if exact else 'NOT EXACT'}, "
                f"re-read {stats.lines_reread} lines, {stats.crc_mismatches} crc mismatches, "
                f"{stats.retries} retries"
            )
        else:
            line += f"failed cleanly: {stats}"
        print(line + ("" if not must else "  (must be exact)"))
        if must:
            ok &= bool(rate) and exact
        elif rate:
            ok &= exact
    return ok


if __name__ == "__main__":
    sys.exit(main())
