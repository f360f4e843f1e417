"""The SD path end to end: sd-prepare, a card image made by dosfstools and mtools, the
emulated camera's `mmc`, backup --via sd, sd-collect; faults, resets, power loss, kill -9, a
pulled card, a foreign sector. Every run ends with the whole card image compared with the
one expected: the original with exactly the file's data sectors replaced by the flash."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from harness.backup import Backup, Plan
from harness.errors import CommandFailed, SdUnavailable
from harness.partitions import select
from harness.transport import Transport
from tests.support import sdcards
from tests.support.camera import FIXTURE_TREES, HOME, ROOTFS, flash_from_trees
from tests.support.run_cli import uboot_dump
from tests.support.sdfixtures import (
    TABLE,
    card_as_expected,
    card_copy,
    collect,
    find_pattern_sector,
    prepared_card,
    prepared_file,
    read_at,
    same_card,
    snapshot,
    write_at,
)


@pytest.fixture(scope="module")
def flash(tmp_path_factory):
    work = tmp_path_factory.mktemp("flash")
    return flash_from_trees(work, FIXTURE_TREES / "rootfs", FIXTURE_TREES / "home")


@pytest.fixture(scope="module")
def blank_card(tmp_path_factory):
    """A FAT32 card with a file of the user's, then UBDUMP.BIN (contiguous)."""
    return prepared_card(tmp_path_factory.mktemp("card"))


@pytest.fixture(scope="module")
def fragmented_card(tmp_path_factory):
    """UBDUMP.BIN in three pieces: mtools fills the holes other files left."""
    work = tmp_path_factory.mktemp("fcard")
    card = sdcards.make_card(work / "card.img")
    for i, mib in enumerate((7, 3, 7, 3, 7)):
        f = work / f"f{i}"
        f.write_bytes(bytes([i]) * (mib << 20))
        sdcards.mcopy(card, f, f"F{i}.DAT")
    filler = work / "filler"
    free = sdcards.free_bytes(card)
    filler.write_bytes(b"\xaa" * free)
    sdcards.mcopy(card, filler, "FILLER.DAT")
    for i in (0, 2, 4):
        sdcards.mdel(card, f"F{i}.DAT")
    sdcards.mcopy(card, prepared_file(work), "UBDUMP.BIN")
    return card


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


# -- end to end -------------------------------------------------------------------------------
def test_whole_flash_at_115200_prepare_backup_collect(emulator, flash, blank_card, tmp_path):
    card = card_copy(blank_card, tmp_path)
    original = snapshot(card)
    emu = emulator(flash, "mstar", sd=card, baud=115200, at_prompt=True)
    out = tmp_path / "out"
    manifest, said = run(emu, out)
    assert manifest["sd"]["complete"] and manifest["sd"]["sectors_written"] == 32768
    assert any("UBDUMP.BIN found" in s and "1 piece" in s for s in said)
    assert card_as_expected(card, original, flash)
    assert sdcards.mread(card, "notes.txt") == b"the user's own file\n" * 100
    sdcards.fsck(card)
    r = collect(card, out, "--partitions", "all")
    assert r.returncode == 0, r.stderr
    check_outputs(out, flash)
    for p in TABLE:
        assert (out / f"mtd{p.index}_{p.name}.bin").read_bytes() == flash[p.offset : p.end]
    entries = json.loads((out / "manifest.json").read_text())["partitions"]
    assert entries["HOME"]["via"] == "sd" and entries["HOME"]["jffs2"]["crc_errors"] == 0


def test_fragmented_file(emulator, flash, fragmented_card, tmp_path):
    card = card_copy(fragmented_card, tmp_path)
    original = snapshot(card)
    emu = emulator(flash, "mstar", sd=card, at_prompt=True)
    manifest, said = run(emu, tmp_path / "out")
    found = next(s for s in said if "UBDUMP.BIN found" in s)
    assert "in 3 pieces" in found, found
    assert card_as_expected(card, original, flash)
    sdcards.fsck(card)
    assert collect(card, tmp_path / "out").returncode == 0
    check_outputs(tmp_path / "out", flash)


def test_card_without_a_partition_table(emulator, flash, tmp_path):
    card = sdcards.make_card(tmp_path / "card.img", mbr=False)
    sdcards.mcopy(card, prepared_file(tmp_path), "UBDUMP.BIN", mbr=False)
    original = snapshot(card)
    emu = emulator(flash, "mstar", sd=card, at_prompt=True)
    run(emu, tmp_path / "out")
    assert card_as_expected(card, original, flash)
    sdcards.fsck(card, mbr=False)


