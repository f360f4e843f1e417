"""Every file the tool writes is opened here, so that no planted name can redirect a write.

- New files and temporaries are created with O_CREAT|O_EXCL|O_NOFOLLOW: a symbolic link or
  any existing file at that name is refused, never followed or truncated. Temporaries get a
  random name beside their final name, so nobody can plant one in advance.
- A final name is reached by rename (which replaces a name, never writes through it); a
  symbolic link at the final name is refused all the same, so the user sees it.
- Files the tool appends to or updates (logs, journals, a `.part` file it resumes) are opened
  with O_NOFOLLOW and must be plain files with one link: a hard link planted there to another
  file would otherwise make the tool write into that file.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path
from typing import BinaryIO, Iterable

NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
BINARY = getattr(os, "O_BINARY", 0)


class UnsafeName(OSError):
    """A name the tool would write through is a link, or not a plain file of its own."""


def refuse_link(path: Path) -> None:
    if os.path.islink(path):
        raise UnsafeName(
            0, "is a symbolic link: refused (the tool never writes through one)", str(path)
        )


def _checked(fd: int, path: Path) -> int:
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_nlink > 1:
        os.close(fd)
        why = "not a plain file" if not stat.S_ISREG(st.st_mode) else "has other hard links"
        raise UnsafeName(0, f"{why}: refused", str(path))
    return fd


def _open(path: Path, flags: int, mode: int = 0o644) -> int:
    try:
        return os.open(path, flags | NOFOLLOW | BINARY, mode)
    except OSError as exc:
        if os.path.islink(path):
            raise UnsafeName(0, "is a symbolic link: refused", str(path)) from None
        raise OSError(exc.errno, exc.strerror, str(path)) from None


def create_new(path: Path) -> BinaryIO:
    """A new file for writing; an existing name (a file, a link, anything) is refused."""
    return os.fdopen(_open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL), "wb")


def open_append(path: Path) -> BinaryIO:
    """A log or journal of the tool's: created if absent, appended to if a plain file."""
    fd = _checked(_open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT), path)
    return os.fdopen(fd, "ab")


def open_update(path: Path, *, create: bool) -> BinaryIO:
    """A data file the tool resumes (`.part`): read and written in place, never through a
    link; `create` makes it (empty) when absent and empties an old one of the tool's."""
    flags = os.O_RDWR | (os.O_CREAT if create else 0)
    fd = _checked(_open(path, flags), path)
    if create:
        os.ftruncate(fd, 0)
    return os.fdopen(fd, "r+b")


def temporary_beside(path: Path) -> tuple[Path, BinaryIO]:
    """A new temporary file in path's directory, with a name nobody could have planted."""
    while True:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            return tmp, create_new(tmp)
        except FileExistsError:
            continue


def write_atomic(path: Path, data: bytes) -> None:
    """The file appears complete under its name (fsync'd, renamed), or not at all."""
    write_pieces(path, (data,))


def write_pieces(path: Path, pieces: Iterable[bytes]) -> None:
    """write_atomic of the pieces one after the other (a large file, made as it is written)."""
    path = Path(path)
    refuse_link(path)
    tmp, f = temporary_beside(path)
    try:
        with f:
            for piece in pieces:
                f.write(piece)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OSError(exc.errno, exc.strerror, str(path)) from None  # the name the user knows
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
