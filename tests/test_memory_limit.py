"""The suite's memory bound (tests/conftest.py: no test process above 512 MiB resident)
fails a run that breaks it, naming the test."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_a_test_that_takes_600_mib_fails_the_run(tmp_path):
    (tmp_path / "test_big.py").write_text(
        "def test_big():\n"
        "    block = bytearray(600 << 20)\n"
        "    block[::4096] = b'x' * len(block[::4096])  # every page touched\n"
    )
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.conftest",
         "--rootdir", str(tmp_path), str(tmp_path / "test_big.py")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 1, r.stdout + r.stderr
    assert "memory: a test process reached" in r.stderr and "test_big" in r.stderr
