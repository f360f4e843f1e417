"""Progress counts what travels: erased chunks (skipped by crc32) and a resumed start are
left out of the total, so the ETA shown is the md lines' own, not hours for seconds."""

from __future__ import annotations

import io
import re
import time

from harness.cli.progress import Progress
from harness.read.reader import MemoryReader

CHUNK = 0x1000


def mostly_erased() -> bytes:
    flash = bytearray(b"\xff" * (16 << 20))
    for k in (3, 17, 40):  # three chunks of data among 64
        flash[k * CHUNK : (k + 1) * CHUNK] = bytes((k + i) & 0xFF for i in range(CHUNK))
    return bytes(flash)


def shown(text: str) -> list[tuple[str, str, str]]:
    return re.findall(r"\r(\S+ \S+) / (\S+ \S+) .*?ETA (\S+)", text)


def seconds(eta: str) -> float:
    m = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", eta)
    assert m, eta
    h, mi, s = (int(x or 0) for x in m.groups())
    return h * 3600 + mi * 60 + s


def test_erased_chunks_are_not_counted_and_the_eta_holds(emulator, connect, tmp_path):
    image = mostly_erased()
    emu = emulator(image, "mstar", at_prompt=True, baud=115200)
    console = connect(emu)
    out = io.StringIO()
    bar = Progress(64 * CHUNK, stream=out, enabled=True)
    reader = MemoryReader(console, chunk=CHUNK, progress=bar)
    t0 = time.monotonic()
    reader.read_to_file(0x14000000, 64 * CHUNK, tmp_path / "r.bin")
    took = time.monotonic() - t0
    assert (tmp_path / "r.bin").read_bytes() == image[: 64 * CHUNK]
    assert bar.total == 3 * CHUNK  # what travelled: the three chunks of data
    rows = shown(out.getvalue())
    assert rows and rows[-1][0] == rows[-1][1] == "12.0 KiB"
    etas = [seconds(e) for _, _, e in rows if e != "?"]
    assert etas and max(etas) <= 2 * took + 2  # never hours for a read of seconds
