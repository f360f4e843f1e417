"""`verify` (the camera's flash against a backup, per erase block) and `restore` (the blocks
that differ written back, each proven), over the serial line."""

from __future__ import annotations

import argparse
from contextlib import ExitStack
from pathlib import Path
from typing import Optional

from harness.base.errors import FlashDiffers, UsageError
from harness.cli.common import (
    add_power,
    address,
    check_directory,
    model,
    models_help,
    open_transport,
    power_switch,
    say,
)
from harness.cli.progress import Progress

RECORD = "restore-record"


def add_to(sub: argparse._SubParsersAction, console: argparse.ArgumentParser) -> None:
    for name, text in (
        ("verify", "compare the camera's flash with a backup, per 64 KiB block (crc32)"),
        ("restore", "write back the blocks that differ from a backup, each proven; resumable"),
    ):
        c = sub.add_parser(name, parents=[console], help=text)
        c.add_argument(
            "backup",
            type=Path,
            nargs="?",
            metavar="BACKUP_DIR",
            help="a backup's directory (its manifest.json and files)",
        )
        c.add_argument("--model", type=model, required=True, help=models_help())
        c.add_argument(
            "--partitions",
            help="names (default ROOTFS,HOME; KERNEL, vd1, conf only when named; never BOOT)",
        )
        c.add_argument(
            "--image",
            action="append",
            metavar="NAME=FILE",
            help="a single image instead of a backup's file (e.g. ROOTFS=rootfs.jffs2 from "
            "`jffs2 repack`); repeatable",
        )
        c.add_argument(
            "--ram",
            type=address,
            default=0x21000000,
            help="start of the RAM window (the largest partition + 128 KiB)",
        )
        add_power(c)
        c.add_argument(
            "--record",
            type=Path,
            help=f"where the boot log and restore.journal go (default: BACKUP_DIR/{RECORD}, "
            f"or ./{RECORD} with --image alone)",
        )
        if name == "restore":
            c.add_argument(
                "--other-camera",
                action="store_true",
                help="the backup is another camera's of the same model: restore its ROOTFS/"
                "HOME here anyway (never its vd1 or conf: identity and Wi-Fi)",
            )
            c.add_argument(
                "--no-undo",
                action="store_true",
                help="do not keep the old content of each block it overwrites (over the line "
                "that costs an md of each block; kept by default in the record's undo/)",
            )
            c.add_argument(
                "--via",
                choices=("auto", "sd", "line"),
                default="auto",
                help="sd: the blocks from UBRESTOR.BIN on the camera's card (sd-prepare "
                "--restore), at the card's speed; line: typed over the serial line (mw.l); "
                "auto: sd when the card holds it",
            )
        c.set_defaults(run=run_verify if name == "verify" else run_restore)

    u = sub.add_parser(
        "sd-undo",
        help="fetch the old blocks a restore --via sd kept on the card into its undo directory",
    )
    u.add_argument(
        "card_file", type=Path, metavar="CARD/UBRESTOR.BIN", help="the file on the card (mounted)"
    )
    u.add_argument(
        "undo_dir", type=Path, metavar="UNDO_DIR", help="the restore's undo directory (undo.json)"
    )
    u.add_argument("--model", type=model, default="y203c", help=models_help())
    u.set_defaults(run=run_sd_undo)


def _images(args: argparse.Namespace):
    from harness.camera.partitions import model_table
    from harness.restore.images import IDENTITY, chosen, from_backup, from_files
    from harness.restore.undo import from_undo, is_undo

    table = model_table(args.model)
    if table is None:
        raise UsageError(f"no built-in partition table for model {args.model!r}")
    if args.backup is None and not args.image:
        raise UsageError("give a backup's directory, or --image NAME=FILE")
    if args.backup is not None and not args.backup.is_dir():
        raise UsageError(f"{args.backup} is not a directory (a backup's)")
    if args.backup is not None and is_undo(args.backup):  # what a restore overwrote
        if args.partitions or args.image:
            raise UsageError("an undo directory is put back whole: no --partitions, --image")
        return from_undo(args.backup, args.model)
    images = from_files(args.image or [], table)
    given = {i.partition.name for i in images}
    named = given | ({p.name for p in chosen(table, args.partitions)} if args.backup else set())
    if getattr(args, "other_camera", False) and named & set(IDENTITY):
        raise UsageError(
            f"--other-camera never writes {', '.join(sorted(named & set(IDENTITY)))} "
            "(identity, Wi-Fi)"
        )
    if args.backup is not None:
        parts = tuple(p for p in chosen(table, args.partitions) if p.name not in given)
        images = from_backup(args.backup, args.model, parts) + images
    elif args.partitions:
        raise UsageError("--partitions names a backup's partitions: give BACKUP_DIR too")
    return sorted(images, key=lambda i: i.partition.offset)


