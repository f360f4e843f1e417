"""pytest plugin: one test suite for the emulator and a real camera, local or remote.

Options: --port (a real device, or anything pyserial opens; without it an emulator is
started for the session), --baud, --prompt, --model. Fixtures: `uboot` (a connected,
synced console driver: read-only commands only), `uboot_target` (what the tests may assume:
the RAM window, the flash size, the model), `uboot_emulator` (the Emulator; tests that use
it are skipped on hardware). Markers: `hil` (runs against both), `emulator_only` (needs fault
injection or power control: skipped on hardware with that reason).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Iterator, Optional

import pytest

from .console import Console
from .partitions import model_table
from .policy import ReadOnlyPolicy
from .transport import Transport

RAM_WINDOWS = {"mstar": (0x21000000, 0x22000000), "mainline": (0x41000000, 0x42000000)}


@dataclass(frozen=True)
class Target:
    model: str
    profile: str  # the emulator profile that stands for it
    ram: tuple[int, int]
    flash_size: int
    hardware: bool


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("uboot-dump", "U-Boot console targets (emulator or hardware)")
    g.addoption(
        "--port",
        help="a real console (/dev/ttyUSB0, COM3, rfc2217://...); "
        "default: an emulator for the session",
    )
    g.addoption("--baud", type=int, default=115200, help="line rate of --port")
    g.addoption("--prompt", help="the U-Boot prompt (default: found)")
    g.addoption("--model", default="y203c", help="camera model (y203c, h201c, y25, y23)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "hil: runs against the emulator and against hardware")
    config.addinivalue_line(
        "markers", "emulator_only: needs fault injection or power control (skipped on hardware)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--port"):
        return
    skip = pytest.mark.skip(
        reason="emulator_only: needs fault injection or power control, not possible on a "
        f"real port ({config.getoption('--port')})"
    )
    for item in items:
        if "emulator_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def uboot_target(pytestconfig: pytest.Config) -> Target:
    model = pytestconfig.getoption("--model")
    profile = "mainline" if model == "mainline" else "mstar"
    return Target(
        model,
        profile,
        RAM_WINDOWS[profile],
        0x1000000,
        hardware=bool(pytestconfig.getoption("--port")),
    )


def emulator_image(profile: str) -> bytes:
    """A deterministic flash: partitions of random bytes with erased stretches."""
    r = random.Random(2217)
    if profile == "mainline":
        return r.randbytes(0x10000) + b"\xff" * 0x10000
    image = bytearray(b"\xff") * 0x1000000
    for p in model_table("y203c") or ():
        used = p.size // 3
        image[p.offset : p.offset + used] = r.randbytes(used)
    return bytes(image)


@pytest.fixture(scope="session")
def uboot_emulator(pytestconfig: pytest.Config, uboot_target: Target) -> Iterator[Any]:
    if pytestconfig.getoption("--port"):
        pytest.skip("emulator_only: the session runs against a real port")
    from emulator import Emulator

    with Emulator(
        emulator_image(uboot_target.profile), uboot_target.profile, at_prompt=True
    ) as emu:
        yield emu


@pytest.fixture(scope="session")
def uboot_port(pytestconfig: pytest.Config, request: pytest.FixtureRequest) -> str:
    port: Optional[str] = pytestconfig.getoption("--port")
    if port:
        return port
    return request.getfixturevalue("uboot_emulator").port


@pytest.fixture(scope="session")
def uboot_transport(pytestconfig: pytest.Config, uboot_port: str) -> Iterator[Transport]:
    """One connection for the session (a port is opened once: QEMU's pty backend, for
    one, notices a new client only once a second)."""
    t = Transport(uboot_port, pytestconfig.getoption("--baud"))
    try:
        yield t
    finally:
        t.close()


@pytest.fixture
def uboot(pytestconfig: pytest.Config, uboot_transport: Transport, uboot_target: Target) -> Console:
    """A console synchronised at the target's prompt, with the read-only policy."""
    c = Console(
        uboot_transport,
        pytestconfig.getoption("--prompt"),
        policy=ReadOnlyPolicy(ram_window=uboot_target.ram),
        baud=pytestconfig.getoption("--baud"),
    )
    c.sync()
    return c
