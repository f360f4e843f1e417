"""What restore overwrote, kept so that `restore UNDO_DIR` can put it back.

Before a block is erased, its old content (read from the RAM copy the camera made of the
partition, verified by the camera's crc32 as every md read is) is saved as a file of its own
in UNDO_DIR, and undo.json lists each block: its flash offset, size, crc32 and file. A block
already saved is not saved again: after a reset the flash may hold a half-written block, and
the first copy is the old content. An undo directory is restored block by block, like a
backup's partitions.

Over the SD card the old content goes to UBRESTOR.BIN's undo area on the card instead (no md
over the line); undo.json then names the block `on_card` (the file's id) and its file is
missing until `uboot-dump sd-undo CARD UNDO_DIR`, with the card in the PC, fetches it from
there, checked by its crc32."""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Optional

from harness.base.errors import UsageError
from harness.base.safeio import write_atomic
from harness.camera.partitions import Partition
from harness.restore.images import ERASE, PartitionImage

LIST = "undo.json"


class UndoLog:
    def __init__(self, directory: Path, model: str):
        self.directory = directory
        self.model = model
        directory.mkdir(exist_ok=True)
        self.blocks: dict[int, dict] = {}
        path = directory / LIST
        if path.exists():
            for b in _read(path, model):
                self.blocks[b["offset"]] = b

    def has(self, offset: int) -> bool:
        return offset in self.blocks

    def keep(self, offset: int, data: bytes) -> None:
        write_atomic(self.directory / _file(offset), data)
        self._list(offset, len(data), zlib.crc32(data))

    def keep_on_card(self, offset: int, size: int, crc: int, file_id: bytes) -> None:
        """The block's old content is in UBRESTOR.BIN's undo area (the card's copy, proven
        by the camera's crc32 of it)."""
        self._list(offset, size, crc, file_id.hex())

    def _list(self, offset: int, size: int, crc: int, on_card: Optional[str] = None) -> None:
        entry = {"offset": offset, "size": size, "crc32": f"{crc:08x}", "file": _file(offset)}
        if on_card is not None:
            entry["on_card"] = on_card
        self.blocks[offset] = entry
        _write_list(self.directory, self.model, self.blocks.values())


def _file(offset: int) -> str:
    return f"0x{offset:08x}.bin"


def _write_list(directory: Path, model: str, blocks) -> None:
    body = {"model": model, "blocks": sorted(blocks, key=_offset)}
    write_atomic(directory / LIST, (json.dumps(body, indent=1) + "\n").encode())


def is_undo(directory: Path) -> bool:
    return (directory / LIST).is_file()


def from_undo(directory: Path, model: str) -> list[PartitionImage]:
    """The blocks of an undo directory, each checked against its crc32, as images."""
    out = []
    for b in _read(directory / LIST, model):
        if b.get("on_card") and not (directory / b["file"]).exists():
            raise UsageError(
                f"the old content of 0x{b['offset']:x} is kept on the SD card (in "
                f"UBRESTOR.BIN): put the card in this PC and run `uboot-dump sd-undo CARD_DIR "
                f"{directory}` first"
            )
        try:
            data = (directory / b["file"]).read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read {directory / b['file']}: {exc.strerror}") from None
        if len(data) != b["size"] or f"{zlib.crc32(data):08x}" != b["crc32"]:
            raise UsageError(f"{directory / b['file']} is not the block undo.json describes")
        part = Partition(-1, f"block 0x{b['offset']:x}", b["offset"], b["size"])
        out.append(PartitionImage(part, data, len(data), str(directory / b["file"])))
    return out


def _offset(b: dict) -> int:
    return b["offset"]


def _read(path: Path, model: str) -> list[dict]:
    try:
        body = json.loads(path.read_text())
        blocks = body["blocks"]
        ok = body.get("model") == model and all(
            isinstance(b.get("offset"), int)
            and b["offset"] % ERASE == 0
            and b.get("size") == ERASE
            and isinstance(b.get("crc32"), str)
            and b.get("file") == _file(b["offset"])
            and isinstance(b.get("on_card", ""), str)
            for b in blocks
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        ok, blocks = False, []
    if not ok:
        raise UsageError(f"{path} is not an undo list of a {model} this tool wrote")
    return list(blocks)


def undo_dir(record: Path, enabled: bool) -> Optional[Path]:
    return record / "undo" if enabled else None


def fetch_from_card(directory: Path, restore_file: Path, model: str) -> int:
    """`sd-undo`: the blocks undo.json keeps on the card, read from UBRESTOR.BIN's undo
    area (on a card mounted on this PC), each checked against its crc32, into their files;
    how many were fetched."""
    from harness.sd.fat32 import SECTOR
    from harness.sd.restorefile import RestoreFileError, RestoreHeader

    blocks = [b for b in _read(directory / LIST, model) if b.get("on_card")]
    if not blocks:
        raise UsageError(f"{directory / LIST} keeps no block on a card")
    try:
        with open(restore_file, "rb") as f:
            header = RestoreHeader.unpack(f.read(SECTOR))
            fetched = 0
            for b in blocks:
                if header.file_id.hex() != b["on_card"]:
                    raise UsageError(
                        f"{restore_file} is not the file the restore kept 0x{b['offset']:x} "
                        "in (it was prepared again since): that old content is lost"
                    )
                f.seek(SECTOR * (1 + header.undo_sector(b["offset"])))
                data = f.read(b["size"])
                if len(data) != b["size"] or f"{zlib.crc32(data):08x}" != b["crc32"]:
                    raise UsageError(
                        f"{restore_file} does not hold the old content of 0x{b['offset']:x} "
                        "that the restore recorded (crc32 differs): the card's copy is damaged"
                    )
                write_atomic(directory / b["file"], data)
                fetched += 1
    except (OSError, RestoreFileError, KeyError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else str(exc)
        raise UsageError(f"cannot read the undo blocks from {restore_file}: {why}") from None
    return fetched
