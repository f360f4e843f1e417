"""A farm's first step, as a sample: each test run starts from a known image. The
`uboot_reprovision` fixture (harness/pytest_plugin.py) makes the device's flash equal to a
backup: it checks every block with the camera's crc32 first and writes only those that
differ, each proven before and after (the restore's write guard). Against the emulator here
(the test changes its flash behind the tool's back); on a farm, BACKUP_DIR is the device's
known backup and the test runs with --uboot-port."""

from __future__ import annotations

import pytest

from harness.backup.job import Backup
from harness.backup.plan import Plan
from harness.camera.partitions import span


@pytest.fixture(scope="module")
def known_backup(tmp_path_factory, uboot_transport, uboot_target):
    """The device as it was when the session began (a farm keeps this on disk)."""
    out = tmp_path_factory.mktemp("known") / "backup"
    plan = Plan.make(uboot_target.model, out, "ROOTFS", via="md")
    Backup(uboot_transport, plan, say=lambda s: None, timeout=3.0).run()
    return out


@pytest.mark.emulator_only
@pytest.mark.uboot_writes
def test_each_run_starts_from_the_known_image(
    uboot_reprovision, uboot, uboot_emulator, known_backup
):
    rootfs, size = span("y203c", "ROOTFS")
    erased = rootfs + size - 0x10000  # a block the known image has erased
    uboot_emulator.flash.data[erased + 0x10] = 0x00  # an earlier run wrote there
    summary = uboot_reprovision(known_backup, partitions="ROOTFS")
    assert summary.erased == {erased} and not summary.written
    again = uboot_reprovision(known_backup, partitions="ROOTFS")
    assert not again.written and not again.erased  # checked first: nothing to write
    assert b"CRC32" in uboot.run(f"crc32 {0x21000000:x} 100")  # the console goes on after it
