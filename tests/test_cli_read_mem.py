"""`uboot-dump read-mem` as a user runs it: summary, JSON, and one-line errors with their codes."""

import json
import random

import pytest

from tests.support.run_cli import one_error, uboot_dump

RAM = 0x21000000


@pytest.fixture(scope="module")
def image():
    return random.Random(8).randbytes(16 << 20)


def test_summary_and_json(emulator, image, tmp_path):
    emu = emulator(image, "mstar", at_prompt=True)
    out = tmp_path / "m.bin"
    r = uboot_dump(
        "read-mem", "--port", emu.port, "--start", "0x21000000", "--length", "8K", "-o", str(out)
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().startswith("read 8192 bytes from 0x21000000 in ")
    assert out.read_bytes() == emu.board.target.memory.read(RAM, 8192)
    r = uboot_dump(
        "read-mem",
        "--port",
        emu.port,
        "--start",
        "0x21000000",
        "--length",
        "0x100",
        "-o",
        str(tmp_path / "j.bin"),
        "--json",
    )
    summary = json.loads(r.stdout)
    assert summary["bytes"] == 0x100 and summary["erased_chunks_skipped"] == 0


def test_port_cannot_be_opened(tmp_path):
    r = uboot_dump(
        "read-mem",
        "--port",
        "/dev/nonexistent-tty",
        "--start",
        "0",
        "--length",
        "16",
        "-o",
        str(tmp_path / "x"),
    )
    one_error(r, 3, "cannot open /dev/nonexistent-tty")


def test_wrong_prompt(emulator, image, tmp_path):
    emu = emulator(image, "mstar", at_prompt=True)
    r = uboot_dump(
        "read-mem",
        "--port",
        emu.port,
        "--prompt",
        "=> ",
        "--timeout",
        "1",
        "--start",
        "0x21000000",
        "--length",
        "16",
        "-o",
        str(tmp_path / "x"),
    )
    one_error(r, 4, "the console's prompt is 'MStar # ', not '=> ' (--prompt)")


@pytest.mark.parametrize(
    "args, text",
    [
        (["--start", "zz", "--length", "16"], "--start"),
        (["--start", "0", "--length", "0"], "--length must be more than 0"),
        (["--start", "0", "--length", "16", "--chunk", "17"], "multiple of 16"),
    ],
)
def test_bad_arguments(tmp_path, args, text):
    r = uboot_dump("read-mem", "--port", "/dev/null", *args, "-o", str(tmp_path / "x"))
    one_error(r, 2, text)


def test_existing_output_is_not_overwritten(emulator, image, tmp_path):
    emu = emulator(image, "mstar", at_prompt=True)
    out = tmp_path / "exists.bin"
    out.write_bytes(b"keep")
    r = uboot_dump(
        "read-mem", "--port", emu.port, "--start", "0x21000000", "--length", "16", "-o", str(out)
    )
    one_error(r, 2, "exists")
    assert out.read_bytes() == b"keep"


@pytest.mark.parametrize(
    "faults, code, text",
    [("reset@40000", 5, "reset"), ("disconnect@40000:30", 6, "/dev/pts/")],
)
def test_target_reset_or_adapter_gone_keeps_state_for_resume(
    emulator, image, tmp_path, faults, code, text
):
    emu = emulator(image, "mstar", at_prompt=True, faults=faults, boot_window=0.1)
    out = tmp_path / "r.bin"
    r = uboot_dump(
        "read-mem",
        "--port",
        emu.port,
        "--start",
        "0x21000000",
        "--length",
        "0x4000",
        "--chunk",
        "0x1000",
        "-o",
        str(out),
    )
    one_error(r, code, text)
    assert not out.exists()
    assert (tmp_path / "r.bin.journal").exists() and (tmp_path / "r.bin.part").exists()
