"""sd-collect (and a resumed backup) read manifest.json and the card's header; anyone can
edit them. Every edited or wrong-typed record is refused in one line, nothing is written,
inside -o or outside it."""

from __future__ import annotations

import json
import shutil
import struct
import zlib

import pytest

from harness.sd.staging import _HEADER
from tests.support import sdcards
from tests.support.run_cli import one_error, uboot_dump, uboot_emu
from tests.support.sdfixtures import prepared_card, small_flash


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A real SD backup: its -o directory (manifest.json) and the card's UBDUMP.BIN."""
    work = tmp_path_factory.mktemp("finished")
    img = small_flash(work / "flash.img")
    card = prepared_card(work)
    out = work / "out"
    with uboot_emu(img, work / "port", "--at-prompt", "--baud", "0", "--sd", str(card)):
        r = uboot_dump(
            "backup", "--port", str(work / "port"), "--model", "y203c", "-o", str(out),
            "--via", "sd", "--timeout", "3",
        )  # fmt: skip
    assert r.returncode == 0, r.stderr
    (work / "UBDUMP.BIN").write_bytes(sdcards.mread(card, "UBDUMP.BIN"))
    return out, work / "UBDUMP.BIN"


def region(m: dict, name: str) -> dict:
    return next(r for r in m["sd"]["regions"] if r["name"] == name)


def _evil_region(m):
    m["sd"]["regions"].append(
        {"name": "EVIL", "mtd": 9, "offset": -512, "size": 512, "crc32": "00000000"}
    )


def _huge_rootfs(m):
    region(m, "ROOTFS")["size"] = 0x7FFFFFFF


def _home_on_rootfs(m, data: bytes = b""):
    home, rootfs = region(m, "HOME"), region(m, "ROOTFS")
    home["offset"] = rootfs["offset"]
    home["crc32"] = rootfs["crc32"]


def _traversal_name(m):
    region(m, "vd1")["name"] = "a/../../escape"


def _set(path: str, value):
    def edit(m):
        *keys, last = path.split(".")
        node = m
        for k in keys:
            node = node[int(k)] if k.isdigit() else node[k]
        node[int(last) if last.isdigit() else last] = value

    return edit


EDITS = {
    "region at -512": _evil_region,
    "ROOTFS 0x7fffffff": _huge_rootfs,
    "HOME moved onto ROOTFS": _home_on_rootfs,
    "region name a/../../escape": _traversal_name,
    "model null": _set("model", None),
    "model 5": _set("model", 5),
    "model x/../../escape": _set("model", "x/../../escape"),
    "model non-ascii": _set("model", "\u00ff\u00fe"),
    "sd a list": _set("sd", []),
    "sd.regions an object": _set("sd.regions", {}),
    "a region a string": _set("sd.regions.0", "x"),
    "offset a string": _set("sd.regions.0.offset", "0"),
    "offset true": _set("sd.regions.0.offset", True),
    "offset 1.5": _set("sd.regions.0.offset", 1.5),
    "crc32 a number": _set("sd.regions.0.crc32", 123),
    "blocks an object": _set("sd.blocks", {}),
    "a block of strings": _set("sd.blocks.0", [0, "x", "y"]),
    "complete a string": _set("sd.complete", "yes"),
    "file_id a number": _set("sd.file_id", 5),
    "flash_size -1": _set("sd.flash_size", -1),
    "a block too long": _set("sd.blocks.0", [0, 0x200000, "00000000"]),
    "partitions a list": _set("partitions", []),
}


@pytest.mark.parametrize("case", sorted(EDITS))
def test_an_edited_manifest_is_refused_and_nothing_written(finished, tmp_path, case):
    out0, card_file = finished
    out = tmp_path / "deep" / "out"
    shutil.copytree(out0, out)
    m = json.loads((out / "manifest.json").read_text())
    EDITS[case](m)
    (out / "manifest.json").write_text(json.dumps(m))
    before = sorted(p.name for p in tmp_path.rglob("*"))
    r = uboot_dump("sd-collect", str(card_file), "-o", str(out), "--partitions", "all")
    one_error(r, 2)
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


