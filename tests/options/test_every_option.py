"""Every option of every `uboot-dump` command does what it says: one row per option, each
a run that shows its effect (against the emulated camera where it needs one; the rows are in
rows_camera, rows_card and rows_offline). The first test walks the argument parser: an
option added without a row here fails it, so nothing can be parsed and then ignored
unnoticed."""

from __future__ import annotations

import argparse
from typing import Callable

import pytest

from harness.cli import build_parser
from tests.options import rows_camera, rows_card, rows_offline, rows_restore


def parsed_options() -> set[str]:
    out = set()

    def walk(parser: argparse.ArgumentParser, prefix: str) -> None:
        for a in parser._actions:
            if isinstance(a, argparse._SubParsersAction):
                for name, sub in a.choices.items():
                    walk(sub, f"{prefix}{name} ")
            elif not isinstance(a, argparse._HelpAction):
                out.add(prefix + (a.option_strings[-1] if a.option_strings else a.dest))

    walk(build_parser(), "")
    return out


ROWS: dict[str, Callable] = {
    **rows_camera.ROWS,
    **rows_card.ROWS,
    **rows_offline.ROWS,
    **rows_restore.ROWS,
}


def test_every_parsed_option_has_a_row():
    assert parsed_options() == set(ROWS), parsed_options() ^ set(ROWS)


def _runs() -> dict[str, Callable]:
    """One run per check: options that one run shows (--start and --length, a positional and
    the option beside it) share it, named after all of them."""
    shared: dict[int, list[str]] = {}
    for row in sorted(ROWS):
        shared.setdefault(id(ROWS[row]), []).append(row)
    return {" + ".join(rows): ROWS[rows[0]] for rows in shared.values()}


RUNS = _runs()


@pytest.mark.parametrize("row", sorted(RUNS))
def test_the_option_does_what_it_says(row, cam, image, tmp_path, request):
    check = RUNS[row]
    if row.startswith("sd-collect"):
        check(cam, image, tmp_path, request.getfixturevalue("sd_backup"))
    elif row.startswith(("verify", "restore", "sd-prepare --restore", "sd-prepare --partitions")):
        check(cam, image, tmp_path, request.getfixturevalue("cam_backup"))
    else:
        check(cam, image, tmp_path)


def test_every_option_and_positional_has_help_and_its_default_shows():
    from harness.camera.models import models

    def walk(parser: argparse.ArgumentParser):
        for a in parser._actions:
            if isinstance(a, argparse._SubParsersAction):
                for sub in a.choices.values():
                    yield from walk(sub)
            elif not isinstance(a, argparse._HelpAction):
                yield parser, a

    for parser, a in walk(build_parser()):
        assert a.help, f"{parser.prog} {a.dest}: no help"
        text = parser.format_help()
        if a.default not in (None, False) and a.option_strings and "default" not in a.help:
            hexadecimal = getattr(a.type, "__name__", "") in ("address", "size", "chunk")
            shown = f"0x{a.default:x}" if hexadecimal else a.default
            assert f"(default: {shown})" in " ".join(text.split()), f"{parser.prog} {a.dest}"
    backup_help = " ".join(
        build_parser()._subparsers._group_actions[0].choices["backup"].format_help().split()
    )
    assert all(m in backup_help for m in models())
