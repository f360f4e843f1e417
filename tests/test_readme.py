"""Every command line in the README runs: each `uboot-dump` example is run as written, in
README order, against an emulated camera (ports, card mount points and the user's file
names stand for real ones: see SUBSTITUTE); the `uboot-emu` lines name only options it has;
the test, benchmark, tox and script lines name things that exist. The python sample is
tests/test_hil_sample.py itself (test_plugin) and runs against every target (test_hil_targets)."""

from __future__ import annotations

import configparser
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from harness.jffs2.nodes import swap_words
from tests.conftest import FIXTURES, ROOT
from tests.support import sdcards
from tests.support.camera import FIXTURE_TREES, HOME, ROOTFS, flash_from_trees

README = (ROOT / "README.md").read_text()


def code_lines(lang: str = "sh") -> list[str]:
    """The command lines of the README's code blocks (comments dropped, continuations joined)."""
    out = []
    for m in re.finditer(r"^( *)```(\w*)\n(.*?)^\1```", README, re.M | re.S):
        if m.group(2) != lang:
            continue
        text = re.sub(r"\n\s+(?=\[|--)", " ", m.group(3))  # uboot-emu's wrapped usage
        for line in text.splitlines():
            line = re.split(r"\s#", line)[0].strip()
            if line:
                out.append(line)
    return out


def test_the_readme_has_the_examples_this_file_runs():
    lines = code_lines()
    assert sum(line.startswith("uboot-dump ") for line in lines) >= 14
    assert any(line.startswith("uboot-emu ") for line in lines)


# -- uboot-dump: run, in README order --------------------------------------------------------
PORTS = re.compile(r"(?<=--port )(\S+)")


def substitute(line: str, port: str, card_dir: Path) -> list[str]:
    """A README line as it runs here: optional parts taken ([--partitions all] is given),
    every port the emulated camera's, the card's mount point a directory."""
    line = re.sub(r"\[(--partitions all)\]", r"\1", line)
    line = re.sub(r" \[[^\]]*\]", "", line)  # [--start ADDR] [--length LEN]: defaults
    line = PORTS.sub(port, line)
    line = line.replace("/media/$USER/CARD", str(card_dir))
    return shlex.split(line)[1:]


@pytest.fixture(scope="module")
def camera_flash(tmp_path_factory):
    return flash_from_trees(tmp_path_factory.mktemp("flash"), FIXTURE_TREES / "rootfs",
                            FIXTURE_TREES / "home")  # fmt: skip


