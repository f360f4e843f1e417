"""Numbers as people type them (0x1e0000, 1966080, 64K, 12M) and as they read them.

A U-Boot user types hex without 0x (U-Boot's own arguments are hex), so a bare number that
would mean something else in hex is not guessed at: addresses must be written with 0x
(`21000000` is refused, with the two readings spelled out); sizes may be decimal, but a
size with hex letters and no 0x (`1e0000`) is refused too.
"""

from __future__ import annotations

import math
import re

_NUMBER = re.compile(r"^(0x[0-9a-f]+|[0-9a-f]+)([kmg](?:i?b)?)?$", re.I)
_MULT = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
MAX_ADDRESS = (1 << 64) - 1


def parse_size(text: str, *, address: bool = False, what: str = "number") -> int:
    """`0x1e0000`, `1966080`, `64K`, `1M`, `64KiB`; raises ValueError with the reason."""
    t = text.strip()
    m = _NUMBER.match(t)
    if not m:
        raise ValueError(f"{what} {text!r} is not a number (hex with 0x, decimal, or with K/M/G)")
    digits, suffix = m.group(1), m.group(2)
    if digits.lower().startswith("0x"):
        n = int(digits, 16)
    elif not digits.isdigit():
        raise ValueError(f"{what} {text!r} looks like hex: write it with 0x (0x{digits})")
    elif address and not suffix and int(digits) > 9:
        raise ValueError(
            f"{what} {text!r}: write addresses with 0x (0x{digits} is hex, as U-Boot prints "
            f"addresses; as decimal it would be 0x{int(digits):x})"
        )
    else:
        n = int(digits)
    if suffix:
        n *= _MULT[suffix[0].lower()]
    if n > MAX_ADDRESS:
        raise ValueError(f"{what} {text!r} is larger than a 64-bit address")
    return n


def parse_seconds(text: str, *, what: str = "seconds", most: float = 86400.0) -> float:
    """A positive, finite number of seconds (at most `most`)."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{what} {text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0 or value > most:
        raise ValueError(f"{what} must be more than 0 and at most {most:g} seconds, not {text!r}")
    return value


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
