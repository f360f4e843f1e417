"""The session keeper: one camera's U-Boot session for as long as a job needs it.

It brings the camera up from power-on (harness.console.bringup: Ctrl-C first, Enter only
while it boots, until U-Boot's prompt; everything it printed appended to bootlog.txt),
learns once what this U-Boot offers (the same Knowledge is given to every console after a
reset), identifies it (`sf` and `md` required, bdinfo's word on the DRAM, `version`, `sf
probe`), reads flash into RAM, and after a reset or power loss in a step brings it back
and runs the step again (which resumes from its journal). The md path, the SD path, and
later restore, receive it and ask nothing else of each other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Protocol, TypeVar

from harness.base.errors import CommandFailed, NoPrompt, TargetReset
from harness.base.safeio import open_append
from harness.camera.memory import MemoryMap, memory_map, memory_map_from_bdinfo
from harness.console.bringup import BringUp
from harness.console.policy import ReadOnlyPolicy
from harness.console.replies import ReplyError, sf_read_reply
from harness.console.session import KNOWN_PROMPTS, Console, Garbled, Knowledge
from harness.link.power import PowerSwitch
from harness.link.transport import Transport
from harness.read.reader import MemoryReader

MAX_RECOVERIES = 3
SF_BYTES_PER_S = 1e6  # a slow SPI read, for the timeout of `sf read` only
SF_PIECE = 0x100000  # one `sf read` at most (U-Boot's generic driver mallocs the transfer)
T = TypeVar("T")


class Extent(Protocol):
    """A named piece of the flash (a partition, or a region of the SD path)."""

    @property
    def name(self) -> str: ...

    @property
    def offset(self) -> int: ...

    @property
    def size(self) -> int: ...


@dataclass(frozen=True)
class Identity:
    """What the camera said of itself: its U-Boot version line and `sf probe`'s lines."""

    uboot_version: str
    flash: list[str]

    def as_dict(self) -> dict:
        return {"uboot_version": self.uboot_version, "flash": self.flash}

    @property
    def flash_bytes(self) -> Optional[int]:
        """The flash size `sf probe` reported (MStar's `total size N MiB`, the generic
        driver's `total N MiB`), if it did."""
        for line in self.flash:
            m = re.search(r"total (?:size )?(\d+) MiB", line)
            if m:
                return int(m.group(1)) << 20
        return None


