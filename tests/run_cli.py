"""Run `uboot-dump` as a user would, in a child process."""

import contextlib
import signal
import subprocess
import sys
from pathlib import Path
from typing import Iterator


def uboot_dump(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args], capture_output=True, timeout=timeout
    )


def one_error(r: subprocess.CompletedProcess, code: int, text: str = "") -> str:
    """The run failed as the README promises: exit `code`, exactly one line on stderr, the
    tool's error line (holding `text`), no traceback."""
    err = r.stderr.decode() if isinstance(r.stderr, bytes) else r.stderr
    lines = err.splitlines()
    assert r.returncode == code, err
    assert len(lines) == 1 and lines[0].startswith("uboot-dump: error: "), err
    assert text in lines[0] and "Traceback" not in err, err
    return lines[0]


@contextlib.contextmanager
def uboot_emu(image: Path, link: Path, *args: str) -> Iterator[subprocess.Popen]:
    """`uboot-emu --image IMAGE --link LINK ARGS` as its own process, until SIGTERM (exit 0)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator.cli", "--image", str(image), "--link", str(link), *args],
        stdout=subprocess.PIPE,
    )
    try:
        proc.stdout.readline()  # the pty's path: the port is there
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
