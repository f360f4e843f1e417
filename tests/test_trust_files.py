"""No planted name redirects a write: a symbolic link (or a second hard link) at every name
the tool writes, outputs and temporaries alike, is refused and its target left as it was."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.base import safeio
from tests.conftest import FIXTURES
from tests.support.camera import FIXTURE_TREES, mkfs
from tests.support.run_cli import one_error, uboot_dump, uboot_emu
from tests.support.sdfixtures import prepared_file

VICTIM = b"a file of the user's that the tool must never write\n"


def plant(at: Path, victim: Path, kind: str = "symlink") -> None:
    if kind == "symlink":
        at.symlink_to(victim)
    else:
        os.link(victim, at)


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    v = tmp_path / "victim"
    v.write_bytes(VICTIM)
    return v


def untouched(victim: Path) -> None:
    assert victim.read_bytes() == VICTIM


def test_write_atomic_refuses_a_link_and_uses_fresh_temporaries(tmp_path, victim):
    out = tmp_path / "out.bin"
    plant(out, victim)
    with pytest.raises(safeio.UnsafeName):
        safeio.write_atomic(out, b"new")
    untouched(victim)
    out.unlink()
    stale = tmp_path / "out.bin.tmp"  # the old fixed temporary name: no longer used
    plant(stale, victim)
    safeio.write_atomic(out, b"new")
    assert out.read_bytes() == b"new" and not out.is_symlink()
    untouched(victim)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin", "out.bin.tmp", "victim"]


@pytest.mark.parametrize("kind", ["symlink", "hardlink"])
def test_append_and_update_refuse_links(tmp_path, victim, kind):
    for opener in (safeio.open_append, lambda p: safeio.open_update(p, create=True)):
        name = tmp_path / "planted"
        plant(name, victim, kind)
        with pytest.raises(safeio.UnsafeName):
            opener(name)
        name.unlink()
        untouched(victim)


# -- the offline commands: every output name, with and without --force -----------------------
@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("inputs")
    image = work / "rootfs.jffs2"
    mkfs(FIXTURE_TREES / "rootfs", image)
    words = work / "words.img"
    words.write_bytes(bytes(range(256)) * 16)
    return {"image": image, "words": words, "log": FIXTURES / "logs" / "community-rootfs-head.log"}


OFFLINE = {
    "parse-log": lambda i, o: ["parse-log", str(i["log"]), "-o", str(o)],
    "swap": lambda i, o: ["swap", str(i["words"]), str(o)],
    "jffs2 repack": lambda i, o: [
        "jffs2", "repack", str(FIXTURE_TREES / "home"), "-o", str(o), "--partition-size", "1M",
    ],
    "jffs2 clean": lambda i, o: ["jffs2", "clean", str(i["image"]), "-o", str(o)],
}  # fmt: skip


@pytest.mark.parametrize("command", sorted(OFFLINE))
@pytest.mark.parametrize("force", [False, True])
def test_offline_outputs_refuse_a_planted_link(tmp_path, victim, inputs, command, force):
    out = tmp_path / "out.bin"
    plant(out, victim)
    args = OFFLINE[command](inputs, out) + (["--force"] if force else [])
    r = uboot_dump(*args)
    # without --force the name exists (exit 2); with it, the write refuses the link (exit 12)
    one_error(r, 12 if force else 2)
    untouched(victim)
    assert out.is_symlink()
    dangling = tmp_path / "dangling.bin"
    dangling.symlink_to(tmp_path / "nowhere")
    r = uboot_dump(*OFFLINE[command](inputs, dangling))
    one_error(r, 12, "symbolic link")
    assert not (tmp_path / "nowhere").exists()


# -- read-mem and backup: outputs, journals, .part files, logs ----------------------------------
@pytest.fixture(scope="module")
def camera(tmp_path_factory):
    work = tmp_path_factory.mktemp("cam")
    img = work / "flash.img"
    flash = bytearray(b"\xff" * (16 << 20))
    flash[0x1D0000 : 0x1D0000 + 4096] = bytes(range(256)) * 16
    img.write_bytes(bytes(flash))
    link = work / "port"
    with uboot_emu(img, link, "--at-prompt", "--baud", "0"):
        yield link


@pytest.mark.parametrize(
    "name, kind",
    [(n, "symlink") for n in ("mem.bin", "mem.bin.part", "mem.bin.journal", "session.log")]
    # a hard link at the output itself is an existing output: refused as such (exit 2)
    + [(n, "hardlink") for n in ("mem.bin.part", "mem.bin.journal", "session.log")],
)
def test_read_mem_refuses_links_at_every_name(camera, tmp_path, victim, name, kind):
    plant(tmp_path / name, victim, kind)
    r = uboot_dump(
        "read-mem", "--port", str(camera), "--start", "0x14000000", "--length", "0x100",
        "-o", str(tmp_path / "mem.bin"), "--log", str(tmp_path / "session.log"),
    )  # fmt: skip
    # a journal that is not one (a hard link's target is read, never written) is exit 8
    codes = {"mem.bin": 2, "mem.bin.journal": 8 if kind == "hardlink" else 12}
    one_error(r, codes.get(name, 12))
    untouched(victim)


@pytest.mark.parametrize(
    "name",
    ["bootlog.txt", "manifest.json", "sys_y203c", "sys_y203c.part", "sys_y203c.journal", "log"],
)
def test_backup_refuses_links_at_every_name(camera, tmp_path, victim, name):
    out = tmp_path / "out"
    out.mkdir()
    plant((tmp_path if name == "log" else out) / name, victim)
    r = uboot_dump(
        "backup", "--port", str(camera), "--model", "y203c", "-o", str(out), "--via", "md",
        "--partitions", "ROOTFS", "--log", str(tmp_path / "log"), "--timeout", "3",
    )  # fmt: skip
    assert r.returncode in (2, 12), r.stderr
    assert b"Traceback" not in r.stderr
    untouched(victim)


def test_sd_prepare_refuses_a_link_at_its_file(tmp_path, victim):
    card = tmp_path / "card"
    card.mkdir()
    plant(card / "UBDUMP.BIN", victim)
    r = uboot_dump("sd-prepare", str(card), "--force")  # a note first: not a FAT card
    assert r.returncode == 12 and b"symbolic link" in r.stderr.splitlines()[-1], r.stderr
    untouched(victim)
    (card / "UBDUMP.BIN").unlink()
    plant(card / "UBDUMP.TMP", victim)  # the old fixed temporary name: ignored now
    assert uboot_dump("sd-prepare", str(card)).returncode == 0
    untouched(victim)


def test_sd_collect_refuses_links_at_its_outputs(tmp_path, victim):
    """sd-collect's outputs after a real SD backup are covered in test_trust_manifest; here the
    names are planted before a collect that fails its checks first: nothing is written."""
    pc = tmp_path / "pc"
    pc.mkdir()
    card_file = prepared_file(pc)
    out = tmp_path / "out"
    out.mkdir()
    plant(out / "sys_y203c", victim)
    plant(out / "sys_y203c.tmp", victim)
    r = uboot_dump("sd-collect", str(card_file), "-o", str(out))
    one_error(r, 2, "no record of a backup to an SD card")
    untouched(victim)
