"""Restore against the vendor's own U-Boot 2015.01 (../shared/oracles/: its `sf erase`, `sf
write`, `mw.l` and `crc32`, the vendor's code): a camera whose ROOTFS differs in a block of
data and in a block the image has erased, and whose HOME has junk in its erased tail, comes
back equal to the backup over the whole flash (read from the file the build writes); a
second restore sends no erase and no write."""

from __future__ import annotations

import pytest

from tests.support.camera import HOME, ROOTFS
from tests.support.run_cli import uboot_dump
from tests.support.targets import vendor_build

ERASE = 0x10000


@pytest.mark.slow  # (the default run restores the vendor build from its card, below)
def test_the_vendor_build_is_restored_to_the_backup(original, backup_dir, tmp_path):
    hacked = bytearray(original)
    hacked[ROOTFS[0] + 0x100] ^= 0x5A  # one byte of data in ROOTFS's first block
    end = ROOTFS[0] + ROOTFS[1]
    tail = next(o for o in range(end - ERASE, ROOTFS[0], -ERASE)
                if original[o : o + ERASE] == b"\xff" * ERASE)  # fmt: skip
    hacked[tail : tail + 0x40] = b"\x00" * 0x40  # an old node left in the erased tail
    home_tail = HOME[0] + HOME[1] - ERASE
    assert original[home_tail : home_tail + ERASE] == b"\xff" * ERASE
    hacked[home_tail + 0x20 : home_tail + 0x30] = b"junk junk junk!!"
    (tmp_path / "hacked.img").write_bytes(bytes(hacked))
    out = tmp_path / "flash.out"
    with vendor_build(tmp_path / "hacked.img", flash_out=out) as target:
        args = ["--port", target.port, "--model", "y203c", "--record", str(tmp_path),
                "--timeout", "5", "--power-timeout", "60"]  # fmt: skip
        r = uboot_dump("verify", str(backup_dir), *args)
        assert r.returncode == 14, r.stderr.decode()
        listed = [int(line.split()[1].split("-")[0], 16) for line in r.stdout.decode().splitlines()]
        assert listed == [ROOTFS[0], tail, home_tail]
        r = uboot_dump("restore", str(backup_dir), *args, "--log", str(tmp_path / "1.log"))
        assert r.returncode == 0, r.stderr.decode()
        assert "1 written, 2 erased only" in r.stdout.decode()
        assert out.read_bytes() == original  # the whole flash, as the vendor's sf wrote it
        r = uboot_dump("restore", str(backup_dir), *args, "--log", str(tmp_path / "2.log"))
        assert r.returncode == 0 and "0 written, 0 erased only" in r.stdout.decode()
        said = (tmp_path / "2.log").read_bytes()
        assert b"sf erase" not in said and b"sf write" not in said
        replies = (tmp_path / "1.log").read_bytes()
        assert b"Erased: OK" in replies and b"Written: OK" in replies


def test_the_vendor_build_restores_from_its_card(original, backup_dir, tmp_path):
    """The same through the vendor's SD host (`mmc read` by its own driver and FAT code
    below): the blocks come from UBRESTOR.BIN, none is typed over the line."""
    from tests.support import sdcards

    (tmp_path / "mnt").mkdir()
    r = uboot_dump("sd-prepare", str(tmp_path / "mnt"), "--model", "y203c", "--restore",
                   str(backup_dir), "--partitions", "ROOTFS")  # fmt: skip
    assert r.returncode == 0, r.stderr.decode()
    card = sdcards.make_card(tmp_path / "card.img")
    sdcards.mcopy(card, tmp_path / "mnt" / "UBRESTOR.BIN", "UBRESTOR.BIN")
    hacked = bytearray(original)
    for block in range(ROOTFS[0], ROOTFS[0] + 4 * ERASE, ERASE):
        hacked[block + 0x80] ^= 0x01  # one bit in each of four blocks
    (tmp_path / "hacked.img").write_bytes(bytes(hacked))
    out = tmp_path / "flash.out"
    with vendor_build(tmp_path / "hacked.img", flash_out=out, sd=card) as target:
        r = uboot_dump("restore", str(backup_dir), "--port", target.port, "--model", "y203c",
                       "--partitions", "ROOTFS", "--via", "sd", "--record", str(tmp_path),
                       "--power-timeout", "60", "--log", str(tmp_path / "line.log"))  # fmt: skip
        assert r.returncode == 0, r.stderr.decode()
        assert "1 written, 3 erased only" in r.stdout.decode()  # ROOTFS holds one block of data
    assert out.read_bytes() == original
    line = (tmp_path / "line.log").read_bytes()
    assert b"mmc read" in line and b"mw.l" not in line
