"""What a restore or a verify puts back: one image per partition, checked before a port is
opened.

From a backup directory: its manifest (harness.backup.records) must be of this model, each
file must have the sha256 the manifest recorded and sit where the camera's table puts the
partition. From `--image NAME=FILE` (a `jffs2 repack`/`clean` output): a JFFS2 partition's
image must pass `jffs2 inspect` and fit. An image shorter than its partition is restored with
the rest erased (0xFF), so no old node survives in the tail. BOOT (IPL, U-Boot, its
environment) is refused outright: a failed write there needs a flash programmer. Without
--partitions, ROOTFS and HOME; KERNEL, vd1 and conf only when named.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from harness.base.errors import UsageError
from harness.camera.partitions import Partition, output_names, select

ERASE = 0x10000  # the erase block of these cameras' SPI NOR (64 KiB)
DEFAULT = "ROOTFS,HOME"
NEVER = "BOOT"
JFFS2_PARTITIONS = ("ROOTFS", "HOME")


@dataclass(frozen=True)
class PartitionImage:
    partition: Partition
    data: bytes  # the whole partition: the image, then 0xFF to its end
    length: int  # bytes of the image itself
    source: str  # where it came from (for messages)

    def blocks(self, erase: int = ERASE) -> list[tuple[int, bytes]]:
        """(flash offset, bytes) of each erase block of the partition."""
        p = self.partition
        return [(p.offset + o, self.data[o : o + erase]) for o in range(0, p.size, erase)]

    def block_crcs(self, erase: int = ERASE) -> list[int]:
        return [zlib.crc32(b) for _, b in self.blocks(erase)]


def chosen(table: tuple[Partition, ...], which: Optional[str]) -> tuple[Partition, ...]:
    """The partitions named (default ROOTFS,HOME); BOOT refused; every one whole erase
    blocks (a block shared with a neighbour could not be rewritten alone)."""
    parts = select(table, which or DEFAULT)
    for p in parts:
        if p.name.upper() == NEVER:
            raise UsageError(
                "BOOT (IPL, U-Boot and its environment) is never written: a failed write there "
                "needs a flash programmer"
            )
        if p.offset % ERASE or p.size % ERASE:
            raise UsageError(
                f"{p.name} at 0x{p.offset:x}+0x{p.size:x} is not whole 64 KiB erase blocks: "
                "it cannot be rewritten without touching its neighbours"
            )
    return parts


def from_backup(backup_dir: Path, model: str, parts: tuple[Partition, ...]) -> list[PartitionImage]:
    from harness.backup import records  # pydantic: only when there is a backup to read

    path = backup_dir / "manifest.json"
    checked = records.load(path)
    if checked is None:
        raise UsageError(f"{backup_dir} holds no manifest.json: give the directory of a backup")
    m = checked.manifest
    if m.model != model:
        raise UsageError(f"{backup_dir} is a backup of a {m.model}, not of a {model}")
    out = []
    for p in parts:
        entry = m.partitions.get(p.name)
        if entry is None:
            raise UsageError(f"{backup_dir} has no {p.name} (back it up, or leave it out)")
        if (entry.offset, entry.size) != (p.offset, p.size):
            raise UsageError(
                f"{p.name} is at 0x{entry.offset:x}+0x{entry.size:x} in the backup and at "
                f"0x{p.offset:x}+0x{p.size:x} on this camera: the tables differ"
            )
        name = entry.files[0]
        if name not in output_names(p, model, all_=True):
            raise UsageError(f"{path}: {name!r} is not a file name of {p.name}")
        data = _read(backup_dir / name)
        if hashlib.sha256(data).hexdigest() != entry.sha256:
            raise UsageError(
                f"{backup_dir / name} does not have the sha256 the manifest recorded: it "
                "changed since the backup; nothing is restored from it"
            )
        out.append(_fit(p, data, str(backup_dir / name), jffs2=False))
    return out


def from_files(specs: list[str], table: tuple[Partition, ...]) -> list[PartitionImage]:
    """`--image NAME=FILE`, each checked (a JFFS2 partition's image by `jffs2 inspect`)."""
    out = []
    for spec in specs:
        name, sep, file = spec.partition("=")
        if not sep or not name or not file:
            raise UsageError(f"--image {spec!r}: give it as NAME=FILE (ROOTFS=rootfs.jffs2)")
        (p,) = chosen(table, name)
        out.append(_fit(p, _read(Path(file)), file, jffs2=p.name in JFFS2_PARTITIONS))
    names = [i.partition.name for i in out]
    if len(set(names)) != len(names):
        raise UsageError("--image names a partition twice")
    return out


def _fit(p: Partition, data: bytes, source: str, jffs2: bool) -> PartitionImage:
    if not data:
        raise UsageError(f"{source} is empty")
    if len(data) > p.size:
        raise UsageError(f"{source} is {len(data)} bytes; {p.name} holds {p.size}: it does not fit")
    if jffs2:
        from harness.jffs2.inspect import inspect

        verdict = inspect(data)["advice"]
        if not verdict[0].startswith("OK"):
            raise UsageError(f"{source} is not ready to restore: {verdict[0]}")
    return PartitionImage(p, data + b"\xff" * (p.size - len(data)), len(data), source)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None


def camera_identity(backup_dir: Path) -> Optional[int]:
    """The crc32 of vd1 (the device identity) of the camera the backup is of, where the
    backup recorded it."""
    from harness.backup import records

    checked = records.load(backup_dir / "manifest.json")
    camera = checked.manifest.camera if checked is not None else None
    return int(camera.vd1_crc32, 16) if camera is not None else None


IDENTITY = ("vd1", "conf")  # never brought from another camera's backup
