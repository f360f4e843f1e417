import gc
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
    from harness.link.transport import Transport

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
    from harness.console.session import Console
    from harness.link.transport import Transport

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


# -- memory: no test process above RSS_LIMIT ---------------------------------------------------
RSS_LIMIT = 512 << 20


def _peak_rss() -> int:
    """This process's peak resident set size in bytes (Linux: VmHWM, which, unlike
    getrusage's ru_maxrss, does not carry a parent's peak over fork and exec); 0 elsewhere."""
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def _rss() -> int:
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return 0
    return next((int(x.split()[1]) * 1024 for x in text.splitlines() if x.startswith("VmRSS")), 0)


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item):
    # What a test leaves in reference cycles (an exception kept with its traceback holds
    # the frames, and so an emulator's 100 MB) goes back only when the cycle collector
    # runs, which counts objects, not bytes: collect when a test left much behind.
    if _rss() > 256 << 20:
        gc.collect()
    peak = _peak_rss()
    worst = getattr(item.config, "_uboot_rss_worst", (0, ""))
    if peak > worst[0]:
        item.config._uboot_rss_worst = (peak, item.nodeid)
        trace = os.environ.get("UBOOT_RSS_TRACE")  # a file: each new peak, by test
        if trace:
            with open(trace, "a") as f:
                f.write(f"{os.getpid()} {peak >> 20} {item.nodeid}\n")


def pytest_sessionfinish(session, exitstatus):
    worst = getattr(session.config, "_uboot_rss_worst", (0, ""))
    if worst[0] > RSS_LIMIT:
        import sys

        sys.stderr.write(
            f"\nmemory: a test process reached {worst[0] >> 20} MiB resident (limit "
            f"{RSS_LIMIT >> 20} MiB), by the end of {worst[1]}\n"
        )
        session.exitstatus = 1
