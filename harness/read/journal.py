"""Progress of a read, journaled beside its output so that a rerun resumes.

FILE.part holds the verified bytes so far, FILE.journal one JSON line per verified chunk after
a header that names the read. Both are fsync'd after every chunk; the data before the journal
entry, so the journal never claims bytes the .part file does not hold. The output appears
under its final name only when complete (atomic rename).

While a chunk is being read, `partial` lines record the prefix of it received so far (about
once a second): its length and CRC, its bytes in the .part file. They are not verified; a
resumed run checks such a prefix against the target's crc32 and keeps what matches, so an
interruption costs only the lines in flight, not the chunk.
"""

from __future__ import annotations

import json
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Optional

from harness.base.errors import ResumeRefused
from harness.base.safeio import open_append, write_atomic

VERSION = 1


@dataclass
class Entry:
    offset: int
    length: int
    crc: int
    skipped: bool
    partial: bool = False  # a received, not yet verified prefix of the chunk in progress

    def to_json(self) -> str:
        d = {"offset": self.offset, "length": self.length, "crc": self.crc}
        d["skipped"] = self.skipped
        if self.partial:
            d["partial"] = True
        return json.dumps(d)


class Journal:
    def __init__(self, path: Path, header: dict[str, Any]):
        self.path = path
        self.header = {"version": VERSION, **header}
        self.entries: list[Entry] = []
        self.partial: Optional[Entry] = None  # the last prefix recorded after `done`

    @property
    def done(self) -> int:
        return self.entries[-1].offset + self.entries[-1].length if self.entries else 0

    @classmethod
    def open(cls, path: Path, header: dict[str, Any], restart: bool = False) -> Journal:
        j = cls(path, header)
        if restart or not path.exists():
            j._write_all()
            return j
        try:
            lines = path.read_text().splitlines()
            found = json.loads(lines[0])
        except (OSError, ValueError, IndexError) as exc:
            raise ResumeRefused(
                f"unreadable journal {path} ({exc}); rerun with --restart"
            ) from None
        if not isinstance(found, dict):
            raise ResumeRefused(f"unreadable journal {path}; rerun with --restart")
        if found != j.header:
            diff = ", ".join(
                f"{k}: {found.get(k)!r} there, {v!r} now"
                for k, v in j.header.items()
                if found.get(k) != v
            )
            raise ResumeRefused(
                f"{path} belongs to a different read ({diff}); rerun with the same arguments, "
                "or with --restart"
            )
        expect = 0
        for number, line in enumerate(lines[1:], 2):
            e = _entry(line)
            too_far = e is not None and e.offset + e.length > header.get(
                "length", e.offset + e.length
            )
            if e is None or e.offset != expect or too_far:
                if number == len(lines):
                    break  # a torn last line (a crash while it was written): read it again
                raise ResumeRefused(
                    f"the journal {path} is damaged (line {number}): rerun with --restart"
                )
            if e.partial:
                j.partial = e  # a later one supersedes it
                continue
            j.entries.append(e)
            j.partial = None
            expect = e.offset + e.length
        return j

    def check_part(self, part: Path) -> None:
        """The data file holds what the journal says was verified (each chunk's CRC)."""
        with open(part, "rb") as f:
            for e in self.entries:
                if zlib.crc32(f.read(e.length)) != e.crc:
                    raise ResumeRefused(
                        f"{part} does not match its journal at 0x{e.offset:x} (damaged or "
                        "changed since the interrupted run): rerun with --restart"
                    )

    def _write_all(self) -> None:
        lines = [json.dumps(self.header)] + [e.to_json() for e in self.entries]
        write_atomic(self.path, "".join(line + "\n" for line in lines).encode())

    def append(self, entry: Entry, data_file: Optional[BinaryIO] = None) -> None:
        """Records a verified chunk; its data (if in a file) is made durable first."""
        if data_file is not None:
            data_file.flush()
            os.fsync(data_file.fileno())
        with open_append(self.path) as f:
            f.write((entry.to_json() + "\n").encode())
            f.flush()
            os.fsync(f.fileno())
        if entry.partial:
            self.partial = entry
        else:
            self.entries.append(entry)
            self.partial = None

    def remove(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass


def _entry(line: str) -> Optional[Entry]:
    """A journal line, if it is one: whole, non-negative numbers, a positive length."""
    try:
        raw = json.loads(line)
    except ValueError:
        return None
    keys = {"offset", "length", "crc", "skipped"}
    if not isinstance(raw, dict) or not keys <= set(raw) <= keys | {"partial"}:
        return None
    if raw.get("partial", True) is not True:
        return None
    numbers = [raw["offset"], raw["length"], raw["crc"]]
    if not all(type(n) is int and n >= 0 for n in numbers) or raw["length"] == 0:
        return None
    if type(raw["skipped"]) is not bool or raw["crc"] > 0xFFFFFFFF:
        return None
    return Entry(**raw)  # partial: True, or absent
