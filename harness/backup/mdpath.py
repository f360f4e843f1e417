"""The md path: partitions over the serial line. Per partition: fill the RAM window with
0xFF, `sf read` the partition there, read it back with the verified reader (the same code
as read-mem), publish the file. Files an earlier run finished are proven first: the camera's
crc32 of the partition must equal the file's, or nothing in the directory changes."""

from __future__ import annotations

import functools
import time
from typing import Callable, Optional

from harness.backup.manifest import Manifest
from harness.backup.plan import Plan
from harness.backup.publish import publish
from harness.backup.session import SessionKeeper
from harness.base.errors import ResumeRefused, UsageError
from harness.camera.partitions import Partition, output_names
from harness.console.session import Console
from harness.read.reader import MemoryReader

Progress = Callable[[Partition], Optional[Callable[[int], None]]]


class MdPath:
    def __init__(
        self,
        keeper: SessionKeeper,
        plan: Plan,
        manifest: Manifest,
        *,
        say: Callable[[str], None] = print,
        progress: Progress = lambda p: None,
    ):
        self.keeper = keeper
        self.plan = plan
        self.manifest = manifest
        self.say = say
        self.progress = progress

    def run(self) -> None:
        todo = []
        for p in self.plan.partitions:  # what -o holds is proven first, before anything changes
            if self.manifest.finished(p, self._names(p)):
                self.keeper.recovering(functools.partial(self._prove, p), "the check")
                self.say(f"{p.describe()}: already backed up, and the camera's crc32 agrees")
            else:
                todo.append(p)
        for p in todo:
            self.keeper.recovering(functools.partial(self._dump, p), "the read")

    def _names(self, p: Partition) -> list[str]:
        return output_names(p, self.plan.model, self.plan.all_)

    def _dump(self, p: Partition, console: Console) -> None:
        plan = self.plan
        names = self._names(p)
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
        console.run(f"mw.b {plan.ram:x} ff {p.size:x}", timeout=console.timeout + p.size / 50e6)
        self.keeper.flash_to_ram(console, p, plan.ram)
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
        self.manifest.record(p.name, entry)
        self.say(f"{p.describe()}: {p.size} bytes -> {', '.join(names)}")

    def _prove(self, p: Partition, console: Console) -> None:
        """The camera's flash still holds what the finished file holds: sf read into RAM,
        its crc32 against the file's. A file of another camera (or of a flash changed since)
        stops the run with nothing in out_dir changed."""
        entry = self.manifest.entry(p.name) or {}
        if self.keeper.flash_crc(console, p, self.plan.ram) != int(entry["crc32"], 16):
            raise ResumeRefused(
                f"{p.name}: the camera's flash differs from {entry['files'][0]} in "
                f"{self.plan.out_dir} (another camera's backup, or the flash changed since): "
                "back up into a new directory, or add --restart to read it again and replace it"
            )
