"""The flash chip: its bytes, whether `sf probe` has selected it, and write protection."""

from __future__ import annotations

from emulator.profile import FlashSpec


class ImageError(ValueError):
    """The flash image does not fit the profile."""


class Flash:
    def __init__(self, spec: FlashSpec, image: bytes, writable: bool = False):
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

    @property
    def size(self) -> int:
        return self.spec.size

    def read(self, offset: int, length: int) -> bytes:
        return bytes(self.data[offset : offset + length])

    def erase(self, offset: int, length: int) -> None:
        if self.writable:
            self.data[offset : offset + length] = b"\xff" * length

    def program(self, offset: int, data: bytes) -> None:
        """NOR programming can only clear bits."""
        if self.writable:
            cur = self.data[offset : offset + len(data)]
            self.data[offset : offset + len(data)] = bytes(a & b for a, b in zip(cur, data))
