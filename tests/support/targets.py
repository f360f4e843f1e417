"""Real U-Boots for tests: the camera vendor's own 2015.01 code (../shared/oracles/, built as a
Linux program) and Debian's U-Boot 2023.01 under QEMU (arm and arm64).

Each is started as its own process that serves the console on a pty, as a camera's UART
would be. Where a target cannot run here, `skip_reason()` says why and the tests that need
it skip with that reason (in a user's clone without ../shared, or without QEMU); CI has both.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import serial

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("UBOOT_DUMP_SHARED", ROOT.parent / "shared"))
ORACLE = SHARED / "oracles" / "uboot-2015.01-mstar-sandbox"
QEMU = {
    "arm": ("qemu-system-arm", "/usr/lib/u-boot/qemu_arm/u-boot.bin", []),
    "arm64": (
        "qemu-system-aarch64",
        "/usr/lib/u-boot/qemu_arm64/u-boot.bin",
        ["-cpu", "cortex-a57"],
    ),
}
QEMU_FLASH_BANK = 64 << 20  # the virt board's second CFI bank, at 0x04000000


def vendor_skip_reason() -> Optional[str]:
    if not (ORACLE / "serve.py").exists():
        return f"the vendor U-Boot build is not here: {ORACLE} is missing (no ../shared)"
    if not os.path.exists("/lib/ld-linux.so.2"):
        return "the vendor build is 32-bit: libc6-i386 is missing (scripts/setup installs it)"
    return None


def qemu_skip_reason(arch: str) -> Optional[str]:
    binary, bios, _ = QEMU[arch]
    if not shutil.which(binary):
        return f"{binary} is missing (Debian qemu-system-arm; scripts/setup installs it)"
    if not os.path.exists(bios):
        return f"{bios} is missing (Debian u-boot-qemu; scripts/setup installs it)"
    return None


@dataclass
class Served:
    """A real U-Boot on a pty, in its own process group."""

    proc: subprocess.Popen
    port: str
    name: str

    def power_cycle(self) -> None:
        self.proc.send_signal(signal.SIGUSR1)

    def power(self, state: str) -> None:
        """The vendor build's power switch (what emulator.control asks of it): off stops the
        program where it is (it prints nothing more, as a camera without power), on lets it
        go on and power-cycles it (serve.py's SIGUSR1: the boot text and keyed autoboot run
        again); cycle is both."""
        if state in ("off", "cycle"):
            os.killpg(self.proc.pid, signal.SIGSTOP)
        if state in ("on", "cycle"):
            os.killpg(self.proc.pid, signal.SIGCONT)
            self.proc.send_signal(signal.SIGUSR1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


@contextlib.contextmanager
def vendor_build(
    image: Path,
    *,
    power_on_after: Optional[float] = None,
    link: Optional[Path] = None,
    flash_out: Optional[Path] = None,
    sd: Optional[Path] = None,
) -> Iterator[Served]:
    """The vendor's U-Boot 2015.01 serving `image` as its SPI flash (serve.py); with
    `flash_out`, the flash it writes is kept there (updated as `sf erase`/`sf write` run);
    with `sd`, the build with the vendor's SD host runs with that card image in its slot."""
    reason = vendor_skip_reason()
    if reason:
        import pytest

        pytest.skip(reason)
    argv = [sys.executable, str(ORACLE / "serve.py"), "--image", str(image)]
    if power_on_after is not None:
        argv += ["--power-on-after", str(power_on_after)]
    if link is not None:
        argv += ["--link", str(link)]
    if flash_out is not None:
        argv += ["--flash-out", str(flash_out)]
    if sd is not None:
        argv += ["--sd", str(sd)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, start_new_session=True)
    try:
        assert proc.stdout is not None
        port = proc.stdout.readline().decode().strip()
        if not port:
            raise RuntimeError(f"serve.py printed no pty (exit {proc.wait(5)})")
        served = Served(proc, str(link) if link else port, "vendor 2015.01")
        yield served
    finally:
        Served(proc, "", "").stop()


@contextlib.contextmanager
def qemu_uboot(arch: str, flash: Path, *, memory_mb: int = 128) -> Iterator[Served]:
    """U-Boot 2023.01 on QEMU's virt board; `flash` (padded to 64 MiB) is CFI bank 1."""
    reason = qemu_skip_reason(arch)
    if reason:
        import pytest

        pytest.skip(reason)
    binary, bios, extra = QEMU[arch]
    size = flash.stat().st_size
    if size < QEMU_FLASH_BANK:
        with open(flash, "ab") as f:
            f.write(b"\xff" * (QEMU_FLASH_BANK - size))
    argv = [binary, "-M", "virt", *extra, "-m", str(memory_mb), "-nographic"]
    # the virt board's network card as captured (its ethaddr is in U-Boot's environment), but
    # without its option ROM: efi-virtio.rom is Debian's ipxe-qemu, which a
    # --no-install-recommends set-up does not bring, and U-Boot does not need it
    argv += ["-monitor", "none", "-serial", "pty", "-global", "virtio-net-pci.romfile="]
    argv += ["-bios", bios]
    argv += ["-drive", f"if=pflash,unit=1,file={flash},format=raw"]
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().decode()
        m = re.search(r"(/dev/pts/\d+)", first)
        if not m:
            raise RuntimeError(f"QEMU printed no pty: {first!r}")
        yield Served(proc, m.group(1), f"U-Boot 2023.01 on QEMU {arch}")
    finally:
        Served(proc, "", "").stop()


def stop_at_prompt(port: str, prompt: bytes, timeout: float = 30.0) -> bytes:
    """Press Enter every 50 ms while the target boots, until it sits at its prompt and the
    Enters still on their way have been answered. Returns everything it printed."""
    s = serial.serial_for_url(port, timeout=0.05)
    try:
        out = bytearray()
        deadline = time.monotonic() + timeout
        while not out.endswith(prompt):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {prompt!r} from {port}: {bytes(out[-300:])!r}")
            s.write(b"\r")
            out += s.read(4096)
        while True:  # the last Enters each bring a prompt: let them come
            more = s.read(4096)
            if not more:
                quiet_until = time.monotonic() + 0.3
                while time.monotonic() < quiet_until and not more:
                    more = s.read(4096)
                if not more:
                    break
            out += more
        return bytes(out)
    finally:
        s.close()
