"""A U-Boot session on a transport: find the prompt, learn what the target offers, send a
command and get its output.

Rules (U-Boot's test/py, labgrid, tbot): a prompt counts only at the start of a line and at
the very end of what has been received; each command is typed in short pieces, each after
its echo came back, ending with a single `\\r`; nothing is typed while output is running;
lines that say the target reset or runs Linux end the command as a failure, never as data
(harness.console.detector decides, for every reader of the console); every wait has a bound that
the expected answer and the line rate set, so a target that trickles or never stops cannot
hold the tool. Only commands of the read-only policy are ever sent.

Synchronisation uses only what every U-Boot build has: a random word typed as a command is
answered `Unknown command 'WORD' - try 'help'` by the vendor's 2015.01 (simple parser, no
`echo`) and by mainline's hush alike, and a Linux shell answers it differently.
"""

from __future__ import annotations

import difflib
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Callable, Optional, TypeVar

from harness.base.errors import (
    CommandFailed,
    CommandMissing,
    NoPrompt,
    PortGone,
    TargetReset,
    VerifyFailed,
)
from harness.console.detector import Detector, Kind, Sighting
from harness.console.mdcodec import MdFormat
from harness.console.policy import ReadOnlyPolicy
from harness.console.replies import ReplyError
from harness.link.transport import Transport

ECHO_CHUNK = 16
KNOWN_PROMPTS = (b"MStar # ", b"SigmaStar # ", b"=> ")
ERROR_MARKERS = (
    b"Unknown command",
    b"## Error",
    b"ERROR",
    b"No SPI flash selected",
    b"Usage:",
    b"## Baudrate",
    b"Zero length",
)
SYNC_ATTEMPTS = 4
SYNC_STEP_S = 3.0  # one nonce's answer (a busy target may first finish a long command)
LINUX_HINT = "the target runs Linux, not U-Boot: power-cycle it and stop U-Boot with Enter"


T = TypeVar("T")


def _same(out: bytes) -> bytes:
    return out


class Garbled(Exception):
    """The exchange was damaged on the line (echo, reply or prompt); safe to try again.
    `partial`: the whole lines that did arrive before the damage was found (a reader keeps
    the good md lines among them)."""

    def __init__(self, why: str, partial: bytes = b""):
        super().__init__(why)
        self.partial = partial


class Unending(VerifyFailed):
    """An answer that overran its time or size bound: a hostile or broken target, not line
    noise; not tried again."""


def _md_widths(usage: bytes) -> str:
    """The widths `help md` offers (`md [.b, .w, .l] address [# of objects]`)."""
    found = re.search(rb"\[((?:\.[bwlq](?:, )?)+)\]", usage)
    if not found:
        return "bwl"
    return "".join(w for w in "bwlq" if b"." + w.encode() in found.group(1))


@dataclass
class Capabilities:
    """What the target's U-Boot offers, from `help` (and `help md`)."""

    commands: frozenset[str]
    md_widths: str = "bwl"

    def has(self, name: str) -> bool:
        return name in self.commands


@dataclass
class LineRate:
    """Characters per second the line carries: the nominal rate until measured on long
    outputs (md), then a running estimate."""

    nominal: float
    measured: Optional[float] = None
    samples: list[float] = field(default_factory=list)

    @property
    def chars_per_s(self) -> float:
        return self.measured if self.measured else self.nominal

    def record(self, chars: int, seconds: float) -> None:
        if chars < 2048 or seconds <= 0:
            return
        self.samples = (self.samples + [chars / seconds])[-5:]
        self.measured = min(self.samples)


def nonce() -> bytes:
    """A word no U-Boot command starts with (a digit right after the letter)."""
    return b"q%d%s" % (secrets.randbelow(10), secrets.token_hex(3).encode())


def unknown_line(word: bytes) -> bytes:
    return b"Unknown command '" + word + b"' - try 'help'\r\n"


