"""Restore benchmarks against the paced emulator (MStar profile, 115200 baud).

    python -m benchmarks.bench_restore

1. An unchanged camera: `verify` and `restore` of ROOTFS+HOME (14 MiB) from a backup; goal
   <= 10 s each (the flash is read into RAM by the camera, only crc32 replies cross the line).
2. Over the line: the densest 64 KiB block of HOME (the most mw.l commands) differs, and is
   typed with mw.l; its cost is the restore's time minus that of an unchanged HOME. The bound
   is the time the line needs for the characters that method must move (the camera's echo of
   each command with CR LF, and the prompt after it), at 11,520 chars/s; the figure is
   bound / measured.
2b. Where the target has `loady` (U-Boot 2023.01; the emulator's mainline profile, paced at
   115200): the same densest block in one YMODEM transfer. The bound is the time the line
   needs for the frames (1,029 bytes a KiB, and block 0's 133) at 11,520 chars/s; the
   figure is bound / measured.
3. Via the SD card (`--via sd`, no undo): every block of a partition differs (the camera
   holds random bytes there). The bound is the chip's own time for what the restore must
   do, from the profile's typical times (emulator/profiles/mstar.json, `flash_times`): an
   erase of every block, and a program of every page of the blocks whose image is not all
   0xFF; goal: measured <= 1.15 x bound + 5 s. ROOTFS by default (30 blocks, under a
   minute); `--full` does ROOTFS and HOME (224 blocks: the issue's figure, about four
   minutes).

    python -m benchmarks.bench_restore [--full]
"""

from __future__ import annotations

import random
import shutil
import sys
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
from harness.sd.restorefile import RESTORE_NAME
from tests.support import sdcards
from tests.support.camera import FIXTURE_TREES, flash_from_trees
from tests.support.run_cli import uboot_dump

BAUD = 115200
CHARS_PER_S = BAUD / 10
PROMPT = len("MStar # ")
ERASE_BLOCK = 0x10000


def timed(emu: Emulator, cls, images, work: Path, **kw) -> tuple[float, object]:
    t = Transport(emu.port, BAUD)
    try:
        job = cls(t, images, work, model="y203c", say=lambda s: None, power_timeout=30, **kw)
        t0 = time.perf_counter()
        summary = job.run()
        return time.perf_counter() - t0, summary
    finally:
        t.close()


def sd_restore(flash: bytes, backup: Path, names: str, work: Path) -> bool:
    """Every block of `names` differs; restored from UBRESTOR.BIN on the card."""
    table = model_table("y203c")
    assert table is not None
    images = from_backup(backup, "y203c", chosen(table, names))
    mnt = work / "mnt"
    mnt.mkdir()
    r = uboot_dump("sd-prepare", str(mnt), "--model", "y203c", "--restore", str(backup),
                   "--partitions", names)  # fmt: skip
    assert r.returncode == 0, r.stderr.decode()
    card = sdcards.make_card(work / "card.img")
    sdcards.mcopy(card, mnt / RESTORE_NAME, RESTORE_NAME)
    changed = bytearray(flash)
    noise = random.Random(1).randbytes(len(flash))
    for image in images:
        p = image.partition
        changed[p.offset : p.offset + p.size] = noise[p.offset : p.offset + p.size]
    with Emulator(bytes(changed), "mstar", at_prompt=True, baud=BAUD, writable=True,
                  sd=card) as emu:  # fmt: skip
        spec = emu.flash.spec
        bound = 0.0
        for image in images:
            for _, block in image.blocks():
                bound += emu.flash.erase_seconds(len(block))
                if block != b"\xff" * len(block):
                    bound += emu.flash.program_seconds(len(block))
        (work / "sd").mkdir()
        took, summary = timed(emu, Restore, images, work / "sd", via="sd")
        exact = bytes(emu.flash.data) == flash
    good = exact and took <= 1.15 * bound + 5
    blocks = sum(i.partition.size // spec.erase_size for i in images)
    print(f"{names} via SD, every one of {blocks} blocks changed, no undo: {took:.1f} s; the "
          f"chip's typical erase + program time {bound:.1f} s ({spec.chip}: "
          f"{spec.block_erase_s} s a block, {spec.page_program_s * 1000} ms a page); "
          f"ratio measured/bound {took / bound:.3f} (goal <= 1.15 + 5 s); exact: {exact} "
          f"{'OK' if good else 'MISSED'}")  # fmt: skip
    return good


def loady_block(block: bytes) -> tuple[float, float]:
    """(measured, bound) seconds for one block sent with loady to the paced emulator."""
    from harness.console.policy import ReadOnlyPolicy
    from harness.console.session import Console
    from harness.link.ymodem import wire_bytes
    from harness.restore.loader import load

    ram = 0x41000000
    with Emulator(bytes(0x20000), "mainline", at_prompt=True, baud=BAUD) as emu:
        t = Transport(emu.port, BAUD)
        try:
            c = Console(t, policy=ReadOnlyPolicy(ram_window=(ram, ram + 0x100000)), baud=BAUD)
            c.sync()
            c.capabilities()
            t0 = time.perf_counter()
            load(c, ram, block)
            took = time.perf_counter() - t0
        finally:
            t.close()
    return took, wire_bytes(len(block)) / CHARS_PER_S


def main() -> int:
    full = "--full" in sys.argv[1:]
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
                chip = emu.flash.erase_seconds(len(block)) + emu.flash.program_seconds(len(block))
                exact = bytes(emu.flash.data) == flash
                ok &= exact
        took = times["changed"] - times["same"] - chip  # the chip's own time is not the line's
        print(f"the densest 64 KiB block of HOME over the line (mw.l, {len(sent)} commands): "
              f"{took:.1f} s more than an unchanged HOME (less the chip's {chip:.2f} s); "
              f"the line's bound for those characters {bound:.1f} s; "
              f"ratio {bound / took:.2f}; exact: {exact}")  # fmt: skip
        from harness.restore.loader import mw_chars

        dense = random.Random(2).randbytes(ERASE_BLOCK)  # compressed data: no runs of words
        took_y, bound_y = loady_block(dense)
        mw = mw_chars(commands(0x41000000, dense)) / CHARS_PER_S
        print(f"a dense 64 KiB block with loady (YMODEM, U-Boot 2023.01's receiver as "
              f"emulated): {took_y:.1f} s; the line's bound for its frames {bound_y:.1f} s; "
              f"ratio {bound_y / took_y:.2f}; mw.l would need {mw:.0f} s (computed from its "
              f"characters); restore picks the way with fewer characters")  # fmt: skip
        if sdcards.tool("mkfs.vfat") and shutil.which("mcopy"):
            ok &= sd_restore(flash, work / "b", "ROOTFS,HOME" if full else "ROOTFS", work)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
