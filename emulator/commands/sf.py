"""`sf`: the SPI flash sub-system (probe, read; erase/write/update change the image only when
the emulator was started writable)."""

from __future__ import annotations

from ..memory import BusError
from ..target import CMD_FAILURE, CMD_SUCCESS, CMD_USAGE, Target, c_hash_x, strtoul
from . import Command

SF_HELP = (
    "probe [[bus:]cs] [hz] [mode]\t- init flash device on given SPI bus\n"
    "\t\t\t\t  and chip select\n"
    "sf read addr offset|partition len\t- read `len' bytes starting at\n"
    "\t\t\t\t          `offset' or from start of mtd\n"
    "\t\t\t\t\t  `partition'to memory at `addr'\n"
    "sf write addr offset|partition len\t- write `len' bytes from memory\n"
    "\t\t\t\t          at `addr' to flash at `offset'\n"
    "\t\t\t\t\t  or to start of mtd `partition'\n"
    "sf erase offset|partition [+]len\t- erase `len' bytes from `offset'\n"
    "\t\t\t\t\t  or from start of mtd `partition'\n"
    "\t\t\t\t\t `+len' round up `len' to block size\n"
    "sf update addr offset|partition len\t- erase and write `len' bytes from memory\n"
    "\t\t\t\t          at `addr' to flash at `offset'\n"
    "\t\t\t\t\t  or to start of mtd `partition'"
)


def _args(argv: list[str]) -> list[int] | None:
    out = []
    for a in argv:
        n, rest = strtoul(a, 16)
        if rest or not a:
            return None
        out.append(n)
    return out


def do_sf(t: Target, argv: list[str], repeat: bool) -> int:
    if len(argv) < 2:
        return CMD_USAGE
    sub = argv[1]
    fl = t.flash
    if sub == "probe":
        fl.probed = True
        for line in fl.spec.probe_lines:
            t.out(line + "\n")
        return CMD_SUCCESS
    if not fl.probed:
        t.out("No SPI flash selected. Please run `sf probe'\n")
        return CMD_FAILURE
    if sub in ("read", "write", "update"):
        if len(argv) < 5:
            return CMD_USAGE
        nums = _args(argv[2:5])
        if nums is None:
            return CMD_USAGE
        addr, offset, length = nums
        if offset + length > fl.size:
            t.out(f"ERROR: attempting {sub} past flash size ({fl.size:#x})\n")
            return CMD_FAILURE
        try:
            if sub == "read":
                t.memory.write(addr, fl.read(offset, length))
                if fl.spec.read_bytes_per_s:
                    t.busy(length / fl.spec.read_bytes_per_s)
                t.out(f"SF: {length} bytes @ {c_hash_x(offset)} Read: OK\n")
            else:
                data = t.memory.read(addr, length)
                if sub == "update":
                    fl.erase(offset, length)
                fl.program(offset, data)
                if sub == "write":
                    t.out(f"SF: {length} bytes @ {c_hash_x(offset)} Written: OK\n")
                else:
                    t.out(f"{length} bytes written, 0 bytes skipped in 0.0s, speed 0 B/s\n")
        except BusError as err:
            t.abort(err)
        return CMD_SUCCESS
    if sub == "erase":
        if len(argv) < 4:
            return CMD_USAGE
        nums = _args(argv[2:4])
        if nums is None:
            return CMD_USAGE
        offset, length = nums
        es = fl.spec.erase_size
        if offset % es or length % es:
            t.out("SF: Erase offset/length not multiple of erase size\n")
            return CMD_FAILURE
        if offset + length > fl.size:
            t.out(f"ERROR: attempting erase past flash size ({fl.size:#x})\n")
            return CMD_FAILURE
        fl.erase(offset, length)
        t.out(f"SF: {length} bytes @ {c_hash_x(offset)} Erased: OK\n")
        return CMD_SUCCESS
    return CMD_USAGE


COMMANDS = [Command("sf", 5, True, "SPI flash sub-system", SF_HELP, do_sf)]
