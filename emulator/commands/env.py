"""`printenv` and `setenv`, with the baudrate variable's switch-and-wait behaviour."""

from __future__ import annotations

from ..target import CMD_FAILURE, CMD_SUCCESS, CMD_USAGE, Target
from . import Command


def do_printenv(t: Target, argv: list[str], repeat: bool) -> int:
    if len(argv) == 1:
        size = 0
        for k in sorted(t.env):
            line = f"{k}={t.env[k]}"
            size += len(line) + 1
            t.out(line + "\n")
        t.out(f"\nEnvironment size: {size}/{t.profile.env_size} bytes\n")
        return CMD_SUCCESS
    rc = CMD_SUCCESS
    for name in argv[1:]:
        if name in t.env:
            t.out(f"{name}={t.env[name]}\n")
        else:
            t.out(f'## Error: "{name}" not defined\n')
            rc = CMD_FAILURE
    return rc


def _set_baudrate(t: Target, value: str) -> int:
    try:
        baud = int(value, 10)
    except ValueError:
        baud = 0
    current = int(t.env.get("baudrate", t.profile.baudrate))
    if baud == current:
        return CMD_SUCCESS
    if baud not in t.profile.baud_table:
        t.out(f"## Baudrate {baud} bps not supported\n")
        return CMD_FAILURE
    t.out(f"## Switch baudrate to {baud} bps and press ENTER ...\n")
    t.uart.set_baud(baud if t.paced else 0)
    t.env["baudrate"] = str(baud)
    while t.uart.getc() != 0x0D:
        pass
    return CMD_SUCCESS


def do_setenv(t: Target, argv: list[str], repeat: bool) -> int:
    if len(argv) < 2:
        return CMD_USAGE
    name = argv[1]
    if len(argv) == 2:
        if name == "baudrate":
            t.out("## Baudrate may not be deleted\n")
            return CMD_FAILURE
        t.env.pop(name, None)
        return CMD_SUCCESS
    value = " ".join(argv[2:])
    if name == "baudrate":
        return _set_baudrate(t, value)
    t.env[name] = value
    return CMD_SUCCESS


COMMANDS = [
    Command(
        "printenv",
        64,
        True,
        "print environment variables",
        "\n    - print values of all environment variables\n"
        "printenv name ...\n    - print value of environment variable 'name'",
        do_printenv,
    ),
    Command(
        "setenv",
        64,
        False,
        "set environment variables",
        "name value ...\n    - set environment variable 'name' to 'value ...'\n"
        "setenv name\n    - delete environment variable 'name'",
        do_setenv,
    ),
]
