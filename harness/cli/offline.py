"""The offline tools: `parse-log` (a terminal log of md output into binary) and `swap`
(a community image's 4-byte words into flash order)."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.base.errors import UsageError
from harness.cli.common import address, check_output, read_bytes, say, size, write_atomic


def add_to(sub: argparse._SubParsersAction) -> None:
    pl = sub.add_parser("parse-log", help="turn a terminal log of md output into binary")
    pl.add_argument("log", type=Path, help="the terminal log (md lines, anything around them)")
    pl.add_argument("-o", "--output", type=Path, required=True, help="the binary (a new file)")
    pl.add_argument("--start", type=address, help="first address (default: the log's first line)")
    pl.add_argument("--length", type=size, help="bytes (default: to the log's last line)")
    pl.add_argument("--force", action="store_true", help="replace an existing output file")
    pl.set_defaults(run=parse_log)

    sw = sub.add_parser("swap", help="reverse every 4-byte word (community .img to flash order)")
    sw.add_argument("input", type=Path, help="a community .img (md words in the wrong order)")
    sw.add_argument("output", type=Path, help="the image in flash order (a new file)")
    sw.add_argument("--force", action="store_true", help="replace an existing output file")
    sw.set_defaults(run=swap)


def parse_log(args: argparse.Namespace) -> int:
    from harness.read.logparse import LogError, decode_log

    check_output(args.output, inputs=(args.log,), force=args.force)
    if args.length == 0:
        raise UsageError("--length must be more than 0")
    try:
        data, rep = decode_log(read_bytes(args.log), args.start, args.length)
    except LogError as exc:
        raise UsageError(f"{args.log}: {exc}; nothing written") from None
    for addr in rep.duplicates[:10]:
        say(f"duplicate line at 0x{addr:x} (same data, used once)")
    write_atomic(args.output, data)
    print(
        f"{len(data)} bytes from 0x{rep.start:x} ({rep.lines} md lines of "
        f"{rep.width}-byte objects) -> {args.output}"
    )
    return 0


def swap(args: argparse.Namespace) -> int:
    from harness.jffs2.nodes import swap_words

    check_output(args.output, inputs=(args.input,), force=args.force)
    data = read_bytes(args.input)
    if not data or len(data) % 4:
        raise UsageError(
            f"{args.input} is {len(data)} bytes, not a multiple of 4: not a word-swapped image"
        )
    write_atomic(args.output, swap_words(data))
    print(f"{len(data)} bytes, every 4-byte word reversed -> {args.output}")
    return 0
