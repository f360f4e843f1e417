"""Board profiles: everything that differs between U-Boot builds and boards, as data.

A profile is a JSON file in ``profiles/`` plus the boot log, Linux log and command table it
names. Adding a board is adding such files; nothing in the emulator branches on a profile's
name. Each profile's `sources` says where its facts come from (the vendor build in
../shared/oracles/, a published transcript, a vendor source line, U-Boot under QEMU).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Optional

PROFILE_DIR = Path(__file__).parent / "profiles"


class ProfileError(ValueError):
    """A profile is missing or malformed."""


@dataclass(frozen=True)
class FlashPartition:
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
    block_erase_s: float = 0.0  # typical time to erase one erase block
    page_program_s: float = 0.0  # typical time to program one page
    page_size: int = 256
    chip: str = ""  # the part, as the vendor's driver names it


@dataclass(frozen=True)
class SdSpec:
    """The SD/MMC host: what `mmc` prints and how fast it moves sectors; None in a profile
    without one (`mmc` then finds no device)."""

    device: str  # the driver's name (`mmc list`, the boot banner)
    b_max: int  # blocks per transfer (the driver splits longer ones)
    read_bytes_per_s: float
    write_bytes_per_s: float
    write_protect_detect: bool  # does the host read the card's write-protect switch?
    no_card: str  # what mmc_init prints when the slot is empty
    boot_checks: tuple[str, ...] = ()  # files the boot looks for on the card ({MODEL})
    boot_check: dict[str, str] = field(default_factory=dict)  # head/absent/present/no_card


@dataclass(frozen=True)
class Window:
    """A read-only view of the flash in the address space (the MStar SPI window)."""

    name: str
    base: int
    size: int


@dataclass(frozen=True)
class Profile:
    name: str
    prompt: str
    boot_log: bytes
    linux_log: bytes
    linux_prompt: str
    autoboot: dict[str, Any]
    parser: str  # "simple" (cli_simple.c) or "hush"
    number_parser: str  # simple_strtoul of "2015.01" or "2023.01"
    word_bits: int  # the width of `unsigned long`
    data_64bit: bool  # md.q and friends work
    cbsize: int  # CONFIG_SYS_CBSIZE
    maxargs: int  # CONFIG_SYS_MAXARGS
    md_gap: int
    endian: str
    unaligned_abort: bool
    crc32_label: str
    crc32_store: str  # "native" (*(ulong *)dst = crc) or "digest" (bytes, MSB first)
    help_width: int
    command_table: Path
    commands: tuple[str, ...]  # the table's commands this build has (empty: all)
    baudrate: int
    baud_table: tuple[int, ...]
    baud_switch_effective: bool  # does `setenv baudrate` change the line rate?
    dram_base: int
    dram_size: int
    windows: tuple[Window, ...]
    flash: FlashSpec
    sf_reply: str
    partitions: tuple[FlashPartition, ...]
    mtd_device: str
    env: dict[str, str]
    env_size: int
    env_export_overhead: int  # bytes hexport_r counts per variable beyond name and value
    version_text: str
    abort_text: str
    reset_text: str
    watchdog_s: Optional[float]
    sd: Optional[SdSpec] = None
    bdinfo: str = ""  # what `bdinfo` prints (captured), or "" where it is not emulated
    model: str = ""
    description: str = ""
    sources: dict[str, str] = field(default_factory=dict)

    def with_partitions(self, parts: tuple[FlashPartition, ...]) -> Profile:
        return replace(self, partitions=parts)

    def with_(self, **changes: Any) -> Profile:
        return replace(self, **changes)


def _int(value: Any) -> int:
    return int(value, 0) if isinstance(value, str) else int(value)


def available() -> list[str]:
    return sorted(p.stem for p in PROFILE_DIR.glob("*.json") if not p.stem.startswith("commands-"))


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
        block_erase_s=float(fl.get("block_erase_s", 0.0)),
        page_program_s=float(fl.get("page_program_s", 0.0)),
        page_size=_int(fl.get("page_size", 256)),
        chip=str(fl.get("chip", "")),
    )
    if flash.kind not in ("spi", "mapped"):
        raise ValueError(f"flash kind {flash.kind!r}")
    if raw["parser"] not in ("simple", "hush"):
        raise ValueError(f"parser {raw['parser']!r}")
    model = raw.get("model", "")
    parts, mtd_device = _partition_table(raw.get("partition_table"))
    table = base / raw["command_table"]
    if not table.exists():
        raise ValueError(f"command table {table} is missing")
    return Profile(
        name=raw["name"],
        description=raw.get("description", ""),
        prompt=raw["prompt"],
        boot_log=(base / raw["boot_log"]).read_bytes().replace(b"{MODEL}", model.encode()),
        linux_log=(base / raw["linux_log"]).read_bytes(),
        linux_prompt=raw["linux_prompt"],
        autoboot=dict(raw["autoboot"]),
        parser=raw["parser"],
        number_parser=raw["number_parser"],
        word_bits=int(raw["word_bits"]),
        data_64bit=bool(raw["data_64bit"]),
        cbsize=int(raw["cbsize"]),
        maxargs=int(raw["maxargs"]),
        md_gap=int(raw["md_gap"]),
        endian=raw["endian"],
        unaligned_abort=bool(raw["unaligned_abort"]),
        crc32_label=raw["crc32_label"],
        crc32_store=raw["crc32_store"],
        help_width=int(raw["help_width"]),
        command_table=table,
        commands=tuple(raw.get("commands") or ()),
        baudrate=int(raw["baudrate"]),
        baud_table=tuple(int(b) for b in raw["baud_table"]),
        baud_switch_effective=bool(raw["baud_switch_effective"]),
        dram_base=_int(raw["dram"]["base"]),
        dram_size=_int(raw["dram"]["size"]),
        windows=tuple(
            Window(w["name"], _int(w["base"]), _int(w["size"])) for w in raw.get("windows", ())
        ),
        flash=flash,
        sf_reply=raw.get("sf_reply", "SF: {length} bytes @ {offset} {op}: {status}"),
        partitions=parts,
        mtd_device=mtd_device,
        env={str(k): str(v) for k, v in raw["env"].items()},
        env_size=int(raw["env_size"]),
        env_export_overhead=int(raw["env_export_overhead"]),
        version_text=raw["version_text"],
        abort_text=raw["abort_text"],
        reset_text=raw["reset_text"],
        watchdog_s=float(raw["watchdog_s"]) if raw.get("watchdog_s") else None,
        sd=_sd(raw.get("sd")),
        bdinfo=(base / raw["bdinfo"]).read_text() if raw.get("bdinfo") else "",
        model=model,
        sources={str(k): str(v) for k, v in raw.get("sources", {}).items()},
    )


def _partition_table(model: Optional[str]) -> tuple[tuple[FlashPartition, ...], str]:
    """The kernel's partition table of a camera model, from harness/camera/models.json (the one
    place each model's table is written)."""
    if not model:
        return (), ""
    from harness.camera.models import MODELS_FILE
    from harness.camera.partitions import model_table

    table = model_table(model)
    if table is None:
        raise ValueError(f"partition_table {model!r} is not a model in {MODELS_FILE}")
    raw = json.loads(MODELS_FILE.read_text())
    device = raw["tables"][raw["models"][model]]["mtd_device"]
    return tuple(FlashPartition(p.name, p.offset, p.end) for p in table), device


def _sd(raw: Optional[dict[str, Any]]) -> Optional[SdSpec]:
    if raw is None:
        return None
    return SdSpec(
        device=raw["device"],
        b_max=int(raw["b_max"]),
        read_bytes_per_s=float(raw["read_bytes_per_s"]),
        write_bytes_per_s=float(raw["write_bytes_per_s"]),
        write_protect_detect=bool(raw["write_protect_detect"]),
        no_card=raw["no_card"],
        boot_checks=tuple(raw.get("boot_checks", ())),
        boot_check={str(k): str(v) for k, v in raw.get("boot_check", {}).items()},
    )


def parse_partition_spec(spec: str) -> tuple[FlashPartition, ...]:
    """``NAME=START-END,...`` (hex or decimal) into partitions; raises ValueError."""
    parts = []
    for item in spec.split(","):
        name, _, rng = item.strip().partition("=")
        start, _, end = rng.partition("-")
        if not name or not start or not end:
            raise ValueError(f"partition {item!r} is not NAME=START-END")
        p = FlashPartition(name, int(start, 0), int(end, 0))
        if p.end <= p.start:
            raise ValueError(f"partition {item!r} ends before it starts")
        parts.append(p)
    return tuple(parts)
