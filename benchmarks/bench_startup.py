"""Start-up benchmarks against the paced emulator (MStar profile, 115200 baud).

    python -m benchmarks.bench_startup [--runs N]

1. A 32 KiB read with start-up included: from opening the port (synchronisation, the
   capability probe, every crc32) to the verified file, as payload bytes/s against the md.l
   line-rate bound of the MStar format (11,520 chars/s * 16 / 67 = 2,751 B/s); goal >= 0.97.
   Also measured as a whole `uboot-dump read-mem` process (Python's own start included).
   The same read of the real U-Boots through a line paced at 115200 (the emulator's relay in
   front): U-Boot 2023.01 under QEMU (2-space md gap: bound 2,833 B/s) and the vendor's
   2015.01 build (MStar format: 2,751 B/s), where they are installed.
2. After kill -9 in the middle of a long md, the next run's time to the prompt (Ctrl-C
   first stops the md within a line); goal <= 2 s. For comparison, what pressing Enter
   first would cost: the rest of the md, at the line rate.
"""

from __future__ import annotations

import argparse
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from emulator import Emulator
from harness.console.mdcodec import line_chars
from harness.console.session import Console
from harness.link.transport import Transport
from harness.read.reader import MemoryReader

RAM = 0x21000000
BAUD = 115200
BOUND = BAUD / 10 * 16 / line_chars(4)  # 2,751 B/s
SIZE = 0x8000


def in_process(emu: Emulator, out: Path) -> float:
    t0 = time.perf_counter()
    t = Transport(emu.port, BAUD)
    try:
        c = Console(t, baud=BAUD)
        c.sync()
        MemoryReader(c).read_to_file(RAM, SIZE, out)
    finally:
        t.close()
    return time.perf_counter() - t0


def whole_process(emu: Emulator, out: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "harness.cli", "read-mem", "--port", emu.port, "--start",
         hex(RAM), "--length", hex(SIZE), "-o", str(out)],
        check=True, capture_output=True,
    )  # fmt: skip
    return time.perf_counter() - t0


def startup(runs: int) -> tuple[float, float]:
    data = random.Random(5).randbytes(SIZE)
    inner, outer = [], []
    with (
        tempfile.TemporaryDirectory() as d,
        Emulator(bytes(16 << 20), "mstar", at_prompt=True, baud=BAUD) as emu,
    ):
        emu.board.target.memory.write(RAM, data)
        for i in range(runs):
            inner.append(in_process(emu, Path(d) / f"a{i}.bin"))
            outer.append(whole_process(emu, Path(d) / f"b{i}.bin"))
            for name in (f"a{i}.bin", f"b{i}.bin"):
                assert (Path(d) / name).read_bytes() == data, "not exact"
    return statistics.median(inner), statistics.median(outer)


def real_targets(runs: int) -> list[tuple[str, float, float]]:
    """(name, median seconds, bound B/s) of the 32 KiB read with start-up, in process, from
    U-Boot 2023.01 under QEMU and the vendor build, each behind a 115200 relay."""
    from emulator.wire.relay import Relay
    from tests.support import targets

    out = []
    with tempfile.TemporaryDirectory() as d:
        flash = Path(d) / "flash.img"
        flash.write_bytes(b"\xff" * (16 << 20))
        cases = [
            ("U-Boot 2023.01 under QEMU", targets.qemu_skip_reason("arm"),
             lambda: targets.qemu_uboot("arm", flash), 0x41000000, line_chars(4, gap=2)),
            ("vendor 2015.01 build", targets.vendor_skip_reason(),
             lambda: targets.vendor_build(flash), RAM, line_chars(4)),
        ]  # fmt: skip
        for name, skip, start, ram, chars in cases:
            if skip:
                print(f"  {name}: not measured ({skip})")
                continue
            with start() as target:
                targets.stop_at_prompt(target.port, b"=> " if "QEMU" in name else b"MStar # ")
                with Relay(target.port, baud=BAUD) as relay:
                    times = []
                    for i in range(runs):
                        t0 = time.perf_counter()
                        t = Transport(relay.port, BAUD)
                        try:
                            c = Console(t, baud=BAUD)
                            c.sync()
                            MemoryReader(c, skip_erased=False).read_to_file(
                                ram, SIZE, Path(d) / f"{len(out)}-{i}.bin"
                            )
                        finally:
                            t.close()
                        times.append(time.perf_counter() - t0)
            out.append((name, statistics.median(times), BAUD / 10 * 16 / chars))
    return out


def after_kill(length: int = 0x100000) -> tuple[float, float]:
    """(seconds to the prompt after kill -9 mid-md, seconds the md had left to print)."""
    with (
        tempfile.TemporaryDirectory() as d,
        Emulator(bytes(16 << 20), "mstar", at_prompt=True, baud=BAUD) as emu,
    ):
        log = Path(d) / "console.log"
        proc = subprocess.Popen(
            [sys.executable, "-m", "harness.cli", "read-mem", "--port", emu.port, "--start",
             hex(RAM), "--length", hex(length), "--chunk", "1M", "--log", str(log),
             "-o", str(Path(d) / "x.bin")],
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        while log.read_bytes().count(b"\n") < 200 if log.exists() else True:
            time.sleep(0.02)  # watching the log: the md is printing
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        printed = log.read_bytes().count(b"\n")
        t = Transport(emu.port, BAUD)
        try:
            t0 = time.perf_counter()
            Console(t, "MStar # ").sync()
            took = time.perf_counter() - t0
        finally:
            t.close()
    md_len = min(length, 20 * BAUD / 10 / line_chars(4) * 16)  # the reader's first md
    left = (md_len / 16 - printed) * line_chars(4) / (BAUD / 10)
    return took, left


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    inner, outer = startup(args.runs)
    print(f"32 KiB read at {BAUD} with start-up (median of {args.runs}), bound {BOUND:,.0f} B/s:")
    print(f"  in process (port open to file): {SIZE / inner:,.0f} B/s = {SIZE / inner / BOUND:.3f}"
          " of the bound (goal >= 0.970)")  # fmt: skip
    print(f"  whole uboot-dump process:       {SIZE / outer:,.0f} B/s = {SIZE / outer / BOUND:.3f}"
          " of the bound")  # fmt: skip
    print(f"the same read of real U-Boots through a {BAUD} line (median of {args.runs}):")
    for name, secs, bound in real_targets(args.runs):
        print(f"  {name}: {SIZE / secs:,.0f} B/s = {SIZE / secs / bound:.3f} of its bound "
              f"{bound:,.0f} B/s (goal >= 0.970)")  # fmt: skip
    took, left = after_kill()
    print(f"after kill -9 in the middle of an md: at the prompt in {took:.2f} s (goal <= 2 s);"
          f" pressing Enter first would have waited out {left:.0f} s of md")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
