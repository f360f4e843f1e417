"""The PC's side of the SD path: `sd-prepare` (a fresh UBDUMP.BIN on the mounted card) and
`sd-collect` (the flash out of it, checked block by block against the camera's crc32s, into
the same files `backup` writes over md). Plain file I/O: any OS, no raw device access."""

from __future__ import annotations

import json
import os
import shutil
import zlib
from pathlib import Path
from typing import Callable, Optional

from .backup import publish
from .errors import OutputError, UsageError, VerifyFailed
from .fat32 import SECTOR
from .journal import fsync_dir, write_atomic
from .partitions import Partition, output_names, select
from .sdfile import NAME, Header, SdFileError, pattern

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
    kind = mount_type(card_dir)
    if kind in NOT_FAT:
        raise UsageError(
            f"{card_dir} is on {NOT_FAT[kind]}: the camera's U-Boot reads FAT32 only; "
            "format the card as FAT32 (the camera's own format is)"
        )
    if kind is not None and kind not in ("vfat", "msdos"):
        say(
            f"note: {card_dir} is on {kind}, not on a FAT32 card: copy {NAME} to the top "
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
    path = card_dir / NAME
    existing = names.get(NAME.lower())
    if existing and not force:
        raise UsageError(
            f"{card_dir / existing} exists (an earlier preparation: a backup into it resumes "
            "as it is); --force replaces it with a new one"
        )
    header = Header.new(flash_size, model)
    free = shutil.disk_usage(card_dir).free
    if existing:
        free += (card_dir / existing).stat().st_size
    if free < header.file_bytes:
        raise OutputError(
            f"{card_dir} has {free >> 20} MiB free; {NAME} needs {-(-header.file_bytes >> 20)} MiB"
        )
    tmp = card_dir / "UBDUMP.TMP"
    try:
        with open(tmp, "wb") as f:
            f.write(header.pack())
            for first in range(0, header.data_sectors, PIECE):
                n = min(PIECE, header.data_sectors - first)
                f.write(pattern(header.file_id, first, n))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {exc.strerror}") from None
    fsync_dir(card_dir)
    return path


def collect(
    card_file: Path,
    out_dir: Path,
    which: str = "ROOTFS,HOME",
    *,
    allow_card_output: bool = False,
    force: bool = False,
    say: Callable[[str], None] = print,
    mountinfo: Optional[str] = None,
) -> list[str]:
    manifest_path = out_dir / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text())
        record = manifest["sd"]
        model = manifest["model"]
    except (OSError, ValueError, KeyError, TypeError):
        raise UsageError(
            f"{manifest_path} has no record of a backup to an SD card: give -o the directory "
            "of the `backup --via sd` run"
        ) from None
    same = os.stat(card_file).st_dev == os.stat(out_dir).st_dev
    kind = mount_type(out_dir, mountinfo)
    on_card = same and (kind is None or kind in CARD_TYPES)  # a copy on the PC's disk is fine
    if on_card and not allow_card_output:
        raise UsageError(
            f"{out_dir} is on the card itself: the camera flashes sys_/home_ files it finds "
            "there at boot; use a directory on the PC (or --allow-card-output)"
        )
    with open(card_file, "rb") as f:
        try:
            header = Header.unpack(f.read(SECTOR))
        except SdFileError as exc:
            raise VerifyFailed(str(exc)) from None
        if header.file_id.hex() != record.get("file_id"):
            raise VerifyFailed(
                f"{card_file} is not the file of the backup in {out_dir} (another preparation)"
            )
        if not record.get("complete"):
            raise VerifyFailed(
                "the copy to the card did not finish: run the same `backup --via sd` again"
            )
        data = f.read(header.flash_size)
    if len(data) != header.flash_size:
        raise VerifyFailed(f"{card_file} is shorter than its header says")
    _check(data, record)
    table = _table(record)
    parts = select(table, which)
    all_ = which == "all"
    written = []
    entries = manifest.setdefault("partitions", {})
    for p in parts:
        names = output_names(p, model, all_)
        if not names:
            continue
        image = data[p.offset : p.end]
        target = out_dir / names[0]
        if target.exists() and target.read_bytes() != image and not force:
            raise UsageError(f"{target} exists with other contents: remove it, or --force")
        write_atomic(target, image)
        entry = publish(out_dir, names, p, image, say)
        entry["via"] = "sd"
        entries[p.name] = entry
        written += names
        say(f"{p.describe()}: {p.size} bytes -> {', '.join(names)}")
    write_atomic(manifest_path, (json.dumps(manifest, indent=2) + "\n").encode())
    return written


def _check(data: bytes, record: dict) -> None:
    """Every block and region as the camera's crc32 saw it; untouched sectors are named."""
    pos = 0
    for offset, length, crc in record.get("blocks", []):
        if offset != pos:
            raise VerifyFailed(f"the backup record has a hole at 0x{pos:x}: run backup again")
        if f"{zlib.crc32(data[offset : offset + length]):08x}" != crc:
            raise VerifyFailed(
                f"flash 0x{offset:x}+0x{length:x} in the card's copy differs from the camera's "
                "crc32 (the card was changed or is failing): run the same backup again"
            )
        pos = offset + length
    if pos != len(data):
        raise VerifyFailed(f"the backup record ends at 0x{pos:x}: run backup again")
    for r in record.get("regions", []):
        if f"{zlib.crc32(data[r['offset'] : r['offset'] + r['size']]):08x}" != r["crc32"]:
            raise VerifyFailed(f"{r['name']} differs from the camera's crc32 of it")


def _table(record: dict) -> tuple[Partition, ...]:
    """The partitions the copy was made with (split regions joined again)."""
    parts: list[Partition] = []
    for r in sorted(record.get("regions", []), key=lambda r: r["offset"]):
        if r.get("mtd") is None:
            continue
        if parts and parts[-1].name == r["name"] and parts[-1].end == r["offset"]:
            last = parts[-1]
            parts[-1] = Partition(last.index, last.name, last.offset, last.size + r["size"])
        else:
            parts.append(Partition(r["mtd"], r["name"], r["offset"], r["size"]))
    return tuple(parts)
