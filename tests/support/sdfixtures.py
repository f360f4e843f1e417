"""SD-card fixtures shared by the SD path's tests: a prepared card as a user makes one
(sd-prepare on the PC, the file copied with mtools beside a file of the user's), the card
image expected after a backup, and sd-collect of the card's file."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from harness.backup.job import Backup
from harness.backup.plan import Plan
from harness.camera.partitions import model_table, select
from harness.link.transport import Transport
from harness.sd.staging import PATTERN_MAGIC
from tests.support import sdcards
from tests.support.camera import HOME, ROOTFS
from tests.support.run_cli import uboot_dump

TABLE = model_table("y203c")
USER_FILE = b"the user's own file\n" * 100


def prepared_file(work: Path) -> Path:
    pc = work / "pc-card"
    pc.mkdir()
    r = uboot_dump("sd-prepare", str(pc), "--model", "y203c")
    assert r.returncode == 0, r.stderr
    return pc / "UBDUMP.BIN"


def prepared_card(work: Path) -> Path:
    """A FAT32 card with a file of the user's (notes.txt), then UBDUMP.BIN (contiguous)."""
    card = sdcards.make_card(work / "card.img")
    notes = work / "notes.txt"
    notes.write_bytes(USER_FILE)
    sdcards.mcopy(card, notes, "notes.txt")
    sdcards.mcopy(card, prepared_file(work), "UBDUMP.BIN")
    return card


def card_copy(template: Path, tmp_path: Path) -> Path:
    card = tmp_path / "card.img"
    shutil.copyfile(template, card)
    return card


def small_flash(path: Path) -> Path:
    """A 16 MiB flash image, erased but for 4 KiB at ROOTFS's start (erased chunks are not
    read over md, so a backup of it takes a second)."""
    flash = bytearray(b"\xff" * (16 << 20))
    flash[0x1D0000:0x1D1000] = bytes(range(256)) * 16
    path.write_bytes(bytes(flash))
    return path


PIECE = 1 << 20  # card images are compared a piece at a time: a test process stays small


def snapshot(card: Path) -> Path:
    """A copy of the card image as it is now (beside it), to compare with later."""
    n = 0
    while (copy := card.with_name(f"{card.name}.before{n}")).exists():
        n += 1
    shutil.copyfile(card, copy)
    return copy


def pieces(path: Path):
    with open(path, "rb") as f:
        while piece := f.read(PIECE):
            yield piece


def same_card(card: Path, before: Path) -> bool:
    return all(a == b for a, b in zip(pieces(card), pieces(before), strict=True))


def expected_piece(piece: bytes, flash: bytes) -> bytes:
    """A piece of the original card with every sector that holds the file's pattern for data
    sector j replaced by flash bytes j*512 .. (found by the pattern, independently of the
    FAT; PIECE is a whole number of sectors)."""
    out = bytearray(piece)
    pos = piece.find(PATTERN_MAGIC)
    while pos >= 0:
        if pos % 512 == 0:
            j = int.from_bytes(piece[pos + 24 : pos + 28], "little")
            out[pos : pos + 512] = flash[j * 512 : (j + 1) * 512]
            pos = piece.find(PATTERN_MAGIC, pos + 512)
        else:
            pos = piece.find(PATTERN_MAGIC, pos + 1)
    return bytes(out)


def card_as_expected(card: Path, original: Path, flash: bytes) -> bool:
    """The card now is the original with exactly the file's pattern sectors replaced."""
    return all(
        got == expected_piece(was, flash)
        for got, was in zip(pieces(card), pieces(original), strict=True)
    )


def write_at(card: Path, offset: int, data: bytes) -> None:
    with open(card, "r+b") as f:
        f.seek(offset)
        f.write(data)


def read_at(card: Path, offset: int, n: int) -> bytes:
    with open(card, "rb") as f:
        f.seek(offset)
        return f.read(n)


def find_pattern_sector(card: Path, j: int) -> int:
    """The card offset of the sector that holds the file's pattern for data sector j."""
    base = 0
    for piece in pieces(card):
        pos = piece.find(PATTERN_MAGIC)
        while pos >= 0:
            if pos % 512 == 0 and int.from_bytes(piece[pos + 24 : pos + 28], "little") == j:
                return base + pos
            pos = piece.find(PATTERN_MAGIC, pos + 1)
        base += len(piece)
    raise LookupError(j)


def collect(card: Path, out: Path, *args: str) -> subprocess.CompletedProcess:
    pc = out.parent / "from-card"
    pc.mkdir(exist_ok=True)
    (pc / "UBDUMP.BIN").write_bytes(sdcards.mread(card, "UBDUMP.BIN"))
    return uboot_dump("sd-collect", str(pc / "UBDUMP.BIN"), "-o", str(out), *args)


# -- a backup through the SD path, in process ----------------------------------------------
def plan(out: Path, which: str = "ROOTFS,HOME", via: str = "sd") -> Plan:
    return Plan(
        "y203c", out, select(TABLE, which), all_=which == "all", table=TABLE, via=via, chunk=0x4000
    )


def run(emu, out: Path, via: str = "sd", on_say=None) -> tuple[dict, list[str]]:
    said: list[str] = []

    def say(text: str) -> None:
        said.append(text)
        if on_say:
            on_say(text)

    t = Transport(emu.port)
    try:
        manifest = Backup(t, plan(out, via=via), say=say, timeout=3.0, power_timeout=30).run()
    finally:
        t.close()
    return manifest, said


def check_outputs(out: Path, flash: bytes) -> None:
    assert (out / "sys_y203c").read_bytes() == flash[ROOTFS[0] : sum(ROOTFS)]
    assert (out / "home_y203c").read_bytes() == flash[HOME[0] : sum(HOME)]
