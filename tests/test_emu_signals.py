"""uboot-emu ends on SIGTERM and SIGINT within a second in every state: switched off and
waiting to be switched on, booting, at its prompt, in the middle of a paced md."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from harness.link.transport import Transport

STATES = {
    "off, power-on pending": ["--power-on-after", "60"],
    "booting": ["--boot-window", "30"],
    "at the prompt": ["--at-prompt"],
    "in a paced md": ["--at-prompt"],
}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
@pytest.mark.parametrize("state", sorted(STATES))
def test_ends_within_a_second(tmp_path, state, sig):
    image = tmp_path / "flash.img"
    image.write_bytes(b"\xff" * (16 << 20))
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator.cli", "--image", str(image), "--baud", "115200",
         "--link", str(tmp_path / "port"), *STATES[state]],
        stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        proc.stdout.readline()
        if state == "in a paced md":
            t = Transport(str(tmp_path / "port"))
            t.write(b"md.b 20000000 100000\r")  # 1 MiB: minutes of output at 115200
            deadline = time.monotonic() + 10
            got = b""
            while b"20000100:" not in got and time.monotonic() < deadline:
                got += t.read(0.5)
            assert b"20000100:" in got
        t0 = time.monotonic()
        proc.send_signal(sig)
        assert proc.wait(5) == 0
        assert time.monotonic() - t0 < 1.0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
