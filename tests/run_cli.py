"""Run `uboot-dump` as a user would, in a child process."""

import subprocess
import sys


def uboot_dump(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args], capture_output=True, timeout=timeout
    )
