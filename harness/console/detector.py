"""What the console says: the one place that decides what bytes from a U-Boot console mean.

Pure: bytes in, verdicts out. Every rule is anchored: a marker counts only at the start of
a line (never inside an md line's ASCII column, which can hold any text), a prompt only at
a line start and at the very end of what has been received (tbot's rule, U-Boot test/py's).

- RESET: the target started again (IPL, a U-Boot banner, `resetting ...`, an abort).
- LINUX: Linux is booting or running (kernel messages, BusyBox's answers).
- LOGIN / SHELL: a Linux login or shell prompt is the last thing received.
- PROMPT: the U-Boot prompt is the last thing received.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from enum import Enum
from typing import Iterable, Iterator, Optional


class Kind(Enum):
    PROMPT = "prompt"
    RESET = "reset"
    LINUX = "linux"
    LOGIN = "login"
    SHELL = "shell"


@dataclass(frozen=True)
class Sighting:
    kind: Kind
    text: bytes  # the line (or tail) that says it

    def describe(self) -> str:
        return self.text.strip()[:60].decode("latin-1")


MD_LINE = re.compile(rb"[0-9a-fA-F]{8,16}:")
# rule name -> pattern at the start of a line
RESET_RULES = {
    "ipl": re.compile(rb"IPL g[0-9a-f]{4,}"),
    "banner": re.compile(rb"(?:-{5,})?U-Boot 20\d\d\.\d\d"),
    "resetting": re.compile(rb"resetting \.\.\.|Resetting CPU"),
    "abort": re.compile(rb"data abort|prefetch abort|undefined instruction"),
}
BOOT_START = ("ipl", "banner")  # the lines a boot starts with
LINUX_RULES = {
    "kernel": re.compile(
        rb"Starting kernel|## Booting kernel|Uncompressing Linux|Booting Linux|Linux version \d"
        rb"|\[ *\d+\.\d{6}\] |Please press Enter to activate|Freeing unused kernel memory"
    ),
    "busybox": re.compile(rb"-?(?:sh|bash|ash): "),
}
LOGIN_TAIL = re.compile(rb"(?:^|\n)[\w.-]{0,40} ?login: ?\Z")
SHELL_TAIL = re.compile(
    rb"(?:^|\n)(?:[^\s:#$>]{0,40}|\[[^\]\n]{1,60}\]|[\w.-]+@[\w.-]+:[^\n]{0,60}) ?[#$] \Z"
)


class Detector:
    """Classifies console output. `prompts` are the U-Boot prompts known (given, found by
    synchronisation, or the usual ones); a rule can be set aside for a command that prints
    it on purpose (`version` prints a U-Boot banner line)."""

    def __init__(self, prompts: Iterable[bytes] = ()):
        self.prompts = tuple(p for p in prompts if p)
        self._ignored: set[str] = set()

    def with_prompt(self, prompt: bytes) -> Detector:
        d = Detector((prompt,))
        d._ignored = set(self._ignored)
        return d

    @contextlib.contextmanager
    def disabled(self, *rules: str) -> Iterator[None]:
        """These rules set aside while a command that prints their lines on purpose runs
        (as U-Boot's test/py `disable_check`): `version` prints the line a boot starts with."""
        before = set(self._ignored)
        self._ignored |= set(rules)
        try:
            yield
        finally:
            self._ignored = before

    def line(self, line: bytes, anywhere: bool = False) -> Optional[Sighting]:
        """One complete line (its ending stripped or not). With `anywhere`, a boot's first
        lines count also after the cut-off start of a line a reset interrupted (never in an
        md line): for bring-up, which reads no data."""
        line = line.rstrip(b"\r\n")
        while line.startswith(b"\r"):
            line = line[1:]
        if not line or MD_LINE.match(line):
            return None
        for name, rule in RESET_RULES.items():
            if name in self._ignored:
                continue
            found = rule.search(line) if anywhere and name in BOOT_START else rule.match(line)
            if found:
                return Sighting(Kind.RESET, line[found.start() :])
        for name, rule in LINUX_RULES.items():
            if name not in self._ignored and rule.match(line):
                return Sighting(Kind.LINUX, line)
        return None

    def lines(self, text: bytes) -> Optional[Sighting]:
        """The first sighting among the complete lines of `text`."""
        for raw in text.split(b"\n"):
            found = self.line(raw)
            if found:
                return found
        return None

    def prompt_at_end(self, buf: bytes | bytearray) -> Optional[bytes]:
        """The known U-Boot prompt that ends `buf` at the start of a line, if any."""
        for p in self.prompts:
            if buf.endswith(b"\n" + p) or bytes(buf) == p:
                return p
        return None

    def tail(self, buf: bytes | bytearray) -> Optional[Sighting]:
        """What the unterminated end of `buf` is: a U-Boot prompt, or Linux's."""
        p = self.prompt_at_end(buf)
        if p is not None:
            return Sighting(Kind.PROMPT, p)
        end = bytes(buf[-200:])
        last = end[end.rfind(b"\n") + 1 :]
        if MD_LINE.match(last.lstrip(b"\r")):
            return None
        if LOGIN_TAIL.search(end):
            return Sighting(Kind.LOGIN, last)
        if SHELL_TAIL.search(end):
            return Sighting(Kind.SHELL, last)
        return None
