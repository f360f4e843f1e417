"""Reads target memory through a console in verified chunks, journaled and resumable.

Each chunk is checked against the target's own `crc32`. Damage is located and only it is
read again: lines that fail their checks (or never arrived) by address; for a CRC mismatch
with clean-looking lines, CRCs of halves narrow it down. Chunks whose CRC is that of erased
flash (all 0xFF) are not read with md. A target without `crc32` is read twice with md, and
every line must come back the same twice (a weaker check: the summary says which was used).
Nothing guessed is ever written.

No single md prints for longer than MD_SECONDS at the line rate (measured on the way): the
MStar cameras run a 60 s hardware watchdog that only reading input kicks, so a long md
resets them. A large chunk is read as several mds and still verified as one.
"""

from __future__ import annotations

import os
import time
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Optional

from harness.base.errors import DumpError, ResumeRefused, UsageError, VerifyFailed
from harness.base.safeio import fsync_dir, open_update, refuse_link
from harness.console.mdcodec import (
    LINE_BYTES,
    MdFormat,
    bytes_within,
    decode_range,
    line_chars,
    text_chars,
)
from harness.console.session import Console, Garbled
from harness.read.journal import Entry, Journal

DEFAULT_CHUNK = 0x10000
LOCATE_MIN = 0x100  # bisection stops at 16 lines
PATIENCE = 1.5  # s of silence in md output (or a chunk's crc32) before asking for a prompt
MERGE_GAP = LINE_BYTES  # damaged lines at most one good line apart are read with one md
MD_SECONDS = 20.0  # the longest one md may print (the watchdog resets after 60 s)
CRC_REPLY_CHARS = 96
CHECKPOINT_S = 1.0  # how often the prefix of the chunk in progress is saved while md prints


@dataclass
class ReadStats:
    bytes: int = 0
    seconds: float = 0.0
    chunks: int = 0
    erased_chunks_skipped: int = 0
    lines_reread: int = 0
    bytes_reread: int = 0
    crc_mismatches: int = 0
    retries: int = 0
    resumed_from: int = 0
    partial_kept: int = 0  # bytes of the interrupted chunk a resumed run kept (checked)
    bytes_received: int = 0  # payload of the md lines decoded, damaged ones not counted
    mds: int = 0
    check: str = "crc32"  # or "double-md" (the target has no crc32)

    @property
    def rate(self) -> float:
        return (self.bytes - self.resumed_from) / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict:
        d = asdict(self)
        d["bytes_per_s"] = round(self.rate, 1)
        return d


def md_width(addr: int, length: int, widths: str = "lwb") -> int:
    """The widest md object that divides both the address and the length."""
    for w, size in (("l", 4), ("w", 2), ("b", 1)):
        if w in widths and addr % size == 0 and length % size == 0:
            return size
    return 1