def test_line_faults_during_the_sd_path(emulator, flash, blank_card, tmp_path):
    card = card_copy(blank_card, tmp_path)
    original = snapshot(card)
    emu = emulator(
        flash, "mstar", sd=card, at_prompt=True, faults="flip=3e-4,drop=1e-4,in-flip=2e-4", seed=3
    )
    manifest, _ = run(emu, tmp_path / "out")
    assert card_as_expected(card, original, flash)
    assert collect(card, tmp_path / "out").returncode == 0
    check_outputs(tmp_path / "out", flash)


def test_power_loss_in_the_middle_of_a_write(emulator, flash, blank_card, tmp_path):
    """The power goes 320 sectors into a 2048-sector mmc write: the block is half pattern,
    half data on resume; the halves are told apart and only the rest is written."""
    card = card_copy(blank_card, tmp_path)
    original = snapshot(card)
    emu = emulator(flash, "mstar", sd=card, at_prompt=True, boot_window=5)
    cut = {}

    def on_write(total: int) -> None:
        if total >= 6 * 2048 + 320 and not cut:
            cut["at"] = total
            emu.power_cycle()

    emu.slot.sdcard.on_write = on_write
    manifest, said = run(emu, tmp_path / "out")
    assert cut and any("waiting for U-Boot again" in s for s in said)
    assert emu.slot.sdcard.sectors_written == 32768  # nothing written twice, nothing skipped
    assert card_as_expected(card, original, flash)
    assert collect(card, tmp_path / "out").returncode == 0


def test_reset_in_the_middle_resumes(emulator, flash, blank_card, tmp_path):
    card = card_copy(blank_card, tmp_path)
    original = snapshot(card)
    emu = emulator(flash, "mstar", sd=card, at_prompt=True, boot_window=5, faults="reset@14000")
    manifest, said = run(emu, tmp_path / "out")
    copying = next(i for i, s in enumerate(said) if "flash -> UBDUMP.BIN" in s)
    reset = next(i for i, s in enumerate(said) if "waiting for U-Boot again" in s)
    assert copying < reset  # the reset came in the middle of the copy
    assert card_as_expected(card, original, flash)


def test_a_sector_that_is_not_the_pattern_is_never_written(emulator, flash, blank_card, tmp_path):
    card = card_copy(blank_card, tmp_path)
    # data sector 5000 of the file (flash 0x271000, in KERNEL): something else wrote there
    pos = find_pattern_sector(card, 5000)
    write_at(card, pos, b"\x42" * 512)
    before = snapshot(card)
    emu = emulator(flash, "mstar", sd=card, at_prompt=True)
    with pytest.raises(SdUnavailable, match="holds neither its pattern"):
        run(emu, tmp_path / "out")
    assert read_at(card, pos, 512) == b"\x42" * 512
    # blocks before the bad one were copied, nothing after it was touched
    tail_same = all(
        a == b for a, b in zip(tail(card, pos + 512), tail(before, pos + 512), strict=True)
    )
    assert tail_same or emu.slot.sdcard.sectors_written < 5000 + 2048


def tail(path: Path, offset: int):
    with open(path, "rb") as f:
        f.seek(offset)
        while piece := f.read(1 << 20):
            yield piece


def test_card_pulled_out_mid_way_stops_clearly_and_resumes(emulator, flash, blank_card, tmp_path):
    card = card_copy(blank_card, tmp_path)
    original = snapshot(card)
    emu = emulator(flash, "mstar", sd=card, at_prompt=True)

    def on_write(total: int) -> None:
        if total >= 8192 and emu.slot.inserted:
            emu.sd_remove()

    emu.slot.sdcard.on_write = on_write
    with pytest.raises(CommandFailed, match="SD card stopped answering"):
        run(emu, tmp_path / "out")
    emu.slot.sdcard.on_write = None
    emu.sd_insert()
    manifest, said = run(emu, tmp_path / "out")
    assert manifest["sd"]["complete"]
    assert card_as_expected(card, original, flash)


