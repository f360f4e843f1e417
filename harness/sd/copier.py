"""The SD path's copy: flash → RAM → the prepared file on the card, with only commands and
CRCs on the serial line.

Per region of the flash (each partition, and what lies between them) the region is read
into RAM with `sf read` and the camera's crc32 of it recorded; then per block of at most
1 MiB: its crc32; `mmc read` of the file's sectors for it into a second window and their
crc32, which says what the card holds there:
- the file's pattern (host-computed CRC): the guard is told those exact sectors are proven,
  `mmc write` copies the block, and the loop reads it back;
- the flash data (the camera's CRC of the block in RAM): done, the block is journaled;
- a mix (a write cut short by a power loss): halves are classified the same way down to
  single sectors; a sector that holds neither is never written and stops the run.
The card's state decides everything, so a run killed anywhere resumes correctly; the
journal only spares the reads of blocks already known to be done.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from typing import Callable, Optional

from harness.base.errors import CommandFailed, ResumeRefused, SdUnavailable, VerifyFailed
from harness.console.policy import SdWriteGuard
from harness.console.replies import MmcFailed, ReplyError, mmc_reply
from harness.console.session import Console, Garbled
from harness.read.journal import Entry, Journal
from harness.read.reader import DEFAULT_CHUNK, MemoryReader
from harness.sd.fat32 import SECTOR, Run
from harness.sd.finder import CardReader, RamWindows, SdFile, UndoArea
from harness.sd.staging import NAME, pattern

ROUNDS = 6
SPANS = 2  # random byte ranges checked by crc32 before a write (see _prove_pattern)
_rng = random.SystemRandom()  # drawn after the card is read: a crafted card cannot know them
FLASH_CHANGED = (
    "the camera's flash at {} differs from what the card's copy recorded (another camera, or "
    "its flash changed): prepare the card again (sd-prepare --force) and back up into a new "
    "directory"
)
CARD_GONE = (
    "the SD card stopped answering ({}): was it taken out? Put it back and run the same "
    "command again: the copy resumes where it stopped"
)


@dataclass(frozen=True)
class Region:
    name: str  # a partition's name, or "gap@0x..." for flash no partition covers
    index: Optional[int]  # its mtd number
    offset: int
    size: int

    @property
    def end(self) -> int:
        return self.offset + self.size


def regions(table, flash_size: int, most: int = RamWindows.REGION_MAX) -> list[Region]:
    """The whole flash in order: the table's partitions and the gaps between them, each cut
    into pieces of at most `most` bytes (the RAM window holds one at a time)."""
    out: list[Region] = []
    pos = 0
    for p in sorted(table, key=lambda p: p.offset):
        if p.offset < pos or p.end > flash_size:
            raise SdUnavailable(f"partition {p.name} does not fit the flash's layout")
        if p.offset > pos:
            out.append(Region(f"gap@0x{pos:x}", None, pos, p.offset - pos))
        out.append(Region(p.name, p.index, p.offset, p.size))
        pos = p.end
    if pos < flash_size:
        out.append(Region(f"gap@0x{pos:x}", None, pos, flash_size - pos))
    cut = []
    for r in out:
        for off in range(r.offset, r.end, most):
            cut.append(Region(r.name, r.index, off, min(most, r.end - off)))
    return cut


class SdCopy:
    def __init__(
        self,
        console: Console,
        layout: RamWindows,
        sdfile: SdFile | UndoArea,
        guard: SdWriteGuard,
        *,
        chunk: int = DEFAULT_CHUNK,
        timeout: float = 10.0,
        name: str = NAME,
    ):
        self.layout = layout
        self.file = sdfile
        self.name = name  # the file, as messages name it
        self.guard = guard
        self.chunk = chunk
        self.timeout = timeout
        self.writes = 0  # mmc writes sent
        self.sectors_written = 0
        self.use(console)

    def use(self, console: Console) -> None:
        """Go on through this console (a new session after a reset)."""
        self.console = console
        self.reader = MemoryReader(console, chunk=self.chunk)
        self.card = CardReader(console, self.reader, self.timeout)

    # -- one region -----------------------------------------------------------------------
    def copy_region(
        self,
        region: Region,
        journal: Journal,
        to_ram: Callable[[Region], None],
        expect: Optional[int] = None,
        progress: Callable[[int], None] = lambda done: None,
    ) -> int:
        """Copy a region whose flash bytes `to_ram` puts at layout.data; its camera crc32.
        Every block is checked on the card, also those the journal says are done (a card
        can lose a block, a journal can be wrong); `expect` is the region's crc32 from an
        earlier run: a flash that no longer has it is another camera's, or changed."""
        to_ram(region)
        crc = self.reader.target_crc(self.layout.data, region.size)
        if expect is not None and crc != expect:
            raise ResumeRefused(FLASH_CHANGED.format(f"{region.name} 0x{region.offset:x}"))
        claimed = {e.offset: e for e in journal.entries}
        off = region.offset
        while off < region.end:
            n = min(RamWindows.BLOCK, region.end - off)
            ram = self.layout.data + off - region.offset
            block_crc = self.reader.target_crc(ram, n)
            known = claimed.get(off)
            if known is not None and (known.length, known.crc) != (n, block_crc):
                raise ResumeRefused(FLASH_CHANGED.format(f"0x{off:x}+0x{n:x}"))
            self.copy_block(ram, off, n, block_crc)
            if known is None:
                journal.append(Entry(off, n, block_crc, False))
            off += n
            progress(off)
        return crc

    # -- one block ------------------------------------------------------------------------
    def copy_block(self, ram: int, offset: int, n: int, data_crc: int) -> None:
        if offset % SECTOR or n % SECTOR:
            raise SdUnavailable(f"flash range 0x{offset:x}+0x{n:x} is not whole sectors")
        first, count = offset // SECTOR, n // SECTOR
        pat = pattern(self.file.header.file_id, first, count)
        pieces = self.file.pieces(first, count)
        for _ in range(ROUNDS):
            for p in pieces:
                self._read(self._verify_addr(p, first), p)
            got = self.reader.target_crc(self.layout.verify, n)
            if got == data_crc:
                return
            if got == zlib.crc32(pat):
                todo = [(0, count)]
            else:
                todo = _merge(self._classify(ram, first, 0, count, pat))
            for lo, hi in todo:
                self._prove_pattern(first, lo, hi, pat)
            writes = [p for lo, hi in todo for p in self.file.pieces(first + lo, hi - lo)]
            self._write(ram, first, writes)
        raise VerifyFailed(
            f"flash 0x{offset:x}+0x{n:x}: the card's sectors did not read back as written "
            f"after {ROUNDS} tries: the card may be failing"
        )

    def _prove_pattern(self, first: int, lo: int, hi: int, pat: bytes) -> None:
        """More than one crc32 before sectors lo .. hi of the block are written: their whole
        CRC already equals the pattern's; now also each piece of the file's chain among
        them on its own (a piece that lies elsewhere on the card must hold the pattern by
        itself), and SPANS byte ranges whose ends are drawn at random now, after the card
        was read. Content that is not the pattern passes all of them only if it differs
        from it by a multiple of the CRC polynomial that no drawn end cuts: ordinary data
        never does, and a block crafted to match one CRC (4 bytes adjusted) does not."""
        checks = []
        parts = self.file.pieces(first + lo, hi - lo)
        if len(parts) > 1:
            for r in parts:
                a = (r.file_sector - 1 - first) * SECTOR
                checks.append((a, r.count * SECTOR))
        span = (hi - lo) * SECTOR
        for _ in range(SPANS):
            a, b = sorted(_rng.sample(range(span + 1), 2))
            checks.append((lo * SECTOR + a, b - a))
        for a, n in checks:
            if not self._steadily_differs(self.layout.verify + a, n, zlib.crc32(pat[a : a + n])):
                continue
            card = self.file.pieces(first + lo, 1)[0].card_sector
            raise SdUnavailable(
                f"sectors {first + lo + 1}..{first + hi} of {self.name} (from card sector "
                f"{card}) match the pattern's crc32 as a whole but not in part: they hold "
                "something else (a crafted or cross-linked card), so they are not written; "
                "repair the card (fsck.vfat, chkdsk) and prepare it again (sd-prepare --force)"
            )

    def _steadily_differs(self, addr: int, n: int, want: int) -> bool:
        """Does the camera's crc32 of RAM differ from `want`, twice the same way? A reply
        damaged on the line parses as well as a true one (a flipped hex digit of the CRC),
        so one different answer is asked again: true content answers the same every time,
        noise does not (and never the expected value by chance)."""
        seen: set[int] = set()
        for _ in range(4):
            got = self.reader.target_crc(addr, n)
            if got == want:
                return False
            if got in seen:
                return True
            seen.add(got)
        raise VerifyFailed(
            f"no two crc32 replies for 0x{addr:x}+0x{n:x} agree: the line is too noisy"
        )

    def _verify_addr(self, p: Run, first: int) -> int:
        return self.layout.verify + (p.file_sector - 1 - first) * SECTOR

    def _read(self, addr: int, p: Run) -> None:
        try:
            self.card.mmc_read(addr, p.card_sector, p.count)
        except MmcFailed as exc:
            raise CommandFailed(CARD_GONE.format(exc)) from None

    def _classify(
        self, ram: int, first: int, lo: int, hi: int, pat: bytes
    ) -> list[tuple[int, int]]:
        """The sub-ranges of block sectors lo .. hi that still hold the pattern; those that
        hold the data are left out; a sector that holds neither stops everything."""
        length = (hi - lo) * SECTOR
        got = self.reader.target_crc(self.layout.verify + lo * SECTOR, length)
        if got == zlib.crc32(pat[lo * SECTOR : hi * SECTOR]):
            return [(lo, hi)]
        if got == self.reader.target_crc(ram + lo * SECTOR, length):
            return []
        if hi - lo == 1:
            card = self.file.pieces(first + lo, 1)[0].card_sector
            raise SdUnavailable(
                f"sector {first + lo + 1} of {self.name} (card sector {card}) holds neither its "
                "pattern nor the flash's data: something else wrote to the file, so it is "
                "not written; prepare the card again (sd-prepare --force)"
            )
        mid = (lo + hi) // 2
        return self._classify(ram, first, lo, mid, pat) + self._classify(ram, first, mid, hi, pat)

    def _write(self, ram: int, first: int, writes: list[Run]) -> None:
        """mmc write of sectors the camera has just shown to hold the pattern, in order; a
        damaged exchange ends the batch (the caller reads the block again)."""
        self.guard.prove([(w.card_sector, w.count) for w in writes])
        for w in writes:
            if not self.guard.pending:
                return  # a resync voided the proofs: read the block again first
            src = ram + (w.file_sector - 1 - first) * SECTOR
            command = f"mmc write {src:x} {w.card_sector:x} {w.count:x}"
            self.writes += 1
            try:
                out = self.console.run(
                    command,
                    timeout=self.timeout + w.count * SECTOR / 1e6,
                    check_errors=False,
                    expect_chars=160,
                )
                mmc_reply(out, "write", w.card_sector, w.count)
                self.sectors_written += w.count
            except (Garbled, ReplyError):
                self.guard.void()
                return
            except MmcFailed as exc:
                self.guard.void()
                if exc.reason == "protected":
                    raise SdUnavailable(
                        "the card is write-protected: slide its lock switch up and run the "
                        "same command again"
                    ) from None
                raise CommandFailed(CARD_GONE.format(exc)) from None


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for lo, hi in ranges:
        if out and out[-1][1] == lo:
            out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out