@pytest.mark.parametrize("text", ["[]", '"x"', "5", "null", "{", ""])
def test_a_manifest_that_is_not_json_of_an_object(finished, tmp_path, text):
    out0, card_file = finished
    out = tmp_path / "out"
    shutil.copytree(out0, out)
    (out / "manifest.json").write_text(text)
    one_error(uboot_dump("sd-collect", str(card_file), "-o", str(out)), 2)
    assert not (out / "sys_y203c").exists()


def header_claiming(raw: bytes, flash_size: int) -> bytes:
    fields = list(_HEADER.unpack(raw[: _HEADER.size]))
    fields[3], fields[4] = flash_size // 512, flash_size
    body = _HEADER.pack(*fields)
    return (body + struct.pack("<I", zlib.crc32(body))).ljust(512, b"\0") + raw[512:]


def test_a_header_claiming_4_gib_is_refused_without_reading_it(finished, tmp_path):
    out0, card_file = finished
    out = tmp_path / "out"
    shutil.copytree(out0, out)
    bad = tmp_path / "UBDUMP.BIN"
    bad.write_bytes(header_claiming(card_file.read_bytes(), 0xFFFFFE00))
    one_error(uboot_dump("sd-collect", str(bad), "-o", str(out)), 7, "inconsistent")


def test_a_short_card_file_is_refused(finished, tmp_path):
    out0, card_file = finished
    out = tmp_path / "out"
    shutil.copytree(out0, out)
    bad = tmp_path / "UBDUMP.BIN"
    bad.write_bytes(card_file.read_bytes()[: 8 << 20])
    one_error(uboot_dump("sd-collect", str(bad), "-o", str(out)), 7, "shorter")


def test_the_real_record_collects(finished, tmp_path):
    out0, card_file = finished
    out = tmp_path / "out"
    shutil.copytree(out0, out)
    r = uboot_dump("sd-collect", str(card_file), "-o", str(out), "--partitions", "all")
    assert r.returncode == 0, r.stderr
    assert (out / "mtd4_vd1.bin").stat().st_size == 0x10000


def test_sd_prepare_model_names(tmp_path):
    card = tmp_path / "card"
    card.mkdir()
    for bad in ("\u00ff\u00fe", "x/../y", "", "a" * 40):
        one_error(uboot_dump("sd-prepare", str(card), "--model", bad), 2, "--model")
    assert not any(card.iterdir())


def test_a_resumed_backup_refuses_an_edited_manifest(finished, tmp_path):
    out0, _ = finished
    out = tmp_path / "out"
    shutil.copytree(out0, out)
    m = json.loads((out / "manifest.json").read_text())
    _home_on_rootfs(m)
    (out / "manifest.json").write_text(json.dumps(m))
    r = uboot_dump(
        "backup", "--port", str(tmp_path / "none"), "--model", "y203c", "-o", str(out),
        "--via", "md",
    )  # fmt: skip
    one_error(r, 2, "--restart")  # before the port is opened (it does not exist)
    assert not (out / "sys_y203c").exists()


@pytest.mark.parametrize("name", ["sys_y203c", "home_y203c", "manifest.json"])
def test_sd_collect_refuses_a_link_at_each_name_it_writes(finished, tmp_path, name):
    out0, card_file = finished
    out = tmp_path / "out"
    shutil.copytree(out0, out)
    victim = tmp_path / "victim"
    victim.write_bytes(b"the user's")
    if name == "manifest.json":  # the manifest is read first: a link is refused as a name
        (out / name).unlink()
        (out / name).symlink_to(out0 / name)
    else:
        (out / name).symlink_to(victim)
    r = uboot_dump("sd-collect", str(card_file), "-o", str(out))
    assert r.returncode == 12, r.stderr
    assert b"symbolic link" in r.stderr.splitlines()[-1]
    assert victim.read_bytes() == b"the user's"
    assert not (out / "sys_y203c").exists() or name == "sys_y203c"  # nothing written first
