"""`mmc`: the SD card, as common/cmd_mmc.c, drivers/mmc/mmc.c and mmc_write.c of the vendor's
2015.01 tree (linux-chenxing/uboot_msc313e@e98ba4e) drive the MStar host
(drivers/mstar/sdmmc/ms_sdmmc_ub.c).

- The host registers its device whether or not a card is in the slot, so `mmc` never says
  `No MMC device available` on a camera (a profile without an SD host does); an empty slot
  fails at initialisation with the driver's `Card Detect Fail!` line.
- Initialisation is cached (has_init): a card pulled out after it fails its next transfer
  silently (`0 blocks read: ERROR`) until `mmc rescan` or `mmc dev`.
- read/write/erase take hex numbers, parsed as simple_strtoul does (no check for junk);
  transfers are split into b_max blocks; the range check of a read covers the whole
  transfer, that of a write each piece (mmc_write_blocks), so a write running off the card
  writes the pieces before the end.
- The MStar host has no getwp: a write-protected card is written anyway. Profiles whose host
  reads the switch answer `Error: card is write protected!`.
"""

from __future__ import annotations

import struct
from typing import Optional

from emulator.hw.memory import BusError
from emulator.hw.sdcard import SECTOR, SdCard
from emulator.profile import SdSpec
from emulator.uboot.commands import CMD_RET_FAILURE, CMD_RET_SUCCESS, CMD_RET_USAGE, handles
from emulator.uboot.target import Target

# name, maxargs, repeatable (cmd_mmc[] of cmd_mmc.c)
SUBCOMMANDS = (
    ("info", 1, False),
    ("read", 4, True),
    ("write", 4, False),
    ("erase", 3, False),
    ("rescan", 2, True),
    ("part", 1, True),
    ("dev", 3, False),
    ("list", 1, True),
    ("setdsr", 2, False),
)
WRITE_PIECE = 64  # sectors written at a time (a power loss keeps what was written)


def _find(word: str) -> Optional[tuple[str, int, bool]]:
    """find_cmd_tbl(): a full name, or the only entry the abbreviation fits."""
    name = word.split(".", 1)[0]
    hits = [row for row in SUBCOMMANDS if row[0].startswith(name)]
    for row in hits:
        if row[0] == name:
            return row
    return hits[0] if len(hits) == 1 else None


def _init(target: Target, dev: int, force: bool) -> Optional[SdCard]:
    """init_mmc_device(): the card, initialised, or None after printing why not."""
    if dev != 0:
        target.out(f"MMC Device {dev} not found\n")
        target.out(f"no mmc device at slot {dev:x}\n")
        return None
    slot = target.slot
    if force:
        target.mmc.init_at = None
    if target.mmc.init_at is not None:  # has_init: whatever is in the slot now
        return slot.card if slot is not None else None
    card = slot.card if slot is not None else None
    if card is None:
        assert target.profile.sd is not None
        target.out(target.profile.sd.no_card)
        return None
    assert slot is not None
    target.mmc.init_at = slot.insertions
    return card


def _usable(target: Target, card: Optional[SdCard]) -> Optional[SdCard]:
    slot = target.slot
    if card is None or slot is None or slot.card is not card:
        return None
    return card if target.mmc.init_at == slot.insertions else None


def _rw(target: Target, args: list[str]) -> int:
    if len(args) != 4:
        return CMD_RET_USAGE
    write = args[0] == "write"
    addr, blk, cnt = (target.hexarg(a) for a in args[1:4])
    blk &= 0xFFFFFFFF
    cnt &= 0xFFFFFFFF
    card = _init(target, target.mmc.current, False)
    if card is None and target.mmc.init_at is None:
        return CMD_RET_FAILURE
    op = "write" if write else "read"
    target.out(f"\nMMC {op}: dev # {target.mmc.current}, block # {blk}, count {cnt} ... ")
    sd = target.profile.sd
    assert sd is not None
    if write and sd.write_protect_detect and card is not None and card.write_protected:
        target.out("Error: card is write protected!\n")
        return CMD_RET_FAILURE
    n = _write(target, card, addr, blk, cnt) if write else _read(target, card, addr, blk, cnt)
    target.out(f"{n} blocks {'written' if write else 'read'}: {'OK' if n == cnt else 'ERROR'}\n")
    return CMD_RET_SUCCESS if n == cnt else CMD_RET_FAILURE


def _spec(target: Target) -> SdSpec:
    assert target.profile.sd is not None  # `mmc` reaches the transfers only with an SD host
    return target.profile.sd


def _exceeds(target: Target, card: SdCard, end: int) -> bool:
    if end > card.blocks:
        target.out(f"MMC: block number 0x{end:x} exceeds max(0x{card.blocks:x})\n")
        return True
    return False


def _read(target: Target, card: Optional[SdCard], addr: int, blk: int, cnt: int) -> int:
    card = _usable(target, card)
    if cnt == 0 or card is None or _exceeds(target, card, blk + cnt):
        return 0
    sd = _spec(target)
    done = 0
    while done < cnt:
        cur = min(sd.b_max, cnt - done)
        data = card.read(blk + done, cur)
        if target.memory.writable(addr, len(data)) < len(data):
            target.abort(BusError(addr + target.memory.writable(addr, len(data))))
        target.busy(len(data) / sd.read_bytes_per_s)
        if _usable(target, card) is None:
            return 0
        target.memory.write(addr, data)
        addr += len(data)
        done += cur
    return cnt


