"""`mw`, `cp`, `cmp`, `crc32` and `base` (common/cmd_mem.c, common/hash.c)."""

from __future__ import annotations

import zlib

from emulator.hw.memory import BusError
from emulator.uboot.cnum import c_hash_x
from emulator.uboot.commands import CMD_RET_FAILURE, CMD_RET_SUCCESS, CMD_RET_USAGE, handles
from emulator.uboot.target import Target, data_size

CRC_BYTES_PER_S = 50e6  # what the board's CPU computes, when the emulator is paced
TYPE_NAMES = {1: "byte", 2: "halfword", 4: "word", 8: "double word"}


def _order(target: Target) -> str:
    return "little" if target.profile.endian == "little" else "big"


def _trap(target: Target, addr: int, size: int) -> None:
    """A word access at an unaligned address aborts on cores that trap it."""
    if target.profile.unaligned_abort and addr % size:
        target.abort(BusError(addr))


def _write(target: Target, addr: int, data: bytes) -> None:
    """Store as the CPU does: what fits in the mapped memory, then the abort."""
    room = target.memory.writable(addr, len(data))
    if room:
        target.memory.write(addr, data[:room])
    if room < len(data):
        target.abort(BusError(addr + room))


def _read(target: Target, addr: int, length: int) -> bytes:
    if target.memory.readable(addr, length) < length:
        target.abort(BusError(addr + target.memory.readable(addr, length)))
    return target.memory.read(addr, length)


@handles("mw")
def do_mw(target: Target, argv: list[str], repeat: bool) -> int:
    if len(argv) < 3 or len(argv) > 4:
        return CMD_RET_USAGE
    size = data_size(argv[0], 4, target.profile)
    if size < 1:
        return CMD_RET_FAILURE
    addr = (target.hexarg(argv[1]) + target.base_address) & target.mask
    value = target.hexarg(argv[2])
    count = target.hexarg(argv[3]) if len(argv) == 4 else 1
    if count:
        _trap(target, addr, size)
    word = (value & ((1 << (8 * size)) - 1)).to_bytes(size, _order(target))  # type: ignore[arg-type]
    room = target.memory.writable(addr, size * count)
    _write(target, addr, word * (min(count, room // size + 1)))
    return CMD_RET_SUCCESS


def _copy(target: Target, src: int, dst: int, size: int, count: int) -> None:
    """The C loop: element by element, forward (an overlapping copy repeats a pattern)."""
    n = size * count
    if dst <= src or dst >= src + n:
        _write(target, dst, _read(target, src, n))
        return
    for i in range(count):
        _write(target, dst + i * size, _read(target, src + i * size, size))


@handles("cp")
def do_cp(target: Target, argv: list[str], repeat: bool) -> int:
    if len(argv) != 4:
        return CMD_RET_USAGE
    size = data_size(argv[0], 4, target.profile)
    if size < 0:
        return CMD_RET_FAILURE
    src = (target.hexarg(argv[1]) + target.base_address) & target.mask
    dst = (target.hexarg(argv[2]) + target.base_address) & target.mask
    count = target.hexarg(argv[3])
    if count == 0:
        target.out("Zero length ???\n")
        return CMD_RET_FAILURE
    _trap(target, src, size)
    _trap(target, dst, size)
    _copy(target, src, dst, size, count)
    return CMD_RET_SUCCESS


@handles("cmp")
def do_cmp(target: Target, argv: list[str], repeat: bool) -> int:
    if len(argv) != 4:
        return CMD_RET_USAGE
    size = data_size(argv[0], 4, target.profile)
    if size < 0:
        return CMD_RET_FAILURE
    kind = TYPE_NAMES[size]
    a1 = (target.hexarg(argv[1]) + target.base_address) & target.mask
    a2 = (target.hexarg(argv[2]) + target.base_address) & target.mask
    count = target.hexarg(argv[3])
    if count:
        _trap(target, a1, size)
        _trap(target, a2, size)
    ngood = 0
    rc = CMD_RET_SUCCESS
    order = _order(target)
    while ngood < count:
        off = ngood * size
        n = min(0x1000, count - ngood) * size
        n = min(target.memory.readable(a1 + off, n), target.memory.readable(a2 + off, n))
        n -= n % size
        if not n:  # the CPU faults on the first object it cannot read
            _read(target, a1 + off, size)
            _read(target, a2 + off, size)
        b1, b2 = target.memory.read(a1 + off, n), target.memory.read(a2 + off, n)
        if b1 == b2:
            ngood += n // size
            continue
        i = next(k for k in range(0, n, size) if b1[k : k + size] != b2[k : k + size])
        ngood += i // size
        w1 = int.from_bytes(b1[i : i + size], order)  # type: ignore[arg-type]
        w2 = int.from_bytes(b2[i : i + size], order)  # type: ignore[arg-type]
        at = ngood * size
        target.out(
            f"{kind} at 0x{(a1 + at) & target.mask:08x} ({c_hash_x(w1, size)}) != "
            f"{kind} at 0x{(a2 + at) & target.mask:08x} ({c_hash_x(w2, size)})\n"
        )
        rc = CMD_RET_FAILURE
        break
    target.out(f"Total of {ngood} {kind}(s) were the same\n")
    return rc


@handles("crc32")
def do_crc32(target: Target, argv: list[str], repeat: bool) -> int:
    if len(argv) < 3:
        return CMD_RET_USAGE
    addr, length = target.hexarg(argv[1]), target.hexarg(argv[2])
    data = _read(target, addr, length)
    target.busy(length / CRC_BYTES_PER_S)
    crc = zlib.crc32(data)
    end = (addr + length - 1) & target.mask
    target.out(f"{target.profile.crc32_label} for {addr:08x} ... {end:08x} ==> {crc:08x}\n")
    if len(argv) > 3:
        dst = target.hexarg(argv[3])
        if target.profile.crc32_store == "native":  # `*(ulong *)dst = crc` (vendor 2015.01)
            word = crc.to_bytes(target.profile.word_bits // 8, _order(target))  # type: ignore[arg-type]
            _trap(target, dst, len(word))
        else:  # the hash framework copies the digest, most significant byte first
            word = crc.to_bytes(4, "big")
        _write(target, dst, word)
    return CMD_RET_SUCCESS


@handles("base")
def do_base(target: Target, argv: list[str], repeat: bool) -> int:
    if len(argv) > 1:
        target.base_address = target.hexarg(argv[1])
    target.out(f"Base Address: 0x{target.base_address:08x}\n")
    return CMD_RET_SUCCESS
