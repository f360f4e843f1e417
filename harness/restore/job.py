"""`verify` and `restore`: the camera's flash against images, per 64 KiB erase block, by the
camera's own `sf read` + `crc32`; and putting back the blocks that differ.

Per block that differs, in this order, each step proven before the next: the image's block
into RAM (harness.restore.loader), the target's crc32 of that RAM equal to the image's (the
proof the policy's FlashWriteGuard is given: it then lets through one `sf erase` and one `sf
write` of exactly that block, nothing else), erase, write, `sf read` back, crc32 equal to the
image's. A block whose image is all 0xFF is only erased. A power loss, reset, kill -9 or dead
line at any moment: the same command again reads the flash's crc32s, finds the half-erased or
half-written block among those that differ, and finishes; no journal is needed to be right
(restore.journal, beside the boot log, records what was done)."""

from __future__ import annotations

import functools
import json
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from harness.backup.session import SessionKeeper
from harness.base.errors import CommandFailed, OtherCamera, SdUnavailable, VerifyFailed
from harness.base.safeio import open_append
from harness.camera.memory import MemoryMap, memory_map
from harness.camera.partitions import model_table
from harness.console.policy import FlashWriteGuard, ReadOnlyPolicy, SdWriteGuard
from harness.console.session import Console, Garbled
from harness.link.power import PowerSwitch
from harness.link.transport import Transport
from harness.read.reader import MemoryReader
from harness.restore.images import ERASE, PartitionImage
from harness.restore.loader import load
from harness.restore.undo import UndoLog
from harness.sd import finder
from harness.sd.copier import SdCopy
from harness.sd.fat32 import SECTOR
from harness.sd.finder import RamWindows, RestoreFile
from harness.sd.restorefile import RESTORE_NAME

LOAD_TRIES = 3


@dataclass(frozen=True)
class _Span:
    """A piece of the flash for `sf read` (the keeper reads extents)."""

    name: str
    offset: int
    size: int


@dataclass
class Summary:
    """Per erase block (by flash offset) what it took: nothing, a write, or an erase only;
    for verify, the blocks that differ (partition, flash offset)."""

    blocks: int = 0
    written: set[int] = field(default_factory=set)
    erased: set[int] = field(default_factory=set)
    differ: list[tuple[str, int]] = field(default_factory=list)

    @property
    def equal(self) -> int:
        return self.blocks - len(self.written) - len(self.erased) - len(self.differ)


class FlashJob:
    """What verify and restore share: the RAM windows, the policy, the session keeper, and
    the flash's crc32 of every block of a partition."""

    def __init__(
        self,
        transport: Transport,
        images: list[PartitionImage],
        workdir: Path,
        *,
        model: str,
        ram: int = 0x21000000,
        writes: bool = False,
        via: str = "line",
        identity: Optional[int] = None,
        other_camera: bool = False,
        prompt: Optional[str] = None,
        timeout: float = 10.0,
        power_timeout: float = 300.0,
        baud: int = 115200,
        power: Optional[PowerSwitch] = None,
        say: Callable[[str], None] = print,
    ):
        self.images = images
        self.identity = identity  # the backup's camera: the crc32 of its vd1
        self.other_camera = other_camera
        self.workdir = workdir
        self.model = model
        largest = max(i.partition.size for i in images)
        self.copy = ram  # the partition, sf read, to take its blocks' crc32s
        self.stage = ram + largest  # the image's block, typed in
        self.back = self.stage + ERASE  # the block read back after its write
        self.card_windows = RamWindows.at(ram)  # the SD finder's (its data window is ours)
        self.say = say
        if via == "auto" and not memory_map(model).contains(ram, self.card_windows.end):
            say("SD path not used: --ram leaves no room for its RAM windows (28 MiB)")
            via = "line"
        self.via = via  # "line", "sd" or "auto" (sd when the card holds UBRESTOR.BIN)
        end = self.back + ERASE
        if via != "line":
            end = max(end, self.card_windows.end)
        self.window = (ram, end)
        self.guard = (
            FlashWriteGuard([(i.partition.offset, i.partition.end) for i in images], ERASE)
            if writes
            else None
        )
        # the undo area of UBRESTOR.BIN: written as the backup's SD path writes UBDUMP.BIN
        self.sd_guard = SdWriteGuard() if writes and via != "line" else None
        policy = ReadOnlyPolicy(
            ram_window=self.window, flash_guard=self.guard, sd_guard=self.sd_guard
        )
        self.check_memory(memory_map(model))
        self.keeper = SessionKeeper(
            transport,
            policy,
            workdir / "bootlog.txt",
            model=model,
            check_memory=self.check_memory,
            prompt=prompt,
            timeout=timeout,
            power_timeout=power_timeout,
            baud=baud,
            power=power,
            say=say,
        )

    def check_memory(self, mm: MemoryMap) -> None:
        what = "the RAM window (--ram + the largest partition + 128 KiB"
        what += ", or 28 MiB for the SD path)" if self.via != "line" else ")"
        mm.require_inside(*self.window, what)

    def start(self) -> None:
        identity = self.keeper.start()
        flash = identity.flash_bytes
        end = max(i.partition.end for i in self.images)
        if flash is not None and end > flash:
            raise VerifyFailed(
                f"the camera's flash is {flash >> 20} MiB; the images reach 0x{end:x}: "
                "this is not the backup's kind of camera"
            )
        if self.guard is not None:
            self._same_camera()

    def _same_camera(self) -> None:
        """A backup is restored onto its own camera (vd1 holds the device identity), or
        with --other-camera, and then never its vd1 or conf."""
        if self.identity is None:
            if not self.other_camera:
                self.say(
                    "note: the backup records no camera identity (made before uboot-dump "
                    "recorded it): whether it is this camera's is not checked"
                )
            return
        table = model_table(self.model) or ()
        vd1 = next((p for p in table if p.name == "vd1"), None)
        if vd1 is None:
            return
        crc = self.keeper.recovering(
            lambda console: self.keeper.flash_crc(console, vd1, self.copy), "the check"
        )
        if crc != self.identity and not self.other_camera:
            raise OtherCamera(
                "this camera's vd1 (its identity) differs from the backup's: the backup is of "
                "another camera"
            )

    def flash_crcs(self, console: Console, image: PartitionImage) -> list[int]:
        """The camera's crc32 of each erase block of the partition (one sf read of it)."""
        p = image.partition
        self.keeper.flash_to_ram(console, p, self.copy)
        reader = MemoryReader(console)
        return [reader.target_crc(self.copy + o, ERASE) for o in range(0, p.size, ERASE)]