def _record_path(args: argparse.Namespace) -> Path:
    return args.record or (args.backup / RECORD if args.backup else Path(RECORD))


def _record_dir(args: argparse.Namespace) -> Path:
    record = _record_path(args)
    check_directory(record, "--record")
    record.mkdir(exist_ok=True)
    return record


def _job(cls, args: argparse.Namespace, stack: ExitStack, **extra):
    images = _images(args)
    record = _record_dir(args)
    return cls(
        open_transport(args, stack),
        images,
        record,
        model=args.model,
        ram=args.ram,
        prompt=args.prompt,
        timeout=args.timeout,
        power_timeout=args.power_timeout,
        baud=args.baud,
        power=power_switch(args),
        say=say,
        **extra,
    )


def run_verify(args: argparse.Namespace) -> int:
    from harness.restore.job import Verify

    with ExitStack() as stack:
        summary = _job(Verify, args, stack).run()
    for name, offset in summary.differ:
        print(f"{name:8} 0x{offset:07x}-0x{offset + 0x10000:07x} differs")
    if summary.differ:
        raise FlashDiffers(
            f"{len(summary.differ)} of {summary.blocks} blocks of the camera's flash differ "
            "from the images"
        )
    print(f"all {summary.blocks} blocks of the camera's flash equal the images")
    return 0


def run_restore(args: argparse.Namespace) -> int:
    from harness.restore.images import camera_identity
    from harness.restore.job import Restore

    with ExitStack() as stack:

        def progress(image) -> Optional[Progress]:
            bar = Progress(image.partition.size)
            stack.callback(bar.close)
            return bar

        undo = None if args.no_undo else _record_path(args) / "undo"  # made once checked
        if args.no_undo:
            say("--no-undo: the old content of the blocks written is not kept")
        job = _job(
            Restore,
            args,
            stack,
            progress=progress,
            via=args.via,
            identity=camera_identity(args.backup) if args.backup else None,
            other_camera=args.other_camera,
            undo=undo,
        )
        summary = job.run()
    kept = ""
    if job.undo is not None and job.undo.blocks:
        on_card = sum(1 for b in job.undo.blocks.values() if b.get("on_card"))
        first = (
            f"with the card in this PC, uboot-dump sd-undo CARD/UBRESTOR.BIN "
            f"{job.undo.directory}, then "
            if on_card
            else ""
        )
        kept = (
            f"; what they held before: {job.undo.directory}"
            + (f" ({on_card} blocks of it on the card's UBRESTOR.BIN)" if on_card else "")
            + f" (put it back with {first}uboot-dump restore --port PORT --model "
            f"{args.model} {job.undo.directory})"
        )
    print(
        f"{summary.blocks} blocks: {summary.equal} equal, {len(summary.written)} written, "
        f"{len(summary.erased)} erased only; journal: {job.journal_path}{kept}"
    )
    return 0


def run_sd_undo(args: argparse.Namespace) -> int:
    from harness.restore.undo import LIST, fetch_from_card

    if not args.card_file.is_file():
        raise UsageError(f"{args.card_file} is not a file")
    if not (args.undo_dir / LIST).is_file():
        raise UsageError(f"{args.undo_dir} has no {LIST}: give a restore's undo directory")
    n = fetch_from_card(args.undo_dir, args.card_file, args.model)
    print(
        f"{n} blocks from {args.card_file} into {args.undo_dir} (each checked by its crc32); "
        f"put them back with uboot-dump restore --port PORT --model {args.model} "
        f"{args.undo_dir}"
    )
    return 0