class Console:
    def __init__(
        self,
        transport: Transport,
        prompt: Optional[str] = None,
        *,
        timeout: float = 10.0,
        quiet: float = 0.3,
        policy: Optional[ReadOnlyPolicy] = None,
        log: Optional[BinaryIO] = None,
        baud: int = 115200,
        capabilities: Optional[Capabilities] = None,
    ):
        """`capabilities`: what this U-Boot offers, if already known (the same camera after
        a reset); asked with `help` on first need otherwise."""
        self.t = transport
        self.prompt = prompt.encode("latin-1") if prompt else b""
        self.timeout = timeout
        self.quiet = quiet
        self.policy = policy or ReadOnlyPolicy()
        self.log = log
        self.buf = bytearray()
        self.detector = Detector((self.prompt,) if self.prompt else ())
        self.rate = LineRate(baud / 10.0 if baud else 11520.0)
        self._caps: Optional[Capabilities] = capabilities
        self._offers: dict[str, Optional[bytes]] = {}  # `help NAME` answers (None: absent)
        self._md_formats: dict[int, MdFormat] = {}

    # -- receiving -----------------------------------------------------------------------
    def _fill(self, timeout: float) -> bool:
        data = self.t.read(timeout)
        if data:
            self.buf += data
            if self.log:
                self.log.write(data)
        return bool(data)

    def check(self, text: bytes) -> None:
        """Raise if the complete lines of `text` say the target reset or runs Linux."""
        raise_for(self.detector.lines(text))

    def _prompt_like(self) -> bool:
        """After a quiet spell: does the last line look like a damaged prompt?"""
        tail = bytes(self.buf[self.buf.rfind(b"\n") + 1 :])
        p = self.prompt
        if not tail or abs(len(tail) - len(p)) > 2:
            return False
        return difflib.SequenceMatcher(None, tail, p).ratio() >= 0.6

    def budget(self, expect_chars: int) -> float:
        """The longest an answer of about `expect_chars` may take: twice its time at the
        line rate, and a dead-line timeout's worth of slack."""
        return self.timeout + 2.0 * expect_chars / self.rate.chars_per_s

    def read_to_prompt(
        self,
        timeout: Optional[float] = None,
        on_data: Optional[Callable[[int], None]] = None,
        patience: Optional[float] = None,
        expect_chars: int = 4096,
    ) -> bytes:
        """Output up to the next prompt (excluded); the prompt is consumed.

        After `patience` seconds of silence (default: the dead-line timeout) without a
        prompt, Ctrl-C asks for a fresh one: for a command whose output never pauses (md), a
        long silence means its prompt was lost on the line (Garbled). The whole answer may
        take at most `budget(expect_chars)` (or `timeout`) and be at most a few times
        `expect_chars` long: a target that trickles or never stops is interrupted and
        Unending is raised; after a Ctrl-C the prompt must come within the dead-line
        timeout, however much the target goes on printing."""
        deadline = time.monotonic() + (timeout or self.budget(expect_chars))
        cap = 4 * expect_chars + 65536
        dead = self.timeout
        scanned = 0
        t0 = last_rx = time.monotonic()
        stopped_at: Optional[float] = None  # when Ctrl-C was sent
        overrun: Optional[str] = None
        while True:
            if self.detector.prompt_at_end(self.buf):
                out = bytes(self.buf[: len(self.buf) - len(self.prompt)])
                self.buf.clear()
                self.check(out[scanned:])
                if overrun:
                    raise Unending(overrun)
                if stopped_at is not None:
                    raise Garbled("output lost; interrupted", partial=out)
                if len(out) > 2048:
                    self.rate.record(len(out), last_rx - t0)
                return out
            nl = self.buf.rfind(b"\n")
            if nl > scanned:
                self.check(bytes(self.buf[scanned:nl]))
                scanned = nl
            # (a Linux shell prompt is not looked for here: one appears only after kernel
            # lines, which say it first; a damaged U-Boot prompt looks like one)
            tail = self.detector.tail(self.buf)
            if tail and tail.kind is Kind.LOGIN:
                raise TargetReset(LINUX_HINT)
            now = time.monotonic()
            if stopped_at is None and (now > deadline or len(self.buf) > cap):
                got = len(self.buf)
                overrun = (
                    f"the target's answer did not end: {got} bytes where about "
                    f"{expect_chars} were expected"
                    if got > cap
                    else f"the target answers too slowly: {got} bytes in {now - t0:.0f} s for "
                    f"an answer of about {expect_chars} (the line carries "
                    f"{self.rate.chars_per_s:,.0f}/s)"
                )
                self.t.write(b"\x03")
                stopped_at = last_rx = now
                self.buf.clear()
                scanned = 0
                continue
            if stopped_at is not None and now - stopped_at > dead:
                if overrun:
                    raise Unending(overrun + ", and it did not stop at Ctrl-C")
                raise PortGone(f"no answer from the target for {dead:.0f} s: the line is dead")
            if len(self.buf) > cap:  # still printing after Ctrl-C: keep only the end
                cut = len(self.buf) - 4096
                del self.buf[:cut]
                scanned = max(0, scanned - cut)
            if self._fill(min(self.quiet, 0.25)):
                last_rx = time.monotonic()
                if on_data:
                    on_data(len(self.buf))
                continue
            idle = time.monotonic() - last_rx
            if idle >= self.quiet and self._prompt_like():
                partial = bytes(self.buf[: self.buf.rfind(b"\n") + 1])
                self.buf.clear()
                if overrun:
                    raise Unending(overrun)
                raise Garbled("damaged prompt", partial=partial)
            if stopped_at is None and idle >= (patience or dead):
                # the prompt may have been lost on the line: ask for a fresh one
                self.t.write(b"\x03")
                stopped_at = last_rx = time.monotonic()

    # -- sending -------------------------------------------------------------------------
    def _type(self, text: bytes) -> None:
        """Type `text` and Enter, each piece after its echo; Garbled if an echo differs."""
        if self.buf:
            self.check(bytes(self.buf))
            self.buf.clear()
        for i in range(0, len(text), ECHO_CHUNK):
            self.t.write(text[i : i + ECHO_CHUNK])
            want = min(len(text), i + ECHO_CHUNK)
            if not self._echoed(text[:want]):
                self._cancel_line()
                raise Garbled("echo differs from what was typed")
        self.t.write(b"\r")
        if not self._echoed(text + b"\r\n"):
            # Enter lost or changed on the way in, or its echo damaged on the way out: the
            # command may or may not run; Ctrl-C stops it either way.
            self._cancel_line()
            raise Garbled("no echo of Enter")
        del self.buf[: len(text) + 2]

    def _echoed(self, want: bytes) -> bool:
        """Wait for the echo of `want` (until the line is quiet); is it exactly that?"""
        n = len(want)
        last = time.monotonic()
        while len(self.buf) < n:
            if self._fill(0.05):
                last = time.monotonic()
            elif time.monotonic() - last > self.quiet:
                break
            k = min(len(self.buf), n)
            if self.buf[:k] != want[:k]:
                return False
        return self.buf[:n] == want

    def _cancel_line(self) -> None:
        """Ctrl-C discards the typed line (U-Boot answers <INTERRUPT> and a new prompt), or
        stops the command if its Enter got through and only the echo was damaged. Then a
        nonce pins down where the answers end: a prompt still on its way would otherwise
        land in the next command's echo, and that one's Ctrl-C in the next, and so on."""
        # What broke the echo may be the target rebooting: see a whole line of it first
        # (typing into a booting camera can make it miss the key that stops its autoboot).
        end = time.monotonic() + self.quiet
        while b"\n" not in self.buf and time.monotonic() < end:
            self._fill(0.05)
        while self._fill(0.02) and len(self.buf) < 512:
            pass
        self.check(bytes(self.buf[: self.buf.rfind(b"\n") + 1]))
        self.buf.clear()
        self.t.write(b"\x03")
        try:
            self._resync(time.monotonic() + self.timeout)
        except Garbled as exc:
            if not exc.partial:
                raise PortGone(
                    f"no answer from the target for {self.timeout:.0f} s: the line is dead"
                ) from None
            raise

    # -- the session ---------------------------------------------------------------------
    def sync(self) -> str:
        """Find (or confirm) the prompt; the session is then idle at it.

        Ctrl-C first: it stops whatever an earlier, interrupted session left running (an md
        of megabytes would otherwise go on for an hour; the md checks for it once per line)
        and is harmless at a prompt. Then two random words typed as commands: U-Boot answers
        each `Unknown command 'WORD' - try 'help'` and a prompt; the bytes between the first
        answer and the second word's echo are the prompt, and the second answer must end in
        the same prompt. No fixed silence is waited for: each step ends on its answer."""
        deadline = time.monotonic() + self.timeout
        self.buf.clear()
        self.t.write(b"\x03")
        saw_data = False
        for _ in range(SYNC_ATTEMPTS):
            try:
                prompt = self._resync(deadline)
            except Garbled as exc:
                saw_data = saw_data or bool(exc.partial)
                if time.monotonic() >= deadline:
                    break
                continue
            if self.prompt and prompt != self.prompt:
                raise NoPrompt(
                    f"the console's prompt is {prompt.decode('latin-1')!r}, "
                    f"not {self.prompt.decode('latin-1')!r} (--prompt)"
                )
            self.prompt = prompt
            self.detector = self.detector.with_prompt(prompt)
            return prompt.decode("latin-1")
        if saw_data:
            raise NoPrompt(
                "the console answers, but not as U-Boot does: is the baud rate right, and is "
                "U-Boot (not Linux, not another program) at the other end?"
            )
        raise NoPrompt(
            "no answer from the console: is the target powered, the wiring right (TX to RX), "
            "and U-Boot stopped at its prompt?"
        )

    def _resync(self, deadline: float) -> bytes:
        """Two nonces; the prompt between them. Garbled when an answer is not clean."""
        w1, w2 = nonce(), nonce()
        self.policy.check(w1.decode())
        self.policy.check(w2.decode())
        self.t.write(w1 + b"\r")
        first = self._expect(unknown_line(w1), w1, deadline)
        self.t.write(w2 + b"\r")
        second = self._expect(unknown_line(w2), w2, deadline, start=first)
        echo = self.buf.find(w2 + b"\r\n", first)
        prompt = bytes(self.buf[first:echo]) if echo >= first else b""
        if not prompt or len(prompt) > 40 or not prompt.isascii() or b"\n" in prompt:
            raise Garbled("no clean prompt between the two answers", partial=bytes(self.buf))
        end = time.monotonic() + min(SYNC_STEP_S, max(0.0, deadline - time.monotonic()))
        while not self.buf.endswith(b"\n" + prompt):
            if len(self.buf) > second + len(prompt) or time.monotonic() > end:
                raise Garbled("the second answer ends in another prompt", partial=bytes(self.buf))
            self._fill(0.05)
        self.buf.clear()
        return prompt

    def _expect(self, line: bytes, word: bytes, deadline: float, start: int = 0) -> int:
        """Read until `line` appears after `start`; the index just after it. Linux answers,
        resets and login prompts raise at once; anything else is Garbled at the step's end."""
        end = time.monotonic() + min(SYNC_STEP_S, max(0.0, deadline - time.monotonic()))
        while True:
            i = self.buf.find(line, start)
            if i >= 0:
                self.check(bytes(self.buf[start:i]))
                return i + len(line)
            self.check(bytes(self.buf[start : self.buf.rfind(b"\n") + 1]))
            if b"-sh: " + word in self.buf or b": " + word + b": not found" in self.buf:
                raise TargetReset(LINUX_HINT)
            tail = self.detector.tail(self.buf)
            if tail is not None and tail.kind is Kind.LOGIN:
                raise TargetReset(LINUX_HINT)
            if time.monotonic() > end:
                raise Garbled(f"no answer to {word!r}", partial=bytes(self.buf))
            if len(self.buf) > 1 << 20:  # endless output that never answers
                del self.buf[:-4096]
            self._fill(0.05)

    def release(self) -> None:
        """Another owner takes the port (the pytest plugin's pexpect console): what this
        console has buffered is not its any more; it synchronises again when it is back."""
        self.buf.clear()

    def capabilities(self) -> Capabilities:
        """What the target offers, all of it, asked once per session (`help`, then
        `help md`): for a job that needs the whole list (backup: sf, mmc, bdinfo)."""
        if self._caps is None:
            out = self._ask("help", 16384)
            names = set()
            for line in out.split(b"\n"):
                m = re.match(rb"^(\S+?)\s*- ", line)
                if m:
                    names.add(m.group(1).decode("latin-1"))
            if not names:
                raise NoPrompt("the target's `help` lists no commands: is this U-Boot?")
            widths = _md_widths(self._ask("help md", 512)) if "md" in names else "bwl"
            self._caps = Capabilities(frozenset(names), widths)
        return self._caps

    def offers(self, name: str) -> bool:
        """Whether the target has command `name`: from the whole list if it was asked for,
        else from `help NAME` alone (a few dozen characters where the whole list is
        thousands: a read of 32 KiB at 115200 spends 3 % of its time on `help` otherwise).
        U-Boot answers a name it lacks with `Unknown command`."""
        if self._caps is not None:
            return self._caps.has(name)
        if name not in self._offers:
            usage = self._ask(f"help {name}", 1024)
            self._offers[name] = usage if b"Unknown command" not in usage else None
        return self._offers[name] is not None

    def md_widths(self) -> str:
        """The object sizes this U-Boot's md offers (`.b`, `.w`, `.l`, perhaps `.q`)."""
        if self._caps is not None:
            return self._caps.md_widths
        return _md_widths(self._offers["md"] or b"") if self.offers("md") else "bwl"

    def partial_output(self) -> bytes:
        """What the command in progress has printed so far (for a reader that saves its
        progress while a long md runs)."""
        return bytes(self.buf)

    def md_format(self, width: int) -> MdFormat:
        """This session's md line format for `width` (learnt once, then fixed)."""
        if width not in self._md_formats:
            self._md_formats[width] = MdFormat(width=width)
        return self._md_formats[width]

    def require(self, name: str, why: str) -> None:
        if not self.offers(name):
            raise CommandMissing(f"the target's U-Boot has no `{name}` command: {why}")

    def _ask(self, command: str, expect_chars: int) -> bytes:
        try:
            return self.ask(command, check_errors=False, expect_chars=expect_chars)
        except Garbled:
            raise NoPrompt(
                f"the console does not answer `{command}` reliably: check the wiring"
            ) from None

    def ask(
        self,
        command: str,
        parse: Callable[[bytes], T] = _same,  # type: ignore[assignment]
        *,
        tries: int = 4,
        on_retry: Callable[[], None] = lambda: None,
        **run: Any,
    ) -> T:
        """`run(command)` and `parse` its output, asked again when the exchange was damaged
        on the line (Garbled, or a ReplyError from `parse`): for commands that may repeat
        (reads, checksums). After `tries` damaged exchanges the last error is raised; any
        other error (a CommandFailed from `parse`, say) at once."""
        for attempt in range(tries):
            try:
                return parse(self.run(command, **run))
            except (Garbled, ReplyError):
                on_retry()
                if attempt == tries - 1:
                    raise
        raise AssertionError("tries must be at least 1")

    def run(
        self,
        command: str,
        *,
        timeout: Optional[float] = None,
        check_errors: bool = True,
        on_data: Optional[Callable[[int], None]] = None,
        patience: Optional[float] = None,
        expect_chars: int = 4096,
    ) -> bytes:
        """Send one read-only command; its output (without echo and prompt).

        Raises Garbled when the exchange was damaged on the line (the caller may retry)."""
        self.policy.check(command)
        self._type(command.encode("ascii"))
        quiet = ("banner",) if command.split()[0] == "version" else ()
        with self.detector.disabled(*quiet):
            out = self.read_to_prompt(timeout, on_data, patience, expect_chars)
        if check_errors:
            for line in out.split(b"\n"):
                if line.startswith(ERROR_MARKERS):
                    raise CommandFailed(f"{command!r}: {line.strip().decode('latin-1')}")
        return out


def raise_for(seen: Optional[Sighting]) -> None:
    if seen is None:
        return
    if seen.kind is Kind.RESET:
        raise TargetReset(f"the target reset ({seen.describe()!r})")
    if seen.kind in (Kind.LINUX, Kind.LOGIN, Kind.SHELL):
        raise TargetReset(LINUX_HINT)
