"""Rows for the offline tools: parse-log, jffs2, swap."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from tests.conftest import FIXTURES
from tests.options.common import code, ok
from tests.support.camera import FIXTURE_TREES, mkfs
from tests.support.run_cli import uboot_dump

# -- offline ---------------------------------------------------------------------------------
LOG = FIXTURES / "logs" / "community-rootfs-head.log"


def parse_log_log(cam, image, tmp):
    ok("parse-log", str(LOG), "-o", str(tmp / "a.bin"))
    assert (tmp / "a.bin").stat().st_size > 0


def parse_log_output(cam, image, tmp):
    ok("parse-log", str(LOG), "-o", str(tmp / "named.bin"))
    assert (tmp / "named.bin").exists()


def parse_log_start_length(cam, image, tmp):
    ok("parse-log", str(LOG), "-o", str(tmp / "all.bin"))
    whole = (tmp / "all.bin").read_bytes()  # the log's md starts at 0x21000000
    ok("parse-log", str(LOG), "-o", str(tmp / "part.bin"), "--start", "0x21000020",
       "--length", "0x40")  # fmt: skip
    assert (tmp / "part.bin").read_bytes() == whole[0x20:0x60]


def parse_log_force(cam, image, tmp):
    (tmp / "o.bin").write_bytes(b"x")
    assert code(uboot_dump("parse-log", str(LOG), "-o", str(tmp / "o.bin"))) == 2
    ok("parse-log", str(LOG), "-o", str(tmp / "o.bin"), "--force")
    assert (tmp / "o.bin").read_bytes() != b"x"


def inspect_image(cam, image, tmp):
    assert b"little" in ok("jffs2", "inspect", str(image)).stdout


def inspect_json(cam, image, tmp):
    assert json.loads(ok("jffs2", "inspect", str(image), "--json").stdout)["layout"] == "little"


def unpack_image_dest(cam, image, tmp):
    ok("jffs2", "unpack", str(image), "-d", str(tmp / "d"))
    assert (tmp / "d" / "etc" / "hostname").exists()


def unpack_force(cam, image, tmp):
    bad = bytearray(image.read_bytes())
    bad[0x30] ^= 0x40
    (tmp / "bad").write_bytes(bytes(bad))
    assert code(uboot_dump("jffs2", "unpack", str(tmp / "bad"), "-d", str(tmp / "a"))) == 2
    ok("jffs2", "unpack", str(tmp / "bad"), "-d", str(tmp / "b"), "--force")
    assert any((tmp / "b").rglob("*"))


def repack_tree_output(cam, image, tmp):
    ok("jffs2", "repack", str(FIXTURE_TREES / "home"), "-o", str(tmp / "r"),
       "--partition-size", "0x30000")  # fmt: skip
    ok("jffs2", "unpack", str(tmp / "r"), "-d", str(tmp / "u"))
    assert (tmp / "u" / "config").exists() or any((tmp / "u").iterdir())


def repack_partition_size(cam, image, tmp):
    """The partition's size: an image that does not fit is refused, none is written."""
    args = ["jffs2", "repack", str(FIXTURE_TREES / "home"), "-o", str(tmp / "r")]
    assert code(uboot_dump(*args, "--partition-size", "0x400")) == 2
    assert not (tmp / "r").exists()
    ok(*args, "--partition-size", "0x30000")


def big_tree(tmp: Path) -> Path:
    """A tree of more than one erase block (incompressible), where the block size shows."""
    import random

    tree = tmp / "tree"
    tree.mkdir()
    (tree / "blob").write_bytes(random.Random(1).randbytes(300 << 10))
    return tree


def repack_erase_size(cam, image, tmp):
    tree = big_tree(tmp)
    for e in ("0x10000", "0x20000"):
        ok("jffs2", "repack", str(tree), "-o", str(tmp / e), "--partition-size", "1M",
           "--erase-size", e)  # fmt: skip
    assert (tmp / "0x10000").read_bytes() != (tmp / "0x20000").read_bytes()


