"""The emulator against the vendor's own code where it writes: seeded random `sf erase`,
`sf write`, `sf update`, `mmc write`, `mmc read/info/part/list/dev`, `fatls`, `fatsize` and
`fatload` lines typed into the vendor build with its SD host (../shared/oracles, bin/u-boot-sd,
on a card image) and into `uboot-emu --profile mstar --writable` with a copy of the same card:
the answers compared byte for byte, then the card images and the flash.

Allowed differences, each with its reason:
- times: `sf update` and `fatload` print the time they took; the oracle's is the host's, the
  emulator's the chip's and card's modelled time (none when unpaced);
- none in the flash: the oracle's flash is U-Boot's sandbox SPI model, which stores what is
  programmed as given, where a NOR chip can only clear bits (the emulator's byte is then the
  old byte AND the new one). So `sf write` goes only to flash erased since its last
  program: the lines keep track, and erase the blocks first where it is not; the flashes
  must then end equal.

More lines: DIFF_WRITES=2000 (the slow campaign runs three seeds of 600)."""

from __future__ import annotations

import os
import random
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from emulator import Emulator
from emulator.profile import load
from tests.support import sdcards
from tests.support.differential import Step, Typist
from tests.support.targets import stop_at_prompt, vendor_build
from tests.test_differential import ORACLE_DATA, report

LINES = int(os.environ.get("DIFF_WRITES", "80"))
P = b"MStar # "
RAM = 0x21000000
FLASH = 16 << 20
SCRATCH = (0x3E000, 0x40000)  # card sectors (the last MiB of the 128 MiB card): free clusters
FILES = {"UBRESTOR.BIN": 70000, "a.txt": 6, "Long file name.dat": 3000}
TIMES = [
    (re.compile(rb" in \d+\.\d+s, speed \d+ B/s"), b" in <t>s, speed <r> B/s"),
    (re.compile(rb"bytes read in \d+ ms( \([^)]*\))?"), b"bytes read in <t> ms"),
    (re.compile(rb"Updating, \d+% \d+ B/s"), b"Updating, <p>"),
]


def normalised(answer: bytes) -> bytes:
    for pattern, stands in TIMES:
        answer = pattern.sub(stands, answer)
    return answer


UNIT = 0x10  # the smallest write offset step


