"""Writes a tree of Entries into a directory without ever following a symlink or leaving it.

Every path is walked from the destination with directory file descriptors opened
O_NOFOLLOW; names with `/`, NUL, `.` or `..` are refused; files are created O_EXCL and
written node by node (a file's contents are never held whole in memory); links are created
as they are (they may point anywhere) but never followed, and a target with a NUL is
refused. The tree is built in a new directory beside the destination and renamed into place
only when every entry is written: a failure (a full disk, an unreadable node) leaves
nothing behind.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path

from harness.jffs2.decompress import DataError
from harness.jffs2.fs import Entry

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW


class ExtractError(Exception):
    """Writing the tree failed; nothing was left behind."""


def bad_name(name: str) -> bool:
    return not name or name in (".", "..") or "/" in name or "\x00" in name


class SafeWriter:
    def __init__(self, dest: Path):
        self.root = os.open(dest, DIR_FLAGS)
        self.skipped: list[str] = []  # what was not created, and why
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
            self.skipped.append(f"{shown!r}: unsafe name, not created")
            return
        if e.kind == "dir":
            os.close(self._dir(e.path))
        elif e.kind == "link":
            if b"\x00" in e.target or not e.target:
                self.skipped.append(f"{shown}: link target with a NUL or empty, not created")
                return
            parent = self._dir(e.path[:-1])
            try:
                os.symlink(e.target, e.path[-1], dir_fd=parent)
            finally:
                os.close(parent)
        elif e.kind == "file":
            self._file(e)
        else:
            self.skipped.append(f"{shown}: {e.kind} node not created")
            return
        self.written += 1

    def _file(self, e: Entry) -> None:
        parent = self._dir(e.path[:-1])
        try:
            fd = os.open(
                e.path[-1], os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600,
                dir_fd=parent,
            )  # fmt: skip
        finally:
            os.close(parent)
        with os.fdopen(fd, "wb") as f:  # buffered: a short write is continued, not lost
            for offset, chunk in e.chunks():
                f.seek(offset)
                f.write(chunk)
            f.truncate(e.size)
            f.flush()
            os.fchmod(f.fileno(), e.mode & 0o777)

    def set_dir_modes(self, entries: list[Entry]) -> None:
        """Directory modes last (deepest first), so read-only ones could be filled."""
        for e in sorted((e for e in entries if e.kind == "dir"), key=lambda e: -len(e.path)):
            if any(bad_name(p) for p in e.path):
                continue
            fd = self._dir(e.path)
            try:
                os.fchmod(fd, e.mode & 0o777)
            finally:
                os.close(fd)


def extract(entries: list[Entry], dest: Path) -> SafeWriter:
    """All entries under `dest` (which must not exist, or be an empty directory), or an
    ExtractError and no `dest`."""
    dest = Path(dest)
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        w = SafeWriter(work)
        try:
            for e in entries:
                try:
                    w.write(e)
                except DataError as exc:
                    w.skipped.append(f"{'/'.join(e.path)}: {exc}")
            w.set_dir_modes(entries)
        finally:
            w.close()
        os.chmod(work, 0o755)
        os.replace(work, dest)
    except OSError as exc:
        shutil.rmtree(work, ignore_errors=True)
        why = exc.strerror or str(exc)
        if exc.errno == errno.ENOTEMPTY:
            why = "it is not empty"
        raise ExtractError(f"cannot extract into {dest}: {why}") from None
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return w
