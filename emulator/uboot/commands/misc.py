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
def do_help(target: Target, argv: list[str], repeat: bool) -> int:
    cmds = command_table(target.profile)
    width = target.profile.help_width
    if len(argv) == 1:
        for name in sorted(cmds):
            if target.ctrlc():
                return CMD_RET_FAILURE
            if cmds[name].usage is None:
                continue
            target.out(f"{name:<{width}}- {cmds[name].usage}\n")
        return CMD_RET_SUCCESS
    rc = CMD_RET_SUCCESS
    for name in argv[1:]:
        cmd = find_command(cmds, name)
        if cmd is None:
            target.out(
                f"Unknown command '{name}' - try 'help' without arguments "
                "for list of all known commands\n\n"
            )
        else:
            target.out(usage_text(cmd))
        rc = CMD_RET_FAILURE  # cmd_usage() returns 1 too
    return rc


@handles("version")
def do_version(target: Target, argv: list[str], repeat: bool) -> int:
    target.out(target.profile.version_text)
    return CMD_RET_SUCCESS


@handles("bdinfo")
def do_bdinfo(target: Target, argv: list[str], repeat: bool) -> int:
    if not target.profile.bdinfo:
        return CMD_RET_USAGE  # not emulated on this profile
    target.out(target.profile.bdinfo)
    return CMD_RET_SUCCESS


@handles("echo")
def do_echo(target: Target, argv: list[str], repeat: bool) -> int:
    args = argv[1:]
    newline = True
    if args and args[0] == "-n":
        newline = False
        args = args[1:]
    target.out(" ".join(args) + ("\n" if newline else ""))
    return CMD_RET_SUCCESS


@handles("reset")
def do_reset(target: Target, argv: list[str], repeat: bool) -> int:
    target.out(target.profile.reset_text)
    target.uart.flush()
    raise Reset("reset command")


@handles("dcache", "icache")
def do_cache(target: Target, argv: list[str], repeat: bool) -> int:
    which = argv[0].split(".", 1)[0]
    which = "dcache" if "dcache".startswith(which) and which.startswith("d") else "icache"
    if len(argv) == 2:
        state = {"off": False, "on": True}.get(argv[1])
        if state is not None:
            target.caches[which] = state
        return CMD_RET_SUCCESS
    if len(argv) == 1:
        label = "Data (writethrough) Cache" if which == "dcache" else "Instruction Cache"
        target.out(f"{label} is {'ON' if target.caches[which] else 'OFF'}\n")
        return CMD_RET_SUCCESS
    return CMD_RET_USAGE
