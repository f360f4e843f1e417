"""What every uboot-dump command shares: the parser (one-line usage errors, defaults shown
in --help), argument types checked as a U-Boot user types numbers (harness.base.units), the
console options (an argparse parent), output checks, and the few I/O helpers that turn an
OS error into one line.

Every argument is checked before a port is opened or an input read: times positive and
finite, outputs that have a name, do not exist (unless --force) and are never an input.
"""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Callable, NoReturn, Optional

from harness.base import safeio
from harness.base.errors import OutputError, UsageError
from harness.base.units import parse_seconds, parse_size
from harness.console.policy import ReadOnlyPolicy
from harness.console.session import Console, Knowledge
from harness.link.transport import Transport

MIN_CHUNK, MAX_CHUNK = 0x100, 0x1000000
MAX_BAUD = 4_000_000


class _Help(argparse.HelpFormatter):
    """--help shows each option's default where it has one (addresses in hex)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        d = action.default
        if d is None or d is False or d is argparse.SUPPRESS or "default" in text:
            return text
        hexadecimal = getattr(action.type, "__name__", "") in ("address", "size", "chunk")
        shown = f"0x{d:x}" if hexadecimal and isinstance(d, int) else d
        return f"{text} (default: {shown})"


class Parser(argparse.ArgumentParser):
    """One-line usage errors (exit 2); every option's default shown in --help."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _Help)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"uboot-dump: error: {message} (`{self.prog} --help` lists the options)\n")
        sys.exit(2)


def _type(fn: Callable[[str], object]) -> Callable[[str], object]:
    def convert(text: str) -> object:
        try:
            return fn(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = fn.__name__
    return convert


@_type
def address(text: str) -> int:
    return parse_size(text, address=True, what="address")


@_type
def size(text: str) -> int:
    return parse_size(text, what="size")


@_type
def chunk(text: str) -> int:
    n = parse_size(text, what="chunk")
    if n % 16 or not MIN_CHUNK <= n <= MAX_CHUNK:
        raise ValueError(
            f"--chunk must be a multiple of 16 from {MIN_CHUNK:#x} to {MAX_CHUNK:#x}, not {text}"
        )
    return n


@_type
def baud(text: str) -> int:
    if not text.isdigit() or not 50 <= int(text) <= MAX_BAUD:
        raise ValueError(f"--baud must be a whole number from 50 to {MAX_BAUD}, not {text!r}")
    return int(text)


@_type
def seconds(text: str) -> float:
    return parse_seconds(text)


@_type
def model(text: str) -> str:
    from harness.camera.partitions import check_name  # the model list only when asked

    try:
        return check_name(text, "--model")
    except UsageError as exc:
        raise ValueError(str(exc)) from None


def models_help() -> str:
    from harness.camera.models import models

    return (
        f"camera model, the suffix of the file names: {', '.join(models())} (built in), "
        "or another name with --bootlog"
    )


def console_options() -> argparse.ArgumentParser:
    """The options of every command that talks to a console (an argparse parent)."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument(
        "--port", required=True, help="/dev/ttyUSB0, COM3, a pty, socket:// or rfc2217:// URL"
    )
    p.add_argument("--baud", type=baud, default=115200, help="line rate")
    p.add_argument("--prompt", help="the U-Boot prompt (default: found)")
    p.add_argument(
        "--timeout", type=seconds, default=10.0, help="seconds of silence that mean a dead line"
    )
    p.add_argument("--log", type=Path, help="append everything the console sends to this file")
    return p


# -- checks before any work ------------------------------------------------------------------
def check_output(
    path: Path, *, inputs: tuple[Path, ...] = (), force: bool = False, can_force: bool = True
) -> None:
    """An output file: a name in an existing directory, never an input, new unless --force
    (`can_force`: the command has that option, so the message may name it)."""
    text = str(path)
    if not text or text.endswith(os.sep) or path.name in ("", ".", "..") or path.is_dir():
        raise UsageError(f"output {text!r} is not a file name")
    for source in inputs:
        if path.exists() and source.exists() and os.path.samefile(path, source):
            raise UsageError(f"output {path} is the input {source}: write to another file")
    if path.exists() and not force:
        also = ", or add --force" if can_force else ""
        raise UsageError(f"{path} exists: remove it or choose another name{also}")
    if not path.parent.is_dir():
        raise UsageError(f"directory {path.parent} does not exist")


def check_directory(path: Path, what: str) -> None:
    text = str(path)
    if not text or (path.exists() and not path.is_dir()):
        raise UsageError(f"{what} {text!r} is not a directory")
    if not path.parent.is_dir():
        raise UsageError(f"directory {path.parent} does not exist")


# -- the console ------------------------------------------------------------------------------
def open_transport(args: argparse.Namespace, stack: ExitStack) -> Transport:
    """The port of --port at --baud, closed with the stack; --log receives what it reads."""
    log = stack.enter_context(safeio.open_append(args.log)) if args.log else None
    transport = Transport(args.port, args.baud, log=log)
    stack.callback(transport.close)
    return transport


def open_console(
    args: argparse.Namespace,
    stack: ExitStack,
    policy: Optional[ReadOnlyPolicy] = None,
    knowledge: Optional[Knowledge] = None,
) -> Console:
    console = Console(
        open_transport(args, stack),
        args.prompt,
        timeout=args.timeout,
        policy=policy,
        baud=args.baud,
        knowledge=knowledge,
    )
    console.sync()
    return console


# -- files ----------------------------------------------------------------------------------------
def say(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except IsADirectoryError:
        raise UsageError(f"{path} is a directory, not a file") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None


def read_text(path: Path) -> str:
    return read_bytes(path).decode("latin-1")


def write_atomic(path: Path, data: bytes) -> None:
    """The file appears complete under its name, or not at all; one-line error otherwise."""
    try:
        safeio.write_atomic(path, data)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None


def add_power(p: argparse.ArgumentParser) -> None:
    """--power-timeout and --power-cmd, for the commands that bring the camera up."""
    p.add_argument(
        "--power-timeout",
        type=seconds,
        default=300.0,
        help="seconds to wait for U-Boot after power-on",
    )
    p.add_argument(
        "--power-cmd",
        metavar="CMD",
        help="switch the camera off and on with this command instead of asking a person: "
        "{} stands for on/off (else the word is added), e.g. 'relay.sh 3 {}'",
    )


def power_switch(args: argparse.Namespace):
    from harness.link.power import PowerSwitch

    return PowerSwitch(args.power_cmd) if args.power_cmd else None
