"""read-mem: exact bytes or a failure, never a wrong file; erased chunks; resume."""

import io
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.base.errors import DumpError, PortGone, TargetReset
from harness.read.reader import MemoryReader
from tests.support.run_cli import uboot_emu

RAM = 0x21000000


@pytest.fixture(scope="module")
def image():
    return random.Random(6).randbytes(16 << 20)


def payload(seed: int, n: int) -> bytes:
    """Memory worth reading: random bytes, text, and erased (0xFF) stretches."""
    r = random.Random(seed)
    out = bytearray()
    while len(out) < n:
        kind = r.randrange(3)
        k = r.randrange(1, 2048)
        out += (
            r.randbytes(k)
            if kind == 0
            else (b"\xff" * k if kind == 1 else b"MStar # => x" * (k // 12 + 1))
        )
    return bytes(out[:n])


def test_reads_exact_bytes_mstar(emulator, image, connect, tmp_path):
    emu = emulator(image, "mstar", at_prompt=True)
    data = payload(1, 0x9000)
    emu.board.target.memory.write(RAM, data)
    r = MemoryReader(connect(emu), chunk=0x1000)
    stats = r.read_to_file(RAM, len(data), tmp_path / "out.bin")
    assert (tmp_path / "out.bin").read_bytes() == data
    assert stats.bytes == len(data) and stats.lines_reread == 0
    assert sorted(os.listdir(tmp_path)) == ["out.bin"]  # no .part, no journal left


def test_reads_mapped_flash_and_skips_erased_chunks(emulator, golden_image, connect, tmp_path):
    emu = emulator(golden_image, "mainline", at_prompt=True)
    c = connect(emu)
    stats = MemoryReader(c, chunk=0x400).read_to_file(0x04000000, 0x4000, tmp_path / "a.bin")
    want = golden_image + b"\xff" * (0x4000 - len(golden_image))
    assert (tmp_path / "a.bin").read_bytes() == want
    assert stats.erased_chunks_skipped == 15
    stats = MemoryReader(c, chunk=0x400, skip_erased=False).read_to_file(
        0x04000000, 0x4000, tmp_path / "b.bin"
    )
    assert (tmp_path / "b.bin").read_bytes() == want and stats.erased_chunks_skipped == 0


@pytest.mark.parametrize("start, length", [(RAM + 1, 0x433), (RAM + 2, 0x102), (RAM, 0x1001)])
def test_unaligned_ranges_use_narrower_md(emulator, image, connect, tmp_path, start, length):
    emu = emulator(image, "mstar", at_prompt=True)
    expected = emu.board.target.memory.read(start, length)
    MemoryReader(connect(emu), chunk=0x400).read_to_file(start, length, tmp_path / "o.bin")
    assert (tmp_path / "o.bin").read_bytes() == expected
    assert emu.board.boots == 0  # md.l on an unaligned address would have aborted


FAULT_KINDS = [
    "flip=3e-4",
    "drop=3e-4",
    "dup=3e-4",
    "garbage=1e-4:6",
    "stall=2e-5:0.3",
    "reset@30000",
    "disconnect@30000:0.2",
    "in-flip=3e-3",
    "in-drop=3e-3",
]


def read_or_fail(emu, connect, tmp_path, start, length, chunk, **console):
    """(data, stats), or the DumpError the read stopped with (and then no output file)."""
    out = tmp_path / "out.bin"
    try:
        c = connect(emu, **console)
        stats = MemoryReader(c, chunk=chunk, max_rounds=12).read_to_file(start, length, out)
    except DumpError as exc:
        assert not out.exists()
        # without its traceback: its frames hold the emulator, in a cycle with this frame
        return exc.with_traceback(None)
    return out.read_bytes(), stats


@pytest.mark.parametrize("profile, ram", [("mstar", RAM), ("mainline", 0x41000000)])
@pytest.mark.parametrize("faults", FAULT_KINDS)
def test_each_fault_kind_alone(
    emulator, image, golden_image, connect, tmp_path, faults, profile, ram
):
    """A noisy line never stops a read and never corrupts it; a reset stops it as one
    (exit 5: RAM is gone); an unplugged port stops it as one (exit 6)."""
    img = image if profile == "mstar" else golden_image
    emu = emulator(img, profile, at_prompt=True, faults=faults, seed=3)
    data = payload(2, 0x4000)
    emu.board.target.memory.write(ram, data)
    res = read_or_fail(emu, connect, tmp_path, ram, len(data), 0x1000, quiet=0.1, timeout=1.0)
    if faults.startswith("reset"):
        assert isinstance(res, TargetReset), res
        assert emu.board.boots == 1
    elif faults.startswith("disconnect"):
        assert isinstance(res, PortGone), res
    else:
        assert isinstance(res, tuple), f"a noisy line must not stop a read: {res}"
        assert res[0] == data
        assert res[1].lines_reread + res[1].retries > 0 or faults.startswith("stall")


def test_kill_9_then_rerun_resumes(tmp_path, image):
    path = tmp_path / "flash.bin"
    path.write_bytes(image)
    link = tmp_path / "tty"
    with uboot_emu(path, link, "--at-prompt", "--baud", "115200"):
        out = tmp_path / "dump.bin"
        cmd = [
            sys.executable,
            "-m",
            "harness.cli",
            "read-mem",
            "--port",
            str(link),
            "--prompt",
            "MStar # ",
            "--start",
            "0x20000000",
            "--length",
            "0x3000",
            "--chunk",
            "0x400",
            "-o",
            str(out),
            "--json",
        ]
        first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        journal = tmp_path / "dump.bin.journal"
        deadline = time.monotonic() + 60
        while not (journal.exists() and len(journal.read_text().splitlines()) >= 4):
            assert time.monotonic() < deadline and first.poll() is None
            time.sleep(0.05)  # watching the journal grow
        first.send_signal(signal.SIGKILL)
        first.wait()
        done = sum(json.loads(x)["length"] for x in journal.read_text().splitlines()[1:])
        assert 0 < done < 0x3000 and not out.exists()
        second = subprocess.run(cmd, capture_output=True, timeout=120)
        assert second.returncode == 0, second.stderr
        summary = json.loads(second.stdout)
        assert summary["resumed_from"] == done  # only the interrupted chunk is read again
        data = out.read_bytes()
        assert len(data) == 0x3000
        # the emulator's DRAM at power-on, from its seed: garbage_fill(size, seed 0)
        from emulator.hw.memory import garbage_fill

        assert data == bytes(garbage_fill(0x3000, 0))
        assert not journal.exists()


def test_resume_refused_when_memory_changed(emulator, image, connect, tmp_path):
    emu = emulator(image, "mstar", at_prompt=True)
    c = connect(emu)
    out = tmp_path / "x.bin"

    def ctrl_c_halfway(done):
        if done >= 0x800:
            raise KeyboardInterrupt

    r = MemoryReader(c, chunk=0x400, progress=ctrl_c_halfway)
    with pytest.raises(KeyboardInterrupt):
        r.read_to_file(RAM, 0x1000, out)
    emu.board.target.memory.write(RAM, b"changed!")
    from harness.base.errors import ResumeRefused

    with pytest.raises(ResumeRefused, match="memory changed"):
        MemoryReader(c, chunk=0x400).read_to_file(RAM, 0x1000, out)
    with pytest.raises(ResumeRefused, match="different read"):
        MemoryReader(c, chunk=0x800).read_to_file(RAM, 0x1000, out)
    stats = MemoryReader(c, chunk=0x400).read_to_file(RAM, 0x1000, out, restart=True)
    assert out.read_bytes() == emu.board.target.memory.read(RAM, 0x1000)
    assert stats.resumed_from == 0
    assert zlib.crc32(out.read_bytes()) == zlib.crc32(emu.board.target.memory.read(RAM, 0x1000))


@pytest.mark.parametrize("line", [0, 10, 63])
def test_crc_mismatch_is_located_by_bisection(emulator, connect, tmp_path, line):
    """One bit flipped in a hex digit of md line `line` (0 -> 1: the line still parses and
    its ASCII column, '.', still agrees): only the CRC can tell, and the halves' CRCs find it.
    """
    from emulator.wire.faults import parse_spec

    emu = emulator(bytes(16 << 20), "mstar", at_prompt=True)
    emu.board.target.memory.write(RAM, bytes(0x400))
    c = connect(emu, "MStar # ")
    reader = MemoryReader(c, chunk=0x400)
    before = emu.line.sent
    reader.target_crc(RAM, 0x400)  # the same exchange the read starts with: its length
    crc_chars = emu.line.sent - before
    echo = len("md.l 21000000 100\r\n")
    at = crc_chars + echo + line * 67 + 10  # the first hex digit of the line's first word
    emu.line.inject(parse_spec(f"flip@{at}:0"))
    data = reader.read_chunk(RAM, 0x400)
    assert data == bytes(0x400)
    s = reader.stats
    assert s.crc_mismatches == 1
    assert 0 < s.lines_reread <= 16  # bisection stops at 16 lines; only that part is read again


def reopen(link: str):
    """The port, once its device node is back (polled, as udev users do)."""
    from harness.base.errors import PortError
    from harness.link.transport import Transport

    deadline = time.monotonic() + 5
    while True:
        try:
            return Transport(link)
        except PortError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


@settings(max_examples=12)
@given(cuts=st.lists(st.integers(200, 9000), min_size=1, max_size=4))
def test_interrupted_reads_resume_losing_only_the_lines_in_flight(tmp_path_factory, cuts):
    """The port vanishes (the emulator's disconnect fault) at random points of a 16 KiB read
    of one chunk; the same read is run again until it completes. The result is exact, and
    all runs together received at most the length plus one md line per interruption (the
    line the disconnect cut): what arrived before each interruption was kept."""
    from emulator import Emulator
    from emulator.wire.faults import parse_spec
    from harness.console.session import Console

    work = tmp_path_factory.mktemp("cut")
    data = payload(9, 0x4000)
    out = work / "out.bin"
    interruptions = 0
    log = io.BytesIO()  # everything the runs received: md lines counted independently
    link = str(work / "tty")
    with Emulator(bytes(16 << 20), "mstar", at_prompt=True, link=link) as emu:
        emu.board.target.memory.write(RAM, data)
        for cut in [*cuts, None]:
            t = reopen(link)
            try:
                c = Console(t, "MStar # ", quiet=0.1, timeout=1.0, log=log)
                c.sync()
                reader = MemoryReader(c, chunk=0x4000)
                reader.target_crc(RAM, 4)  # capabilities asked: the cut lands in the md
                if cut is not None:
                    emu.line.inject(parse_spec(f"disconnect@{cut}:0.05"))
                try:
                    reader.read_to_file(RAM, len(data), out)
                except PortGone:
                    interruptions += 1
            finally:
                t.close()
            if out.exists():
                break
    assert out.read_bytes() == data
    whole = rb"^2100[0-3][0-9a-f]{2}0:(?: [0-9a-f]{8}){4}    .{16}\r$"
    received = 16 * len(re.findall(whole, log.getvalue(), re.M))
    assert received >= len(data)  # the count sees the lines
    assert received <= len(data) + 16 * interruptions, (received, interruptions)
