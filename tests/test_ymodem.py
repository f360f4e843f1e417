"""`loady`: the harness's YMODEM sender (harness/link/ymodem.py) against the real receiver,
U-Boot 2023.01 under QEMU, and the emulator's (emulator/uboot/commands/load.py) against the
same sender: the bytes arrive (the target's crc32 says so), both targets print the same,
and a block damaged on the way in is sent again."""

from __future__ import annotations

import random
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator import Emulator
from harness.console.policy import ReadOnlyPolicy
from harness.console.session import Console
from harness.link import ymodem
from harness.link.transport import Transport
from harness.read.reader import MemoryReader
from harness.restore.loader import READY, load
from tests.support.targets import qemu_skip_reason, qemu_uboot, stop_at_prompt

RAM = 0x41000000
WINDOW = (RAM, RAM + 0x100000)


def test_crc16_is_xmodems():
    assert ymodem.crc16(b"123456789") == 0x31C3  # the catalogue's check value


@given(st.binary(min_size=1, max_size=5000))
def test_frames_carry_the_data_in_numbered_padded_blocks(data):
    frames = ymodem.frames(data)
    assert all(len(f) == 3 + 1024 + 2 and f[0] == ymodem.STX for f in frames)
    assert [f[1] for f in frames] == [(k + 1) & 0xFF for k in range(len(frames))]
    assert all(f[1] + f[2] == 0xFF for f in frames)
    body = b"".join(f[3:-2] for f in frames)
    assert body[: len(data)] == data and set(body[len(data) :]) <= {0x1A}
    assert all(int.from_bytes(f[-2:], "big") == ymodem.crc16(f[3:-2]) for f in frames)
    head = ymodem.header("b.bin", len(data))
    assert head[:3] == b"\x01\x00\xff" and head[3:].startswith(b"b.bin\0%d\0" % len(data))
    assert ymodem.wire_bytes(len(data)) == len(head) + sum(map(len, frames))


def transfer(port: str, data: bytes, faults: bool = False) -> tuple[bytes, int, int]:
    """loady of `data` through the console: the target's summary, blocks sent again, and
    the target's crc32 of what arrived."""
    t = Transport(port)
    try:
        c = Console(t, policy=ReadOnlyPolicy(ram_window=WINDOW))
        c.sync()
        sent: list[ymodem.Sent] = []

        def send(p, after):
            sent.append(ymodem.send(p, "b.bin", data, already=after))
            return sent[0].rest

        out = c.transfer(f"loady {RAM:x}", READY, send)
        return out, sent[0].again, MemoryReader(c).target_crc(RAM, len(data))
    finally:
        t.close()


def test_the_emulator_receives_as_qemus_u_boot_does(tmp_path):
    why = qemu_skip_reason("arm")
    if why:
        pytest.skip(why)
    data = random.Random(5).randbytes(0x10000 - 100)
    (tmp_path / "bank.img").write_bytes(bytes(1 << 20))
    with qemu_uboot("arm", tmp_path / "bank.img") as q:
        stop_at_prompt(q.port, b"=> ")
        real, _, real_crc = transfer(q.port, data)
    with Emulator(bytes(0x20000), "mainline", at_prompt=True) as emu:
        ours, _, our_crc = transfer(emu.port, data)
    assert real_crc == our_crc == zlib.crc32(data)
    assert (
        real
        == ours
        == b"## Total Size      = 0x0000ff9c = 65436 Bytes\r\n"
        + (b"## Start Addr      = 0x41000000\r\n")
    )


def test_a_block_damaged_on_the_way_in_is_sent_again():
    data = random.Random(6).randbytes(0x8000)
    with Emulator(bytes(0x20000), "mainline", at_prompt=True,
                  faults="in-flip@5000,in-flip@20000") as emu:  # fmt: skip
        _, again, crc = transfer(emu.port, data)
    assert crc == zlib.crc32(data) and again >= 1


def test_the_loader_uses_loady_where_the_target_has_it():
    data = random.Random(7).randbytes(0x10000)
    with Emulator(bytes(0x20000), "mainline", at_prompt=True) as emu:
        t = Transport(emu.port)
        try:
            c = Console(t, policy=ReadOnlyPolicy(ram_window=WINDOW))
            c.sync()
            c.capabilities()
            assert load(c, RAM, data) == 1  # one command: loady
            assert MemoryReader(c).target_crc(RAM, len(data)) == zlib.crc32(data)
        finally:
            t.close()


def test_loady_outside_the_window_is_refused():
    from harness.console.policy import Refused

    with pytest.raises(Refused, match="outside the RAM window"):
        ReadOnlyPolicy(ram_window=WINDOW).check(f"loady {RAM + 0xF8000:x}")
    with pytest.raises(Refused):
        ReadOnlyPolicy(ram_window=WINDOW).check(f"loady {RAM:x} 115200")
