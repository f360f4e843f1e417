"""Rows for the commands that talk to a camera: the console options (shared by read-mem and
backup), then read-mem's and backup's own."""

from __future__ import annotations

import json
import time
from typing import Callable

from tests.options.common import code, ok
from tests.support.camera import ROOTFS
from tests.support.run_cli import power_switch_cmd, uboot_dump, uboot_emu


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


def backup_power_cmd(cam, image, tmp):
    """The camera is off until its switch is used: --power-cmd switches it on (the full
    test, with a failing switch, is tests/test_power_cmd.py)."""
    (tmp / "off.img").write_bytes(cam[1])
    sock = tmp / "power.sock"
    with uboot_emu(tmp / "off.img", tmp / "off", "--power-on-after", "600", "--baud", "0",
                   "--control", str(sock)):  # fmt: skip
        ok("backup", "--port", str(tmp / "off"), "--model", "y203c", "-o", str(tmp / "o"),
           "--via", "md", "--partitions", "ROOTFS", "--power-timeout", "30", "--power-cmd",
           power_switch_cmd(sock))  # fmt: skip
    assert (tmp / "o" / "sys_y203c").exists()


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
    "backup --power-cmd": backup_power_cmd,
    "backup --via": backup_via,
}
