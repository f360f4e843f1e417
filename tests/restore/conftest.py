"""A camera's flash, its backup (made by the real backup job over the emulator), a "hacked"
flash (the same camera with other JFFS2 trees in ROOTFS and HOME) and a card staged for the
restore: made once per run for all the workers (tests/support/shared.py)."""

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
from tests.support.shared import shared_dir


def _make(directory: Path) -> None:
    (directory / "original.img").write_bytes(
        flash_from_trees(directory, FIXTURE_TREES / "rootfs", FIXTURE_TREES / "home")
    )
    trees = {}  # other trees in ROOTFS and HOME: a file changed, one added, one gone
    for name in ("rootfs", "home"):
        tree = trees[name] = directory / f"hacked-{name}"
        shutil.copytree(FIXTURE_TREES / name, tree, symlinks=True)
        (tree / "hacked.sh").write_text("#!/bin/sh\necho pwned\n" * 50)
        victim = next(p for p in sorted(tree.rglob("*")) if p.is_file() and not p.is_symlink())
        victim.unlink()
    (directory / "hacked.img").write_bytes(
        flash_from_trees(directory, trees["rootfs"], trees["home"])
    )
    out = directory / "b"
    with Emulator(directory / "original.img", "mstar", at_prompt=True) as emu:
        t = Transport(emu.port)
        try:
            plan = Plan.make("y203c", out, "ROOTFS,HOME", chunk=0x4000, via="md")
            Backup(t, plan, say=lambda s: None, timeout=3.0).run()
        finally:
            t.close()
    (directory / "mnt").mkdir()
    r = uboot_dump("sd-prepare", str(directory / "mnt"), "--model", "y203c", "--restore",
                   str(out))  # fmt: skip
    assert r.returncode == 0, r.stderr.decode()
    card = sdcards.make_card(directory / "card.img")
    sdcards.mcopy(card, directory / "mnt" / RESTORE_NAME, RESTORE_NAME)


@pytest.fixture(scope="package")
def made(tmp_path_factory) -> Path:
    return shared_dir(tmp_path_factory, "restore-data", _make)


@pytest.fixture(scope="package")
def original(made) -> bytes:
    return (made / "original.img").read_bytes()


@pytest.fixture(scope="package")
def hacked(made, original) -> bytes:
    flash = (made / "hacked.img").read_bytes()
    assert flash != original
    return flash


@pytest.fixture(scope="package")
def backup_dir(made) -> Path:
    return made / "b"


@pytest.fixture(scope="package")
def staged(made):
    """A FAT32 card holding UBRESTOR.BIN made by the CLI from the backup, and the file."""
    return made / "card.img", made / "mnt" / RESTORE_NAME
