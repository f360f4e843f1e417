"""`--power-cmd`: the camera switched off and on by a command instead of a person (a farm's
relay or PoE switch; here the emulator's own switch, `uboot-emu --control SOCKET` and
`python -m emulator.control SOCKET on|off`): a backup of a camera that is off finishes with
nobody at it; a switch that fails is a one-line error (exit 3) before anything is read."""

from __future__ import annotations

from harness.link.power import PowerSwitch
from tests.support.camera import FIXTURE_TREES, HOME, flash_from_trees
from tests.support.run_cli import one_error, power_switch_cmd, uboot_dump, uboot_emu


def test_the_word_goes_where_the_braces_are_or_at_the_end():
    assert PowerSwitch("relay.sh 3 {} now").argv("on") == ["relay.sh", "3", "on", "now"]
    assert PowerSwitch("'poe ctl' port=2").argv("off") == ["poe ctl", "port=2", "off"]


def test_a_camera_that_is_off_is_backed_up_with_nobody_at_it(tmp_path):
    flash = flash_from_trees(tmp_path, FIXTURE_TREES / "rootfs", FIXTURE_TREES / "home")
    (tmp_path / "flash.img").write_bytes(flash)
    sock = tmp_path / "power.sock"
    with uboot_emu(tmp_path / "flash.img", tmp_path / "tty", "--baud", "0",
                   "--power-on-after", "600", "--control", str(sock)):  # fmt: skip
        r = uboot_dump("backup", "--port", str(tmp_path / "tty"), "--model", "y203c",
                       "-o", str(tmp_path / "out"), "--via", "md", "--partitions", "HOME",
                       "--power-cmd", power_switch_cmd(sock), "--power-timeout", "30")  # fmt: skip
    assert r.returncode == 0, r.stderr.decode()
    assert b"Switching the camera off and on (--power-cmd)" in r.stderr
    assert b"Power the camera on now" not in r.stderr
    assert (tmp_path / "out" / "home_y203c").read_bytes() == flash[HOME[0] : HOME[0] + HOME[1]]


def test_a_switch_that_fails_is_one_error_line(tmp_path):
    r = uboot_dump("backup", "--port", str(tmp_path / "none"), "--model", "y203c", "-o",
                   str(tmp_path / "out"), "--power-cmd", "false {}")  # fmt: skip
    assert "Traceback" not in r.stderr.decode()
    # the port is opened first (exit 3 for it too); a real port and a failing switch:
    flash = flash_from_trees(tmp_path, FIXTURE_TREES / "rootfs", FIXTURE_TREES / "home")
    (tmp_path / "flash.img").write_bytes(flash)
    with uboot_emu(tmp_path / "flash.img", tmp_path / "tty", "--baud", "0", "--at-prompt"):
        r = uboot_dump("backup", "--port", str(tmp_path / "tty"), "--model", "y203c", "-o",
                       str(tmp_path / "out"), "--power-cmd", "false {}")  # fmt: skip
        one_error(r, 3, "`false off` failed (exit 1)", after_notes=True)
        r = uboot_dump("backup", "--port", str(tmp_path / "tty"), "--model", "y203c", "-o",
                       str(tmp_path / "out"), "--power-cmd", "no-such-relay-tool")  # fmt: skip
        one_error(r, 3, "no-such-relay-tool: no such program", after_notes=True)
    assert not (tmp_path / "out" / "home_y203c").exists()


def test_a_camera_found_in_linux_is_switched_off_and_on_by_the_bring_up(tmp_path):
    """The bring-up finds Linux running (no person to tell): it uses the switch itself,
    then catches U-Boot as the camera boots again."""
    import time

    from emulator import Emulator
    from emulator.control import ControlServer
    from harness.console.bringup import BringUp
    from harness.link.transport import Transport

    with Emulator(bytes(16 << 20), "mstar", boot_window=0.05) as emu:
        while emu.state != "linux":
            time.sleep(0.02)  # the camera was switched on long before the tool ran
        sock = str(tmp_path / "power.sock")
        server = ControlServer(sock, lambda state: getattr(emu, f"power_{state}")())
        said: list[str] = []
        t = Transport(emu.port)
        try:
            cycle = PowerSwitch(power_switch_cmd(sock)).cycle
            found = BringUp(t, (b"MStar # ",), timeout=30, say=said.append,
                            power_cycle=cycle).run()  # fmt: skip
        finally:
            t.close()
            server.close()
    assert found == b"MStar # "
    assert said == ["The camera is booting Linux: switching it off and on (--power-cmd)."]


def test_the_vendor_build_switched_by_the_tool_is_backed_up(tmp_path):
    """The vendor's own U-Boot with a power switch (tests/support/targets.Served.power
    behind the emulator's control socket), switched off: --power-cmd switches it on, the
    tool catches its keyed autoboot, and the backup is exact."""
    from emulator.control import ControlServer
    from tests.support.targets import vendor_build

    flash = flash_from_trees(tmp_path, FIXTURE_TREES / "rootfs", FIXTURE_TREES / "home")
    (tmp_path / "flash.img").write_bytes(flash)
    sock = str(tmp_path / "power.sock")
    # off until switched: by itself it would come on in 600 s, and the tool waits 30
    with vendor_build(tmp_path / "flash.img", power_on_after=600) as target:
        server = ControlServer(sock, target.power)
        try:
            r = uboot_dump("backup", "--port", target.port, "--model", "y203c", "-o",
                           str(tmp_path / "out"), "--via", "md", "--partitions", "HOME",
                           "--power-cmd", power_switch_cmd(sock),
                           "--power-timeout", "30")  # fmt: skip
        finally:
            server.close()
    assert r.returncode == 0, r.stderr.decode()
    assert (tmp_path / "out" / "home_y203c").read_bytes() == flash[HOME[0] : HOME[0] + HOME[1]]
    assert b"U-Boot 2015.01" in (tmp_path / "out" / "bootlog.txt").read_bytes()
