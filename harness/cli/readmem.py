"""`read-mem`: target memory with md, verified by crc32, resumable."""

from __future__ import annotations

import argparse
import json
from contextlib import ExitStack
from pathlib import Path

from harness.base.errors import UsageError
from harness.base.units import human_bytes, human_time
from harness.cli.common import address, check_output, chunk, open_console, size
from harness.cli.progress import Progress
from harness.console.session import Knowledge
from harness.read.reader import DEFAULT_CHUNK, MemoryReader


def add_to(sub: argparse._SubParsersAction, console: argparse.ArgumentParser) -> None:
    r = sub.add_parser(
        "read-mem",
        parents=[console],
        help="read target memory with md, verified by crc32, resumable",
    )
    r.add_argument("--start", type=address, required=True, help="first address (hex with 0x)")
    r.add_argument("--length", type=size, required=True, help="bytes to read (0x.., 123, 64K)")
    r.add_argument("-o", "--output", type=Path, required=True, help="output file (a new one)")
    r.add_argument("--chunk", type=chunk, default=DEFAULT_CHUNK, help="verified chunk size")
    r.add_argument("--no-skip-erased", action="store_true", help="read all-0xFF chunks with md too")
    r.add_argument(
        "--endian", choices=("little", "big"), help="target byte order (default: from the data)"
    )
    r.add_argument("--restart", action="store_true", help="ignore an earlier interrupted run")
    r.add_argument("--json", action="store_true", help="print the summary as JSON")
    r.set_defaults(run=read_mem)


def read_mem(args: argparse.Namespace) -> int:
    if args.length <= 0:
        raise UsageError("--length must be more than 0")
    if args.start + args.length > 1 << 64:
        raise UsageError("--start + --length goes beyond a 64-bit address")
    check_output(args.output, can_force=False)
    with ExitStack() as stack:
        console = open_console(args, stack, knowledge=Knowledge(endian=args.endian))
        progress = Progress(args.length)
        stack.callback(progress.close)
        reader = MemoryReader(
            console,
            chunk=args.chunk,
            skip_erased=not args.no_skip_erased,
            progress=progress,
        )
        stats = reader.read_to_file(args.start, args.length, args.output, restart=args.restart)
    if args.json:
        print(json.dumps({"output": str(args.output), "start": args.start, **stats.as_dict()}))
    else:
        resumed = f", resumed at {human_bytes(stats.resumed_from)}" if stats.resumed_from else ""
        check = (
            "verified by the target's crc32"
            if stats.check == "crc32"
            else "no crc32 on the target: every line read twice and compared (a weaker check)"
        )
        print(
            f"read {stats.bytes} bytes from 0x{args.start:x} in {human_time(stats.seconds)} "
            f"({stats.rate:,.0f} B/s{resumed}), {check}; re-read {stats.lines_reread} lines "
            f"({stats.bytes_reread} B), {stats.retries} retries, "
            f"{stats.erased_chunks_skipped} erased chunks skipped -> {args.output}"
        )
    return 0
