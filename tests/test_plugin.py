"""The plugin as a user runs it: `pytest -m hil --port PATH` against a uboot-emu started by
hand (standing in for a camera) runs the hil tests and skips emulator_only ones, with reason."""

import random
import subprocess
import sys

from tests.conftest import ROOT
from tests.run_cli import uboot_emu


def test_hil_suite_against_a_port_given_by_hand(tmp_path):
    image = tmp_path / "flash.bin"
    image.write_bytes(random.Random(1).randbytes(16 << 20))
    link = tmp_path / "ttyCAM"
    with uboot_emu(image, link, "--baud", "0", "--at-prompt"):
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
    out = r.stdout.decode()
    assert r.returncode == 0, out[-2000:]
    assert "15 passed, 2 skipped" in out
    assert out.count("emulator_only: needs fault injection or power control") == 2
