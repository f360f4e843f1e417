"""Restore benchmarks against the paced emulator (MStar profile, 115200 baud).

    python -m benchmarks.bench_restore

1. An unchanged camera: `verify` and `restore` of ROOTFS+HOME (14 MiB) from a backup; goal
   <= 10 s each (the flash is read into RAM by the camera, only crc32 replies cross the line).
2. Over the line: the densest 64 KiB block of HOME (the most mw.l commands) differs, and is
   typed with mw.l; its cost is the restore's time minus that of an unchanged HOME. The bound
   is the time the line needs for the characters that method must move (the camera's echo of
   each command with CR LF, and the prompt after it), at 11,520 chars/s; the figure is
   bound / measured.
The SD way's goal (the chip's typical erase + program time) needs the emulator's NOR timing
model, which is not built yet: not measured here.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from emulator import Emulator
from harness.backup.job import Backup
from harness.backup.plan import Plan
from harness.camera.partitions import model_table
from harness.link.transport import Transport
from harness.restore.images import chosen, from_backup
from harness.restore.job import Restore, Verify
from harness.restore.loader import commands
from tests.support.camera import FIXTURE_TREES, flash_from_trees

BAUD = 115200
CHARS_PER_S = BAUD / 10
PROMPT = len("MStar # ")


def timed(emu: Emulator, cls, images, work: Path) -> tuple[float, object]:
    t = Transport(emu.port, BAUD)
    try:
        job = cls(t, images, work, model="y203c", say=lambda s: None, power_timeout=30)
        t0 = time.perf_counter()
        summary = job.run()
        return time.perf_counter() - t0, summary
    finally:
        t.close()


def main() -> int:
    table = model_table("y203c")
    assert table is not None
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        flash = flash_from_trees(work, FIXTURE_TREES / "rootfs", FIXTURE_TREES / "home")
        with Emulator(flash, "mstar", at_prompt=True) as emu:
            t = Transport(emu.port)
            try:
                plan = Plan.make("y203c", work / "b", "ROOTFS,HOME", via="md")
                Backup(t, plan, say=lambda s: None).run()
            finally:
                t.close()
        images = from_backup(work / "b", "y203c", chosen(table, None))
        ok = True
        with Emulator(flash, "mstar", at_prompt=True, baud=BAUD, writable=True) as emu:
            for cls, name in ((Verify, "verify"), (Restore, "restore")):
                (work / name).mkdir()
                took, _ = timed(emu, cls, images, work / name)
                good = took <= 10.0
                ok &= good
                print(f"unchanged camera, {name} of 14 MiB at 115200: {took:.1f} s "
                      f"(goal <= 10 s) {'OK' if good else 'MISSED'}")  # fmt: skip
        home = next(i for i in images if i.partition.name == "HOME")
        blocks = home.blocks()
        offset, block = max(blocks, key=lambda ob: len(commands(0, ob[1])))  # the densest
        sent = commands(0x21000000 + home.partition.size, block)
        back = sum(len(c) + 2 + PROMPT for c in sent)  # echo with CR LF, then the prompt
        bound = back / CHARS_PER_S
        changed = bytearray(flash)
        changed[offset + 0x40] ^= 0xFF
        times = {}
        for name, image in (("same", flash), ("changed", bytes(changed))):
            with Emulator(image, "mstar", at_prompt=True, baud=BAUD, writable=True) as emu:
                (work / name).mkdir()
                times[name], _ = timed(emu, Restore, [home], work / name)
                exact = bytes(emu.flash.data) == flash
                ok &= exact
        took = times["changed"] - times["same"]
        print(f"the densest 64 KiB block of HOME over the line (mw.l, {len(sent)} commands): "
              f"{took:.1f} s more than an unchanged HOME; the line's bound for those "
              f"characters {bound:.1f} s; ratio {bound / took:.2f}; exact: {exact}")  # fmt: skip
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
