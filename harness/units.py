"""Numbers as people type them (0x1e0000, 1966080, 64K, 12M) and as they read them."""

from __future__ import annotations

import re

_SIZE = re.compile(r"^(0x[0-9a-f]+|\d+)([kmg]i?b?)?$", re.I)
_MULT = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def parse_size(text: str) -> int:
    """`0x1e0000`, `1966080`, `64K`, `1M`, `64KiB`; raises ValueError."""
    m = _SIZE.match(text.strip())
    if not m:
        raise ValueError(f"{text!r} is not a number (hex with 0x, decimal, or with K/M/G)")
    n = int(m.group(1), 0)
    if m.group(2):
        n *= _MULT[m.group(2)[0].lower()]
    return n


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def human_time(seconds: float) -> str:
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"
