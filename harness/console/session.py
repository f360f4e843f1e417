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

from harness.base.deadline import Deadline
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
class Knowledge:
    """What is known of one target's U-Boot, learnt on the way and kept for all its sessions
    (the console after a reset is given the same object): the whole command list once a job
    asked for it, `help NAME` answers asked one by one (None: no such command), and how its
    md prints lines of each object width. `endian`: the user's word on the byte order
    (--endian), else found from the data."""

    capabilities: Optional[Capabilities] = None
    usages: dict[str, Optional[bytes]] = field(default_factory=dict)
    md_formats: dict[int, MdFormat] = field(default_factory=dict)
    endian: Optional[str] = None

    def md_format(self, width: int) -> MdFormat:
        """The md line format for `width` (learnt from the first lines, then fixed)."""
        if width not in self.md_formats:
            fmt = MdFormat(width=width)
            if self.endian and width > 1:
                fmt.endian = self.endian
            self.md_formats[width] = fmt
        return self.md_formats[width]


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


@dataclass
class _Answer:
    """One command's answer while it arrives: its bounds, how far its lines were watched,
    and, once Ctrl-C was sent (the stopping phase), when and why."""

    bound: Deadline
    cap: int  # bytes
    expect_chars: int
    on_lines: Optional[Callable[[bytes], None]] = None
    started: float = field(default_factory=time.monotonic)
    last_rx: float = field(default_factory=time.monotonic)
    scanned: int = 0  # the buffer up to here has been watched (complete lines)
    stopped: Optional[float] = None  # when Ctrl-C was sent
    overrun: Optional[str] = None  # the bound it passed, if that was why


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
        knowledge: Optional[Knowledge] = None,
    ):
        """`knowledge`: what is known of this U-Boot already (the same camera after a reset:
        asked once per camera); a new one, filled on first need, otherwise."""
        self.transport = transport
        self.prompt = prompt.encode("latin-1") if prompt else b""
        self.timeout = timeout
        self.quiet = quiet
        self.policy = policy or ReadOnlyPolicy()
        self.log = log
        self.buf = bytearray()
        self.detector = Detector((self.prompt,) if self.prompt else ())
        self.rate = LineRate(baud / 10.0 if baud else 11520.0)
        self.knowledge = knowledge if knowledge is not None else Knowledge()

    # -- receiving -----------------------------------------------------------------------
    def _fill(self, timeout: float) -> bool:
        data = self.transport.read(timeout)
        if data:
            self.buf += data
            if self.log:
                self.log.write(data)
        return bool(data)

    def _watch(self, text: bytes) -> None:
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
        on_lines: Optional[Callable[[bytes], None]] = None,
        patience: Optional[float] = None,
        expect_chars: int = 4096,
    ) -> bytes:
        """Output up to the next prompt (excluded); the prompt is consumed. `on_lines` is
        given the complete lines of the output as they arrive (after the detector saw them).

        Two phases. Receiving: the whole answer may take at most `budget(expect_chars)` (or
        `timeout`) and be at most a few times `expect_chars` long; a target that trickles or
        never stops is interrupted (Ctrl-C) and Unending is raised. After `patience` seconds
        of silence (default: the dead-line timeout) without a prompt, Ctrl-C asks for a
        fresh one: for a command whose output never pauses (md), a long silence means its
        prompt was lost on the line (Garbled). Stopping (after a Ctrl-C): the prompt must
        come within the dead-line timeout, however much the target goes on printing."""
        answer = _Answer(
            bound=Deadline(timeout or self.budget(expect_chars)),
            cap=4 * expect_chars + 65536,
            expect_chars=expect_chars,
            on_lines=on_lines,
        )
        while True:
            if self.detector.prompt_at_end(self.buf):
                return self._answered(answer)
            self._watch_lines(answer)
            if answer.stopped is None:
                if answer.bound.expired() or len(self.buf) > answer.cap:
                    self._overran(answer)
                    continue
            else:
                self._stopping(answer)
            if self._fill(min(self.quiet, 0.25)):
                answer.last_rx = time.monotonic()
                continue
            self._silent(answer, patience or self.timeout)

    def _answered(self, answer: _Answer) -> bytes:
        """The prompt ended the output: the output, or why it cannot be used."""
        out = bytes(self.buf[: len(self.buf) - len(self.prompt)])
        self.buf.clear()
        self._watch(out[answer.scanned :])
        if answer.overrun:
            raise Unending(answer.overrun)
        if answer.stopped is not None:
            raise Garbled("output lost; interrupted", partial=out)
        if len(out) > 2048:
            self.rate.record(len(out), answer.last_rx - answer.started)
        return out

    def _watch_lines(self, answer: _Answer) -> None:
        """The complete lines received since the last look: to the detector, then to the
        caller. (A Linux shell prompt is not looked for here: one appears only after kernel
        lines, which say it first; a damaged U-Boot prompt looks like one.)"""
        nl = self.buf.rfind(b"\n")
        if nl > answer.scanned:
            lines = bytes(self.buf[answer.scanned : nl + 1])
            self._watch(lines)
            answer.scanned = nl + 1
            if answer.on_lines is not None and answer.overrun is None:
                answer.on_lines(lines)
        tail = self.detector.tail(self.buf)
        if tail and tail.kind is Kind.LOGIN:
            raise TargetReset(LINUX_HINT)

    def _overran(self, answer: _Answer) -> None:
        """Receiving -> stopping: the answer passed its time or size bound."""
        got, spent = len(self.buf), time.monotonic() - answer.started
        answer.overrun = (
            f"the target's answer did not end: {got} bytes where about "
            f"{answer.expect_chars} were expected"
            if got > answer.cap
            else f"the target answers too slowly: {got} bytes in {spent:.0f} s for an answer "
            f"of about {answer.expect_chars} (the line carries {self.rate.chars_per_s:,.0f}/s)"
        )
        self._interrupt(answer)
        self.buf.clear()
        answer.scanned = 0

    def _interrupt(self, answer: _Answer) -> None:
        self.transport.write(b"\x03")
        answer.stopped = answer.last_rx = time.monotonic()

    def _stopping(self, answer: _Answer) -> None:
        """After Ctrl-C: the prompt within the dead-line timeout; of a target that goes on
        printing meanwhile only the end is kept."""
        assert answer.stopped is not None
        if time.monotonic() - answer.stopped > self.timeout:
            if answer.overrun:
                raise Unending(answer.overrun + ", and it did not stop at Ctrl-C")
            raise PortGone(f"no answer from the target for {self.timeout:.0f} s: the line is dead")
        if len(self.buf) > answer.cap:
            cut = len(self.buf) - 4096
            del self.buf[:cut]
            answer.scanned = max(0, answer.scanned - cut)

    def _silent(self, answer: _Answer, patience: float) -> None:
        """Nothing arrived: a damaged prompt after a quiet spell (Garbled), or, receiving,
        a silence longer than `patience` (the prompt may have been lost: ask for a fresh
        one)."""
        idle = time.monotonic() - answer.last_rx
        if idle >= self.quiet and self._prompt_like():
            partial = bytes(self.buf[: self.buf.rfind(b"\n") + 1])
            self.buf.clear()
            if answer.overrun:
                raise Unending(answer.overrun)
            raise Garbled("damaged prompt", partial=partial)
        if answer.stopped is None and idle >= patience:
            self._interrupt(answer)

    # -- sending -------------------------------------------------------------------------
    def _type(self, text: bytes) -> None:
        """Type `text` and Enter, each piece after its echo; Garbled if an echo differs."""
        if self.buf:
            self._watch(bytes(self.buf))
            self.buf.clear()
        for i in range(0, len(text), ECHO_CHUNK):
            self.transport.write(text[i : i + ECHO_CHUNK])
            want = min(len(text), i + ECHO_CHUNK)
            if not self._echoed(text[:want]):
                self._cancel_line()
                raise Garbled("echo differs from what was typed")
        self.transport.write(b"\r")
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
        self._watch(bytes(self.buf[: self.buf.rfind(b"\n") + 1]))
        self.buf.clear()
        self.transport.write(b"\x03")
        try:
            self._resync(Deadline(self.timeout))
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
        deadline = Deadline(self.timeout)
        self.buf.clear()
        self.transport.write(b"\x03")
        saw_data = False
        for _ in range(SYNC_ATTEMPTS):
            try:
                prompt = self._resync(deadline)
            except Garbled as exc:
                saw_data = saw_data or bool(exc.partial)
                if deadline.expired():
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

    def _resync(self, deadline: Deadline) -> bytes:
        """Two nonces; the prompt between them. Garbled when an answer is not clean."""
        w1, w2 = nonce(), nonce()
        self.policy.check(w1.decode())
        self.policy.check(w2.decode())
        self.transport.write(w1 + b"\r")
        first = self._expect(unknown_line(w1), w1, deadline)
        self.transport.write(w2 + b"\r")
        second = self._expect(unknown_line(w2), w2, deadline, start=first)
        echo = self.buf.find(w2 + b"\r\n", first)
        prompt = bytes(self.buf[first:echo]) if echo >= first else b""
        if not prompt or len(prompt) > 40 or not prompt.isascii() or b"\n" in prompt:
            raise Garbled("no clean prompt between the two answers", partial=bytes(self.buf))
        step = deadline.within(SYNC_STEP_S)
        while not self.buf.endswith(b"\n" + prompt):
            if len(self.buf) > second + len(prompt) or step.expired():
                raise Garbled("the second answer ends in another prompt", partial=bytes(self.buf))
            self._fill(0.05)
        self.buf.clear()
        return prompt

    def _expect(self, line: bytes, word: bytes, deadline: Deadline, start: int = 0) -> int:
        """Read until `line` appears after `start`; the index just after it. Linux answers,
        resets and login prompts raise at once; anything else is Garbled at the step's end."""
        step = deadline.within(SYNC_STEP_S)
        while True:
            i = self.buf.find(line, start)
            if i >= 0:
                self._watch(bytes(self.buf[start:i]))
                return i + len(line)
            self._watch(bytes(self.buf[start : self.buf.rfind(b"\n") + 1]))
            if b"-sh: " + word in self.buf or b": " + word + b": not found" in self.buf:
                raise TargetReset(LINUX_HINT)
            tail = self.detector.tail(self.buf)
            if tail is not None and tail.kind is Kind.LOGIN:
                raise TargetReset(LINUX_HINT)
            if step.expired():
                raise Garbled(f"no answer to {word!r}", partial=bytes(self.buf))
            if len(self.buf) > 1 << 20:  # endless output that never answers
                del self.buf[:-4096]
            self._fill(0.05)

    def release(self) -> None:
        """Another owner takes the port (the pytest plugin's pexpect console): what this
        console has buffered is not its any more; it synchronises again when it is back."""
        self.buf.clear()

    def capabilities(self) -> Capabilities:
        """What the target offers, all of it, asked once per camera (`help`, then `help
        md`): for a job that needs the whole list (backup: sf, mmc, bdinfo)."""
        known = self.knowledge
        if known.capabilities is None:
            out = self._ask("help", 16384)
            names = set()
            for line in out.split(b"\n"):
                m = re.match(rb"^(\S+?)\s*- ", line)
                if m:
                    names.add(m.group(1).decode("latin-1"))
            if not names:
                raise NoPrompt("the target's `help` lists no commands: is this U-Boot?")
            widths = self.md_widths() if "md" in names else "bwl"
            known.capabilities = Capabilities(frozenset(names), widths)
        return known.capabilities

    def offers(self, name: str) -> bool:
        """Whether the target has command `name`: from the whole list if it was asked for,
        else from `help NAME` alone (a few dozen characters where the whole list is
        thousands: a read of 32 KiB at 115200 spends 3 % of its time on `help` otherwise).
        U-Boot answers a name it lacks with `Unknown command`."""
        known = self.knowledge
        if known.capabilities is not None:
            return known.capabilities.has(name)
        if name not in known.usages:
            usage = self._ask(f"help {name}", 1024)
            known.usages[name] = usage if b"Unknown command" not in usage else None
        return known.usages[name] is not None

    def md_widths(self) -> str:
        """The object sizes this U-Boot's md offers (`.b`, `.w`, `.l`, perhaps `.q`)."""
        known = self.knowledge
        if known.capabilities is not None:
            return known.capabilities.md_widths
        if not self.offers("md"):
            return "bwl"
        return _md_widths(known.usages["md"] or b"")

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
        on_lines: Optional[Callable[[bytes], None]] = None,
        patience: Optional[float] = None,
        expect_chars: int = 4096,
    ) -> bytes:
        """Send one read-only command; its output (without echo and prompt), its complete
        lines also given to `on_lines` as they arrive.

        Raises Garbled when the exchange was damaged on the line (the caller may retry)."""
        self.policy.check(command)
        self._type(command.encode("ascii"))
        quiet = ("banner",) if command.split()[0] == "version" else ()
        with self.detector.disabled(*quiet):
            out = self.read_to_prompt(timeout, on_lines, patience, expect_chars)
        if check_errors:
            for line in out.split(b"\n"):
                if line.startswith(ERROR_MARKERS):
                    raise CommandFailed(f"{command!r}: {line.strip().decode('latin-1')}")
        return out

    def transfer(self, command: str, ready: bytes, send: Callable[[Any, bytes], bytes]) -> bytes:
        """A command that receives a file over the line (`loady ADDR`): typed (the policy
        checks it), then once the target has printed the line holding `ready`,
        `send(transport, what_came_after_it)` runs the protocol and returns what the target
        sent after it; the output from there to the prompt is returned."""
        self.policy.check(command)
        self._type(command.encode("ascii"))
        deadline = time.monotonic() + self.timeout
        while (at := self.buf.find(ready)) < 0 or self.buf.find(b"\n", at) < 0:
            if time.monotonic() > deadline:
                partial = bytes(self.buf)
                self.buf.clear()
                raise Garbled(f"`{command}` did not get ready", partial=partial)
            self.buf += self.transport.read(0.1)
        end = self.buf.find(b"\n", at) + 1
        after = bytes(self.buf[end:])
        self.buf.clear()
        self.buf += send(self.transport, after)
        return self.read_to_prompt(None, None, None, 512)


def raise_for(seen: Optional[Sighting]) -> None:
    if seen is None:
        return
    if seen.kind is Kind.RESET:
        raise TargetReset(f"the target reset ({seen.describe()!r})")
    if seen.kind in (Kind.LINUX, Kind.LOGIN, Kind.SHELL):
        raise TargetReset(LINUX_HINT)
