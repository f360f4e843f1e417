"""U-Boot's commands: the table of a build is data (profiles/commands-*.json: name, maxargs,
repeat, usage and help exactly as that build prints them), the behaviour is code (one module
per family registers a handler by name). A command the table lists but no module handles
answers with its usage, as most commands do when called without what they need.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

if TYPE_CHECKING:
    from emulator.profile import Profile
    from emulator.uboot.target import Target

CMD_RET_SUCCESS = 0
CMD_RET_FAILURE = 1
CMD_RET_USAGE = -1

Handler = Callable[["Target", list, bool], int]
HANDLERS: dict[str, Handler] = {}


def handles(*names: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for name in names:
            HANDLERS[name] = fn
        return fn

    return register


def not_emulated(target: Target, argv: list, repeat: bool) -> int:
    return CMD_RET_USAGE


@dataclass(frozen=True)
class Command:
    name: str
    maxargs: int
    repeatable: bool
    usage: Optional[str]  # None: not listed by `help`
    help: Optional[str]  # None: "- No additional help available."
    run: Handler


@functools.cache
def load_table(path: Path) -> dict[str, dict]:
    return json.loads(path.read_text())["commands"]


def command_table(profile: Profile) -> dict[str, Command]:
    """The profile's commands, in the order of its table."""
    from emulator.uboot.commands import env, fat, load, md, mem, misc, mmc, sf  # noqa: F401  (they register their handlers)

    table = load_table(profile.command_table)
    names = profile.commands if profile.commands else tuple(table)
    out = {}
    for name in names:
        row = table[name]
        maxargs = row["maxargs"]
        out[name] = Command(
            name,
            profile.maxargs if maxargs == "CONFIG_SYS_MAXARGS" else int(maxargs),
            bool(row["repeatable"]),
            row["usage"],
            row["help"],
            HANDLERS.get(name, not_emulated),
        )
    return out


def find_command(cmds: dict[str, Command], word: str) -> Optional[Command]:
    """find_cmd_tbl(): the full name, or the one command the abbreviation fits."""
    name = word.split(".", 1)[0]
    if name in cmds:
        return cmds[name]
    hits = [c for n, c in cmds.items() if n.startswith(name)]
    return hits[0] if len(hits) == 1 else None


def usage_text(cmd: Command) -> str:
    """cmd_usage() with CONFIG_SYS_LONGHELP."""
    if cmd.help is None:
        return f"{cmd.name} - {cmd.usage}\n\nUsage:\n{cmd.name} - No additional help available.\n"
    return f"{cmd.name} - {cmd.usage}\n\nUsage:\n{cmd.name} {cmd.help}\n"
