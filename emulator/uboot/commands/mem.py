"""`mw`, `cp`, `cmp`, `crc32` and `base` (common/cmd_mem.c, common/hash.c)."""

from __future__ import annotations

import zlib

from emulator.hw.memory import BusError
from emulator.uboot.cnum import c_hash_x
from emulator.uboot.commands import CMD_RET_FAILURE, CMD_RET_SUCCESS, CMD_RET_USAGE, handles
from emulator.uboot.target import Target, data_size

CRC_BYTES_PER_S = 50e6  # what the board's CPU computes, when the emulator is paced
TYPE_NAMES = {1: "byte", 2: "halfword", 4: "word", 8: "double word"}


def _order(t: Target) -> str:
    return "little" if t.profile.endian == "little" else "big"


def _trap(t: Target, addr: int, size: int) -> None:
    """A word access at an unaligned address aborts on cores that trap it."""
    if t.profile.unaligned_abort and addr % size:
        t.abort(BusError(addr))


def _write(t: Target, addr: int, data: bytes) -> None:
    """Store as the CPU does: what fits in the mapped memory, then the abort."""
    room = t.memory.writable(addr, len(data))
    if room:
        t.memory.write(addr, data[:room])
    if room < len(data):
        t.abort(BusError(addr + room))


def _read(t: Target, addr: int, length: int) -> bytes:
    if t.memory.readable(addr, length) < length:
        t.abort(BusError(addr + t.memory.readable(addr, length)))
    return t.memory.read(addr, length)


@handles("mw")
def do_mw(t: Target, argv: list[str], repeat: bool) -> int:
    if len(argv) < 3 or len(argv) > 4:
        return CMD_RET_USAGE
    size = data_size(argv[0], 4, t.profile)
    if size < 1:
        return CMD_RET_FAILURE
    addr = (t.hexarg(argv[1]) + t.base_address) & t.mask
    value = t.hexarg(argv[2])
    count = t.hexarg(argv[3]) if len(argv) == 4 else 1
    if count:
        _trap(t, addr, size)
    word = (value & ((1 << (8 * size)) - 1)).to_bytes(size, _order(t))  # type: ignore[arg-type]
    room = t.memory.writable(addr, size * count)
    _write(t, addr, word * (min(count, room // size + 1)))
    return CMD_RET_SUCCESS


def _copy(t: Target, src: int, dst: int, size: int, count: int) -> None:
    """The C loop: element by element, forward (an overlapping copy repeats a pattern)."""
    n = size * count
    if dst <= src or dst >= src + n:
        _write(t, dst, _read(t, src, n))
        return
    for i in range(count):
        _write(t, dst + i * size, _read(t, src + i * size, size))


@handles("cp")
def do_cp(t: Target, argv: list[str], repeat: bool) -> int:
    if len(argv) != 4:
        return CMD_RET_USAGE
    size = data_size(argv[0], 4, t.profile)
    if size < 0:
        return CMD_RET_FAILURE
    src = (t.hexarg(argv[1]) + t.base_address) & t.mask
    dst = (t.hexarg(argv[2]) + t.base_address) & t.mask
    count = t.hexarg(argv[3])
    if count == 0:
        t.out("Zero length ???\n")
        return CMD_RET_FAILURE
    _trap(t, src, size)
    _trap(t, dst, size)
    _copy(t, src, dst, size, count)
    return CMD_RET_SUCCESS


@handles("cmp")
def do_cmp(t: Target, argv: list[str], repeat: bool) -> int:
    if len(argv) != 4:
        return CMD_RET_USAGE
    size = data_size(argv[0], 4, t.profile)
    if size < 0:
        return CMD_RET_FAILURE
    kind = TYPE_NAMES[size]
    a1 = (t.hexarg(argv[1]) + t.base_address) & t.mask
    a2 = (t.hexarg(argv[2]) + t.base_address) & t.mask
    count = t.hexarg(argv[3])
    if count:
        _trap(t, a1, size)
        _trap(t, a2, size)
    ngood = 0
    rc = CMD_RET_SUCCESS
    order = _order(t)
    while ngood < count:
        off = ngood * size
        n = min(0x1000, count - ngood) * size
        n = min(t.memory.readable(a1 + off, n), t.memory.readable(a2 + off, n))
        n -= n % size
        if not n:  # the CPU faults on the first object it cannot read
            _read(t, a1 + off, size)
            _read(t, a2 + off, size)
        b1, b2 = t.memory.read(a1 + off, n), t.memory.read(a2 + off, n)
        if b1 == b2:
            ngood += n // size
            continue
        i = next(k for k in range(0, n, size) if b1[k : k + size] != b2[k : k + size])
        ngood += i // size
        w1 = int.from_bytes(b1[i : i + size], order)  # type: ignore[arg-type]
        w2 = int.from_bytes(b2[i : i + size], order)  # type: ignore[arg-type]
        at = ngood * size
        t.out(
            f"{kind} at 0x{(a1 + at) & t.mask:08x} ({c_hash_x(w1, size)}) != "
            f"{kind} at 0x{(a2 + at) & t.mask:08x} ({c_hash_x(w2, size)})\n"
        )
        rc = CMD_RET_FAILURE
        break
    t.out(f"Total of {ngood} {kind}(s) were the same\n")
    return rc


@handles("crc32")
def do_crc32(t: Target, argv: list[str], repeat: bool) -> int:
    if len(argv) < 3:
        return CMD_RET_USAGE
    addr, length = t.hexarg(argv[1]), t.hexarg(argv[2])
    data = _read(t, addr, length)
    t.busy(length / CRC_BYTES_PER_S)
    crc = zlib.crc32(data)
    end = (addr + length - 1) & t.mask
    t.out(f"{t.profile.crc32_label} for {addr:08x} ... {end:08x} ==> {crc:08x}\n")
    if len(argv) > 3:
        dst = t.hexarg(argv[3])
        if t.profile.crc32_store == "native":  # `*(ulong *)dst = crc` (vendor 2015.01)
            word = crc.to_bytes(t.profile.word_bits // 8, _order(t))  # type: ignore[arg-type]
            _trap(t, dst, len(word))
        else:  # the hash framework copies the digest, most significant byte first
            word = crc.to_bytes(4, "big")
        _write(t, dst, word)
    return CMD_RET_SUCCESS


@handles("base")
def do_base(t: Target, argv: list[str], repeat: bool) -> int:
    if len(argv) > 1:
        t.base_address = t.hexarg(argv[1])
    t.out(f"Base Address: 0x{t.base_address:08x}\n")
    return CMD_RET_SUCCESS
