"""The board's address space: DRAM and, on some boards, memory-mapped flash.

Reads and writes outside the mapped windows raise BusError, which the shell turns into the
board's data-abort message and a reset, as the real CPU does.
"""

from __future__ import annotations

import random


class BusError(Exception):
    """An access outside the board's memory map (a data abort on the real board)."""

    def __init__(self, addr: int):
        super().__init__(f"bus error at 0x{addr:08x}")
        self.addr = addr


class Mapping:
    """A window of the address space backed by bytes: DRAM, or a device mapped there (the
    flash's memory-mapped window)."""

    def __init__(self, name: str, base: int, data: bytearray, writable: bool):
        self.name = name
        self.base = base
        self.data = data
        self.writable = writable

    @property
    def end(self) -> int:
        return self.base + len(self.data)


class Memory:
    """A list of non-overlapping regions; accesses may not straddle a region's end."""

    def __init__(self, regions: list[Mapping]):
        self.regions = regions

    def _region(self, addr: int) -> Mapping | None:
        for r in self.regions:
            if r.base <= addr < r.end:
                return r
        return None

    def readable(self, addr: int, length: int) -> int:
        """How many of the `length` bytes from `addr` can be read before a bus error."""
        r = self._region(addr)
        if r is None:
            return 0
        return min(length, r.end - addr)

    def writable(self, addr: int, length: int) -> int:
        """How many of the `length` bytes from `addr` can be written before a bus error."""
        r = self._region(addr)
        if r is None or not r.writable:
            return 0
        return min(length, r.end - addr)

    def read(self, addr: int, length: int) -> bytes:
        if length == 0:
            return b""
        r = self._region(addr)
        if r is None:
            raise BusError(addr)
        if addr + length > r.end:
            raise BusError(r.end)
        off = addr - r.base
        return bytes(r.data[off : off + length])

    def write(self, addr: int, data: bytes) -> None:
        if not data:
            return
        r = self._region(addr)
        if r is None or not r.writable:
            raise BusError(addr)
        if addr + len(data) > r.end:
            raise BusError(r.end)
        off = addr - r.base
        r.data[off : off + len(data)] = data


def garbage_fill(size: int, seed: int) -> bytearray:
    """DRAM contents after power-on: neither zeros nor 0xFF, and different every boot."""
    block = bytearray(random.Random(seed).randbytes(4096))
    reps, rest = divmod(size, len(block))
    mem = block * reps
    mem += block[:rest]
    return mem
