"""The SD card slot: a card image file (MBR + FAT32, as a PC formats it) that can be taken
out and put back, read and written a sector at a time.

Writes go to the image file at once (the card keeps what was written when the power goes),
in pieces, so a power loss in the middle of `mmc write` leaves the first part written.
The slot counts insertions: U-Boot's `has_init` stays set after a card is pulled, and the
next access fails until the card is initialised again (`mmc rescan`, `mmc dev`).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Callable, Optional

from harness.sd import fat32

SECTOR = 512


class CardError(ValueError):
    """The card image cannot be used."""


class SdCard:
    def __init__(self, path: str | Path, write_protected: bool = False):
        self.path = Path(path)
        try:
            self._f = open(self.path, "r+b")
        except OSError as exc:
            raise CardError(f"cannot open SD card image {path}: {exc.strerror}") from None
        size = os.fstat(self._f.fileno()).st_size
        if size < 64 * SECTOR or size % SECTOR:
            self._f.close()
            raise CardError(f"SD card image {path} is {size} bytes: not a whole card")
        self.blocks = size // SECTOR
        self.write_protected = write_protected
        self._lock = threading.Lock()
        # fault injection: called (in the firmware's thread) after each piece is written,
        # with the sectors written so far; a test cuts the power there
        self.on_write: Optional[Callable[[int], None]] = None
        self.sectors_written = 0

    def read(self, block: int, count: int) -> bytes:
        with self._lock:
            self._f.seek(block * SECTOR)
            return self._f.read(count * SECTOR)

    def write(self, block: int, data: bytes) -> None:
        with self._lock:
            self._f.seek(block * SECTOR)
            self._f.write(data)
            self._f.flush()
            self.sectors_written += len(data) // SECTOR
        if self.on_write is not None:
            self.on_write(self.sectors_written)

    def close(self) -> None:
        self._f.close()

    # -- the card's FAT32 file system, as U-Boot's fs/fat reads it -----------------------------
    def _volume(self) -> fat32.Volume:
        start = fat32.partition_start(self.read(0, 1))
        return fat32.boot_sector(self.read(start, 1), start)

    def has_fat(self) -> bool:
        """Does the card hold a FAT32 file system U-Boot can read (its boot sector)?"""
        try:
            self._volume()
            return True
        except fat32.FatError:
            return False

    def _chain(self, vol: fat32.Volume, first: int, most: int = 1 << 20) -> list[int]:
        chain: list[int] = []
        cluster: Optional[int] = first
        while cluster is not None and len(chain) < most:
            chain.append(cluster)
            sector, off = vol.fat_entry_sector(cluster)
            cluster = fat32.check_next(cluster, fat32.entry_value(self.read(sector, 1), off), vol)
        return chain

    def listing(self, path: str) -> Optional[list[tuple[str, fat32.DirEntry]]]:
        """The entries (long name, entry) of the directory at `path` ("" or "/": the root),
        or None where there is no such directory. FatError: no FAT32 file system."""
        vol = self._volume()
        cluster = vol.root_cluster
        for part in [p for p in path.split("/") if p]:
            found = [e for n, e in self._entries(vol, cluster) if _same(n, e, part)]
            if not found or not found[0].attributes & 0x10:
                return None
            cluster = found[0].first_cluster or vol.root_cluster
        return self._entries(vol, cluster)

    def _entries(self, vol: fat32.Volume, cluster: int) -> list[tuple[str, fat32.DirEntry]]:
        out: list[tuple[str, fat32.DirEntry]] = []
        for c in self._chain(vol, cluster, 4096):
            found, end = fat32.named_entries(
                self.read(vol.cluster_sector(c), vol.sectors_per_cluster), downcase=True
            )
            out += found
            if end:
                break
        return out

    def find(self, path: str) -> Optional[fat32.DirEntry]:
        """The file at `path` (names matched as U-Boot does: long or short, any case)."""
        folder, _, name = path.rpartition("/")
        entries = self.listing(folder)
        if entries is None:
            return None
        found = [e for n, e in entries if _same(n, e, name) and not e.attributes & 0x10]
        return found[0] if found else None

    def read_file(self, entry: fat32.DirEntry, pos: int, length: int) -> bytes:
        vol = self._volume()
        size = vol.cluster_bytes
        out = bytearray()
        for i, c in enumerate(self._chain(vol, entry.first_cluster, -(-entry.size // size))):
            lo, hi = i * size, (i + 1) * size
            if hi <= pos or lo >= pos + length:
                continue
            data = self.read(vol.cluster_sector(c), vol.sectors_per_cluster)
            out += data[max(0, pos - lo) : min(size, pos + length - lo)]
        return bytes(out)

    # -- what U-Boot's boot-time `fatsize mmc 0 NAME` checks find ---------------------------
    def root_names(self) -> Optional[set[str]]:
        """The names (long and short, upper case) in the root directory of the card's FAT32
        file system, or None if the card has none that U-Boot could read."""
        try:
            vol = self._volume()
            return {n.upper() for n, _ in self._entries(vol, vol.root_cluster)}
        except fat32.FatError:
            return None


class Slot:
    """The camera's card slot; `card` is None when empty."""

    def __init__(self, card: Optional[SdCard] = None):
        self._card = card
        self.inserted = card is not None
        self.insertions = 1 if card is not None else 0

    @property
    def card(self) -> Optional[SdCard]:
        """The card, if it is in the slot."""
        return self._card if self.inserted else None

    @property
    def sdcard(self) -> Optional[SdCard]:
        """The card, in the slot or out of it."""
        return self._card

    def remove(self) -> None:
        self.inserted = False

    def insert(self) -> None:
        if self._card is not None and not self.inserted:
            self.inserted = True
            self.insertions += 1

    def close(self) -> None:
        if self._card is not None:
            self._card.close()

    def toggle(self) -> None:
        if self.inserted:
            self.remove()
        else:
            self.insert()


def _same(long: str, entry: fat32.DirEntry, name: str) -> bool:
    short = fat32.display_name(entry.name)
    return name.upper() in (long.upper(), short.upper())
