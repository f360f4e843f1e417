"""`mw`, `cp`, `cmp` and `crc32`: memory commands that work on RAM (and read flash)."""

from __future__ import annotations

import zlib
from typing import Literal

from ..memory import BusError
from ..target import CMD_FAILURE, CMD_SUCCESS, CMD_USAGE, Target, data_size, hexarg
from . import Command

CRC_BYTES_PER_S = 50e6  # what the board's CPU computes, when the emulator is paced
TYPE_NAMES = {1: "byte", 2: "halfword", 4: "word", 8: "double word"}


def _size(t: Target, cmd: str) -> int:
    return data_size(cmd, 4, t.profile.md_widths)


def _order(t: Target) -> Literal["little", "big"]:
    return "little" if t.profile.endian == "little" else "big"


def do_mw(t: Target, argv: list[str], repeat: bool) -> int:
    if len(argv) < 3:
        return CMD_USAGE
    size = _size(t, argv[0])
    if size < 0:
        return CMD_FAILURE
    addr, value = hexarg(argv[1]), hexarg(argv[2])
    count = hexarg(argv[3]) if len(argv) > 3 else 1
    word = (value & ((1 << (8 * size)) - 1)).to_bytes(size, _order(t))
    try:
        t.memory.write(addr, word * count)
    except BusError as err:
        t.abort(err)
    return CMD_SUCCESS


def do_cp(t: Target, argv: list[str], repeat: bool) -> int:
    if len(argv) != 4:
        return CMD_USAGE
    size = _size(t, argv[0])
    if size < 0:
        return CMD_FAILURE
    src, dst, count = hexarg(argv[1]), hexarg(argv[2]), hexarg(argv[3])
    if count == 0:
        print_zero = "Zero length ???\n"
        t.out(print_zero)
        return CMD_FAILURE
    try:
        t.memory.write(dst, t.memory.read(src, count * size))
    except BusError as err:
        t.abort(err)
    return CMD_SUCCESS


def do_cmp(t: Target, argv: list[str], repeat: bool) -> int:
    if len(argv) != 4:
        return CMD_USAGE
    size = _size(t, argv[0])
    if size < 0:
        return CMD_FAILURE
    a1, a2, count = hexarg(argv[1]), hexarg(argv[2]), hexarg(argv[3])
    kind = TYPE_NAMES[size]
    ngood = 0
    rc = CMD_SUCCESS
    try:
        for i in range(count):
            w1 = int.from_bytes(t.memory.read(a1 + i * size, size), _order(t))
            w2 = int.from_bytes(t.memory.read(a2 + i * size, size), _order(t))
            if w1 != w2:
                t.out(
                    f"{kind} at 0x{a1 + i * size:08x} ({w1:#0{size * 2 + 2}x}) != "
                    f"{kind} at 0x{a2 + i * size:08x} ({w2:#0{size * 2 + 2}x})\n"
                )
                rc = CMD_FAILURE
                break
            ngood += 1
    except BusError as err:
        t.abort(err)
    t.out(f"Total of {ngood} {kind}(s) were the same\n")
    return rc


def do_crc32(t: Target, argv: list[str], repeat: bool) -> int:
    if len(argv) < 3:
        return CMD_USAGE
    addr, length = hexarg(argv[1]), hexarg(argv[2])
    try:
        data = t.memory.read(addr, length)
    except BusError as err:
        t.abort(err)
    t.busy(length / CRC_BYTES_PER_S)
    crc = zlib.crc32(data)
    end = (addr + length - 1) & 0xFFFFFFFF
    t.out(f"{t.profile.crc32_label} for {addr:08x} ... {end:08x} ==> {crc:08x}\n")
    if len(argv) > 3:
        try:
            t.memory.write(hexarg(argv[3]), crc.to_bytes(4, "big"))
        except BusError as err:
            t.abort(err)
    return CMD_SUCCESS


COMMANDS = [
    Command("mw", 4, True, "memory write (fill)", "[.b, .w, .l] address value [count]", do_mw),
    Command("cp", 4, True, "memory copy", "[.b, .w, .l] source target count", do_cp),
    Command("cmp", 4, True, "memory compare", "[.b, .w, .l] addr1 addr2 count", do_cmp),
    Command(
        "crc32",
        4,
        True,
        "checksum calculation",
        "address count [addr]\n    - compute CRC32 checksum [save at addr]",
        do_crc32,
    ),
]
