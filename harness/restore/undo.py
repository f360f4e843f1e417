"""What restore overwrote, kept so that `restore UNDO_DIR` can put it back.

Before a block is erased, its old content (read from the RAM copy the camera made of the
partition, verified by the camera's crc32 as every md read is) is saved as a file of its own
in UNDO_DIR, and undo.json lists each block: its flash offset, size, crc32 and file. A block
already saved is not saved again: after a reset the flash may hold a half-written block, and
the first copy is the old content. An undo directory is restored block by block, like a
backup's partitions."""

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
        name = f"0x{offset:08x}.bin"
        write_atomic(self.directory / name, data)
        self.blocks[offset] = {
            "offset": offset,
            "size": len(data),
            "crc32": f"{zlib.crc32(data):08x}",
            "file": name,
        }
        body = {"model": self.model, "blocks": sorted(self.blocks.values(), key=_offset)}
        write_atomic(self.directory / LIST, (json.dumps(body, indent=1) + "\n").encode())


def is_undo(directory: Path) -> bool:
    return (directory / LIST).is_file()


def from_undo(directory: Path, model: str) -> list[PartitionImage]:
    """The blocks of an undo directory, each checked against its crc32, as images."""
    out = []
    for b in _read(directory / LIST, model):
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
            and b.get("file") == f"0x{b['offset']:08x}.bin"
            for b in blocks
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        ok, blocks = False, []
    if not ok:
        raise UsageError(f"{path} is not an undo list of a {model} this tool wrote")
    return list(blocks)


def undo_dir(record: Path, enabled: bool) -> Optional[Path]:
    return record / "undo" if enabled else None
