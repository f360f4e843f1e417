"""One run per camera: the port belongs to the run that opened it."""

from __future__ import annotations

from harness.link.transport import Transport
from tests.support.camera import FIXTURE_TREES, flash_from_trees
from tests.support.run_cli import one_error, uboot_dump, uboot_emu


def test_one_run_per_camera_a_second_is_refused_at_the_door(tmp_path):
    """Two runs on one camera would take half of each other's answers: the port is locked
    by the run that has it (flock, as pyserial's exclusive mode takes it), and a second
    run on it ends at once with exit 3, before it sends anything."""
    flash = flash_from_trees(tmp_path, FIXTURE_TREES / "rootfs", FIXTURE_TREES / "home")
    (tmp_path / "flash.img").write_bytes(flash)
    with uboot_emu(tmp_path / "flash.img", tmp_path / "tty", "--baud", "0", "--at-prompt"):
        first = Transport(str(tmp_path / "tty"))  # a run in progress
        try:
            r = uboot_dump("backup", "--port", str(tmp_path / "tty"), "--model", "y203c",
                           "-o", str(tmp_path / "out"))  # fmt: skip
            one_error(r, 3, "another program has it open")
        finally:
            first.close()
        r = uboot_dump("backup", "--port", str(tmp_path / "tty"), "--model", "y203c", "-o",
                       str(tmp_path / "out"), "--via", "md", "--partitions", "HOME")  # fmt: skip
        assert r.returncode == 0, r.stderr.decode()
