"""`jffs2 clean`: a shareable image without the device identity, verified.

Unpack, remove, repack; then check that no run of 16 or more bytes of a removed file remains
in the new image (runs of one repeated byte value say nothing and are not counted), and that
everything else reads back as before.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from harness.jffs2.extract import extract
from harness.jffs2.fs import Entry, Jffs2Error, read_fs
from harness.jffs2.repack import repack

WINDOW = 16


def leaked_runs(secret: bytes, image: bytes) -> list[int]:
    """Offsets in `secret` whose 16-byte window appears in `image`."""
    hits = []
    seen: set[bytes] = set()
    for i in range(0, max(0, len(secret) - WINDOW + 1)):
        w = secret[i : i + WINDOW]
        if w in seen or w.count(w[:1]) == WINDOW:
            continue
        seen.add(w)
        if w in image:
            hits.append(i)
    return hits


def _key(e: Entry) -> tuple:
    return (e.path, e.kind, e.mode & 0o777, e.data)


def clean(
    data: bytes, remove: list[str], partition_size: int, erase_size: int = 0x10000
) -> tuple[bytes, list[Entry]]:
    fs = read_fs(data)
    if fs.crc_errors:
        raise Jffs2Error(f"{len(fs.crc_errors)} nodes fail their CRC: read the image again first")
    if fs.problems:
        raise Jffs2Error(f"the image is damaged ({fs.problems[0]}): read it again first")
    wanted = [tuple(p.strip("/").split("/")) for p in remove]
    removed = [e for e in fs.entries if any(e.path[: len(w)] == w for w in wanted)]
    for w in wanted:
        if not any(e.path[: len(w)] == w for e in removed):
            raise Jffs2Error(f"no {'/'.join(w)} in the image")
    kept = [e for e in fs.entries if e not in removed]
    if not kept:
        raise Jffs2Error("nothing would be left in the image: it is not a camera's file system")
    with tempfile.TemporaryDirectory() as d:
        tree = Path(d) / "tree"
        tree.mkdir()
        extract(kept, tree)
        out = repack(tree, partition_size, erase_size)
    for e in removed:
        if e.kind == "file" and leaked_runs(e.data, out):
            raise Jffs2Error(f"{'/'.join(e.path)}: some of its bytes are still in the new image")
    again = read_fs(out)
    if sorted(map(_key, again.entries)) != sorted(map(_key, kept)):
        raise Jffs2Error("the cleaned image does not read back as the kept files")
    return out, removed
