"""`help`/`?`, `version`, `echo` and `reset`."""

from __future__ import annotations

from ..events import Reset
from ..target import CMD_FAILURE, CMD_SUCCESS, Target
from . import Command


def do_help(t: Target, argv: list[str], repeat: bool) -> int:
    from .. import shell

    cmds = shell.enabled_commands(t.profile)
    if len(argv) == 1:
        for name in sorted(cmds):
            t.out(f"{name:<{t.profile.help_width}}- {cmds[name].usage}\n")
        return CMD_SUCCESS
    rc = CMD_SUCCESS
    for name in argv[1:]:
        cmd = shell.find_command(cmds, name)
        if cmd is None:
            t.out(
                f"Unknown command '{name}' - try 'help' without arguments "
                "for list of all known commands\n\n"
            )
            rc = CMD_FAILURE
        else:
            t.out(shell.usage_text(t.profile, cmd))
    return rc


def do_version(t: Target, argv: list[str], repeat: bool) -> int:
    t.out(t.profile.version_text)
    return CMD_SUCCESS


def do_echo(t: Target, argv: list[str], repeat: bool) -> int:
    text = " ".join(argv[1:])
    if text.endswith("\\c"):
        t.out(text[:-2])
    else:
        t.out(text + "\n")
    return CMD_SUCCESS


def do_reset(t: Target, argv: list[str], repeat: bool) -> int:
    t.out(t.profile.reset_text)
    t.uart.flush()
    raise Reset("reset command")


HELP_HELP = (
    "\n\t- print brief description of all commands\n"
    "help command ...\n\t- print detailed usage of 'command'"
)

COMMANDS = [
    Command("help", 64, True, "print command description/usage", HELP_HELP, do_help),
    Command("?", 64, True, "alias for 'help'", "", do_help),
    Command("version", 1, True, "print monitor, compiler and linker version", "", do_version),
    Command(
        "echo",
        64,
        False,
        "echo args to console",
        "[args..]\n    - echo args to console; \\c suppresses newline",
        do_echo,
    ),
    Command("reset", 1, False, "Perform RESET of the CPU", "", do_reset),
]
