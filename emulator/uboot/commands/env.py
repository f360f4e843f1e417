"""`printenv`, `setenv`, `env` and `run` (common/cmd_nvedit.c), with the baudrate variable's
callback (drivers/serial/serial.c on_baudrate)."""

from __future__ import annotations

from typing import Optional

from emulator.uboot.commands import CMD_RET_FAILURE, CMD_RET_SUCCESS, CMD_RET_USAGE, handles
from emulator.uboot.target import Target


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\\n")


def _export(target: Target, hide_dot: bool) -> tuple[str, int]:
    """hexport_r(): the sorted `name=value` lines, and the size it reports (its buffer:
    the text as it counts it, per entry `env_export_overhead` bytes beyond name and value,
    plus the final NUL)."""
    items = [(k, v) for k, v in sorted(target.env.items()) if not (hide_dot and k.startswith("."))]
    text = "".join(f"{k}={_escape(v)}\n" for k, v in items)
    extra = target.profile.env_export_overhead
    size = sum(len(k) + len(_escape(v)) + extra for k, v in items) + 1
    return text, size


@handles("printenv")
def do_printenv(target: Target, argv: list[str], repeat: bool) -> int:
    args = argv[1:]
    hide_dot = True
    if args and args[0][:2] == "-a":
        args = args[1:]
        hide_dot = False
    if not args:
        text, size = _export(target, hide_dot)
        if not text:
            return CMD_RET_FAILURE
        target.out(text)
        target.out(f"\nEnvironment size: {size}/{target.profile.env_size} bytes\n")
        return CMD_RET_SUCCESS
    rc = 0
    for name in args:
        if name in target.env:
            target.out(f"{name}={target.env[name]}\n")
        else:
            target.out(f'## Error: "{name}" not defined\n')
            rc += 1
    return rc


def _baudrate(target: Target, value: Optional[str], force: bool) -> bool:
    """on_baudrate(): may the variable take `value` (None: be deleted)?"""
    if value is None:
        target.out("## Baudrate may not be deleted\n")
        return False
    baud = target.strtoul(value, 10)[0]
    if baud == target.baudrate:
        return True
    if baud not in target.profile.baud_table:
        if not force:
            target.out(f"## Baudrate {baud} bps not supported\n")
        return False
    target.out(f"## Switch baudrate to {baud} bps and press ENTER ...\n")
    target.baudrate = baud
    if target.profile.baud_switch_effective:
        target.uart.set_baud(baud if target.paced else 0)
    while target.uart.getc() != 0x0D:
        pass
    return True


def env_set(target: Target, argv: list[str]) -> int:
    """_do_env_set(): argv is `setenv [-f] name [value ...]`."""
    force = False
    while len(argv) > 1 and argv[1][:1] == "-":
        for c in argv[1][1:]:
            if c != "f":
                return CMD_RET_USAGE
            force = True
        argv = argv[:1] + argv[2:]
    if len(argv) < 2:
        return CMD_RET_USAGE
    name = argv[1]
    if "=" in name:
        target.out(f"## Error: illegal character '='in variable name \"{name}\"\n")
        return CMD_RET_FAILURE
    if len(argv) < 3:
        if name not in target.env:
            return CMD_RET_FAILURE
        if name == "baudrate" and not _baudrate(target, None, force):
            return CMD_RET_FAILURE
        del target.env[name]
        return CMD_RET_SUCCESS
    value = " ".join(argv[2:])
    if name == "baudrate" and not _baudrate(target, value, force):
        target.out('## Error inserting "baudrate" variable, errno=22\n')
        return CMD_RET_FAILURE
    target.env[name] = value
    return CMD_RET_SUCCESS


@handles("setenv")
def do_setenv(target: Target, argv: list[str], repeat: bool) -> int:
    if len(argv) < 2:
        return CMD_RET_USAGE
    return env_set(target, argv)


@handles("run")
def do_run(target: Target, argv: list[str], repeat: bool) -> int:
    if len(argv) < 2:
        return CMD_RET_USAGE
    for name in argv[1:]:
        script = target.env.get(name)
        if script is None:
            target.out(f'## Error: "{name}" not defined\n')
            return CMD_RET_FAILURE
        for line in script.split("\n"):
            if line and target.run_command(line, 0) < 0:
                return CMD_RET_FAILURE
    return CMD_RET_SUCCESS


SUBCOMMANDS = ("default", "delete", "export", "import", "print", "run", "set")


@handles("env")
def do_env(target: Target, argv: list[str], repeat: bool) -> int:
    """`env print|set|run ...` (a sub-command may be abbreviated); the rest shows the usage."""
    if len(argv) < 2:
        return CMD_RET_USAGE
    word = argv[1].split(".", 1)[0]
    hits = [s for s in SUBCOMMANDS if s.startswith(word)]
    sub = word if word in SUBCOMMANDS else (hits[0] if len(hits) == 1 else None)
    rest = argv[1:]
    if sub == "print":
        return do_printenv(target, rest, repeat)
    if sub == "set":
        return env_set(target, rest)
    if sub == "run":
        return do_run(target, rest, repeat)
    return CMD_RET_USAGE
