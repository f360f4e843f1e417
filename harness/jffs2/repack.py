"""`jffs2 repack`: mkfs.jffs2 -l -e ERASE with owners squashed (-U) and every timestamp set to
one value (the node CRCs recomputed), so the same tree always gives the same bytes."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from harness.jffs2.fs import Jffs2Error
from harness.jffs2.nodes import Node, restamp, walk


def mkfs_path() -> str:
    found = shutil.which("mkfs.jffs2") or next(
        (p for p in ("/usr/sbin/mkfs.jffs2", "/sbin/mkfs.jffs2") if os.path.exists(p)), None
    )
    if not found:
        raise Jffs2Error("mkfs.jffs2 is missing: install the Debian package mtd-utils")
    return found


def fix_times(image: bytes, when: int = 0) -> bytes:
    """Every inode's atime/mtime/ctime and every dirent's mctime set to `when` (LE image)."""
    out = bytearray(image)
    for node in walk(image, "<"):
        if isinstance(node, Node):
            restamp(out, node, "<", when)
    return bytes(out)


def repack(tree: Path, partition_size: int, erase_size: int = 0x10000, when: int = 0) -> bytes:
    if not tree.is_dir():
        raise Jffs2Error(f"{tree} is not a directory")
    if not any(tree.iterdir()):
        raise Jffs2Error(f"{tree} is empty: nothing to pack")
    with tempfile.TemporaryDirectory() as d:
        img = Path(d) / "image.jffs2"
        r = subprocess.run(
            [mkfs_path(), "-l", "-U", "-e", hex(erase_size), "-r", str(tree), "-o", str(img)],
            capture_output=True,
            text=True,
        )
        if r.returncode != 0:
            why = (r.stderr.strip().splitlines() or ["failed"])[-1]
            raise Jffs2Error(f"mkfs.jffs2: {why}")
        data = fix_times(img.read_bytes(), when)
    if len(data) > partition_size:
        raise Jffs2Error(
            f"the image is {len(data)} bytes, larger than the partition ({partition_size} bytes)"
        )
    return data
