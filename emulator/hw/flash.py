"""The flash chip: its bytes, whether `sf probe` has selected it, and write protection.

A writable flash given a `backing` file writes every erase and program through to it as it
happens (os.pwrite at the offset), so the file is the flash: a test or a user compares it
after a restore, across power cycles and restarts of the emulator. The file is first padded
with 0xFF to the chip's size (an image shorter than the chip is erased flash after its end)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from emulator.profile import FlashSpec


class ImageError(ValueError):
    """The flash image does not fit the profile."""


class Flash:
    def __init__(
        self,
        spec: FlashSpec,
        image: bytes,
        writable: bool = False,
        backing: Optional[Path] = None,
    ):
        if spec.exact_size and len(image) != spec.size:
            raise ImageError(
                f"image is {len(image)} bytes; this profile's flash is exactly {spec.size} bytes"
            )
        if len(image) > spec.size:
            raise ImageError(
                f"image is {len(image)} bytes; this profile's flash holds {spec.size} bytes"
            )
        if not image:
            raise ImageError("image is empty")
        self.spec = spec
        self.data = bytearray(b"\xff") * spec.size
        self.data[: len(image)] = image
        self.writable = writable
        self.probed = False
        self._fd: Optional[int] = None
        if writable and backing is not None:
            self._fd = os.open(backing, os.O_RDWR)
            if os.fstat(self._fd).st_size < spec.size:
                os.pwrite(self._fd, bytes(self.data[len(image) :]), len(image))

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _through(self, offset: int, length: int) -> None:
        if self._fd is not None:
            os.pwrite(self._fd, bytes(self.data[offset : offset + length]), offset)

    @property
    def size(self) -> int:
        return self.spec.size

    def read(self, offset: int, length: int) -> bytes:
        return bytes(self.data[offset : offset + length])

    def erase(self, offset: int, length: int) -> None:
        if self.writable:
            self.data[offset : offset + length] = b"\xff" * length
            self._through(offset, length)

    def program(self, offset: int, data: bytes) -> None:
        """NOR programming can only clear bits."""
        if self.writable:
            cur = self.data[offset : offset + len(data)]
            self.data[offset : offset + len(data)] = bytes(a & b for a, b in zip(cur, data))
            self._through(offset, len(data))
