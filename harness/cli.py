"""`uboot-dump`: argument parsing and presentation; the work is done in the other modules."""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import NoReturn, Optional

from . import journal
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
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")

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

    b = sub.add_parser("backup", help="back up a camera's partitions, from power-on")
    _add_console_args(b)
    b.add_argument("--model", required=True, help="model suffix for the file names, e.g. y203c")
    b.add_argument("-o", "--output", type=Path, required=True, help="output directory")
    b.add_argument("--partitions", default="ROOTFS,HOME", help="names (ROOTFS,HOME), or all")
    b.add_argument(
        "--bootlog", type=Path, help="a saved terminal log of a full boot (for its partition table)"
    )
    b.add_argument(
        "--table-from", choices=("bootlog", "model"), help="which table wins when they disagree"
    )
    b.add_argument(
        "--ram", type=_size, default=0x21000000, help="RAM window for sf read (default 0x21000000)"
    )
    b.add_argument(
        "--chunk", type=_size, default=DEFAULT_CHUNK, help="verified chunk size (default 64K)"
    )
    b.add_argument(
        "--power-timeout",
        type=float,
        default=300.0,
        help="seconds to wait for U-Boot after power-on",
    )

    pl = sub.add_parser("parse-log", help="turn a terminal log of md output into binary")
    pl.add_argument("log", type=Path)
    pl.add_argument("-o", "--output", type=Path, required=True)
    pl.add_argument("--start", type=_size, help="first address (default: the log's first line)")
    pl.add_argument("--length", type=_size, help="bytes (default: to the log's last line)")

    j = sub.add_parser("jffs2", help="inspect, unpack, repack and clean JFFS2 images")
    jsub = j.add_subparsers(
        dest="jffs2_command", required=True, parser_class=_Parser, metavar="SUBCOMMAND"
    )
    ji = jsub.add_parser("inspect", help="layout, nodes, CRC errors, and which fix applies")
    ji.add_argument("image", type=Path)
    ji.add_argument("--json", action="store_true")
    ju = jsub.add_parser("unpack", help="extract safely (never outside DIR, never through a link)")
    ju.add_argument("image", type=Path)
    ju.add_argument("-d", "--dest", type=Path, required=True, help="an empty or new directory")
    ju.add_argument("--force", action="store_true", help="extract even with CRC errors")
    jr = jsub.add_parser(
        "repack", help="mkfs.jffs2 -l, reproducible, checked against the partition"
    )
    jr.add_argument("tree", type=Path)
    jr.add_argument("-o", "--output", type=Path, required=True)
    jr.add_argument("--partition-size", type=_size, required=True)
    jr.add_argument("--erase-size", type=_size, default=0x10000)
    jc = jsub.add_parser("clean", help="a shareable image without the device identity")
    jc.add_argument("image", type=Path)
    jc.add_argument("-o", "--output", type=Path, required=True)
    jc.add_argument("--remove", action="append", help="path to remove (default etc/back.bin)")
    jc.add_argument("--partition-size", type=_size, help="default: the input image's size")
    jc.add_argument("--erase-size", type=_size, default=0x10000)

    sw = sub.add_parser("swap", help="reverse every 4-byte word (community .img to flash order)")
    sw.add_argument("input", type=Path)
    sw.add_argument("output", type=Path)
    return p


def open_console(args: argparse.Namespace, stack: ExitStack, policy=None) -> Console:
    transport = Transport(args.port, args.baud)
    stack.callback(transport.close)
    log = None
    if args.log:
        log = stack.enter_context(open(args.log, "ab"))
    console = Console(
        transport, args.prompt, timeout=args.timeout, policy=policy, log=log, baud=args.baud
    )
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


def cmd_backup(args: argparse.Namespace) -> int:
    from .backup import Backup, Plan
    from .partitions import disagreement, from_bootlog, model_table, select

    model_parts = model_table(args.model)
    log_parts = None
    if args.bootlog:
        log_parts = from_bootlog(read_text(args.bootlog))
    if log_parts and model_parts and disagreement(log_parts, model_parts) and not args.table_from:
        diff = "; ".join(disagreement(log_parts, model_parts))
        raise UsageError(
            f"the partition tables disagree ({args.bootlog} first, the built-in {args.model} "
            f"table second): {diff}; choose one with --table-from bootlog or --table-from model"
        )
    if log_parts and (args.table_from != "model" or not model_parts):
        table, source = log_parts, f"bootlog {args.bootlog}"
    elif model_parts:
        table, source = model_parts, f"built-in table of {args.model}"
    else:
        raise UsageError(f"no built-in partition table for model {args.model!r}: give --bootlog")
    parts = select(table, args.partitions)
    plan = Plan(
        args.model,
        args.output,
        parts,
        all_=args.partitions == "all",
        ram=args.ram,
        chunk=args.chunk,
        partition_source=source,
    )
    with ExitStack() as stack:
        transport = Transport(args.port, args.baud)
        stack.callback(transport.close)

        def progress(p):
            bar = Progress(p.size)
            stack.callback(bar.close)
            return bar

        job = Backup(
            transport,
            plan,
            prompt=args.prompt,
            timeout=args.timeout,
            power_timeout=args.power_timeout,
            baud=args.baud,
            say=say,
            progress=progress,
        )
        manifest = job.run()
    done = manifest.get("partitions", {})
    print(
        f"backup of {len(parts)} partitions in {args.output}: "
        + ", ".join(done[p.name]["files"][0] for p in parts if p.name in done)
        + " (manifest.json, bootlog.txt)"
    )
    return 0