@dataclass
class MemoryReader:
    console: Console
    chunk: int = DEFAULT_CHUNK
    skip_erased: bool = True
    max_rounds: int = 12
    progress: Optional[Callable[[int], None]] = None
    md_seconds: float = MD_SECONDS
    stats: ReadStats = field(default_factory=ReadStats)

    def __post_init__(self) -> None:
        self.endian = self.console.knowledge.endian  # the user's word (--endian), if given
        self._chunk: Optional[_Chunk] = None  # the chunk being read
        self._crc_ff: dict[int, int] = {}
        self._ahead: dict[tuple[int, int], int] = {}  # crc32s asked before their chunk is read
        self._travel_base = 0  # offset of the read's start, minus erased bytes passed
        self.console.require("md", "this tool reads memory with md")
        self.widths = self.console.md_widths()
        self.has_crc32 = self.console.offers("crc32")
        self.stats.check = "crc32" if self.has_crc32 else "double-md"

    # -- target requests ------------------------------------------------------------------
    def target_crc(self, addr: int, length: int) -> int:
        from harness.console.replies import ReplyError, crc32_reply

        try:
            return self.console.ask(
                f"crc32 {addr:x} {length:x}",
                lambda out: crc32_reply(out, addr, length),
                tries=8,
                on_retry=self._count_retry,
                patience=PATIENCE if length <= self.chunk else None,
                expect_chars=CRC_REPLY_CHARS,
                timeout=self.console.budget(CRC_REPLY_CHARS) + length / 20e6,
            )
        except (Garbled, ReplyError):
            raise VerifyFailed(
                f"no readable crc32 reply for 0x{addr:x}+0x{length:x}: the line is too noisy"
            ) from None

    def _count_retry(self) -> None:
        self.stats.retries += 1

    def max_md_bytes(self, width: int) -> int:
        """The most one md may cover: MD_SECONDS of its lines at the line rate."""
        return bytes_within(self.md_seconds * self.console.rate.chars_per_s, width)

    def _md(self, addr: int, length: int, width: int, lines: dict[int, bytes]) -> None:
        """md over [addr, addr+length) in pieces of at most max_md_bytes; good lines kept."""
        end = addr + length
        while addr < end:
            n = min(end - addr, self.max_md_bytes(width))
            self._md_once(addr, n, width, lines)
            addr += n

    def _md_once(self, addr: int, length: int, width: int, lines: dict[int, bytes]) -> None:
        suffix = {1: "b", 2: "w", 4: "l"}[width]
        per_line = line_chars(width)
        expect = text_chars(length, width)
        fmt = self.console.knowledge.md_format(width)
        chunk = self._chunk
        flight = _Inflight(addr, addr + length, fmt, lines)
        if chunk is not None:
            chunk.flight = flight
        save = chunk.save if chunk is not None else None
        report = self.progress if self.progress is not None and length > LINE_BYTES * 64 else None
        base = chunk.base if chunk is not None else 0
        last_save = time.monotonic()

        def on_lines(text: bytes) -> None:
            nonlocal last_save
            flight.chars += len(text)
            if report is not None:
                done = min(length, flight.chars // per_line * LINE_BYTES)
                report(base - self._travel_base + done)
            if save is not None:
                flight.pending.append(text)
                if time.monotonic() - last_save >= CHECKPOINT_S:
                    last_save = time.monotonic()
                    self.stats.bytes_received += flight.absorb()
                    save(lines)

        self.stats.mds += 1
        try:
            out = self.console.run(
                f"md.{suffix} {addr:x} {length // width:x}",
                on_lines=on_lines if (report or save) else None,
                patience=PATIENCE,
                expect_chars=expect,
            )
        except Garbled as exc:
            self.stats.retries += 1
            out = exc.partial  # the good md lines among what did arrive are kept
        if chunk is not None:
            chunk.flight = None
        good, _ = decode_range(out, addr, length, fmt)
        self.stats.bytes_received += max(0, len(good) * LINE_BYTES - flight.counted)
        lines.update(good)
        if not good and fmt.wrong_order >= 4 and self.endian:
            other = "big" if self.endian == "little" else "little"
            raise UsageError(
                f"the target's md lines read right only as {other}-endian: it is not "
                f"--endian {self.endian} (leave --endian out to find it from the data)"
            )

    # -- one chunk ------------------------------------------------------------------------
    def read_chunk(
        self,
        addr: int,
        n: int,
        save: Optional[Callable[[dict[int, bytes]], None]] = None,
        base: int = 0,
    ) -> bytes:
        """The verified bytes of [addr, addr+n). `save`: called now and then with the lines
        received so far (read_to_file's checkpoint); `base`: the bytes of the whole read
        before this chunk (for progress)."""
        chunk = self._chunk = _Chunk(addr, n, save, base)
        if not self.has_crc32:
            return self._read_twice(addr, n)
        target = self._ahead.pop((addr, n), None)
        if target is None:
            target = self.target_crc(addr, n)
        if self.skip_erased and target == self.crc_ff(n):
            self.stats.erased_chunks_skipped += 1
            return b"\xff" * n
        width = md_width(addr, n, self.widths)
        grid = list(range(addr, addr + n, LINE_BYTES))
        lines = chunk.lines
        todo = [(addr, n)]
        for round_ in range(self.max_rounds):
            for a, m in todo:
                if round_:
                    self.stats.lines_reread += -(-m // LINE_BYTES)
                    self.stats.bytes_reread += m
                self._md(a, m, width, lines)
            missing = [a for a in grid if a not in lines]
            if missing:
                todo = _ranges(missing, addr + n)
                continue
            data = b"".join(lines[a] for a in grid)
            got = zlib.crc32(data)
            if got == target:
                return data
            self.stats.crc_mismatches += 1
            again = self.target_crc(addr, n)
            if again == got:  # the first crc32 reply was damaged, the data is right
                return data
            target = again
            bad = self._locate(addr, n, data, target)
            for a0, m0 in bad:
                for a in range(a0, a0 + m0, LINE_BYTES):
                    lines.pop(a, None)
            todo = _ranges([a for a in grid if a not in lines], addr + n)
        also = (
            f", or the target is not --endian {self.endian} (leave --endian out to find the "
            "byte order from the data)"
            if self.endian
            else ""
        )
        raise VerifyFailed(
            f"0x{addr:x}+0x{n:x} could not be verified after {self.max_rounds} rounds: "
            f"the line is too noisy{also}"
        )

    def _read_twice(self, addr: int, n: int) -> bytes:
        """Without crc32: each line is accepted once two reads of it agree."""
        width = md_width(addr, n, self.widths)
        grid = list(range(addr, addr + n, LINE_BYTES))
        candidate: dict[int, bytes] = {}
        agreed: dict[int, bytes] = {}
        self._md(addr, n, width, candidate)
        for round_ in range(self.max_rounds):
            open_ = [a for a in grid if a not in agreed]
            if not open_:
                return b"".join(agreed[a] for a in grid)
            again: dict[int, bytes] = {}
            for a, m in _ranges(open_, addr + n):
                if round_:
                    self.stats.lines_reread += -(-m // LINE_BYTES)
                    self.stats.bytes_reread += m
                self._md(a, m, width, again)
            for a in open_:
                if a in again and candidate.get(a) == again[a]:
                    agreed[a] = again[a]
                elif a in again:
                    candidate[a] = again[a]
        raise VerifyFailed(
            f"0x{addr:x}+0x{n:x}: two reads never agreed after {self.max_rounds} rounds: "
            "the line is too noisy"
        )

    def crc_ff(self, n: int) -> int:
        if n not in self._crc_ff:
            self._crc_ff[n] = zlib.crc32(b"\xff" * n)
        return self._crc_ff[n]

    def _locate(self, addr: int, n: int, data: bytes, target: int) -> list[tuple[int, int]]:
        """Sub-ranges of a mismatching range whose target CRC differs from ours."""

        def local(lo: int, hi: int) -> int:
            return zlib.crc32(data[lo - addr : hi - addr])

        def bad(lo: int, hi: int) -> list[tuple[int, int]]:
            if hi - lo <= LOCATE_MIN:
                return [(lo, hi - lo)]
            mid = lo + (hi - lo) // 2 // LINE_BYTES * LINE_BYTES
            if self.target_crc(lo, mid - lo) == local(lo, mid):
                return bad(mid, hi)
            right_bad = self.target_crc(mid, hi - mid) != local(mid, hi)
            return bad(lo, mid) + (bad(mid, hi) if right_bad else [])

        return bad(addr, addr + n)

    # -- a whole range into a file ---------------------------------------------------------
    def read_to_file(
        self, start: int, length: int, path: Path, restart: bool = False, replace: bool = False
    ) -> ReadStats:
        """`replace`: an existing file at path is replaced once the new read is verified."""
        path = Path(path)
        if path.exists() and not replace:
            raise UsageError(f"{path} exists: remove it or choose another name")
        part = path.with_name(path.name + ".part")
        journal_path = path.with_name(path.name + ".journal")
        for name in (path, part, journal_path):
            refuse_link(name)  # before anything is read or written under these names
        header = {"start": start, "length": length, "chunk": self.chunk}
        journal = Journal.open(journal_path, header, restart=restart)
        done = journal.done if part.exists() else 0
        partial = journal.partial if part.exists() and self.has_crc32 else None
        if done and (part.stat().st_size < done or not self.has_crc32):
            done, partial = 0, None  # without crc32 the part read before cannot be checked
        if not done and partial is None:
            journal = Journal.open(journal.path, header, restart=True)
        t0 = time.monotonic()
        if done:
            journal.check_part(part)
        with open_update(part, create=not (done or partial)) as f:
            if done or partial:
                done = self._resume(start, done, partial, journal, f)
            self.stats.resumed_from = done
            f.truncate(done)
            f.seek(done)
            self._travel_base = done
            if self.progress:
                self._plan_travel(start, done, length)
                self.progress(0)
            try:
                self._read_chunks(start, length, done, f, journal)
            except (DumpError, KeyboardInterrupt):
                self._last_checkpoint()
                raise
            finally:
                self._chunk = None
        if self.has_crc32 and (done or length > self.chunk):
            self._check_whole(start, length, part)
        os.replace(part, path)
        fsync_dir(path.parent)
        journal.remove()
        self.stats.bytes = length
        self.stats.seconds = time.monotonic() - t0
        return self.stats

    def _plan_travel(self, start: int, done: int, length: int) -> None:
        """Ask every chunk's crc32 now (each is asked once anyway, and kept for its read):
        the progress then knows which chunks are erased and counts only what travels."""
        set_total = getattr(self.progress, "set_total", None)
        if set_total is None or not (self.has_crc32 and self.skip_erased):
            return
        travel = 0
        for off in range(done, length, self.chunk):
            n = min(self.chunk, length - off)
            crc = self.target_crc(start + off, n)
            self._ahead[(start + off, n)] = crc
            travel += 0 if crc == self.crc_ff(n) else n
        set_total(travel)

    def _read_chunks(self, start: int, length: int, done: int, f, journal: Journal) -> None:
        off = done
        while off < length:
            n = min(self.chunk, length - off)
            saver = self._saver(start, off, n, f, journal)
            data = self.read_chunk(start + off, n, save=saver, base=off)
            self._chunk = None
            f.seek(off)
            f.write(data)
            erased = data == b"\xff" * n
            journal.append(Entry(off, n, zlib.crc32(data), erased), f)
            self.stats.chunks += 1
            off += n
            if erased and self.skip_erased and self.has_crc32:
                self._travel_base += n  # it did not travel
            if self.progress:
                self.progress(off - self._travel_base)

    def _saver(self, start: int, off: int, n: int, f, journal: Journal):
        """The checkpoint of the chunk at `off`: its received prefix, in the .part file (at
        its place) and as a partial journal line, each time it has grown."""
        saved = 0

        def save(lines: dict[int, bytes]) -> None:
            nonlocal saved
            prefix = bytearray()
            a = start + off
            while a in lines and len(prefix) < n:
                prefix += lines[a]
                a += LINE_BYTES
            if len(prefix) <= saved:
                return
            f.seek(off)
            f.write(prefix)
            journal.append(Entry(off, len(prefix), zlib.crc32(prefix), False, partial=True), f)
            saved = len(prefix)

        return save

    def _last_checkpoint(self) -> None:
        """On the way out (a dead port, Ctrl-C, a reset): save what has arrived."""
        chunk = self._chunk
        if chunk is None or chunk.save is None or not self.has_crc32:
            return
        try:
            if chunk.flight is not None:
                self.stats.bytes_received += chunk.flight.absorb()
            chunk.save(chunk.lines)
        except (OSError, DumpError):
            pass  # the original failure is the one to report

    def _resume(self, start: int, done: int, partial: Optional[Entry], journal: Journal, f) -> int:
        """Check what an interrupted run left with the target's crc32: the verified chunks
        and the received prefix of the next one (one crc32 for both when all is well; else
        the longest prefix that matches, found by halving). Returns the bytes kept."""
        plen = 0
        if partial is not None:
            f.seek(done)
            body = f.read(partial.length)
            if len(body) == partial.length and zlib.crc32(body) == partial.crc:
                plen = partial.length
        f.seek(0)
        local = f.read(done + plen)
        if not local or self.target_crc(start, len(local)) == zlib.crc32(local):
            keep = plen
        else:
            if done and self.target_crc(start, done) != zlib.crc32(local[:done]):
                raise ResumeRefused(
                    "the target's memory changed since the interrupted read (power loss or "
                    "reset?): rerun with --restart"
                )
            lo, hi = 0, plen // LINE_BYTES  # lines of the prefix: good up to lo, not hi
            while hi - lo > 1:
                mid = (lo + hi) // 2
                got = self.target_crc(start + done, mid * LINE_BYTES)
                if got == zlib.crc32(local[done : done + mid * LINE_BYTES]):
                    lo = mid
                else:
                    hi = mid
            keep = lo * LINE_BYTES
        if keep:
            body = local[done : done + keep]
            journal.append(Entry(done, keep, zlib.crc32(body), False), f)
        self.stats.partial_kept = keep
        return done + keep

    def _check_whole(self, start: int, length: int, part: Path) -> None:
        crc = 0
        with open(part, "rb") as f:
            while block := f.read(1 << 20):
                crc = zlib.crc32(block, crc)
        if self.target_crc(start, length) != crc and self.target_crc(start, length) != crc:
            raise VerifyFailed(
                "the whole range no longer matches the target's crc32: its memory changed "
                "during the read; rerun with --restart"
            )


@dataclass
class _Inflight:
    """An md whose output is arriving: what it covers, its lines received and not yet
    decoded (while a checkpoint wants them), and how far it has been decoded."""

    addr: int
    end: int
    fmt: MdFormat
    lines: dict[int, bytes]
    pending: list[bytes] = field(default_factory=list)
    chars: int = 0  # characters of complete lines received
    next: int = 0  # the address after the last line decoded
    counted: int = 0  # payload bytes decoded while it ran

    def __post_init__(self) -> None:
        self.next = self.addr

    def absorb(self) -> int:
        """The pending lines decoded into `lines` (they are checked with the chunk, or on
        resume); the payload bytes that added."""
        text = b"".join(self.pending)
        self.pending.clear()
        if not text or self.next >= self.end:
            return 0
        good, _ = decode_range(text, self.next, self.end - self.next, self.fmt)
        if not good:
            return 0
        self.lines.update(good)
        self.next = max(good) + LINE_BYTES
        self.counted += len(good) * LINE_BYTES
        return len(good) * LINE_BYTES


@dataclass
class _Chunk:
    """The chunk being read: where it is, the lines of it received so far, how they are
    saved while it is read (read_to_file's checkpoint), and the md in flight."""

    addr: int
    n: int
    save: Optional[Callable[[dict[int, bytes]], None]] = None
    base: int = 0  # bytes of the whole read before this chunk
    lines: dict[int, bytes] = field(default_factory=dict)
    flight: Optional[_Inflight] = None


def _ranges(addrs: list[int], end: int) -> list[tuple[int, int]]:
    """Line addresses to (addr, length) ranges, merging near neighbours."""
    out: list[tuple[int, int]] = []
    for a in addrs:
        if out and a - (out[-1][0] + out[-1][1]) <= MERGE_GAP:
            lo = out[-1][0]
            out[-1] = (lo, min(a + LINE_BYTES, end) - lo)
        else:
            out.append((a, min(LINE_BYTES, end - a)))
    return out
