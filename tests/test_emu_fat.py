"""The emulated fatls, fatsize and fatload against the vendor build with its SD host
(../shared/oracles, bin/u-boot-sd) on the same card image: the same bytes back, except the
time fatload took (the oracle's is its host's), and the same RAM after a load (crc32)."""

from __future__ import annotations

import random
import re
import shutil
import subprocess

import pytest

from tests.support import sdcards
from tests.support.termclient import Term

P = b"MStar # "
LINES = [
    "fatls mmc 0",
    "fatls mmc 0:1",
    "fatls mmc 0 /record",
    "fatls mmc 0:1 record",
    "fatls mmc 0 nodir",
    "fatls mmc 0:2",
    "fatls mmc 1",
    "fatsize mmc 0 one.bin",
    "printenv filesize",
    "fatsize mmc 0 HELLO.TXT",
    "printenv filesize",
    "fatsize mmc 0 /record/long file name.txt",
    "printenv filesize",
    "fatsize mmc 0 missing.bin",
    "printenv filesize",
    "fatload mmc 0 21000000 one.bin",
    "crc32 21000000 493e0",
    "fatload mmc 0 21000000 missing.bin",
    "fatload mmc 0 22000000 one.bin 1000 10000",
    "crc32 22000000 1000",
    "fatload mmc 0:1 22000000 HELLO.TXT",
    "md.b 22000000 14",
    "printenv filesize",
]
TIME = re.compile(rb" in \d+ ms( \([\d.]+ [KMG]iB/s\))?")


@pytest.fixture(scope="module")
def card(tmp_path_factory):
    work = tmp_path_factory.mktemp("fatcard")
    card = sdcards.make_card(work / "card.img")
    (work / "one.bin").write_bytes(random.Random(5).randbytes(300000))
    (work / "hello.txt").write_bytes(b"hello from the card\n")
    (work / "long file name.txt").write_bytes(b"x" * 4097)
    sdcards.mcopy(card, work / "one.bin", "one.bin")
    sdcards.mcopy(card, work / "hello.txt", "hello.txt")
    target = sdcards.target(card)
    subprocess.run([sdcards.tool("mmd"), "-i", target, "::record"], check=True)
    sdcards.mcopy(card, work / "long file name.txt", "record/long file name.txt")
    return card


def answers(port: str, lines: list[str]) -> list[bytes]:
    term = Term(port)
    try:
        return [TIME.sub(b" in T", term.command(line, P)) for line in lines]
    finally:
        term.close()


def test_fat_commands_answer_as_the_vendor_build(emulator, card, tmp_path):
    from tests.support.targets import stop_at_prompt, vendor_build

    shutil.copyfile(card, tmp_path / "vendor.img")
    (tmp_path / "flash.img").write_bytes(b"\xff" * (16 << 20))
    with vendor_build(tmp_path / "flash.img", sd=tmp_path / "vendor.img") as target:
        stop_at_prompt(target.port, P)
        want = answers(target.port, LINES)
    emu = emulator(bytes(16 << 20), "mstar", at_prompt=True, sd=card)
    got = answers(emu.port, LINES)
    for line, w, g in zip(LINES, want, got):
        assert g == w, line


def test_what_the_emulator_answers(emulator, card):
    """(What the comparison above compares: listings, sizes, loads.)"""
    emu = emulator(bytes(16 << 20), "mstar", at_prompt=True, sd=card)
    got = dict(zip(LINES, answers(emu.port, LINES)))
    assert b"   300000   one.bin \r\n" in got["fatls mmc 0"]
    assert b"            record/\r\n" in got["fatls mmc 0"]
    assert b"2 file(s), 1 dir(s)" in got["fatls mmc 0"]
    assert b"     4097   long file name.txt \r\n" in got["fatls mmc 0 /record"]
    assert b"** Unable to read file missing.bin **" in got["fatload mmc 0 21000000 missing.bin"]
    assert b"hello from the c" in got["md.b 22000000 14"]
