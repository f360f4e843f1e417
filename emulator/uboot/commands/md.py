"""`md`: memory display (do_mem_md and print_buffer), and the emulator's own line renderer.

The renderer follows print_buffer(): `%08lx:`, ` %0*x` per object, short last lines padded
with spaces, the profile's gap (4 spaces up to 2021.07, 2 since), then the ASCII column in
memory order. It shares no code with the harness's parser: each is checked against real
output (the vendor build, QEMU's U-Boot, the captures).

The camera reads each object as it prints it: an object the CPU cannot read (outside the
memory map, or unaligned where the core traps it) aborts after the line's address and the
objects before it went out, as on the board.
"""

from __future__ import annotations

import struct
from typing import Iterator, Literal

from emulator.hw.memory import BusError
from emulator.uboot.commands import CMD_RET_SUCCESS, CMD_RET_USAGE, handles
from emulator.uboot.target import Target, data_size

LINE_BYTES = 16
BLOCK = 4096  # memory is read in blocks, lines are still printed (and ^C checked) one by one
ASCII = bytes(b if 0x20 <= b <= 0x7E else 0x2E for b in range(256))
_CODES = {1: "B", 2: "H", 4: "I", 8: "Q"}


def render_lines(
    addr: int, data: bytes, width: int, gap: int, digits: int = 8, endian: str = "little"
) -> Iterator[bytes]:
    """md lines (each ending in b"\\n") for `data` read at `addr` in objects of `width`."""
    per = LINE_BYTES // width
    order = "<" if endian == "little" else ">"
    head = b"%%0%dx:" % digits
    obj = b" %%0%dx" % (2 * width)
    full = head + obj * per + b" " * gap + b"%s\n"
    unpack = struct.Struct(order + _CODES[width] * per).unpack_from
    n_full = len(data) // LINE_BYTES
    for i in range(n_full):
        off = i * LINE_BYTES
        yield full % (
            addr + off,
            *unpack(data, off),
            data[off : off + LINE_BYTES].translate(ASCII),
        )
    rest = data[n_full * LINE_BYTES :]
    if rest:
        n = len(rest) // width
        vals = struct.unpack(order + _CODES[width] * n, rest[: n * width])
        line = head % (addr + n_full * LINE_BYTES)
        line += b"".join(obj % v for v in vals)
        line += b" " * ((per - n) * (2 * width + 1))
        yield line + b" " * gap + rest[: n * width].translate(ASCII) + b"\n"


def _partial_line(target: Target, addr: int, width: int, count: int) -> bytes:
    """What print_buffer gets out of a line before the object it cannot read."""
    p = target.profile
    out = b"%08x:" % (addr & target.mask)
    order: Literal["little", "big"] = "little" if p.endian == "little" else "big"
    for k in range(count):
        a = addr + k * width
        if (p.unaligned_abort and a % width) or target.memory.readable(a, width) < width:
            break
        out += b" %0*x" % (2 * width, int.from_bytes(target.memory.read(a, width), order))
    return out


@handles("md")
def do_md(target: Target, argv: list[str], repeat: bool) -> int:
    st = target.md
    p = target.profile
    if len(argv) < 2:
        return CMD_RET_USAGE
    addr, length, size = st.addr, st.length, st.size
    if not repeat:
        size = data_size(argv[0], 4, p)
        if size < 0:
            return 1
        addr = (target.hexarg(argv[1]) + target.base_address) & target.mask
        if len(argv) > 2:
            length = target.hexarg(argv[2])
    st.addr, st.length, st.size = (addr + size * length) & target.mask, length, size
    per = LINE_BYTES // size
    uart = target.uart
    remaining = length  # objects
    a = addr
    while remaining:
        want = min(BLOCK, remaining * size)
        got = 0 if (p.unaligned_abort and a % size) else target.memory.readable(a, want)
        got -= got % LINE_BYTES if got < want else 0
        if got:
            for line in render_lines(a, target.memory.read(a, got), size, p.md_gap, 8, p.endian):
                uart.puts(line)
                if target.ctrlc():
                    return CMD_RET_SUCCESS
            a += got
            remaining -= got // size
            continue
        uart.puts(_partial_line(target, a, size, min(per, remaining)))
        target.abort(BusError(a))
    return CMD_RET_SUCCESS
