"""Boot, power, line editing and commands of the emulated MStar camera."""

import random
import threading
import zlib

import pytest

from emulator.profile import load
from tests.support.termclient import Term

MSTAR = b"MStar # "
RAM = 0x21000000


@pytest.fixture(scope="module")
def image():
    return random.Random(3).randbytes(16 << 20)


@pytest.fixture
def mstar(emulator, image):
    emu = emulator(image, "mstar", at_prompt=True)
    t = Term(emu.port)
    yield emu, t
    t.close()


def stop_at_prompt(t: Term) -> bytes:
    """Hold Enter while the camera powers on, as people do; then a word no command has,
    whose answer comes after the prompts of every Enter still on its way."""
    out = bytearray()
    while not out.endswith(MSTAR):
        t.send(b"\r")
        out += t.s.read(4096)
        if len(out) > 100000:
            raise AssertionError("no prompt")
    t.send(b"q0marker\r")
    return bytes(out) + t.read_until(b"Unknown command 'q0marker' - try 'help'\r\n" + MSTAR)


def test_power_on_keyed_autoboot_stops_on_enter(emulator, image):
    emu = emulator(image, "mstar", baud=115200, powered=False)
    t = Term(emu.port)
    emu.power_on()
    out = stop_at_prompt(t)
    assert b"IPL gd156225" in out
    banner = b"-" * 23 + b"U-Boot 2015.01 (Apr 28 2018 - 17:08:00)" + b"-" * 23
    assert banner + b"\r\n" in out
    assert b"Hit any key" not in out
    assert emu.state == "uboot"


def test_without_enter_it_boots_linux_with_the_partition_table(emulator, image):
    emu = emulator(image, "mstar", boot_window=0.2, powered=False)
    t = Term(emu.port)
    emu.power_on()
    out = t.read_until(b"Please press Enter to activate this console. \r\n")
    assert b'Creating 6 MTD partitions on "NOR_FLASH":\r\n' in out
    assert b'0x0000001d0000-0x0000003b0000 : "ROOTFS"\r\n' in out
    assert emu.state == "linux"
    t.send(b"\r")
    t.read_until(b"/ # ")
    t.type("reboot")
    t.read_until(b"Restarting system.\r\n", anywhere=True)
    assert stop_at_prompt(t).endswith(MSTAR)


def test_custom_partition_table_in_the_kernel_log(emulator, image):
    from emulator.profile import parse_partition_spec

    parts = parse_partition_spec("boot=0-0x40000,rootfs=0x40000-0x1000000")
    emu = emulator(image, "mstar", boot_window=0.1, partitions=parts, powered=False)
    t = Term(emu.port)
    emu.power_on()
    out = t.read_until(b"activate this console. \r\n")
    assert (
        b'Creating 2 MTD partitions on "NOR_FLASH":\r\n0x000000000000-0x000000040000 : "boot"\r\n'
        in out
    )


def test_state_survives_closing_the_port(mstar):
    emu, t = mstar
    t.command("sf probe", MSTAR)
    t.command(f"sf read {RAM:x} 0 0x1000", MSTAR)
    t.close()
    t2 = Term(emu.port)
    out = t2.command(f"crc32 {RAM:x} 0x1000", MSTAR)
    assert f"{zlib.crc32(emu.flash.data[:0x1000]):08x}".encode() in out
    t2.close()


def test_power_cycle_clears_ram_and_boots(mstar, image):
    emu, t = mstar
    t.command("sf probe", MSTAR)
    t.command(f"sf read {RAM:x} 0 0x1000", MSTAR)
    emu.power_cycle()
    out = stop_at_prompt(t)
    assert b"IPL gd156225" in out
    out = t.command(f"crc32 {RAM:x} 0x1000", MSTAR)
    assert f"{zlib.crc32(image[:0x1000]):08x}".encode() not in out
    # sf must be probed again after a power cycle
    assert b"No SPI flash selected. Please run `sf probe'\r\n" in t.command(
        f"sf read {RAM:x} 0 16", MSTAR
    )


def test_sf_read_errors(mstar):
    emu, t = mstar
    assert t.command(f"sf read {RAM:x} 0 16", MSTAR).endswith(
        b"No SPI flash selected. Please run `sf probe'\r\n" + MSTAR
    )
    t.command("sf probe", MSTAR)
    assert t.command(f"sf read {RAM:x} 0xfffff0 0x20", MSTAR).endswith(
        b"ERROR: attempting read past flash size (0x1000000)\r\n" + MSTAR
    )
    assert t.command(f"sf read {RAM:x} 0 0x10", MSTAR).endswith(
        b"SF: 16 bytes @ 0x0 Read: OK\r\n" + MSTAR  # U-Boot's %#x: 0x0
    )


def test_sf_write_leaves_the_image_alone_unless_writable(emulator, image):
    for writable in (False, True):
        emu = emulator(image, "mstar", at_prompt=True, writable=writable)
        t = Term(emu.port)
        t.command("sf probe", MSTAR)
        assert t.command("sf erase 0x10000 0x10000", MSTAR).endswith(
            b"SF: 65536 bytes @ 0x10000 Erased: OK\r\n" + MSTAR
        )
        assert (bytes(emu.flash.data) == image) is not writable
        t.close()


