"""`backup` (a camera's partitions, from power-on, over md or the SD card), and the PC's
side of the SD path: `sd-prepare` and `sd-collect`."""

from __future__ import annotations

import argparse
from contextlib import ExitStack
from pathlib import Path

from harness.base.errors import UsageError
from harness.cli.common import (
    add_power,
    address,
    check_directory,
    chunk,
    model,
    models_help,
    open_transport,
    power_switch,
    read_text,
    say,
    size,
)
from harness.cli.progress import Progress
from harness.read.reader import DEFAULT_CHUNK


def add_to(sub: argparse._SubParsersAction, console: argparse.ArgumentParser) -> None:
    b = sub.add_parser(
        "backup", parents=[console], help="back up a camera's partitions, from power-on"
    )
    b.add_argument("--model", type=model, required=True, help=models_help())
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
    add_power(b)

    b.add_argument(
        "--via",
        choices=("auto", "sd", "md"),
        default="auto",
        help="sd: flash -> RAM -> the card prepared by sd-prepare, at memory speed; md: over "
        "the serial line; auto (default): sd when the camera has mmc and a prepared card",
    )
    b.set_defaults(run=run_backup)

    sp = sub.add_parser("sd-prepare", help="put a fresh UBDUMP.BIN on a (mounted) FAT32 SD card")
    sp.add_argument("card_dir", type=Path, metavar="CARD_DIR", help="the card's top directory")
    sp.add_argument("--model", type=model, default="y203c", help=models_help())
    sp.add_argument("--flash-size", type=size, help="the flash size (default: the model's)")
    sp.add_argument("--force", action="store_true", help="replace an existing UBDUMP.BIN")
    sp.add_argument(
        "--restore",
        type=Path,
        metavar="BACKUP_DIR",
        help="put UBRESTOR.BIN on the card instead: the backup's partitions, for "
        "`restore --via sd` (its files checked against its manifest first)",
    )
    sp.add_argument(
        "--partitions",
        help="with --restore: the partitions to stage (default ROOTFS,HOME; never BOOT)",
    )

    sp.set_defaults(run=sd_prepare)

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
    sc.set_defaults(run=sd_collect)


def run_backup(args: argparse.Namespace) -> int:
    from harness.backup.job import Backup
    from harness.backup.manifest import Manifest
    from harness.backup.plan import Plan

    check_directory(args.output, "output directory")
    bootlog = (read_text(args.bootlog), str(args.bootlog)) if args.bootlog else None
    plan = Plan.make(
        args.model,
        args.output,
        args.partitions,
        bootlog=bootlog,
        table_from=args.table_from,
        ram=args.ram,
        chunk=args.chunk,
        via=args.via,
        restart=args.restart,
    )
    plan.check_memory()  # before the port is opened: the arguments alone decide these
    Manifest.open(plan.out_dir, plan.restart)
    with ExitStack() as stack:
        transport = open_transport(args, stack)

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
            power=power_switch(args),
            say=say,
            progress=progress,
        )
        manifest = job.run()
    if manifest.get("sd", {}).get("complete") and args.via != "md":
        print(f"backup of the whole flash to the SD card; its record is in {args.output}")
        return 0
    done = manifest.get("partitions", {})
    parts = plan.partitions
    print(
        f"backup of {len(parts)} partitions in {args.output}: "
        + ", ".join(done[p.name]["files"][0] for p in parts if p.name in done)
        + " (manifest.json, bootlog.txt)"
    )
    return 0


def sd_prepare(args: argparse.Namespace) -> int:
    from harness.camera.partitions import model_table
    from harness.sd.card import prepare

    if args.partitions and not args.restore:
        raise UsageError("--partitions goes with --restore BACKUP_DIR")
    if args.restore is not None:
        return _prepare_restore(args)
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


def sd_collect(args: argparse.Namespace) -> int:
    from harness.backup.collect import collect

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


def _prepare_restore(args: argparse.Namespace) -> int:
    from harness.camera.partitions import model_table
    from harness.restore.images import chosen, from_backup
    from harness.sd.card import prepare_restore

    if not args.card_dir.is_dir():
        raise UsageError(f"{args.card_dir} is not a directory (the card's mount point)")
    if not args.restore.is_dir():
        raise UsageError(f"{args.restore} is not a directory (a backup's)")
    table = model_table(args.model)
    if table is None:
        raise UsageError(f"no built-in partition table for model {args.model!r}")
    images = from_backup(args.restore, args.model, chosen(table, args.partitions))
    path = prepare_restore(
        args.card_dir,
        args.model,
        [(i.partition.offset, i.data) for i in images],
        force=args.force,
        say=say,
    )
    print(
        f"{path}: {', '.join(i.partition.name for i in images)} of {args.restore}; put the "
        f"card in the camera and run uboot-dump restore --port PORT --model {args.model} "
        f"{args.restore}"
    )
    return 0