def repack_force(cam, image, tmp):
    (tmp / "r").write_bytes(b"x")
    args = ["jffs2", "repack", str(FIXTURE_TREES / "home"), "-o", str(tmp / "r"),
            "--partition-size", "0x30000"]  # fmt: skip
    assert code(uboot_dump(*args)) == 2
    ok(*args, "--force")


def clean_image_output(cam, image, tmp):
    ok("jffs2", "clean", str(image), "-o", str(tmp / "c"))
    ok("jffs2", "unpack", str(tmp / "c"), "-d", str(tmp / "u"))
    assert not (tmp / "u" / "etc" / "back.bin").exists() and (tmp / "u" / "etc" / "passwd").exists()


def clean_remove(cam, image, tmp):
    ok("jffs2", "clean", str(image), "-o", str(tmp / "c"), "--remove", "etc/passwd")
    ok("jffs2", "unpack", str(tmp / "c"), "-d", str(tmp / "u"))
    assert not (tmp / "u" / "etc" / "passwd").exists() and (tmp / "u" / "etc" / "back.bin").exists()


def clean_partition_size(cam, image, tmp):
    """The size the cleaned image must fit (default: the input's)."""
    assert code(uboot_dump("jffs2", "clean", str(image), "-o", str(tmp / "c"),
                           "--partition-size", "0x100")) == 2  # fmt: skip
    ok("jffs2", "clean", str(image), "-o", str(tmp / "c"), "--partition-size", "0x100000")


def clean_erase_size(cam, image, tmp):
    tree = big_tree(tmp)
    (tree / "etc").mkdir()
    (tree / "etc" / "back.bin").write_bytes(b"secret" * 100)
    mkfs(tree, tmp / "big.jffs2")
    for e in ("0x10000", "0x20000"):
        ok("jffs2", "clean", str(tmp / "big.jffs2"), "-o", str(tmp / e), "--erase-size", e,
           "--partition-size", "1M")  # fmt: skip
    assert (tmp / "0x10000").read_bytes() != (tmp / "0x20000").read_bytes()


def clean_force(cam, image, tmp):
    (tmp / "c").write_bytes(b"x")
    assert code(uboot_dump("jffs2", "clean", str(image), "-o", str(tmp / "c"))) == 2
    ok("jffs2", "clean", str(image), "-o", str(tmp / "c"), "--force")


def swap_in_out(cam, image, tmp):
    (tmp / "in").write_bytes(bytes(range(8)))
    ok("swap", str(tmp / "in"), str(tmp / "out"))
    assert (tmp / "out").read_bytes() == bytes([3, 2, 1, 0, 7, 6, 5, 4])


def swap_force(cam, image, tmp):
    (tmp / "in").write_bytes(bytes(range(8)))
    (tmp / "out").write_bytes(b"x")
    assert code(uboot_dump("swap", str(tmp / "in"), str(tmp / "out"))) == 2
    ok("swap", str(tmp / "in"), str(tmp / "out"), "--force")


ROWS: dict[str, Callable] = {
    "parse-log log": parse_log_log,
    "parse-log --output": parse_log_output,
    "parse-log --start": parse_log_start_length,
    "parse-log --length": parse_log_start_length,
    "parse-log --force": parse_log_force,
    "jffs2 inspect image": inspect_image,
    "jffs2 inspect --json": inspect_json,
    "jffs2 unpack image": unpack_image_dest,
    "jffs2 unpack --dest": unpack_image_dest,
    "jffs2 unpack --force": unpack_force,
    "jffs2 repack tree": repack_tree_output,
    "jffs2 repack --output": repack_tree_output,
    "jffs2 repack --partition-size": repack_partition_size,
    "jffs2 repack --erase-size": repack_erase_size,
    "jffs2 repack --force": repack_force,
    "jffs2 clean image": clean_image_output,
    "jffs2 clean --output": clean_image_output,
    "jffs2 clean --remove": clean_remove,
    "jffs2 clean --partition-size": clean_partition_size,
    "jffs2 clean --erase-size": clean_erase_size,
    "jffs2 clean --force": clean_force,
    "swap input": swap_in_out,
    "swap output": swap_in_out,
    "swap --force": swap_force,
}