def test_every_uboot_dump_example_runs(emulator, camera_flash, tmp_path):
    work = tmp_path / "user"
    work.mkdir()
    card_dir = tmp_path / "CARD"
    card_dir.mkdir()
    card = sdcards.make_card(tmp_path / "card.img")
    # the files a user of the offline examples has: a terminal log and a community image
    (work / "putty.log").write_bytes((FIXTURES / "logs" / "community-rootfs-head.log").read_bytes())
    sys_image = camera_flash[ROOTFS[0] : sum(ROOTFS)]
    (work / "sys_y203c.img").write_bytes(swap_words(sys_image))
    emu = emulator(camera_flash, "mstar", at_prompt=True, writable=True)
    ran = []
    for line in code_lines():
        if not line.startswith("uboot-dump "):
            continue
        args = substitute(line, emu.port, card_dir)
        command = args[0] if args[0] != "jffs2" else " ".join(args[:2])
        if command == "backup" and "--via" in args:  # the card goes into the camera first
            (work / "backup").mkdir(exist_ok=True)
            sdcards.mcopy(card, card_dir / "UBDUMP.BIN", "UBDUMP.BIN")
            emu = emulator(camera_flash, "mstar", at_prompt=True, sd=card, writable=True)
            args = substitute(line, emu.port, card_dir)
        if command == "restore" and "--via" in args:  # the staged file goes into the camera
            sdcards.mcopy(card, card_dir / "UBRESTOR.BIN", "UBRESTOR.BIN")
        if command == "sd-collect":  # and back into the PC
            (card_dir / "UBDUMP.BIN").write_bytes(sdcards.mread(card, "UBDUMP.BIN"))
        if command == "parse-log" or command == "swap":
            for name in ("rootfs.bin", "sys_y203c"):  # earlier examples made these names
                if (work / name).exists():
                    os.replace(work / name, work / f"{name}.earlier")
        if command == "jffs2 inspect":
            (work / "sys_y203c").write_bytes(sys_image)
        r = subprocess.run([sys.executable, "-m", "harness.cli", *args], cwd=work,
                           capture_output=True, timeout=300)  # fmt: skip
        assert r.returncode == 0, f"{line}\n{r.stderr.decode()}"
        ran.append(command)
    assert (work / "backup" / "sys_y203c").read_bytes() == sys_image
    assert (work / "backup" / "home_y203c").read_bytes() == camera_flash[HOME[0] : sum(HOME)]
    assert (work / "sys_y203c").read_bytes() == sys_image  # swap undid the community order
    assert sorted(set(ran)) == sorted([
        "backup", "sd-prepare", "sd-collect", "read-mem", "parse-log", "swap",
        "jffs2 inspect", "jffs2 unpack", "jffs2 repack", "jffs2 clean", "verify", "restore",
    ])  # fmt: skip
    # the last restore put the repacked ROOTFS on the camera: the flash holds it now
    new = (work / "sys_y203c.new").read_bytes()
    assert bytes(emu.flash.data[ROOTFS[0] : ROOTFS[0] + len(new)]) == new


def test_uboot_emu_lines_name_its_options():
    helps = subprocess.run([sys.executable, "-m", "emulator.cli", "--help"], capture_output=True,
                           text=True, check=True).stdout  # fmt: skip
    lines = [line for line in code_lines() if line.startswith("uboot-emu ")]
    assert lines
    for line in lines:
        for option in re.findall(r"--[a-z][a-z0-9-]*", line):
            assert option in helps, f"{option} (README: {line})"


def test_test_benchmark_tox_and_script_lines_name_what_exists():
    envs = configparser.ConfigParser(interpolation=None)
    envs.read(ROOT / "tox.ini")
    names = {s.split(":", 1)[1] for s in envs.sections() if s.startswith("testenv:")}
    expanded = set()
    for n in names:
        m = re.fullmatch(r"(.*)\{(.*)\}", n)
        expanded |= {m.group(1) + x for x in m.group(2).split(",")} if m else {n}
    checked = 0
    for line in code_lines():
        words = shlex.split(re.sub(r"\[[^\]]*\]", "", line))
        words = [w for w in words if "=" not in w or w.startswith("-")]  # VAR=value prefixes
        if words[0] == "tox":
            for env in words[words.index("-e") + 1].split(","):
                assert env in expanded, f"tox env {env} (README: {line})"
            checked += 1
        elif words[0].startswith("./scripts/"):
            assert os.access(ROOT / words[0], os.X_OK), line
            checked += 1
        elif "-m" in words and words[0].endswith("python"):
            module = words[words.index("-m") + 1]
            assert (ROOT / (module.replace(".", "/") + ".py")).exists(), line
            checked += 1
        elif words[0].endswith("pytest"):
            checked += 1  # run as written by test_plugin and test_hil_targets
    assert checked >= 15


def test_benchmarks_named_in_the_readme_start(tmp_path):
    """Each benchmark module the README names imports and has a main (running them is the
    benchmarks' own command; `bench_read_mem --quick` is run by the slow campaign)."""
    for line in code_lines():
        m = re.search(r"-m (benchmarks\.\w+)", line)
        if m:
            r = subprocess.run([sys.executable, "-c", f"import {m.group(1)} as b; b.main"],
                               cwd=ROOT, capture_output=True)  # fmt: skip
            assert r.returncode == 0, r.stderr.decode()
