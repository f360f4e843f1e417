"""A U-Boot session on a transport: find the prompt, send a command, get its output.

Rules (U-Boot's test/py, labgrid, tbot): a prompt counts only at the start of a line and at
the very end of what has been received; each command is typed in short pieces, each after its
echo came back, ending with a single `\\r`; nothing is typed while output is running; lines
that start with a reset or error marker end the command as a failure, never as data; a
timeout only detects a dead line. Only commands of the read-only policy are ever sent.
"""

from __future__ import annotations

import difflib
import re
import secrets
import time
from typing import BinaryIO, Callable, Optional

from .errors import CommandFailed, NoPrompt, PortGone, TargetReset
from .policy import ReadOnlyPolicy
from .transport import Transport

ECHO_CHUNK = 16
SYNC_QUIET = 0.2  # while looking for the prompt, this much silence ends an answer
_MD_LINE = re.compile(rb"[0-9a-f]{8,16}:")
# Lines (at their start) that mean the target reset or is booting: never data.
RESET_MARKERS = (
    b"IPL ",
    b"U-Boot 20",
    b"resetting ...",
    b"data abort",
    b"Starting kernel",
    b"Booting Linux",
    b"Linux version",
)
LINUX_MARKERS = (b"Starting kernel", b"Linux version", b"Booting Linux")
RESET_BANNER = re.compile(rb"-{5,}U-Boot ")
ERROR_MARKERS = (
    b"Unknown command",
    b"## Error",
    b"ERROR",
    b"No SPI flash selected",
    b"Usage:",
    b"## Baudrate",
)


