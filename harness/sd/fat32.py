"""FAT32 as U-Boot's `fatsize` and this tool's SD path see it: pure parsing, no I/O.

The SD path finds its file on the camera's card with `mmc read` and `md` only, a sector at a
time, so every function here takes the bytes of one structure (the MBR, the boot sector, a
directory sector, FAT entries) and says what they mean. Only what the path needs: the first
FAT32 partition of an MBR (or a card formatted without one), short names in a directory, and
cluster chains turned into runs of sectors. RamWindows: Microsoft's FAT specification 1.03
(fatgen103), as mkfs.fat and every camera write it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Iterable, Optional

SECTOR = 512
ENTRY = 4  # bytes per FAT32 entry
DIRENT = 32
EOC_MIN = 0x0FFFFFF8
BAD = 0x0FFFFFF7
MASK = 0x0FFFFFFF
FAT32_TYPES = {0x0B, 0x0C, 0x1B, 0x1C}
OTHER_TYPES = {
    0x01: "FAT12",
    0x04: "FAT16",
    0x06: "FAT16",
    0x0E: "FAT16",
    0x07: "exFAT or NTFS",
    0x83: "a Linux file system",
    0xEE: "GPT (the camera reads MBR cards only)",
}


class FatError(ValueError):
    """The card does not hold what this path needs (not FAT32, damaged, no such file)."""


def _is_fat32_boot_sector(sector: bytes) -> bool:
    return (
        len(sector) >= SECTOR
        and sector[0] in (0xEB, 0xE9)
        and sector[82:90] == b"FAT32   "
        and sector[510:512] == b"\x55\xaa"
    )


def partition_start(sector0: bytes) -> int:
    """The first sector of the card's FAT32 file system: 0 for a card formatted without a
    partition table, else the start of the MBR's first FAT32 partition."""
    if len(sector0) < SECTOR:
        raise FatError("the card's first sector is short")
    if _is_fat32_boot_sector(sector0):
        return 0
    if sector0[510:512] != b"\x55\xaa":
        raise FatError("the card has neither an MBR nor a FAT32 boot sector in its first sector")
    seen = []
    for i in range(4):
        _status, _chs, ptype, _chs_end, start, count = struct.unpack_from(
            "<B3sB3sII", sector0, 446 + 16 * i
        )
        if ptype == 0:
            continue
        if ptype in FAT32_TYPES and start and count:
            return start
        seen.append(OTHER_TYPES.get(ptype, f"type 0x{ptype:02x}"))
    what = ", ".join(seen) if seen else "no partition"
    raise FatError(f"the card has no FAT32 partition ({what}): format it as FAT32")


@dataclass(frozen=True)
class Volume:
    start: int  # first sector of the file system on the card
    sectors_per_cluster: int
    reserved: int
    fats: int
    fat_sectors: int
    root_cluster: int
    total_sectors: int

    @property
    def fat_start(self) -> int:
        return self.start + self.reserved

    @property
    def data_start(self) -> int:
        return self.fat_start + self.fats * self.fat_sectors

    @property
    def cluster_bytes(self) -> int:
        return self.sectors_per_cluster * SECTOR

    @property
    def clusters(self) -> int:
        """The number of data clusters (valid cluster numbers are 2 .. clusters + 1)."""
        data = self.total_sectors - (self.data_start - self.start)
        return data // self.sectors_per_cluster

    def cluster_sector(self, cluster: int) -> int:
        if not 2 <= cluster <= self.clusters + 1:
            raise FatError(f"cluster {cluster} is outside the file system")
        return self.data_start + (cluster - 2) * self.sectors_per_cluster

    def fat_entry_sector(self, cluster: int) -> tuple[int, int]:
        """(card sector, byte offset in it) of the first FAT's entry for `cluster`."""
        byte = cluster * ENTRY
        return self.fat_start + byte // SECTOR, byte % SECTOR


def boot_sector(sector: bytes, start: int) -> Volume:
    """The FAT32 boot sector (BPB) at card sector `start`."""
    if not _is_fat32_boot_sector(sector):
        if len(sector) >= 90 and sector[54:59] in (b"FAT12", b"FAT16"):
            raise FatError("the card is FAT12/FAT16, not FAT32: format it as FAT32")
        if len(sector) >= 11 and sector[3:11] == b"EXFAT   ":
            raise FatError("the card is exFAT, not FAT32: format it as FAT32")
        raise FatError("the partition does not start with a FAT32 boot sector")
    (bps,) = struct.unpack_from("<H", sector, 11)
    spc = sector[13]
    reserved, fats, root_entries, total16 = struct.unpack_from("<HBHH", sector, 14)
    (fat16_size,) = struct.unpack_from("<H", sector, 22)
    total32, fat_size, _flags, _version, root = struct.unpack_from("<IIHHI", sector, 32)
    if bps != SECTOR:
        raise FatError(f"the file system has {bps}-byte sectors (the camera reads 512)")
    if spc == 0 or spc & (spc - 1) or spc > 128:
        raise FatError(f"damaged boot sector: {spc} sectors per cluster")
    if not reserved or not fats or root_entries or fat16_size or not fat_size:
        raise FatError("damaged FAT32 boot sector")
    total = total32 or total16
    vol = Volume(start, spc, reserved, fats, fat_size, root, total)
    if vol.data_start - start >= total or vol.clusters < 1:
        raise FatError("damaged FAT32 boot sector: no data area")
    if vol.fat_sectors * SECTOR // ENTRY < vol.clusters + 2:
        raise FatError("damaged FAT32 boot sector: the FAT is smaller than the data area")
    vol.cluster_sector(root)
    return vol


