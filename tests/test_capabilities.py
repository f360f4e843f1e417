"""What the target offers decides how it is read: no crc32 means every line is read twice,
no md or no sf ends with one line naming the missing command (exit 11)."""

import random

import pytest

from emulator import Emulator
from emulator.profile import load
from harness.console.session import Console
from harness.link.transport import Transport
from harness.read.reader import MemoryReader
from tests.support.run_cli import uboot_dump

RAM = 0x21000000
ALL = load("mstar").command_table  # the vendor build's table, every command


def without(*names: str):
    p = load("mstar")
    from emulator.uboot.commands import load_table

    return p.with_(commands=tuple(n for n in load_table(ALL) if n not in names))


@pytest.fixture(scope="module")
def image():
    return random.Random(21).randbytes(16 << 20)


def test_capabilities_come_from_help_once_per_session(image):
    with Emulator(image, "mstar", at_prompt=True) as emu:
        t = Transport(emu.port)
        try:
            c = Console(t)
            c.sync()
            caps = c.capabilities()
            assert {"md", "crc32", "sf", "mmc", "cp"} <= caps.commands
            assert "echo" not in caps.commands and "loady" not in caps.commands
            assert caps.md_widths == "bwl"
            sent = []
            real = t.write
            t.write = lambda data: (sent.append(data), real(data))
            assert c.capabilities() is caps and sent == []  # cached: nothing typed again
            t.write = real
        finally:
            t.close()


@pytest.mark.parametrize("faults", ["", "flip=2e-4,drop=1e-4"])
def test_without_crc32_every_line_is_read_twice(image, tmp_path, faults):
    data = random.Random(22).randbytes(0x3000) + bytes(range(4)) * 0x100  # 0x01 vs 0x03: '.'
    with Emulator(image, without("crc32"), at_prompt=True, faults=faults, seed=4) as emu:
        emu.board.target.memory.write(RAM, data)
        t = Transport(emu.port)
        try:
            c = Console(t, quiet=0.2)
            c.sync()
            r = MemoryReader(c, chunk=0x1000)
            stats = r.read_to_file(RAM, len(data), tmp_path / "out.bin")
        finally:
            t.close()
    assert (tmp_path / "out.bin").read_bytes() == data
    assert stats.check == "double-md" and stats.mds >= 2 * (len(data) // 0x1000)


def test_without_crc32_the_cli_says_which_check_was_used(image, tmp_path):
    with Emulator(image, without("crc32"), at_prompt=True) as emu:
        r = uboot_dump(
            "read-mem",
            "--port",
            emu.port,
            "--start",
            "0x21000000",
            "--length",
            "0x400",
            "-o",
            str(tmp_path / "a.bin"),
        )
    assert r.returncode == 0, r.stderr
    assert b"no crc32 on the target: every line read twice" in r.stdout


@pytest.mark.parametrize(
    "missing, args, why",
    [
        ("md", ["read-mem", "--start", "0x21000000", "--length", "0x100"], "reads memory"),
        ("sf", ["backup", "--model", "y203c", "--power-timeout", "10"], "SPI flash"),
    ],
)
def test_a_missing_md_or_sf_ends_with_one_line(image, tmp_path, missing, args, why):
    with Emulator(image, without(missing), at_prompt=True) as emu:
        r = uboot_dump(*args[:1], "--port", emu.port, *args[1:], "-o", str(tmp_path / "o"))
    err = r.stderr.decode().splitlines()
    errors = [line for line in err if line.startswith("uboot-dump: error:")]
    assert r.returncode == 11 and len(errors) == 1 and errors[0] == err[-1], err
    assert f"has no `{missing}` command" in errors[0] and why in errors[0]
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").glob("*_y203c"))


@pytest.mark.parametrize("profile, crc32", [("mstar", True), (None, False)])
def test_read_mem_asks_only_about_what_it_needs(image, tmp_path, profile, crc32):
    """read-mem asks `help md` and `help crc32`, not for the whole list (thousands of
    characters at 115200); a build without crc32 answers `Unknown command`, and every line
    is read twice."""
    with Emulator(image, profile or without("crc32"), at_prompt=True) as emu:
        log = tmp_path / "session.log"
        r = uboot_dump("read-mem", "--port", emu.port, "--start", "0x14000000", "--length",
                       "0x400", "-o", str(tmp_path / "x.bin"), "--log", str(log),
                       "--json")  # fmt: skip
    assert r.returncode == 0, r.stderr
    text = log.read_bytes()
    assert b"help md\r" in text and b"help crc32\r" in text
    assert b"help\r" not in text.replace(b"help md\r", b"").replace(b"help crc32\r", b"")
    assert (b"Unknown command 'crc32'" in text) is not crc32
    assert (tmp_path / "x.bin").read_bytes() == image[:0x400]
    assert __import__("json").loads(r.stdout)["check"] == ("crc32" if crc32 else "double-md")
