"""The read-only command set: what the tool may send to a camera. Anything else is refused
before it reaches the port.

Two writes leave RAM, each only after a proof, and each proof is good for one write and void
as soon as any other command is sent:
- the SD path's `mmc write`, of sectors an `SdWriteGuard` was just told are proven (by the
  camera's crc32 of a fresh `mmc read`) to hold the pattern of the tool's own prepared file;
- restore's `sf erase` + `sf write` of one whole erase block inside the partitions the user
  named, after a `FlashWriteGuard` was told that RAM holds exactly the image's block (the
  camera's crc32 of it); or `sf erase` alone of a block whose image is all 0xFF.
No `mmc erase`, no `sf update`, no other write to the card or the flash, ever."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from harness.base.errors import Refused

ALWAYS = {"md", "crc32", "help", "?", "version", "printenv", "echo", "bdinfo"}
# synchronisation types a random word that names no command (`Unknown command` comes back)
NONCE = re.compile(r"q\d[0-9a-f]{6}\Z")
FORBIDDEN_CHARS = set(";'\"$\\`\r\n\x03")


_HEX = re.compile(r"[0-9a-f]{1,8}\Z")


def _hex(text: str) -> int:
    """A plain lowercase hex number, as this tool writes them: U-Boot's parser would take a
    prefix of anything else (`1g` is 1), so nothing else passes."""
    if not _HEX.match(text):
        raise Refused(f"refused: {text!r} is not a plain hex number")
    return int(text, 16)


class SdWriteGuard:
    """The sectors the next commands may write to the SD card: a list of (first sector,
    count), each good for one `mmc write` of exactly those sectors, in order."""

    def __init__(self) -> None:
        self._proofs: list[tuple[int, int]] = []

    def prove(self, ranges: list[tuple[int, int]]) -> None:
        """These card sectors were just shown to hold the prepared file's pattern."""
        self._proofs = list(ranges)

    @property
    def pending(self) -> int:
        return len(self._proofs)

    def take(self, block: int, count: int) -> None:
        proof = self._proofs.pop(0) if self._proofs else None
        if proof != (block, count):
            self._proofs = []
            raise Refused(
                f"refused: mmc write of sectors {block}..{block + count}: they were not just "
                "proven to belong to the prepared UBDUMP.BIN"
            )

    def void(self) -> None:
        self._proofs = []


class FlashWriteGuard:
    """The flash restore may change: whole erase blocks inside `ranges` (the partitions the
    user named; BOOT is never among them), one block per proof."""

    def __init__(self, ranges: list[tuple[int, int]], erase: int):
        for start, end in ranges:
            if start % erase or end % erase or start >= end:
                raise Refused(f"refused: 0x{start:x}..0x{end:x} is not whole erase blocks")
        self.ranges = list(ranges)
        self.erase = erase
        self._proof: Optional[tuple[Optional[int], int, int]] = None  # (ram or None, off, n)
        self._erased = False

    def _inside(self, offset: int, size: int) -> None:
        if size != self.erase or offset % self.erase:
            raise Refused(f"refused: flash 0x{offset:x}+0x{size:x} is not one erase block")
        if not any(lo <= offset and offset + size <= hi for lo, hi in self.ranges):
            raise Refused(f"refused: flash 0x{offset:x}+0x{size:x} is outside the partitions named")

    def prove(self, ram: int, offset: int, size: int) -> None:
        """RAM at `ram` was just shown to hold exactly the image's block at `offset`."""
        self._proof = None  # a refused proof leaves none behind
        self._inside(offset, size)
        self._proof, self._erased = (ram, offset, size), False

    def prove_erased(self, offset: int, size: int) -> None:
        """The image's block at `offset` is all 0xFF: an erase alone restores it."""
        self._proof = None
        self._inside(offset, size)
        self._proof, self._erased = (None, offset, size), False

    def take(self, argv: list[str]) -> None:
        """`sf erase OFF N`, then (for a write proof) `sf write RAM OFF N`, of the proven
        block; anything else is refused and voids the proof."""
        proof, self._proof = self._proof, None
        nums = tuple(_hex(a) for a in argv[2:])
        if proof is not None:
            ram, offset, size = proof
            if argv[1] == "erase" and nums == (offset, size) and not self._erased:
                if ram is not None:
                    self._proof, self._erased = proof, True  # the write may follow
                return
            if argv[1] == "write" and nums == (ram, offset, size) and self._erased:
                return
        raise Refused(
            f"refused: {' '.join(argv)!r}: the flash is written only block by block, each "
            "just after the proof that RAM holds the image's block"
        )

    def void(self) -> None:
        self._proof = None


