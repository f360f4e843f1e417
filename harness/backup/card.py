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

from harness.backup import records
from harness.backup.publish import publish
from harness.base.errors import OutputError, UsageError, VerifyFailed
from harness.base.safeio import fsync_dir, refuse_link, temporary_beside, write_atomic
from harness.camera.partitions import output_names, select
from harness.sd.fat32 import SECTOR
from harness.sd.staging import NAME, Header, SdFileError, pattern

PIECE = 2048  # sectors generated and written at a time
SHORT = "{} is shorter than its header says: copy it from the card again, whole"
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
    refuse_link(path)
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
    tmp, f = temporary_beside(path)
    try:
        with f:
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
    checked = records.load(manifest_path)  # every field checked before any is used
    if checked is None or checked.manifest.sd is None:
        raise UsageError(
            f"{manifest_path} has no record of a backup to an SD card: give -o the directory "
            "of the `backup --via sd` run"
        )
    record, model, table = checked.manifest.sd, checked.manifest.model, checked.sd_table
    manifest = checked.raw  # the rest is kept as it is
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
            raise VerifyFailed(f"{card_file}: {exc}: give the {NAME} the camera filled") from None
        if header.file_id.hex() != record.file_id or header.flash_size != record.flash_size:
            raise VerifyFailed(
                f"{card_file} is not the file of the backup in {out_dir} (another "
                "preparation): give the file of the card that backup filled, or -o the "
                "directory of this card's backup"
            )
        if not record.complete:
            raise VerifyFailed(
                "the copy to the card did not finish: run the same `backup --via sd` again"
            )
        if os.fstat(f.fileno()).st_size < header.file_bytes:
            raise VerifyFailed(SHORT.format(card_file))
        data = f.read(header.flash_size)
    if len(data) != header.flash_size:
        raise VerifyFailed(SHORT.format(card_file))
    _check(data, record, header, card_file)
    parts = select(table, which)
    all_ = which == "all"
    for name in [n for p in parts for n in output_names(p, model, all_)] + ["manifest.json"]:
        refuse_link(out_dir / name)  # all of them before any is written
    written = []
    entries = manifest.setdefault("partitions", {})
    for p in parts:
        names = output_names(p, model, all_)
        if not names:
            continue
        image = data[p.offset : p.end]
        target = out_dir / names[0]
        refuse_link(target)
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


def _check(data: bytes, record: records.SdRecord, header: Header, card_file: Path) -> None:
    """Every block and region as the camera's crc32 saw it (the record's layout was checked
    by records.check_sd)."""
    for offset, length, crc in record.blocks:
        block = data[offset : offset + length]
        if f"{zlib.crc32(block):08x}" == crc:
            continue
        first = offset // SECTOR
        if block[:SECTOR] == pattern(header.file_id, first, 1):
            raise VerifyFailed(
                f"{card_file} still holds the prepared pattern at flash 0x{offset:x}: it is "
                "not the file the camera filled (a copy made before the backup?); give the "
                f"{NAME} on the card"
            )
        raise VerifyFailed(
            f"flash 0x{offset:x}+0x{length:x} in the card's copy differs from the camera's "
            "crc32 (the card was changed or is failing): run the same backup again; it "
            "checks the card and copies again what differs"
        )
    for r in record.regions:
        if f"{zlib.crc32(data[r.offset : r.offset + r.size]):08x}" != r.crc32:
            raise VerifyFailed(
                f"{r.name} differs from the camera's crc32 of it: run the same backup again; "
                "it checks the card and copies again what differs"
            )
