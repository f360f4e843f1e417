"""`sf`: the SPI flash sub-system as common/cmd_sf.c of the vendor's 2015.01 drives it (probe,
read, write, erase, update; the last three change the image only when the emulator was
started writable). Numbers must parse completely (`10zz` is a usage error); `read` of zero
bytes fails in the MStar driver (mtd_isp.c: `if (!len) return -EINVAL`)."""

from __future__ import annotations

from emulator.hw.memory import BusError
from emulator.uboot.cnum import c_hash_x
from emulator.uboot.commands import CMD_RET_FAILURE, CMD_RET_SUCCESS, CMD_RET_USAGE, handles
from emulator.uboot.target import Target


def _strict(target: Target, text: str, base: int) -> int | None:
    value, rest = target.strtoul(text, base)
    return None if not text or rest else value


def _probe(target: Target, args: list[str]) -> int:
    bus, cs = 0, 0
    if len(args) >= 2:
        cs, rest = target.strtoul(args[1], 0)
        if not args[1] or (rest and rest[0] != ":"):
            return CMD_RET_USAGE
        if rest:
            if len(rest) == 1:
                return CMD_RET_USAGE
            bus = cs
            cs, rest = target.strtoul(rest[1:], 0)
            if rest:
                return CMD_RET_USAGE
    if len(args) >= 3 and _strict(target, args[2], 0) is None:
        return CMD_RET_USAGE
    if len(args) >= 4 and _strict(target, args[3], 16) is None:
        return CMD_RET_USAGE
    fl = target.flash
    if (bus, cs) != (0, 0):
        target.out(f"Failed to initialize SPI flash at {bus}:{cs}\n")
        return CMD_RET_FAILURE
    fl.probed = True
    for line in fl.spec.probe_lines:
        target.out(line + "\n")
    return CMD_RET_SUCCESS


def _read_write(target: Target, args: list[str]) -> int:
    if len(args) < 4:
        return CMD_RET_USAGE
    parsed = [_strict(target, a, 16) for a in args[1:4]]
    nums = [n for n in parsed if n is not None]
    if len(nums) != 3:
        return CMD_RET_USAGE
    addr, offset, length = nums
    fl = target.flash
    if ((offset + length) & target.mask) > fl.size:
        target.out(f"ERROR: attempting {args[0]} past flash size ({c_hash_x(fl.size)})\n")
        return CMD_RET_FAILURE
    if args[0] == "update":
        return _update(target, offset, _memory(target, addr, length))
    ok = length > 0
    if args[0] == "read":
        if ok:
            data = fl.read(offset, length)
            if target.memory.writable(addr, length) < length:
                target.abort(BusError(addr + target.memory.writable(addr, length)))
            target.memory.write(addr, data)
            if fl.spec.read_bytes_per_s:
                target.busy(length / fl.spec.read_bytes_per_s)
        word = "Read"
    else:
        if ok:
            fl.program(offset, _memory(target, addr, length), target.busy)
        word = "Written"
    reply = target.profile.sf_reply.format(
        length=length,
        offset=c_hash_x(offset),
        op=word,
        status="OK" if ok else "ERROR",
        cost=int(length / fl.spec.read_bytes_per_s * 1000) if fl.spec.read_bytes_per_s else 0,
    )
    target.out(reply + "\n")
    return CMD_RET_SUCCESS if ok else CMD_RET_FAILURE


def _update(target: Target, offset: int, data: bytes) -> int:
    """spi_flash_update() of cmd_sf.c: sector by sector, a sector already holding the data is
    skipped; any other is erased and written, the rest of a partial one written back from
    what it held. Its times are the chip's (none when unpaced), in its own odd format."""
    fl = target.flash
    sector = fl.spec.erase_size
    spent = 0.0  # ms, the time get_timer() would see
    last = 0.0
    skipped = 0
    scale = len(data) // 100 if len(data) >= 200 else 1
    failed = None
    for done in range(0, len(data), sector):
        todo = data[done : done + sector]
        if spent - last > 100:
            rate = _per_second(done, spent)
            target.out(f"   \rUpdating, {100 - (len(data) - done) // scale}% {rate} B/s")
            last = spent
        at = offset + done
        if at + sector > fl.size:
            failed = "read"  # it reads a whole sector to compare
            break
        old = fl.read(at, sector)
        if old[: len(todo)] == todo:
            skipped += len(todo)
            continue
        if at % sector:
            failed = "erase"  # spi_flash_cmd_erase_ops: offset not a multiple of the size
            break
        fl.erase(at, sector, target.busy)
        fl.program(at, todo, target.busy)
        if len(todo) < sector:
            fl.program(at + len(todo), old[len(todo) :], target.busy)
        if target.paced:
            spent += (fl.erase_seconds(sector) + fl.program_seconds(sector)) * 1000
    target.out("\r")
    if failed:
        target.out(f"SPI flash failed in {failed} step\n")
        return CMD_RET_FAILURE
    ms = int(spent)
    target.out(f"{len(data) - skipped} bytes written, {skipped} bytes skipped")
    target.out(f" in {ms // 1000}.{ms % 1000}s, speed {_per_second(len(data), spent)} B/s\n")
    return CMD_RET_SUCCESS


def _per_second(length: int, ms: float) -> int:
    """bytes_per_second() of cmd_sf.c (1024 * bytes / ms, the ms at least 1)."""
    ms_int = max(int(ms), 1)
    if length >= 0xFFFFFFFF // 1024:
        return length // max(int(ms) // 1024, 1)
    return 1024 * length // ms_int


def _memory(target: Target, addr: int, length: int) -> bytes:
    if target.memory.readable(addr, length) < length:
        target.abort(BusError(addr + target.memory.readable(addr, length)))
    return target.memory.read(addr, length)


def _erase(target: Target, args: list[str]) -> int:
    if len(args) < 3:
        return CMD_RET_USAGE
    offset = _strict(target, args[1], 16)
    if offset is None:
        return CMD_RET_USAGE
    fl = target.flash
    text = args[2]
    length = _strict(target, text.lstrip("+"), 16)
    if length is None:
        return CMD_RET_USAGE
    if text.startswith("+"):
        es = fl.spec.erase_size
        length = -(-length // es) * es
    if ((offset + length) & target.mask) > fl.size:
        target.out(f"ERROR: attempting {args[0]} past flash size ({c_hash_x(fl.size)})\n")
        return CMD_RET_FAILURE
    es = fl.spec.erase_size
    if offset % es or length % es:
        target.out(f"SF: {length} bytes @ {c_hash_x(offset)} Erased: ERROR\n")
        return CMD_RET_FAILURE
    fl.erase(offset, length, target.busy)
    target.out(f"SF: {length} bytes @ {c_hash_x(offset)} Erased: OK\n")
    return CMD_RET_SUCCESS


@handles("sf")
def do_sf(target: Target, argv: list[str], repeat: bool) -> int:
    if len(argv) < 2:
        return CMD_RET_USAGE
    args = argv[1:]
    if args[0] == "probe":
        return _probe(target, args)
    if not target.flash.probed:
        target.out("No SPI flash selected. Please run `sf probe'\n")
        return CMD_RET_FAILURE
    if args[0] in ("read", "write", "update"):
        return _read_write(target, args)
    if args[0] == "erase":
        return _erase(target, args)
    return CMD_RET_USAGE
