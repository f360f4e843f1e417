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

from harness.base.errors import CommandFailed, SdUnavailable
from tests.support import sdcards
from tests.support.sdfixtures import (
    TABLE,
    card_as_expected,
    card_copy,
    check_outputs,
    collect,
    find_pattern_sector,
    prepared_file,
    read_at,
    run,
    snapshot,
    write_at,
)


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
