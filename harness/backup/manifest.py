"""manifest.json of a backup directory, as a live object: what an earlier run left there
(checked by harness.backup.records before anything in it is trusted), kept up to date as
each file is finished, written atomically after each change."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Optional

from harness.base.errors import UsageError
from harness.base.safeio import write_atomic
from harness.camera.partitions import Partition


class Manifest:
    NAME = "manifest.json"

    def __init__(self, out_dir: Path, data: Optional[dict] = None):
        self.out_dir = out_dir
        self.path = out_dir / self.NAME
        self.data: dict = data if data is not None else {}

    @classmethod
    def open(cls, out_dir: Path, restart: bool = False) -> Manifest:
        """The manifest an earlier run left in out_dir, checked; an empty one where there
        is none, or with `restart`."""
        manifest = cls(out_dir)
        if restart or not os.path.lexists(manifest.path):
            return manifest
        from harness.backup import records  # pydantic: only when there is something to check

        try:
            checked = records.load(manifest.path)
        except UsageError as exc:
            raise UsageError(
                f"{exc}: back up into a new directory, or add --restart to start over"
            ) from None
        if checked is not None:
            manifest.data = checked.raw
        return manifest

    def save(self) -> None:
        write_atomic(self.path, (json.dumps(self.data, indent=2) + "\n").encode())

    # -- the partitions' files -------------------------------------------------------------
    def entry(self, name: str) -> Optional[dict]:
        return self.data.get("partitions", {}).get(name)

    def record(self, name: str, entry: dict) -> None:
        """A partition's file is finished: its entry, saved."""
        self.data.setdefault("partitions", {})[name] = entry
        self.save()

    def finished(self, p: Partition, names: list[str]) -> bool:
        """out_dir holds p's file as the manifest describes it (name, place, sha256)."""
        entry = self.entry(p.name)
        if not entry or not names or entry.get("files", [None])[0] != names[0]:
            return False
        if (entry.get("offset"), entry.get("size"), entry.get("mtd")) != (
            p.offset,
            p.size,
            p.index,
        ):
            return False
        try:
            data = (self.out_dir / names[0]).read_bytes()
        except OSError:
            return False
        return hashlib.sha256(data).hexdigest() == entry["sha256"]
