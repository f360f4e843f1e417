"""The cameras and images the option rows run against."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.options.common import ok
from tests.support.camera import FIXTURE_TREES, ROOTFS, flash_from_trees, mkfs
from tests.support.run_cli import uboot_emu


@pytest.fixture(scope="module")
def cam(tmp_path_factory):
    """A camera at its prompt (uboot-emu as its own process), and its flash."""
    work = tmp_path_factory.mktemp("cam")
    flash = flash_from_trees(work, FIXTURE_TREES / "rootfs", FIXTURE_TREES / "home")
    (work / "flash.img").write_bytes(flash)
    with uboot_emu(work / "flash.img", work / "port", "--at-prompt", "--baud", "0"):
        yield str(work / "port"), flash


@pytest.fixture(scope="module")
def image(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("img")
    data = mkfs(FIXTURE_TREES / "rootfs", work / "raw.jffs2")
    out = work / "sys_y203c"
    out.write_bytes(data + b"\xff" * (ROOTFS[1] - len(data)))
    return out


@pytest.fixture(scope="module")
def sd_backup(tmp_path_factory):
    """A finished SD backup: its -o directory and the card's UBDUMP.BIN, on the PC."""
    from tests.support import sdcards
    from tests.support.sdfixtures import prepared_card

    work = tmp_path_factory.mktemp("sd")
    flash = flash_from_trees(work, FIXTURE_TREES / "rootfs", FIXTURE_TREES / "home")
    (work / "flash.img").write_bytes(flash)
    card = prepared_card(work)
    with uboot_emu(work / "flash.img", work / "port", "--at-prompt", "--baud", "0",
                   "--sd", str(card)):  # fmt: skip
        ok("backup", "--port", str(work / "port"), "--model", "y203c", "-o", str(work / "out"),
           "--via", "sd")  # fmt: skip
    (work / "UBDUMP.BIN").write_bytes(sdcards.mread(card, "UBDUMP.BIN"))
    return work / "out", work / "UBDUMP.BIN", flash


@pytest.fixture(scope="module")
def cam_backup(cam, tmp_path_factory) -> Path:
    """A backup of the camera's ROOTFS (what verify and restore compare it with)."""
    out = tmp_path_factory.mktemp("cambackup") / "b"
    ok("backup", "--port", cam[0], "--model", "y203c", "-o", str(out), "--via", "md",
       "--partitions", "ROOTFS")  # fmt: skip
    return out
