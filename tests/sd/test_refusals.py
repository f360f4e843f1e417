"""When the SD path cannot be taken (no card, no file, a damaged one, exFAT, no mmc, a
write-protected card), the PC side's refusals, and the emulated card's boot checks."""

from __future__ import annotations

import pytest

from harness.backup.job import Backup
from harness.backup.plan import Plan
from harness.base.errors import SdUnavailable
from harness.camera.partitions import select
from harness.link.transport import Transport
from tests.support import sdcards
from tests.support.camera import HOME, ROOTFS
from tests.support.run_cli import uboot_dump
from tests.support.sdfixtures import (
    TABLE,
    card_copy,
    check_outputs,
    run,
    same_card,
    snapshot,
)


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
    from emulator.uboot.commands import load_table

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
    from harness.backup.collect import collect
    from harness.base.errors import UsageError

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
