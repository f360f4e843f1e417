"""U-Boot's command interpreter: the loop, the two parsers and command dispatch.

- "simple" is cli_simple.c of the vendor's 2015.01 (`# CONFIG_HUSH_PARSER is not set`):
  `;` separates commands (not inside '...', not after `\\`), process_macros() expands
  `$(var)`/`${var}` (not inside '...') and removes one level of `\\`, parse_line() splits at
  blanks (at most CONFIG_SYS_MAXARGS words), an empty line repeats the last command unless
  it failed, was not repeatable or was stopped by Ctrl-C.
- "hush" is the part of cli_hush.c a console user meets (mainline): quotes removed, `$var`
  expanded, the repeat flag kept across lines as get_user_input() keeps it.

cmd_process() (common/command.c) finds a command by its full name or a unique abbreviation
(the name before any `.`), prints `Unknown command` otherwise, checks the argument count and
prints the usage when a command asks for it.
"""

from __future__ import annotations

import weakref
from enum import Enum
from typing import Optional

from emulator.uboot.commands import CMD_RET_USAGE, command_table, find_command, usage_text
from emulator.uboot.lineedit import LineEditor
from emulator.uboot.target import Target

CMD_FLAG_REPEAT = 1


# -- the simple parser (cli_simple.c) ------------------------------------------------------


def split_separators(cmd: str) -> list[str]:
    """The `;`-separated tokens of a line, as cli_simple_run_command() finds them."""
    tokens = []
    start = 0
    while start < len(cmd):
        inquotes = False
        sep = start
        while sep < len(cmd):
            prev = cmd[sep - 1] if sep > 0 else "\0"
            if cmd[sep] == "'" and prev != "\\":
                inquotes = not inquotes
            if not inquotes and cmd[sep] == ";" and sep != start and prev != "\\":
                break
            sep += 1
        tokens.append(cmd[start:sep])
        start = sep + 1
    return tokens


class Macro(Enum):
    """cli_simple_process_macros()'s states (0-3 in the C source)."""

    TEXT = 0  # copying
    DOLLAR = 1  # after a `$`
    NAME = 2  # inside `${...}` or `$(...)`
    QUOTED = 3  # inside '...'


def process_macros(text: str, env: dict[str, str], limit: int) -> str:
    """cli_simple_process_macros(): `${var}` and `$(var)` expanded (outside '...'), quotes
    and one level of backslashes removed; the output is cut at CONFIG_SYS_CBSIZE."""
    out: list[str] = []
    room = limit
    state = Macro.TEXT
    prev = "\0"
    name_start = 0
    i = 0
    while i < len(text) and room:
        c = text[i]
        i += 1
        if state is not Macro.QUOTED and c == "\\" and prev != "\\":
            if i >= len(text):
                break
            prev = c
            c = text[i]
            i += 1
        if state is Macro.TEXT:
            if c == "'" and prev != "\\":
                state = Macro.QUOTED
            elif c == "$" and prev != "\\":
                state = Macro.DOLLAR
            else:
                out.append(c)
                room -= 1
        elif state is Macro.DOLLAR:
            if c in "({":
                state = Macro.NAME
                name_start = i
            else:
                state = Macro.TEXT
                out.append("$")
                room -= 1
                if room:
                    out.append(c)
                    room -= 1
        elif state is Macro.NAME:
            if c in ")}":
                value = env.get(text[name_start : i - 1])
                if value is not None:
                    take = value[:room]
                    out.extend(take)
                    room -= len(take)
                state = Macro.TEXT
        else:  # Macro.QUOTED
            if c == "'" and prev != "\\":
                state = Macro.TEXT
            else:
                out.append(c)
                room -= 1
        prev = c
    if not room and out:
        out.pop()  # *(output - 1) = 0
    return "".join(out)


def parse_line(text: str, maxargs: int) -> tuple[list[str], bool]:
    """cli_simple_parse_line(): words split at blanks; (argv, too_many)."""
    argv: list[str] = []
    i = 0
    n = len(text)
    while len(argv) < maxargs:
        while i < n and text[i] in " \t":
            i += 1
        if i >= n:
            return argv, False
        j = i
        while j < n and text[j] not in " \t":
            j += 1
        argv.append(text[i:j])
        if j >= n:
            return argv, False
        i = j + 1
    return argv, True


# -- hush (the parts a console user meets) --------------------------------------------------


def hush_split(line: str, env: dict[str, str]) -> list[list[str]]:
    """Commands separated by `;` (outside quotes), words with quotes removed and `$var` or
    `${var}` expanded outside single quotes."""
    commands: list[list[str]] = []
    argv: list[str] = []
    word: list[str] = []
    in_word = False
    quote = ""
    i = 0
    while i < len(line):
        ch = line[i]
        i += 1
        if ch == "\\" and quote != "'" and i < len(line):
            word.append(line[i])
            in_word = True
            i += 1
            continue
        if quote:
            if ch == quote:
                quote = ""
            elif ch == "$" and quote == '"':
                value, i = _hush_var(line, i, env)
                word.extend(value)
            else:
                word.append(ch)
            continue
        if ch in "'\"":
            quote = ch
            in_word = True
        elif ch == "$":
            value, i = _hush_var(line, i, env)
            word.extend(value)
            in_word = in_word or bool(value)
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


