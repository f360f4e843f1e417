"""YMODEM, the sender's side, as U-Boot's `loady` (common/xyzModem.c) receives it: the
receiver asks with 'C' (CRC-16 mode); block 0 names the file and its size; 1 KiB blocks
(STX, number, its complement, data, CRC-16 big-endian), the last padded with 0x1A (the size
in block 0 tells the receiver where the data ends); EOT until acknowledged; an empty
block 0 ends the batch. A block the receiver refuses (NAK) or does not answer is sent again.

`frames()` is pure; `send()` runs the exchange over anything with `read(timeout) -> bytes`
and `write(bytes)`, and gives back what the receiver printed after it (U-Boot's summary)."""

from __future__ import annotations

import binascii
import time
from dataclasses import dataclass
from typing import Callable, Protocol

SOH, STX, EOT, ACK, NAK, CAN = 0x01, 0x02, 0x04, 0x06, 0x15, 0x18
CRC_MODE = 0x43  # 'C'
BLOCK = 1024
TRIES = 10


class YmodemError(Exception):
    """The receiver cancelled or stopped answering."""


class Port(Protocol):
    def read(self, timeout: float) -> bytes: ...
    def write(self, data: bytes) -> None: ...


def crc16(data: bytes) -> int:
    """CRC-16/XMODEM (polynomial 0x1021, initial 0): binascii's CRC-CCITT from 0."""
    return binascii.crc_hqx(data, 0)


def frame(number: int, payload: bytes) -> bytes:
    start = SOH if len(payload) == 128 else STX
    n = number & 0xFF
    return bytes((start, n, 0xFF - n)) + payload + crc16(payload).to_bytes(2, "big")


def header(name: str, size: int) -> bytes:
    """Block 0: the file's name and size (decimal), NUL-terminated, in 128 bytes."""
    info = name.encode("ascii") + b"\0" + str(size).encode("ascii") + b"\0"
    return frame(0, info.ljust(128, b"\0"))


def wire_bytes(size: int) -> int:
    """What block 0 and the data blocks of a `size`-byte file put on the line."""
    return 3 + 128 + 2 + -(-size // BLOCK) * (3 + BLOCK + 2)


def frames(data: bytes) -> list[bytes]:
    """The data blocks, numbered from 1."""
    out = []
    for k, i in enumerate(range(0, len(data), BLOCK)):
        out.append(frame(k + 1, data[i : i + BLOCK].ljust(BLOCK, b"\x1a")))
    return out


@dataclass(frozen=True)
class Sent:
    again: int  # blocks sent again
    rest: bytes  # what the receiver sent after the last acknowledgement


def send(port: Port, name: str, data: bytes, timeout: float = 10.0, already: bytes = b"") -> Sent:
    """Send `data` as file `name` to a receiver that is waiting (it sends 'C'; `already`:
    what it sent before this was called)."""
    waiting = _Waiter(port, timeout)
    waiting.pending += already
    waiting.until({CRC_MODE})
    again = _deliver(port, waiting, header(name, len(data)))
    waiting.until({CRC_MODE})  # after block 0's ACK, 'C' again for the data
    for block in frames(data):
        again += _deliver(port, waiting, block)
    for _ in range(TRIES):
        port.write(bytes((EOT,)))
        if waiting.until({ACK, NAK}, quiet_ok=True) == ACK:
            break
    else:
        raise YmodemError("the receiver did not acknowledge the end of the file")
    waiting.until({CRC_MODE}, quiet_ok=True)
    port.write(frame(0, bytes(128)))  # no more files
    waiting.until({ACK}, quiet_ok=True)
    return Sent(again, bytes(waiting.pending))


def _deliver(port: Port, waiting: _Waiter, block: bytes) -> int:
    """One block, sent until acknowledged; how many times it was sent again."""
    for again in range(TRIES):
        port.write(block)
        if waiting.until({ACK, NAK, CRC_MODE}, quiet_ok=True) == ACK:
            return again
    raise YmodemError(f"the receiver refused block {block[1]} {TRIES} times")


class _Waiter:
    """Bytes from the receiver, one control byte at a time (other bytes are noise)."""

    def __init__(self, port: Port, timeout: float, clock: Callable[[], float] = time.monotonic):
        self.port = port
        self.timeout = timeout
        self.clock = clock
        self.pending = bytearray()

    def until(self, wanted: set[int], quiet_ok: bool = False) -> int:
        """The next byte among `wanted` (or, with quiet_ok, -1 after a quiet spell)."""
        deadline = self.clock() + self.timeout
        while True:
            while self.pending:
                b = self.pending.pop(0)
                if b == CAN and CAN not in wanted:
                    raise YmodemError("the receiver cancelled the transfer")
                if b in wanted:
                    return b
            if self.clock() > deadline:
                if quiet_ok:
                    return -1
                raise YmodemError("the receiver stopped answering")
            self.pending += self.port.read(0.2)
