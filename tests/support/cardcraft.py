"""Hostile SD cards for tests: a FAT32 image (made by mkfs.vfat and mtools) edited in place
as an attacker or a damaged FAT would: chains redirected, looped, cross-linked; and a CRC32
forger (4 bytes chosen so that a block's zlib crc32 is any value wanted)."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from harness.sd import fat32
from tests.support import sdcards


@dataclass
class Card:
    path: Path
    data: bytearray
    vol: fat32.Volume

    @classmethod
    def open(cls, path: Path) -> Card:
        data = bytearray(path.read_bytes())
        start = sdcards.PART_START
        vol = fat32.boot_sector(bytes(data[start * 512 : (start + 1) * 512]), start)
        return cls(path, data, vol)

    def save(self) -> None:
        self.path.write_bytes(self.data)

    def fat(self, cluster: int) -> int:
        return struct.unpack_from("<I", self.data, self.vol.fat_start * 512 + cluster * 4)[0]

    def set_fat(self, cluster: int, value: int) -> None:
        for i in range(self.vol.fats):
            base = (self.vol.fat_start + i * self.vol.fat_sectors) * 512
            struct.pack_into("<I", self.data, base + cluster * 4, value)

    def root_entries(self) -> list[tuple[int, fat32.DirEntry]]:
        """(byte offset in the image, entry) of the top directory's first cluster."""
        base = self.vol.cluster_sector(self.vol.root_cluster) * 512
        out = []
        for off in range(0, self.vol.cluster_bytes, 32):
            found, end = fat32.directory_entries(bytes(self.data[base + off : base + off + 32]))
            if end:
                break
            if found:
                out.append((base + off, found[0]))
        return out

    def entry(self, name: str) -> tuple[int, fat32.DirEntry]:
        want = fat32.short_name(name)
        return next((o, e) for o, e in self.root_entries() if e.name == want)

    def set_first_cluster(self, name: str, cluster: int) -> None:
        off, _ = self.entry(name)
        struct.pack_into("<H", self.data, off + 20, cluster >> 16)
        struct.pack_into("<H", self.data, off + 26, cluster & 0xFFFF)

    def chain(self, name: str) -> list[int]:
        c = self.entry(name)[1].first_cluster
        out = []
        while c < fat32.EOC_MIN and len(out) < 1 << 20:
            out.append(c)
            c = self.fat(c)
        return out

    def cluster_offset(self, cluster: int) -> int:
        return self.vol.cluster_sector(cluster) * 512


def forge_crc(data: bytes, slot: int, want: int) -> bytes:
    """data with the 4 bytes at `slot` replaced so that zlib.crc32(result) == want
    (CRC32 is affine over GF(2): 32 unknown bits, 32 equations)."""
    base = bytearray(data)
    base[slot : slot + 4] = b"\0\0\0\0"
    c0 = zlib.crc32(base)
    columns = []
    for bit in range(32):
        trial = bytearray(base)
        trial[slot + bit // 8] ^= 1 << (bit % 8)
        columns.append(zlib.crc32(trial) ^ c0)
    # solve sum(b_i * columns[i]) == want ^ c0 by elimination over GF(2)
    rows = [(columns[i], 1 << i) for i in range(32)]
    target, chosen = want ^ c0, 0
    basis: list[tuple[int, int]] = []
    for vec, mask in rows:
        for bvec, bmask in basis:
            if vec ^ bvec < vec:
                vec, mask = vec ^ bvec, mask ^ bmask
        if vec:
            basis.append((vec, mask))
            basis.sort(reverse=True)
    for bvec, bmask in basis:
        if target ^ bvec < target:
            target, chosen = target ^ bvec, chosen ^ bmask
    assert target == 0, "the slot cannot reach that CRC"
    out = bytearray(base)
    out[slot : slot + 4] = struct.pack("<I", chosen)
    assert zlib.crc32(out) == want
    return bytes(out)
