"""Hardware-in-the-loop tests: the same tests run against the session's emulator (default)
or a real camera (`pytest -m hil --port /dev/ttyUSB0`). Only read-only commands."""

import zlib

import pytest

from harness.errors import Refused
from harness.policy import ReadOnlyPolicy
from harness.reader import MemoryReader

pytestmark = pytest.mark.hil


def test_prompt_and_version(uboot):
    assert uboot.prompt in (b"MStar # ", b"SigmaStar # ", b"=> ")
    assert b"U-Boot" in uboot.run("version")


def test_read_ram_verified(uboot, uboot_target, tmp_path):
    start = uboot_target.ram[0]
    stats = MemoryReader(uboot, chunk=0x400).read_to_file(start, 0x1000, tmp_path / "ram.bin")
    data = (tmp_path / "ram.bin").read_bytes()
    assert len(data) == 0x1000 and stats.bytes == 0x1000
    # the target agrees, independently of the reader's own checks
    out = uboot.run(f"crc32 {start:x} 1000").decode()
    assert out.strip().endswith(f"{zlib.crc32(data):08x}")


def test_flash_through_sf_read(uboot, uboot_target, tmp_path):
    if uboot_target.profile != "mstar":
        pytest.skip("this board has no SPI flash command")
    ram = uboot_target.ram[0]
    assert b"SF: Detected" in uboot.run("sf probe")
    assert b"Read: OK" in uboot.run(f"sf read {ram:x} 1d0000 2000")
    MemoryReader(uboot, chunk=0x1000).read_to_file(ram, 0x2000, tmp_path / "f.bin")
    assert len((tmp_path / "f.bin").read_bytes()) == 0x2000


@pytest.mark.parametrize(
    "command",
    [
        "sf erase 0 10000",
        "sf write 21000000 0 1000",
        "sf update 21000000 0 1000",
        "saveenv",
        "setenv bootdelay 5",
        "env default -a",
        "mw 20000000 0",
        "mw.l 30000000 0 10",
        "cp.b 21000000 20000000 10",
        "reset",
        "bootm 22000000",
        "md 0;saveenv",
    ],
)
def test_writes_are_refused_before_reaching_the_port(uboot, command):
    assert isinstance(uboot.policy, ReadOnlyPolicy)
    sent = []
    real = uboot.t.write
    uboot.t.write = lambda data: (sent.append(data), real(data))
    try:
        with pytest.raises(Refused):
            uboot.run(command)
    finally:
        uboot.t.write = real
    assert sent == []
    assert b"U-Boot" in uboot.run("version")  # still in sync


@pytest.mark.emulator_only
def test_noisy_line_still_reads_exactly(uboot_emulator, uboot_target, tmp_path):
    from emulator import Emulator
    from harness.console import Console
    from harness.transport import Transport

    image = bytes(uboot_emulator.flash.data)
    with Emulator(
        image, uboot_target.profile, at_prompt=True, faults="flip=2e-4,drop=1e-4", seed=3
    ) as emu:
        ram = uboot_target.ram[0]
        t = Transport(emu.port)
        c = Console(t, quiet=0.2)
        c.sync()
        MemoryReader(c, chunk=0x800).read_to_file(ram, 0x2000, tmp_path / "n.bin")
        assert (tmp_path / "n.bin").read_bytes() == emu.board.target.memory.read(ram, 0x2000)
        t.close()


@pytest.mark.emulator_only
def test_power_cycle_is_seen_as_a_reset(uboot_emulator, uboot):
    from harness.errors import TargetReset

    uboot_emulator.power_cycle()
    with pytest.raises(TargetReset):
        uboot.run("md 21000000 400", timeout=2)
    # bring the shared emulator back to its prompt for the tests after this one
    uboot_emulator.power_cycle(at_prompt=True)
    uboot.sync()
    assert b"U-Boot" in uboot.run("version")
