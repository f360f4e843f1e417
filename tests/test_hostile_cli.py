"""Hostile arguments, logs and files (issue 13, items 3, 5, 6 and 7): one line, the documented
exit code, no traceback, nothing written under a final name, no input replaced."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time

import pytest

from emulator import Emulator
from tests.conftest import FIXTURES
from tests.support.camera import FIXTURE_TREES, mkfs
from tests.support.run_cli import one_error, uboot_dump

LOG = FIXTURES / "logs" / "community-rootfs-head.log"


# -- item 3: parse-log writes nothing unless every byte is there --------------------------
def log_lines() -> list[bytes]:
    return LOG.read_bytes().split(b"\n")


@pytest.mark.parametrize(
    "case",
    ["all-damaged", "last-cut", "last-damaged", "start-beyond", "length-0", "huge-length",
     "huge-addresses"],
)  # fmt: skip
def test_parse_log_refuses_missing_data(tmp_path, case):
    lines = log_lines()
    md = [i for i, x in enumerate(lines) if x[:9].endswith(b":") and x[:8].isalnum()]
    args: list[str] = []
    if case == "all-damaged":
        for i in md:
            lines[i] = lines[i][:20] + b"zz" + lines[i][22:]
    elif case == "last-cut":
        lines[md[-1]] = lines[md[-1]][:30]
    elif case == "last-damaged":
        lines[md[-1]] = lines[md[-1]].replace(b" ", b"x", 3)
    elif case == "start-beyond":
        args = ["--start", "0x30000000"]
    elif case == "length-0":
        args = ["--length", "0"]
    elif case == "huge-length":
        args = ["--length", "0x100000000000"]
    else:
        lines = [
            b"0000000000000000: 00000000 00000000 00000000 00000000    ................",
            b"fffffffffffffff0: 00000000 00000000 00000000 00000000    ................",
        ]
    log = tmp_path / "in.log"
    log.write_bytes(b"\n".join(lines))
    t0 = time.monotonic()
    r = uboot_dump("parse-log", str(log), "-o", str(tmp_path / "out.bin"), *args, timeout=30)
    assert time.monotonic() - t0 < 10
    one_error(r, 2)
    assert not (tmp_path / "out.bin").exists()


# -- item 5: no output replaces an input or an existing file ------------------------------
@pytest.fixture(scope="module")
def image(tmp_path_factory):
    return mkfs(FIXTURE_TREES / "rootfs", tmp_path_factory.mktemp("i") / "rootfs.jffs2")


def test_clean_never_writes_over_its_input(tmp_path, image):
    sys_img = tmp_path / "sys_y203c"
    sys_img.write_bytes(image)
    for extra in ([], ["--force"]):
        r = uboot_dump("jffs2", "clean", str(sys_img), "-o", str(sys_img), *extra)
        one_error(r, 2, "is the input")
    assert sys_img.read_bytes() == image  # the backup, back.bin and all, is untouched


@pytest.mark.parametrize("command", ["swap", "parse-log", "repack", "clean"])
def test_existing_outputs_need_force(tmp_path, image, command):
    out = tmp_path / "out"
    out.write_bytes(b"precious")
    src = tmp_path / "in"
    src.write_bytes(image if command != "parse-log" else LOG.read_bytes())
    args = {
        "swap": ["swap", str(src), str(out)],
        "parse-log": ["parse-log", str(src), "-o", str(out)],
        "repack": ["jffs2", "repack", str(FIXTURE_TREES / "rootfs"), "-o", str(out),
                   "--partition-size", "0x1e0000"],
        "clean": ["jffs2", "clean", str(src), "-o", str(out)],
    }[command]  # fmt: skip
    one_error(uboot_dump(*args), 2, "exists")
    assert out.read_bytes() == b"precious"
    r = uboot_dump(*args, "--force")
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() != b"precious"


def test_uboot_emu_link_never_deletes_a_file(tmp_path, image):
    flash = tmp_path / "flash.bin"
    flash.write_bytes(bytes(16 << 20))
    precious = tmp_path / "notes.txt"
    precious.write_text("mine")
    r = subprocess.run(
        [sys.executable, "-m", "emulator.cli", "--image", str(flash), "--link", str(precious)],
        capture_output=True, timeout=30,
    )  # fmt: skip
    assert r.returncode == 2 and b"is not a link" in r.stderr
    assert precious.read_text() == "mine"


# -- item 6: arguments checked before anything is opened -----------------------------------
READ = ["read-mem", "--port", "/dev/nonexistent-port", "--start", "0x21000000"]


@pytest.mark.parametrize(
    "args, text",
    [
        (READ + ["--length", "16", "--baud", "99999999999"], "--baud"),
        (READ + ["--length", "16", "--chunk", "0"], "--chunk"),
        (READ + ["--length", "16", "--chunk", "17"], "multiple of 16"),
        (READ + ["--length", "16", "--chunk", "32M"], "--chunk"),
        (READ + ["--length", "16", "--timeout", "0"], "--timeout"),
        (READ + ["--length", "16", "--timeout", "-1"], "--timeout"),
        (READ + ["--length", "16", "--timeout", "nan"], "--timeout"),
        (READ + ["--length", "16", "--timeout", "inf"], "--timeout"),
        (READ + ["--length", "1e0000"], "looks like hex"),
        (["read-mem", "--port", "x", "--start", "21000000", "--length", "16"], "with 0x"),
        (["backup", "--port", "x", "--model", "y203c", "--chunk", "0", "-o", "b"], "--chunk"),
        (["backup", "--port", "x", "--model", "y203c", "--power-timeout", "nan", "-o", "b"],
         "--power-timeout"),
    ],
)  # fmt: skip
def test_bad_arguments_are_one_line_before_the_port(tmp_path, args, text):
    if "-o" not in args:
        args = args + ["-o", str(tmp_path / "out.bin")]
    one_error(uboot_dump(*args), 2, text)


@pytest.mark.parametrize("output", [".", "", "/", "some/missing/dir/x.bin"])
def test_output_names_that_are_no_file(tmp_path, output):
    r = uboot_dump(*READ, "--length", "16", "-o", output)
    one_error(r, 2)


def test_output_exists_is_said_before_connecting(tmp_path):
    out = tmp_path / "x.bin"
    out.write_bytes(b"x")
    one_error(uboot_dump(*READ, "--length", "16", "-o", str(out)), 2, "exists")  # not exit 3


def test_uboot_emu_listen_and_baud_ranges(tmp_path):
    flash = tmp_path / "flash.bin"
    flash.write_bytes(bytes(16 << 20))
    for args in (["--listen", "127.0.0.1:99999"], ["--baud", "99999999999"]):
        r = subprocess.run(
            [sys.executable, "-m", "emulator.cli", "--image", str(flash), *args],
            capture_output=True, timeout=30,
        )  # fmt: skip
        assert r.returncode == 2 and len(r.stderr.decode().splitlines()) == 1, r.stderr


# -- journals and partial files (items 6 and 7) ------------------------------------------------
@pytest.fixture
def interrupted(tmp_path):
    """A read-mem interrupted after two of four chunks: (emulator, output, argv)."""
    image = random.Random(5).randbytes(16 << 20)
    emu = Emulator(image, "mstar", at_prompt=True).start()
    out = tmp_path / "x.bin"
    argv = ["read-mem", "--port", emu.port, "--start", "0x21000000", "--length", "0x1000",
            "--chunk", "0x400", "-o", str(out)]  # fmt: skip
    assert uboot_dump(*argv).returncode == 0
    data = out.read_bytes()
    out.unlink()
    out.with_name("x.bin.part").write_bytes(data[:0x800])
    header = {"version": 1, "start": 0x21000000, "length": 0x1000, "chunk": 0x400}
    import zlib

    entries = [
        {"offset": o, "length": 0x400, "crc": zlib.crc32(data[o : o + 0x400]), "skipped": False}
        for o in (0, 0x400)
    ]
    journal = out.with_name("x.bin.journal")
    journal.write_text("".join(json.dumps(x) + "\n" for x in [header, *entries]))
    yield emu, out, argv, journal
    emu.stop()


def test_a_resume_after_an_interruption_works(interrupted):
    emu, out, argv, _ = interrupted
    r = uboot_dump(*argv, "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["resumed_from"] == 0x800


def test_a_journal_with_a_float_length_is_damage_not_a_traceback(interrupted):
    emu, out, argv, journal = interrupted
    lines = journal.read_text().splitlines()
    lines[1] = lines[1].replace('"length": 1024', '"length": 1024.5')
    journal.write_text("\n".join(lines) + "\n")
    one_error(uboot_dump(*argv), 8, "journal")
    assert not out.exists()


def test_a_damaged_part_file_is_said_as_such(interrupted):
    emu, out, argv, journal = interrupted
    part = out.with_name("x.bin.part")
    data = bytearray(part.read_bytes())
    data[5] ^= 1
    part.write_bytes(bytes(data))
    line = one_error(uboot_dump(*argv), 8, "does not match its journal")
    assert "memory changed" not in line


# -- item 7: messages ----------------------------------------------------------------------
def test_wrong_endian_is_said_not_line_noise(tmp_path):
    with Emulator(random.Random(6).randbytes(16 << 20), "mstar", at_prompt=True) as emu:
        r = uboot_dump(*READ[:2], emu.port, "--start", "0x21000000", "--length", "0x400",
                       "--endian", "big", "-o", str(tmp_path / "x.bin"))  # fmt: skip
    one_error(r, 2, "not --endian big")


def test_a_full_disk_names_the_output_not_a_temp_file(tmp_path):
    """RLIMIT_FSIZE makes the write fail as a full disk would."""
    import resource
    import signal as sig

    def small_files():
        sig.signal(sig.SIGXFSZ, sig.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))

    big = tmp_path / "big.img"
    big.write_bytes(os.urandom(4096))
    r = subprocess.run(
        [sys.executable, "-m", "harness.cli", "swap", str(big), str(tmp_path / "out.img")],
        capture_output=True, timeout=30, preexec_fn=small_files,
    )  # fmt: skip
    line = one_error(r, 12, str(tmp_path / "out.img"))
    assert ".tmp" not in line and not (tmp_path / "out.img").exists()
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))
