"""The emulator against real U-Boots, command by command: the same seeded random command
lines typed into the vendor's own U-Boot 2015.01 (../shared/oracles/) and into
`uboot-emu --profile mstar`, and into Debian's U-Boot 2023.01 under QEMU and the mainline
profile; the answers (echo and prompt included) compared byte for byte.

The allowed differences are few, and each is here with its reason. Where the reference is
not the camera, the emulator is given the reference's *data* for the run (its command set,
flash probe line, default environment): the behaviour is what is compared.

More commands: DIFF_COMMANDS=3000 (or `./scripts/test -m slow`, which runs the campaign).
"""

from __future__ import annotations

import os
import random
import re
from dataclasses import replace
from pathlib import Path

import pytest

from emulator import Emulator
from emulator.profile import load
from tests.support.differential import Dialect, Step, Typist, commands, interrupted_md_lines
from tests.support.targets import qemu_uboot, stop_at_prompt, vendor_build

COMMANDS = int(os.environ.get("DIFF_COMMANDS", "320"))
VENDOR_WINDOW = (0x21000000, 0x21100000)
QEMU_WINDOW = (0x41000000, 0x41100000)

# The vendor build is U-Boot's sandbox board (its README): these are its data, not its code.
ORACLE_DATA = {
    "commands": (
        "the oracle has only the generic commands; MStar's own, networking and mmc are "
        "absent (oracle README)",
        tuple(
            "? base bootm cmp cp crc32 dcache env fatinfo fatload fatls fatsize go help icache "
            "loop md mm mw nm printenv reset run setenv sf version".split()
        ),
    ),
    "probe_lines": (
        "sf uses U-Boot's generic SPI flash driver, not MStar's (oracle README)",
        ("SF: Detected MX25L12805 with page size 256 Bytes, erase size 64 KiB, total 16 MiB",),
    ),
    "env": (
        "the oracle runs with its built-in default environment; the camera's comes from its "
        "flash sector",
        {
            "baudrate": "115200",
            "bootcmd": "sf probe 0;sf read 0x22000000 0x50000 0x180000;bootm 0x22000000",
            "bootdelay": "0",
            "stderr": "serial",
            "stdin": "serial",
            "stdout": "serial",
        },
    ),
    "env_size": (
        "CONFIG_ENV_IS_NOWHERE with CONFIG_ENV_SIZE 0x20000 in the sandbox config; the camera's "
        "environment is 0x1000 bytes in SPI flash",
        0x20000 - 4,
    ),
    "windows": ("flash is not memory-mapped in the oracle (oracle README)", ()),
    "watchdog_s": ("the oracle has no hardware watchdog (oracle README)", None),
}
VERSION = re.compile(
    rb"^\r\nU-Boot 2015\.01 \([A-Z][a-z]{2} [ \d]\d \d{4} - [\d:]{8}\)\r\n[^\r\n]+\r\n[^\r\n]+\r\n"
)


def version_normalised(answer: bytes) -> bytes | None:
    """The answer with the version text (after the echo) replaced; None if it has none."""
    echo, sep, rest = answer.partition(b"\r\n")
    body, n = VERSION.subn(b"<version>", rest)
    return echo + sep + body if n else None


# Not typed on QEMU: after `setenv baudrate N` (N supported) its pl011 console stops
# answering on the pty, as a real board's would until the terminal follows; and `cp` of
# overlapping ranges, which 2023.01 does with memcpy() (undefined for overlap; ARM's
# memcpy.S copies in blocks), where 2015.01 copies element by element forward.
NORMALISED = {
    "version": "the version text's compiler lines name the machine the oracle was built on",
    "interrupted md": "where Ctrl-C lands depends on timing: both must stop after whole lines, "
    "directly followed by the prompt, and agree on the lines both printed",
}
VENDOR_NAMES = tuple(
    "base cmp cp crc32 dcache env help icache md mw printenv setenv sf version".split()
)
QEMU_NAMES = tuple("base cmp cp crc32 echo env help md mw printenv setenv version".split())
# typed as unknown commands (`echo` and `loady` are the vendor build's notable absentees)
VENDOR_ABSENT = ("echo hello", "echo", "loady", "usb start", "mmc rescan", "foo bar", "MD 0")
QEMU_ABSENT = ("sf probe", "mmc rescan", "dcache", "foo bar", "MD 0")


