"""Hostile JFFS2 images (issue 13, item 1): crafted cases and a fuzzer over node fields.

Every case runs `uboot-dump jffs2 unpack` (and inspect) as a user would, in a child process
under a memory limit (256 MB more than it starts with) and a time limit: no traceback, one
line, the documented exit code, nothing written outside -d, no partial tree left behind.
"""

from __future__ import annotations

import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

import pytest

from tests.support import jffs2_writer as jw
from tests.support.camera import FIXTURE_TREES, mkfs
from tests.support.run_cli import one_error

ROOT = Path(__file__).resolve().parent.parent
MEMORY = 256 << 20
SECONDS = 10
GB = 1 << 30


def limited(*, fsize: int | None = None):
    """preexec_fn: at most MEMORY more data than now; with `fsize`, no file larger."""

    def apply() -> None:
        with open("/proc/self/status") as f:
            vm_data = next(int(x.split()[1]) * 1024 for x in f if x.startswith("VmData:"))
        resource.setrlimit(resource.RLIMIT_DATA, (vm_data + MEMORY, vm_data + MEMORY))
        if fsize is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write fails instead
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return apply


def run(*args: str, fsize: int | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args],
        capture_output=True, timeout=SECONDS, cwd=ROOT, preexec_fn=limited(fsize=fsize),
    )  # fmt: skip


def unpack(tmp_path: Path, image: bytes, *extra: str, fsize: int | None = None):
    """(the run, its stderr, DEST) for `jffs2 unpack` of `image` into a new box/dest."""
    box = Path(tempfile.mkdtemp(dir=tmp_path))  # nothing may appear in it but `dest`
    img = tmp_path / f"{box.name}.img"
    img.write_bytes(image)
    r = run("jffs2", "unpack", str(img), "-d", str(box / "dest"), *extra, fsize=fsize)
    err = r.stderr.decode()
    assert "Traceback" not in err and "Error:" not in err.replace("error:", ""), err
    assert os.listdir(box) in ([], ["dest"]), os.listdir(box)
    return r, err, box / "dest"


def root_file(name: bytes, *file_nodes: bytes) -> bytes:
    return jw.image(jw.dirent(1, 2, name, "file"), *file_nodes)


def test_a_huge_inode_size_is_refused_not_allocated(tmp_path):
    image = root_file(b"big", jw.inode(2, "file", b"x", isize=0xFFFFFFFF))
    assert len(image) == 116  # the 116-byte image
    r, err, _ = unpack(tmp_path, image)
    one_error(r, 2, after_notes=True, text="more than any file on a camera")


def test_a_huge_offset_costs_nothing(tmp_path):
    image = root_file(b"far", jw.inode(2, "file", b"tail", offset=0xF0000000, isize=0xF0000004))
    r, err, _ = unpack(tmp_path, image)
    one_error(r, 2, after_notes=True, text="more than any file on a camera")
    image = root_file(b"sparse", jw.inode(2, "file", b"tail", offset=0x3000000))  # 48 MiB
    r, err, dest = unpack(tmp_path, image)
    assert r.returncode == 0, err
    f = dest / "sparse"
    assert f.stat().st_size == 0x3000004 and f.stat().st_blocks * 512 < 1 << 20  # sparse


def test_a_zero_node_claiming_4gb_is_damage(tmp_path):
    image = root_file(b"z", jw.inode(2, "file", b"", dsize=0xFFFFFFFF, compr=1, isize=4096))
    r, err, _ = unpack(tmp_path, image)
    one_error(r, 2, after_notes=True, text="claims 4294967295 bytes of data")


def test_bad_zlib_data_is_damage(tmp_path):
    junk = random.Random(1).randbytes(300)
    image = root_file(b"zz", jw.inode(2, "file", junk, dsize=4096, compr=6, isize=4096))
    r, err, _ = unpack(tmp_path, image)
    one_error(r, 2, after_notes=True, text="undecodable data")


