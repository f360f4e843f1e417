"""Bring-up: from whatever state the camera is in to its prompt, Ctrl-C first, Enter only
while it boots; the state machine's verdicts when it gets nowhere."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from emulator import Emulator
from harness.console.bringup import ACTIONS, BringUp, Seen, State, Tally, next_state
from harness.console.session import Console
from harness.link.transport import Transport
from tests.support.camera import ROOTFS
from tests.support.run_cli import uboot_dump

RAM = 0x21000000
LOGIN_TEXT = b"yi-hack login: " * 5000  # what an interrupted md's ASCII column shows


@pytest.fixture(scope="module")
def image():
    return random.Random(31).randbytes(16 << 20)


def read_mem(port: str, out: Path, length: int, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "harness.cli", "read-mem", "--port", port, "--start",
        hex(RAM), "--length", hex(length), "-o", str(out), *extra,
    ]  # fmt: skip


def test_after_kill_9_in_the_middle_of_an_md_the_next_run_is_at_the_prompt_at_once(image, tmp_path):
    with Emulator(image, "mstar", at_prompt=True, baud=115200) as emu:
        emu.board.target.memory.write(RAM, LOGIN_TEXT)
        log = tmp_path / "console.log"
        first = subprocess.Popen(
            read_mem(emu.port, tmp_path / "a.bin", 0x10000, "--chunk", "1M", "--log", str(log)),
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while b"login: " not in (log.read_bytes() if log.exists() else b""):
            assert time.monotonic() < deadline and first.poll() is None
            time.sleep(0.02)  # watching the log grow: the md is printing
        first.send_signal(signal.SIGKILL)
        first.wait()
        t = Transport(emu.port)
        try:
            t0 = time.monotonic()
            Console(t, "MStar # ").sync()  # what the next run does first
            took = time.monotonic() - t0
        finally:
            t.close()
        assert took < 2.0, f"{took:.2f} s to the prompt"
        # and a whole rerun is not fooled by `login:` in the md's ASCII column
        second = subprocess.run(read_mem(emu.port, tmp_path / "b.bin", 0x800), capture_output=True)
    assert second.returncode == 0, second.stderr
    assert (tmp_path / "b.bin").read_bytes() == LOGIN_TEXT[:0x800]


def test_two_backups_in_a_row_find_the_camera_at_its_prompt(image, tmp_path):
    """The first leaves the camera at its prompt after a slow crc32 of HOME: bare Enters
    would repeat that crc32; Ctrl-C first does not."""
    with Emulator(image, "mstar", at_prompt=True) as emu:
        for out in ("one", "two"):
            t0 = time.monotonic()
            r = uboot_dump(
                "backup", "--port", emu.port, "--model", "y203c", "-o", str(tmp_path / out),
                "--partitions", "ROOTFS", "--power-timeout", "20",
            )  # fmt: skip
            assert r.returncode == 0, r.stderr
            assert time.monotonic() - t0 < 15
        a = (tmp_path / "one" / "sys_y203c").read_bytes()
        assert a == (tmp_path / "two" / "sys_y203c").read_bytes() == image[ROOTFS[0] : sum(ROOTFS)]


def test_a_camera_in_linux_is_exit_5_for_read_mem_and_backup(image, tmp_path):
    with Emulator(image, "mstar", boot_window=0.01) as emu:
        while emu.state != "linux":
            time.sleep(0.02)  # the camera was switched on long before the tool ran
        r = uboot_dump("read-mem", "--port", emu.port, "--start", "0x21000000",
                       "--length", "0x100", "-o", str(tmp_path / "x.bin"))  # fmt: skip
        assert r.returncode == 5 and b"runs Linux" in r.stderr, r.stderr
        r = uboot_dump("backup", "--port", emu.port, "--model", "y203c", "-o",
                       str(tmp_path / "b"), "--power-timeout", "2")  # fmt: skip
        assert r.returncode == 5 and b"runs Linux" in r.stderr, r.stderr


def test_a_reset_loop_is_exit_5_not_no_answer(image, tmp_path):
    with Emulator(image, "mstar", faults="reset=2e-3", seed=2, powered=False) as emu:
        emu.power_on()
        r = uboot_dump("backup", "--port", emu.port, "--model", "y203c", "-o",
                       str(tmp_path / "b"), "--power-timeout", "4")  # fmt: skip
    assert r.returncode == 5 and b"reset" in r.stderr, r.stderr


def test_states_off_booting_uboot(image):
    with Emulator(image, "mstar", powered=False, baud=115200) as emu:
        t = Transport(emu.port)
        try:
            b = BringUp(t, (b"MStar # ",), timeout=30)
            timer = __import__("threading").Timer(2.5, emu.power_on)
            timer.start()
            assert b.run() == b"MStar # "
            timer.join()
        finally:
            t.close()
    assert b.state is State.UBOOT and b.tally.boots == 1


def test_a_powered_off_camera_is_no_answer_exit_4(image, tmp_path):
    with Emulator(image, "mstar", powered=False) as emu:
        r = uboot_dump("backup", "--port", emu.port, "--model", "y203c", "-o",
                       str(tmp_path / "b"), "--power-timeout", "2")  # fmt: skip
    assert r.returncode == 4 and b"check the wiring" in r.stderr, r.stderr


# -- the transitions, as a table, without I/O -----------------------------------------------------
@pytest.mark.parametrize(
    "state, seen, then",
    [
        (State.UNKNOWN, Seen.SILENCE, State.OFF),
        (State.OFF, Seen.SILENCE, State.OFF),
        (State.BOOTING, Seen.SILENCE, State.BOOTING),  # a boot may pause: Enter goes on
        (State.OFF, Seen.TEXT, State.BOOTING),  # a camera that was off starts printing
        (State.UNKNOWN, Seen.TEXT, State.UNKNOWN),
        (State.UBOOT, Seen.BOOT, State.BOOTING),
        (State.LINUX, Seen.BOOT, State.BOOTING),  # switched off and on: a boot again
        (State.BOOTING, Seen.KERNEL, State.LINUX),
        (State.BOOTING, Seen.PROMPT, State.UBOOT),
        (State.LINUX, Seen.PROMPT, State.UBOOT),
        (State.OFF, Seen.LOGIN, State.LINUX),
        (State.BOOTING, Seen.UBOOT_PROMPT, State.UBOOT),
        (State.LINUX, Seen.UBOOT_PROMPT, State.LINUX),  # not asked in LINUX: a shell
        (State.UNKNOWN, Seen.OTHER_PROMPT, State.LINUX),
    ],
)
def test_next_state(state, seen, then):
    assert next_state(state, seen) is then


def test_what_is_sent_in_each_state():
    assert ACTIONS[State.UBOOT] is None  # the console's synchronisation takes over
    assert ACTIONS[State.BOOTING] == ACTIONS[State.LINUX] == (b"\r", 0.02)  # only Enter
    assert ACTIONS[State.UNKNOWN] == ACTIONS[State.OFF] == (b"\x03", 2.0)
    assert set(ACTIONS) == set(State)


@pytest.mark.parametrize(
    "lines, boots",
    [
        ([b"IPL g5f2a1b", b"U-Boot 2015.01 (Jun 01 2019)"], 1),  # one boot: IPL, then banner
        ([b"U-Boot 2023.01 (Jan 01 2023)"], 1),  # no IPL (mainline)
        ([b"IPL g5f2a1b", b"IPL g5f2a1b"], 2),
        ([b"IPL g5f2a1b", b"U-Boot 2015.01", b"U-Boot 2015.01"], 2),
        ([b"Hit any key to stop autoboot"], 0),
    ],
)
def test_boots_are_counted_once_each(lines, boots):
    tally = Tally()
    for line in lines:
        tally.boot_line(line)
    assert tally.boots == boots
