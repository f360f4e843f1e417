"""A one-line progress display (bytes, rate, ETA) on a terminal; silent otherwise.

It counts only what travels over the line: a reader that knows in advance which chunks
are erased (their crc32 is that of 0xFF, so they are not read with md) sets the total to
the rest, and reports bytes read, not addresses passed; so the rate and the ETA are those
of the md lines, not inflated or stretched by skipped chunks or by a resumed start."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from harness.base.units import human_bytes, human_time


class Progress:
    def __init__(self, total: int, stream: TextIO = sys.stderr, enabled: bool | None = None):
        self.total = total
        self.stream = stream
        self.enabled = stream.isatty() if enabled is None else enabled
        self.t0 = time.monotonic()
        self.first: int | None = None
        self.last_draw = 0.0

    def set_total(self, total: int) -> None:
        """What will travel, once the reader knows it (erased chunks and a resumed start left
        out); the count restarts from 0."""
        self.total = total
        self.first = None

    def __call__(self, done: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if self.first is None:
            self.first, self.t0 = done, now
        if now - self.last_draw < 0.2 and done < self.total:
            return
        self.last_draw = now
        elapsed = now - self.t0
        rate = (done - self.first) / elapsed if elapsed > 0 else 0.0
        eta = human_time((self.total - done) / rate) if rate > 0 else "?"
        self.stream.write(
            f"\r{human_bytes(done)} / {human_bytes(self.total)}  {rate:,.0f} B/s  ETA {eta}   "
        )
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
