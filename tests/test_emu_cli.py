"""`uboot-emu` as a program: its first line, its link, its signals, its errors."""

import os
import random
import signal
import subprocess
import sys

import pytest

from tests.support.termclient import Term

MSTAR = b"MStar # "


def start(*args):
    return subprocess.Popen(
        [sys.executable, "-m", "emulator.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.fixture(scope="module")
def image_path(tmp_path_factory):
    p = tmp_path_factory.mktemp("img") / "flash.bin"
    p.write_bytes(random.Random(9).randbytes(16 << 20))
    return p


def test_serves_a_pty_prints_its_path_links_and_stops_on_sigterm(tmp_path, image_path):
    link = tmp_path / "ttyCAM"
    proc = start(
        "--image",
        str(image_path),
        "--baud",
        "0",
        "--at-prompt",
        "--link",
        str(link),
        "--boot-window",
        "5",
    )
    try:
        path = proc.stdout.readline().decode().strip()
        assert path.startswith("/dev/pts/")
        assert os.path.realpath(link) == path
        t = Term(str(link))
        assert t.command("base", MSTAR) == b"base\r\nBase Address: 0x00000000\r\n" + MSTAR
        proc.send_signal(signal.SIGUSR1)  # power cycle: the camera boots again
        t.read_until(b"IPL gd156225", anywhere=True)
        out = bytearray()
        while not out.endswith(MSTAR):
            t.send(b"\r")
            out += t.s.read(4096)
        t.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    assert not link.exists()


def test_listen_serves_tcp(image_path):
    proc = start(
        "--image", str(image_path), "--baud", "0", "--at-prompt", "--listen", "127.0.0.1:0"
    )
    try:
        url = proc.stdout.readline().decode().strip()
        assert url.startswith("socket://127.0.0.1:")
        t = Term(url)
        assert t.command("base", MSTAR) == b"base\r\nBase Address: 0x00000000\r\n" + MSTAR
        t.close()
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0


@pytest.mark.parametrize(
    "args, message",
    [
        (["--image", "/nonexistent.bin"], "cannot read image"),
        (["--image", "{small}"], "exactly 16777216 bytes"),
        (["--image", "{good}", "--faults", "flip=7"], "rate must be in (0, 1]"),
        (["--image", "{good}", "--profile", "nosuch"], "unknown profile"),
        (["--image", "{good}", "--baud", "fast"], "invalid int value"),
        (["--image", "{good}", "--partitions", "x=5-1"], "ends before it starts"),
        (["--image", "{good}", "--sd", "/nonexistent.img"], "cannot open SD card image"),
        (["--image", "{good}", "--sd", "{small}"], "not a whole card"),
        ([], "--image"),
    ],
)
def test_bad_use_is_one_line_and_exit_2(tmp_path, image_path, args, message):
    small = tmp_path / "small.bin"
    small.write_bytes(b"\xff" * 1024)
    args = [a.format(small=small, good=image_path) for a in args]
    proc = start(*args)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    lines = err.decode().splitlines()
    assert len(lines) == 1 and message in lines[0], err
    assert out == b""


def test_relay_puts_the_emulated_line_in_front_of_another_console(image_path, tmp_path):
    from emulator import Emulator

    with Emulator(image_path.read_bytes(), "mstar", at_prompt=True) as camera:
        proc = start("--relay", camera.port, "--baud", "0", "--faults", "in-drop@1")
        try:
            t = Term(proc.stdout.readline().decode().strip())
            assert t.command("bxase", MSTAR) == b"base\r\nBase Address: 0x00000000\r\n" + MSTAR
            t.close()
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(10) == 0


def test_image_or_relay_and_a_valid_watchdog():
    for args in ([], ["--image", "x", "--relay", "y"], ["--image", "x", "--watchdog", "-1"]):
        r = subprocess.run(
            [sys.executable, "-m", "emulator.cli", *args], capture_output=True, timeout=30
        )
        assert r.returncode == 2 and len(r.stderr.decode().splitlines()) == 1
