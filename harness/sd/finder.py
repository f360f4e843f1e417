"""Finds the prepared UBDUMP.BIN on the camera's SD card through the console: `mmc dev`, then
the MBR, the FAT32 boot sector, the root directory and the file's cluster chain, each read
with `mmc read` into RAM and from there with the verified reader (`md` checked by `crc32`).

The chain costs almost nothing over the line: a prepared file is usually contiguous, so the
FAT entries it should have are predicted and checked with one `crc32` of the camera; only
where a prediction fails (the file is fragmented there) is the entry read with `md`. Nothing
here writes to the card.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Callable

from harness.base.errors import SdUnavailable
from harness.console.replies import MmcFailed, ReplyError, mmc_reply
from harness.console.session import Console, Garbled
from harness.read.reader import MemoryReader
from harness.sd import fat32
from harness.sd.fat32 import SECTOR, FatError, Run, Volume
from harness.sd.restorefile import RESTORE_NAME, RestoreFileError, RestoreHeader
from harness.sd.staging import NAME, Header, SdFileError

FAT_PIECE = 256  # FAT sectors read into RAM at a time
DIR_ENTRIES_MAX = 65536  # the most a FAT directory can hold (the FAT32 specification)
DIR_SLOW = 4096  # entries after which the search says it goes on (md of every sector)
PIECES_MAX = 64  # a file in more pieces is refused: each costs commands over the line


@dataclass(frozen=True)
class RamWindows:
    """Where the SD path puts things in the camera's RAM (all inside the tool's window): 28
    MiB from `--ram`, so 0x21000000..0x22C00000 by default, well below what the vendor's
    U-Boot keeps at the top of the camera's 64 MiB (include/configs/infinity3.h@e98ba4e:
    TEXT_BASE 0x23E00000, relocated to the top; its heap, ENV + 4 MiB, and stack below)."""

    data: int  # a flash region, read with sf read (up to REGION_MAX)
    verify: int  # card sectors read back (one block)
    meta: int  # one sector of the MBR, boot sector, directory, file header
    fat: int  # the FAT, from its first sector on
    end: int

    REGION_MAX = 0x1000000
    BLOCK = 0x100000

    @classmethod
    def at(cls, ram: int) -> RamWindows:
        verify = ram + cls.REGION_MAX
        meta = verify + cls.BLOCK
        fat = meta + cls.BLOCK
        return cls(ram, verify, meta, fat, fat + 0xA00000)

    @property
    def window(self) -> tuple[int, int]:
        return (self.data, self.end)


@dataclass(frozen=True)
class SdFile:
    header: Header
    volume: Volume
    runs: tuple[Run, ...]  # file sectors (0 = the header) on the card

    def pieces(self, data_sector: int, count: int) -> list[Run]:
        """Where data sectors data_sector .. + count lie on the card."""
        return fat32.pieces(list(self.runs), 1 + data_sector, count)


class CardReader:
    """`mmc read` into RAM with its reply checked, and sectors from there with md."""

    def __init__(self, console: Console, reader: MemoryReader, timeout: float):
        self.console = console
        self.reader = reader
        self.timeout = timeout

    def mmc_read(self, addr: int, block: int, count: int) -> None:
        try:
            self.console.ask(
                f"mmc read {addr:x} {block:x} {count:x}",
                lambda out: mmc_reply(out, "read", block, count),
                timeout=self.timeout + count * SECTOR / 1e6,
                check_errors=False,
                expect_chars=160,
            )
        except (Garbled, ReplyError):
            raise SdUnavailable("no readable reply to mmc read: the line is too noisy") from None

    def sector(self, addr: int, block: int, length: int = SECTOR) -> bytes:
        self.mmc_read(addr, block, 1)
        return self.reader.read_chunk(addr, length)


def select_card(console: Console) -> None:
    """`mmc dev 0`: initialises the card (again) and makes it current."""
    try:
        out: bytes = console.ask("mmc dev 0", check_errors=False, expect_chars=200, timeout=15)
    except Garbled:
        raise SdUnavailable("no readable reply to mmc dev: the line is too noisy") from None
    if b"mmc0 is current device" not in out:
        said = out.decode("latin-1").strip().splitlines()
        why = said[0].strip() if said else "no answer"
        raise SdUnavailable(f"no usable SD card in the camera (mmc dev 0: {why})")


def _card(console: Console, reader: MemoryReader, timeout: float) -> CardReader:
    """The card in the camera, selected; SdUnavailable without `mmc` or a card."""
    if not console.capabilities().has("mmc"):
        raise SdUnavailable("the camera's U-Boot has no `mmc` command (no SD path on it)")
    select_card(console)
    return CardReader(console, reader, timeout)


def locate(
    console: Console,
    reader: MemoryReader,
    layout: RamWindows,
    *,
    timeout: float = 10.0,
    say: Callable[[str], None] = print,
) -> SdFile:
    """The prepared file on the card in the camera; SdUnavailable if there is none."""
    card = _card(console, reader, timeout)
    try:
        return _locate(card, layout, say)
    except MmcFailed as exc:
        raise SdUnavailable(f"the card cannot be read ({exc})") from None
    except (FatError, SdFileError) as exc:
        raise SdUnavailable(str(exc)) from None


def _locate(card: CardReader, layout: RamWindows, say: Callable[[str], None]) -> SdFile:
    first, vol, runs = _find_file(
        card, layout, NAME, lambda raw: Header.unpack(raw).file_bytes, say
    )
    header = Header.unpack(first)
    say(
        f"SD card: {NAME} found, {header.flash_size >> 20} MiB of flash space"
        f" in {len(runs)} piece{'s' if len(runs) > 1 else ''} (FAT32, "
        f"{vol.cluster_bytes // 1024} KiB clusters)"
    )
    return SdFile(header, vol, runs)


@dataclass(frozen=True)
class RestoreFile:
    """UBRESTOR.BIN on the camera's card: its header, and where its sectors lie."""

    header: RestoreHeader
    volume: Volume
    runs: tuple[Run, ...]

    def pieces(self, flash_offset: int, length: int) -> list[Run]:
        """Where the file holds the flash bytes flash_offset .. + length."""
        first = self.header.data_sector(flash_offset)
        return fat32.pieces(list(self.runs), 1 + first, length // SECTOR)

    def undo_pieces(self, flash_offset: int, length: int) -> list[Run]:
        """Where the file keeps the old content of flash_offset .. + length, numbered as
        the flash's sectors (file_sector 1 + n stands for flash sector n), the way the SD
        copy numbers UBDUMP.BIN's: so the copy writes there as it writes a backup."""
        first = self.header.undo_sector(flash_offset)
        shift = flash_offset // SECTOR - first
        return [
            Run(r.file_sector + shift, r.card_sector, r.count)
            for r in fat32.pieces(list(self.runs), 1 + first, length // SECTOR)
        ]


@dataclass(frozen=True)
class UndoArea:
    """UBRESTOR.BIN's undo area as the SD copy (copier.SdCopy) sees a file: data sectors
    numbered as the flash's, each holding its pattern until written."""

    file: RestoreFile

    @property
    def header(self) -> RestoreHeader:
        return self.file.header

    def pieces(self, data_sector: int, count: int) -> list[Run]:
        return self.file.undo_pieces(data_sector * SECTOR, count * SECTOR)


def locate_restore(
    console: Console,
    reader: MemoryReader,
    layout: RamWindows,
    *,
    timeout: float = 10.0,
    say: Callable[[str], None] = print,
) -> RestoreFile:
    """UBRESTOR.BIN (sd-prepare --restore) on the card in the camera; SdUnavailable if
    there is none."""
    card = _card(console, reader, timeout)
    try:
        first, vol, runs = _find_file(
            card, layout, RESTORE_NAME, lambda raw: RestoreHeader.unpack(raw).file_bytes, say
        )
    except MmcFailed as exc:
        raise SdUnavailable(f"the card cannot be read ({exc})") from None
    except (FatError, RestoreFileError) as exc:
        raise SdUnavailable(str(exc)) from None
    header = RestoreHeader.unpack(first)
    say(f"SD card: {RESTORE_NAME} found, {header.data_bytes >> 10} KiB in {len(runs)} pieces")
    return RestoreFile(header, vol, runs)


def _find_file(
    card: CardReader,
    layout: RamWindows,
    name: str,
    length: Callable[[bytes], int],
    say: Callable[[str], None],
) -> tuple[bytes, Volume, tuple[Run, ...]]:
    """The file `name` in the card's top directory: the first 256 bytes of it, the volume,
    and where its sectors lie (its chain checked: no loop, few pieces, not shared).
    `length(first bytes)`: the file's size as its header says."""
    start = fat32.partition_start(card.sector(layout.meta, 0))
    vol = fat32.boot_sector(card.sector(layout.meta, start), start)
    fat = FatWindow(card, vol, layout, name)
    entries = _root_directory(card, fat, vol, layout, say)
    entry = fat32.lookup(entries, name)
    if entry is None:
        how = "sd-prepare --restore" if name == RESTORE_NAME else "sd-prepare"
        raise SdUnavailable(
            f"no {name} among the {len(entries)} entries of the card's top directory: run "
            f"`uboot-dump {how}` on it first"
        )
    first = card.sector(layout.meta, vol.cluster_sector(entry.first_cluster), 256)
    size = length(first)
    if entry.size < size:
        raise SdUnavailable(f"{name} is shorter than its header says: prepare the card again")
    clusters = -(-size // vol.cluster_bytes)
    chain = fat.chain(entry.first_cluster, clusters)
    _check_exclusive(fat, chain, [e for e in entries if e is not entry])
    return first, vol, tuple(fat32.runs(chain, vol))


def _root_directory(
    card: CardReader, fat: FatWindow, vol: Volume, layout: RamWindows, say: Callable[[str], None]
) -> list[fat32.DirEntry]:
    """Every live entry of the card's top directory, read sector by sector up to its end
    marker (one sector on a card with a few files); a looping or endless directory stops."""
    out: list[fat32.DirEntry] = []
    cluster, seen, read = vol.root_cluster, set(), 0
    while True:
        if cluster in seen:
            raise SdUnavailable("the card's top directory loops on itself: the FAT is damaged")
        seen.add(cluster)
        base = vol.cluster_sector(cluster)
        for i in range(vol.sectors_per_cluster):
            entries, end = fat32.directory_entries(card.sector(layout.meta, base + i))
            out += entries
            read += SECTOR // fat32.DIRENT
            if end:
                return out
            if read == DIR_SLOW:
                say(
                    f"the card's top directory holds more than {DIR_SLOW} entries: reading "
                    "on (slow over the line; a card with fewer files there is faster)"
                )
            if read >= DIR_ENTRIES_MAX:
                raise SdUnavailable(
                    f"the card's top directory goes on past {DIR_ENTRIES_MAX} entries, the "
                    "most FAT32 allows: the file system is damaged"
                )
        nxt = fat.next(cluster)
        if nxt is None:
            return out
        cluster = nxt


def _check_exclusive(fat: FatWindow, chain: list[int], others: list[fat32.DirEntry]) -> None:
    name = fat.name
    """Evidence that the file's clusters are its own: no other entry of the top directory
    starts inside them, and no other chain runs into any piece of it (the FAT entry of the
    cluster just before each piece's first does not name that cluster). Not proven: that no
    file in a subdirectory starts inside it, or that no chain jumps into it from afar."""
    mine = set(chain)
    for e in others:
        if e.first_cluster in mine and e.name.strip(". "):
            raise SdUnavailable(
                f"{e.name[:8].rstrip()}.{e.name[8:].rstrip()} on the card starts inside "
                f"{name}'s clusters (a cross-linked FAT): repair the card (fsck.vfat, chkdsk) "
                "and prepare it again"
            )
    starts = [c for i, c in enumerate(chain) if i == 0 or chain[i - 1] != c - 1]
    for c in starts:
        if c - 1 >= 2 and fat.matches(c - 1, 1):  # its entry names c
            raise SdUnavailable(
                f"cluster {c} of {name} is also the next cluster of cluster {c - 1}, which is "
                "not the file's (a cross-linked FAT): repair the card (fsck.vfat, chkdsk) and "
                "prepare it again"
            )


class FatWindow:
    """The first FAT, read into RAM from its start as far as the chains need it."""

    def __init__(self, card: CardReader, vol: Volume, layout: RamWindows, name: str = NAME):
        self.name = name  # the file whose chain is followed (for the messages)
        self.card = card
        self.vol = vol
        self.base = layout.fat
        self.capacity = min(vol.fat_sectors, (layout.end - layout.fat) // SECTOR)
        self.loaded = 0  # FAT sectors in RAM

    def _need(self, cluster: int) -> int:
        """The RAM address of `cluster`'s entry, reading FAT sectors up to it."""
        sector = cluster * fat32.ENTRY // SECTOR
        if sector >= self.capacity:
            raise SdUnavailable(
                f"{self.name} lies beyond the first {self.capacity * SECTOR >> 20} MiB of the FAT "
                "(a very large card): use a smaller card, or format it and prepare it again"
            )
        while self.loaded <= sector:
            n = min(FAT_PIECE, self.capacity - self.loaded)
            self.card.mmc_read(
                self.base + self.loaded * SECTOR, self.vol.fat_start + self.loaded, n
            )
            self.loaded += n
        return self.base + cluster * fat32.ENTRY

    def next(self, cluster: int):
        addr = self._need(cluster)
        value = fat32.entry_value(self.card.reader.read_chunk(addr, fat32.ENTRY))
        return fat32.check_next(cluster, value, self.vol)

    def matches(self, cluster: int, count: int) -> bool:
        """Do the entries of clusters cluster .. + count each name the next one?"""
        addr = self._need(cluster + count - 1)
        want = zlib.crc32(fat32.contiguous_entries(cluster, count, last_is_end=False))
        return self.card.reader.target_crc(addr - (count - 1) * fat32.ENTRY, count * 4) == want

    def chain(self, first: int, clusters: int) -> list[int]:
        """The first `clusters` clusters of the chain that starts at `first`. A chain that
        comes back to a cluster it passed, or lies in more than PIECES_MAX pieces, stops at
        once (a damaged or crafted FAT would otherwise cost a command per cluster)."""
        chain = [first]
        seen = {first}
        c = first
        pieces = 1
        while len(chain) < clusters:
            left = clusters - len(chain)
            limit = self.capacity * SECTOR // fat32.ENTRY - c
            k = min(left, max(1, limit))
            if self.matches(c, k):
                new = list(range(c + 1, c + k + 1))
            else:
                lo, hi = 0, k  # the longest matching prefix is >= lo and < hi
                while hi - lo > 1:
                    mid = (lo + hi) // 2
                    if self.matches(c, mid):
                        lo = mid
                    else:
                        hi = mid
                nxt = self.next(c + lo)
                if nxt is None:
                    raise SdUnavailable(
                        f"{self.name}'s cluster chain ends early: the FAT is damaged"
                    )
                new = list(range(c + 1, c + lo + 1)) + [nxt]
                pieces += 1  # the entry of c + lo names another than c + lo + 1: a jump
                if pieces > PIECES_MAX:
                    raise SdUnavailable(
                        f"{self.name} lies in more than {PIECES_MAX} pieces on the card: format "
                        "the card (FAT32) and prepare it again, so that it is written in one piece"
                    )
            if seen.intersection(new):
                raise SdUnavailable(
                    f"{self.name}'s cluster chain comes back to a cluster it already passed: the "
                    "FAT is damaged; repair the card (fsck.vfat, chkdsk) and prepare it again"
                )
            seen.update(new)
            chain += new
            c = chain[-1]
        return chain
