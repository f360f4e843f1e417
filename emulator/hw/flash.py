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
emulator alive until the cycle collector runs, 80 MiB each.)

Erase and program take the chip's typical times (the profile's `block_erase_s` per erase
block, `page_program_s` per page), spent in `wait` (the board's: only a paced emulator
spends them) before the operation's result is in the array: power lost or a reset during
that time leaves the same mixed state as an armed cut."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Callable, Optional

from emulator.profile import FlashSpec
from emulator.wire.events import PowerCut

Wait = Callable[[float], None]
Mixed = Callable[[int, int, int], int]


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

    def _half_done(self, offset: int, length: int, mixed: Mixed) -> None:
        """The operation at `offset` stopped part way: each bit either changed or not
        (random per seed and place); counted once it is in place."""
        rng = random.Random(self.seed * 1_000_003 + offset)
        cur = self.data[offset : offset + length]
        mask = rng.randbytes(length)
        self.data[offset : offset + length] = bytes(
            mixed(c, m, i) for i, (c, m) in enumerate(zip(cur, mask))
        )
        self._through(offset, length)
        self.cuts += 1

    def _work(self, offset: int, length: int, mixed: Mixed, seconds: float, wait: Wait) -> None:
        """The chip at work: the armed cut if this operation is the one, else its time,
        interrupted (power, reset) like a cut."""
        if self.cut_in is not None:
            if self.cut_in > 0:
                self.cut_in -= 1
            else:
                self.cut_in = None
                self._half_done(offset, length, mixed)
                raise PowerCut(f"power cut in the flash operation at 0x{offset:x}")
        try:
            wait(seconds)
        except BaseException:
            self._half_done(offset, length, mixed)
            raise

    def erase_seconds(self, length: int) -> float:
        return length / self.spec.erase_size * self.spec.block_erase_s

    def program_seconds(self, length: int) -> float:
        return -(-length // self.spec.page_size) * self.spec.page_program_s

    def erase(self, offset: int, length: int, wait: Wait = lambda s: None) -> None:
        if self.writable:
            mixed: Mixed = lambda c, m, i: c | m  # noqa: E731  some bits already set
            self._work(offset, length, mixed, self.erase_seconds(length), wait)
            self.data[offset : offset + length] = b"\xff" * length
            self._through(offset, length)

    def program(self, offset: int, data: bytes, wait: Wait = lambda s: None) -> None:
        """NOR programming can only clear bits."""
        if self.writable:
            mixed: Mixed = lambda c, m, i: c & (data[i] | m)  # noqa: E731  some cleared
            self._work(offset, len(data), mixed, self.program_seconds(len(data)), wait)
            cur = self.data[offset : offset + len(data)]
            self.data[offset : offset + len(data)] = bytes(a & b for a, b in zip(cur, data))
            self._through(offset, len(data))
