"""A camera for tests: a 16 MiB MStar flash assembled from mkfs.jffs2 images of trees."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from emulator.flashimage import assemble
from emulator.profile import load
from harness.camera.partitions import span

FIXTURE_TREES = Path(__file__).resolve().parents[2] / "fixtures" / "trees"
ROOTFS = span("y203c", "ROOTFS")  # (offset, size), from harness/camera/models.json
HOME = span("y203c", "HOME")


def mkfs_path() -> str:
    found = shutil.which("mkfs.jffs2") or (
        "/usr/sbin/mkfs.jffs2" if os.path.exists("/usr/sbin/mkfs.jffs2") else None
    )
    if not found:
        pytest.skip("mkfs.jffs2 is missing (Debian package mtd-utils; scripts/setup installs it)")
    return found


def mkfs(tree: Path, out: Path) -> bytes:
    subprocess.run(
        [mkfs_path(), "-l", "-e", "0x10000", "-r", str(tree), "-o", str(out)], check=True
    )
    return out.read_bytes()


def flash_from_trees(work: Path, rootfs: Path, home: Path) -> bytes:
    prof = load("mstar")
    contents = {
        "ROOTFS": mkfs(rootfs, work / "rootfs.jffs2"),
        "HOME": mkfs(home, work / "home.jffs2"),
    }
    return assemble(prof.flash.size, prof.partitions, contents)


def tree_listing(root: Path) -> dict[str, tuple]:
    """What a tree holds: files by content and mode, links by target, directories."""
    out: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = ("link", os.readlink(p))
            elif p.is_dir():
                out[rel] = ("dir",)
            else:
                out[rel] = ("file", p.read_bytes(), p.stat().st_mode & 0o777)
    return out


def jefferson_extract(image: Path, dest: Path) -> dict[str, tuple]:
    jefferson = shutil.which("jefferson")
    assert jefferson, "jefferson is a dependency of this project"
    subprocess.run([jefferson, "-d", str(dest), str(image)], check=True, capture_output=True)
    return tree_listing(dest)
