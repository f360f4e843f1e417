"""Restore puts a backup back, bit for bit, and writes nothing else: a hacked camera comes
back equal to its backup over the whole flash; an identical one gets no erase and no write;
a power cut in the middle of a block (after its erase, before its write) is finished by the
same run; BOOT, a changed backup file and an image that does not fit are refused before the
port is opened."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest

from harness.camera.partitions import model_table
from harness.restore.images import ERASE, chosen, from_backup, from_files
from harness.restore.job import Restore
from tests.support.camera import HOME, ROOTFS, mkfs
from tests.support.run_cli import one_error, uboot_dump

TABLE = model_table("y203c")
assert TABLE is not None


def images(backup_dir: Path, which: str = "ROOTFS,HOME"):
    return from_backup(backup_dir, "y203c", chosen(TABLE, which))


def restore(emu, open_port, backup_dir, tmp_path, **kw):
    said: list[str] = []
    job = Restore(
        open_port(emu),
        kw.pop("images", None) or images(backup_dir),
        tmp_path,
        model="y203c",
        timeout=3.0,
        power_timeout=30,
        say=said.append,
        **kw,
    )
    return job, job.run(), said


def test_a_hacked_camera_comes_back_equal_to_its_backup(
    emulator, open_port, original, hacked, backup_dir, tmp_path
):
    emu = emulator(hacked, "mstar", at_prompt=True, writable=True)
    job, summary, _ = restore(emu, open_port, backup_dir, tmp_path)
    assert emu.flash.data == original  # the whole flash: nothing else changed
    differing = sum(
        hacked[o : o + ERASE] != original[o : o + ERASE]
        for start, size in (ROOTFS, HOME)
        for o in range(start, start + size, ERASE)
    )
    assert len(summary.written) + len(summary.erased) == differing > 0
    assert summary.equal == summary.blocks - differing
    journal = job.journal_path.read_text().splitlines()
    assert len(journal) == differing


def test_an_identical_camera_gets_no_erase_and_no_write(emulator, original, backup_dir, tmp_path):
    from harness.link.transport import Transport

    emu = emulator(original, "mstar", at_prompt=True, writable=True)
    log = tmp_path / "line.log"
    with open(log, "wb") as f:
        t = Transport(emu.port, log=f)
        try:
            job = Restore(t, images(backup_dir), tmp_path, model="y203c", say=lambda s: None)
            summary = job.run()
        finally:
            t.close()
    assert summary.equal == summary.blocks and not summary.written and not summary.erased
    said = log.read_bytes()
    assert b"sf read" in said and b"sf erase" not in said and b"sf write" not in said
    assert emu.flash.data == original


@pytest.mark.slow  # (the default run cuts inside an erase or program: test_power_cuts)
def test_a_power_cut_between_erase_and_write_is_finished(
    emulator, open_port, original, hacked, backup_dir, tmp_path, monkeypatch
):
    emu = emulator(hacked, "mstar", at_prompt=True, writable=True)
    real = Restore._sf
    cuts = []

    def sf(self, console, command, ok):
        real(self, console, command, ok)
        if command.startswith("sf erase") and not cuts:
            cuts.append(command)
            emu.power_cycle()  # the block is erased, its write never comes

    monkeypatch.setattr(Restore, "_sf", sf)
    _, summary, said = restore(emu, open_port, backup_dir, tmp_path)
    assert cuts and any("waiting for U-Boot again" in s for s in said)
    assert emu.flash.data == original


def test_the_same_command_after_an_interrupted_restore_finishes(
    emulator, open_port, original, hacked, backup_dir, tmp_path, monkeypatch
):
    emu = emulator(hacked, "mstar", at_prompt=True, writable=True)
    real = Restore._sf

    def sf(self, console, command, ok):
        real(self, console, command, ok)
        if command.startswith("sf erase"):
            raise KeyboardInterrupt  # killed right after an erase

    monkeypatch.setattr(Restore, "_sf", sf)
    ports = []

    def killed(e):
        ports.append(open_port(e))
        return ports[-1]

    with pytest.raises(KeyboardInterrupt):
        restore(emu, killed, backup_dir, tmp_path)
    ports[0].close()  # the killed run's port closes with it (and with it its lock)
    assert emu.flash.data != original
    monkeypatch.setattr(Restore, "_sf", real)
    _, summary, _ = restore(emu, open_port, backup_dir, tmp_path)  # the same command
    assert emu.flash.data == original


def test_verify_lists_the_blocks_that_differ_then_restore_then_verify_is_clean(
    emulator, hacked, original, backup_dir, tmp_path
):
    emu = emulator(hacked, "mstar", at_prompt=True, writable=True)
    common = ("--port", emu.port, "--model", "y203c", "--record", str(tmp_path))
    r = uboot_dump("verify", str(backup_dir), *common)
    one_error(r, 14, "blocks of the camera's flash differ", after_notes=True)
    listed = r.stdout.decode().splitlines()
    want = [
        o
        for start, size in (ROOTFS, HOME)
        for o in range(start, start + size, ERASE)
        if hacked[o : o + ERASE] != original[o : o + ERASE]
    ]
    assert [int(line.split()[1].split("-")[0], 16) for line in listed] == want
    r = uboot_dump("restore", str(backup_dir), *common)
    assert r.returncode == 0, r.stderr.decode()
    assert f"{len(want)} written" in r.stdout.decode() or "erased only" in r.stdout.decode()
    r = uboot_dump("verify", str(backup_dir), *common)
    assert r.returncode == 0 and b"equal the images" in r.stdout, r.stderr.decode()
    assert emu.flash.data == original


def test_a_short_image_is_restored_with_its_tail_erased(emulator, open_port, original, tmp_path):
    """An image shorter than its partition: no old node may survive after its end."""
    small = tmp_path / "tree"
    small.mkdir()
    (small / "only.txt").write_text("the one file\n")
    image = tmp_path / "small.jffs2"
    mkfs(small, image)
    emu = emulator(original, "mstar", at_prompt=True, writable=True)
    parts = from_files([f"ROOTFS={image}"], TABLE)
    restore(emu, open_port, None, tmp_path, images=parts)
    data = image.read_bytes()
    flash = bytes(emu.flash.data)
    start, size = ROOTFS
    assert flash[start : start + len(data)] == data
    assert flash[start + len(data) : start + size] == b"\xff" * (size - len(data))
    assert flash[:start] == original[:start] and flash[start + size :] == original[start + size :]


@pytest.mark.parametrize(
    "extra, text",
    [
        (("--partitions", "BOOT"), "BOOT (IPL, U-Boot and its environment) is never written"),
        (("--partitions", "ROOTFS,NOPE"), "no partition 'NOPE'"),
        (("--image", "ROOTFS"), "give it as NAME=FILE"),
        (("--image", "BOOT=/etc/hostname"), "BOOT (IPL"),
        (("--image", "ROOTFS=/etc/hostname"), "not ready to restore"),
    ],
)
def test_refused_before_the_port_is_opened(backup_dir, tmp_path, extra, text):
    for command in ("restore", "verify"):
        r = uboot_dump(command, str(backup_dir), "--port", "/nonexistent/port",
                       "--model", "y203c", "--record", str(tmp_path), *extra)  # fmt: skip
        one_error(r, 2, text)


def test_a_backup_file_changed_since_is_refused(backup_dir, tmp_path):
    import shutil

    copy = tmp_path / "b"
    shutil.copytree(backup_dir, copy)
    data = bytearray((copy / "sys_y203c").read_bytes())
    data[100] ^= 1
    (copy / "sys_y203c").write_bytes(bytes(data))
    r = uboot_dump("restore", str(copy), "--port", "/nonexistent/port", "--model", "y203c")
    one_error(r, 2, "does not have the sha256 the manifest recorded")
    r = uboot_dump("restore", str(copy), "--port", "/nonexistent/port", "--model", "y25")
    one_error(r, 2, "is a backup of a y203c, not of a y25")


def test_an_image_that_does_not_fit_is_refused(tmp_path):
    big = tmp_path / "big.jffs2"
    big.write_bytes(b"\x85\x19" * (ROOTFS[1] // 2 + 8))
    r = uboot_dump("restore", "--image", f"ROOTFS={big}", "--port", "/nonexistent/port",
                   "--model", "y203c", "--record", str(tmp_path))  # fmt: skip
    one_error(r, 2, "it does not fit")


def test_verify_of_a_matching_camera_is_exit_0(emulator, original, backup_dir, tmp_path):
    emu = emulator(original, "mstar", at_prompt=True)
    r = uboot_dump("verify", str(backup_dir), "--port", emu.port, "--model", "y203c",
                   "--record", str(tmp_path))  # fmt: skip
    assert r.returncode == 0, r.stderr.decode()
    blocks = (ROOTFS[1] + HOME[1]) // ERASE
    assert f"all {blocks} blocks" in r.stdout.decode()


def test_block_crcs_are_the_images_own():
    data = bytes(range(256)) * 0x200
    from harness.camera.partitions import Partition
    from harness.restore.images import PartitionImage

    img = PartitionImage(Partition(2, "ROOTFS", 0x1D0000, 0x20000), data, len(data), "x")
    assert img.block_crcs() == [zlib.crc32(data[:ERASE]), zlib.crc32(data[ERASE:])]
    assert [o for o, _ in img.blocks()] == [0x1D0000, 0x1E0000]


def test_another_cameras_backup_needs_other_camera_and_never_brings_its_identity(
    emulator, original, hacked, backup_dir, tmp_path
):
    """The backup recorded its camera's vd1 crc32; a camera with another vd1 is another
    camera: restore refuses (exit 15, nothing written) unless --other-camera, which then
    restores ROOTFS and HOME and refuses vd1 and conf."""
    manifest = (backup_dir / "manifest.json").read_text()
    vd1 = next(p for p in TABLE if p.name == "vd1")
    assert f'"vd1_crc32": "{zlib.crc32(original[vd1.offset : vd1.end]):08x}"' in manifest
    other = bytearray(hacked)
    other[vd1.offset : vd1.offset + 16] = b"another camera!!"
    emu = emulator(bytes(other), "mstar", at_prompt=True, writable=True)
    args = [str(backup_dir), "--port", emu.port, "--model", "y203c", "--record", str(tmp_path)]
    one_error(uboot_dump("restore", *args), 15, "another camera", after_notes=True)
    assert emu.flash.data == bytes(other)
    one_error(uboot_dump("restore", *args, "--other-camera", "--partitions", "ROOTFS,vd1"), 2,
              "--other-camera never writes vd1")  # fmt: skip
    r = uboot_dump("restore", *args, "--other-camera")
    assert r.returncode == 0, r.stderr.decode()
    want = bytearray(original)
    want[vd1.offset : vd1.offset + 16] = b"another camera!!"  # its own identity stays
    assert emu.flash.data == bytes(want)


def test_what_restore_overwrote_is_kept_and_can_be_put_back(
    emulator, original, hacked, backup_dir, tmp_path
):
    """restore keeps each block's old content before its erase (record/undo/); `restore
    UNDO_DIR` puts the hacked camera back as it was; --no-undo keeps nothing."""
    emu = emulator(hacked, "mstar", at_prompt=True, writable=True)
    args = ["--port", emu.port, "--model", "y203c", "--record", str(tmp_path / "rec")]
    r = uboot_dump("restore", str(backup_dir), *args)  # ROOTFS and HOME
    assert r.returncode == 0, r.stderr.decode()
    undo = tmp_path / "rec" / "undo"
    assert str(undo) in r.stdout.decode() and emu.flash.data == original
    listed = json.loads((undo / "undo.json").read_text())["blocks"]
    for b in listed:
        o = b["offset"]
        assert (undo / b["file"]).read_bytes() == hacked[o : o + ERASE]
    r = uboot_dump("restore", str(undo), *args[:4], "--record", str(tmp_path / "rec2"))
    assert r.returncode == 0, r.stderr.decode()
    assert emu.flash.data == hacked  # back as it was before the restore
    r = uboot_dump("restore", str(backup_dir), *args[:4], "--record", str(tmp_path / "rec3"),
                   "--no-undo")  # fmt: skip
    assert r.returncode == 0 and b"--no-undo" in r.stderr
    assert not (tmp_path / "rec3" / "undo").exists() and emu.flash.data == original


@pytest.mark.slow  # (10 s; line faults in the default run: the backup's own tests)
def test_through_a_noisy_line_the_flash_still_ends_equal(
    emulator, open_port, original, hacked, backup_dir, tmp_path
):
    """Flipped, dropped and repeated characters on the line (both ways): typed commands are
    checked by their echo, replies by their format and the proofs by crc32; what reaches the
    flash is the image's, or nothing."""
    emu = emulator(hacked, "mstar", at_prompt=True, writable=True,
                   faults="flip=2e-5,drop=1e-5,dup=1e-5,in-flip=1e-4,in-drop=1e-4",
                   seed=7)  # fmt: skip
    from harness.link.transport import Transport

    parts = from_backup(backup_dir, "y203c", chosen(TABLE, "ROOTFS"))
    with open(tmp_path / "line.log", "wb") as log:
        t = Transport(emu.port, log=log)
        try:
            Restore(t, parts, tmp_path, model="y203c", timeout=3.0, say=lambda s: None).run()
        finally:
            t.close()
    said = (tmp_path / "line.log").read_bytes()
    assert said.count(b"<INTERRUPT>") >= 2  # typed lines the echo showed damaged, cancelled
    start, size = ROOTFS
    assert emu.flash.data[start : start + size] == original[start : start + size]
    assert emu.flash.data[:start] == hacked[:start]
