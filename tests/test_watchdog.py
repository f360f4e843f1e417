"""The Yi cameras' 60 s hardware watchdog, kicked only while U-Boot reads input: an md that
prints longer resets the camera; the reader never lets one md print longer than 20 s.

The default runs scale the times down (a 2 s watchdog, 0.5 s mds); `-m slow` runs the real
numbers (60 s, 20 s) at 115200 baud.
"""

from __future__ import annotations

import random
import time

import pytest

from emulator import Emulator
from harness.base.errors import TargetReset
from harness.console.session import Console
from harness.link.transport import Transport
from harness.read.reader import MD_SECONDS, MemoryReader
from tests.support.termclient import Term

RAM = 0x21000000


@pytest.fixture(scope="module")
def image():
    return random.Random(41).randbytes(16 << 20)


@pytest.mark.parametrize(
    "seconds", [1.0, pytest.param(None, marks=pytest.mark.slow, id="profile-60s")]
)
def test_a_camera_kept_printing_resets(image, seconds):
    with Emulator(image, "mstar", at_prompt=True, baud=115200, watchdog=seconds) as emu:
        t = Term(emu.port, timeout=(seconds or 60) + 15)
        try:
            t.send(b"md.b 21000000 40000\r")  # 256 KiB of md.b: 110 s of output
            t.read_until(b"IPL gd156225", anywhere=True)  # the camera started again
        finally:
            t.close()
        assert emu.board.boots == 1


def test_reading_input_keeps_it_alive(image):
    """At the prompt U-Boot reads input: hours there never reset it."""
    with Emulator(image, "mstar", at_prompt=True, baud=115200, watchdog=0.5) as emu:
        t = Term(emu.port)
        try:
            for _ in range(4):
                t.command("md 21000000 10", b"MStar # ")  # 0.1 s of output each
                time.sleep(0.6)  # the time under test: idle at the prompt beyond the watchdog
        finally:
            t.close()
        assert emu.board.boots == 0


def read(emu: Emulator, tmp_path, md_seconds: float, length: int):
    t = Transport(emu.port)
    try:
        c = Console(t, "MStar # ")
        c.sync()
        reader = MemoryReader(c, chunk=length, md_seconds=md_seconds)
        return reader, reader.read_to_file(RAM, length, tmp_path / "out.bin")
    finally:
        t.close()


def test_the_reader_never_lets_the_watchdog_fire(image, tmp_path):
    with Emulator(image, "mstar", at_prompt=True, baud=115200, watchdog=2.0) as emu:
        reader, stats = read(emu, tmp_path, 0.5, 0x3000)  # one chunk, 4.4 s of md text
        assert emu.board.boots == 0
        assert stats.mds >= 8  # split: no md longer than 0.5 s of output
        assert (tmp_path / "out.bin").read_bytes() == emu.board.target.memory.read(RAM, 0x3000)


def test_without_the_split_the_same_read_would_reset_it(image, tmp_path):
    """The control: the test above can fail."""
    with Emulator(image, "mstar", at_prompt=True, baud=115200, watchdog=2.0) as emu:
        with pytest.raises(TargetReset):
            read(emu, tmp_path, 1000.0, 0x3000)
        assert emu.board.boots >= 1


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_real_numbers_chunk_1m_at_115200(image, tmp_path):
    """A 1 MiB chunk at 115200 is six minutes of md text: read as 20 s mds, verified as one,
    under the profile's own 60 s watchdog."""
    with Emulator(image, "mstar", at_prompt=True, baud=115200) as emu:
        assert emu.board.watchdog_s == 60
        t = Transport(emu.port)
        try:
            c = Console(t, "MStar # ")
            c.sync()
            reader = MemoryReader(c, chunk=0x100000)
            assert reader.md_seconds == MD_SECONDS == 20
            stats = reader.read_to_file(RAM, 0x40000, tmp_path / "out.bin")  # 95 s
        finally:
            t.close()
        assert emu.board.boots == 0 and stats.mds >= 5
        assert (tmp_path / "out.bin").read_bytes() == emu.board.target.memory.read(RAM, 0x40000)
