"""Every option of every `uboot-dump` command does what it says: one row per option, each
a run that shows its effect (against the emulated camera where it needs one). The first
test walks the argument parser: an option added without a row here fails it, so nothing
can be parsed and then ignored unnoticed."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest

from harness.cli import build_parser
from harness.sd.staging import Header
from tests.conftest import FIXTURES
from tests.support.camera import FIXTURE_TREES, ROOTFS, flash_from_trees, mkfs
from tests.support.run_cli import uboot_dump, uboot_emu


def parsed_options() -> set[str]:
    out = set()

    def walk(parser: argparse.ArgumentParser, prefix: str) -> None:
        for a in parser._actions:
            if isinstance(a, argparse._SubParsersAction):
                for name, sub in a.choices.items():
                    walk(sub, f"{prefix}{name} ")
            elif not isinstance(a, argparse._HelpAction):
                out.add(prefix + (a.option_strings[-1] if a.option_strings else a.dest))

    walk(build_parser(), "")
    return out


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


def ok(*args: str, cwd=None) -> subprocess.CompletedProcess:
    r = subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True,
                       timeout=120, cwd=cwd)  # fmt: skip
    assert r.returncode == 0, r.stderr.decode()
    return r


def code(r: subprocess.CompletedProcess) -> int:
    return r.returncode


# -- the console options, shared by read-mem and backup ----------------------------------------
def read(cam, tmp, *extra: str, length: str = "0x1000", start: str = "0x141d0000"):
    """ROOTFS's first bytes through the flash's memory-mapped window (data, not erased)."""
    return uboot_dump("read-mem", "--port", cam[0], "--start", start, "--length", length,
                      "-o", str(tmp / f"r{time.monotonic_ns()}.bin"), *extra)  # fmt: skip


def bk(cam, tmp, *extra: str, out: str = "b"):
    return uboot_dump("backup", "--port", cam[0], "--model", "y203c", "-o", str(tmp / out),
                      "--via", "md", "--partitions", "ROOTFS", *extra)  # fmt: skip


RUNS = {"read-mem": read, "backup": bk}


def port_row(cmd: str):
    def check(cam, image, tmp):
        assert code(RUNS[cmd](cam, tmp)) == 0
        assert code(RUNS[cmd]((str(tmp / "ttyNONE"), cam[1]), tmp)) == 3

    return check


def more_commands_row(cmd: str, option: str, values: tuple[str, str], length: str, sent: bytes):
    """The second value of the option makes the run send more of `sent` than the first
    (counted in its --log)."""

    def check(cam, image, tmp):
        counts = []
        for value in values:
            log = tmp / f"{value}.log"
            extra = ("--length", length) if cmd == "read-mem" else ()
            kw = {"out": f"o{value}"} if cmd == "backup" else {}
            assert code(RUNS[cmd](cam, tmp, option, value, "--log", str(log), *extra, **kw)) == 0
            counts.append(log.read_bytes().count(sent))
        assert counts[1] > counts[0]

    return check


def baud_row(cmd: str):
    """The line rate bounds one md (20 s of lines at it): at 300 baud a read takes many."""
    return more_commands_row(cmd, "--baud", ("115200", "300"), "0x2000", b"md.l ")


def prompt_row(cmd: str):
    def check(cam, image, tmp):
        assert code(RUNS[cmd](cam, tmp, "--prompt", "MStar # ")) == 0
        assert code(RUNS[cmd](cam, tmp, "--prompt", "WRONG # ")) == 4

    return check


def timeout_row(cmd: str):
    """On a camera that says nothing, --timeout is how long the tool waits."""

    def check(cam, image, tmp):
        (tmp / "off.img").write_bytes(cam[1])
        with uboot_emu(tmp / "off.img", tmp / "off", "--power-on-after", "600", "--baud", "0"):
            t0 = time.monotonic()
            extra = ("--power-timeout", "1") if cmd == "backup" else ()
            r = RUNS[cmd]((str(tmp / "off"), cam[1]), tmp, "--timeout", "1", *extra)
            took = time.monotonic() - t0
        assert r.returncode == 4 and took < 8, (r.returncode, took)

    return check


def log_row(cmd: str):
    def check(cam, image, tmp):
        log = tmp / "session.log"
        assert code(RUNS[cmd](cam, tmp, "--log", str(log))) == 0
        assert b"MStar # " in log.read_bytes() and b"md.l" in log.read_bytes()

    return check


def chunk_row(cmd: str):
    """Smaller chunks: more crc32s (one per chunk at least)."""
    return more_commands_row(cmd, "--chunk", ("0x10000", "0x1000"), "0x10000", b"crc32 ")


def restart_read_mem(cam, image, tmp):
    out = tmp / "r.bin"
    (tmp / "r.bin.journal").write_text('{"version": 1, "start": 1, "length": 2, "chunk": 3}\n')
    (tmp / "r.bin.part").write_bytes(b"x")
    args = ["read-mem", "--port", cam[0], "--start", "0x14000000", "--length", "0x1000",
            "-o", str(out)]  # fmt: skip
    assert code(uboot_dump(*args)) == 8
    ok(*args, "--restart")
    assert out.read_bytes() == cam[1][:0x1000]


def restart_backup(cam, image, tmp):
    assert code(bk(cam, tmp)) == 0
    again = bk(cam, tmp)
    assert b"already backed up" in again.stderr
    again = bk(cam, tmp, "--restart")
    assert again.returncode == 0 and b"already backed up" not in again.stderr


def read_mem_start_length(cam, image, tmp):
    out = tmp / "x.bin"
    ok("read-mem", "--port", cam[0], "--start", "0x141d0010", "--length", "0x230", "-o", str(out))
    assert out.read_bytes() == cam[1][0x1D0010:0x1D0240]


def read_mem_output(cam, image, tmp):
    ok("read-mem", "--port", cam[0], "--start", "0x14000000", "--length", "16", "-o",
       str(tmp / "named.bin"))  # fmt: skip
    assert (tmp / "named.bin").read_bytes() == cam[1][:16]


def read_mem_no_skip_erased(cam, image, tmp):
    end = 0x14000000 + len(cam[1]) - 0x2000  # erased flash near the end
    for extra, skipped in (((), 2), (("--no-skip-erased",), 0)):
        r = ok("read-mem", "--port", cam[0], "--start", hex(end), "--length", "0x2000",
               "--chunk", "0x1000", "-o", str(tmp / f"e{skipped}.bin"), "--json",
               *extra)  # fmt: skip
        assert json.loads(r.stdout)["erased_chunks_skipped"] == skipped


def read_mem_endian(cam, image, tmp):
    assert code(read(cam, tmp, "--endian", "little")) == 0
    r = read(cam, tmp, "--endian", "big")  # exit 2 where md lines show it, else 7
    assert r.returncode in (2, 7) and b"--endian big" in r.stderr


def read_mem_json(cam, image, tmp):
    r = ok("read-mem", "--port", cam[0], "--start", "0x14000000", "--length", "16", "-o",
           str(tmp / "j.bin"), "--json")  # fmt: skip
    assert json.loads(r.stdout)["bytes"] == 16


def backup_model(cam, image, tmp):
    ok("backup", "--port", cam[0], "--model", "y25", "-o", str(tmp / "m"), "--via", "md",
       "--partitions", "ROOTFS")  # fmt: skip
    assert (tmp / "m" / "sys_y25").exists()


def backup_output(cam, image, tmp):
    assert code(bk(cam, tmp, out="here")) == 0
    assert (tmp / "here" / "sys_y203c").read_bytes() == cam[1][ROOTFS[0] : sum(ROOTFS)]


def backup_partitions(cam, image, tmp):
    for which in ("ROOTFS", "ROOTFS,HOME", "all"):
        ok("backup", "--port", cam[0], "--model", "y203c", "-o", str(tmp / which), "--via", "md",
           "--partitions", which)  # fmt: skip
    assert not (tmp / "ROOTFS" / "home_y203c").exists()
    assert (tmp / "ROOTFS,HOME" / "home_y203c").exists()
    assert (tmp / "all" / "mtd5_conf.bin").stat().st_size == 0x10000


BOOTLOG = (
    'Creating 3 MTD partitions on "NOR_FLASH":\n'
    '0x000000000000-0x0000001d0000 : "BOOT"\n'
    '0x0000001d0000-0x0000001e0000 : "ROOTFS"\n'
    '0x0000001e0000-0x000001000000 : "HOME"\n'
)


def backup_bootlog(cam, image, tmp):
    (tmp / "boot.log").write_text(BOOTLOG)
    ok("backup", "--port", cam[0], "--model", "mycam", "-o", str(tmp / "l"), "--via", "md",
       "--partitions", "ROOTFS", "--bootlog", str(tmp / "boot.log"))  # fmt: skip
    assert (tmp / "l" / "sys_mycam").stat().st_size == 0x10000  # the log's ROOTFS


def backup_table_from(cam, image, tmp):
    (tmp / "boot.log").write_text(BOOTLOG)
    args = ["--bootlog", str(tmp / "boot.log")]
    assert code(bk(cam, tmp, *args, out="t0")) == 2  # they disagree: choose
    assert code(bk(cam, tmp, *args, "--table-from", "model", out="t1")) == 0
    assert (tmp / "t1" / "sys_y203c").stat().st_size == ROOTFS[1]
    assert code(bk(cam, tmp, *args, "--table-from", "bootlog", out="t2")) == 0
    assert (tmp / "t2" / "sys_y203c").stat().st_size == 0x10000


def backup_ram(cam, image, tmp):
    log = tmp / "ram.log"
    assert code(bk(cam, tmp, "--ram", "0x22000000", "--log", str(log))) == 0
    assert b"sf read 22000000 1d0000" in log.read_bytes()


def backup_power_timeout(cam, image, tmp):
    (tmp / "off.img").write_bytes(cam[1])
    with uboot_emu(tmp / "off.img", tmp / "off", "--power-on-after", "600", "--baud", "0"):
        t0 = time.monotonic()
        r = bk((str(tmp / "off"), cam[1]), tmp, "--power-timeout", "2")
        took = time.monotonic() - t0
    assert r.returncode == 4 and 2 <= took < 10, (r.returncode, took)


def backup_via(cam, image, tmp):
    args = ["backup", "--port", cam[0], "--model", "y203c", "-o", str(tmp / "v"),
            "--partitions", "ROOTFS"]  # fmt: skip
    assert code(uboot_dump(*args, "--via", "sd")) == 13  # this camera has no card
    ok(*args, "--via", "auto")
    ok(*args, "--via", "md")


# -- the SD card's PC side -----------------------------------------------------------------
def prepare_dir(cam, image, tmp):
    card = tmp / "card"
    card.mkdir()
    ok("sd-prepare", str(card))
    assert (card / "UBDUMP.BIN").stat().st_size == (16 << 20) + 512


def prepare_model(cam, image, tmp):
    (tmp / "c").mkdir()
    ok("sd-prepare", str(tmp / "c"), "--model", "y25")
    assert Header.unpack((tmp / "c" / "UBDUMP.BIN").read_bytes()[:512]).model == "y25"


def prepare_flash_size(cam, image, tmp):
    (tmp / "c").mkdir()
    ok("sd-prepare", str(tmp / "c"), "--flash-size", "8M")
    assert (tmp / "c" / "UBDUMP.BIN").stat().st_size == (8 << 20) + 512


def prepare_force(cam, image, tmp):
    (tmp / "c").mkdir()
    ok("sd-prepare", str(tmp / "c"))
    first = (tmp / "c" / "UBDUMP.BIN").read_bytes()[:512]
    assert code(uboot_dump("sd-prepare", str(tmp / "c"))) == 2
    ok("sd-prepare", str(tmp / "c"), "--force")
    assert (tmp / "c" / "UBDUMP.BIN").read_bytes()[:512] != first  # a new file id


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


def collect_in(sd_backup, tmp) -> tuple[Path, Path]:
    import shutil

    out = tmp / "out"
    shutil.copytree(sd_backup[0], out)
    return out, sd_backup[1]


def collect_card_file(cam, image, tmp, sd_backup):
    out, card_file = collect_in(sd_backup, tmp)
    ok("sd-collect", str(card_file), "-o", str(out))
    assert code(uboot_dump("sd-collect", str(tmp / "none.bin"), "-o", str(out))) == 2


def collect_output(cam, image, tmp, sd_backup):
    out, card_file = collect_in(sd_backup, tmp)
    ok("sd-collect", str(card_file), "-o", str(out))
    assert (out / "sys_y203c").read_bytes() == sd_backup[2][ROOTFS[0] : sum(ROOTFS)]


def collect_partitions(cam, image, tmp, sd_backup):
    out, card_file = collect_in(sd_backup, tmp)
    ok("sd-collect", str(card_file), "-o", str(out), "--partitions", "all")
    assert (out / "mtd0_BOOT.bin").stat().st_size == 0x50000


def collect_allow_card_output(cam, image, tmp, sd_backup):
    """The card check reads the mount table; a directory on a vfat mount (the card) is
    refused unless --allow-card-output (collect() is given the mount table a PC with the
    card mounted would have)."""
    from harness.backup.collect import collect
    from harness.base.errors import UsageError

    out, card_file = collect_in(sd_backup, tmp)
    table = f"36 1 8:17 / {tmp} rw - vfat /dev/sdb1 rw\n"
    with pytest.raises(UsageError, match="on the card itself"):
        collect(card_file, out, mountinfo=table, say=lambda s: None)
    assert collect(card_file, out, mountinfo=table, allow_card_output=True, say=lambda s: None)
    args = build_parser().parse_args(["sd-collect", "x", "-o", "y", "--allow-card-output"])
    assert args.allow_card_output is True


def collect_force(cam, image, tmp, sd_backup):
    out, card_file = collect_in(sd_backup, tmp)
    (out / "sys_y203c").write_bytes(b"other")
    assert code(uboot_dump("sd-collect", str(card_file), "-o", str(out))) == 2
    ok("sd-collect", str(card_file), "-o", str(out), "--force")
    assert (out / "sys_y203c").read_bytes() == sd_backup[2][ROOTFS[0] : sum(ROOTFS)]


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
    **{f"{c} --port": port_row(c) for c in RUNS},
    **{f"{c} --baud": baud_row(c) for c in RUNS},
    **{f"{c} --prompt": prompt_row(c) for c in RUNS},
    **{f"{c} --timeout": timeout_row(c) for c in RUNS},
    **{f"{c} --log": log_row(c) for c in RUNS},
    **{f"{c} --chunk": chunk_row(c) for c in RUNS},
    "read-mem --restart": restart_read_mem,
    "read-mem --start": read_mem_start_length,
    "read-mem --length": read_mem_start_length,
    "read-mem --output": read_mem_output,
    "read-mem --no-skip-erased": read_mem_no_skip_erased,
    "read-mem --endian": read_mem_endian,
    "read-mem --json": read_mem_json,
    "backup --restart": restart_backup,
    "backup --model": backup_model,
    "backup --output": backup_output,
    "backup --partitions": backup_partitions,
    "backup --bootlog": backup_bootlog,
    "backup --table-from": backup_table_from,
    "backup --ram": backup_ram,
    "backup --power-timeout": backup_power_timeout,
    "backup --via": backup_via,
    "sd-prepare card_dir": prepare_dir,
    "sd-prepare --model": prepare_model,
    "sd-prepare --flash-size": prepare_flash_size,
    "sd-prepare --force": prepare_force,
    "sd-collect card_file": collect_card_file,
    "sd-collect --output": collect_output,
    "sd-collect --partitions": collect_partitions,
    "sd-collect --allow-card-output": collect_allow_card_output,
    "sd-collect --force": collect_force,
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


def test_every_parsed_option_has_a_row():
    assert parsed_options() == set(ROWS), parsed_options() ^ set(ROWS)


@pytest.mark.parametrize("row", sorted(ROWS))
def test_the_option_does_what_it_says(row, cam, image, tmp_path, request):
    check = ROWS[row]
    if row.startswith("sd-collect"):
        check(cam, image, tmp_path, request.getfixturevalue("sd_backup"))
    else:
        check(cam, image, tmp_path)


def test_every_option_and_positional_has_help_and_its_default_shows():
    from harness.camera.partitions import models

    def walk(parser: argparse.ArgumentParser):
        for a in parser._actions:
            if isinstance(a, argparse._SubParsersAction):
                for sub in a.choices.values():
                    yield from walk(sub)
            elif not isinstance(a, argparse._HelpAction):
                yield parser, a

    for parser, a in walk(build_parser()):
        assert a.help, f"{parser.prog} {a.dest}: no help"
        text = parser.format_help()
        if a.default not in (None, False) and a.option_strings and "default" not in a.help:
            hexadecimal = getattr(a.type, "__name__", "") in ("address", "size", "chunk")
            shown = f"0x{a.default:x}" if hexadecimal else a.default
            assert f"(default: {shown})" in " ".join(text.split()), f"{parser.prog} {a.dest}"
    backup_help = " ".join(
        build_parser()._subparsers._group_actions[0].choices["backup"].format_help().split()
    )
    assert all(m in backup_help for m in models())