def cmd_parse_log(args: argparse.Namespace) -> int:
    from .logparse import decode_log

    data, rep = decode_log(read_bytes(args.log), args.start, args.length)
    if not rep.width:
        raise UsageError(f"{args.log}: no md lines found")
    for addr in rep.duplicates[:10]:
        say(f"duplicate line at 0x{addr:x} (same data, used once)")
    for number, why in rep.damaged[:20]:
        say(f"{args.log}:{number}: damaged md line ({why})")
    problems = [f"gap at 0x{a:x} ({n} bytes)" for a, n in rep.gaps[:20]]
    problems += [f"two different lines for 0x{a:x}" for a in rep.conflicts[:20]]
    if problems:
        raise DumpError(f"{args.log}: " + "; ".join(problems) + "; nothing written")
    write_atomic(args.output, data)
    print(
        f"{len(data)} bytes from 0x{rep.start:x} ({rep.lines} md lines of "
        f"{rep.width}-byte objects) -> {args.output}"
    )
    return 0


def cmd_swap(args: argparse.Namespace) -> int:
    from .jffs2.nodes import swap_words

    data = read_bytes(args.input)
    if len(data) % 4:
        raise UsageError(
            f"{args.input} is {len(data)} bytes, not a multiple of 4: not a word-swapped image"
        )
    write_atomic(args.output, swap_words(data))
    print(f"{len(data)} bytes, every 4-byte word reversed -> {args.output}")
    return 0


def cmd_jffs2(args: argparse.Namespace) -> int:
    from .jffs2.fs import Jffs2Error

    try:
        return JFFS2_COMMANDS[args.jffs2_command](args)
    except Jffs2Error as exc:
        raise DumpError(str(exc)) from None


def jffs2_inspect(args: argparse.Namespace) -> int:
    from .jffs2.inspect import format_report, inspect

    report = inspect(read_bytes(args.image))
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0 if report["advice"][0].startswith("OK") else 1


def jffs2_unpack(args: argparse.Namespace) -> int:
    from .jffs2.extract import extract
    from .jffs2.fs import read_fs

    dest = args.dest
    if dest.is_symlink() or (dest.exists() and (not dest.is_dir() or any(dest.iterdir()))):
        raise UsageError(f"{dest} is not an empty directory")
    fs = read_fs(read_bytes(args.image))
    if fs.layout != "little":
        say(f"{args.image}: read as {fs.layout} (see `uboot-dump jffs2 inspect`)")
    if fs.crc_errors and not args.force:
        where = ", ".join(f"0x{o:x} {w}" for o, w in fs.crc_errors[:5])
        raise DumpError(
            f"{len(fs.crc_errors)} nodes fail their CRC ({where}); --force extracts anyway"
        )
    if not fs.entries:
        raise DumpError(f"{args.image}: nothing to extract (no directory entries)")
    dest.mkdir(parents=True, exist_ok=True)
    w = extract(fs.entries, dest)
    for problem in fs.problems + w.skipped:
        say(f"{args.image}: {problem}")
    print(f"{w.written} entries -> {dest}" + (f" ({len(w.skipped)} skipped)" if w.skipped else ""))
    if not w.written:
        raise DumpError("nothing was extracted")
    return 0


def jffs2_repack(args: argparse.Namespace) -> int:
    from .jffs2.repack import repack

    data = repack(args.tree, args.partition_size, args.erase_size)
    write_atomic(args.output, data)
    print(f"{len(data)} bytes (partition {args.partition_size}) -> {args.output}")
    return 0


def jffs2_clean(args: argparse.Namespace) -> int:
    from .jffs2.clean import clean

    data = read_bytes(args.image)
    remove = args.remove or ["etc/back.bin"]
    out, removed = clean(data, remove, args.partition_size or len(data), args.erase_size)
    write_atomic(args.output, out)
    names = ", ".join("/".join(e.path) for e in removed)
    print(f"removed {names}; no 16-byte run of them remains; {len(out)} bytes -> {args.output}")
    return 0


JFFS2_COMMANDS = {
    "inspect": jffs2_inspect,
    "unpack": jffs2_unpack,
    "repack": jffs2_repack,
    "clean": jffs2_clean,
}


def say(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None


def read_text(path: Path) -> str:
    return read_bytes(path).decode("latin-1")


def write_atomic(path: Path, data: bytes) -> None:
    """The file appears complete under its name, or not at all; one-line error otherwise."""
    try:
        journal.write_atomic(path, data)
    except OSError as exc:
        raise DumpError(f"cannot write {path}: {exc.strerror}") from None


COMMANDS = {
    "read-mem": cmd_read_mem,
    "backup": cmd_backup,
    "parse-log": cmd_parse_log,
    "swap": cmd_swap,
    "jffs2": cmd_jffs2,
}


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
