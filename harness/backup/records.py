"""What the tool reads back from its own output directory, checked before it is trusted.

manifest.json is written by `backup` and read again by a resumed `backup` and by
`sd-collect`; anyone can edit it in between. Its shape is checked with pydantic (strict
types: a string is never taken for a number, nor `true` for 1; every field's range), then
its meaning: names safe as file names, regions that tile the flash exactly, blocks that
cover it in order, a table that is the model's own where the model has one. A manifest
that fails any check is refused with one line naming the first problem.

pydantic rather than hand-written isinstance checks: the schema is declared once beside
the fields it describes, strict mode closes the bool-is-int and str-is-number holes, and
its errors name the exact path of the bad field (`sd.regions.3.offset`), which the user is
shown.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Optional

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from harness.base.errors import UsageError
from harness.camera.partitions import (
    MAX_FLASH,
    Partition,
    check_name,
    check_table,
    model_table,
    output_names,
)

Hex32 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{8}$")]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")]  # SAFE_NAME
Offset = Annotated[int, Field(ge=0, lt=MAX_FLASH)]
Size = Annotated[int, Field(gt=0, le=MAX_FLASH)]
SECTOR = 512
BLOCK = 0x100000


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class RegionRecord(_Strict):
    name: str = Field(max_length=40)
    mtd: Optional[int] = Field(default=None, ge=0, le=63)
    offset: Offset
    size: Size
    crc32: Hex32


class SdRecord(_Strict):
    file: str = Field(max_length=16)
    file_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
    flash_size: Size
    regions: list[RegionRecord] = Field(max_length=4096)
    blocks: list[tuple[Offset, Size, Hex32]] = Field(default=[], max_length=4096)
    complete: bool = False


class PartitionRecord(_Strict):
    files: list[str] = Field(min_length=1, max_length=2)
    partition: Name
    mtd: int = Field(ge=0, le=63)
    offset: Offset
    size: Size
    sha256: Sha256
    crc32: Hex32


class CameraRecord(_Strict):
    """Which camera the backup is of: the crc32 of its vd1 partition (the device identity,
    written at the factory), as the camera computed it."""

    vd1_crc32: Hex32


class ManifestRecord(_Strict):
    model: Name
    partition_source: str = ""
    partitions: dict[str, PartitionRecord] = Field(default={}, max_length=64)
    sd: Optional[SdRecord] = None
    camera: Optional[CameraRecord] = None


@dataclass(frozen=True)
class Checked:
    """A manifest that passed every check: the checked model, the JSON as read (kept whole
    when the manifest is written again), and the table of its sd record (if any)."""

    manifest: ManifestRecord
    raw: dict
    sd_table: tuple[Partition, ...]


def load(path: Path) -> Optional[Checked]:
    """The manifest at path, checked; None where there is none. UsageError when it is not
    one this tool could have written."""
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    try:
        m = ManifestRecord.model_validate_json(text)
    except ValueError as exc:
        raise UsageError(f"{path} is not a manifest this tool wrote: {_first(exc)}") from None
    for name, entry in m.partitions.items():
        if name != entry.partition:
            raise UsageError(f"{path}: partitions.{name} describes {entry.partition}")
        p = Partition(entry.mtd, entry.partition, entry.offset, entry.size)
        if entry.files[0] not in output_names(p, m.model, all_=True):
            raise UsageError(f"{path}: partitions.{name}: {entry.files[0]!r} is not its file name")
    table = check_sd(m.sd, m.model, m.partition_source, str(path)) if m.sd is not None else ()
    return Checked(m, json.loads(text), table)


def _first(exc: ValueError) -> str:
    if isinstance(exc, ValidationError):
        e = exc.errors()[0]
        where = ".".join(str(x) for x in e["loc"]) or "the top level"
        return f"{where}: {e['msg']}"
    return str(exc).splitlines()[0]


def check_sd(sd: SdRecord, model: str, source: str, where: str) -> tuple[Partition, ...]:
    """The record of a copy to the card means what it says: its regions tile the flash in
    order (a partition, or the gap between two, each named as the tool names it), its blocks
    cover the flash in order, and the partitions they describe are a valid table, the
    model's own unless the backup took its table from a boot log. Returns that table."""
    if sd.flash_size % 0x10000:
        raise UsageError(f"{where}: sd.flash_size 0x{sd.flash_size:x} is not a flash size")
    pos = 0
    parts: list[Partition] = []
    gap = 0  # where the gap the current region belongs to starts (a long gap is cut)
    for i, r in enumerate(sd.regions):
        if r.offset != pos or r.offset + r.size > sd.flash_size:
            raise UsageError(
                f"{where}: sd.regions do not cover the flash in order (at 0x{pos:x}: "
                f"{r.name} 0x{r.offset:x}+0x{r.size:x})"
            )
        if r.mtd is None:
            before = sd.regions[i - 1] if i else None
            if before is None or before.mtd is not None or before.name != r.name:
                gap = r.offset
            if r.name != f"gap@0x{gap:x}":
                raise UsageError(f"{where}: sd.regions: {r.name!r} is not a gap's name")
        elif parts and parts[-1].name == r.name and parts[-1].end == r.offset:
            last = parts[-1]
            parts[-1] = Partition(last.index, last.name, last.offset, last.size + r.size)
        else:
            check_name(r.name, f"{where}: sd region")
            parts.append(Partition(r.mtd, r.name, r.offset, r.size))
        pos = r.offset + r.size
    if sd.complete and pos != sd.flash_size:
        raise UsageError(f"{where}: sd.regions end at 0x{pos:x}, not at the end of the flash")
    pos = 0
    for offset, length, _ in sd.blocks:
        if offset != pos or length > BLOCK or length % SECTOR:
            raise UsageError(f"{where}: sd.blocks are not the flash in order at 0x{pos:x}")
        pos = offset + length
    if sd.complete and pos != sd.flash_size:
        raise UsageError(f"{where}: sd.blocks end at 0x{pos:x}, not at the end of the flash")
    if sd.complete and (not sd.blocks or not sd.regions):
        raise UsageError(f"{where}: a complete sd record without its blocks and regions")
    table = tuple(parts)
    if table:
        check_table(table, sd.flash_size, where)
        builtin = model_table(model)
        if builtin is not None and not source.startswith("bootlog"):
            # an unfinished copy has a prefix of the table (its last partition perhaps cut)
            by_name = {b.name: b for b in builtin}
            ok = table == builtin or (
                not sd.complete
                and all(
                    (b := by_name.get(p.name)) is not None
                    and (b.index, b.offset) == (p.index, p.offset)
                    and p.size <= b.size
                    for p in table
                )
            )
            if not ok:
                raise UsageError(
                    f"{where}: the partitions in the sd record are not the {model}'s table"
                )
    return table
