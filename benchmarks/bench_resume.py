"""Resume after kill -9: what an interruption costs.

    python -m benchmarks.bench_resume [--baud 460800] [--size 160K] [--seed 1]

A 160 KiB `uboot-dump read-mem` (64 KiB chunks) from the emulator paced at 460800 baud:
1. a whole read, timed;
2. the same read, killed with SIGKILL at a seeded random point between 50 % and 70 % of the
   whole read's time (an earlier kill leaves more than 0.6 of the work, whatever resume
   does: the figure independent of the kill point is what was read again), then run again: the
   resumed run is timed, and its summary says what it kept (`resumed_from`: whole chunks,
   `partial_kept`: the received prefix of the interrupted chunk, checked with crc32);
3. what was read twice: the md payload the killed run had received (from the characters the
   emulator had sent when the kill came, less the run's non-md characters, measured on the
   whole read) minus what the resumed run kept. The bound: one second of md at the line
   rate (the checkpoint interval).
Goals: resumed time <= 0.6 x the whole read; read again <= one second of line. Ratios of one
run on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from emulator import Emulator
from harness.base.units import parse_size

RAM = 0x21000000
LINE_CHARS = 67  # an MStar md.l line


def read_mem(port: str, baud: int, size: int, out: Path) -> subprocess.Popen:
    argv = [sys.executable, "-m", "harness.cli", "read-mem", "--port", port, "--baud"]
    argv += [str(baud), "--start", hex(RAM), "--length", hex(size), "-o", str(out), "--json"]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--baud", type=int, default=460800)
    ap.add_argument("--size", type=parse_size, default=160 << 10)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    data = random.Random(args.seed).randbytes(args.size)
    with (
        tempfile.TemporaryDirectory() as d,
        Emulator(bytes(16 << 20), "mstar", at_prompt=True, baud=args.baud) as emu,
    ):
        work = Path(d)
        emu.board.target.memory.write(RAM, data)
        # 1. a whole read
        sent0 = emu.line.sent
        t0 = time.perf_counter()
        p = read_mem(emu.port, args.baud, args.size, work / "whole.bin")
        p.communicate(timeout=600)
        whole_s = time.perf_counter() - t0
        whole_chars = emu.line.sent - sent0
        md_chars = args.size // 16 * LINE_CHARS
        other_chars = whole_chars - md_chars  # sync, help, crc32s, echoes, prompts
        assert p.returncode == 0 and (work / "whole.bin").read_bytes() == data
        # 2. killed, then resumed
        at = random.Random(args.seed).uniform(0.5, 0.7)
        sent1 = emu.line.sent
        t1 = time.perf_counter()
        p = read_mem(emu.port, args.baud, args.size, work / "out.bin")
        time.sleep(at * whole_s)
        killed_chars = emu.line.sent - sent1
        p.send_signal(signal.SIGKILL)
        p.communicate(timeout=30)
        killed_s = time.perf_counter() - t1
        t2 = time.perf_counter()
        p = read_mem(emu.port, args.baud, args.size, work / "out.bin")
        out, err = p.communicate(timeout=600)
        resumed_s = time.perf_counter() - t2
        assert p.returncode == 0, err
        summary = json.loads(out)
        exact = (work / "out.bin").read_bytes() == data
    received = max(0, killed_chars - other_chars) // LINE_CHARS * 16
    kept = summary["resumed_from"]
    reread = max(0, received - kept)
    one_second = args.baud / 10 / LINE_CHARS * 16
    ratio = resumed_s / whole_s
    print(f"{args.size >> 10} KiB at {args.baud} baud, 64 KiB chunks")
    print(f"whole read:                 {whole_s:7.2f} s")
    print(f"killed at {at:.0%} of that:       {killed_s:7.2f} s, ~{received} B of md received")
    print(
        f"resumed run:                {resumed_s:7.2f} s  = {ratio:.2f} x the whole read "
        f"(goal <= 0.6); exact: {exact}"
    )
    print(
        f"kept: {kept} B ({kept - summary['partial_kept']} B in whole chunks, "
        f"{summary['partial_kept']} B of the interrupted chunk)"
    )
    print(f"read again: ~{reread} B (bound: one second of md, {one_second:.0f} B)")
    left = 1 - kept / args.size
    print(f"resumed time per byte left, against the whole read's: {ratio / left:.2f}")
    ok = exact and ratio <= 0.6 and reread <= one_second
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