def _write(target: Target, card: Optional[SdCard], addr: int, blk: int, cnt: int) -> int:
    card = _usable(target, card)
    if card is None:
        return 0
    sd = _spec(target)
    done = 0
    while done < cnt:
        cur = min(sd.b_max, cnt - done)
        if _exceeds(target, card, blk + done + cur):
            return 0
        for off in range(0, cur, WRITE_PIECE):
            n = min(WRITE_PIECE, cur - off)
            src = addr + (done + off) * SECTOR
            if target.memory.readable(src, n * SECTOR) < n * SECTOR:
                target.abort(BusError(src + target.memory.readable(src, n * SECTOR)))
            if _usable(target, card) is None:
                target.out("mmc write failed\n")
                return 0
            card.write(blk + done + off, target.memory.read(src, n * SECTOR))
            target.uart.check_power()  # no power, no more sectors
            target.busy(n * SECTOR / sd.write_bytes_per_s)
        done += cur
    return cnt


def _dev(target: Target, args: list[str]) -> int:
    if len(args) == 1:
        dev = target.mmc.current
    elif len(args) in (2, 3):
        dev = target.strtoul(args[1], 10)[0]
        part = target.strtoul(args[2], 10)[0] if len(args) == 3 else 0
        if part > 7:  # PART_ACCESS_MASK
            target.out("#part_num shouldn't be larger than 7\n")
            return CMD_RET_FAILURE
    else:
        return CMD_RET_USAGE
    if _init(target, dev, True) is None:
        return CMD_RET_FAILURE
    target.out("switch to partitions #0, OK\n")
    target.mmc.current = dev
    target.out(f"mmc{dev} is current device\n")
    return CMD_RET_SUCCESS


def print_size(size: int) -> str:
    """U-Boot's print_size(size, ""): the largest binary unit, one decimal when there is a
    remainder (lib/display_options.c)."""
    names = "EPTGMK"
    for i, c in enumerate(names):
        d = 1 << (10 * (len(names) - i))
        if size >= d:
            n, m = size // d, (10 * (size % d) + d // 2) // d
            if m >= 10:
                m, n = m - 10, n + 1
            return f"{n}" + (f".{m}" if m else "") + f" {c}iB"
    return f"{size} Bytes"


def _info(target: Target) -> int:
    """The vendor's mmc info for its SD host's card model (bin/u-boot-sd, sd-transcript.txt:
    an SDHC card, CID as QEMU's SD model: MID 0xaa, OID "XY", PNM "QEMU!")."""
    card = _usable(target, _init(target, target.mmc.current, False))
    if card is None:
        return CMD_RET_FAILURE
    sd = target.profile.sd
    assert sd is not None
    target.out(
        f"Device: {sd.device}\nManufacturer ID: aa\nOEM: 5859\nName: QEMU! \n"
        "Tran Speed: 50000000\nRd Block Len: 512\nSD version 3.0\n"
        f"High Capacity: Yes\nCapacity: {print_size(card.blocks * SECTOR)}\n"
        "Bus Width: 4-bit\n"
    )
    return CMD_RET_SUCCESS


def _part(target: Target) -> int:
    """disk/part_dos.c's print_part_dos for the card's MBR (no extended partitions)."""
    card = _usable(target, _init(target, target.mmc.current, False))
    if card is None:
        return CMD_RET_FAILURE
    mbr = card.read(0, 1)
    if mbr[510:512] != b"\x55\xaa":
        return CMD_RET_SUCCESS  # no DOS table: U-Boot prints nothing for an unknown type
    (sig,) = struct.unpack_from("<I", mbr, 440)
    target.out(
        f"\nPartition Map for MMC device {target.mmc.current}  --   Partition Type: DOS\n\n"
        "Part\tStart Sector\tNum Sectors\tUUID\t\tType\n"
    )
    for i in range(4):
        boot, kind, start, count = struct.unpack_from("<B3xB3xII", mbr, 446 + 16 * i)
        if kind == 0:
            continue
        flag = " Boot" if boot == 0x80 else ""
        target.out(
            f"{i + 1:3d}\t{start:<10d}\t{count:<10d}\t{sig:08x}-{i + 1:02x}\t{kind:02x}{flag}\n"
        )
    return CMD_RET_SUCCESS


@handles("mmc")
def do_mmc(target: Target, argv: list[str], repeat: bool) -> int:
    if len(argv) < 2:
        return CMD_RET_USAGE
    row = _find(argv[1])
    args = argv[1:]
    if row is None or len(args) > row[1]:
        return CMD_RET_USAGE
    name, _, repeatable = row
    if repeat and not repeatable:
        return CMD_RET_SUCCESS
    sd = target.profile.sd
    if target.mmc.current < 0:
        if sd is None:
            target.out("No MMC device available\n")
            return CMD_RET_FAILURE
        target.mmc.current = 0
    args[0] = name
    if name in ("read", "write"):
        return _rw(target, args)
    if name == "dev":
        return _dev(target, args)
    if name == "rescan":
        return CMD_RET_SUCCESS if _init(target, target.mmc.current, True) else CMD_RET_FAILURE
    if name == "list":
        assert sd is not None
        target.out(f"{sd.device}: 0\n")
        return CMD_RET_SUCCESS
    if name == "info":
        return _info(target)
    if name == "part":
        return _part(target)
    return CMD_RET_USAGE  # erase, setdsr: not emulated (the tool never sends them)
