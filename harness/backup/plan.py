"""What a backup is asked to do, decided from the arguments alone before a port is opened:
the model, the output directory, the partitions (from the model's table or a boot log's),
the RAM window, the path (md, SD, or either)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from harness.camera.memory import MemoryMap, memory_map
from harness.camera.partitions import Partition, choose_table, select
from harness.read.reader import DEFAULT_CHUNK
from harness.sd.finder import RamWindows

DEFAULT_RAM = 0x21000000


@dataclass
class Plan:
    model: str
    out_dir: Path
    partitions: tuple[Partition, ...]
    all_: bool = False
    ram: int = DEFAULT_RAM
    chunk: int = DEFAULT_CHUNK
    partition_source: str = ""
    table: tuple[Partition, ...] = ()  # the whole table (the SD path copies all the flash)
    via: str = "auto"  # "sd", "md", or "auto": sd when the camera has mmc and a prepared card
    restart: bool = False  # read again what out_dir holds instead of resuming or skipping it

    @classmethod
    def make(
        cls,
        model: str,
        out_dir: Path,
        which: str = "ROOTFS,HOME",
        *,
        bootlog: Optional[tuple[str, str]] = None,
        table_from: Optional[str] = None,
        **options,
    ) -> Plan:
        """The plan for `--partitions which`: the table is the model's, or the boot log's
        (`bootlog`: its text and where it came from; `table_from` says which wins when
        they disagree)."""
        table, source = choose_table(model, bootlog, table_from)
        return cls(
            model,
            out_dir,
            select(table, which),
            all_=which == "all",
            partition_source=source,
            table=table,
            **options,
        )

    @property
    def md_window(self) -> tuple[int, int]:
        return self.ram, self.ram + max((p.size for p in self.partitions), default=0)

    @property
    def ram_window(self) -> tuple[int, int]:
        """Every RAM byte the backup may write: the md window, and the SD path's."""
        end = self.md_window[1]
        if self.via != "md":
            end = max(end, RamWindows.at(self.ram).end)
        return self.ram, end

    def check_memory(self, mm: Optional[MemoryMap] = None) -> None:
        """Every RAM range the backup will write (mw, sf read, mmc read) lies in the part of
        the camera's DRAM that U-Boot leaves free (harness/camera/models.json, or what the
        camera's bdinfo says); UsageError if not."""
        mm = mm or memory_map(self.model)
        mm.require_inside(
            *self.md_window, "the RAM window for sf read (--ram + the largest partition)"
        )
        if self.via != "md":
            mm.require_inside(
                *RamWindows.at(self.ram).window, "the SD path's RAM window (--ram + 44 MiB)"
            )
