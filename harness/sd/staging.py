"""UBDUMP.BIN: the file `sd-prepare` puts on the card and the camera fills with the flash.

Sector 0 is a header (magic, a random file id, the flash size, the model, its own CRC);
data sector j (file sector j + 1) holds flash bytes j*512 .. j*512 + 511 once the camera has
copied them, and until then a pattern that names this file and j: sixteen copies of
``UBDUMPpt`` + file id + j + ~j. The camera proves, with its own crc32, that the sectors it is
about to write still hold exactly this pattern; no other file, no FAT sector and no sector of
another card can. Pure: bytes in, bytes out.
"""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass

from harness.sd.fat32 import SECTOR

NAME = "UBDUMP.BIN"
MAGIC = b"UBDUMPhd"
VERSION = 1
_HEADER = struct.Struct("<8sI16sII16s")  # magic, version, id, data sectors, flash size, model
_PATTERN = struct.Struct("<8s16sII")
PATTERN_MAGIC = b"UBDUMPpt"
HEADER_BYTES = _HEADER.size + 4  # what the camera reads back of sector 0
MAX_FLASH = 0x10000000  # partitions.MAX_FLASH: no header claims more


class SdFileError(ValueError):
    """Not a UBDUMP.BIN header, or a damaged one."""


@dataclass(frozen=True)
class Header:
    file_id: bytes
    data_sectors: int
    flash_size: int
    model: str

    @classmethod
    def new(cls, flash_size: int, model: str) -> Header:
        if flash_size <= 0 or flash_size % SECTOR:
            raise ValueError("the flash size must be a positive multiple of 512")
        return cls(os.urandom(16), flash_size // SECTOR, flash_size, model)

    def pack(self) -> bytes:
        body = _HEADER.pack(
            MAGIC,
            VERSION,
            self.file_id,
            self.data_sectors,
            self.flash_size,
            self.model.encode("ascii")[:16],
        )
        return (body + struct.pack("<I", zlib.crc32(body))).ljust(SECTOR, b"\0")

    @classmethod
    def unpack(cls, raw: bytes) -> Header:
        if len(raw) < HEADER_BYTES or raw[:8] != MAGIC:
            raise SdFileError(f"{NAME} has no header (not prepared by sd-prepare?)")
        body = raw[: _HEADER.size]
        (crc,) = struct.unpack_from("<I", raw, _HEADER.size)
        if zlib.crc32(body) != crc:
            raise SdFileError(f"{NAME}'s header is damaged: prepare the card again")
        _, version, file_id, sectors, flash_size, model = _HEADER.unpack(body)
        if version != VERSION:
            raise SdFileError(f"{NAME} has format version {version}; this tool writes {VERSION}")
        if flash_size != sectors * SECTOR or not sectors or flash_size > MAX_FLASH:
            raise SdFileError(f"{NAME}'s header is inconsistent: prepare the card again")
        return cls(file_id, sectors, flash_size, model.rstrip(b"\0").decode("ascii", "replace"))

    @property
    def file_bytes(self) -> int:
        return (1 + self.data_sectors) * SECTOR


def pattern_sector(file_id: bytes, j: int) -> bytes:
    return _PATTERN.pack(PATTERN_MAGIC, file_id, j, j ^ 0xFFFFFFFF) * (SECTOR // _PATTERN.size)


def pattern(file_id: bytes, first: int, count: int) -> bytes:
    """The pattern of data sectors first .. first + count."""
    return b"".join(pattern_sector(file_id, j) for j in range(first, first + count))


def file_bytes(header: Header) -> bytes:
    """The whole of a freshly prepared UBDUMP.BIN."""
    return header.pack() + pattern(header.file_id, 0, header.data_sectors)
