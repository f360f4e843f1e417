"""A camera's flash, its backup (made by the real backup job over the emulator), and a
"hacked" flash: the same camera with other JFFS2 trees in ROOTFS and HOME."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from emulator import Emulator
from harness.backup.job import Backup
from harness.backup.plan import Plan
from harness.link.transport import Transport
from harness.sd.restorefile import RESTORE_NAME
from tests.support import sdcards
from tests.support.camera import FIXTURE_TREES, flash_from_trees
from tests.support.run_cli import uboot_dump


@pytest.fixture(scope="package")
def original(tmp_path_factory) -> bytes:
    return flash_from_trees(
        tmp_path_factory.mktemp("orig"), FIXTURE_TREES / "rootfs", FIXTURE_TREES / "home"
    )


@pytest.fixture(scope="package")
def hacked(tmp_path_factory, original) -> bytes:
    """Other trees in ROOTFS and HOME: a file changed, one added, one gone."""
    work = tmp_path_factory.mktemp("hacked")
    trees = {}
    for name in ("rootfs", "home"):
        tree = trees[name] = work / name
        shutil.copytree(FIXTURE_TREES / name, tree, symlinks=True)
        (tree / "hacked.sh").write_text("#!/bin/sh\necho pwned\n" * 50)
        victim = next(p for p in sorted(tree.rglob("*")) if p.is_file() and not p.is_symlink())
        victim.unlink()
    flash = flash_from_trees(work, trees["rootfs"], trees["home"])
    assert flash != original
    return flash


@pytest.fixture(scope="package")
def backup_dir(tmp_path_factory, original) -> Path:
    out = tmp_path_factory.mktemp("backup") / "b"
    with Emulator(original, "mstar", at_prompt=True) as emu:
        t = Transport(emu.port)
        try:
            plan = Plan.make("y203c", out, "ROOTFS,HOME", chunk=0x4000, via="md")
            Backup(t, plan, say=lambda s: None, timeout=3.0).run()
        finally:
            t.close()
    return out


@pytest.fixture(scope="package")
def staged(tmp_path_factory, backup_dir):
    """A FAT32 card holding UBRESTOR.BIN made by the CLI from the backup."""
    work = tmp_path_factory.mktemp("staged")
    (work / "mnt").mkdir()
    r = uboot_dump("sd-prepare", str(work / "mnt"), "--model", "y203c", "--restore",
                   str(backup_dir))  # fmt: skip
    assert r.returncode == 0, r.stderr.decode()
    card = sdcards.make_card(work / "card.img")
    sdcards.mcopy(card, work / "mnt" / RESTORE_NAME, RESTORE_NAME)
    return card, (work / "mnt" / RESTORE_NAME).read_bytes()