class Garbled(Exception):
    """The exchange was damaged on the line (echo, reply or prompt); safe to try again."""


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
    ):
        self.t = transport
        self.prompt = prompt.encode("latin-1") if prompt else b""
        self.timeout = timeout
        self.quiet = quiet
        self.policy = policy or ReadOnlyPolicy()
        self.log = log
        self.buf = bytearray()
        self.last_output = b""  # what arrived before the exchange was found damaged
        self.banner_expected = False  # `version` prints the line a reboot starts with

    # -- receiving -----------------------------------------------------------------------
    def _fill(self, timeout: float) -> bool:
        data = self.t.read(timeout)
        if data:
            self.buf += data
            if self.log:
                self.log.write(data)
        return bool(data)

    def _drain(self, quiet: float, limit: float, until: Optional[bytes] = None) -> bytes:
        """Everything until the line is quiet for `quiet` s (at most `limit` s), or until
        what arrived ends with `until`."""
        end = time.monotonic() + limit
        while time.monotonic() < end and self._fill(quiet):
            if until and self.buf.endswith(until):
                break
        out = bytes(self.buf)
        self.buf.clear()
        return out

    def check_reset(self, text: bytes) -> None:
        for line in text.split(b"\n"):
            line = line.strip(b"\r")
            if _MD_LINE.match(line) or (self.banner_expected and line.startswith(b"U-Boot 20")):
                continue
            if line.startswith(RESET_MARKERS) or RESET_BANNER.match(line):
                if b"Linux" in line or b"kernel" in line:
                    raise TargetReset(
                        "the target is booting Linux: power-cycle it and stop U-Boot with Enter"
                    )
                raise TargetReset(f"the target reset ({line[:60].decode('latin-1')!r})")

    def _at_prompt(self) -> bool:
        p = self.prompt
        return self.buf.endswith(b"\n" + p) or bytes(self.buf) == p

    def _prompt_like(self) -> bool:
        """After a quiet spell: does the last line look like a damaged prompt?"""
        tail = bytes(self.buf[self.buf.rfind(b"\n") + 1 :])
        p = self.prompt
        if not tail or abs(len(tail) - len(p)) > 2:
            return False
        return difflib.SequenceMatcher(None, tail, p).ratio() >= 0.6

    def read_to_prompt(
        self,
        timeout: Optional[float] = None,
        on_data: Optional[Callable[[int], None]] = None,
        patience: Optional[float] = None,
    ) -> bytes:
        """Output up to the next prompt (excluded); the prompt is consumed.

        After `patience` seconds of silence (default: the dead-line timeout) without a prompt,
        Ctrl-C asks for a fresh one: for a command whose output never pauses (md), a long
        silence means its prompt was lost on the line."""
        timeout = timeout or self.timeout
        scanned = 0
        last_rx = time.monotonic()
        interrupted = False
        while True:
            if self._at_prompt():
                out = bytes(self.buf[: len(self.buf) - len(self.prompt)])
                self.buf.clear()
                self.check_reset(out[scanned:])
                self.last_output = out
                if interrupted:
                    raise Garbled("output lost; interrupted")
                return out
            nl = self.buf.rfind(b"\n")
            if nl > scanned:
                self.check_reset(bytes(self.buf[scanned:nl]))
                scanned = nl
            if self._fill(min(self.quiet, 0.25)):
                last_rx = time.monotonic()
                if on_data:
                    on_data(len(self.buf))
                continue
            idle = time.monotonic() - last_rx
            if idle >= self.quiet and self._prompt_like():
                self.last_output = bytes(self.buf[: self.buf.rfind(b"\n") + 1])
                self.buf.clear()
                raise Garbled("damaged prompt")
            if idle >= (timeout if interrupted or not patience else patience):
                if interrupted:
                    raise PortGone(
                        f"no answer from the target for {timeout:.0f} s: the line is dead"
                    )
                # the prompt may have been lost on the line: ask for a fresh one
                self.t.write(b"\x03")
                interrupted = True
                last_rx = time.monotonic()

    # -- sending -------------------------------------------------------------------------
    def _type(self, text: bytes) -> None:
        """Type `text` and Enter, each piece after its echo; Garbled if an echo differs."""
        self.last_output = b""
        if self.buf:
            self.check_reset(bytes(self.buf))
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
        stops the command if its Enter got through and only the echo was damaged. Everything
        is read until the line is quiet: a prompt still on its way would otherwise land in
        the next command's echo, and that one's Ctrl-C in the next, and so on."""
        self.check_reset(bytes(self.buf))  # what broke the echo may be the target rebooting
        self.t.write(b"\x03")
        end = time.monotonic() + self.timeout
        while not self._fill(0.25):  # the first byte of the answer may take a while
            if time.monotonic() > end:
                raise PortGone(
                    f"no answer from the target for {self.timeout:.0f} s: the line is dead"
                )
        self.check_reset(self._drain(SYNC_QUIET, self.timeout))

    # -- the session ---------------------------------------------------------------------
    def sync(self, attempts: int = 4) -> str:
        """Find (or confirm) the prompt; the session is then idle at it.

        Ctrl-C first: it stops whatever an earlier, interrupted session left running (an md
        of megabytes would otherwise go on for an hour) and is harmless at a prompt. Then an
        `echo` of a random word: an empty line would repeat the last command, which may be
        that md. The last line after its answer is the prompt; Enter must bring the same line
        back; `version` must answer as U-Boot does."""
        for _ in range(attempts):
            known = self.prompt or None  # with a known prompt, no need to wait for quiet
            self.t.write(b"\x03")
            self.check_reset_or_linux(self._drain(SYNC_QUIET, self.timeout, until=known))
            nonce = f"sync{secrets.token_hex(4)}".encode()
            self.t.write(b"echo " + nonce + b"\r")
            answer = nonce + b"\r\n" + known if known else None
            got = self._drain(SYNC_QUIET, self.timeout, until=answer)
            self.check_reset_or_linux(got)
            if nonce + b"\r\n" not in got.replace(b"echo " + nonce, b""):
                continue  # no answer, or damaged on the line
            tail = got[got.rfind(b"\n") + 1 :]
            if not tail:
                continue
            if self.prompt and tail != self.prompt:
                if not tail.isascii() or len(tail) > 40:
                    continue
                raise NoPrompt(
                    f"the console's prompt is {tail.decode('latin-1')!r}, "
                    f"not {self.prompt.decode('latin-1')!r} (--prompt)"
                )
            self.t.write(b"\r")  # repeats the echo at most
            again = self._drain(SYNC_QUIET, self.timeout, until=b"\n" + tail)
            if again.endswith(b"\n" + tail):
                self.prompt = tail
                self._confirm_uboot()
                return self.prompt.decode("latin-1")
        raise NoPrompt(
            "no answer from the console: is the target powered, the wiring right (TX to RX), "
            "and U-Boot stopped at its prompt?"
        )

    @staticmethod
    def check_reset_or_linux(text: bytes) -> None:
        if any(m in text for m in LINUX_MARKERS + (b"login:",)):
            raise TargetReset(
                "the target is booting Linux: power-cycle it and stop U-Boot with Enter"
            )

    def _confirm_uboot(self) -> None:
        for _ in range(3):
            try:
                out = self.run("version", check_errors=False)
            except Garbled:
                continue
            if b"U-Boot" in out:
                return
            raise NoPrompt(
                "the console answers, but not as U-Boot does (a Linux shell?): power-cycle "
                "the target and stop it in U-Boot"
            )
        raise NoPrompt("the console does not answer reliably: check the wiring")

    def run(
        self,
        command: str,
        *,
        timeout: Optional[float] = None,
        check_errors: bool = True,
        on_data: Optional[Callable[[int], None]] = None,
        patience: Optional[float] = None,
    ) -> bytes:
        """Send one read-only command; its output (without echo and prompt).

        Raises Garbled when the exchange was damaged on the line (the caller may retry)."""
        self.policy.check(command)
        self._type(command.encode("ascii"))
        self.banner_expected = command.split()[0] == "version"
        try:
            out = self.read_to_prompt(timeout, on_data, patience)
        finally:
            self.banner_expected = False
        if check_errors:
            for line in out.split(b"\n"):
                if line.startswith(ERROR_MARKERS):
                    raise CommandFailed(f"{command!r}: {line.strip().decode('latin-1')}")
        return out