_SIZES = {"b": 1, "w": 2, "l": 4, "q": 8}


def _size(name: str) -> int:
    _, _, suffix = name.partition(".")
    if not suffix:
        return 4
    if suffix not in _SIZES:
        raise Refused(f"refused: unknown size suffix in {name!r}")
    return _SIZES[suffix]


LOADY_MAX = 0x10000  # the most the tool sends with loady at once: one erase block


@dataclass(frozen=True)
class ReadOnlyPolicy:
    """`ram_window` is the RAM the tool may fill and copy flash into: (start, end)."""

    ram_window: Optional[tuple[int, int]] = None
    sd_guard: Optional[SdWriteGuard] = None
    flash_guard: Optional[FlashWriteGuard] = None

    def _in_window(self, addr: int, length: int, what: str) -> None:
        w = self.ram_window
        if w is None or not (w[0] <= addr and addr + length <= w[1]):
            raise Refused(
                f"refused: {what} writes 0x{addr:x}..0x{addr + length:x}, outside the RAM "
                "window this tool may use"
            )

    def check(self, command: str) -> None:
        """Raise Refused unless `command` is read-only (or writes only the RAM window)."""
        argv = command.split()
        is_write = argv[:2] == ["mmc", "write"]
        if self.sd_guard is not None and not is_write:
            self.sd_guard.void()
        flash_write = argv[:2] in (["sf", "erase"], ["sf", "write"])
        if self.flash_guard is not None and not flash_write:
            self.flash_guard.void()
        if not command.strip():
            raise Refused("refused: an empty line repeats the last command")
        if FORBIDDEN_CHARS & set(command) or not command.isascii():
            raise Refused(f"refused: {command!r} has characters outside plain arguments")
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
                _hex(argv[3])
                self._in_window(_hex(argv[2]), _hex(argv[4]), "sf read")
                return
            if flash_write and len(argv) == (4 if argv[1] == "erase" else 5):
                if argv[1] == "write":
                    self._in_window(_hex(argv[2]), _hex(argv[4]), "sf write (its source)")
                if self.flash_guard is None:
                    raise Refused(f"refused: {command!r}: the flash is written only by restore")
                self.flash_guard.take(argv)
                return
        if name == "mmc" and len(argv) >= 2:
            self._mmc(argv)
            return
        if base == "mw" and len(argv) in (3, 4):
            size = _size(name)
            count = _hex(argv[3]) if len(argv) == 4 else 1
            self._in_window(_hex(argv[1]), size * count, "mw")
            return
        if name == "loady" and len(argv) == 2:  # a file received into RAM (YMODEM)
            self._in_window(_hex(argv[1]), LOADY_MAX, "loady")
            return
        if base == "cp" and len(argv) == 4:
            self._in_window(_hex(argv[2]), _size(name) * _hex(argv[3]), "cp")
            return
        raise Refused(f"refused: {command!r} is not in the read-only command set")

    def _mmc(self, argv: list[str]) -> None:
        sub = argv[1]
        if sub in ("rescan", "list", "info") and len(argv) == 2:
            return
        if sub == "dev" and len(argv) == 3 and argv[2].isdigit():
            return
        if sub in ("read", "write") and len(argv) == 5:
            addr, block, count = (_hex(a) for a in argv[2:5])
            if sub == "read":
                self._in_window(addr, count * 512, "mmc read")
                return
            self._in_window(addr, count * 512, "mmc write (its source)")
            if self.sd_guard is None:
                raise Refused("refused: mmc write outside the SD path")
            self.sd_guard.take(block, count)
            return
        raise Refused(f"refused: {' '.join(argv)!r} is not in the read-only command set")
