"""`md`: memory display, and the emulator's own renderer of its lines.

The renderer follows U-Boot's print_buffer(): `%08lx:`, ` %0*x` per object, short last lines
padded with spaces, the profile's gap, then the ASCII column in memory order. It shares no
code with the harness's parser, so each checks the other against the real captures.
"""

from __future__ import annotations

import struct
from typing import Iterator

from ..memory import BusError
from ..target import CMD_FAILURE, CMD_SUCCESS, CMD_USAGE, Target, data_size, hexarg
from . import Command

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
    mask = (1 << (4 * digits)) - 1
    n_full = len(data) // LINE_BYTES
    for i in range(n_full):
        off = i * LINE_BYTES
        yield full % (
            (addr + off) & mask,
            *unpack(data, off),
            data[off : off + LINE_BYTES].translate(ASCII),
        )
    rest = data[n_full * LINE_BYTES :]
    if rest:
        n = len(rest) // width
        vals = struct.unpack(order + _CODES[width] * n, rest[: n * width])
        line = head % ((addr + n_full * LINE_BYTES) & mask)
        line += b"".join(obj % v for v in vals)
        line += b" " * ((per - n) * (2 * width + 1))
        yield line + b" " * gap + rest[: n * width].translate(ASCII) + b"\n"


def do_md(t: Target, argv: list[str], repeat: bool) -> int:
    st = t.md
    if len(argv) < 2:
        return CMD_USAGE
    addr, length, size = st.addr, st.length, st.size
    if not repeat:
        size = data_size(argv[0], 4, t.profile.md_widths)
        if size < 0:
            return CMD_FAILURE
        addr = hexarg(argv[1])
        if len(argv) > 2:
            length = hexarg(argv[2])
    nbytes = length * size
    st.addr, st.length, st.size = addr + nbytes, length, size
    if t.profile.unaligned_abort and addr % size:
        t.abort(BusError(addr))
    p = t.profile
    uart = t.uart
    for block in range(addr, addr + nbytes, BLOCK):
        want = min(BLOCK, addr + nbytes - block)
        got = t.memory.readable(block, want)
        got -= got % LINE_BYTES if got < want else 0
        for line in render_lines(
            block, t.memory.read(block, got), size, p.md_gap, p.addr_digits, p.endian
        ):
            uart.puts(line)
            if uart.tstc() and uart.getc() == 0x03:  # U-Boot's ctrlc(): eats one byte
                return CMD_SUCCESS
        if got < want:
            t.abort(BusError(block + got))
    return CMD_SUCCESS


def md_help(profile) -> str:
    widths = ", ".join("." + w for w in profile.md_widths)
    return f"[{widths}] address [# of objects]"


COMMANDS = [Command("md", 3, True, "memory display", md_help, do_md)]
