"""The heart of the project: any tree -> mkfs.jffs2 -> a camera's flash -> the emulator
(MStar, so md shows swapped words) -> backup -> jffs2 unpack -> the same tree."""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator import Emulator
from harness.backup.job import Backup
from harness.backup.plan import Plan
from harness.camera.partitions import model_table, select
from harness.jffs2.extract import extract
from harness.jffs2.fs import read_fs
from harness.link.transport import Transport
from tests.support.camera import ROOTFS, flash_from_trees, mkfs_path, tree_listing

NAMES = st.text(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", min_size=1, max_size=12
).filter(lambda n: n not in (".", ".."))
SIZES = st.one_of(
    st.just(0), st.integers(1, 200), st.sampled_from([4095, 4096, 4097]), st.integers(4098, 20000)
)
MODES = st.sampled_from([0o644, 0o600, 0o755, 0o444, 0o700, 0o640])


@st.composite
def trees(draw, depth=0):
    names = draw(st.lists(NAMES, min_size=0 if depth else 1, max_size=5, unique=True))
    tree = {}
    for name in names:
        kind = draw(st.sampled_from(["file", "file", "link"] + (["dir"] if depth < 2 else [])))
        if kind == "file":
            size = draw(SIZES)
            compressible = draw(st.booleans())
            seed = draw(st.integers(0, 2**16))
            if compressible:
                data = bytes([seed % 251]) * size
            else:
                data = random.Random(seed).randbytes(size)
            tree[name] = ("file", data, draw(MODES))
        elif kind == "link":
            tree[name] = ("link", draw(st.sampled_from(["/etc/passwd", "../x", "target", "/"])))
        else:
            tree[name] = ("dir", draw(trees(depth=depth + 1)))
    return tree


def materialize(tree: dict, root: Path) -> None:
    for name, spec in tree.items():
        p = root / name
        if spec[0] == "file":
            p.write_bytes(spec[1])
            os.chmod(p, spec[2])
        elif spec[0] == "link":
            os.symlink(spec[1], p)
        else:
            p.mkdir()
            materialize(spec[1], p)


def backup_and_unpack(tree_dir: Path, work: Path) -> dict:
    home = work / "home"
    home.mkdir()
    (home / "placeholder").write_text("home")
    flash = flash_from_trees(work, tree_dir, home)
    with Emulator(flash, "mstar", at_prompt=True) as emu:
        t = Transport(emu.port)
        try:
            plan = Plan("y203c", work / "backup", select(model_table("y203c"), "ROOTFS"))
            Backup(t, plan, say=lambda s: None, timeout=2).run()
        finally:
            t.close()
    data = (work / "backup" / "sys_y203c").read_bytes()
    assert data == flash[ROOTFS[0] : sum(ROOTFS)]
    fs = read_fs(data)
    assert not fs.crc_errors and fs.layout == "little"
    out = work / "unpacked"
    out.mkdir()
    w = extract(fs.entries, out)
    assert not w.skipped
    return tree_listing(out)


def roundtrip(tree: dict) -> None:
    mkfs_path()
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        src = work / "src"
        src.mkdir()
        materialize(tree, src)
        assert backup_and_unpack(src, work) == tree_listing(src)


@settings(max_examples=20, deadline=None)
@given(trees())
def test_any_tree_survives_backup(tree):
    roundtrip(tree)


@pytest.mark.slow
@pytest.mark.timeout(3600)
@settings(max_examples=300, deadline=None)
@given(trees())
def test_any_tree_survives_backup_campaign(tree):
    roundtrip(tree)
