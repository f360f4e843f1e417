"""`loady [addr]`: a file received over the line with YMODEM into RAM, as U-Boot 2023.01's
cmd/load.c do_load_serial_bin() with common/xyzModem.c receives it (checked against Debian's
build under QEMU: tests/test_ymodem.py). The receiver asks with 'C' once a second; a block
whose number, complement or CRC-16 is wrong gets NAK, a block seen before ACK again; block 0
gives the file's size, which cuts the padding of the last block; EOT, then an empty block 0
ends the batch."""

from __future__ import annotations

from binascii import crc_hqx

from emulator.hw.memory import BusError
from emulator.uboot.commands import CMD_RET_FAILURE, CMD_RET_SUCCESS, handles
from emulator.uboot.target import Target

SOH, STX, EOT, ACK, NAK, CAN, CRC_MODE = 0x01, 0x02, 0x04, 0x06, 0x15, 0x18, 0x43

ASK_EVERY_S = 1.0
ASKS = 60  # then it gives up, as xyzModem's retries do


def _block(target: Target, first: int) -> tuple[int, bytes] | None:
    """The rest of a block that began with SOH/STX: (number, payload), None if damaged."""
    size = 128 if first == SOH else 1024
    raw = bytearray()
    while len(raw) < size + 4:
        b = target.uart.getc(ASK_EVERY_S)
        if b is None:
            return None
        raw.append(b)
    number, check, payload = raw[0], raw[1], bytes(raw[2 : 2 + size])
    if number != 0xFF - check or int.from_bytes(raw[2 + size :], "big") != crc_hqx(payload, 0):
        return None
    return number, payload


@handles("loady")
def do_loady(target: Target, argv: list[str], repeat: bool) -> int:
    addr = (
        target.hexarg(argv[1]) if len(argv) > 1 else target.hexarg(target.env.get("loadaddr", "0"))
    )
    bps = target.env.get("baudrate", "115200")
    target.out(f"## Ready for binary (ymodem) download to 0x{addr:08X} at {bps} bps...\n")
    data = bytearray()
    size = None
    expect = 0  # the next block number (0: the header)
    ended = False
    for _ in range(ASKS):
        target.uart.puts(bytes((CRC_MODE,)))
        b = target.uart.getc(ASK_EVERY_S)
        while b is not None:
            if b == CAN:
                target.out("\n## Binary (ymodem) download aborted\n")
                return CMD_RET_FAILURE
            if b == EOT:
                target.uart.puts(bytes((ACK,)))
                expect = 0
                ended = True
                break
            if b not in (SOH, STX):
                b = target.uart.getc(ASK_EVERY_S)
                continue
            got = _block(target, b)
            if got is None:
                target.uart.puts(bytes((NAK,)))
            elif got[0] == (expect - 1) & 0xFF and expect:
                target.uart.puts(bytes((ACK,)))  # seen before: its ACK was lost
            elif got[0] == expect & 0xFF:
                number, payload = got
                target.uart.puts(bytes((ACK,)))
                if expect == 0:
                    name, _, rest = payload.partition(b"\0")
                    if not name:  # the empty block 0: no more files
                        return _done(target, addr, data)
                    size = int(rest.split(b"\0", 1)[0].split(b" ", 1)[0] or b"0")
                    expect = 1
                    if ended:
                        return _done(target, addr, data)
                    break  # 'C' again for the data
                data += payload
                expect += 1
            else:
                target.uart.puts(bytes((NAK,)))
            if size is not None and len(data) > size:
                del data[size:]
            b = target.uart.getc(ASK_EVERY_S)
    target.out("\n## Binary (ymodem) download aborted\n")
    return CMD_RET_FAILURE


def _done(target: Target, addr: int, data: bytearray) -> int:
    n = len(data)
    if target.memory.writable(addr, n) < n:
        target.abort(BusError(addr + target.memory.writable(addr, n)))
    target.memory.write(addr, bytes(data))
    target.out(f"## Total Size      = 0x{n:08x} = {n} Bytes\n## Start Addr      = 0x{addr:08X}\n")
    target.env["filesize"] = f"{n:x}"
    return CMD_RET_SUCCESS
