"""`help`/`?`, `version`, `echo`, `reset`, `dcache`/`icache`, `bdinfo` (common/command.c
_do_help, common/cmd_version.c, cmd/echo.c, common/cmd_cache.c; bdinfo as captured)."""

from __future__ import annotations

from emulator.uboot.commands import (
    CMD_RET_FAILURE,
    CMD_RET_SUCCESS,
    CMD_RET_USAGE,
    command_table,
    find_command,
    handles,
    usage_text,
)
from emulator.uboot.target import Target
from emulator.wire.events import Reset


@handles("help", "?")
def do_help(t: Target, argv: list[str], repeat: bool) -> int:
    cmds = command_table(t.profile)
    width = t.profile.help_width
    if len(argv) == 1:
        for name in sorted(cmds):
            if t.ctrlc():
                return CMD_RET_FAILURE
            if cmds[name].usage is None:
                continue
            t.out(f"{name:<{width}}- {cmds[name].usage}\n")
        return CMD_RET_SUCCESS
    rc = CMD_RET_SUCCESS
    for name in argv[1:]:
        cmd = find_command(cmds, name)
        if cmd is None:
            t.out(
                f"Unknown command '{name}' - try 'help' without arguments "
                "for list of all known commands\n\n"
            )
        else:
            t.out(usage_text(cmd))
        rc = CMD_RET_FAILURE  # cmd_usage() returns 1 too
    return rc


@handles("version")
def do_version(t: Target, argv: list[str], repeat: bool) -> int:
    t.out(t.profile.version_text)
    return CMD_RET_SUCCESS


@handles("bdinfo")
def do_bdinfo(t: Target, argv: list[str], repeat: bool) -> int:
    if not t.profile.bdinfo:
        return CMD_RET_USAGE  # not emulated on this profile
    t.out(t.profile.bdinfo)
    return CMD_RET_SUCCESS


@handles("echo")
def do_echo(t: Target, argv: list[str], repeat: bool) -> int:
    args = argv[1:]
    newline = True
    if args and args[0] == "-n":
        newline = False
        args = args[1:]
    t.out(" ".join(args) + ("\n" if newline else ""))
    return CMD_RET_SUCCESS


@handles("reset")
def do_reset(t: Target, argv: list[str], repeat: bool) -> int:
    t.out(t.profile.reset_text)
    t.uart.flush()
    raise Reset("reset command")


@handles("dcache", "icache")
def do_cache(t: Target, argv: list[str], repeat: bool) -> int:
    which = argv[0].split(".", 1)[0]
    which = "dcache" if "dcache".startswith(which) and which.startswith("d") else "icache"
    if len(argv) == 2:
        state = {"off": False, "on": True}.get(argv[1])
        if state is not None:
            t.caches[which] = state
        return CMD_RET_SUCCESS
    if len(argv) == 1:
        label = "Data (writethrough) Cache" if which == "dcache" else "Instruction Cache"
        t.out(f"{label} is {'ON' if t.caches[which] else 'OFF'}\n")
        return CMD_RET_SUCCESS
    return CMD_RET_USAGE
