"""Rows for the SD card's PC side: sd-prepare and sd-collect."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from harness.cli import build_parser
from harness.sd.staging import Header
from tests.options.common import code, ok
from tests.support.camera import ROOTFS
from tests.support.run_cli import uboot_dump


# -- the SD card's PC side -----------------------------------------------------------------
def prepare_dir(cam, image, tmp):
    card = tmp / "card"
    card.mkdir()
    ok("sd-prepare", str(card))
    assert (card / "UBDUMP.BIN").stat().st_size == (16 << 20) + 512


def prepare_model(cam, image, tmp):
    (tmp / "c").mkdir()
    ok("sd-prepare", str(tmp / "c"), "--model", "y25")
    assert Header.unpack((tmp / "c" / "UBDUMP.BIN").read_bytes()[:512]).model == "y25"


def prepare_flash_size(cam, image, tmp):
    (tmp / "c").mkdir()
    ok("sd-prepare", str(tmp / "c"), "--flash-size", "8M")
    assert (tmp / "c" / "UBDUMP.BIN").stat().st_size == (8 << 20) + 512


def prepare_force(cam, image, tmp):
    (tmp / "c").mkdir()
    ok("sd-prepare", str(tmp / "c"))
    first = (tmp / "c" / "UBDUMP.BIN").read_bytes()[:512]
    assert code(uboot_dump("sd-prepare", str(tmp / "c"))) == 2
    ok("sd-prepare", str(tmp / "c"), "--force")
    assert (tmp / "c" / "UBDUMP.BIN").read_bytes()[:512] != first  # a new file id


def collect_in(sd_backup, tmp) -> tuple[Path, Path]:
    import shutil

    out = tmp / "out"
    shutil.copytree(sd_backup[0], out)
    return out, sd_backup[1]


def collect_card_file(cam, image, tmp, sd_backup):
    out, card_file = collect_in(sd_backup, tmp)
    ok("sd-collect", str(card_file), "-o", str(out))
    assert code(uboot_dump("sd-collect", str(tmp / "none.bin"), "-o", str(out))) == 2


def collect_output(cam, image, tmp, sd_backup):
    out, card_file = collect_in(sd_backup, tmp)
    ok("sd-collect", str(card_file), "-o", str(out))
    assert (out / "sys_y203c").read_bytes() == sd_backup[2][ROOTFS[0] : sum(ROOTFS)]


def collect_partitions(cam, image, tmp, sd_backup):
    out, card_file = collect_in(sd_backup, tmp)
    ok("sd-collect", str(card_file), "-o", str(out), "--partitions", "all")
    assert (out / "mtd0_BOOT.bin").stat().st_size == 0x50000


def collect_allow_card_output(cam, image, tmp, sd_backup):
    """The card check reads the mount table; a directory on a vfat mount (the card) is
    refused unless --allow-card-output (collect() is given the mount table a PC with the
    card mounted would have)."""
    from harness.backup.collect import collect
    from harness.base.errors import UsageError

    out, card_file = collect_in(sd_backup, tmp)
    table = f"36 1 8:17 / {tmp} rw - vfat /dev/sdb1 rw\n"
    with pytest.raises(UsageError, match="on the card itself"):
        collect(card_file, out, mountinfo=table, say=lambda s: None)
    assert collect(card_file, out, mountinfo=table, allow_card_output=True, say=lambda s: None)
    args = build_parser().parse_args(["sd-collect", "x", "-o", "y", "--allow-card-output"])
    assert args.allow_card_output is True


def collect_force(cam, image, tmp, sd_backup):
    out, card_file = collect_in(sd_backup, tmp)
    (out / "sys_y203c").write_bytes(b"other")
    assert code(uboot_dump("sd-collect", str(card_file), "-o", str(out))) == 2
    ok("sd-collect", str(card_file), "-o", str(out), "--force")
    assert (out / "sys_y203c").read_bytes() == sd_backup[2][ROOTFS[0] : sum(ROOTFS)]


ROWS: dict[str, Callable] = {
    "sd-prepare card_dir": prepare_dir,
    "sd-prepare --model": prepare_model,
    "sd-prepare --flash-size": prepare_flash_size,
    "sd-prepare --force": prepare_force,
    "sd-collect card_file": collect_card_file,
    "sd-collect --output": collect_output,
    "sd-collect --partitions": collect_partitions,
    "sd-collect --allow-card-output": collect_allow_card_output,
    "sd-collect --force": collect_force,
}
