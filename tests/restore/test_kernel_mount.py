"""What the camera's kernel sees after a restore (../shared/oracles/linux-jffs2-mount/: a stock
Linux kernel mounts the partition the flash holds and lists its tree).

The flash's HOME holds another, larger tree first (a "hacked" camera: its nodes reach several
erase blocks past the end of the image restored over it). `restore --image HOME=FILE` with a
`jffs2 repack` (or `clean`) output, shorter than the partition, must leave a HOME that mounts
with exactly the image's tree: no old node survives past the image's end. The oracle's own
measurement says why this matters: old nodes in the tail mount without any kernel message and
are merged into the new inodes. The last test shows that this check catches a restore that
leaves them (the tail not erased)."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from tests.support import kernel_mount
from tests.support.camera import FIXTURE_TREES, HOME, ROOTFS, flash_from_trees
from tests.support.run_cli import uboot_dump, uboot_emu

ERASE = 0x10000

pytestmark = pytest.mark.skipif(
    kernel_mount.skip_reason() is not None, reason=str(kernel_mount.skip_reason())
)


def ok(*args: str) -> None:
    r = uboot_dump(*args)
    assert r.returncode == 0, r.stderr.decode()


def old_tree(work: Path, name: str = "home") -> Path:
    """A fixture tree with a file changed and a file only the old tree has: 200 KB that do
    not compress, so its nodes fill several erase blocks."""
    tree = work / f"old-{name}"
    shutil.copytree(FIXTURE_TREES / name, tree, symlinks=True)
    victim = next(p for p in sorted(tree.rglob("*")) if p.is_file() and not p.is_symlink())
    victim.write_text("the old camera's content\n" * 40)
    (tree / "OLD_ONLY").write_bytes(random.Random(7).randbytes(200_000))
    return tree


def old_flash(tmp_path: Path) -> bytes:
    """The fixture camera's flash with the old tree in HOME."""
    work = tmp_path / "old"
    work.mkdir(exist_ok=True)
    return flash_from_trees(work, FIXTURE_TREES / "rootfs", old_tree(work))


def restored_home(tmp_path: Path, image: Path) -> tuple[bytes, bytes]:
    """HOME of a flash whose HOME held the old tree, before and after `restore --image
    HOME=image`."""
    flash = tmp_path / "flash.img"
    flash.write_bytes(old_flash(tmp_path))
    before = flash.read_bytes()[HOME[0] : HOME[0] + HOME[1]]
    with uboot_emu(flash, tmp_path / "tty", "--at-prompt", "--baud", "0", "--writable"):
        ok("restore", "--port", str(tmp_path / "tty"), "--model", "y203c",
           "--image", f"HOME={image}", "--record", str(tmp_path / "rec"))  # fmt: skip
    return before, flash.read_bytes()[HOME[0] : HOME[0] + HOME[1]]


def used_end(partition: bytes) -> int:
    return len(partition.rstrip(b"\xff"))


def repacked(tmp_path: Path, tree: Path) -> Path:
    out = tmp_path / "new-home.jffs2"
    ok("jffs2", "repack", str(tree), "-o", str(out), "--partition-size", hex(HOME[1]))
    return out


def test_a_repacked_home_restored_over_a_larger_tree_mounts_with_exactly_its_tree(tmp_path):
    image = repacked(tmp_path, FIXTURE_TREES / "home")
    data = image.read_bytes()
    before, home = restored_home(tmp_path, image)
    # the old tree's nodes reached erase blocks past the one the image ends in
    assert used_end(before) > -(-len(data) // ERASE) * ERASE + ERASE
    assert home[: len(data)] == data and home[len(data) :] == b"\xff" * (HOME[1] - len(data))
    verdict = kernel_mount.mount(home, FIXTURE_TREES / "home", tmp_path)
    assert verdict.equal_clean(), verdict


@pytest.mark.slow
def test_a_cleaned_rootfs_restored_mounts_with_its_tree_less_the_removed_file(tmp_path):
    """`jffs2 clean --remove PATH` of ROOTFS, restored with --image: the kernel reads the
    fixture's tree without that one file."""
    from tests.support.camera import mkfs

    raw = tmp_path / "rootfs.jffs2"
    mkfs(FIXTURE_TREES / "rootfs", raw)
    victim = next(
        p
        for p in sorted((FIXTURE_TREES / "rootfs").rglob("*"))
        if p.is_file() and not p.is_symlink()
    )
    rel = str(victim.relative_to(FIXTURE_TREES / "rootfs"))
    cleaned = tmp_path / "clean.jffs2"
    ok("jffs2", "clean", str(raw), "-o", str(cleaned), "--remove", rel,
       "--partition-size", hex(ROOTFS[1]))  # fmt: skip
    expect = tmp_path / "expect"
    shutil.copytree(FIXTURE_TREES / "rootfs", expect, symlinks=True)
    (expect / rel).unlink()
    flash = tmp_path / "flash.img"
    work = tmp_path / "old"
    work.mkdir()
    flash.write_bytes(flash_from_trees(work, old_tree(work, "rootfs"), FIXTURE_TREES / "home"))
    with uboot_emu(flash, tmp_path / "tty", "--at-prompt", "--baud", "0", "--writable"):
        ok("restore", "--port", str(tmp_path / "tty"), "--model", "y203c",
           "--image", f"ROOTFS={cleaned}", "--record", str(tmp_path / "rec"))  # fmt: skip
    rootfs = flash.read_bytes()[ROOTFS[0] : ROOTFS[0] + ROOTFS[1]]
    verdict = kernel_mount.mount(rootfs, expect, tmp_path)
    assert verdict.equal_clean(), verdict


@pytest.mark.slow
def test_the_check_catches_a_restore_that_left_the_old_tail(tmp_path):
    """The same image written over the old HOME without erasing the blocks after its last
    one (what a restore that skips the tail erase leaves): the kernel's tree differs."""
    image = repacked(tmp_path, FIXTURE_TREES / "home").read_bytes()
    old = old_flash(tmp_path)[HOME[0] : HOME[0] + HOME[1]]
    end = -(-len(image) // ERASE) * ERASE
    left = image + b"\xff" * (end - len(image)) + old[end:]
    assert used_end(old) > end  # old nodes are left after the image's last block
    verdict = kernel_mount.mount(left, FIXTURE_TREES / "home", tmp_path)
    assert not verdict.equal_clean() and verdict.differences, verdict