def test_md_repeat_continues_with_same_count(mstar):
    emu, t = mstar
    first = t.command(f"md.b {RAM:x} 0x20", MSTAR)
    again = t.command("", MSTAR)
    assert first.split(b"\r\n")[1].startswith(b"21000000: ")
    assert again.split(b"\r\n")[1].startswith(b"21000020: ")
    assert again.count(b"\r\n") == 3  # echo + two lines


def test_mstar_md_line_is_67_characters(mstar):
    emu, t = mstar
    out = t.command(f"md.l {RAM:x} 4", MSTAR)
    line = out.split(b"\r\n")[1] + b"\r\n"
    assert len(line) == 67
    assert line[45:49] == b"    "


def test_address_outside_dram_aborts_and_resets(emulator, image):
    emu = emulator(image, "mstar", at_prompt=True, boot_window=0.3)
    t = Term(emu.port)
    t.send(b"md 0x10000000 4\r")
    out = t.read_until(b"resetting ...\r\n", anywhere=True)
    assert b"data abort" in out
    assert stop_at_prompt(t).endswith(MSTAR)


def test_line_editing_backspace_buffer_limit_and_ctrl_c(mstar):
    emu, t = mstar
    t.send(b"basX\x08e\r")
    assert t.read_until(MSTAR) == b"basX\x08 \x08e\r\nBase Address: 0x00000000\r\n" + MSTAR
    t.send(b"x" * 300 + b"\r")
    out = t.read_until(MSTAR)
    echo = out.split(b"\r\n")[0]
    assert echo == b"x" * 256 + b"\a" * 44  # cread_line: 256 characters, then a bell each
    assert out == echo + b"\r\n## Command too long!\r\n" + MSTAR  # run_command's limit
    t.send(b"md 2\x03")
    assert t.read_until(MSTAR) == b"md 2<INTERRUPT>\r\n" + MSTAR


def test_input_during_md_is_eaten_one_byte_per_line(emulator, image):
    emu = emulator(image, "mstar", at_prompt=True, baud=115200)
    t = Term(emu.port)
    t.send(f"md.b {RAM:x} 0x400\r".encode())
    t.read_until(b"21000010: ", anywhere=True)
    t.send(b"zz")  # eaten by md's ctrlc() checks, never reach the command line
    out = t.read_until(MSTAR)
    assert b"zz" not in out
    assert out.split(b"\r\n")[-2].startswith(b"210003f0: ")  # md ran to its end
    again = t.command("", MSTAR)  # no stray input reached the line editor: md repeats
    assert again.startswith(b"\r\n21000400: ") and again.count(b"\r\n") == 1 + 64


def test_setenv_baudrate(mstar):
    emu, t = mstar
    assert t.command("setenv baudrate 921600", MSTAR).endswith(
        b"## Baudrate 921600 bps not supported\r\n"
        b'## Error inserting "baudrate" variable, errno=22\r\n' + MSTAR
    )
    t.send(b"setenv baudrate 57600\r")
    t.read_until(b"## Switch baudrate to 57600 bps and press ENTER ...\r\n")
    t.send(b"x\r")  # waits for a CR, ignoring the rest
    assert t.read_until(MSTAR) == MSTAR
    assert t.command("printenv baudrate", MSTAR).endswith(b"baudrate=57600\r\n" + MSTAR)


def test_unknown_command_abbreviation_and_help(mstar):
    emu, t = mstar
    assert t.command("ver", MSTAR).startswith(b"ver\r\n\r\nU-Boot 2015.01")
    assert t.command("md.l", MSTAR).endswith(
        b"md - memory display\r\n\r\nUsage:\r\nmd [.b, .w, .l] address [# of objects]\r\n" + MSTAR
    )
    assert t.command("md.q 0", MSTAR) == b"md.q 0\r\n" + MSTAR  # no 64-bit md on this board
    assert b"crc32   - checksum calculation\r\n" in t.command("help", MSTAR)


def test_mainline_countdown(emulator, golden_image):
    emu = emulator(golden_image, "mainline", powered=False)
    t = Term(emu.port)
    emu.power_on()
    t.read_until(b"Hit any key to stop autoboot:  2 ")
    t.send(b" ")
    assert t.read_until(b"=> ").endswith(b"\b\b\b 0 \r\n=> ")


def test_profiles_are_data():
    for name in ("mstar", "mainline"):
        p = load(name)
        assert p.prompt and p.boot_log


def test_output_while_no_client_is_connected_is_lost(emulator, image):
    emu = emulator(image, "mstar", boot_window=0.05, powered=False)
    emu.power_on()  # nobody has the port open: the boot goes nowhere, as on a UART
    while emu.state != "linux":
        threading.Event().wait(0.02)
    t = Term(emu.port)
    t.send(b"\r")
    out = t.read_until(b"/ # ")
    assert b"IPL" not in out  # the U-Boot log went out before the port was opened
    t.close()
