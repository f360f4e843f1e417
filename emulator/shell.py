"""U-Boot's command line: the line editor (echo, backspace, buffer limit, Ctrl-C) and the
dispatcher (abbreviations, `;`-separated commands, repeat of the last command on an empty line).
"""

from __future__ import annotations

import functools

from .commands import Command, table
from .profile import Profile
from .target import CMD_SUCCESS, CMD_USAGE, Target

CTRL_C = 0x03


@functools.cache
def _all() -> dict[str, Command]:
    return table()


def enabled_commands(profile: Profile) -> dict[str, Command]:
    cmds = _all()
    return {n: cmds[n] for n in profile.commands if n in cmds}


def find_command(cmds: dict[str, Command], word: str) -> Command | None:
    """Exact name (before any `.suffix`), else a unique abbreviation, as find_cmd() does."""
    name = word.split(".", 1)[0]
    if name in cmds:
        return cmds[name]
    hits = [c for n, c in cmds.items() if n.startswith(name)] if name else []
    return hits[0] if len(hits) == 1 else None


def usage_text(profile: Profile, cmd: Command) -> str:
    return f"{cmd.name} - {cmd.usage}\n\nUsage:\n{cmd.name} {cmd.help_text(profile)}\n"


def split_commands(line: str) -> list[list[str]]:
    """Split on `;` and white space outside quotes (U-Boot's simple parser)."""
    commands: list[list[str]] = []
    argv: list[str] = []
    word: list[str] = []
    in_word = False
    quote = ""
    for ch in line:
        if quote:
            if ch == quote:
                quote = ""
            else:
                word.append(ch)
            continue
        if ch in "'\"":
            quote = ch
            in_word = True
        elif ch == ";":
            if in_word:
                argv.append("".join(word))
            commands.append(argv)
            argv, word, in_word = [], [], False
        elif ch in " \t":
            if in_word:
                argv.append("".join(word))
                word, in_word = [], False
        else:
            word.append(ch)
            in_word = True
    if in_word:
        argv.append("".join(word))
    commands.append(argv)
    return [a for a in commands if a]


class Shell:
    def __init__(self, target: Target):
        self.t = target
        self.cmds = enabled_commands(target.profile)
        self.last = ""

    def readline(self, prompt: str) -> str | None:
        """One line typed at the prompt; None for Ctrl-C."""
        uart = self.t.uart
        if prompt:
            self.t.out(prompt)
        buf: list[str] = []
        limit = self.t.profile.cbsize - 2
        while True:
            c = uart.getc()
            assert c is not None
            if c in (0x0D, 0x0A):
                uart.puts(b"\n")
                return "".join(buf)
            if c == CTRL_C:
                return None
            if c in (0x08, 0x7F):
                if buf:
                    buf.pop()
                    uart.puts(b"\b \b")
                continue
            if c == 0x15:  # ^U: erase the line
                uart.puts(b"\b \b" * len(buf))
                buf.clear()
                continue
            if len(buf) < limit:
                buf.append(chr(c))
                uart.puts(bytes((c,)))
            else:
                uart.puts(b"\a")

    def run(self, line: str, repeat: bool) -> int:
        """Run a command line; 1 if it may be repeated, 0 if not, -1 on failure."""
        commands = split_commands(line)
        if not commands:
            return -1
        repeatable = True
        for argv in commands:
            cmd = find_command(self.cmds, argv[0])
            if cmd is None:
                self.t.out(f"Unknown command '{argv[0]}' - try 'help'\n")
                return -1
            if len(argv) > cmd.maxargs:
                rc = CMD_USAGE
            else:
                rc = cmd.run(self.t, argv, repeat)
            if rc == CMD_USAGE:
                self.t.out(usage_text(self.t.profile, cmd))
                return -1
            if rc != CMD_SUCCESS:
                return -1
            repeatable = repeatable and cmd.repeatable
        return 1 if repeatable else 0

    def loop(self, show_first_prompt: bool = True) -> None:
        """cli_simple_loop(): never returns (power loss and resets unwind it)."""
        prompt = self.t.profile.prompt
        show = show_first_prompt
        rc = 0
        while True:
            line = self.readline(prompt if show else "")
            show = True
            if line is None:
                self.t.out("<INTERRUPT>\n")
                continue
            repeat = not line
            if line:
                self.last = line
            rc = self.run(self.last, repeat) if self.last else -1
            if rc <= 0:
                self.last = ""
