"""The tool against real U-Boots: the camera vendor's own 2015.01 code (../shared/oracles/)
and Debian's U-Boot 2023.01 under QEMU, as a user would run it (`uboot-dump` in its own
process), through a paced line with faults where the issue asks for one (emulator.wire.relay).

These skip with the reason where the target cannot run (a clone without ../shared, no
QEMU); CI has both.
"""

from __future__ import annotations

import random
import zlib
from pathlib import Path

import pytest

from emulator.wire.relay import Relay
from tests.support.camera import (
    FIXTURE_TREES,
    HOME,
    ROOTFS,
    flash_from_trees,
    jefferson_extract,
    tree_listing,
)
from tests.support.differential import Step, Typist
from tests.support.run_cli import uboot_dump
from tests.support.targets import qemu_uboot, stop_at_prompt, vendor_build

FAST_BAUD = 3_000_000  # a paced line, fast enough for the default suite


def load_ram(port: str, prompt: bytes, commands: list[bytes]) -> None:
    t = Typist(port, prompt)
    try:
        for c in commands:
            t.answer(Step(c + b"\r"))
    finally:
        t.close()


def read_through_relay(port: str, baud: int, faults: str, start: int, length: int, out: Path):
    with Relay(port, baud=baud, faults=faults, seed=7) as relay:
        return uboot_dump(
            "read-mem",
            "--port",
            relay.port,
            "--baud",
            str(baud),
            "--start",
            hex(start),
            "--length",
            hex(length),
            "-o",
            str(out),
            "--json",
            timeout=600,
        )


@pytest.mark.parametrize("baud", [FAST_BAUD, pytest.param(115200, marks=pytest.mark.slow)])
def test_read_mem_from_the_vendor_build_through_a_faulty_line(tmp_path, baud):
    image = random.Random(9).randbytes(16 << 20)
    (tmp_path / "flash.img").write_bytes(image)
    with vendor_build(tmp_path / "flash.img") as target:
        stop_at_prompt(target.port, b"MStar # ")
        load_ram(target.port, b"MStar # ", [b"sf probe", b"sf read 21000000 80000 40000"])
        r = read_through_relay(
            target.port,
            baud,
            "flip=1e-4,drop=5e-5,dup=2e-5",
            0x21000000,
            0x40000,
            tmp_path / "ram.bin",
        )
    assert r.returncode == 0, r.stderr.decode()
    assert (tmp_path / "ram.bin").read_bytes() == image[0x80000:0xC0000]
    assert b'"check": "crc32"' in r.stdout


def test_read_mem_from_qemu_through_a_faulty_line(tmp_path):
    image = random.Random(10).randbytes(1 << 20)
    (tmp_path / "bank1.img").write_bytes(image)
    with qemu_uboot("arm", tmp_path / "bank1.img") as target:
        stop_at_prompt(target.port, b"=> ")
        load_ram(target.port, b"=> ", [b"cp.b 04000000 41000000 10000"])
        r = read_through_relay(
            target.port,
            FAST_BAUD,
            "flip=1e-4,drop=5e-5",
            0x41000000,
            0x10000,
            tmp_path / "ram.bin",
        )
    assert r.returncode == 0, r.stderr.decode()
    assert (tmp_path / "ram.bin").read_bytes() == image[:0x10000]


@pytest.fixture(scope="module")
def camera_flash(tmp_path_factory):
    work = tmp_path_factory.mktemp("flash")
    return flash_from_trees(work, FIXTURE_TREES / "rootfs", FIXTURE_TREES / "home")


@pytest.mark.parametrize("faults", ["", "flip=5e-5,drop=2e-5,dup=1e-5"])
def test_backup_of_the_vendor_build_powered_on_after_the_tool_starts(
    tmp_path, camera_flash, faults
):
    (tmp_path / "flash.img").write_bytes(camera_flash)
    out = tmp_path / "backup"
    with vendor_build(tmp_path / "flash.img", power_on_after=1.0) as target:
        if faults:  # the same through a paced line with faults
            with Relay(target.port, baud=FAST_BAUD, faults=faults, seed=3) as relay:
                r = uboot_dump("backup", "--port", relay.port, "--baud", str(FAST_BAUD),
                               "--model", "y203c", "-o", str(out))  # fmt: skip
        else:
            r = uboot_dump("backup", "--port", target.port, "--model", "y203c", "-o", str(out))
    assert r.returncode == 0, r.stderr.decode()
    assert (out / "sys_y203c").read_bytes() == camera_flash[ROOTFS[0] : sum(ROOTFS)]
    assert (out / "home_y203c").read_bytes() == camera_flash[HOME[0] : sum(HOME)]
    for name, tree in (("sys_y203c", "rootfs"), ("home_y203c", "home")):
        got = jefferson_extract(out / name, tmp_path / f"x-{name}")
        assert got == tree_listing(FIXTURE_TREES / tree)
    boot = (out / "bootlog.txt").read_bytes()
    assert b"U-Boot 2015.01" in boot and b"MStar # " in boot  # the vendor build's own boot


def test_crc32_of_the_vendor_build_is_zlib_crc32(tmp_path):
    """The fact the whole verification rests on, on the vendor's own code."""
    image = random.Random(13).randbytes(16 << 20)
    (tmp_path / "flash.img").write_bytes(image)
    with vendor_build(tmp_path / "flash.img") as target:
        stop_at_prompt(target.port, b"MStar # ")
        t = Typist(target.port, b"MStar # ")
        try:
            t.answer(Step(b"sf probe\r"))
            t.answer(Step(b"sf read 21000000 1d0000 10000\r"))
            out = t.answer(Step(b"crc32 21000000 10000\r"))
        finally:
            t.close()
    want = zlib.crc32(image[0x1D0000:0x1E0000])
    assert b"CRC32 for 21000000 ... 2100ffff ==> %08x\r\n" % want in out
