"""Numbers as U-Boot's C code parses and prints them.

`strtoul` is simple_strtoul() of the build (profile `number_parser`):
- "2015.01" (lib/vsprintf.c of the vendor tree): a leading "0x" (lowercase only, and only
  when a hex digit follows) selects base 16; "0X21" is 0 followed by "X21".
- "2023.01" (lib/strto.c, _parse_integer_fixup_radix): "0x" or "0X" selects base 16.
Values wrap at the width of the target's `unsigned long` (32 bits on the cameras' ARM).
"""

from __future__ import annotations

_XDIGITS = "0123456789abcdefABCDEF"


def _digit(c: str) -> int:
    return int(c, 16)


def strtoul(text: str, base: int = 16, dialect: str = "2015.01", bits: int = 32) -> tuple[int, str]:
    """(value, the unparsed rest), as simple_strtoul(text, &endp, base)."""
    s = text
    if dialect == "2015.01":
        if s[:1] == "0":
            s = s[1:]
            if s[:1] == "x" and s[1:2] != "" and s[1] in _XDIGITS:
                base = 16
                s = s[1:]
            if not base:
                base = 8
    else:
        if s[:1] == "0":
            if s[1:2].lower() == "x":
                base = 16
                s = s[2:]
            elif not base:
                base = 8
    if not base:
        base = 10
    mask = (1 << bits) - 1
    n = 0
    i = 0
    while i < len(s) and s[i] in _XDIGITS and _digit(s[i]) < base:
        n = (n * base + _digit(s[i])) & mask
        i += 1
    return n, s[i:]


def c_hash_x(value: int, width: int = 0) -> str:
    """U-Boot's printf("%#0*x", width, value) (lib/vsprintf.c, from Linux): "0x" always,
    zero included ("0x0"), then the digits zero-padded to `width` after the prefix."""
    return "0x" + f"{value:x}".rjust(max(0, width - 2), "0")
