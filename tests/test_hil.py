"""Hardware-in-the-loop tests: the same tests run against the session's emulator (default),
a real U-Boot or a real camera (`pytest -m hil --uboot-port /dev/ttyUSB0`). Only read-only
commands; what the target lacks is skipped with its name."""

import zlib

import pytest

from harness.base.errors import Refused
from harness.console.policy import ReadOnlyPolicy
from harness.read.reader import MemoryReader

pytestmark = pytest.mark.hil


def test_prompt_and_version(uboot):
    assert uboot.prompt in (b"MStar # ", b"SigmaStar # ", b"=> ")
    assert b"U-Boot" in uboot.run("version")


def test_ram_window_is_real_ram_and_reads_verified(uboot, uboot_target, tmp_path):
    """Read with md everywhere (no erased-chunk skipping): real data came over the line,
    and the target's own crc32 of the range agrees with the file."""
    start = uboot_target.ram[0]
    assert uboot_target.dram[0] <= start and uboot_target.ram[1] <= sum(uboot_target.dram)
    reader = MemoryReader(uboot.dumper, chunk=0x400, skip_erased=False)
    stats = reader.read_to_file(start, 0x1000, tmp_path / "ram.bin")
    data = (tmp_path / "ram.bin").read_bytes()
    assert len(data) == 0x1000 and stats.mds >= 4 and stats.erased_chunks_skipped == 0
    out = uboot.run(f"crc32 {start:x} 1000").decode()
    assert out.strip().endswith(f"{zlib.crc32(data):08x}")


def test_ram_window_can_be_filled_and_read_back(uboot, uboot_target, tmp_path):
    """The window is writable RAM: a pattern put there with mw comes back (0x21000000 on a
    board whose RAM starts at 0x40000000 would read as 0xFF or abort)."""
    start = uboot_target.ram[0]
    uboot.run(f"mw.l {start:x} 5a3cc3a5 40")
    MemoryReader(uboot.dumper, skip_erased=False).read_to_file(start, 0x100, tmp_path / "p.bin")
    assert (tmp_path / "p.bin").read_bytes() == bytes.fromhex("a5c33c5a") * 0x40


@pytest.mark.uboot_needs("sf")
def test_flash_through_sf_read(uboot, uboot_target, tmp_path):
    ram = uboot_target.ram[0]
    assert b"SF: Detected" in uboot.run("sf probe")
    uboot.run(f"mw.b {ram:x} 0 2000")
    assert b"Read: OK" in uboot.run(f"sf read {ram:x} 1d0000 2000")
    reader = MemoryReader(uboot.dumper, chunk=0x1000, skip_erased=False)
    reader.read_to_file(ram, 0x2000, tmp_path / "f.bin")
    data = (tmp_path / "f.bin").read_bytes()
    assert data != bytes(0x2000)  # the flash's bytes replaced the zeros
    out = uboot.run(f"crc32 {ram:x} 2000").decode()
    assert out.strip().endswith(f"{zlib.crc32(data):08x}")


def test_interactive_console(uboot, uboot_target):
    """The pexpect console: any command, its output matched; then the dumper again."""
    c = uboot.console
    c.sendline(f"md.b {uboot_target.ram[0]:x} 10")
    c.expect(r"([0-9a-f]{8}):((?: [0-9a-f]{2}){16})")
    assert int(c.match.group(1), 16) == uboot_target.ram[0]
    c.expect_exact(uboot.prompt.decode())
    c.sendline("version")
    c.expect("U-Boot [0-9]{4}\\.[0-9]{2}")
    c.expect_exact(uboot.prompt.decode())
    assert b"U-Boot" in uboot.run("version")  # the dumper takes the port back


@pytest.mark.parametrize("line", ["mw 0 0", "sf erase 0 10000", "saveenv", ""])
def test_interactive_console_keeps_the_policy(uboot, line, monkeypatch):
    sent = []
    real = uboot.transport.write
    monkeypatch.setattr(uboot.transport, "write", lambda data: (sent.append(data), real(data)))
    with pytest.raises(Refused):
        uboot.console.sendline(line)
    uboot.console.send(line.encode())
    with pytest.raises(Refused):  # typed in pieces, checked at Enter
        uboot.console.send("\r")
    uboot.console.sendcontrol("c")
    assert b"".join(sent) == line.encode() + b"\x03"


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
        "mmc erase 0 10",
        "mmc write 21000000 0 1",
    ],
)
def test_writes_are_refused_before_reaching_the_port(uboot, command, monkeypatch):
    assert isinstance(uboot.policy, ReadOnlyPolicy)
    sent = []
    real = uboot.transport.write
    monkeypatch.setattr(uboot.transport, "write", lambda data: (sent.append(data), real(data)))
    with pytest.raises(Refused):
        uboot.run(command)
    assert sent == []
    monkeypatch.undo()
    assert b"U-Boot" in uboot.run("version")  # still in sync


@pytest.mark.emulator_only
def test_noisy_line_still_reads_exactly(uboot_emulator, uboot_target, tmp_path):
    from emulator import Emulator
    from harness.console.session import Console
    from harness.link.transport import Transport

    image = bytes(uboot_emulator.flash.data)
    with Emulator(
        image, uboot_target.profile, at_prompt=True, faults="flip=2e-4,drop=1e-4", seed=3
    ) as emu:
        ram = uboot_target.ram[0]
        t = Transport(emu.port)
        try:
            c = Console(t, quiet=0.2)
            c.sync()
            MemoryReader(c, chunk=0x800).read_to_file(ram, 0x2000, tmp_path / "n.bin")
        finally:
            t.close()
        assert (tmp_path / "n.bin").read_bytes() == emu.board.target.memory.read(ram, 0x2000)


@pytest.mark.emulator_only
def test_power_cycle_is_seen_as_a_reset(uboot_emulator, uboot):
    from harness.base.errors import TargetReset

    uboot_emulator.power_cycle()
    with pytest.raises(TargetReset):
        uboot.run("md 21000000 400", timeout=2)
    # bring the shared emulator back to its prompt for the tests after this one
    uboot_emulator.power_cycle(at_prompt=True)
    uboot.sync()
    assert b"U-Boot" in uboot.run("version")