class Verify(FlashJob):
    def run(self) -> Summary:
        self.start()
        summary = Summary()
        for image in self.images:
            crcs = self.keeper.recovering(
                functools.partial(self.flash_crcs, image=image), "the verify"
            )
            summary.blocks += len(crcs)
            for (offset, _), want, got in zip(image.blocks(), image.block_crcs(), crcs):
                if want != got:
                    summary.differ.append((image.partition.name, offset))
        return summary


class Restore(FlashJob):
    def __init__(
        self,
        *args: Any,
        progress: Callable[[PartitionImage], Optional[Callable[[int], None]]] = lambda i: None,
        undo: Optional[Path] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, writes=True, **kwargs)
        self.progress = progress
        self.undo = UndoLog(undo, self.model) if undo is not None else None
        self.journal_path = self.workdir / "restore.journal"
        self.card: Optional[RestoreFile] = None  # UBRESTOR.BIN on the camera's card
        self._card_console: Optional[Console] = None  # the session the card was selected in

    def run(self) -> Summary:
        self.start()
        if self.via != "line":
            self._find_card()
        summary = Summary(blocks=sum(i.partition.size // ERASE for i in self.images))
        for image in self.images:
            self.keeper.recovering(
                functools.partial(self._partition, image, summary), "the restore"
            )
        return summary

    def _partition(self, image: PartitionImage, summary: Summary, console: Console) -> None:
        """Every block of the partition equal to the image's (run again after a reset: the
        flash's crc32s say what is left)."""
        p = image.partition
        crcs = self.flash_crcs(console, image)
        wanted = image.block_crcs()
        todo = [i for i, (w, g) in enumerate(zip(wanted, crcs)) if w != g]
        self.say(
            f"{p.describe()}: {len(wanted) - len(todo)} of {len(wanted)} blocks already equal "
            f"to {image.source}" + (f"; {len(todo)} to write" if todo else "")
        )
        bar = self.progress(image) if todo else None
        blocks = image.blocks()
        for n, i in enumerate(todo):
            offset, data = blocks[i]
            if self.undo is not None and not self.undo.has(offset):
                self._keep(console, self.copy + offset - p.offset, offset, crcs[i])
            self._write(console, offset, data, wanted[i])
            (summary.erased if data == b"\xff" * len(data) else summary.written).add(offset)
            self._record(p.name, offset, crcs[i], wanted[i])
            if bar is not None:
                bar((n + 1) * ERASE)

    def _keep(self, console: Console, ram: int, offset: int, crc: int) -> None:
        """The block's old content (in RAM at `ram`, its crc32 `crc`) kept before its erase:
        on the card's UBRESTOR.BIN (its undo area, proven sector by sector as the backup's
        SD path proves UBDUMP.BIN's) or, over the line, read with md to the PC."""
        assert self.undo is not None
        if self.card is not None and self.sd_guard is not None:
            self._card_session(console)
            area = finder.UndoArea(self.card)
            copy = SdCopy(console, self.card_windows, area, self.sd_guard,
                          timeout=self.keeper.timeout, name=RESTORE_NAME)  # fmt: skip
            copy.copy_block(ram, offset, ERASE, crc)
            self.undo.keep_on_card(offset, ERASE, crc, self.card.header.file_id)
            return
        old = MemoryReader(console).read_chunk(ram, ERASE)
        if zlib.crc32(old) != crc:
            raise VerifyFailed(f"the old content of 0x{offset:x} changed while read")
        self.undo.keep(offset, old)  # before the erase

    def _card_session(self, console: Console) -> None:
        """The card selected in this session (again, after a reset)."""
        if console is not self._card_console:
            finder.select_card(console)
            self._card_console = console

    def _write(self, console: Console, offset: int, data: bytes, crc: int) -> None:
        """One block: staged and proven, erased, written, read back. A damaged exchange of
        the erase or the write (did it run?) starts the block again; the read-back decides."""
        assert self.guard is not None
        erased = data == b"\xff" * len(data)
        for _ in range(LOAD_TRIES):
            try:
                if erased:
                    self.guard.prove_erased(offset, ERASE)
                else:
                    self._stage(console, offset, data, crc)
                    self.guard.prove(self.stage, offset, ERASE)  # nothing else may be sent now
                self._sf(console, f"sf erase {offset:x} {ERASE:x}", b"Erased: OK")
                if not erased:
                    self._sf(
                        console, f"sf write {self.stage:x} {offset:x} {ERASE:x}", b"Written: OK"
                    )
            except Garbled:
                continue
            if self._read_back(console, offset) == crc:
                return
        raise VerifyFailed(
            f"flash 0x{offset:x}+0x{ERASE:x} does not read back as the image's block after "
            f"{LOAD_TRIES} tries: the flash did not take the write (worn or protected?), or "
            "the line is too noisy"
        )

    def _find_card(self) -> None:
        """UBRESTOR.BIN on the camera's card, holding every image's partition; with --via
        auto, the line when there is none (said)."""
        console = self.keeper.console
        try:
            card = finder.locate_restore(
                console,
                MemoryReader(console),
                self.card_windows,
                timeout=self.keeper.timeout,
                say=self.say,
            )
            missing = [
                i.partition.name
                for i in self.images
                if not card.header.holds(i.partition.offset, i.data)
            ]
            if missing or card.header.model != self.model:
                raise SdUnavailable(
                    f"{RESTORE_NAME} on the card was prepared for another restore (it does not "
                    f"hold these images of {', '.join(missing) or 'the partitions'}, model "
                    f"{self.model}): run `uboot-dump sd-prepare --restore` for this one"
                )
        except SdUnavailable as exc:
            if self.via == "sd":
                raise SdUnavailable(f"{exc}; or restore over the serial line: --via line") from None
            self.say(f"SD path not used: {exc}; over the serial line instead")
            return
        self.card, self._card_console = card, console

    def _stage(self, console: Console, offset: int, data: bytes, crc: int) -> None:
        """The image's block in RAM at self.stage, proven by the target's crc32: read from
        the card (mmc read) or typed over the line (mw.l)."""
        reader = MemoryReader(console)
        for _ in range(LOAD_TRIES):
            if reader.target_crc(self.stage, ERASE) == crc:  # a retry may find it there
                return
            if self.card is not None:
                self._from_card(console, offset)
            else:
                load(console, self.stage, data)
        if reader.target_crc(self.stage, ERASE) != crc:
            where = (
                f"the card's {RESTORE_NAME} does not hold the backup's block at 0x{offset:x}: "
                "prepare the card again"
                if self.card is not None
                else "an image block did not arrive intact in RAM: the line is too noisy"
            )
            raise VerifyFailed(f"{where} ({LOAD_TRIES} tries)")

    def _from_card(self, console: Console, offset: int) -> None:
        assert self.card is not None
        self._card_session(console)
        card = finder.CardReader(console, MemoryReader(console), self.keeper.timeout)
        addr = self.stage
        for piece in self.card.pieces(offset, ERASE):
            card.mmc_read(addr, piece.card_sector, piece.count)
            addr += piece.count * SECTOR

    def _sf(self, console: Console, command: str, ok: bytes) -> None:
        out = console.run(command, check_errors=False, expect_chars=120, timeout=60.0)
        if ok not in out:
            said = out.decode("latin-1").strip() or "no answer"
            raise CommandFailed(f"{command}: {said}")

    def _read_back(self, console: Console, offset: int) -> int:
        return self.keeper.flash_crc(console, _Span(f"0x{offset:x}", offset, ERASE), self.back)

    def _record(self, name: str, offset: int, old: int, new: int) -> None:
        line = {"partition": name, "offset": offset, "old_crc32": f"{old:08x}"}
        line["crc32"] = f"{new:08x}"
        line["time"] = round(time.time(), 3)
        with open_append(self.journal_path) as f:
            f.write((json.dumps(line) + "\n").encode())
