"""The PC's side of the card: `sd-prepare` puts a fresh UBDUMP.BIN on the mounted card (its
header, then every sector's pattern), after checking the card is FAT32 and holds no file
the camera would flash at boot. Plain file I/O: any OS, no raw device access."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable, Iterator, Optional

from harness.base.errors import OutputError, UsageError
from harness.base.safeio import refuse_link, write_pieces
from harness.sd.restorefile import RESTORE_NAME, RestoreHeader, undo_pattern
from harness.sd.staging import NAME, Header, pattern

PIECE = 2048  # sectors generated and written at a time
NOT_FAT = {"exfat": "exFAT", "ntfs": "NTFS", "ntfs3": "NTFS", "fuseblk": "exFAT or NTFS"}
CARD_TYPES = {"vfat", "msdos", "exfat", "fuseblk", "ntfs", "ntfs3"}
FLASHED_AT_BOOT = ("one.bin", "one_{m}", "uboot_{m}", "kernel_{m}", "sys_{m}", "home_{m}")


def mount_type(path: Path, mountinfo: Optional[str] = None) -> Optional[str]:
    """The file system type of the mount that holds `path`, from Linux's
    /proc/self/mountinfo (or the text given); None where there is no such file."""
    if mountinfo is None:
        try:
            mountinfo = Path("/proc/self/mountinfo").read_text()
        except OSError:
            return None
    real = os.path.realpath(path)
    best, kind = "", None
    for line in mountinfo.splitlines():
        left, _, right = line.partition(" - ")
        fields = left.split()
        if len(fields) < 5 or not right:
            continue
        point = fields[4].replace("\\040", " ")
        inside = real == point or real.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, right.split()[0]
    return kind


def prepare(
    card_dir: Path,
    model: str,
    flash_size: int,
    *,
    force: bool = False,
    say: Callable[[str], None] = print,
) -> Path:
    """A fresh UBDUMP.BIN for a backup of `flash_size` bytes."""
    path, existing = _checked(card_dir, model, NAME, force, say)
    header = Header.new(flash_size, model)

    def pieces() -> Iterator[bytes]:
        yield header.pack()
        for first in range(0, header.data_sectors, PIECE):
            yield pattern(header.file_id, first, min(PIECE, header.data_sectors - first))

    _write(path, existing, header.file_bytes, pieces())
    return path


def prepare_restore(
    card_dir: Path,
    model: str,
    extents: list[tuple[int, bytes]],
    *,
    force: bool = False,
    say: Callable[[str], None] = print,
) -> Path:
    """UBRESTOR.BIN holding these (flash offset, bytes) for `restore --via sd`."""
    path, existing = _checked(card_dir, model, RESTORE_NAME, force, say)
    header = RestoreHeader.new(model, extents)

    def pieces() -> Iterator[bytes]:
        yield header.pack()
        for _, data in extents:
            yield data
        yield from undo_pattern(header)  # where the flash's old blocks are kept

    _write(path, existing, header.file_bytes, pieces())
    return path


def _checked(
    card_dir: Path, model: str, name: str, force: bool, say: Callable[[str], None]
) -> tuple[Path, Optional[Path]]:
    """The card is FAT32 (or said not to be), holds no file the camera flashes at boot, and
    `name` on it is new (or --force); its path and the existing file's."""
    kind = mount_type(card_dir)
    if kind in NOT_FAT:
        raise UsageError(
            f"{card_dir} is on {NOT_FAT[kind]}: the camera's U-Boot reads FAT32 only; "
            "format the card as FAT32 (the camera's own format is)"
        )
    if kind is not None and kind not in ("vfat", "msdos"):
        say(
            f"note: {card_dir} is on {kind}, not on a FAT32 card: copy {name} to the top "
            "directory of the card yourself"
        )
    names = {n.lower(): n for n in os.listdir(card_dir)}
    risky = [
        names[f.format(m=model).lower()]
        for f in FLASHED_AT_BOOT
        if f.format(m=model).lower() in names
    ]
    if risky:
        raise UsageError(
            f"{card_dir} holds {', '.join(risky)}: the camera writes such files to its flash "
            "when it boots; move them off the card first"
        )
    path = card_dir / name
    refuse_link(path)
    existing = names.get(name.lower())
    if existing and not force:
        raise UsageError(
            f"{card_dir / existing} exists (an earlier preparation: a run with it resumes "
            "as it is); --force replaces it with a new one"
        )
    return path, card_dir / existing if existing else None


def _write(path: Path, existing: Optional[Path], size: int, pieces: Iterator[bytes]) -> None:
    """The file appears whole under its name, or not at all."""
    card_dir = path.parent
    free = shutil.disk_usage(card_dir).free
    if existing is not None:
        free += existing.stat().st_size
    if free < size:
        raise OutputError(
            f"{card_dir} has {free >> 20} MiB free; {path.name} needs {-(-size >> 20)} MiB"
        )
    try:
        write_pieces(path, pieces)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror}") from None
