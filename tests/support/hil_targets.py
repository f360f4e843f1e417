"""Start a target and run `pytest -m hil --uboot-port PORT` against it, as a user would with a
camera; one command per target (tox has an env for each):

    python -m tests.support.hil_targets TARGET [PYTEST ARGS]
    (TARGET: qemu-arm, qemu-arm64, vendor, emu-mstar, emu-sigmastar, emu-mainline)

The QEMU targets need qemu-system-arm and u-boot-qemu, the vendor build needs ../shared and
libc6-i386 (scripts/setup installs the packages); without them it says so and exits 0 with
nothing run only if --allow-missing is given, else 4.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterator, Optional

from tests.support.targets import (
    ROOT,
    qemu_skip_reason,
    qemu_uboot,
    stop_at_prompt,
    vendor_build,
    vendor_skip_reason,
)

TARGETS = ("qemu-arm", "qemu-arm64", "vendor", "emu-mstar", "emu-sigmastar", "emu-mainline")


def missing(name: str) -> Optional[str]:
    if name.startswith("qemu-"):
        return qemu_skip_reason(name.split("-", 1)[1])
    if name == "vendor":
        return vendor_skip_reason()
    return None


@contextlib.contextmanager
def started(name: str, work: Path) -> Iterator[str]:
    """The target running, stopped at its prompt; yields its port."""
    flash = work / "flash.img"
    if name.startswith("qemu-"):
        flash.write_bytes(random.Random(12).randbytes(1 << 20))
        with qemu_uboot(name.split("-", 1)[1], flash) as t:
            stop_at_prompt(t.port, b"=> ")
            yield t.port
    elif name == "vendor":
        flash.write_bytes(random.Random(11).randbytes(16 << 20))
        with vendor_build(flash) as t:
            stop_at_prompt(t.port, b"MStar # ")
            yield t.port
    else:
        profile = name.split("-", 1)[1]
        size = 0x20000 if profile == "mainline" else 16 << 20
        flash.write_bytes(random.Random(13).randbytes(size))
        link = work / "tty"
        argv = [sys.executable, "-m", "emulator.cli", "--image", str(flash), "--profile"]
        argv += [profile, "--link", str(link), "--at-prompt", "--baud", "0"]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, cwd=ROOT)
        try:
            assert proc.stdout is not None
            proc.stdout.readline()
            yield str(link)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)


def run(
    name: str, pytest_args: list[str], *, model: Optional[str] = None
) -> subprocess.CompletedProcess:
    """pytest -m hil against the target, from a directory outside the project (as a user
    runs it from anywhere), the port given with a space."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:/usr/sbin:{os.environ['PATH']}")
    env.pop("UBOOT_PORT", None)
    with tempfile.TemporaryDirectory() as d, started(name, Path(d)) as port:
        argv = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider"]
        argv += ["-m", "hil", "--uboot-port", port]
        if model:
            argv += ["--uboot-model", model]
        argv += [*pytest_args, str(ROOT / "tests" / "test_hil.py")]
        argv += [str(ROOT / "tests" / "test_hil_sample.py")]
        return subprocess.run(argv, capture_output=True, text=True, env=env, cwd=d, timeout=600)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in TARGETS:
        sys.stderr.write(
            f"usage: python -m tests.support.hil_targets {{{','.join(TARGETS)}}} [ARGS]\n"
        )
        return 2
    name, rest = argv[0], argv[1:]
    allow = "--allow-missing" in rest
    rest = [a for a in rest if a != "--allow-missing"]
    why = missing(name)
    if why:
        sys.stderr.write(f"{name}: cannot run here: {why}\n")
        return 0 if allow else 4
    r = run(name, rest)
    sys.stdout.write(r.stdout)
    sys.stderr.write(r.stderr)
    return r.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