def test_kill_9_then_the_same_command_resumes(flash, blank_card, tmp_path):
    card = card_copy(blank_card, tmp_path)
    original = snapshot(card)
    image = tmp_path / "flash.img"
    image.write_bytes(flash)
    link = tmp_path / "tty"
    emu = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emulator.cli",
            "--image",
            str(image),
            "--link",
            str(link),
            "--sd",
            str(card),
            "--at-prompt",
            "--baud",
            "460800",
        ],
        stdout=subprocess.PIPE,
    )
    try:
        emu.stdout.readline()
        out = tmp_path / "out"
        args = [
            sys.executable,
            "-m",
            "harness.cli",
            "backup",
            "--port",
            str(link),
            "--model",
            "y203c",
            "-o",
            str(out),
            "--via",
            "sd",
            "--timeout",
            "3",
        ]
        tool = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
        for line in tool.stderr:
            if line.startswith("HOME"):
                break
        tool.send_signal(signal.SIGKILL)
        tool.wait(10)
        tool.stderr.close()
        journal = (out / "sd.journal").read_text().splitlines()
        assert len(journal) >= 2  # the header and at least one verified block
        again = subprocess.run(args, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stderr
        assert "HOME" in again.stderr
        # the done regions were checked on the card by crc32, not written again
        record = json.loads((out / "manifest.json").read_text())["sd"]
        assert 0 < record["sectors_written"] < len(flash) // 512
    finally:
        emu.send_signal(signal.SIGTERM)
        emu.wait(10)
    assert card_as_expected(card, original, flash)
    assert collect(card, tmp_path / "out").returncode == 0
    check_outputs(tmp_path / "out", flash)


# -- when the SD path cannot be taken --------------------------------------------------------
def test_auto_without_a_card_takes_md(emulator, flash, tmp_path):
    emu = emulator(flash, "mstar", at_prompt=True)
    t = Transport(emu.port)
    said: list[str] = []
    try:
        p = Plan("y203c", tmp_path / "o", select(TABLE, "ROOTFS"), table=TABLE, chunk=0x4000)
        manifest = Backup(t, p, say=said.append, timeout=3.0).run()
    finally:
        t.close()
    assert any("SD path not used" in s and "Card Detect Fail" in s for s in said)
    assert (tmp_path / "o" / "sys_y203c").read_bytes() == flash[ROOTFS[0] : sum(ROOTFS)]
    assert "sd" not in manifest


@pytest.mark.parametrize(
    "setup, why",
    [
        ("none", "Card Detect Fail"),
        ("unprepared", "no UBDUMP.BIN among the"),
        ("damaged", "header is damaged"),
        ("exfat", r"no FAT32 partition \(exFAT or NTFS\)"),
    ],
)
def test_via_sd_says_why_it_cannot(emulator, flash, tmp_path, setup, why):
    card = None
    if setup != "none":
        card = sdcards.make_card(tmp_path / "card.img")
        if setup == "damaged":
            f = tmp_path / "UBDUMP.BIN"
            f.write_bytes(b"UBDUMPhd" + b"\0" * 1000)
            sdcards.mcopy(card, f, "UBDUMP.BIN")
        if setup == "exfat":  # the partition table says exFAT (type 7)
            with open(card, "r+b") as fh:
                fh.seek(446 + 4)
                fh.write(b"\x07")
    before = snapshot(card) if card else None
    emu = emulator(flash, "mstar", at_prompt=True, sd=card)
    with pytest.raises(SdUnavailable, match=why):
        run(emu, tmp_path / "out")
    if card:
        assert same_card(card, before)


def test_no_mmc_command_falls_back(emulator, flash, tmp_path):
    from emulator.profile import load

    prof = load("mstar")
    no_mmc = prof.with_(commands=tuple(c for c in _commands(prof) if c != "mmc"))
    emu = emulator(flash, no_mmc, at_prompt=True)
    with pytest.raises(SdUnavailable, match="no `mmc` command"):
        run(emu, tmp_path / "o")


def _commands(prof) -> tuple[str, ...]:
    from emulator.commands import load_table

    return tuple(load_table(prof.command_table))


def test_write_protected_card_where_the_host_reads_the_switch(
    emulator, flash, blank_card, tmp_path
):
    from dataclasses import replace

    from emulator.profile import load

    prof = load("mstar")
    reads_switch = prof.with_(sd=replace(prof.sd, write_protect_detect=True))
    card = card_copy(blank_card, tmp_path)
    before = snapshot(card)
    emu = emulator(flash, reads_switch, sd=card, sd_write_protected=True, at_prompt=True)
    with pytest.raises(SdUnavailable, match="write-protected"):
        run(emu, tmp_path / "out")
    assert same_card(card, before)


# -- the PC side ------------------------------------------------------------------------------
def test_sd_prepare_refusals(tmp_path):
    card = tmp_path / "card"
    card.mkdir()
    assert uboot_dump("sd-prepare", str(card)).returncode == 0
    r = uboot_dump("sd-prepare", str(card))
    assert r.returncode == 2 and b"exists" in r.stderr
    assert uboot_dump("sd-prepare", str(card), "--force").returncode == 0
    (card / "home_y203c").write_bytes(b"x")
    r = uboot_dump("sd-prepare", str(card), "--force")
    assert r.returncode == 2 and b"writes such files to its flash" in r.stderr
    r = uboot_dump("sd-prepare", str(tmp_path / "nope"))
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1
    r = uboot_dump("sd-prepare", str(card), "--model", "x9", "--force")
    assert r.returncode == 2 and b"--flash-size" in r.stderr
    assert not list(card.glob("*.TMP"))


def test_sd_collect_checks_every_block(emulator, flash, blank_card, tmp_path):
    card = card_copy(blank_card, tmp_path)
    emu = emulator(flash, "mstar", sd=card, at_prompt=True)
    out = tmp_path / "out"
    run(emu, out)
    pc = tmp_path / "pc"
    pc.mkdir()
    copy = pc / "UBDUMP.BIN"
    good = sdcards.mread(card, "UBDUMP.BIN")
    bad = bytearray(good)
    bad[512 + HOME[0] + 0x1234] ^= 1
    copy.write_bytes(bytes(bad))
    r = uboot_dump("sd-collect", str(copy), "-o", str(out))
    assert r.returncode == 7 and b"differs from the camera's crc32" in r.stderr
    assert not (out / "sys_y203c").exists() and not (out / "home_y203c").exists()
    other = tmp_path / "other"
    other.mkdir()
    r = uboot_dump("sd-collect", str(copy), "-o", str(other))
    assert r.returncode == 2 and b"no record of a backup to an SD card" in r.stderr
    copy.write_bytes(good)
    assert uboot_dump("sd-collect", str(copy), "-o", str(out)).returncode == 0
    check_outputs(out, flash)


# -- the emulated card's boot checks ----------------------------------------------------------
def test_boot_checks_follow_the_card(flash, blank_card, tmp_path):
    from emulator.server import Emulator
    from tests.support.termclient import Term

    card = card_copy(blank_card, tmp_path)
    f = tmp_path / "sys_y203c"
    f.write_bytes(b"x")
    sdcards.mcopy(card, f, "sys_y203c")
    logs = {}
    for name, sd in (("card", card), ("none", None)):
        with Emulator(flash, "mstar", sd=sd) as emu:
            term = Term(emu.port)
            try:
                logs[name] = term.read_until(b"home_y203c Not exist(fatsize err) \r\n")
                term.send(b"\r")
                term.read_until(b"MStar # ")
            finally:
                term.close()
    assert b"    sys_y203c found: the camera would now write it" in logs["card"]
    assert b"    one.bin Not exist(fatsize err) \r\n" in logs["card"]
    assert (
        b"_[sdmmc_0] Card Detect Fail! \r\n** Bad device mmc 0 **\r\n    one.bin Not"
        in logs["none"]
    )


def test_sd_collect_refuses_an_output_on_the_card(emulator, flash, blank_card, tmp_path):
    """The camera flashes sys_/home_ files it finds on the card at boot: the output must
    not go there unless the user says so (the card's mount seen as vfat)."""
    from harness.errors import UsageError
    from harness.sdhost import collect

    card = card_copy(blank_card, tmp_path)
    emu = emulator(flash, "mstar", sd=card, at_prompt=True)
    out = tmp_path / "out"
    run(emu, out)
    (out / "UBDUMP.BIN").write_bytes(sdcards.mread(card, "UBDUMP.BIN"))  # the card, mounted
    mountinfo = f"40 22 8:17 / {tmp_path} rw - vfat /dev/sdb1 rw\n"
    with pytest.raises(UsageError, match="on the card itself"):
        collect(out / "UBDUMP.BIN", out, mountinfo=mountinfo, say=lambda s: None)
    assert not (out / "sys_y203c").exists()
    collect(out / "UBDUMP.BIN", out, allow_card_output=True, mountinfo=mountinfo, say=print)
    check_outputs(out, flash)
