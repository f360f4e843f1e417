"""The read-only command set: what the tool may send to a camera. Anything else is refused
before it reaches the port."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from .errors import Refused

ALWAYS = {"md", "crc32", "help", "?", "version", "printenv", "echo"}
# synchronisation types a random word that names no command (`Unknown command` comes back)
NONCE = re.compile(r"q\d[0-9a-f]{6}\Z")
FORBIDDEN_CHARS = set(";'\"$\\`\r\n\x03")


def _hex(text: str) -> int:
    try:
        return int(text, 16)
    except ValueError:
        raise Refused(f"refused: {text!r} is not a hex number") from None


_SIZES = {"b": 1, "w": 2, "l": 4, "q": 8}


def _size(name: str) -> int:
    _, _, suffix = name.partition(".")
    if not suffix:
        return 4
    if suffix not in _SIZES:
        raise Refused(f"refused: unknown size suffix in {name!r}")
    return _SIZES[suffix]


@dataclass(frozen=True)
class ReadOnlyPolicy:
    """`ram_window` is the RAM the tool may fill and copy flash into: (start, end)."""

    ram_window: Optional[tuple[int, int]] = None

    def _in_window(self, addr: int, length: int, what: str) -> None:
        w = self.ram_window
        if w is None or not (w[0] <= addr and addr + length <= w[1]):
            raise Refused(
                f"refused: {what} writes 0x{addr:x}..0x{addr + length:x}, outside the RAM "
                "window this tool may use"
            )

    def check(self, command: str) -> None:
        """Raise Refused unless `command` is read-only (or writes only the RAM window)."""
        if not command.strip():
            raise Refused("refused: an empty line repeats the last command")
        if FORBIDDEN_CHARS & set(command) or not command.isascii():
            raise Refused(f"refused: {command!r} has characters outside plain arguments")
        argv = command.split()
        name = argv[0]
        if len(argv) == 1 and NONCE.match(name):
            return
        base = name.split(".", 1)[0]
        if base == "crc32":
            if len(argv) > 3:
                raise Refused("refused: crc32 with a store address writes memory")
            return
        if base in ALWAYS:
            if base != "md" and "." in name:
                raise Refused(f"refused: {name!r}")
            return
        if name == "sf" and len(argv) >= 2:
            if argv[1] == "probe":
                return
            if argv[1] == "read" and len(argv) == 5:
                self._in_window(_hex(argv[2]), _hex(argv[4]), "sf read")
                return
        if base == "mw" and len(argv) in (3, 4):
            size = _size(name)
            count = _hex(argv[3]) if len(argv) == 4 else 1
            self._in_window(_hex(argv[1]), size * count, "mw")
            return
        if base == "cp" and len(argv) == 4:
            self._in_window(_hex(argv[2]), _size(name) * _hex(argv[3]), "cp")
            return
        raise Refused(f"refused: {command!r} is not in the read-only command set")
