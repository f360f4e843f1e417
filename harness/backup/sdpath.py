"""`backup --via sd`: the whole flash copied to the prepared file on the card, region by
region, resumable (sd.journal beside the manifest), surviving resets and power losses the
way the md path does (back to the prompt, the flash read into RAM again, the copy goes on).
The manifest's `sd` record (the file's id, the camera's crc32 of every region and block) is
what `sd-collect` checks the card against on the PC."""

from __future__ import annotations

import functools
import time
from typing import Any, Callable, Optional, Protocol

from harness.base.errors import ResumeRefused, SdUnavailable
from harness.console.session import Console
from harness.read.journal import Entry, Journal
from harness.sd import finder as sdfind
from harness.sd.copier import Region, SdCopy, regions
from harness.sd.finder import Layout, SdFile
from harness.sd.staging import NAME


class Session(Protocol):
    """What the SD path needs of the job that keeps the camera's session (harness.backup.job):
    its plan and manifest, its messages and progress, the write guard of its policy, a
    way back to the prompt after a reset, and the flash read into RAM."""

    plan: Any
    manifest: dict
    timeout: float
    say: Callable[[str], None]
    progress: Callable[[Any], Optional[Callable[[int], None]]]
    policy: Any

    def recovering(self, console: Console, step: Callable[[Console], Any], what: str) -> Any: ...

    def flash_to_ram(self, console: Console, p: Any) -> None: ...

    def save_manifest(self) -> None: ...


class SdBackup:
    def __init__(self, job: Session, layout: Layout, sdfile: SdFile):
        self.job = job
        self.layout = layout
        self.file = sdfile
        self.journal_path = job.plan.out_dir / "sd.journal"

    def _copy(
        self, copier: SdCopy, region: Region, journal: Journal, expect, progress, console: Console
    ) -> int:
        """One region, on this console (a new one after a reset: the card is selected again,
        U-Boot forgot it)."""
        if copier.console is not console:
            sdfind.select_card(console)
            copier.use(console)
        return copier.copy_region(region, journal, self._to_ram(console), expect, progress)

    def _journal(self, header: dict) -> Journal:
        try:
            return Journal.open(self.journal_path, header, restart=self.job.plan.restart)
        except ResumeRefused:
            self.job.say(
                f"{self.journal_path.name} is from another card or preparation: starting over "
                "(what the card holds decides what is copied)"
            )
            return Journal.open(self.journal_path, header, restart=True)

    def _to_ram(self, console: Console):
        return lambda region: self.job.flash_to_ram(console, region)

    def run(self, console: Console) -> None:
        job, h = self.job, self.file.header
        file_id = h.file_id.hex()
        record = job.manifest.get("sd")
        if not isinstance(record, dict) or record.get("file_id") != file_id:
            record = {"file": NAME, "file_id": file_id, "flash_size": h.flash_size, "regions": []}
            job.manifest["sd"] = record
        was_complete = bool(record.get("complete"))
        table = job.plan.table or job.plan.partitions
        header = {"file_id": file_id, "length": h.flash_size, "block": Layout.BLOCK}
        journal = self._journal(header)
        if was_complete and not journal.entries:  # the blocks the camera checked last time
            for off, n, crc in record.get("blocks", []):
                journal.append(Entry(off, n, int(crc, 16), False))
        earlier = {(r["offset"], r["size"]): int(r["crc32"], 16) for r in record["regions"]}
        guard = job.policy.sd_guard
        if guard is None:
            raise SdUnavailable("the SD path needs the SD write guard (a --via md plan)")
        copier = SdCopy(
            console, self.layout, self.file, guard, chunk=job.plan.chunk, timeout=job.timeout
        )
        bar = job.progress(Region(NAME, None, 0, h.flash_size))
        t0 = time.monotonic()
        for region in regions(table, h.flash_size):
            job.say(f"{region.name} 0x{region.offset:06x}+0x{region.size:x}: flash -> {NAME}")
            step = functools.partial(
                self._copy,
                copier,
                region,
                journal,
                earlier.get((region.offset, region.size)),
                bar or _nothing,
            )
            console, crc = job.recovering(console, step, "the copy")
            record["regions"] = [r for r in record["regions"] if r["offset"] != region.offset]
            record["regions"].append(_region_record(region, crc))
            record["regions"].sort(key=lambda r: r["offset"])
            job.save_manifest()
        record["blocks"] = [[e.offset, e.length, f"{e.crc:08x}"] for e in journal.entries]
        record["complete"] = True
        record["seconds"] = round(time.monotonic() - t0, 2)
        record["mmc_writes"] = record.get("mmc_writes", 0) + copier.writes
        record["sectors_written"] = record.get("sectors_written", 0) + copier.sectors_written
        job.save_manifest()
        journal.remove()
        job.say(
            f"the whole flash ({h.flash_size >> 20} MiB) is in {NAME} on the card, checked "
            "by the camera's crc32. Put the card in the PC and run: uboot-dump sd-collect "
            f"CARD/{NAME} -o {job.plan.out_dir}"
        )


def _nothing(done: int) -> None:
    pass


def _region_record(region: Region, crc: int) -> dict:
    return {
        "name": region.name,
        "mtd": region.index,
        "offset": region.offset,
        "size": region.size,
        "crc32": f"{crc:08x}",
    }
