"""The harness's console driver against the emulator: prompt, echo, failures, the policy."""

import random

import pytest

from harness.base.errors import CommandFailed, NoPrompt, PortGone, Refused, TargetReset
from harness.console.policy import ReadOnlyPolicy
from harness.console.session import Console
from harness.link.transport import Transport


@pytest.fixture(scope="module")
def image():
    return random.Random(4).randbytes(16 << 20)


@pytest.mark.parametrize("profile, prompt", [("mstar", "MStar # "), ("mainline", "=> ")])
def test_finds_the_prompt_itself(emulator, image, golden_image, profile, prompt, open_port):
    emu = emulator(image if profile == "mstar" else golden_image, profile, at_prompt=True)
    c = Console(open_port(emu))
    assert c.sync() == prompt


def test_given_prompt_and_wrong_prompt(emulator, image, connect):
    emu = emulator(image, "mstar", at_prompt=True)
    c = connect(emu, "MStar # ")
    assert c.run("crc32 21000000 0") == b"CRC32 for 21000000 ... 20ffffff ==> 00000000\r\n"
    c.transport.close()  # the port is one run's at a time (flock): the next one is another
    with pytest.raises(NoPrompt, match="prompt is 'MStar # ', not '=> '"):
        connect(emu, "=> ", quiet=0.1, timeout=1)


def test_prompt_look_alikes_do_not_end_a_command(emulator, golden_image, connect):
    emu = emulator(golden_image, "mainline", at_prompt=True)
    c = connect(emu)
    out = c.run("md 0x04000100")
    assert out.count(b"\r\n") == 16 and b"MStar # w" in out and b"=> crc32 =" in out
    assert c.run("crc32 0x04000000 0x400") == b"crc32 for 04000000 ... 040003ff ==> afa3d31f\r\n"


def test_mstar_prompt_in_ascii_column(emulator, connect):
    image = bytearray(random.Random(1).randbytes(16 << 20))
    emu = emulator(bytes(image), "mstar", at_prompt=True)
    c = connect(emu)
    emu.board.target.memory.write(0x21000000, b"xxxxxxxxMStar # \r\nMStar # xxxxxx")
    out = c.run("md.b 21000000 20")
    assert out.count(b"\r\n") == 2


def test_errors_are_failures_not_data(emulator, image, connect):
    emu = emulator(image, "mstar", at_prompt=True)
    c = connect(emu, policy=ReadOnlyPolicy(ram_window=(0x21000000, 0x22000000)))
    with pytest.raises(CommandFailed, match="No SPI flash selected"):
        c.run("sf read 21000000 0 10")
    with pytest.raises(CommandFailed, match="Unknown command"):
        c.run("help nosuch")


def test_abort_and_reset_are_detected(emulator, image, connect):
    emu = emulator(image, "mstar", at_prompt=True, boot_window=0.1)
    c = connect(emu)
    with pytest.raises(TargetReset):
        c.run("md 10000000 4")


def test_linux_running_is_detected(emulator, image, open_port):
    emu = emulator(image, "mstar", boot_window=0.05, powered=False)
    c = Console(open_port(emu), quiet=0.2)
    emu.power_on()
    with pytest.raises(TargetReset, match="reset|Linux"):
        c.sync()


def test_dead_line(emulator, image, connect):
    emu = emulator(image, "mstar", at_prompt=True)
    c = connect(emu, quiet=0.1, timeout=0.5)
    emu.power_off()
    with pytest.raises(PortGone):
        c.run("version")


def test_vanished_port(emulator, image, connect):
    emu = emulator(image, "mstar", at_prompt=True, faults="disconnect@2000:5")
    c = connect(emu, timeout=2)
    with pytest.raises(PortGone):
        c.run("md 21000000 400")


@pytest.fixture(scope="module")
def shared_console(image):
    from emulator import Emulator

    with Emulator(image, "mstar", at_prompt=True) as emu:
        t = Transport(emu.port)
        try:
            c = Console(t)
            c.sync()
            yield c
        finally:
            t.close()


@pytest.mark.parametrize(
    "command",
    [
        "sf erase 0 10000",
        "sf write 21000000 0 100",
        "sf update 21000000 0 100",
        "saveenv",
        "setenv bootdelay 3",
        "env set bootdelay 3",
        "mw 20000000 0",
        "mw.b 22000000 ff 100",
        "cp.b 21000000 0 10",
        "crc32 21000000 10 22000000",
        "md 0; saveenv",
        "reset",
        "go 21000000",
        "",
        "s",
    ],
)
def test_refused_before_reaching_the_port(shared_console, command, monkeypatch):
    c = shared_console
    monkeypatch.setattr(c, "policy", ReadOnlyPolicy(ram_window=(0x21000000, 0x21010000)))
    sent = []
    real_write = c.transport.write
    monkeypatch.setattr(c.transport, "write", lambda data: (sent.append(data), real_write(data)))
    with pytest.raises(Refused):
        c.run(command)
    assert sent == []


def test_ram_window_allows_fill_and_sf_read(emulator, image, connect):
    emu = emulator(image, "mstar", at_prompt=True)
    c = connect(emu)
    c.policy = ReadOnlyPolicy(ram_window=(0x21000000, 0x22000000))
    c.run("mw.b 21000000 ff 100")
    c.run("sf probe")
    assert b"Read: OK" in c.run("sf read 21000000 1d0000 1000")


def test_sync_stops_what_an_interrupted_session_left_running(emulator, image, connect, open_port):
    emu = emulator(image, "mstar", at_prompt=True, baud=115200)
    t = open_port(emu)
    t.write(b"md.l 21000000 100000\r")  # 4 MiB of md: 25 minutes at 115200
    assert t.read(2.0)  # it is printing; then this session dies
    t.close()
    c = connect(emu, "MStar # ")  # a new run: sync must stop it, not wait for it
    assert c.run("crc32 21000000 0").startswith(b"CRC32 for 21000000")