def _hush_var(line: str, i: int, env: dict[str, str]) -> tuple[str, int]:
    if i < len(line) and line[i] == "{":
        end = line.find("}", i)
        if end < 0:
            return "$", i
        return env.get(line[i + 1 : end], ""), end + 1
    j = i
    while j < len(line) and (line[j].isalnum() or line[j] == "_"):
        j += 1
    if j == i:
        return "$", i
    return env.get(line[i:j], ""), j


class Shell:
    def __init__(self, target: Target):
        self.target = target
        self.cmds = command_table(target.profile)
        p = target.profile
        self.editor = LineEditor(p.cbsize, target.out, target.uart.getc)
        self.last = ""
        self.repeat_flag = False  # hush's flag_repeat
        # for `run`; weakly, so that target and shell form no reference cycle (the board's
        # DRAM then goes as soon as the emulator stops, not at the next cycle collection)
        me = weakref.WeakMethod(self.run_command)
        target.run_command = lambda line, flag: m(line, flag) if (m := me()) else -1

    # -- cmd_process ------------------------------------------------------------------
    def process(self, argv: list[str], flag: int) -> tuple[int, Optional[bool]]:
        """cmd_process(): (rc, the command's `repeatable` if it was called, else None)."""
        cmd = find_command(self.cmds, argv[0])
        if cmd is None:
            self.target.out(f"Unknown command '{argv[0]}' - try 'help'\n")
            return 1, None
        called: Optional[bool] = None
        if len(argv) > cmd.maxargs:
            rc = CMD_RET_USAGE
        else:
            rc = cmd.run(self.target, argv, flag & CMD_FLAG_REPEAT != 0)
            called = cmd.repeatable
        if rc == CMD_RET_USAGE:
            self.target.out(usage_text(cmd))
            rc = 1
        return rc, called

    def run_command(self, line: str, flag: int = 0) -> int:
        """run_command_repeatable(): 1 if repeatable, 0 if not, -1 on failure."""
        if self.target.profile.parser == "hush":
            return self._run_hush(line, flag)
        target = self.target
        target.ctrlc_pressed = False
        if not line:
            return -1
        size = target.profile.cbsize
        if len(line) >= size:
            target.out("## Command too long!\n")
            return -1
        repeatable = True
        rc = 0
        for token in split_separators(line):
            argv, too_many = parse_line(
                process_macros(token, target.env, size), target.profile.maxargs
            )
            if too_many:
                target.out(f"** Too many args (max. {target.profile.maxargs}) **\n")
            if not argv:
                rc = -1
                continue
            code, rep = self.process(argv, flag)
            if code:
                rc = -1
            if rep is not None:
                repeatable = repeatable and rep
            if target.ctrlc_pressed:
                return -1
        return rc if rc else int(repeatable)

    def _run_hush(self, line: str, flag: int) -> int:
        rc = 0
        repeatable = True
        for argv in hush_split(line, self.target.env):
            rc, rep = self.process(argv, flag)
            if rep is not None:
                repeatable = repeatable and rep
        return -1 if rc else int(repeatable)

    # -- the loop ---------------------------------------------------------------------
    def loop(self, show_first_prompt: bool = True) -> None:
        """cli_simple_loop() / hush's parse_file_outer(): never returns (power loss and
        resets unwind it)."""
        target = self.target
        prompt = target.profile.prompt
        show = show_first_prompt
        rc = 1
        while True:
            if show:
                target.out(prompt)
            show = True
            target.uart.kick_watchdog()
            line = self.editor.read()
            if target.profile.parser == "hush":
                self._hush_step(line)
                continue
            flag = 0
            if line:
                self.last = line
            elif line == "":
                flag |= CMD_FLAG_REPEAT
            if line is None:
                target.out("<INTERRUPT>\n")
            else:
                rc = self.run_command(self.last, flag)
            if rc <= 0:
                self.last = ""

    def _hush_step(self, line: Optional[str]) -> None:
        """get_user_input() and the run that follows, for one line."""
        target = self.target
        if line is None:
            target.out("<INTERRUPT>\n")
            self.repeat_flag = False
            return
        if target.ctrlc_pressed:
            self.repeat_flag = False
        target.ctrlc_pressed = False
        if line:
            self.last = line
            self.repeat_flag = True
            flag = 0
        elif self.repeat_flag:
            flag = CMD_FLAG_REPEAT
        else:
            return
        for argv in hush_split(self.last, target.env):
            _, rep = self.process(argv, flag)
            if rep is not None:
                self.repeat_flag = self.repeat_flag and rep
