"""The camera's DRAM and the part of it U-Boot keeps for itself: from the model's data, or
from what the target's own `bdinfo` says. Every RAM range a job writes must lie in the rest."""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.base.errors import UsageError
from harness.camera.models import models_data


@dataclass(frozen=True)
class MemoryMap:
    """The camera's DRAM and the part of it U-Boot keeps for itself (harness/camera/models.json)."""

    dram_start: int
    dram_size: int
    reserved_from: int  # U-Boot's relocated code, heap and stack lie from here to the end
    source: str

    @property
    def usable(self) -> tuple[int, int]:
        return self.dram_start, min(self.reserved_from, self.dram_start + self.dram_size)

    def contains(self, start: int, end: int) -> bool:
        lo, hi = self.usable
        return lo <= start < end <= hi

    def require_inside(self, start: int, end: int, what: str) -> None:
        lo, hi = self.usable
        if not (lo <= start < end <= hi):
            raise UsageError(
                f"{what} 0x{start:x}..0x{end:x} is not inside the RAM the tool may use on this "
                f"camera, 0x{lo:x}..0x{hi:x} ({self.source}): choose --ram inside it"
            )


_BANK = re.compile(
    r"DRAM bank\s*=\s*0x[0-9a-f]+\s*\r?\n-> start\s*=\s*0x([0-9a-f]+)\s*\r?\n"
    r"-> size\s*=\s*0x([0-9a-f]+)",
    re.I,
)
_SP = re.compile(r"^(?:sp start|irq_sp)\s*=\s*0x([0-9a-f]+)", re.I | re.M)
_RESERVED = re.compile(r"reserved\[\d+\]\s*\[0x([0-9a-f]+)-", re.I)
STACK_MARGIN = 0x100000  # below U-Boot's initial stack pointer, room for its stack to grow


def dram_bank(text: str) -> tuple[int, int] | None:
    """(start, size) of the DRAM bank a `bdinfo` names, if it names one."""
    bank = _BANK.search(text)
    return (int(bank.group(1), 16), int(bank.group(2), 16)) if bank else None


def memory_map_from_bdinfo(text: str, fallback: MemoryMap) -> MemoryMap:
    """What a target's own `bdinfo` says (U-Boot's board info: its DRAM bank; where its
    stack starts, `sp start`/`irq_sp`; on newer builds the lmb reservations): the DRAM it
    names, free below the lowest of the stack (less STACK_MARGIN), the reservations and the
    fallback's reserved start. The fallback where bdinfo names no DRAM bank."""
    bank = dram_bank(text)
    if bank is None:
        return fallback
    start, size = bank
    tops = [start + size]
    tops += [int(m, 16) - STACK_MARGIN for m in _SP.findall(text)]
    tops += [int(m, 16) for m in _RESERVED.findall(text)]
    if fallback.dram_start <= start < fallback.dram_start + fallback.dram_size:
        tops.append(fallback.reserved_from)
    reserved = min(t for t in tops if t > start) if any(t > start for t in tops) else start
    return MemoryMap(start, size, reserved, "the target's bdinfo")


def memory_map(model: str) -> MemoryMap:
    """The model's DRAM map; for a model without a built-in table, the Infinity3 cameras'."""
    name = models_data()["models"].get(model)
    source = f"the {model} board"
    if name is None:
        name = next(iter(models_data()["tables"]))
        source = f"the {name} board (no built-in data for {model})"
    t = models_data()["tables"][name]
    start, size = (int(v, 16) for v in t["dram"])
    return MemoryMap(start, size, int(t["uboot_reserved_from"], 16), source)
