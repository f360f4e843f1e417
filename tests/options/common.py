"""What the option rows share: a run of uboot-dump that must succeed, and its exit code."""

from __future__ import annotations

import subprocess
import sys


def ok(*args: str, cwd=None) -> subprocess.CompletedProcess:
    r = subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True,
                       timeout=120, cwd=cwd)  # fmt: skip
    assert r.returncode == 0, r.stderr.decode()
    return r


def code(r: subprocess.CompletedProcess) -> int:
    return r.returncode
