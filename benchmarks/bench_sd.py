"""The SD path against the md path, the whole 16 MiB y203c flash, at 115200 baud.

    python -m benchmarks.bench_sd [--sample 0x10000]

The flash is full (seeded random bytes in every chunk): the case the SD path is for, a
camera whose HOME is full; the md path skips erased chunks, so on an emptier flash it is
faster and the ratio smaller.

1. SD path: sd-prepare, the card image (dosfstools + mtools), `backup --via sd` of the whole
   flash from the emulator paced at 115200 (its sf read at 8 MB/s and mmc at 5 MB/s, profile
   data): wall time, measured.
2. md path on the same flash at 115200: `backup --via md` of a `--sample` slice of HOME with
   data in it, measured, then scaled to the flash's non-erased 64 KiB chunks (the md path
   reads erased chunks with one crc32, nothing else); a whole run would take over an hour.
   The md.l line-rate bound (2,751 B/s) is printed beside it.
Goal: SD time <= 1/30 of the md path's, and under 60 s. Figures as ratios of one run.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

from emulator import Emulator
from harness.backup.job import Backup
from harness.backup.plan import Plan
from harness.camera.partitions import Partition, model_table, span
from harness.link.transport import Transport
from tests.support import sdcards
from tests.support.run_cli import uboot_dump

BAUD = 115200
BOUND = BAUD / 10 * 16 / 67  # md.l payload bytes/s at the line rate
HOME = span("y203c", "HOME")[0]


def sd_run(work: Path, flash: bytes) -> tuple[float, bool]:
    card = sdcards.make_card(work / "card.img")
    pc = work / "pc"
    pc.mkdir()
    assert uboot_dump("sd-prepare", str(pc)).returncode == 0
    sdcards.mcopy(card, pc / "UBDUMP.BIN", "UBDUMP.BIN")
    table = model_table("y203c")
    plan = Plan("y203c", work / "sd", table, table=table, via="sd")
    with Emulator(flash, "mstar", baud=BAUD, at_prompt=True, sd=card) as emu:
        t = Transport(emu.port)
        t0 = time.perf_counter()
        Backup(t, plan, say=lambda s: None).run()
        seconds = time.perf_counter() - t0
        t.close()
    got = sdcards.mread(card, "UBDUMP.BIN")[512:]
    return seconds, got == flash


def md_sample(work: Path, flash: bytes, size: int) -> tuple[float, bool]:
    part = Partition(3, "HOME", HOME, size)
    plan = Plan("y203c", work / "md", (part,), via="md")
    with Emulator(flash, "mstar", baud=BAUD, at_prompt=True) as emu:
        t = Transport(emu.port)
        t0 = time.perf_counter()
        Backup(t, plan, say=lambda s: None).run()
        seconds = time.perf_counter() - t0
        t.close()
    return seconds, (work / "md" / "home_y203c").read_bytes() == flash[HOME : HOME + size]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sample", type=lambda s: int(s, 0), default=0x10000)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        flash = random.Random(7).randbytes(16 << 20)  # every chunk holds data: a full camera
        chunk = 0x10000
        data_bytes = sum(
            chunk
            for off in range(0, len(flash), chunk)
            if flash[off : off + chunk].count(255) != chunk
        )
        sd_s, sd_ok = sd_run(work, flash)
        md_s, md_ok = md_sample(work, flash, args.sample)
    md_rate = args.sample / md_s
    md_total = data_bytes / md_rate
    bound_total = data_bytes / BOUND
    ratio = sd_s / md_total
    print(f"flash: 16 MiB, {data_bytes >> 10} KiB of it in non-erased 64 KiB chunks")
    print(f"SD path, whole flash, measured:        {sd_s:8.1f} s   exact: {sd_ok}")
    print(
        f"md path, {args.sample >> 10} KiB sample, measured:       {md_s:8.1f} s   "
        f"({md_rate:,.0f} B/s, {md_rate / BOUND:.3f} of the {BOUND:,.0f} B/s bound)  exact: {md_ok}"
    )
    print(
        f"md path, same flash, scaled:           {md_total:8.1f} s   "
        f"(line-rate bound {bound_total:.0f} s)"
    )
    print(f"SD / md: {ratio:.4f} (1/{1 / ratio:.0f}); goal <= 1/30 and SD < 60 s")
    ok = sd_ok and md_ok and ratio <= 1 / 30 and sd_s < 60
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