@dataclass(frozen=True)
class DirEntry:
    name: str  # the short name as stored ("UBDUMP  BIN")
    attributes: int
    first_cluster: int
    size: int


def short_name(name: str) -> str:
    """`UBDUMP.BIN` as a directory stores it: `UBDUMP  BIN`."""
    base, _, ext = name.upper().partition(".")
    if not 1 <= len(base) <= 8 or len(ext) > 3:
        raise ValueError(f"{name!r} is not an 8.3 name")
    return f"{base:<8}{ext:<3}"


def directory_entries(data: bytes) -> tuple[list[DirEntry], bool]:
    """The live short-name entries in directory bytes, and whether the end marker was seen
    (an entry whose first byte is 0: nothing follows it)."""
    out: list[DirEntry] = []
    for off in range(0, len(data) - DIRENT + 1, DIRENT):
        raw = data[off : off + DIRENT]
        if raw[0] == 0:
            return out, True
        attrs = raw[11]
        if raw[0] == 0xE5 or attrs & 0x3F == 0x0F or attrs & 0x08:
            continue  # deleted, a long-name piece, the volume label
        hi, lo, size = (
            struct.unpack_from("<H", raw, 20)[0],
            struct.unpack_from("<H", raw, 26)[0],
            struct.unpack_from("<I", raw, 28)[0],
        )
        out.append(DirEntry(raw[:11].decode("latin-1"), attrs, (hi << 16) | lo, size))
    return out, False


def display_name(short: str, case: int = 0) -> str:
    """`NAME.EXT`, lower-cased where the entry's case bits (byte 12: 0x08 the name, 0x10 the
    extension, as Windows NT and Linux store short all-lower names) say so."""
    base, ext = short[:8].rstrip(), short[8:].rstrip()
    if case & 0x08:
        base = base.lower()
    if case & 0x10:
        ext = ext.lower()
    return f"{base}.{ext}" if ext else base


def named_entries(data: bytes, downcase: bool = False) -> tuple[list[tuple[str, DirEntry]], bool]:
    """Like directory_entries, each with its long name (VFAT) when one precedes it, else its
    short name as `NAME.EXT`. With `downcase`, every name in lower case, as U-Boot 2015.01
    shows them (fs/fat/fat.c get_name() and get_vfatname() both call downcase()). A long
    name whose pieces do not fit together is ignored."""
    out: list[tuple[str, DirEntry]] = []
    pieces: dict[int, str] = {}
    for off in range(0, len(data) - DIRENT + 1, DIRENT):
        raw = data[off : off + DIRENT]
        if raw[0] == 0:
            return out, True
        if raw[0] == 0xE5:
            pieces.clear()
            continue
        if raw[11] & 0x3F == 0x0F:
            if raw[0] & 0x40:
                pieces.clear()
            text = (raw[1:11] + raw[14:26] + raw[28:32]).decode("utf-16-le", "replace")
            pieces[raw[0] & 0x1F] = text.split("\0", 1)[0]
            continue
        found, _ = directory_entries(raw)
        if found:
            e = found[0]
            long = "".join(pieces[i] for i in sorted(pieces))
            if not long or sorted(pieces) != list(range(1, len(pieces) + 1)):
                long = display_name(e.name, raw[12])
            out.append((long.lower() if downcase else long, e))
        pieces.clear()
    return out, False


def lookup(entries: Iterable[DirEntry], name: str) -> Optional[DirEntry]:
    want = short_name(name)
    for e in entries:
        if e.name == want and not e.attributes & 0x10:
            return e
    return None


def entry_value(raw: bytes, offset: int = 0) -> int:
    return struct.unpack_from("<I", raw, offset)[0] & MASK


def check_next(cluster: int, value: int, vol: Volume) -> Optional[int]:
    """The FAT entry `value` of `cluster`: the next cluster, or None at the chain's end."""
    if value >= EOC_MIN:
        return None
    if value == BAD:
        raise FatError(f"cluster {cluster} of the file is marked bad")
    if not 2 <= value <= vol.clusters + 1:
        raise FatError(f"the FAT is damaged: cluster {cluster} links to {value}")
    return value


def contiguous_entries(first: int, count: int, last_is_end: bool) -> bytes:
    """The FAT entries of `count` clusters from `first` if they follow each other: each
    names the next; the last names the end of the chain (0x0FFFFFFF) if `last_is_end`."""
    values = list(range(first + 1, first + count + 1))
    if last_is_end:
        values[-1] = MASK
    return struct.pack(f"<{count}I", *values)


@dataclass(frozen=True)
class Run:
    """Sectors `file_sector` .. + count of a file lie at card sectors `card_sector` .. ."""

    file_sector: int
    card_sector: int
    count: int


def runs(clusters: list[int], vol: Volume) -> list[Run]:
    """A cluster chain as runs of consecutive card sectors."""
    out: list[Run] = []
    spc = vol.sectors_per_cluster
    for i, c in enumerate(clusters):
        sector = vol.cluster_sector(c)
        if out and out[-1].card_sector + out[-1].count == sector:
            last = out[-1]
            out[-1] = Run(last.file_sector, last.card_sector, last.count + spc)
        else:
            out.append(Run(i * spc, sector, spc))
    return out


def pieces(file_runs: list[Run], first: int, count: int) -> list[Run]:
    """The runs that hold file sectors first .. first + count, cut to that range."""
    out = []
    end = first + count
    for r in file_runs:
        lo, hi = max(first, r.file_sector), min(end, r.file_sector + r.count)
        if lo < hi:
            out.append(Run(lo, r.card_sector + lo - r.file_sector, hi - lo))
    if sum(p.count for p in out) != count:
        raise FatError(f"file sectors {first}..{end} are beyond the file's clusters")
    return out
