"""`sd-collect`: the flash out of the UBDUMP.BIN the camera filled, checked block by block
against the camera's crc32s (the manifest's `sd` record, checked first), into the same
files `backup` writes over md."""

from __future__ import annotations

import json
import os
import zlib
from pathlib import Path
from typing import Callable, Optional

from harness.backup import records
from harness.backup.publish import publish
from harness.base.errors import UsageError, VerifyFailed
from harness.base.safeio import refuse_link, write_atomic
from harness.camera.partitions import output_names, select
from harness.sd.card import CARD_TYPES, mount_type
from harness.sd.fat32 import SECTOR
from harness.sd.staging import NAME, Header, SdFileError, pattern

SHORT = "{} is shorter than its header says: copy it from the card again, whole"


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
