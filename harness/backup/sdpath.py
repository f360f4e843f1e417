"""The SD path (`backup --via sd`): the whole flash copied to the prepared file on the card,
region by region, resumable (sd.journal beside the manifest), surviving resets and power
losses the way the md path does (the session keeper brings the camera back, the flash is
read into RAM again, the copy goes on). The manifest's `sd` record (the file's id, the
camera's crc32 of every region and block) is what `sd-collect` checks the card against."""

from __future__ import annotations

import functools
import time
from typing import Callable, Optional

from harness.backup.manifest import Manifest
from harness.backup.plan import Plan
from harness.backup.session import SessionKeeper
from harness.base.errors import ResumeRefused, SdUnavailable
from harness.console.policy import SdWriteGuard
from harness.console.session import Console
from harness.read.journal import Entry, Journal
from harness.read.reader import MemoryReader
from harness.sd import finder
from harness.sd.copier import Region, SdCopy, regions
from harness.sd.finder import RamWindows, SdFile
from harness.sd.staging import NAME

Progress = Callable[[Region], Optional[Callable[[int], None]]]


def find_card(keeper: SessionKeeper, plan: Plan, say=print) -> SdFile:
    """The prepared file on the camera's card, for this camera's flash; SdUnavailable if
    there is none (no mmc, no card, no file, or one prepared for another flash size)."""
    console = keeper.console
    sdfile = finder.locate(
        console,
        MemoryReader(console),
        RamWindows.at(plan.ram),
        timeout=keeper.timeout,
        say=say,
    )
    flash = keeper.identity.flash_bytes if keeper.identity is not None else None
    if flash is not None and flash != sdfile.header.flash_size:
        raise SdUnavailable(
            f"{NAME} was prepared for {sdfile.header.flash_size >> 20} MiB of flash; this "
            f"camera has {flash >> 20} MiB: prepare the card again with --flash-size"
        )
    return sdfile


class SdPath:
    def __init__(
        self,
        keeper: SessionKeeper,
        plan: Plan,
        manifest: Manifest,
        sdfile: SdFile,
        guard: SdWriteGuard,
        *,
        say: Callable[[str], None] = print,
        progress: Progress = lambda r: None,
    ):
        self.keeper = keeper
        self.plan = plan
        self.manifest = manifest
        self.file = sdfile
        self.guard = guard
        self.windows = RamWindows.at(plan.ram)
        self.say = say
        self.progress = progress
        self.journal_path = plan.out_dir / "sd.journal"

    def _copy(
        self, copier: SdCopy, region: Region, journal: Journal, expect, progress, console: Console
    ) -> int:
        """One region, on this console (a new one after a reset: the card is selected again,
        U-Boot forgot it)."""
        if copier.console is not console:
            finder.select_card(console)
            copier.use(console)

        def to_ram(r: Region) -> None:
            self.keeper.flash_to_ram(console, r, self.windows.data)

        return copier.copy_region(region, journal, to_ram, expect, progress)

    def _journal(self, header: dict) -> Journal:
        try:
            return Journal.open(self.journal_path, header, restart=self.plan.restart)
        except ResumeRefused:
            self.say(
                f"{self.journal_path.name} is from another card or preparation: starting over "
                "(what the card holds decides what is copied)"
            )
            return Journal.open(self.journal_path, header, restart=True)

    def run(self) -> None:
        h, data = self.file.header, self.manifest.data
        file_id = h.file_id.hex()
        record = data.get("sd")
        if not isinstance(record, dict) or record.get("file_id") != file_id:
            record = {"file": NAME, "file_id": file_id, "flash_size": h.flash_size, "regions": []}
            data["sd"] = record
        was_complete = bool(record.get("complete"))
        table = self.plan.table or self.plan.partitions
        header = {"file_id": file_id, "length": h.flash_size, "block": RamWindows.BLOCK}
        journal = self._journal(header)
        if was_complete and not journal.entries:  # the blocks the camera checked last time
            for off, n, crc in record.get("blocks", []):
                journal.append(Entry(off, n, int(crc, 16), False))
        earlier = {(r["offset"], r["size"]): int(r["crc32"], 16) for r in record["regions"]}
        copier = SdCopy(
            self.keeper.console,
            self.windows,
            self.file,
            self.guard,
            chunk=self.plan.chunk,
            timeout=self.keeper.timeout,
        )
        bar = self.progress(Region(NAME, None, 0, h.flash_size))
        t0 = time.monotonic()
        for region in regions(table, h.flash_size):
            self.say(f"{region.name} 0x{region.offset:06x}+0x{region.size:x}: flash -> {NAME}")
            step = functools.partial(
                self._copy,
                copier,
                region,
                journal,
                earlier.get((region.offset, region.size)),
                bar or _nothing,
            )
            crc = self.keeper.recovering(step, "the copy")
            record["regions"] = [r for r in record["regions"] if r["offset"] != region.offset]
            record["regions"].append(_region_record(region, crc))
            record["regions"].sort(key=lambda r: r["offset"])
            self.manifest.save()
        record["blocks"] = [[e.offset, e.length, f"{e.crc:08x}"] for e in journal.entries]
        record["complete"] = True
        record["seconds"] = round(time.monotonic() - t0, 2)
        record["mmc_writes"] = record.get("mmc_writes", 0) + copier.writes
        record["sectors_written"] = record.get("sectors_written", 0) + copier.sectors_written
        self.manifest.save()
        journal.remove()
        self.say(
            f"the whole flash ({h.flash_size >> 20} MiB) is in {NAME} on the card, checked "
            "by the camera's crc32. Put the card in the PC and run: uboot-dump sd-collect "
            f"CARD/{NAME} -o {self.plan.out_dir}"
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
