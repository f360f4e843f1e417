"""The camera workflow: from power-on to restorable sys_<model>/home_<model> images.

Bring-up (harness.console.bringup: Ctrl-C first, Enter only while the camera boots, until U-Boot's
prompt), the boot log saved, what the target offers learnt (it must have `sf` and `md`),
`sf probe`, then per partition: fill the RAM window with 0xFF, `sf read` it there (1 MiB at
a time),
and read it back with the verified reader (the same code as read-mem). A reset or power
loss in the middle sends it back to power-on; the flash is read into RAM again and the read
continues from its journal.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, TypeVar

from harness.backup.publish import publish
from harness.backup.sdpath import SdBackup
from harness.base.errors import (
    CommandFailed,
    NoPrompt,
    ResumeRefused,
    SdUnavailable,
    TargetReset,
    UsageError,
)
from harness.base.safeio import open_append, write_atomic
from harness.camera.partitions import (
    MemoryMap,
    Partition,
    memory_map,
    memory_map_from_bdinfo,
    output_names,
)
from harness.console.bringup import BringUp
from harness.console.policy import ReadOnlyPolicy, SdWriteGuard
from harness.console.replies import ReplyError, sf_read_reply
from harness.console.session import KNOWN_PROMPTS, Capabilities, Console, Garbled
from harness.link.transport import Transport
from harness.read.reader import DEFAULT_CHUNK, MemoryReader
from harness.sd import finder as sdfind
from harness.sd.copier import Region
from harness.sd.finder import Layout
from harness.sd.staging import NAME as SD_FILE

MAX_RECOVERIES = 3
T = TypeVar("T")
SF_BYTES_PER_S = 1e6  # a slow SPI read, for the timeout of `sf read` only
SF_PIECE = 0x100000  # one `sf read` at most (U-Boot's generic driver mallocs the transfer)
IDENTITY_WARNING = (
    "vd1 and conf hold the device identity and Wi-Fi credentials, and ROOTFS's etc/back.bin "
    "the P2P/cloud IDs and a password: do not share those files (see `uboot-dump jffs2 clean`)"
)


@dataclass
class Plan:
    model: str
    out_dir: Path
    partitions: tuple[Partition, ...]
    all_: bool = False
    ram: int = 0x21000000
    chunk: int = DEFAULT_CHUNK
    partition_source: str = ""
    table: tuple[Partition, ...] = ()  # the whole table (the SD path copies all the flash)
    via: str = "auto"  # "sd", "md", or "auto": sd when the camera has mmc and a prepared card
    restart: bool = False  # read again what out_dir holds instead of resuming or skipping it

    @property
    def md_window(self) -> tuple[int, int]:
        return self.ram, self.ram + max((p.size for p in self.partitions), default=0)

    def check_memory(self, mm: Optional[MemoryMap] = None) -> None:
        """Every RAM range the backup will write (mw, sf read, mmc read) lies in the part of
        the camera's DRAM that U-Boot leaves free (harness/models.json, or what the camera's
        bdinfo says); UsageError if not."""
        mm = mm or memory_map(self.model)
        mm.check(*self.md_window, "the RAM window for sf read (--ram + the largest partition)")
        if self.via != "md":
            mm.check(*Layout.at(self.ram).window, "the SD path's RAM window (--ram + 44 MiB)")

    def load_manifest(self) -> dict:
        """The manifest of an earlier run in out_dir, checked (harness.backup.records) before
        anything in it is trusted; {} where there is none or with restart."""
        path = self.out_dir / "manifest.json"
        if self.restart or not os.path.lexists(path):
            return {}
        from harness.backup import (
            records,  # pydantic: imported only when there is something to check
        )

        try:
            checked = records.load(path)
        except UsageError as exc:
            raise UsageError(
                f"{exc}: back up into a new directory, or add --restart to start over"
            ) from None
        return checked.raw if checked is not None else {}


class Backup:
    def __init__(
        self,
        transport: Transport,
        plan: Plan,
        *,
        prompt: Optional[str] = None,
        timeout: float = 10.0,
        power_timeout: float = 300.0,
        baud: int = 115200,
        say: Callable[[str], None] = print,
        progress: Callable[[Partition | Region], Optional[Callable[[int], None]]] = lambda p: None,
    ):
        self.t = transport
        self.plan = plan
        self.prompt = prompt.encode("latin-1") if prompt else None
        self.timeout = timeout
        self.power_timeout = power_timeout
        self.baud = baud
        self.say = say
        self.progress = progress
        size = max((p.size for p in plan.partitions), default=0)
        end = plan.ram + size
        guard = None
        if plan.via != "md":
            end = max(end, Layout.at(plan.ram).end)
            guard = SdWriteGuard()
        self.policy = ReadOnlyPolicy(ram_window=(plan.ram, end), sd_guard=guard)
        self.manifest_path = plan.out_dir / "manifest.json"
        self.manifest = plan.load_manifest()
        self.console: Optional[Console] = None
        self._caps: Optional[Capabilities] = None

    # -- power-on ------------------------------------------------------------------------
    def bring_up(self, booting: bool = False) -> Console:
        """From whatever state the camera is in to its synchronised prompt
        (harness.console.bringup); everything it printed is appended to bootlog.txt. `booting`: it was just seen to
        reset (only Enter may be sent now)."""
        if not booting:
            self.say("Power the camera on now (if it is on, it is found at its prompt).")
        prompts = (self.prompt,) if self.prompt else KNOWN_PROMPTS
        with open_append(self.plan.out_dir / "bootlog.txt") as log:
            found = BringUp(
                self.t,
                prompts,
                timeout=self.power_timeout,
                say=self.say,
                log=log,
                booting=booting,
            ).run()
        if self.prompt is not None and found != self.prompt:
            raise NoPrompt(
                f"the console's prompt is {found.decode('latin-1')!r}, not the "
                f"{self.prompt.decode('latin-1')!r} given with --prompt: give the right one, "
                "or leave --prompt out (it is found)"
            )
        console = Console(
            self.t,
            found.decode("latin-1"),
            timeout=self.timeout,
            policy=self.policy,
            baud=self.baud,
            capabilities=self._caps,  # the same U-Boot after a reset: asked once per run
        )
        console.sync()
        return console

    # -- the partitions -------------------------------------------------------------------
    def run(self) -> dict:
        plan = self.plan
        plan.out_dir.mkdir(parents=True, exist_ok=True)
        console = self.bring_up()
        info = self._identify(console)
        self.manifest.update(info)
        self.manifest["model"] = plan.model
        self.manifest["partition_source"] = plan.partition_source
        if plan.via != "md" and self._sd_path(console):
            self.say("Warning: " + IDENTITY_WARNING)
            return self.manifest
        todo = []
        for p in plan.partitions:  # what -o holds is proven first, before anything changes
            if self._finished(p):
                console, _ = self.recovering(
                    console, functools.partial(self._prove, p), "the check"
                )
                self.say(f"{p.describe()}: already backed up, and the camera's crc32 agrees")
            else:
                todo.append(p)
        for p in todo:
            console, _ = self.recovering(console, functools.partial(self._dump, p), "the read")
        self.say("Warning: " + IDENTITY_WARNING)
        return self.manifest

    def recovering(
        self, console: Console, step: Callable[[Console], T], what: str
    ) -> tuple[Console, T]:
        """step(console); after a reset or power loss in it, back to U-Boot's prompt and
        step again (it resumes from its journal), up to MAX_RECOVERIES times."""
        for attempt in range(MAX_RECOVERIES + 1):
            try:
                return console, step(console)
            except TargetReset as exc:
                if attempt == MAX_RECOVERIES:
                    raise
                self.say(f"{exc}; waiting for U-Boot again ({what} resumes from its journal)")
                console = self.bring_up(booting=True)
                self._identify(console)
        raise AssertionError("unreachable")

    def _identify(self, console: Console) -> dict:
        self._caps = console.capabilities()
        console.require("sf", "it cannot read its SPI flash into RAM (read-mem still works)")
        console.require("md", "this tool reads memory with md")
        if self._caps.has("bdinfo"):  # the camera's own word on its memory, where it has one
            said = console.run("bdinfo", check_errors=False, expect_chars=2048)
            mm = memory_map_from_bdinfo(said.decode("latin-1"), memory_map(self.plan.model))
            self.plan.check_memory(mm)
        version = console.run("version", expect_chars=400).decode("latin-1").strip().splitlines()
        probe = console.run("sf probe", expect_chars=400).decode("latin-1").strip().splitlines()
        return {
            "uboot_version": next((v for v in version if "U-Boot" in v), ""),
            "flash": probe,
        }

    # -- the SD path ----------------------------------------------------------------------
    def _sd_path(self, console: Console) -> bool:
        """Copy the flash to the prepared card; False (after saying why) when `--via auto`
        finds no way to (the md path follows)."""
        layout = Layout.at(self.plan.ram)
        try:
            sdfile = sdfind.find(
                console, MemoryReader(console), layout, timeout=self.timeout, say=self.say
            )
            self._check_flash_size(sdfile.header.flash_size)
        except SdUnavailable as exc:
            if self.plan.via == "sd":
                raise
            self.say(f"SD path not used: {exc}; reading over the serial line (md) instead")
            return False
        SdBackup(self, layout, sdfile).run(console)
        return True

    def _check_flash_size(self, size: int) -> None:
        for line in self.manifest.get("flash", []):
            m = re.search(r"total size (\d+) MiB", line)
            if m and int(m.group(1)) << 20 != size:
                raise SdUnavailable(
                    f"{SD_FILE} was prepared for {size >> 20} MiB of flash; this camera "
                    f"has {m.group(1)} MiB: prepare the card again with --flash-size"
                )

    def flash_to_ram(self, console: Console, p: Partition | Region) -> None:
        """`sf read` the partition into the RAM window, SF_PIECE at a time, each reply
        checked. One `sf read` of a whole 12 MiB HOME works on the camera (its driver copies
        from the memory-mapped flash), but U-Boot's generic driver allocates the transfer
        and fails beyond its malloc pool (the vendor build: Read: ERROR above ~4 MiB)."""
        for off in range(0, p.size, SF_PIECE):
            n = min(SF_PIECE, p.size - off)

            def check(out: bytes, offset: int = p.offset + off, n: int = n) -> None:
                try:
                    sf_read_reply(out, offset, n)
                except ReplyError as exc:
                    if b"ERROR" in out:  # the driver failed: asking again does not help
                        raise CommandFailed(f"{p.name}: sf read: {exc}") from None
                    raise

            try:  # a damaged exchange is asked again (sf read repeats harmlessly)
                console.ask(
                    f"sf read {self.plan.ram + off:x} {p.offset + off:x} {n:x}",
                    check,
                    timeout=self.timeout + n / SF_BYTES_PER_S,
                    expect_chars=120,
                )
            except (Garbled, ReplyError) as exc:
                raise CommandFailed(f"{p.name}: sf read: {exc}") from None

    def _dump(self, p: Partition, console: Console) -> None:
        plan = self.plan
        names = output_names(p, plan.model, plan.all_)
        if not names:
            raise UsageError(f"{p.name}: no output name (use --partitions all to dump it)")
        target = plan.out_dir / names[0]
        if target.exists() and not plan.restart:
            raise UsageError(
                f"{target} exists, but manifest.json does not describe it: back up into a new "
                "directory, remove it, or add --restart to read it again and replace it"
            )
        self.say(f"{p.describe()}: sf read into RAM at 0x{plan.ram:x}")
        t0 = time.monotonic()
        console.run(f"mw.b {plan.ram:x} ff {p.size:x}", timeout=self.timeout + p.size / 50e6)
        self.flash_to_ram(console, p)
        reader = MemoryReader(console, chunk=plan.chunk, progress=self.progress(p))
        stats = reader.read_to_file(
            plan.ram, p.size, target, restart=plan.restart, replace=plan.restart
        )
        entry = publish(plan.out_dir, names, p, target.read_bytes(), self.say)
        entry.update(
            {
                "seconds": round(time.monotonic() - t0, 2),
                "bytes_per_s": round(stats.rate, 1),
                "lines_reread": stats.lines_reread,
                "erased_chunks_skipped": stats.erased_chunks_skipped,
                "resumed_from": stats.resumed_from,
                "check": stats.check,
            }
        )
        self.manifest.setdefault("partitions", {})[p.name] = entry
        self.save_manifest()
        self.say(f"{p.describe()}: {p.size} bytes -> {', '.join(names)}")

    # -- manifest ------------------------------------------------------------------------
    def save_manifest(self) -> None:
        write_atomic(self.manifest_path, (json.dumps(self.manifest, indent=2) + "\n").encode())

    def _finished(self, p: Partition) -> bool:
        """out_dir holds p's file as the manifest describes it (name, place, sha256)."""
        entry = self.manifest.get("partitions", {}).get(p.name)
        names = output_names(p, self.plan.model, self.plan.all_)
        if not entry or not names or entry.get("files", [None])[0] != names[0]:
            return False
        if (entry.get("offset"), entry.get("size"), entry.get("mtd")) != (
            p.offset,
            p.size,
            p.index,
        ):
            return False
        path = self.plan.out_dir / names[0]
        try:
            return hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
        except OSError:
            return False

    def _prove(self, p: Partition, console: Console) -> None:
        """The camera's flash still holds what the finished file holds: sf read into RAM,
        its crc32 against the file's. A file of another camera (or of a flash changed since)
        stops the run with nothing in out_dir changed."""
        entry = self.manifest["partitions"][p.name]
        self.flash_to_ram(console, p)
        if MemoryReader(console).target_crc(self.plan.ram, p.size) != int(entry["crc32"], 16):
            raise ResumeRefused(
                f"{p.name}: the camera's flash differs from {entry['files'][0]} in "
                f"{self.plan.out_dir} (another camera's backup, or the flash changed since): "
                "back up into a new directory, or add --restart to read it again and replace it"
            )