class SessionKeeper:
    def __init__(
        self,
        transport: Transport,
        policy: ReadOnlyPolicy,
        bootlog: Path,
        *,
        model: str,
        check_memory: Callable[[MemoryMap], None] = lambda mm: None,
        prompt: Optional[str] = None,
        timeout: float = 10.0,
        power_timeout: float = 300.0,
        baud: int = 115200,
        power: Optional[PowerSwitch] = None,
        say: Callable[[str], None] = print,
    ):
        """`check_memory`: the job's check of the RAM it will write against the camera's
        DRAM map (what bdinfo says, else the model's); `bootlog`: the file everything
        printed during bring-up is appended to; `power`: the camera's power switch
        (--power-cmd), else a person switches it."""
        self.transport = transport
        self.policy = policy
        self.bootlog = bootlog
        self.model = model
        self.check_memory = check_memory
        self.prompt = prompt.encode("latin-1") if prompt else None
        self.timeout = timeout
        self.power_timeout = power_timeout
        self.baud = baud
        self.power = power
        self.say = say
        self.knowledge = Knowledge()
        self.identity: Optional[Identity] = None
        self._console: Optional[Console] = None

    @property
    def console(self) -> Console:
        if self._console is None:
            raise RuntimeError("the session has not been started")
        return self._console

    def start(self) -> Identity:
        """From power-on (or a camera already at its prompt) to an identified session; with
        a power switch, the camera is switched off and on first, and caught as it boots."""
        if self.power is not None:
            self.say("Switching the camera off and on (--power-cmd).")
            self.power.cycle()
        else:
            self.say("Power the camera on now (if it is on, it is found at its prompt).")
        self._console = self._bring_up(booting=False)
        self.identity = self._identify(self._console)
        return self.identity

    def recovering(self, step: Callable[[Console], T], what: str) -> T:
        """step(console); after a reset or power loss in it, back to U-Boot's prompt and
        step again on the new console (it resumes from its journal), up to MAX_RECOVERIES
        times."""
        for attempt in range(MAX_RECOVERIES + 1):
            try:
                return step(self.console)
            except TargetReset as exc:
                if attempt == MAX_RECOVERIES:
                    raise
                self.say(f"{exc}; waiting for U-Boot again ({what} resumes from its journal)")
                self._console = self._bring_up(booting=True)
                self._identify(self._console)
        raise AssertionError("unreachable")

    def flash_to_ram(self, console: Console, extent: Extent, ram: int) -> None:
        """`sf read` the extent into RAM at `ram`, SF_PIECE at a time, each reply checked.
        One `sf read` of a whole 12 MiB HOME works on the camera (its driver copies from the
        memory-mapped flash), but U-Boot's generic driver allocates the transfer and fails
        beyond its malloc pool (the vendor build: Read: ERROR above ~4 MiB)."""
        for off in range(0, extent.size, SF_PIECE):
            n = min(SF_PIECE, extent.size - off)

            def parse(out: bytes, offset: int = extent.offset + off, n: int = n) -> None:
                try:
                    sf_read_reply(out, offset, n)
                except ReplyError as exc:
                    if b"ERROR" in out:  # the driver failed: asking again does not help
                        raise CommandFailed(f"{extent.name}: sf read: {exc}") from None
                    raise

            try:  # a damaged exchange is asked again (sf read repeats harmlessly)
                console.ask(
                    f"sf read {ram + off:x} {extent.offset + off:x} {n:x}",
                    parse,
                    timeout=self.timeout + n / SF_BYTES_PER_S,
                    expect_chars=120,
                )
            except (Garbled, ReplyError) as exc:
                raise CommandFailed(f"{extent.name}: sf read: {exc}") from None

    def flash_crc(self, console: Console, extent: Extent, ram: int) -> int:
        """The camera's crc32 of an extent of its flash (sf read into RAM at `ram`)."""
        self.flash_to_ram(console, extent, ram)
        return MemoryReader(console).target_crc(ram, extent.size)

    # -- inside ---------------------------------------------------------------------------------
    def _bring_up(self, booting: bool) -> Console:
        """From whatever state the camera is in to its synchronised prompt. `booting`: it
        was just seen to reset (only Enter may be sent now)."""
        prompts = (self.prompt,) if self.prompt else KNOWN_PROMPTS
        with open_append(self.bootlog) as log:
            found = BringUp(
                self.transport,
                prompts,
                timeout=self.power_timeout,
                say=self.say,
                log=log,
                booting=booting,
                power_cycle=self.power.cycle if self.power is not None else None,
            ).run()
        if self.prompt is not None and found != self.prompt:
            raise NoPrompt(
                f"the console's prompt is {found.decode('latin-1')!r}, not the "
                f"{self.prompt.decode('latin-1')!r} given with --prompt: give the right one, "
                "or leave --prompt out (it is found)"
            )
        console = Console(
            self.transport,
            found.decode("latin-1"),
            timeout=self.timeout,
            policy=self.policy,
            baud=self.baud,
            knowledge=self.knowledge,  # the same U-Boot after a reset: asked once per run
        )
        console.sync()
        return console

    def _identify(self, console: Console) -> Identity:
        caps = console.capabilities()
        console.require("sf", "it cannot read its SPI flash into RAM (read-mem still works)")
        console.require("md", "this tool reads memory with md")
        if caps.has("bdinfo"):  # the camera's own word on its memory, where it has one
            said = console.run("bdinfo", check_errors=False, expect_chars=2048)
            self.check_memory(
                memory_map_from_bdinfo(said.decode("latin-1"), memory_map(self.model))
            )
        version = console.run("version", expect_chars=400).decode("latin-1").strip().splitlines()
        probe = console.run("sf probe", expect_chars=400).decode("latin-1").strip().splitlines()
        return Identity(next((v for v in version if "U-Boot" in v), ""), probe)
