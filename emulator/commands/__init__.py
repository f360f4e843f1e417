"""U-Boot's commands, one module per family; `TABLE` maps names to commands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Union

from ..profile import Profile
from ..target import Target

Handler = Callable[[Target, list, bool], int]


@dataclass(frozen=True)
class Command:
    name: str
    maxargs: int
    repeatable: bool
    usage: str
    help: Union[str, Callable[[Profile], str]]
    run: Handler

    def help_text(self, profile: Profile) -> str:
        return self.help(profile) if callable(self.help) else self.help


def table() -> dict[str, Command]:
    from . import env, md, mem, misc, sf

    cmds: dict[str, Command] = {}
    for module in (env, md, mem, misc, sf):
        for c in module.COMMANDS:
            cmds[c.name] = c
    return cmds
