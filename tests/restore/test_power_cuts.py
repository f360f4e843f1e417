"""A power cut in the middle of a flash erase or program (the emulator leaves that block
half done, as a NOR chip does: random bits set by the erase, random bits of the program not
yet cleared) is finished by the same restore: the session keeper brings the camera back,
the flash's crc32s find the half-done block, and the flash ends equal to the backup. A few
moments in the default run; 50 random ones in the slow campaign; over the line and over the
SD card."""

from __future__ import annotations

import gc
import random
import shutil

import pytest

from harness.camera.partitions import model_table
from harness.restore.images import ERASE, chosen, from_backup
from harness.restore.job import Restore

TABLE = model_table("y203c")
assert TABLE is not None


def flash_ops(hacked: bytes, original: bytes) -> int:
    """Erases and programs a restore of `hacked` to `original` does: an erase for each block
    that differs, and a program for each of those whose image is not all 0xFF."""
    ops = 0
    for o in range(0, len(original), ERASE):
        want = original[o : o + ERASE]
        if hacked[o : o + ERASE] != want:
            ops += 1 if want == b"\xff" * ERASE else 2
    return ops


def cut_restore(emulator, open_port, hacked, backup_dir, tmp_path, after: int, seed: int, sd=None):
    emu = emulator(hacked, "mstar", at_prompt=True, writable=True, seed=seed,
                   sd=sd)  # fmt: skip
    emu.cut_power_in_flash_op(after)
    said: list[str] = []
    images = from_backup(backup_dir, "y203c", chosen(TABLE, None))
    Restore(open_port(emu), images, tmp_path, model="y203c", timeout=3.0, power_timeout=30,
            say=said.append, via="sd" if sd else "line").run()  # fmt: skip
    return emu, said


@pytest.mark.parametrize(
    "where", [pytest.param("first", marks=pytest.mark.slow), "middle",
              pytest.param("last", marks=pytest.mark.slow)]
)  # fmt: skip
def test_a_cut_in_an_erase_or_a_program_is_finished(
    emulator, open_port, original, hacked, backup_dir, tmp_path, where
):
    ops = flash_ops(hacked, original)
    after = {"first": 0, "middle": ops // 2, "last": ops - 1}[where]
    emu, said = cut_restore(emulator, open_port, hacked, backup_dir, tmp_path, after, seed=after)
    assert emu.flash.cuts == 1 and any("waiting for U-Boot again" in s for s in said)
    assert emu.flash.data == original


def test_the_half_done_block_is_neither_old_nor_new(emulator, hacked, original):
    """What a cut leaves (so the tests above restore from a mixed block): an erase cut
    short has set some bits; a program cut short has cleared some of the bits it was to."""

    from emulator.wire.events import PowerCut as Cut

    emu = emulator(hacked, "mstar", at_prompt=True, writable=True, seed=3)
    flash = emu.flash
    offset = next(o for o in range(0, len(original), ERASE)
                  if hacked[o : o + ERASE] != original[o : o + ERASE]
                  and original[o : o + ERASE] != b"\xff" * ERASE)  # fmt: skip
    old = bytes(flash.data[offset : offset + ERASE])
    flash.cut_in = 0
    with pytest.raises(Cut):
        flash.erase(offset, ERASE)
    mixed = bytes(flash.data[offset : offset + ERASE])
    assert mixed not in (old, b"\xff" * ERASE)
    assert all(m | o == m for m, o in zip(mixed, old))  # an erase only sets bits
    flash.erase(offset, ERASE)
    flash.cut_in = 0
    new = original[offset : offset + ERASE]
    with pytest.raises(Cut):
        flash.program(offset, new)
    half = bytes(flash.data[offset : offset + ERASE])
    assert half not in (new, b"\xff" * ERASE)
    assert all(h & n == n for h, n in zip(half, new))  # only bits the program clears are clear


def kept_on_card(undo, card, old: bytes, where) -> None:
    """Every block undo.json keeps on the card holds `old`'s bytes there."""
    import json

    from harness.sd.restorefile import RESTORE_NAME, RestoreHeader
    from tests.support import sdcards

    data = sdcards.mread(card, RESTORE_NAME)
    header = RestoreHeader.unpack(data[:512])
    blocks = json.loads((undo / "undo.json").read_text())["blocks"]
    assert blocks and all(b["on_card"] == header.file_id.hex() for b in blocks), where
    for b in blocks:
        at = 512 * (1 + header.undo_sector(b["offset"]))
        assert data[at : at + ERASE] == old[b["offset"] : b["offset"] + ERASE], (where, b)


@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("via, runs", [("line", 30), ("sd", 25)])
def test_power_cuts_at_random_moments(original, hacked, backup_dir, tmp_path, via, runs, request):
    """55 random moments in all (30 over the line, 25 from the card); each camera is made
    and let go in its run (a DRAM of 64 MiB each). From the card the old blocks are kept in
    its undo area: each must hold the block as it was before the restore, cut or not."""
    from emulator import Emulator
    from harness.link.transport import Transport

    staged = request.getfixturevalue("staged") if via == "sd" else None
    rng = random.Random(2026)
    ops = flash_ops(hacked, original)
    for run in range(runs):
        work = tmp_path / str(run)
        work.mkdir()
        sd = None
        if staged is not None:
            sd = work / "card.img"
            shutil.copyfile(staged[0], sd)  # (a card of 128 MiB, not read into memory)
        after = rng.randrange(ops)
        with Emulator(hacked, "mstar", at_prompt=True, writable=True, seed=run,
                      sd=sd) as emu:  # fmt: skip
            emu.cut_power_in_flash_op(after)
            t = Transport(emu.port)
            try:
                images = from_backup(backup_dir, "y203c", chosen(TABLE, None))
                undo = work / "undo" if sd is not None else None
                Restore(t, images, work, model="y203c", timeout=3.0, power_timeout=30,
                        say=lambda s: None, via=via, undo=undo).run()  # fmt: skip
            finally:
                t.close()
            assert emu.flash.cuts == 1, (run, after)
            assert emu.flash.data == original, (run, after)
        if sd is not None:
            kept_on_card(work / "undo", sd, hacked, (run, after))
        del emu
        gc.collect()  # each camera's 64 MiB of DRAM and its card go before the next
        if sd is not None:
            sd.unlink()
