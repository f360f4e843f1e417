"""`jffs2`: inspect, unpack, repack and clean JFFS2 images."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from harness.base.errors import OutputError, UsageError
from harness.cli.common import (
    Parser,
    check_directory,
    check_output,
    read_bytes,
    say,
    size,
    write_atomic,
)


def add_to(sub: argparse._SubParsersAction) -> None:
    j = sub.add_parser("jffs2", help="inspect, unpack, repack and clean JFFS2 images")
    jsub = j.add_subparsers(
        dest="jffs2_command", required=True, parser_class=Parser, metavar="SUBCOMMAND"
    )
    j.set_defaults(run=jffs2)
    ji = jsub.add_parser("inspect", help="layout, nodes, CRC errors, and which fix applies")
    ji.add_argument("image", type=Path, help="a JFFS2 partition image")
    ji.add_argument("--json", action="store_true", help="print the report as JSON")
    ji.set_defaults(jffs2_run=inspect)
    ju = jsub.add_parser("unpack", help="extract safely (never outside DIR, never through a link)")
    ju.add_argument("image", type=Path, help="a JFFS2 partition image")
    ju.add_argument("-d", "--dest", type=Path, required=True, help="an empty or new directory")
    ju.add_argument(
        "--force", action="store_true", help="extract what can be, despite damaged nodes"
    )
    ju.set_defaults(jffs2_run=unpack)
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
    jr.set_defaults(jffs2_run=repack)
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
    jc.set_defaults(jffs2_run=clean)


def jffs2(args: argparse.Namespace) -> int:
    from harness.jffs2.extract import ExtractError
    from harness.jffs2.fs import Jffs2Error

    try:
        return args.jffs2_run(args)
    except Jffs2Error as exc:
        raise UsageError(str(exc)) from None
    except ExtractError as exc:
        raise OutputError(str(exc)) from None


def inspect(args: argparse.Namespace) -> int:
    from harness.jffs2.inspect import format_report, inspect

    report = inspect(read_bytes(args.image))
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0 if report["advice"][0].startswith("OK") else 1


def unpack(args: argparse.Namespace) -> int:
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


def repack(args: argparse.Namespace) -> int:
    from harness.jffs2.repack import repack

    check_output(args.output, force=args.force)
    data = repack(args.tree, args.partition_size, args.erase_size)
    write_atomic(args.output, data)
    print(f"{len(data)} bytes (partition {args.partition_size}) -> {args.output}")
    return 0


def clean(args: argparse.Namespace) -> int:
    from harness.jffs2.clean import clean

    check_output(args.output, inputs=(args.image,), force=args.force)
    data = read_bytes(args.image)
    remove = args.remove or ["etc/back.bin"]
    out, removed = clean(data, remove, args.partition_size or len(data), args.erase_size)
    write_atomic(args.output, out)
    names = ", ".join("/".join(e.path) for e in removed)
    print(f"removed {names}; no 16-byte run of them remains; {len(out)} bytes -> {args.output}")
    return 0
