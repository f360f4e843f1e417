"""Progress of a read, journaled beside its output so that a rerun resumes.

FILE.part holds the verified bytes so far, FILE.journal one JSON line per verified chunk after
a header that names the read. Both are fsync'd after every chunk; the data before the journal
entry, so the journal never claims bytes the .part file does not hold. The output appears
under its final name only when complete (atomic rename).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from .errors import ResumeRefused

VERSION = 1


@dataclass
class Entry:
    offset: int
    length: int
    crc: int
    skipped: bool


class Journal:
    def __init__(self, path: Path, header: dict[str, Any]):
        self.path = path
        self.header = {"version": VERSION, **header}
        self.entries: list[Entry] = []

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
        for line in lines[1:]:
            try:
                e = Entry(**json.loads(line))
            except (ValueError, TypeError):
                break  # a torn last line: that chunk is read again
            if e.offset != expect:
                break
            j.entries.append(e)
            expect = e.offset + e.length
        return j

    def _write_all(self) -> None:
        lines = [json.dumps(self.header)] + [json.dumps(e.__dict__) for e in self.entries]
        write_atomic(self.path, "".join(line + "\n" for line in lines).encode())

    def append(self, entry: Entry, data_file: BinaryIO) -> None:
        data_file.flush()
        os.fsync(data_file.fileno())
        with open(self.path, "a") as f:
            f.write(json.dumps(entry.__dict__) + "\n")
            f.flush()
            os.fsync(f.fileno())
        self.entries.append(entry)

    def remove(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass


def write_atomic(path: Path, data: bytes) -> None:
    """The file appears complete under its name (fsync'd, renamed), or not at all."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
