"""The flash chip: its bytes, whether `sf probe` has selected it, and write protection.

A writable flash given a `backing` file writes every erase and program through to it as it
happens (os.pwrite at the offset), so the file is the flash: a test or a user compares it
after a restore, across power cycles and restarts of the emulator. The file is first padded
with 0xFF to the chip's size (an image shorter than the chip is erased flash after its end).

A power cut can be armed for the Nth erase or program to come (`cut_in`): that operation is
left half done, as on a NOR chip that loses power while it works: an erase has set a random
part of the block's bits to 1, a program has cleared a random part of the bits it was to
clear (random per seed and place); then PowerCut is raised, and the board cuts the power.
(An exception, not a callback to the board: a flash that held the board would keep every
emulator alive until the cycle collector runs, 80 MiB each.)"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Callable, Optional

from emulator.profile import FlashSpec
from emulator.wire.events import PowerCut


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
        self.cut_in: Optional[int] = None  # flash operations to let through before a cut
        self.seed = 0
        self.cuts = 0  # operations cut so far
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

    def _cut(self, offset: int, mixed: Callable[[int, int, int], int], length: int) -> None:
        """The armed cut, if this operation is the one: left half done, then power off."""
        if self.cut_in is None:
            return
        if self.cut_in > 0:
            self.cut_in -= 1
            return
        self.cut_in = None
        self.cuts += 1
        rng = random.Random(self.seed * 1_000_003 + offset)
        cur = self.data[offset : offset + length]
        mask = rng.randbytes(length)
        self.data[offset : offset + length] = bytes(
            mixed(c, m, i) for i, (c, m) in enumerate(zip(cur, mask))
        )
        self._through(offset, length)
        raise PowerCut(f"power cut in the flash operation at 0x{offset:x}")

    def erase(self, offset: int, length: int) -> None:
        if self.writable:
            self._cut(offset, lambda c, m, i: c | m, length)  # some bits already set
            self.data[offset : offset + length] = b"\xff" * length
            self._through(offset, length)

    def program(self, offset: int, data: bytes) -> None:
        """NOR programming can only clear bits."""
        if self.writable:
            self._cut(offset, lambda c, m, i: c & (data[i] | m), len(data))  # some cleared
            cur = self.data[offset : offset + len(data)]
            self.data[offset : offset + len(data)] = bytes(a & b for a, b in zip(cur, data))
            self._through(offset, len(data))
