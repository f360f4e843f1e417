"""Run `uboot-dump` as a user would, in a child process."""

import contextlib
import shlex
import signal
import subprocess
import sys
from pathlib import Path
from typing import Iterator


def uboot_dump(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args], capture_output=True, timeout=timeout
    )


def one_error(
    r: subprocess.CompletedProcess, code: int, text: str = "", *, after_notes: bool = False
) -> str:
    """The run failed as the README promises: exit `code`, one error line (holding `text`)
    and no traceback; the only line on stderr, or with `after_notes` the last one, after
    notes the tool printed on the way."""
    err = r.stderr.decode() if isinstance(r.stderr, bytes) else r.stderr
    lines = err.splitlines()
    errors = [line for line in lines if line.startswith("uboot-dump: error: ")]
    assert r.returncode == code, err
    assert len(errors) == 1 and lines[-1] == errors[0], err
    assert after_notes or len(lines) == 1, err
    assert text in errors[0] and "Traceback" not in err, err
    return errors[0]


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


def power_switch_cmd(sock: Path | str) -> str:
    """The --power-cmd that switches an emulator started with `--control SOCK`."""
    return f"{shlex.quote(sys.executable)} -m emulator.control {shlex.quote(str(sock))} {{}}"
