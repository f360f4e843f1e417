"""UBRESTOR.BIN: the file `sd-prepare --restore` puts on the card for the camera to restore
from. Not a name the camera's bootloader flashes by itself (those are sys_<model>, home_<model>,
...): it stays on the card untouched until the tool reads it.

Sector 0 is a header (magic, version, a random file id, the model, the extents of flash it
carries as (offset, size, crc32 of their bytes), its own CRC): a restore uses the file only
for extents whose crc32 is that of its own images; the data sectors that follow hold the extents'
bytes one after the other. Nothing in it is trusted: the camera's crc32 of each block it
reads from the card must equal the crc32 the PC computes from the backup.

Then the undo area, as large as the data: where restore keeps the flash's old content of a
block before it erases it. Until then each of its sectors holds the pattern of UBDUMP.BIN's
staging (the file id and the number of the flash sector it stands for), which the camera
must show before restore may `mmc write` there, as the backup's SD path does. Pure."""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass

from harness.sd.fat32 import SECTOR
from harness.sd.staging import pattern

RESTORE_NAME = "UBRESTOR.BIN"
MAGIC = b"UBRESThd"
VERSION = 2  # 2: with the undo area
MAX_EXTENTS = 16
_HEAD = struct.Struct("<8sI16s16sI")  # magic, version, id, model, extents
_EXTENT = struct.Struct("<III")


class RestoreFileError(ValueError):
    """Not a UBRESTOR.BIN header, or a damaged one."""


@dataclass(frozen=True)
class RestoreHeader:
    file_id: bytes
    model: str
    extents: tuple[tuple[int, int, int], ...]  # (flash offset, size, crc32), in file order

    @classmethod
    def new(cls, model: str, extents: list[tuple[int, bytes]]) -> RestoreHeader:
        """For these (flash offset, bytes)."""
        if not extents or len(extents) > MAX_EXTENTS:
            raise ValueError(f"1 to {MAX_EXTENTS} extents")
        if any(not data or len(data) % SECTOR or off % SECTOR for off, data in extents):
            raise ValueError("extents must be whole sectors")
        return cls(
            os.urandom(16),
            model,
            tuple((off, len(data), zlib.crc32(data)) for off, data in extents),
        )

    def holds(self, offset: int, data: bytes) -> bool:
        """Does the file carry exactly these bytes at this flash offset?"""
        return (offset, len(data), zlib.crc32(data)) in self.extents

    def pack(self) -> bytes:
        body = _HEAD.pack(
            MAGIC, VERSION, self.file_id, self.model.encode("ascii")[:16], len(self.extents)
        ) + b"".join(_EXTENT.pack(*e) for e in self.extents)
        return (body + struct.pack("<I", zlib.crc32(body))).ljust(SECTOR, b"\0")

    @classmethod
    def unpack(cls, raw: bytes) -> RestoreHeader:
        if len(raw) < _HEAD.size or raw[:8] != MAGIC:
            raise RestoreFileError(f"{RESTORE_NAME} has no header (not made by sd-prepare)")
        _, version, file_id, model, count = _HEAD.unpack_from(raw)
        if version != VERSION:
            raise RestoreFileError(f"{RESTORE_NAME} has format version {version}, not {VERSION}")
        if not 0 < count <= MAX_EXTENTS:
            raise RestoreFileError(f"{RESTORE_NAME}'s header is damaged: prepare it again")
        end = _HEAD.size + count * _EXTENT.size
        (crc,) = struct.unpack_from("<I", raw, end)
        if zlib.crc32(raw[:end]) != crc:
            raise RestoreFileError(f"{RESTORE_NAME}'s header is damaged: prepare it again")
        extents = tuple(_EXTENT.unpack_from(raw, _HEAD.size + i * _EXTENT.size)
                        for i in range(count))  # fmt: skip
        return cls(file_id, model.rstrip(b"\0").decode("ascii", "replace"), extents)

    @property
    def data_bytes(self) -> int:
        return sum(size for _, size, _ in self.extents)

    @property
    def file_bytes(self) -> int:
        return SECTOR + 2 * self.data_bytes

    def undo_sector(self, flash_offset: int) -> int:
        """The data sector (as data_sector counts) that keeps this flash byte's old content."""
        return self.data_bytes // SECTOR + self.data_sector(flash_offset)

    def data_sector(self, flash_offset: int) -> int:
        """The data sector (0 = the first after the header) that holds this flash byte."""
        at = 0
        for off, size, _ in self.extents:
            if off <= flash_offset < off + size:
                return (at + flash_offset - off) // SECTOR
            at += size
        raise KeyError(f"flash 0x{flash_offset:x} is not in {RESTORE_NAME}")


def undo_pattern(header: RestoreHeader) -> list[bytes]:
    """The undo area of a fresh file, per extent: the pattern of its flash sectors."""
    return [
        pattern(header.file_id, off // SECTOR, size // SECTOR) for off, size, _ in header.extents
    ]


def file_bytes(header: RestoreHeader, data: list[bytes]) -> bytes:
    """The whole file: the header, each extent's bytes, then the undo area."""
    if [len(d) for d in data] != [size for _, size, _ in header.extents]:
        raise ValueError("one data piece per extent, of its size")
    return header.pack() + b"".join(data) + b"".join(undo_pattern(header))
