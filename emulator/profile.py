"""Board profiles: everything that differs between U-Boot builds, as data.

A profile is a JSON file in ``profiles/`` plus the boot and Linux logs it names. Adding a
board is adding such a file; nothing in the emulator branches on a profile's name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROFILE_DIR = Path(__file__).parent / "profiles"


class ProfileError(ValueError):
    """A profile is missing or malformed."""


@dataclass(frozen=True)
class Partition:
    name: str
    start: int
    end: int

    @property
    def size(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class FlashSpec:
    kind: str  # "spi" (reached through `sf`) or "mapped" (memory-mapped at `base`)
    size: int
    exact_size: bool
    base: int = 0
    erase_size: int = 0x10000
    probe_lines: tuple[str, ...] = ()
    read_bytes_per_s: float = 0.0


@dataclass(frozen=True)
class Profile:
    name: str
    prompt: str
    boot_log: bytes
    linux_log: bytes
    linux_prompt: str
    autoboot: dict[str, Any]
    cbsize: int
    md_gap: int
    md_widths: str
    addr_digits: int
    endian: str
    unaligned_abort: bool
    crc32_label: str
    help_width: int
    baudrate: int
    baud_table: tuple[int, ...]
    dram_base: int
    dram_size: int
    flash: FlashSpec
    partitions: tuple[Partition, ...]
    mtd_device: str
    env: dict[str, str]
    env_size: int
    version_text: str
    abort_text: str
    reset_text: str
    commands: tuple[str, ...]
    description: str = ""

    def with_partitions(self, parts: tuple[Partition, ...]) -> Profile:
        from dataclasses import replace

        return replace(self, partitions=parts)


def _int(value: Any) -> int:
    return int(value, 0) if isinstance(value, str) else int(value)


def available() -> list[str]:
    return sorted(p.stem for p in PROFILE_DIR.glob("*.json"))


def load(name_or_path: str) -> Profile:
    """Load a profile by name (``mstar``) or by path to its JSON file."""
    path = Path(name_or_path)
    if not path.suffix:
        path = PROFILE_DIR / f"{name_or_path}.json"
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        raise ProfileError(
            f"unknown profile {name_or_path!r} (available: {', '.join(available())})"
        ) from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ProfileError(f"cannot read profile {path}: {exc}") from None
    try:
        return _from_dict(raw, path.parent)
    except (KeyError, TypeError, ValueError, OSError) as exc:
        raise ProfileError(f"malformed profile {path}: {exc!r}") from None


def _from_dict(raw: dict[str, Any], base: Path) -> Profile:
    fl = raw["flash"]
    flash = FlashSpec(
        kind=fl["kind"],
        size=_int(fl["size"]),
        exact_size=bool(fl.get("exact_size", False)),
        base=_int(fl.get("base", 0)),
        erase_size=_int(fl.get("erase_size", 0x10000)),
        probe_lines=tuple(fl.get("probe_lines", ())),
        read_bytes_per_s=float(fl.get("read_bytes_per_s", 0.0)),
    )
    if flash.kind not in ("spi", "mapped"):
        raise ValueError(f"flash kind {flash.kind!r}")
    parts = tuple(Partition(n, _int(s), _int(e)) for n, s, e in raw.get("partitions", ()))
    return Profile(
        name=raw["name"],
        description=raw.get("description", ""),
        prompt=raw["prompt"],
        boot_log=(base / raw["boot_log"]).read_bytes(),
        linux_log=(base / raw["linux_log"]).read_bytes(),
        linux_prompt=raw["linux_prompt"],
        autoboot=dict(raw["autoboot"]),
        cbsize=int(raw["cbsize"]),
        md_gap=int(raw["md_gap"]),
        md_widths=raw["md_widths"],
        addr_digits=int(raw["addr_digits"]),
        endian=raw["endian"],
        unaligned_abort=bool(raw["unaligned_abort"]),
        crc32_label=raw["crc32_label"],
        help_width=int(raw["help_width"]),
        baudrate=int(raw["baudrate"]),
        baud_table=tuple(int(b) for b in raw["baud_table"]),
        dram_base=_int(raw["dram"]["base"]),
        dram_size=_int(raw["dram"]["size"]),
        flash=flash,
        partitions=parts,
        mtd_device=raw.get("mtd_device", ""),
        env={str(k): str(v) for k, v in raw["env"].items()},
        env_size=int(raw["env_size"]),
        version_text=raw["version_text"],
        abort_text=raw["abort_text"],
        reset_text=raw["reset_text"],
        commands=tuple(raw["commands"]),
    )


def parse_partition_spec(spec: str) -> tuple[Partition, ...]:
    """``NAME=START-END,...`` (hex or decimal) into partitions; raises ValueError."""
    parts = []
    for item in spec.split(","):
        name, _, rng = item.strip().partition("=")
        start, _, end = rng.partition("-")
        if not name or not start or not end:
            raise ValueError(f"partition {item!r} is not NAME=START-END")
        p = Partition(name, int(start, 0), int(end, 0))
        if p.end <= p.start:
            raise ValueError(f"partition {item!r} ends before it starts")
        parts.append(p)
    return tuple(parts)
