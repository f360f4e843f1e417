"""Restore over the SD card: `sd-prepare --restore` stages the backup's partitions in
UBRESTOR.BIN (the PC's side), the camera reads each differing block from it with `mmc read`
into RAM, where its crc32 must equal the backup's before the block may be erased and
written. The card's copy is never trusted: a damaged block on it stops the restore before
that block's erase. Without a card, --via auto uses the line; --via sd refuses (exit 13)."""

from __future__ import annotations

import mmap
import shutil
import zlib

import pytest

from harness.base.errors import SdUnavailable, VerifyFailed
from harness.camera.partitions import model_table
from harness.link.transport import Transport
from harness.restore.images import ERASE, chosen, from_backup
from harness.restore.job import Restore
from harness.sd.restorefile import RESTORE_NAME, RestoreHeader, undo_pattern
from tests.support.camera import ROOTFS
from tests.support.run_cli import one_error, uboot_dump

TABLE = model_table("y203c")
assert TABLE is not None


def run(emu, backup_dir, tmp_path, via="sd"):
    said: list[str] = []
    log = tmp_path / "line.log"
    with open(log, "wb") as f:
        t = Transport(emu.port, log=f)
        try:
            images = from_backup(backup_dir, "y203c", chosen(TABLE, None))
            job = Restore(t, images, tmp_path, model="y203c", via=via, timeout=3.0,
                          say=said.append)  # fmt: skip
            summary = job.run()
        finally:
            t.close()
    return summary, said, log.read_bytes()


def card_copy(staged, tmp_path):
    card = tmp_path / "card.img"
    shutil.copyfile(staged[0], card)  # (128 MiB: never read into memory whole)
    return card


def test_a_hacked_camera_is_restored_from_the_card(
    emulator, original, hacked, backup_dir, staged, tmp_path
):
    emu = emulator(hacked, "mstar", at_prompt=True, writable=True, sd=card_copy(staged, tmp_path))
    summary, said, line = run(emu, backup_dir, tmp_path)
    assert emu.flash.data == original
    assert summary.written and b"mmc read" in line and b"mw.l" not in line
    assert any(f"{RESTORE_NAME} found" in s for s in said)


def test_the_staged_file_is_the_backup_as_extents(staged, backup_dir):
    data = staged[1].read_bytes()
    header = RestoreHeader.unpack(data[:512])
    images = from_backup(backup_dir, "y203c", chosen(TABLE, None))
    assert header.extents == tuple(
        (i.partition.offset, i.partition.size, zlib.crc32(i.data)) for i in images
    )
    assert all(header.holds(i.partition.offset, i.data) for i in images)
    assert not header.holds(images[0].partition.offset, images[1].data)
    end = 512 + header.data_bytes
    assert data[512:end] == b"".join(i.data for i in images)
    assert data[end:] == b"".join(undo_pattern(header))  # the undo area, each sector named
    assert len(data) == header.file_bytes


def test_a_damaged_block_on_the_card_stops_before_its_erase(
    emulator, hacked, backup_dir, staged, tmp_path
):
    card = card_copy(staged, tmp_path)
    with open(card, "r+b") as f, mmap.mmap(f.fileno(), 0) as m:
        at = m.find(staged[1].read_bytes()[512 : 512 + 64])  # the file's first data sector
        assert at > 0
        m[at + 0x100] ^= 0xFF  # ROOTFS's first block, as the card holds it
    emu = emulator(hacked, "mstar", at_prompt=True, writable=True, sd=card)
    with pytest.raises(VerifyFailed, match="prepare the card again"):
        run(emu, backup_dir, tmp_path)
    first = ROOTFS[0]
    assert bytes(emu.flash.data[first : first + ERASE]) == hacked[first : first + ERASE]


def test_without_a_card_auto_uses_the_line_and_sd_refuses(
    emulator, original, hacked, backup_dir, tmp_path
):
    emu = emulator(hacked, "mstar", at_prompt=True, writable=True)
    (tmp_path / "a").mkdir()
    with pytest.raises(SdUnavailable):
        run(emu, backup_dir, tmp_path / "a", via="sd")
    assert emu.flash.data == hacked  # nothing written
    (tmp_path / "b").mkdir()
    summary, said, line = run(emu, backup_dir, tmp_path / "b", via="auto")
    assert any("SD path not used" in s for s in said) and b"mw.l" in line
    assert emu.flash.data == original


def test_sd_prepare_restore_refuses_what_it_cannot_stage(backup_dir, tmp_path):
    (tmp_path / "mnt").mkdir()
    r = uboot_dump("sd-prepare", str(tmp_path / "mnt"), "--partitions", "ROOTFS")
    one_error(r, 2, "--partitions goes with --restore")
    r = uboot_dump("sd-prepare", str(tmp_path / "mnt"), "--restore", str(backup_dir),
                   "--partitions", "BOOT")  # fmt: skip
    one_error(r, 2, "never written")
    r = uboot_dump("sd-prepare", str(tmp_path / "mnt"), "--restore", str(tmp_path / "none"))
    one_error(r, 2, "is not a directory")


def test_a_card_staged_for_other_images_is_not_used(
    emulator, original, backup_dir, staged, tmp_path
):
    """The card holds the backup; the restore is of another ROOTFS image: --via sd refuses
    (13), auto types it over the line."""
    from harness.restore.images import from_files
    from tests.support.camera import FIXTURE_TREES, mkfs

    image = tmp_path / "other.jffs2"
    mkfs(FIXTURE_TREES / "home", image)  # a JFFS2 that is not the backup's ROOTFS
    emu = emulator(original, "mstar", at_prompt=True, writable=True, sd=card_copy(staged, tmp_path))
    for via, expect in (("sd", SdUnavailable), ("auto", None)):
        said: list[str] = []
        t = Transport(emu.port)
        try:
            job = Restore(t, from_files([f"ROOTFS={image}"], TABLE), tmp_path, model="y203c",
                          via=via, timeout=3.0, say=said.append)  # fmt: skip
            if expect is not None:
                with pytest.raises(expect, match="prepared for another restore"):
                    job.run()
                continue
            job.run()
        finally:
            t.close()
        assert any("SD path not used" in s for s in said)
    data = image.read_bytes()
    assert bytes(emu.flash.data[ROOTFS[0] : ROOTFS[0] + len(data)]) == data