def oracle_profile():
    p = load("mstar")
    data = {k: v for k, (_, v) in ORACLE_DATA.items()}
    flash = replace(p.flash, probe_lines=data.pop("probe_lines"))
    return p.with_(flash=flash, **data)


def compare(ref: Typist, emu: Typist, steps, prompt: bytes, versioned: bool) -> list[str]:
    """Type each step into both; the differences, described."""
    problems = []
    for n, step in enumerate(steps):
        a, b = ref.answer(step), emu.answer(step)
        if a == b:
            continue
        if step.kind == "interrupt_md":
            la, lb = interrupted_md_lines(a, prompt), interrupted_md_lines(b, prompt)
            if la is not None and lb is not None and la[: len(lb)] == lb[: len(la)]:
                continue
        elif versioned and version_normalised(a) not in (None, version_normalised(b)):
            pass
        elif versioned and version_normalised(a) is not None:
            continue
        problems.append(f"#{n} {step.text!r}\n  reference: {a[:400]!r}\n  emulator:  {b[:400]!r}")
    return problems


def flash_image(seed: int) -> bytes:
    r = random.Random(seed)
    image = bytearray(r.randbytes(16 << 20))
    image[0x800000:0x900000] = b"\xff" * 0x100000
    trap = b"MStar # => \r\n" * 20  # prompts in the data: never a prompt on the line
    image[0x10000 : 0x10000 + len(trap)] = trap
    return bytes(image)


def differ(
    ref_port: str,
    emu: Emulator,
    prompt: bytes,
    setup: list[Step],
    d: Dialect,
    seed: int,
    count: int,
    versioned: bool,
) -> list[str]:
    """The same setup and `count` seeded random lines into the reference and the emulator."""
    stop_at_prompt(ref_port, prompt)
    a, b = Typist(ref_port, prompt), Typist(emu.port, prompt)
    try:
        gen = commands(random.Random(seed), d)
        steps = setup + [next(gen) for _ in range(count)]
        return compare(a, b, steps, prompt, versioned)
    finally:
        a.close()
        b.close()


def run_vendor(tmp_path: Path, seed: int, count: int) -> list[str]:
    image = flash_image(seed)
    path = tmp_path / "flash.img"
    path.write_bytes(image)
    setup = [Step(b"sf probe\r"), Step(b"sf read %x 0 100000\r" % VENDOR_WINDOW[0])]
    d = Dialect(VENDOR_WINDOW, VENDOR_NAMES, True, VENDOR_ABSENT)
    with vendor_build(path) as ref, Emulator(image, oracle_profile(), at_prompt=True) as emu:
        return differ(ref.port, emu, b"MStar # ", setup, d, seed, count, versioned=True)


def run_qemu(tmp_path: Path, seed: int, count: int) -> list[str]:
    image = flash_image(seed)[: 4 << 20]
    path = tmp_path / "bank1.img"
    path.write_bytes(image)
    setup = [Step(b"cp.b 04000000 %x 100000\r" % QEMU_WINDOW[0])]
    d = Dialect(QEMU_WINDOW, QEMU_NAMES, False, QEMU_ABSENT, 512, False, False)
    with qemu_uboot("arm", path) as ref, Emulator(image, "mainline", at_prompt=True) as emu:
        return differ(ref.port, emu, b"=> ", setup, d, seed, count, versioned=False)


def report(problems: list[str]) -> str:
    return f"{len(problems)} differences:\n" + "\n".join(problems[:8])


def test_vendor_build_and_mstar_profile_agree(tmp_path):
    problems = run_vendor(tmp_path, 1, COMMANDS)
    assert not problems, report(problems)


def test_mainline_under_qemu_and_mainline_profile_agree(tmp_path):
    problems = run_qemu(tmp_path, 1, COMMANDS)
    assert not problems, report(problems)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(2, 7))
def test_differential_campaign(tmp_path, seed):
    problems = run_vendor(tmp_path, seed, 1500) + run_qemu(tmp_path, seed, 1500)
    assert not problems, report(problems)


def test_the_allowed_differences_are_few_and_explained():
    assert len(ORACLE_DATA) + len(NORMALISED) <= 8
    assert all(len(reason) > 30 for reason, _ in ORACLE_DATA.values())
