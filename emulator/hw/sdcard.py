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

    # -- what U-Boot's boot-time `fatsize mmc 0 NAME` checks find ---------------------------
    def root_names(self) -> Optional[set[str]]:
        """The names (long and short, upper case) in the root directory of the card's FAT32
        file system, or None if the card has none that U-Boot could read."""
        try:
            start = fat32.partition_start(self.read(0, 1))
            vol = fat32.boot_sector(self.read(start, 1), start)
            names: set[str] = set()
            cluster: Optional[int] = vol.root_cluster
            for _ in range(4096):
                if cluster is None:
                    break
                data = self.read(vol.cluster_sector(cluster), vol.sectors_per_cluster)
                found, end = fat32.named_entries(data)
                names.update(n.upper() for n, _ in found)
                if end:
                    break
                sector, off = vol.fat_entry_sector(cluster)
                cluster = fat32.check_next(
                    cluster, fat32.entry_value(self.read(sector, 1), off), vol
                )
            return names
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