def test_a_zlib_bomb_is_held_to_the_node_size(tmp_path):
    bomb = zlib.compress(bytes(1 << 26), 9)  # 64 MiB of zeros in ~64 KiB
    image = root_file(b"bomb", jw.inode(2, "file", bomb, dsize=4096, compr=6, isize=4096))
    r, err, _ = unpack(tmp_path, image)
    one_error(r, 2, after_notes=True, text="the node says 4096")


@pytest.fixture(scope="module")
def real_image(tmp_path_factory):
    return mkfs(FIXTURE_TREES / "rootfs", tmp_path_factory.mktemp("i") / "rootfs.jffs2")


def test_a_dump_with_an_erased_tail_in_a_node(tmp_path, real_image):
    """As after an interrupted flash write: a node's last bytes read 0xFF."""
    bad = bytearray(real_image)
    bad[0x60:0x90] = b"\xff" * 0x30
    r, err, _ = unpack(tmp_path, bytes(bad))
    one_error(r, 2, after_notes=True, text="damaged or unsafe nodes")
    r, err, _ = unpack(tmp_path, bytes(bad), "--force")
    assert r.returncode == 0, err  # what can be read is extracted, with the damage said


def test_a_file_over_2_gib_is_not_cut_silently(tmp_path):
    image = root_file(b"huge", jw.inode(2, "file", b"end", offset=(3 * GB) - 3, isize=3 * GB))
    r, err, _ = unpack(tmp_path, image)
    one_error(r, 2, after_notes=True, text="more than any file on a camera")


def test_a_link_target_with_a_nul(tmp_path):
    image = jw.image(
        jw.dirent(1, 2, b"evil", "link"), jw.inode(2, "link", b"/etc\x00passwd", mode=0o777),
        jw.dirent(1, 3, b"fine", "file"), jw.inode(3, "file", b"ok"),
    )  # fmt: skip
    r, err, dest = unpack(tmp_path, image)
    assert r.returncode == 0, err
    assert "link target with a NUL" in err
    assert sorted(os.listdir(dest)) == ["fine"]


def test_1200_nested_directories(tmp_path):
    nodes = []
    for depth in range(1200):
        nodes += [jw.dirent(depth + 1, depth + 2, b"d", "dir"), jw.inode(depth + 2, "dir")]
    r, err, _ = unpack(tmp_path, jw.image(*nodes))
    one_error(r, 2, after_notes=True, text="deeper than 128 levels")


def test_a_full_disk_fails_loudly_and_leaves_nothing(tmp_path):
    content = random.Random(2).randbytes(200_000)
    image = root_file(b"big", *(
        jw.inode(2, "file", content[o : o + 4096], offset=o, version=o + 1, isize=len(content))
        for o in range(0, len(content), 4096)
    ))  # fmt: skip
    r, err, dest = unpack(tmp_path, image, fsize=100_000)  # writes fail past 100 KB
    one_error(r, 12, after_notes=True, text="cannot extract into")
    assert not dest.exists()


# -- the fuzzer ---------------------------------------------------------------------------
FUZZ = Path(__file__).resolve().parent / "support" / "jffs2_fuzz.py"


@pytest.mark.parametrize("count", [1000, pytest.param(20000, marks=pytest.mark.slow)])
def test_fuzzed_node_fields(tmp_path, real_image, count):
    (tmp_path / "seed.img").write_bytes(real_image)
    r = subprocess.run(
        [sys.executable, str(FUZZ), str(tmp_path / "seed.img"), str(tmp_path / "work"),
         str(count)],
        capture_output=True, timeout=600, cwd=ROOT, preexec_fn=limited(),
    )  # fmt: skip
    out, err = r.stdout.decode(), r.stderr.decode()
    assert r.returncode == 0, (out + err)[-3000:]
    assert f"{count} mutants" in out and "slowest" in out, out
