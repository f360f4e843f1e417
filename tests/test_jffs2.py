"""jffs2 inspect, unpack, repack, clean: real mkfs.jffs2, crafted images, every failure."""

import os
import shutil
import subprocess

import pytest

from harness.jffs2.nodes import swap_words
from tests.support import jffs2_writer as jw
from tests.support.camera import FIXTURE_TREES, mkfs, mkfs_path, tree_listing
from tests.support.run_cli import uboot_dump

PART = 0x1E0000


@pytest.fixture(scope="module")
def rootfs(tmp_path_factory):
    return mkfs(FIXTURE_TREES / "rootfs", tmp_path_factory.mktemp("img") / "rootfs.jffs2")


def write(tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(data)
    return p


def unpack(img, dest, *extra):
    return uboot_dump("jffs2", "unpack", str(img), "-d", str(dest), *extra)


# -- inspect ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "variant, layout, advice, code",
    [
        ("as-is", "little", "OK: little-endian", 0),
        ("swapped", "little-swapped", "run `uboot-dump swap IMG OUT`", 1),
        ("ff-led", "little", "the first node is at 0x10000", 1),
        ("big", "big", "big-endian JFFS2", 1),
    ],
)
def test_inspect_layouts(tmp_path, rootfs, variant, layout, advice, code):
    if variant == "big":
        img = tmp_path / "be.jffs2"
        subprocess.run(
            [
                mkfs_path(),
                "-b",
                "-e",
                "0x10000",
                "-r",
                str(FIXTURE_TREES / "rootfs"),
                "-o",
                str(img),
            ],
            check=True,
        )
        data = img.read_bytes()
    else:
        data = {
            "as-is": rootfs,
            "swapped": swap_words(rootfs + b"\xff" * (-len(rootfs) % 4)),
            "ff-led": b"\xff" * 0x10000 + rootfs,
        }[variant]
    r = uboot_dump("jffs2", "inspect", str(write(tmp_path, "i.img", data)))
    out = r.stdout.decode()
    assert r.returncode == code
    assert f"layout: {layout} " in out and advice in out


