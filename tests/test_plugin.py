"""The plugin as a user runs it: `pytest -m hil --port PATH` against a uboot-emu started by
hand (standing in for a camera) runs the hil tests and skips emulator_only ones, with reason."""

import random
import signal
import subprocess
import sys

from tests.conftest import ROOT


def test_hil_suite_against_a_port_given_by_hand(tmp_path):
    image = tmp_path / "flash.bin"
    image.write_bytes(random.Random(1).randbytes(16 << 20))
    link = tmp_path / "ttyCAM"
    emu = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emulator.cli",
            "--image",
            str(image),
            "--baud",
            "0",
            "--at-prompt",
            "--link",
            str(link),
        ],
        stdout=subprocess.PIPE,
    )
    try:
        emu.stdout.readline()
        r = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-rs",
                "-p",
                "no:cacheprovider",
                "-m",
                "hil",
                "--port",
                str(link),
                str(ROOT / "tests" / "test_hil.py"),
            ],
            capture_output=True,
            timeout=300,
            cwd=ROOT,
        )
    finally:
        emu.send_signal(signal.SIGTERM)
        emu.wait(10)
    out = r.stdout.decode()
    assert r.returncode == 0, out[-2000:]
    assert "15 passed, 2 skipped" in out
    assert out.count("emulator_only: needs fault injection or power control") == 2
