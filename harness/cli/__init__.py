"""`uboot-dump`: argument parsing and presentation; the work is done in the other modules.

Every argument is checked here, before a port is opened or an input read: numbers as a
U-Boot user types them (harness.base.units), times positive and finite, outputs that have a
name, do not exist (unless --force) and are never an input. Every failure is one line on
stderr and a documented exit code (harness.base.errors, README "Errors").
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Callable, NoReturn, Optional

from harness.base import safeio
from harness.base.errors import DumpError, OutputError, UsageError
from harness.base.units import human_bytes, human_time, parse_seconds, parse_size
from harness.cli.progress import Progress
from harness.console.session import Console
from harness.link.transport import Transport
from harness.read.reader import DEFAULT_CHUNK, MemoryReader

EXIT_INTERRUPTED = 130
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


class _Parser(argparse.ArgumentParser):
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
    from harness.camera.partitions import check_name

    try:
        return check_name(text, "--model")
    except UsageError as exc:
        raise ValueError(str(exc)) from None


def _models_help() -> str:
    from harness.camera.partitions import models

    return (
        f"camera model, the suffix of the file names: {', '.join(models())} (built in), "
        "or another name with --bootlog"
    )


def _add_console_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--port", required=True, help="/dev/ttyUSB0, COM3, a pty, socket:// or rfc2217:// URL"
    )
    p.add_argument("--baud", type=baud, default=115200, help="line rate")
    p.add_argument("--prompt", help="the U-Boot prompt (default: found)")
    p.add_argument(
        "--timeout", type=seconds, default=10.0, help="seconds of silence that mean a dead line"
    )
    p.add_argument("--log", type=Path, help="append everything the console sends to this file")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="uboot-dump", description="Back up firmware through a U-Boot serial console.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")

    r = sub.add_parser("read-mem", help="read target memory with md, verified by crc32, resumable")
    _add_console_args(r)
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

    b = sub.add_parser("backup", help="back up a camera's partitions, from power-on")
    _add_console_args(b)
    b.add_argument("--model", type=model, required=True, help=_models_help())
    b.add_argument("-o", "--output", type=Path, required=True, help="output directory")
    b.add_argument("--partitions", default="ROOTFS,HOME", help="names (ROOTFS,HOME), or all")
    b.add_argument(
        "--bootlog", type=Path, help="a saved terminal log of a full boot (for its partition table)"
    )
    b.add_argument(
        "--table-from", choices=("bootlog", "model"), help="which table wins when they disagree"
    )
    b.add_argument(
        "--ram", type=address, default=0x21000000, help="start of the RAM window for sf read"
    )
    b.add_argument("--chunk", type=chunk, default=DEFAULT_CHUNK, help="verified chunk size")
    b.add_argument(
        "--restart",
        action="store_true",
        help="do not resume: read again what -o already holds (finished files and journals) "
        "and replace it once the new read is verified",
    )
    b.add_argument(
        "--power-timeout",
        type=seconds,
        default=300.0,
        help="seconds to wait for U-Boot after power-on",
    )

    b.add_argument(
        "--via",
        choices=("auto", "sd", "md"),
        default="auto",
        help="sd: flash -> RAM -> the card prepared by sd-prepare, at memory speed; md: over "
        "the serial line; auto (default): sd when the camera has mmc and a prepared card",
    )

    sp = sub.add_parser("sd-prepare", help="put a fresh UBDUMP.BIN on a (mounted) FAT32 SD card")
    sp.add_argument("card_dir", type=Path, metavar="CARD_DIR", help="the card's top directory")
    sp.add_argument("--model", type=model, default="y203c", help=_models_help())
    sp.add_argument("--flash-size", type=size, help="the flash size (default: the model's)")
    sp.add_argument("--force", action="store_true", help="replace an existing UBDUMP.BIN")

    sc = sub.add_parser("sd-collect", help="the backup out of UBDUMP.BIN, checked, into -o DIR")
    sc.add_argument(
        "card_file", type=Path, metavar="CARD/UBDUMP.BIN", help="the file the camera filled"
    )
    sc.add_argument(
        "-o", "--output", type=Path, required=True, help="the directory of the backup --via sd"
    )
    sc.add_argument("--partitions", default="ROOTFS,HOME", help="names (ROOTFS,HOME), or all")
    sc.add_argument(
        "--allow-card-output",
        action="store_true",
        help="let -o be on the card itself (the camera flashes sys_/home_ files at boot)",
    )
    sc.add_argument("--force", action="store_true", help="replace outputs with other contents")

    pl = sub.add_parser("parse-log", help="turn a terminal log of md output into binary")
    pl.add_argument("log", type=Path, help="the terminal log (md lines, anything around them)")
    pl.add_argument("-o", "--output", type=Path, required=True, help="the binary (a new file)")
    pl.add_argument("--start", type=address, help="first address (default: the log's first line)")
    pl.add_argument("--length", type=size, help="bytes (default: to the log's last line)")
    pl.add_argument("--force", action="store_true", help="replace an existing output file")

    j = sub.add_parser("jffs2", help="inspect, unpack, repack and clean JFFS2 images")
    jsub = j.add_subparsers(
        dest="jffs2_command", required=True, parser_class=_Parser, metavar="SUBCOMMAND"
    )
    ji = jsub.add_parser("inspect", help="layout, nodes, CRC errors, and which fix applies")
    ji.add_argument("image", type=Path, help="a JFFS2 partition image")
    ji.add_argument("--json", action="store_true", help="print the report as JSON")
    ju = jsub.add_parser("unpack", help="extract safely (never outside DIR, never through a link)")
    ju.add_argument("image", type=Path, help="a JFFS2 partition image")
    ju.add_argument("-d", "--dest", type=Path, required=True, help="an empty or new directory")
    ju.add_argument(
        "--force", action="store_true", help="extract what can be, despite damaged nodes"
    )
    jr = jsub.add_parser(
        "repack", help="mkfs.jffs2 -l, reproducible, checked against the partition"
    )
    jr.add_argument("tree", type=Path, help="the directory tree to pack")
    jr.add_argument("-o", "--output", type=Path, required=True, help="the image (a new file)")
    jr.add_argument(
        "--partition-size",
        type=size,
        required=True,
        help="the partition's size: an image that does not fit it is refused",
    )
    jr.add_argument("--erase-size", type=size, default=0x10000, help="the flash's erase block")
    jr.add_argument("--force", action="store_true", help="replace an existing output file")
    jc = jsub.add_parser("clean", help="a shareable image without the device identity")
    jc.add_argument("image", type=Path, help="a JFFS2 partition image")
    jc.add_argument("-o", "--output", type=Path, required=True, help="the image (a new file)")
    jc.add_argument("--remove", action="append", help="path to remove (default etc/back.bin)")
    jc.add_argument(
        "--partition-size",
        type=size,
        help="the size the image must fit (default: the input image's)",
    )
    jc.add_argument("--erase-size", type=size, default=0x10000, help="the flash's erase block")
    jc.add_argument("--force", action="store_true", help="replace an existing output file")

    sw = sub.add_parser("swap", help="reverse every 4-byte word (community .img to flash order)")
    sw.add_argument("input", type=Path, help="a community .img (md words in the wrong order)")
    sw.add_argument("output", type=Path, help="the image in flash order (a new file)")
    sw.add_argument("--force", action="store_true", help="replace an existing output file")
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


# -- the commands -----------------------------------------------------------------------------
def open_console(args: argparse.Namespace, stack: ExitStack, policy=None) -> Console:
    log = stack.enter_context(safeio.open_append(args.log)) if args.log else None
    transport = Transport(args.port, args.baud, log=log)
    stack.callback(transport.close)
    console = Console(transport, args.prompt, timeout=args.timeout, policy=policy, baud=args.baud)
    console.sync()
    return console


def cmd_read_mem(args: argparse.Namespace) -> int:
    if args.length <= 0:
        raise UsageError("--length must be more than 0")
    if args.start + args.length > 1 << 64:
        raise UsageError("--start + --length goes beyond a 64-bit address")
    check_output(args.output, can_force=False)
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
    from harness.backup.job import Backup, Plan
    from harness.camera.partitions import choose_table, select

    check_directory(args.output, "output directory")
    bootlog = (read_text(args.bootlog), str(args.bootlog)) if args.bootlog else None
    table, source = choose_table(args.model, bootlog, args.table_from)
    parts = select(table, args.partitions)
    plan = Plan(
        args.model,
        args.output,
        parts,
        all_=args.partitions == "all",
        ram=args.ram,
        chunk=args.chunk,
        partition_source=source,
        table=table,
        via=args.via,
        restart=args.restart,
    )
    plan.check_memory()  # before the port is opened: the arguments alone decide these
    plan.load_manifest()
    with ExitStack() as stack:
        log = stack.enter_context(safeio.open_append(args.log)) if args.log else None
        transport = Transport(args.port, args.baud, log=log)
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
    if manifest.get("sd", {}).get("complete") and args.via != "md":
        print(f"backup of the whole flash to the SD card; its record is in {args.output}")
        return 0
    done = manifest.get("partitions", {})
    print(
        f"backup of {len(parts)} partitions in {args.output}: "
        + ", ".join(done[p.name]["files"][0] for p in parts if p.name in done)
        + " (manifest.json, bootlog.txt)"
    )
    return 0


def cmd_sd_prepare(args: argparse.Namespace) -> int:
    from harness.backup.card import prepare
    from harness.camera.partitions import model_table

    if not args.card_dir.is_dir():
        raise UsageError(f"{args.card_dir} is not a directory (the card's mount point)")
    flash = args.flash_size
    if flash is None:
        table = model_table(args.model)
        if table is None:
            raise UsageError(f"no built-in table for model {args.model!r}: give --flash-size")
        flash = max(p.end for p in table)
    if flash % 0x10000 or not 0x10000 <= flash <= 0x10000000:
        raise UsageError("--flash-size must be a multiple of 64K, from 64K to 256M")
    path = prepare(args.card_dir, args.model, flash, force=args.force, say=say)
    print(
        f"{path}: ready for a {flash >> 20} MiB flash; put the card in the camera and run "
        f"uboot-dump backup --port PORT --model {args.model} -o DIR --via sd"
    )
    return 0


def cmd_sd_collect(args: argparse.Namespace) -> int:
    from harness.backup.card import collect

    if not args.card_file.is_file():
        raise UsageError(f"{args.card_file} is not a file")
    check_directory(args.output, "output directory")
    if not args.output.is_dir():
        raise UsageError(f"{args.output} does not exist: give the directory of the backup")
    names = collect(
        args.card_file,
        args.output,
        args.partitions,
        allow_card_output=args.allow_card_output,
        force=args.force,
        say=say,
    )
    print(
        f"{len(names)} files in {args.output}: {', '.join(names)} (checked against the "
        "camera's crc32 of every block)"
    )
    return 0


def cmd_parse_log(args: argparse.Namespace) -> int:
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


def cmd_swap(args: argparse.Namespace) -> int:
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


def cmd_jffs2(args: argparse.Namespace) -> int:
    from harness.jffs2.extract import ExtractError
    from harness.jffs2.fs import Jffs2Error

    try:
        return JFFS2_COMMANDS[args.jffs2_command](args)
    except Jffs2Error as exc:
        raise UsageError(str(exc)) from None
    except ExtractError as exc:
        raise OutputError(str(exc)) from None


def jffs2_inspect(args: argparse.Namespace) -> int:
    from harness.jffs2.inspect import format_report, inspect

    report = inspect(read_bytes(args.image))
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0 if report["advice"][0].startswith("OK") else 1


def jffs2_unpack(args: argparse.Namespace) -> int:
    from harness.jffs2.extract import extract
    from harness.jffs2.fs import read_fs

    dest = args.dest
    if dest.is_symlink() or (dest.exists() and (not dest.is_dir() or any(dest.iterdir()))):
        raise UsageError(f"{dest} is not an empty directory")
    check_directory(dest, "destination")
    fs = read_fs(read_bytes(args.image))
    if fs.layout != "little":
        say(f"{args.image}: read as {fs.layout} (see `uboot-dump jffs2 inspect`)")
    damage = [f"0x{o:x} {w}" for o, w in fs.crc_errors] + fs.problems
    if damage and not args.force:
        raise UsageError(
            f"{args.image}: {len(damage)} damaged or unsafe nodes ({'; '.join(damage[:3])}); "
            "nothing extracted (--force extracts what can be)"
        )
    if not fs.entries:
        raise UsageError(f"{args.image}: nothing to extract (no directory entries)")
    w = extract(fs.entries, dest)
    for problem in fs.problems + w.skipped:
        say(f"{args.image}: {problem}")
    print(f"{w.written} entries -> {dest}" + (f" ({len(w.skipped)} skipped)" if w.skipped else ""))
    if not w.written:
        raise UsageError(f"{args.image}: nothing could be extracted")
    return 0


def jffs2_repack(args: argparse.Namespace) -> int:
    from harness.jffs2.repack import repack

    check_output(args.output, force=args.force)
    data = repack(args.tree, args.partition_size, args.erase_size)
    write_atomic(args.output, data)
    print(f"{len(data)} bytes (partition {args.partition_size}) -> {args.output}")
    return 0


def jffs2_clean(args: argparse.Namespace) -> int:
    from harness.jffs2.clean import clean

    check_output(args.output, inputs=(args.image,), force=args.force)
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


COMMANDS = {
    "read-mem": cmd_read_mem,
    "backup": cmd_backup,
    "sd-prepare": cmd_sd_prepare,
    "sd-collect": cmd_sd_collect,
    "parse-log": cmd_parse_log,
    "swap": cmd_swap,
    "jffs2": cmd_jffs2,
}


def main(argv: Optional[list[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except DumpError as exc:
        sys.stderr.write(f"uboot-dump: error: {exc.line()}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("uboot-dump: interrupted; run the same command again to resume\n")
        return EXIT_INTERRUPTED
    except OSError as exc:  # files of the tool's own (a journal, the boot log, the manifest)
        where = exc.filename or "a file of the output"
        sys.stderr.write(f"uboot-dump: error: {where}: {exc.strerror or exc}\n")
        return OutputError.exit_code


if __name__ == "__main__":
    sys.exit(main())
