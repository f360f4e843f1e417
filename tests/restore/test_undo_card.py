"""What a restore over the SD card overwrites is kept on the card: before a block is erased,
the camera copies its old content from RAM into UBRESTOR.BIN's undo area with `mmc write`,
only into sectors it has just shown to hold that area's pattern (the backup's SD copy,
copier.SdCopy, does it); nothing crosses the line but commands and crc32s. `sd-undo` then
fetches those blocks from the card, checked, into the undo directory, which `restore` puts
back."""

from __future__ import annotations

import json
import shutil

from harness.camera.partitions import model_table
from harness.link.transport import Transport
from harness.restore.images import ERASE, chosen, from_backup
from harness.restore.job import Restore
from harness.sd.restorefile import RESTORE_NAME, RestoreHeader
from tests.support import sdcards
from tests.support.run_cli import one_error, uboot_dump
from tests.support.sdfixtures import PIECE, pieces, read_at

TABLE = model_table("y203c")
assert TABLE is not None


def restore(emu, images, workdir, undo, via="sd"):
    said: list[str] = []
    t = Transport(emu.port)
    try:
        job = Restore(t, images, workdir, model="y203c", via=via, timeout=3.0, say=said.append,
                      undo=undo)  # fmt: skip
        return job, job.run(), said
    finally:
        t.close()


def changed_sectors(a, b) -> set[int]:
    """The sectors where two card images differ, compared a piece at a time (a 128 MiB card
    read or mapped whole would count against the test's memory limit)."""
    out: set[int] = set()
    per = PIECE // 512
    for k, (x, y) in enumerate(zip(pieces(a), pieces(b), strict=True)):
        if x != y:
            out |= {k * per + s for s in range(per) if x[s * 512 : s * 512 + 512]
                    != y[s * 512 : s * 512 + 512]}  # fmt: skip
    return out


def undo_area_sectors(card, header: RestoreHeader) -> set[int]:
    """The card sectors of UBRESTOR.BIN's undo area, found through the card's FAT."""
    found = sdcards.file_on_card(lambda o, n: read_at(card, o, n), RESTORE_NAME)
    first = 1 + header.data_bytes // 512
    out = set()
    for r in found.runs:
        for k in range(r.count):
            if first <= r.file_sector + k < first + header.data_bytes // 512:
                out.add(r.card_sector + k)
    return out


def test_the_old_blocks_go_to_the_card_and_come_back(
    emulator, original, hacked, backup_dir, staged, tmp_path
):
    card = tmp_path / "card.img"
    shutil.copyfile(staged[0], card)  # (128 MiB: compared a MiB at a time, never read whole)
    header = RestoreHeader.unpack(staged[1].read_bytes()[:512])
    images = from_backup(backup_dir, "y203c", chosen(TABLE, None))
    emu = emulator(hacked, "mstar", at_prompt=True, writable=True, sd=card)
    undo = tmp_path / "undo"
    job, summary, said = restore(emu, images, tmp_path, undo)
    assert emu.flash.data == original
    listed = json.loads((undo / "undo.json").read_text())["blocks"]
    changed = sorted(summary.written | summary.erased)
    assert [b["offset"] for b in listed] == changed and changed
    assert all(b["on_card"] == header.file_id.hex() for b in listed)
    assert not list(undo.glob("0x*.bin"))  # nothing read over the line
    # the card changed only in the undo area's sectors
    written = changed_sectors(staged[0], card)
    assert written and written <= undo_area_sectors(staged[0], header)
    # the card in the PC: sd-undo fetches them, checked; restore puts them back
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    (mnt / RESTORE_NAME).write_bytes(sdcards.mread(card, RESTORE_NAME))
    r = uboot_dump("sd-undo", str(mnt / RESTORE_NAME), str(undo))
    assert r.returncode == 0, r.stderr.decode()
    for b in listed:
        o = b["offset"]
        assert (undo / b["file"]).read_bytes() == hacked[o : o + ERASE]
    from harness.restore.undo import from_undo

    (tmp_path / "back").mkdir()
    restore(emu, from_undo(undo, "y203c"), tmp_path / "back", None, via="line")
    assert emu.flash.data == hacked


def test_a_second_run_keeps_the_first_copy(emulator, original, hacked, backup_dir, staged,
                                           tmp_path):  # fmt: skip
    """Cut after a block's erase: the same run again does not copy the half-done block over
    the old content the card keeps (the undo list says it is kept)."""
    card = tmp_path / "card.img"
    shutil.copyfile(staged[0], card)
    images = from_backup(backup_dir, "y203c", chosen(TABLE, None))
    emu = emulator(hacked, "mstar", at_prompt=True, writable=True, sd=card, seed=4)
    emu.cut_power_in_flash_op(0)  # the first erase is cut short
    undo = tmp_path / "undo"
    restore(emu, images, tmp_path, undo)
    assert emu.flash.data == original and emu.flash.cuts == 1
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    (mnt / RESTORE_NAME).write_bytes(sdcards.mread(card, RESTORE_NAME))
    r = uboot_dump("sd-undo", str(mnt / RESTORE_NAME), str(undo))
    assert r.returncode == 0, r.stderr.decode()
    for b in json.loads((undo / "undo.json").read_text())["blocks"]:
        o = b["offset"]
        assert (undo / b["file"]).read_bytes() == hacked[o : o + ERASE]


def test_sd_undo_refuses_another_file_and_a_damaged_copy(tmp_path):
    undo = tmp_path / "undo"
    undo.mkdir()
    header = RestoreHeader.new("y203c", [(0x1E0000, b"\x00" * ERASE)])
    block = {"offset": 0x1E0000, "size": ERASE, "crc32": "00000000", "file": "0x001e0000.bin",
             "on_card": header.file_id.hex()}  # fmt: skip
    (undo / "undo.json").write_text(json.dumps({"model": "y203c", "blocks": [block]}))
    f = tmp_path / RESTORE_NAME
    f.write_bytes(header.pack() + b"\x00" * ERASE + b"\x11" * ERASE)
    one_error(uboot_dump("sd-undo", str(f), str(undo)), 2, "crc32 differs")
    other = RestoreHeader.new("y203c", [(0x1E0000, b"\x00" * ERASE)])
    f.write_bytes(other.pack() + b"\x00" * 2 * ERASE)
    one_error(uboot_dump("sd-undo", str(f), str(undo)), 2, "prepared again")
    one_error(uboot_dump("restore", str(undo), "--port", "x", "--model", "y203c"), 2, "sd-undo")
