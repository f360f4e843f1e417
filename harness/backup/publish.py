"""A partition's image into the output directory, under every name it has, and its manifest
entry with a JFFS2 node check: the same for the md path and for sd-collect."""

from __future__ import annotations

import hashlib
import os
import zlib
from pathlib import Path
from typing import Callable, Optional

from harness.camera.partitions import Partition
from harness.jffs2.nodes import scan


def publish(
    out_dir: Path, names: list[str], p: Partition, data: bytes, say: Callable[[str], None]
) -> dict:
    """A partition's image is in out_dir/names[0]: its other names as hard links, and its
    manifest entry (with the JFFS2 check). The same for the md path and sd-collect."""
    target = out_dir / names[0]
    for extra in names[1:]:
        link = out_dir / extra
        if link.exists():
            link.unlink()
        os.link(target, link)
    entry: dict = {
        "files": names,
        "partition": p.name,
        "mtd": p.index,
        "offset": p.offset,
        "size": p.size,
        "sha256": hashlib.sha256(data).hexdigest(),
        "crc32": f"{zlib.crc32(data):08x}",
    }
    check = jffs2_report(data)
    if check is not None:
        entry["jffs2"] = check
        for problem in check["problems"]:
            say(f"{p.name}: JFFS2 check: {problem} (the bytes are kept as read)")
    return entry


def jffs2_report(data: bytes) -> Optional[dict]:
    """Node-header check of an image, or None if it holds no JFFS2 at all."""
    s = scan(data)
    if s.layout is None:
        return None
    problems = [f"{why} at 0x{off:x}" for off, why in s.crc_errors[:20]]
    if len(s.crc_errors) > 20:
        problems.append(f"... {len(s.crc_errors) - 20} more")
    if s.layout != "little":
        problems.append(f"layout is {s.layout}, not little-endian in flash order")
    return {
        "layout": s.layout,
        "nodes": dict(s.nodes),
        "crc_errors": len(s.crc_errors),
        "erased_bytes": s.erased,
        "problems": problems,
    }
