"""fatls, fatsize and fatload on the card, as the vendor's 2015.01 common/cmd_fat.c and fs/fat
print them with its SD host (checked against ../shared/oracles bin/u-boot-sd on the same card
image; what the camera's own SD-card update runs at boot). fatload's time is the model's
(the profile's card read rate), so its `in N ms (R)` is not the oracle's host time.
Modelled: `mmc` devices 0 and 0:1 (0:0 means the first partition too)."""

from __future__ import annotations

from typing import Optional

from emulator.hw.memory import BusError
from emulator.hw.sdcard import SdCard
from emulator.uboot.commands import CMD_RET_FAILURE, CMD_RET_SUCCESS, CMD_RET_USAGE, handles
from emulator.uboot.commands.mmc import _init, _usable, print_size
from emulator.uboot.target import Target


def _card(target: Target, iface: str, spec: str) -> Optional[SdCard]:
    """get_device_and_partition() for `mmc DEV[:PART]`: the card, or None after printing
    what the vendor's code prints."""
    dev_text, _, part_text = spec.partition(":")
    if iface != "mmc" or not dev_text.isdigit() or target.profile.sd is None:
        target.out(f"** Bad device {iface} {spec} **\n")
        return None
    dev = int(dev_text)
    if part_text not in ("", "0", "1"):
        target.out(f"part_num=5\n** Invalid partition {part_text} **\n")
        return None
    if dev != 0:
        target.out(f"MMC Device {dev} not found\n** Bad device mmc {dev} **\n")
        return None
    card = _usable(target, _init(target, 0, False))
    if card is None:
        target.out("** Bad device mmc 0 **\n")
    return card


def _volume(target: Target, argv: list[str]) -> Optional[SdCard]:
    """The card of `argv[1:3]` with a FAT file system, or None after printing why not."""
    card = _card(target, argv[1], argv[2])
    if card is not None and not card.has_fat():
        target.out("** Unrecognized filesystem type **\n")
        return None
    return card


@handles("fatls")
def do_fatls(target: Target, argv: list[str], repeat: bool) -> int:
    if len(argv) < 3:
        return CMD_RET_USAGE
    card = _volume(target, argv)
    if card is None:
        return CMD_RET_FAILURE
    entries = card.listing(argv[3] if len(argv) > 3 else "")
    if entries is None:
        return CMD_RET_FAILURE
    files = dirs = 0
    for name, e in entries:
        if e.attributes & 0x10:
            dirs += 1
            target.out(f"            {name}/\n")
        else:
            files += 1
            target.out(f"{e.size:9d}   {name} \n")
    target.out(f"\n{files} file(s), {dirs} dir(s)\n\n")
    return CMD_RET_SUCCESS


@handles("fatsize")
def do_fatsize(target: Target, argv: list[str], repeat: bool) -> int:
    if len(argv) < 4:
        return CMD_RET_USAGE
    card = _volume(target, argv)
    if card is None:
        return CMD_RET_FAILURE
    entry = card.find(argv[3])
    if entry is None:
        return CMD_RET_FAILURE
    target.env["filesize"] = f"{entry.size:x}"
    return CMD_RET_SUCCESS


@handles("fatload")
def do_fatload(target: Target, argv: list[str], repeat: bool) -> int:
    if len(argv) < 5:
        return CMD_RET_USAGE
    card = _volume(target, argv)
    if card is None:
        return CMD_RET_FAILURE
    addr = target.hexarg(argv[3])
    name = argv[4]
    want = target.hexarg(argv[5]) if len(argv) > 5 else 0
    pos = target.hexarg(argv[6]) if len(argv) > 6 else 0
    target.out(f"reading {name}\n")
    entry = card.find(name)
    if entry is None or pos > entry.size:
        target.out(f"** Unable to read file {name} **\n")
        return CMD_RET_FAILURE
    n = min(want or entry.size, entry.size - pos)
    if target.memory.writable(addr, n) < n:
        target.abort(BusError(addr + target.memory.writable(addr, n)))
    target.memory.write(addr, card.read_file(entry, pos, n))
    sd = target.profile.sd
    assert sd is not None
    target.busy(n / sd.read_bytes_per_s)
    if want and n != want:  # fs/fs.c fs_read(): a length given and not read whole fails
        target.out(f"** Unable to read file {name} **\n")  # (what was read stays in RAM)
        return CMD_RET_FAILURE
    ms = int(n * 1000 / sd.read_bytes_per_s)
    rate = f" ({print_size(n * 1000 // ms)}/s)" if ms else ""
    target.out(f"{n} bytes read in {ms} ms{rate}\n")
    target.env["filesize"] = f"{n:x}"
    return CMD_RET_SUCCESS
