"""pytest plugin: one test suite for the emulator, real U-Boots and real cameras.

Settings (each as an option, an ini key, or an environment variable; the option wins):

    --uboot-port PORT   uboot_port   UBOOT_PORT    a real console (/dev/ttyUSB0, COM3, a pty,
                                                   rfc2217://...); none: the bundled emulator
    --uboot-baud N      uboot_baud   UBOOT_BAUD    its line rate (115200)
    --uboot-prompt P    uboot_prompt UBOOT_PROMPT  the prompt (default: found)
    --uboot-model M     uboot_model  UBOOT_MODEL   y203c, h201c, y25, y23 (a camera) or
                                                   mainline (the emulator's default board)

Fixtures: `uboot` (the dumper's console, `uboot.run(...)`, `MemoryReader(uboot.dumper)`, and
`uboot.console`, an interactive pexpect console: `sendline`, `expect`, `before`; they share
the port, one owner at a time), `uboot_target` (what the target is: model, RAM window, its
commands), `uboot_emulator` (tests that use it skip on a real port), `uboot_reprovision`
(a farm's first step: the device's flash made equal to a backup, verify first, only the
blocks that differ written, each proven; for tests marked `uboot_writes`).

Markers: `hil` (runs against any target), `emulator_only` (fault injection or power
control), `uboot_needs("sf", ...)` (skips, naming what the target lacks), `uboot_writes`
(the test may send commands outside the read-only set; never on a camera by accident: the
marker must be there). Each test's console traffic goes to a log file, shown in the report
when the test fails.
"""

from __future__ import annotations

import os
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Iterator, Optional

import pytest

from harness.base.errors import PortError
from harness.camera.memory import dram_bank
from harness.camera.partitions import model_table
from harness.console.policy import ReadOnlyPolicy
from harness.console.session import Capabilities, Console
from harness.link.expect import SerialExpect
from harness.link.transport import Transport

SETTINGS = {
    "port": "a real console: /dev/ttyUSB0, COM3, a pty, rfc2217://host:port (default: the "
    "bundled emulator)",
    "baud": "its line rate (default 115200)",
    "prompt": "the U-Boot prompt (default: found)",
    "model": "the camera model, y203c, h201c, y25, y23 (default y203c), or mainline",
}
DEFAULTS = {"baud": "115200", "model": "y203c"}
# (DRAM start, size) when the target does not say (bdinfo): the model's board
MODEL_DRAM = {"mainline": (0x40000000, 0x8000000)}
CAMERA_DRAM = (0x20000000, 0x4000000)  # MStar Infinity3: 64 MiB at 0x20000000


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("uboot-dump", "U-Boot console targets (emulator, real U-Boot, camera)")
    for name, text in SETTINGS.items():
        g.addoption(f"--uboot-{name}", dest=f"uboot_{name}", metavar=name.upper(), help=text)
        parser.addini(f"uboot_{name}", text)


def setting(config: pytest.Config, name: str) -> Optional[str]:
    """The option, else $UBOOT_<NAME>, else the ini key, else the default."""
    value = config.getoption(f"uboot_{name}")
    if value is None:
        value = os.environ.get(f"UBOOT_{name.upper()}")
    if value is None:
        value = config.getini(f"uboot_{name}") or None
    return value if value is not None else DEFAULTS.get(name)


def pytest_configure(config: pytest.Config) -> None:
    for line in (
        "hil: runs against the emulator, real U-Boots and cameras",
        "emulator_only: needs fault injection or power control (skipped on a real port)",
        "uboot_needs(*commands): skipped, with the reason, on a target without them",
        "uboot_writes: may send commands outside the read-only set",
    ):
        config.addinivalue_line("markers", line)
    baud = setting(config, "baud")
    if baud is not None and not baud.isdigit():
        raise pytest.UsageError(f"uboot baud {baud!r} is not a number")
    _check_rootdir(config)