def test_inspect_finds_crc_errors_and_truncation(tmp_path, rootfs):
    bad = bytearray(rootfs)
    bad[0x30] ^= 0x40  # inside the first inode node
    r = uboot_dump("jffs2", "inspect", str(write(tmp_path, "c.img", bytes(bad))))
    assert r.returncode == 1 and "CRC errors: 1" in r.stdout.decode()
    r = uboot_dump("jffs2", "inspect", str(write(tmp_path, "t.img", rootfs[: len(rootfs) // 2])))
    assert r.returncode == 1 and "runs past the end" in r.stdout.decode()
    r = uboot_dump("jffs2", "inspect", str(write(tmp_path, "n.img", b"\xff" * 4096)))
    assert r.returncode == 1 and "not a JFFS2 image" in r.stdout.decode()


# -- unpack ----------------------------------------------------------------------------------
@pytest.mark.parametrize("variant", ["as-is", "swapped", "ff-led"])
def test_unpack_forces_the_layout(tmp_path, rootfs, variant):
    data = {
        "as-is": rootfs,
        "swapped": swap_words(rootfs + b"\xff" * (-len(rootfs) % 4)),
        "ff-led": b"\xff" * 0x10000 + rootfs,
    }[variant]
    r = unpack(write(tmp_path, "u.img", data), tmp_path / "out")
    assert r.returncode == 0, r.stderr
    assert tree_listing(tmp_path / "out") == tree_listing(FIXTURE_TREES / "rootfs")


def test_jefferson_alone_extracts_nothing_from_a_swapped_image(tmp_path, rootfs):
    """The fact the forced layout is for: jefferson decides from the first two bytes."""
    img = write(tmp_path, "s.img", swap_words(rootfs + b"\xff" * (-len(rootfs) % 4)))
    r = subprocess.run(
        [shutil.which("jefferson"), "-d", str(tmp_path / "j"), str(img)], capture_output=True
    )
    assert r.returncode == 0 and not any((tmp_path / "j").rglob("*"))


def test_unpack_refuses_a_non_empty_dir_crc_errors_and_empty_images(tmp_path, rootfs):
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("x")
    r = unpack(write(tmp_path, "a.img", rootfs), busy)
    assert r.returncode == 2 and "not an empty directory" in r.stderr.decode()
    bad = bytearray(rootfs)
    bad[0x30] ^= 0x40
    r = unpack(write(tmp_path, "b.img", bytes(bad)), tmp_path / "b")
    assert r.returncode == 2 and "damaged or unsafe nodes" in r.stderr.decode()
    assert not (tmp_path / "b").exists()
    r = unpack(tmp_path / "b.img", tmp_path / "b", "--force")
    assert r.returncode == 0
    only_root = jw.image(jw.inode(1, "dir", mode=0o755))
    r = unpack(write(tmp_path, "e.img", only_root), tmp_path / "e")
    assert r.returncode != 0 and "nothing to extract" in r.stderr.decode()
    r = unpack(write(tmp_path, "f.img", b"\xff" * 1000), tmp_path / "f")
    assert r.returncode != 0 and len(r.stderr.decode().splitlines()) == 1


def test_crafted_escapes_stay_inside(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    img = jw.image(
        jw.inode(1, "dir", mode=0o755),
        jw.dirent(1, 2, b"..", "dir"),
        jw.inode(2, "dir", mode=0o755),
        jw.dirent(2, 3, b"escaped", "file"),
        jw.inode(3, "file", b"via dotdot"),
        jw.dirent(1, 4, b"../outside/escaped2", "file"),
        jw.inode(4, "file", b"via slash"),
        jw.dirent(1, 5, b"abs", "link"),
        jw.inode(5, "link", str(outside).encode(), mode=0o777),
        jw.dirent(5, 6, b"through-link", "file"),
        jw.inode(6, "file", b"via symlink"),
        jw.dirent(1, 7, b"ok.txt", "file"),
        jw.inode(7, "file", b"fine"),
        jw.dirent(1, 8, b"dir", "dir"),
        jw.inode(8, "dir", mode=0o755),
        jw.dirent(8, 9, b"up", "link"),
        jw.inode(9, "link", b"../..", mode=0o777),
    )
    dest = tmp_path / "dest"
    r = unpack(write(tmp_path, "evil.img", img), dest)
    assert r.returncode == 0, r.stderr
    assert list(outside.iterdir()) == []
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "escaped2").exists()
    listing = tree_listing(dest)
    assert listing["ok.txt"] == ("file", b"fine", 0o644)
    assert listing["abs"] == ("link", str(outside))  # created, never followed
    assert "unsafe name" in r.stderr.decode()
    assert sorted(listing) == ["abs", "dir", "dir/up", "ok.txt"]


def test_deleted_entries_stay_deleted_and_inode_size_is_honoured(tmp_path):
    img = jw.image(
        jw.inode(1, "dir", mode=0o755),
        jw.dirent(1, 2, b"secret", "file", version=1),
        jw.inode(2, "file", b"identity!"),
        jw.dirent(1, 0, b"secret", "file", version=2),  # unlink: a newer dirent with ino 0
        jw.dirent(1, 3, b"short", "file"),
        jw.inode(3, "file", b"0123456789", isize=4),
        jw.dirent(1, 4, b"empty", "file"),
        jw.inode(4, "file", b""),
    )
    dest = tmp_path / "d"
    assert unpack(write(tmp_path, "del.img", img), dest).returncode == 0
    assert sorted(os.listdir(dest)) == ["empty", "short"]
    assert (dest / "short").read_bytes() == b"0123"
    assert (dest / "empty").read_bytes() == b""


# -- repack ----------------------------------------------------------------------------------
def test_repack_same_tree_same_bytes(tmp_path):
    mkfs_path()  # skips, with the reason, where mkfs.jffs2 is missing
    tree = tmp_path / "tree"
    shutil.copytree(FIXTURE_TREES / "rootfs", tree, symlinks=True)
    r1 = uboot_dump(
        "jffs2", "repack", str(tree), "-o", str(tmp_path / "1.img"), "--partition-size", "0x1e0000"
    )
    os.utime(tree / "etc" / "passwd", (1, 1))
    r2 = uboot_dump(
        "jffs2", "repack", str(tree), "-o", str(tmp_path / "2.img"), "--partition-size", "0x1e0000"
    )
    assert r1.returncode == 0 and r2.returncode == 0, r1.stderr
    assert (tmp_path / "1.img").read_bytes() == (tmp_path / "2.img").read_bytes()
    assert (tmp_path / "1.img").read_bytes()[:2] == b"\x85\x19"
    assert unpack(tmp_path / "1.img", tmp_path / "u").returncode == 0
    assert tree_listing(tmp_path / "u") == tree_listing(tree)


def test_repack_failures(tmp_path):
    mkfs_path()
    big = tmp_path / "big"
    big.mkdir()
    (big / "noise").write_bytes(os.urandom(200_000))
    r = uboot_dump(
        "jffs2", "repack", str(big), "-o", str(tmp_path / "b.img"), "--partition-size", "0x10000"
    )
    assert r.returncode != 0 and "larger than the partition" in r.stderr.decode()
    assert not (tmp_path / "b.img").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    r = uboot_dump(
        "jffs2", "repack", str(empty), "-o", str(tmp_path / "e.img"), "--partition-size", "0x10000"
    )
    assert r.returncode != 0 and "empty" in r.stderr.decode()
    assert not (tmp_path / "e.img").exists()


# -- clean -----------------------------------------------------------------------------------
def test_clean_removes_the_identity_and_keeps_the_rest(tmp_path):
    backup = (FIXTURE_TREES / "rootfs" / "etc" / "back.bin").read_bytes()
    raw = tmp_path / "raw.jffs2"  # uncompressed, so the identity stands in the image as is
    subprocess.run(
        [
            mkfs_path(),
            "-l",
            "-m",
            "none",
            "-e",
            "0x10000",
            "-r",
            str(FIXTURE_TREES / "rootfs"),
            "-o",
            str(raw),
        ],
        check=True,
    )
    dump = write(tmp_path, "sys", raw.read_bytes() + b"\xff" * (PART - raw.stat().st_size))
    assert backup[4:36] in dump.read_bytes()
    r = uboot_dump("jffs2", "clean", str(dump), "-o", str(tmp_path / "clean"))
    assert r.returncode == 0, r.stderr
    out = (tmp_path / "clean").read_bytes()
    for i in range(len(backup) - 15):
        w = backup[i : i + 16]
        assert w.count(w[:1]) == 16 or w not in out
    assert unpack(tmp_path / "clean", tmp_path / "u").returncode == 0
    want = tree_listing(FIXTURE_TREES / "rootfs")
    del want["etc/back.bin"]
    assert tree_listing(tmp_path / "u") == want
    r = uboot_dump("jffs2", "clean", str(dump), "-o", str(tmp_path / "x"), "--remove", "no/such")
    assert r.returncode != 0 and "no no/such in the image" in r.stderr.decode()


def test_only_the_node_module_knows_the_jffs2_layout():
    """One module (harness/jffs2/nodes.py) reads node fields; the others go through it, and
    jefferson is used only for its decompressors (no jefferson.jffs2, no global state)."""
    from pathlib import Path

    pkg = Path(__file__).resolve().parent.parent / "harness" / "jffs2"
    for path in pkg.glob("*.py"):
        text = path.read_text()
        if path.name != "nodes.py":
            assert "unpack_from" not in text and ".unpack(" not in text, path.name
            assert "0x1985" not in text and "Struct(" not in text, path.name
        if "jefferson" in text:
            assert path.name == "decompress.py", path.name
            assert "jefferson.jffs2" not in text and "jefferson.compression" in text
