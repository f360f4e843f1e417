"""Where the partition table comes from: a saved boot log, or the model's built-in table.

Pure parsing, no I/O. A boot log gives it as the kernel's `Creating N MTD partitions` lines
or as `mtdparts=` in the kernel command line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.base.errors import UsageError
from harness.base.units import parse_size
from harness.camera.models import flash_size, models_data


@dataclass(frozen=True)
class Partition:
    index: int
    name: str
    offset: int
    size: int

    @property
    def end(self) -> int:
        return self.offset + self.size

    def describe(self) -> str:
        return f"mtd{self.index} {self.name} 0x{self.offset:06x}-0x{self.end:06x}"


RESTORE_NAMES = {"ROOTFS": "sys", "HOME": "home"}
# Names that become parts of file names (sys_<model>, mtdN_<NAME>.bin): letters, digits, `_`
# and `-`, never a path component, a dot file or an empty name.
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}\Z")
ALIGN = 0x1000  # partitions start and end on 4 KiB (the smallest SPI NOR erase sector)
MAX_FLASH = 0x10000000  # 256 MiB: the largest SPI NOR this tool expects


def check_name(text: object, what: str) -> str:
    """A model or partition name that is safe as part of a file name; UsageError otherwise."""
    if not isinstance(text, str) or not SAFE_NAME.match(text):
        raise UsageError(
            f"{what} {text!r} is not a name of letters, digits, '_' and '-' (up to 32)"
        )
    return text


def check_table(
    parts: tuple[Partition, ...], flash_size: int, source: str
) -> tuple[Partition, ...]:
    """A partition table the tool may act on: named safely and uniquely, each partition of
    non-zero size, 4 KiB aligned, in order, none overlapping another, all inside the flash."""
    if not parts:
        raise UsageError(f"{source}: the partition table is empty")
    seen: set[str] = set()
    end = 0
    for p in parts:
        check_name(p.name, f"{source}: partition name")
        if p.name.lower() in seen:
            raise UsageError(f"{source}: partition {p.name} appears twice")
        seen.add(p.name.lower())
        if p.size <= 0 or p.offset < 0 or p.offset % ALIGN or p.size % ALIGN:
            raise UsageError(
                f"{source}: {p.name} at 0x{p.offset:x} size 0x{p.size:x} is not a whole "
                "number of 4 KiB sectors"
            )
        if p.offset < end:
            raise UsageError(
                f"{source}: {p.name} at 0x{p.offset:x} overlaps the partition before it"
            )
        if p.end > flash_size:
            raise UsageError(
                f"{source}: {p.name} ends at 0x{p.end:x}, beyond the {flash_size >> 20} MiB flash"
            )
        end = p.end
    return parts


_CREATING = re.compile(r'Creating (\d+) MTD partitions on "([^"]*)":')
_MTD_LINE = re.compile(r'0x([0-9a-fA-F]+)-0x([0-9a-fA-F]+) : "([^"]+)"')
_MTDPARTS = re.compile(r"mtdparts=([^\s]+)")
_MTDPART = re.compile(r"^(-|[0-9a-fA-Fx]+[kKmMgG]?)(?:@([0-9a-fA-Fx]+[kKmMgG]?))?\(([^)]+)\)(ro)?$")


def model_table(model: str) -> tuple[Partition, ...] | None:
    """The model's partition table, from harness/camera/models.json (its one place)."""
    name = models_data()["models"].get(model)
    if name is None:
        return None
    rows = models_data()["tables"][name]["partitions"]
    return tuple(Partition(i, n, int(o, 16), int(sz, 16)) for i, (n, o, sz) in enumerate(rows))


def span(model: str, name: str) -> tuple[int, int]:
    """(offset, size) of a partition of the model's table."""
    for p in model_table(model) or ():
        if p.name == name:
            return p.offset, p.size
    raise KeyError(f"{model} has no partition {name}")


