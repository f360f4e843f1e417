import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from emulator import Emulator

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
CAPTURES = FIXTURES / "captures" / "uboot-2023.01-qemu_arm"

# Fixed seeds everywhere unless asked otherwise: CI runs are reproducible.
settings.register_profile(
    "ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("explore", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def golden_image() -> bytes:
    return (CAPTURES / "golden.img").read_bytes()


@pytest.fixture
def emulator():
    """Factory: emulator(image, profile, **options) -> a started Emulator, stopped after."""
    started = []

    def make(image, profile="mstar", **kw):
        emu = Emulator(image, profile, **kw).start()
        started.append(emu)
        return emu

    yield make
    for emu in started:
        emu.stop()


@pytest.fixture
def open_port():
    """open_port(emu) -> a Transport on the emulator's port, closed after the test."""
    from harness.transport import Transport

    opened = []

    def make(emu):
        t = Transport(emu.port)
        opened.append(t)
        return t

    yield make
    for t in opened:
        t.close()


@pytest.fixture
def connect():
    """connect(emu, **console_options) -> a synced harness Console on the emulator's port."""
    from harness.console import Console
    from harness.transport import Transport

    opened = []

    def make(emu, prompt=None, sync=True, **kw):
        t = Transport(emu.port)
        opened.append(t)
        c = Console(t, prompt, **kw)
        if sync:
            c.sync()
        return c

    yield make
    for t in opened:
        t.close()
