"""SD card images for tests, made the way a PC makes them: an MBR written here (as fdisk
would), the FAT32 file system by dosfstools' mkfs.vfat, files put on it by mtools."""

from __future__ import annotations

import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from harness.sd import fat32

PART_START = 2048  # sectors: 1 MiB, where fdisk and the card makers put the partition


def tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if not found:
        pytest.skip(f"{name} is missing (Debian packages dosfstools, mtools; scripts/setup)")
    return found


def make_card(path: Path, mib: int = 128, cluster_sectors: int = 2, mbr: bool = True) -> Path:
    """A blank FAT32 card of `mib` MiB (with or without a partition table). FAT32 needs at
    least 65525 clusters (mtools refuses fewer): 1 KiB clusters on a 128 MiB card."""
    total = mib * 2048
    with open(path, "wb") as f:
        f.truncate(total * 512)
    start = PART_START if mbr else 0
    if mbr:
        sector = bytearray(512)
        sector[446:462] = struct.pack(
            "<B3sB3sII", 0, b"\0" * 3, 0x0C, b"\0" * 3, start, total - start
        )
        sector[510:512] = b"\x55\xaa"
        with open(path, "r+b") as f:
            f.write(sector)
    kib = (total - start) // 2
    cmd = [tool("mkfs.vfat"), "-F", "32", "-s", str(cluster_sectors), "-n", "CAMERA"]
    if mbr:
        cmd += ["--offset", str(start)]
    subprocess.run(cmd + [str(path), str(kib)], check=True, capture_output=True)
    return path


def target(card: Path, mbr: bool = True) -> str:
    return f"{card}@@{PART_START * 512}" if mbr else str(card)


def mcopy(card: Path, src: Path, name: str, mbr: bool = True) -> None:
    subprocess.run(
        [tool("mcopy"), "-o", "-i", target(card, mbr), str(src), f"::{name}"],
        check=True,
        capture_output=True,
    )


def mdel(card: Path, name: str, mbr: bool = True) -> None:
    subprocess.run([tool("mdel"), "-i", target(card, mbr), f"::{name}"], check=True)


def mread(card: Path, name: str, mbr: bool = True) -> bytes:
    out = subprocess.run(
        [tool("mtype"), "-i", target(card, mbr), f"::{name}"], check=True, capture_output=True
    )
    return out.stdout


def fsck(card: Path, mbr: bool = True) -> str:
    """`fsck.vfat -n` of the card's file system (extracted: fsck has no offset option)."""
    fs = card.with_name(card.name + ".fs")
    with open(card, "rb") as src, open(fs, "wb") as dst:
        src.seek(PART_START * 512 if mbr else 0)
        shutil.copyfileobj(src, dst)
    try:
        out = subprocess.run([tool("fsck.vfat"), "-n", str(fs)], capture_output=True, text=True)
    finally:
        fs.unlink()
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def free_bytes(card: Path, mbr: bool = True) -> int:
    """The free space mtools reports (`minfo`: free clusters x cluster size)."""
    out = subprocess.run(
        [tool("mdir"), "-i", target(card, mbr), "::"], check=True, capture_output=True, text=True
    ).stdout
    last = [line for line in out.splitlines() if "bytes free" in line][-1]
    return int(last.split("bytes free")[0].replace(" ", "").replace("\u202f", ""))


@dataclass(frozen=True)
class FileOnCard:
    volume: fat32.Volume
    root: bytes  # the root directory's first cluster
    entry: fat32.DirEntry
    runs: list[fat32.Run]  # where its sectors lie on the card


def file_on_card(read: Callable[[int, int], bytes], name: str) -> FileOnCard:
    """A file of a card's root directory, found through its MBR, boot sector and FAT by
    harness.sd.fat32; `read(offset, n)` reads the card image (a 128 MiB image is never read
    whole: only these sectors)."""
    start = fat32.partition_start(read(0, 512))
    vol = fat32.boot_sector(read(start * 512, 512), start)
    root = read(vol.cluster_sector(vol.root_cluster) * 512, vol.cluster_bytes)
    entry = fat32.lookup(fat32.directory_entries(root)[0], name)
    assert entry is not None, f"{name} is not on the card"
    chain, c = [], entry.first_cluster
    while c is not None:
        chain.append(c)
        sector, off = vol.fat_entry_sector(c)
        c = fat32.check_next(c, fat32.entry_value(read(sector * 512 + off, 4)), vol)
    return FileOnCard(vol, root, entry, fat32.runs(chain, vol))
