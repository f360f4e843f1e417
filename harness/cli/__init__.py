"""`uboot-dump`: the commands, one module per family, each with its options beside its
handler (harness.cli.readmem, .backup, .offline, .jffs2); what they share is in
harness.cli.common. Every failure is one line on stderr and a documented exit code
(harness.base.errors, README "Errors")."""

from __future__ import annotations

import argparse
import sys
from typing import Optional

from harness.base.errors import DumpError, OutputError
from harness.cli import backup, jffs2, offline, readmem, restore
from harness.cli.common import Parser, console_options

EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="uboot-dump", description="Back up firmware through a U-Boot serial console.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser, metavar="COMMAND")
    console = console_options()
    readmem.add_to(sub, console)
    backup.add_to(sub, console)
    restore.add_to(sub, console)  # verify, restore
    offline.add_to(sub)  # parse-log, swap
    jffs2.add_to(sub)
    return p


def main(argv: Optional[list[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
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