def from_bootlog(text: str, flash_size: int = 0x1000000) -> tuple[Partition, ...]:
    """The table in a terminal log of a full boot; UsageError if it has none."""
    text = text.replace("\r", "")
    m = _CREATING.search(text)
    if m:
        count = int(m.group(1))
        parts: list[Partition] = []
        for line in text[m.end() :].split("\n")[1 : count + 1]:
            lm = _MTD_LINE.search(line)
            if not lm:
                raise UsageError(f"boot log: expected {count} partition lines after {m.group(0)!r}")
            start, end = int(lm.group(1), 16), int(lm.group(2), 16)
            parts.append(Partition(len(parts), lm.group(3), start, end - start))
        return check_table(tuple(parts), flash_size, "boot log")
    m = _MTDPARTS.search(text)
    if m:
        return check_table(parse_mtdparts(m.group(1), flash_size), flash_size, "boot log")
    raise UsageError("boot log has no partition table ('Creating N MTD partitions' or mtdparts=)")


def parse_mtdparts(spec: str, flash_size: int) -> tuple[Partition, ...]:
    """`hi_sfc:256k(boot)ro,64k(env),-(rest)` into partitions."""
    _, _, body = spec.partition(":")
    parts: list[Partition] = []
    offset = 0
    for item in body.split(","):
        m = _MTDPART.match(item.strip())
        if not m:
            raise UsageError(f"boot log: cannot read mtdparts entry {item!r}")
        size_s, at_s, name = m.group(1), m.group(2), m.group(3)
        if at_s:
            offset = parse_size(at_s)
        size = flash_size - offset if size_s == "-" else parse_size(size_s)
        parts.append(Partition(len(parts), name, offset, size))
        offset += size
    return tuple(parts)


def choose_table(
    model: str, bootlog: tuple[str, str] | None, table_from: str | None
) -> tuple[tuple[Partition, ...], str]:
    """The table a backup works from, and where it comes from: the boot log's (text, name)
    and/or the model's built-in one; when both exist and disagree, `table_from` decides."""
    builtin = model_table(model)
    flash = flash_size(model) or MAX_FLASH
    logged = from_bootlog(bootlog[0], flash) if bootlog else None
    if logged and builtin and disagreement(logged, builtin) and not table_from:
        diff = "; ".join(disagreement(logged, builtin))
        raise UsageError(
            f"the partition tables disagree ({bootlog[1] if bootlog else ''} first, the "
            f"built-in {model} table second): {diff}; choose one with --table-from bootlog "
            "or --table-from model"
        )
    if logged and bootlog and (table_from != "model" or not builtin):
        return logged, f"bootlog {bootlog[1]}"
    if builtin:
        return builtin, f"built-in table of {model}"
    raise UsageError(f"no built-in partition table for model {model!r}: give --bootlog")


def disagreement(a: tuple[Partition, ...], b: tuple[Partition, ...]) -> list[str]:
    """What differs between two tables, in words; empty when they agree."""
    out = []
    names_a = {p.name: p for p in a}
    names_b = {p.name: p for p in b}
    for name in sorted(
        set(names_a) | set(names_b), key=lambda n: (names_a.get(n) or names_b[n]).offset
    ):
        pa, pb = names_a.get(name), names_b.get(name)
        if pa is None:
            out.append(f"{name} only in the second ({pb.describe()})")  # type: ignore[union-attr]
        elif pb is None:
            out.append(f"{name} only in the first ({pa.describe()})")
        elif (pa.offset, pa.size) != (pb.offset, pb.size):
            out.append(f"{name}: {pa.describe()} vs {pb.describe()}")
    return out


def select(table: tuple[Partition, ...], which: str) -> tuple[Partition, ...]:
    """`ROOTFS,HOME`, or `all`."""
    if which == "all":
        return table
    by_name = {p.name.lower(): p for p in table}
    chosen = []
    for name in which.split(","):
        p = by_name.get(name.strip().lower())
        if p is None:
            raise UsageError(
                f"no partition {name!r} (the table has {', '.join(p.name for p in table)})"
            )
        chosen.append(p)
    return tuple(chosen)


def output_names(p: Partition, model: str, all_: bool) -> list[str]:
    names = []
    if p.name in RESTORE_NAMES:
        names.append(f"{RESTORE_NAMES[p.name]}_{model}")
    if all_:
        names.append(f"mtd{p.index}_{p.name}.bin")
    return names
