"""`uboot-dump`: argument parsing and presentation; the work is done in the other modules."""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import NoReturn, Optional

from .console import Console
from .errors import DumpError, UsageError
from .progress import Progress
from .reader import DEFAULT_CHUNK, MemoryReader
from .transport import Transport
from .units import human_bytes, human_time, parse_size

EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"uboot-dump: error: {message}\n")
        sys.exit(2)


def _size(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_console_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--port", required=True, help="/dev/ttyUSB0, COM3, a pty, socket:// or rfc2217:// URL"
    )
    p.add_argument("--baud", type=int, default=115200, help="line rate (default 115200)")
    p.add_argument("--prompt", help="the U-Boot prompt (default: found by pressing Enter)")
    p.add_argument(
        "--timeout", type=float, default=10.0, help="seconds of silence that mean a dead line"
    )
    p.add_argument("--log", type=Path, help="append everything the console sends to this file")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="uboot-dump", description="Back up firmware through a U-Boot serial console.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    r = sub.add_parser("read-mem", help="read target memory with md, verified by crc32, resumable")
    _add_console_args(r)
    r.add_argument("--start", type=_size, required=True, help="first address (hex with 0x)")
    r.add_argument("--length", type=_size, required=True, help="bytes to read")
    r.add_argument("-o", "--output", type=Path, required=True, help="output file")
    r.add_argument(
        "--chunk", type=_size, default=DEFAULT_CHUNK, help="verified chunk size (default 64K)"
    )
    r.add_argument("--no-skip-erased", action="store_true", help="read all-0xFF chunks with md too")
    r.add_argument(
        "--endian", choices=("little", "big"), help="target byte order (default: from the data)"
    )
    r.add_argument("--restart", action="store_true", help="ignore an earlier interrupted run")
    r.add_argument("--json", action="store_true", help="print the summary as JSON")
    return p


def open_console(args: argparse.Namespace, stack: ExitStack, policy=None) -> Console:
    transport = Transport(args.port, args.baud)
    stack.callback(transport.close)
    log = None
    if args.log:
        log = stack.enter_context(open(args.log, "ab"))
    console = Console(transport, args.prompt, timeout=args.timeout, policy=policy, log=log)
    console.sync()
    return console


def cmd_read_mem(args: argparse.Namespace) -> int:
    if args.length <= 0:
        raise UsageError("--length must be positive")
    if args.chunk <= 0 or args.chunk % 16:
        raise UsageError("--chunk must be a positive multiple of 16")
    with ExitStack() as stack:
        console = open_console(args, stack)
        progress = Progress(args.length)
        stack.callback(progress.close)
        reader = MemoryReader(
            console,
            chunk=args.chunk,
            skip_erased=not args.no_skip_erased,
            endian=args.endian,
            progress=progress,
        )
        stats = reader.read_to_file(args.start, args.length, args.output, restart=args.restart)
    if args.json:
        print(json.dumps({"output": str(args.output), "start": args.start, **stats.as_dict()}))
    else:
        resumed = f", resumed at {human_bytes(stats.resumed_from)}" if stats.resumed_from else ""
        print(
            f"read {stats.bytes} bytes from 0x{args.start:x} in {human_time(stats.seconds)} "
            f"({stats.rate:,.0f} B/s{resumed}); re-read {stats.lines_reread} lines "
            f"({stats.bytes_reread} B), {stats.retries} retries, "
            f"{stats.erased_chunks_skipped} erased chunks skipped -> {args.output}"
        )
    return 0


COMMANDS = {"read-mem": cmd_read_mem}


def main(argv: Optional[list[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except DumpError as exc:
        sys.stderr.write(f"uboot-dump: error: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("uboot-dump: interrupted; run the same command again to resume\n")
        return EXIT_INTERRUPTED
    except OSError as exc:
        sys.stderr.write(f"uboot-dump: error: {exc.filename or ''}: {exc.strerror or exc}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
