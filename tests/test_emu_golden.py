"""The mainline profile reproduces every capture of the real U-Boot 2023.01 byte for byte."""

import re

import pytest

from tests.conftest import CAPTURES
from tests.support.termclient import Term

PROMPT = b"=> "

# capture file -> the command lines typed before it (earlier lines' output is not compared)
SIMPLE = {
    "md_l": "md.l 0x04000000 0x40",
    "md_default": "md 0x04000100",
    "md_b": "md.b 0x04000000 0x30",
    "md_w": "md.w 0x04000000 0x18",
    "md_l_unaligned_count": "md.l 0x04000000 0x6",
    "md_b_partial": "md.b 0x04000100 0x13",
    "crc32": "crc32 0x04000000 0x400",
    "crc32_small": "crc32 0x04000000 0x1",
    "unknown": "foo bar",
    "sf_missing": "sf probe",
    "help_md": "help md",
    "help_crc32": "help crc32",
    "printenv_baud": "printenv baudrate",
    "version": "version",
    "long_line": "echo " + "x" * 300,
}


def expected(name: str) -> bytes:
    return (CAPTURES / f"{name}.bin").read_bytes()


@pytest.fixture
def term(emulator, golden_image):
    emu = emulator(golden_image, "mainline", at_prompt=True)
    t = Term(emu.port)
    yield t
    t.close()


@pytest.mark.parametrize("name", sorted(SIMPLE))
def test_capture(term, name):
    assert term.command(SIMPLE[name], PROMPT) == expected(name)


def test_md_repeat_on_empty_line(term):
    term.command("md 0x04000100", PROMPT)
    assert term.command("", PROMPT) == expected("md_repeat")


def test_setenv_baudrate_then_empty_line(term):
    out = term.command("setenv baudrate 115200", PROMPT)
    out += term.command("", PROMPT)  # setenv is not repeatable: just a new prompt
    assert out == expected("setenv_baud")


def test_cp_crc32_md_on_ram(term):
    assert term.command("cp.b 0x04000000 0x41000000 0x400", PROMPT) == expected("cp_then_crc")
    assert term.command("crc32 0x41000000 0x400", PROMPT) == expected("crc32_ram")
    assert term.command("md.l 0x41000000 0x8", PROMPT) == expected("md_ram")


def test_ctrl_c_stops_md_after_a_whole_line(emulator, golden_image):
    emu = emulator(golden_image, "mainline", at_prompt=True, baud=115200)
    term = Term(emu.port)
    term.send(b"md.l 0x04000000 0x100000\r")
    out = term.read_until(b"04001000: ", anywhere=True)
    term.send(b"\x03")
    out += term.read_until(PROMPT)
    tail, want = out[-300:], expected("md_ctrl_c")
    # Where it stops depends on timing; everything but the addresses must match.
    addr = re.compile(rb"[0-9a-f]{8}: ")
    assert addr.sub(b"ADDR: ", tail) == addr.sub(b"ADDR: ", want)
    # and the console is usable again, the interrupt eaten by md, not by the line editor
    assert term.command("crc32 0x04000000 0x400", PROMPT) == expected("crc32")