def _check_rootdir(config: pytest.Config) -> None:
    """pytest picks its rootdir before it loads this plugin, so `--uboot-port /dev/pts/3`
    (a space, and a path that exists) is taken for a test path there: the rootdir becomes
    /dev/pts and the test directory's ini file is ignored. The plugin cannot prevent that,
    only notice it and say how to write it."""
    port = config.getoption("uboot_port")
    args = list(config.invocation_params.args)
    if not port or "://" in port or not os.path.exists(port):
        return
    spaced = any(a == "--uboot-port" and b == port for a, b in zip(args, args[1:]))
    try:
        taken = Path(port).absolute().is_relative_to(config.rootpath)
    except (OSError, ValueError):
        taken = False
    if spaced and taken:
        raise pytest.UsageError(
            f"write --uboot-port={port} (with '='): pytest took {port} for a test path and "
            f"made {config.rootpath} its rootdir before this plugin was loaded"
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    port = setting(config, "port")
    if not port:
        return
    skip = pytest.mark.skip(
        reason="emulator_only: needs fault injection or power control, not possible on a "
        f"real port ({port})"
    )
    for item in items:
        if "emulator_only" in item.keywords:
            item.add_marker(skip)


@dataclass(frozen=True)
class Target:
    model: str
    profile: str  # the emulator profile that stands for it
    ram: tuple[int, int]  # the window tests may fill and read
    dram: tuple[int, int]  # (start, size), and where that came from:
    dram_source: str
    flash_size: int
    hardware: bool
    capabilities: Capabilities = field(
        repr=False, default_factory=lambda: Capabilities(frozenset())
    )

    def lacks(self, *commands: str) -> list[str]:
        return [c for c in commands if not self.capabilities.has(c)]


def ram_window(start: int, size: int) -> tuple[int, int]:
    """Scratch RAM clear of where U-Boot keeps itself (it relocates to the top): 16..32 MiB
    into a bank of 64 MiB or more, else its second quarter."""
    if size >= 64 << 20:
        return start + (16 << 20), start + (32 << 20)
    return start + size // 4, start + size // 2


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
def uboot_emulator(pytestconfig: pytest.Config) -> Iterator[Any]:
    port = setting(pytestconfig, "port")
    if port:
        pytest.skip(f"emulator_only: the session runs against a real port ({port})")
    from emulator import Emulator

    profile = "mainline" if setting(pytestconfig, "model") == "mainline" else "mstar"
    # writable: only uboot_reprovision (its own write guard) and tests marked uboot_writes
    # change the flash
    with Emulator(emulator_image(profile), profile, at_prompt=True, writable=True) as emu:
        yield emu


@pytest.fixture(scope="session")
def uboot_port(pytestconfig: pytest.Config, request: pytest.FixtureRequest) -> str:
    port = setting(pytestconfig, "port")
    if port:
        return port
    return request.getfixturevalue("uboot_emulator").port


@pytest.fixture(scope="session")
def uboot_transport(pytestconfig: pytest.Config, uboot_port: str) -> Iterator[Transport]:
    """One connection for the session (a port is opened once: QEMU's pty backend, for
    one, notices a new client only once a second)."""
    try:
        t = Transport(uboot_port, int(setting(pytestconfig, "baud") or 115200))
    except PortError as exc:  # once for the session, not a traceback per test
        pytest.exit(f"uboot-dump: {exc.line()}", returncode=3)
    try:
        yield t
    finally:
        t.close()


def _dumper(config: pytest.Config, t: Transport, policy: Any, log: Optional[BinaryIO]) -> Console:
    return Console(
        t,
        setting(config, "prompt"),
        policy=policy,
        log=log,
        baud=int(setting(config, "baud") or 115200),
    )


@pytest.fixture(scope="session")
def uboot_target(pytestconfig: pytest.Config, uboot_transport: Transport) -> Target:
    """The target as it describes itself: its commands (`help`), its DRAM (`bdinfo`, else
    the model's board)."""
    model = setting(pytestconfig, "model") or "y203c"
    c = _dumper(pytestconfig, uboot_transport, ReadOnlyPolicy(), None)
    c.sync()
    caps = c.capabilities()
    found = None
    if caps.has("bdinfo"):
        found = dram_bank(c.run("bdinfo", check_errors=False, expect_chars=2048).decode("latin-1"))
    if found is not None:
        dram = found
        source = "bdinfo"
    else:
        dram = MODEL_DRAM.get(model, CAMERA_DRAM)
        source = f"the {model} board (the target has no bdinfo with a DRAM bank)"
    profile = "mainline" if model == "mainline" else "mstar"
    return Target(
        model,
        profile,
        ram_window(*dram),
        dram,
        source,
        0x1000000,
        hardware=bool(setting(pytestconfig, "port")),
        capabilities=caps,
    )


class AllowAll:
    """The policy of a test marked uboot_writes."""

    def check(self, command: str) -> None:
        return None


class UBoot:
    """The `uboot` fixture: the dumper's console (its attributes are this object's) and
    `.console`, a pexpect console. Whichever is used takes the port: a call of the dumper's
    (`uboot.run`, `uboot.dumper` for a MemoryReader) syncs again at the
    prompt first (attributes such as `uboot.prompt` do not); the pexpect console starts with
    nothing pending."""

    def __init__(self, dumper: Console, expect: SerialExpect):
        self._dumper = dumper
        self._expect = expect
        self._owner = "dumper"

    @property
    def dumper(self) -> Console:
        """The dumper's console, owning the port (for MemoryReader and the like)."""
        return self._take()

    @property
    def console(self) -> SerialExpect:
        if self._owner != "expect":
            self._dumper.release()
            self._expect.flush_input()
            self._owner = "expect"
        return self._expect

    def lend(self) -> None:
        """Another job takes the port (uboot_reprovision): the next use syncs again."""
        self._dumper.release()
        self._owner = "lent"

    def _take(self) -> Console:
        if self._owner != "dumper":
            self._owner = "dumper"
            self._dumper.release()
            self._dumper.sync()
        return self._dumper

    def __getattr__(self, name: str) -> Any:
        """The dumper's attributes; calling one of its methods takes the port back."""
        attr = getattr(self._dumper, name)
        if not callable(attr):
            return attr

        def taking_the_port(*args: Any, **kwargs: Any) -> Any:
            self._take()
            return attr(*args, **kwargs)

        return taking_the_port


@pytest.fixture
def uboot(
    pytestconfig: pytest.Config,
    request: pytest.FixtureRequest,
    uboot_transport: Transport,
    uboot_target: Target,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[UBoot]:
    """A console synchronised at the target's prompt, with the read-only policy."""
    for mark in request.node.iter_markers("uboot_needs"):
        lacking = uboot_target.lacks(*mark.args)
        if lacking:
            pytest.skip(
                f"the target's U-Boot has no {', '.join(f'`{c}`' for c in lacking)} "
                f"(from its help; model {uboot_target.model})"
            )
    writes = request.node.get_closest_marker("uboot_writes") is not None
    policy: Any = AllowAll() if writes else ReadOnlyPolicy(ram_window=uboot_target.ram)
    logs = tmp_path_factory.getbasetemp() / "uboot-logs"
    logs.mkdir(exist_ok=True)
    path = logs / (re.sub(r"[^\w.-]+", "_", request.node.nodeid)[-150:] + ".log")
    request.node.uboot_log = path
    with open(path, "ab") as log:
        dumper = _dumper(pytestconfig, uboot_transport, policy, log)
        dumper.sync()
        expect = SerialExpect(uboot_transport, None if writes else policy.check, log=log)
        yield UBoot(dumper, expect)


@pytest.fixture
def uboot_reprovision(
    pytestconfig: pytest.Config,
    request: pytest.FixtureRequest,
    uboot: UBoot,
    uboot_transport: Transport,
    uboot_target: Target,
    tmp_path: Path,
) -> Any:
    """reprovision(backup_dir, partitions=None, via="auto") -> harness.restore.job.Summary:
    the device under test's flash made equal to the backup's partitions (ROOTFS and HOME by
    default; never BOOT): every block checked by the camera's crc32, only those that differ
    written (from the card's UBRESTOR.BIN where it holds them, else over the line), each
    proven before and after. The test must be marked `uboot_writes`."""
    if request.node.get_closest_marker("uboot_writes") is None:
        pytest.fail(
            "uboot_reprovision writes the flash: mark the test @pytest.mark.uboot_writes",
            pytrace=False,
        )
    from harness.restore.images import camera_identity, chosen, from_backup
    from harness.restore.job import Restore

    def reprovision(backup_dir: Any, partitions: Optional[str] = None, via: str = "auto") -> Any:
        table = model_table(uboot_target.model)
        if table is None:
            pytest.fail(f"no partition table for model {uboot_target.model}", pytrace=False)
        backup = Path(backup_dir)
        images = from_backup(backup, uboot_target.model, chosen(table, partitions))
        uboot.lend()
        job = Restore(
            uboot_transport,
            images,
            tmp_path,
            model=uboot_target.model,
            via=via,
            identity=camera_identity(backup),
            prompt=setting(pytestconfig, "prompt"),
            baud=int(setting(pytestconfig, "baud") or 115200),
            say=lambda text: None,
        )
        return job.run()

    return reprovision


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    report = yield
    path: Optional[Path] = getattr(item, "uboot_log", None)
    if report.failed and path is not None and path.exists():
        text = path.read_bytes()[-8192:].decode("latin-1")
        report.sections.append((f"uboot console ({path})", text))
    return report
