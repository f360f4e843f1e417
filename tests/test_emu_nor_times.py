"""The emulated flash is a NOR chip that takes its time: a paced emulator spends the
profile's typical erase and program times (its sources in the profile), and power lost
while the chip works leaves the block half done, as an armed cut does."""

from __future__ import annotations

import random
import time

from emulator.profile import load
from tests.support.termclient import Term

MSTAR = b"MStar # "
BLOCK = 0x10000


def test_the_profile_names_its_chip_and_where_its_times_come_from():
    p = load("mstar")
    assert p.flash.chip == "MX25L12845E" and p.flash.page_size == 256
    assert p.flash.block_erase_s > 0 and p.flash.page_program_s > 0
    assert "halSERFLASH.c" in p.sources["chip"] and "datasheet" in p.sources["flash_times"]


def test_an_erase_takes_the_chips_time_and_power_lost_in_it_leaves_a_mixed_block(emulator):
    image = random.Random(5).randbytes(16 << 20)
    emu = emulator(image, "mstar", at_prompt=True, baud=1_000_000, writable=True, seed=9)
    spec = emu.flash.spec
    t = Term(emu.port)
    try:
        t.send(b"sf probe 0\r")
        t.read_until(MSTAR)
        t0 = time.monotonic()  # before the command: the erase cannot start sooner
        t.send(b"sf erase 10000 10000\r")
        t.read_until(b"sf erase 10000 10000\r\n")
        t.read_until(f"SF: {BLOCK} bytes @ 0x10000 Erased: OK\r\n".encode())
        assert time.monotonic() - t0 >= spec.block_erase_s  # never sooner than the chip
        assert emu.flash.data[BLOCK : 2 * BLOCK] == b"\xff" * BLOCK
        t.read_until(MSTAR)
        # four blocks: the power goes while the chip is still at work on them
        t.send(b"sf erase 20000 40000\r")
        t.read_until(b"sf erase 20000 40000\r\n")
        emu.power_off()
        deadline = time.monotonic() + 10  # the board's thread sees the power go
        while emu.flash.cuts == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        t.close()
    old = image[2 * BLOCK : 6 * BLOCK]
    mixed = bytes(emu.flash.data[2 * BLOCK : 6 * BLOCK])
    assert mixed not in (old, b"\xff" * len(old))
    assert all(m | o == m for m, o in zip(mixed, old))  # an erase only sets bits
    assert emu.flash.cuts == 1
