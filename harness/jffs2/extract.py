"""Writes a tree of Entries into a directory without ever following a symlink or leaving it.

Every path is walked from the destination with directory file descriptors opened
O_NOFOLLOW; names with `/`, NUL, `.` or `..` are refused; files are created O_EXCL.
Symlinks are created as they are (they may point anywhere) but are never followed.
"""

from __future__ import annotations

import os
from pathlib import Path

from .fs import Entry

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW


def bad_name(name: str) -> bool:
    return not name or name in (".", "..") or "/" in name or "\x00" in name


class SafeWriter:
    def __init__(self, dest: Path):
        self.root = os.open(dest, DIR_FLAGS)
        self.skipped: list[str] = []
        self.written = 0

    def close(self) -> None:
        os.close(self.root)

    def _dir(self, parts: tuple[str, ...]) -> int:
        """An fd of the directory at `parts`, created (0700) where missing; never a link."""
        fd = os.dup(self.root)
        try:
            for p in parts:
                try:
                    nfd = os.open(p, DIR_FLAGS, dir_fd=fd)
                except FileNotFoundError:
                    os.mkdir(p, 0o700, dir_fd=fd)
                    nfd = os.open(p, DIR_FLAGS, dir_fd=fd)
                os.close(fd)
                fd = nfd
            return fd
        except BaseException:
            os.close(fd)
            raise

    def write(self, e: Entry) -> None:
        shown = "/".join(e.path)
        if any(bad_name(p) for p in e.path):
            self.skipped.append(f"{shown!r}: unsafe name")
            return
        try:
            if e.kind == "dir":
                os.close(self._dir(e.path))
            elif e.kind in ("file", "link"):
                parent = self._dir(e.path[:-1])
                try:
                    if e.kind == "link":
                        os.symlink(e.data, e.path[-1], dir_fd=parent)
                    else:
                        fd = os.open(
                            e.path[-1],
                            os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                            0o600,
                            dir_fd=parent,
                        )
                        try:
                            os.write(fd, e.data) if e.data else None
                            os.fchmod(fd, e.mode & 0o777)
                        finally:
                            os.close(fd)
                finally:
                    os.close(parent)
            else:
                self.skipped.append(f"{shown}: {e.kind} node not created")
                return
            self.written += 1
        except OSError as exc:
            self.skipped.append(f"{shown}: {exc.strerror}")

    def set_dir_modes(self, entries: list[Entry]) -> None:
        """Directory modes last (deepest first), so read-only ones could be filled."""
        for e in sorted((e for e in entries if e.kind == "dir"), key=lambda e: -len(e.path)):
            if any(bad_name(p) for p in e.path):
                continue
            try:
                fd = self._dir(e.path)
                try:
                    os.fchmod(fd, e.mode & 0o777)
                finally:
                    os.close(fd)
            except OSError as exc:
                self.skipped.append(f"{'/'.join(e.path)}: {exc.strerror}")


def extract(entries: list[Entry], dest: Path) -> SafeWriter:
    w = SafeWriter(dest)
    try:
        for e in entries:
            w.write(e)
        w.set_dir_modes(entries)
    finally:
        w.close()
    return w