def lines(rng: random.Random, count: int) -> list[str]:
    fresh = bytearray(FLASH // UNIT)  # 1: erased since its last program
    fresh[0x800000 // UNIT : 0x900000 // UNIT] = b"\x01" * (0x100000 // UNIT)
    out = ["sf probe", f"sf read {RAM:x} 0 100000", "mmc dev 0"]

    def mark(off: int, n: int, value: int) -> None:
        lo, hi = off // UNIT, min(FLASH, -(-(off + n) // UNIT) * UNIT) // UNIT
        fresh[lo:hi] = bytes([value]) * (hi - lo)

    def flash_span() -> tuple[int, int]:
        length = rng.choice([0x10, 0x100, 0x800, 0x1000, 0x10000, 0x18000, 0x20000])
        offset = rng.randrange(0, FLASH // 0x1000) * 0x1000 + rng.choice([0, 0, 0, 0x10])
        return offset, length

    def one() -> str:
        kind = rng.choices(
            ["erase", "write", "update", "sfread", "crc", "mmcw", "mmcr", "mmc", "fat"],
            [4, 4, 4, 2, 3, 3, 2, 2, 5],
        )[0]
        off, n = flash_span()
        ram = RAM + rng.randrange(0, 0x80) * 0x1000
        if kind == "erase":
            plus = rng.random() < 0.2
            size = -(-n // 0x10000) * 0x10000 if plus else n
            if off % 0x10000 == 0 and size % 0x10000 == 0 and off + size <= FLASH:
                mark(off, size, 1)
            return f"sf erase {off:x} {'+' if plus else ''}{n:x}"
        if kind == "update":  # whole sectors from the offset inside the flash: the oracle's
            off = min(off, FLASH - 0x20000)  # sandbox model hangs on a read past its end
            mark(off, -(-n // 0x10000) * 0x10000, 0)
            return f"sf update {ram:x} {off:x} {n:x}"
        if kind == "write":
            off = min(off, FLASH - n)
            if not all(fresh[off // UNIT : (off + n) // UNIT]):
                lo = off // 0x10000 * 0x10000
                size = -(-(off + n - lo) // 0x10000) * 0x10000
                out.append(f"sf erase {lo:x} {size:x}")
                mark(lo, size, 1)
            mark(off, n, 0)
            return f"sf write {ram:x} {off:x} {n:x}"
        if kind == "sfread":
            return f"sf read {ram:x} {off:x} {n:x}"
        if kind == "crc":
            return f"crc32 {ram:x} {rng.choice([0x10, 0x1000, 0x10000]):x}"
        if kind in ("mmcw", "mmcr"):
            sector = rng.randrange(*SCRATCH)
            count = rng.choice([1, 2, 8, 0x80])
            return f"mmc {'write' if kind == 'mmcw' else 'read'} {ram:x} {sector:x} {count:x}"
        if kind == "mmc":
            return rng.choice(["mmc info", "mmc part", "mmc list", "mmc dev 0", "mmc rescan"])
        name = rng.choice([*FILES, "nothere.bin", "A.TXT", "ubrestor.bin"])
        return rng.choice(
            [
                "fatls mmc 0",
                f"fatsize mmc 0 {name}",
                f"fatload mmc 0 {ram:x} {name}",
                f"fatload mmc 0 {ram:x} {name} {rng.choice([0x10, 0x200, 0x1000]):x} "
                f"{rng.choice([0, 0x200, 0x400]):x}",
            ]
        )

    for _ in range(count):
        line = one()
        out.append(line)
    return out


def card_with_files(path: Path, rng: random.Random) -> Path:
    card = sdcards.make_card(path)
    for name, size in FILES.items():
        f = path.with_name("f")
        f.write_bytes(rng.randbytes(size))
        sdcards.mcopy(card, f, name)
    return card


def run(tmp_path: Path, seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    image = bytearray(rng.randbytes(FLASH))
    image[0x800000:0x900000] = b"\xff" * 0x100000  # some erased flash to program into
    (tmp_path / "vendor-flash.img").write_bytes(image)
    (tmp_path / "emu-flash.img").write_bytes(image)
    card = card_with_files(tmp_path / "card.img", rng)
    shutil.copyfile(card, tmp_path / "vendor-card.img")
    p = load("mstar")  # with the oracle's generic flash driver's probe line
    profile = p.with_(flash=replace(p.flash, probe_lines=ORACLE_DATA["probe_lines"][1]))
    problems = []
    typed = lines(rng, count)
    with vendor_build(
        tmp_path / "vendor-flash.img",
        sd=tmp_path / "vendor-card.img",
        flash_out=tmp_path / "vendor-out.img",
    ) as ref, Emulator(tmp_path / "emu-flash.img", profile, at_prompt=True, writable=True,
                       sd=card) as emu:  # fmt: skip
        stop_at_prompt(ref.port, P)
        a, b = Typist(ref.port, P), Typist(emu.port, P)
        try:
            for n, text in enumerate(typed):
                step = Step(text.encode() + b"\r")
                x, y = normalised(a.answer(step)), normalised(b.answer(step))
                if x != y:
                    problems.append(
                        f"#{n} {text!r}\n  vendor:   {x[:300]!r}\n  emulator: {y[:300]!r}"
                    )
        finally:
            a.close()
            b.close()
    if (tmp_path / "vendor-card.img").read_bytes() != card.read_bytes():
        problems.append("the card images differ")
    vendor = (tmp_path / "vendor-out.img").read_bytes()
    ours = (tmp_path / "emu-flash.img").read_bytes()
    if len(vendor) != len(ours):
        problems.append(f"flash sizes {len(vendor)} and {len(ours)}")
    elif vendor != ours:
        first = next(i for i, (v, e) in enumerate(zip(vendor, ours)) if v != e)
        problems.append(f"the flashes differ, first at 0x{first:x}")
    return problems


def test_writes_mmc_and_fat_as_the_vendor_build(tmp_path):
    problems = run(tmp_path, 1, LINES)
    assert not problems, report(problems)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(2, 5))
def test_writes_campaign(tmp_path, seed):
    problems = run(tmp_path, seed, 600)
    assert not problems, report(problems)
