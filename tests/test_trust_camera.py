"""Nothing on disk is trusted without the camera's word (issue "Trust nothing on disk"):
another camera's finished backup, a journal or a record that claims what the card does not
hold, a wrong --prompt, --log, RAM windows outside what U-Boot leaves free."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest

from harness.camera.partitions import model_table
from tests.support import sdcards
from tests.support.run_cli import one_error, uboot_dump, uboot_emu
from tests.support.sdfixtures import (
    TABLE,
    card_as_expected,
    card_copy,
    collect,
    find_pattern_sector,
    prepared_card,
    read_at,
    same_card,
    snapshot,
    write_at,
)

ROOTFS = next(p for p in TABLE if p.name == "ROOTFS")
HOME = next(p for p in TABLE if p.name == "HOME")


def camera_flash(seed: int) -> bytes:
    """A 16 MiB flash, erased but for 20 KiB of this camera's own bytes in ROOTFS and HOME
    (erased chunks are skipped over md, so a backup of it takes seconds)."""
    flash = bytearray(b"\xff" * (16 << 20))
    for p in (ROOTFS, HOME):
        own = bytes((seed * 31 + i * 7) & 0xFF for i in range(20 << 10))
        flash[p.offset : p.offset + len(own)] = own
    return bytes(flash)


def backup(port: Path, out: Path, *extra: str):
    return uboot_dump(
        "backup", "--port", str(port), "--model", "y203c", "-o", str(out), "--via", "md",
        "--timeout", "3", "--power-timeout", "20", *extra,
    )  # fmt: skip


def contents(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir()) if p.is_file()}


def test_another_cameras_backup_is_not_taken_for_this_ones(tmp_path):
    img1, img2 = tmp_path / "cam1.img", tmp_path / "cam2.img"
    img1.write_bytes(camera_flash(1))
    img2.write_bytes(camera_flash(2))
    out = tmp_path / "backup"
    with uboot_emu(img1, tmp_path / "p1", "--at-prompt", "--baud", "0"):
        r = backup(tmp_path / "p1", out)
    assert r.returncode == 0, r.stderr
    before = {k: v for k, v in contents(out).items() if k != "bootlog.txt"}
    with uboot_emu(img2, tmp_path / "p2", "--at-prompt", "--baud", "0"):
        r = backup(tmp_path / "p2", out)
        assert r.returncode == 8
        line = one_error(r, r.returncode, after_notes=True)
        assert "ROOTFS" in line and "--restart" in line and "new directory" in line
        assert {k: v for k, v in contents(out).items() if k != "bootlog.txt"} == before
        r = backup(tmp_path / "p2", out, "--restart")
    assert r.returncode == 0, r.stderr
    assert (out / "sys_y203c").read_bytes() == camera_flash(2)[ROOTFS.offset : ROOTFS.end]
    assert (out / "home_y203c").read_bytes() == camera_flash(2)[HOME.offset : HOME.end]
    # the same camera again: proven by its crc32, not read again
    with uboot_emu(img2, tmp_path / "p3", "--at-prompt", "--baud", "0"):
        r = backup(tmp_path / "p3", out)
    assert r.returncode == 0, r.stderr
    assert r.stderr.decode().count("already backed up, and the camera's crc32 agrees") == 2


def test_a_wrong_prompt_is_exit_4_and_log_records_the_session(tmp_path):
    img = tmp_path / "cam.img"
    img.write_bytes(camera_flash(3))
    log = tmp_path / "session.log"
    with uboot_emu(img, tmp_path / "p", "--at-prompt", "--baud", "0"):
        r = backup(tmp_path / "p", tmp_path / "o1", "--prompt", "WRONG # ")
        assert r.returncode == 4
        assert "MStar # " in one_error(r, r.returncode, after_notes=True)
        r = backup(tmp_path / "p", tmp_path / "o2", "--log", str(log), "--partitions", "ROOTFS")
    assert r.returncode == 0, r.stderr
    text = log.read_bytes()
    assert b"MStar # " in text and b"sf read" in text and b"CRC32 for" in text


@pytest.mark.parametrize(
    "ram, via",
    [
        ("0x22c00000", "auto"),  # the SD layout would reach U-Boot's code at 0x23e00000
        ("0x14000000", "md"),  # the flash's memory-mapped window
        ("0x0", "md"),
        ("0x23000000", "md"),  # U-Boot's heap and stack
        ("0xfff00000", "md"),
        ("0x23f00000", "sd"),
    ],
)
def test_ram_windows_outside_free_dram_are_refused_before_the_port_opens(tmp_path, ram, via):
    r = uboot_dump(
        "backup", "--port", str(tmp_path / "no-such-port"), "--model", "y203c",
        "-o", str(tmp_path / "o"), "--ram", ram, "--via", via,
    )  # fmt: skip
    assert r.returncode == 2  # not 3: the port was never opened
    assert "not inside the RAM the tool may use" in one_error(r, r.returncode, after_notes=True)
    assert not (tmp_path / "o").exists()


def test_a_boot_log_partition_too_big_for_the_window_is_refused(tmp_path):
    log = tmp_path / "boot.log"
    log.write_text(
        'Creating 2 MTD partitions on "NOR_FLASH":\n'
        '0x000000000000-0x000000050000 : "BOOT"\n'
        '0x000000050000-0x000003050000 : "ROOTFS"\n'
    )
    r = uboot_dump(
        "backup", "--port", str(tmp_path / "none"), "--model", "mycam", "-o", str(tmp_path / "o"),
        "--bootlog", str(log), "--partitions", "ROOTFS",
    )  # fmt: skip
    assert r.returncode == 2
    line = one_error(r, r.returncode, after_notes=True)
    assert "beyond the 256 MiB flash" in line or "RAM" in line


def _row(start: int, end: int, name: str) -> str:
    return f'0x{start:012x}-0x{end:012x} : "{name}"'


@pytest.mark.parametrize(
    "rows, why",
    [
        ([_row(0, 0x50000, "BOOT"), _row(0x50000, 0x50000, "ROOTFS")], "4 KiB"),
        ([_row(0, 0x60000, "BOOT"), _row(0x50000, 0x100000, "ROOTFS")], "overlaps"),
        ([_row(0, 0x50000, "BOOT"), _row(0x50000, 0x100000, "../x")], "not a name"),
        ([_row(0, 0x50000, "BOOT"), _row(0x50000, 0x2000000, "ROOTFS")], "beyond"),
    ],
)
def test_boot_log_tables_are_checked(tmp_path, rows, why):
    log = tmp_path / "boot.log"
    log.write_text('Creating 2 MTD partitions on "NOR_FLASH":\n' + "\n".join(rows) + "\n")
    r = uboot_dump(
        "backup", "--port", str(tmp_path / "none"), "--model", "y203c", "-o", str(tmp_path / "o"),
        "--bootlog", str(log), "--table-from", "bootlog",
    )  # fmt: skip
    assert r.returncode == 2
    assert why in one_error(r, r.returncode, after_notes=True)


# -- the SD path: what the card holds is checked, whatever the records say --------------------
def sd_backup(port: Path, out: Path):
    return uboot_dump(
        "backup", "--port", str(port), "--model", "y203c", "-o", str(out), "--via", "sd",
        "--timeout", "3", "--power-timeout", "20",
    )  # fmt: skip


@pytest.fixture(scope="module")
def sd_camera(tmp_path_factory):
    work = tmp_path_factory.mktemp("sdcam")
    img = work / "flash.img"
    img.write_bytes(camera_flash(5))
    return img, prepared_card(work)


def test_a_block_the_card_lost_after_a_complete_run_is_copied_again(sd_camera, tmp_path):
    img, template = sd_camera
    card = card_copy(template, tmp_path)
    original = snapshot(card)
    flash = img.read_bytes()
    out = tmp_path / "out"
    with uboot_emu(img, tmp_path / "p", "--at-prompt", "--baud", "0", "--sd", str(card)):
        r = sd_backup(tmp_path / "p", out)
    assert r.returncode == 0, r.stderr
    assert card_as_expected(card, original, flash)
    done = snapshot(card)
    # the card loses block 3: its sectors hold the pattern again
    first = find_pattern_sector(original, 3 * 2048)  # the file lies in one piece
    write_at(card, first, read_at(original, first, 2048 * 512))
    r = collect(card, out)
    assert r.returncode == 7 and "run the same backup again" in one_error(
        r, r.returncode, after_notes=True
    )
    with uboot_emu(img, tmp_path / "p", "--at-prompt", "--baud", "0", "--sd", str(card)):
        r = sd_backup(tmp_path / "p", out)
    assert r.returncode == 0, r.stderr
    assert same_card(card, done)
    record = json.loads((out / "manifest.json").read_text())["sd"]
    assert record["sectors_written"] == 32768 + 2048  # block 3 once more, nothing else
    assert collect(card, out).returncode == 0


def test_a_journal_claiming_blocks_never_written(sd_camera, tmp_path):
    img, template = sd_camera
    card = card_copy(template, tmp_path)
    original = snapshot(card)
    out = tmp_path / "out"
    out.mkdir()
    file_id = sdcards.mread(card, "UBDUMP.BIN")[20:36].hex()
    lines = [{"version": 1, "file_id": file_id, "length": 16 << 20, "block": 1 << 20}]
    flash = img.read_bytes()
    for k in range(4):
        block = flash[k << 20 : (k + 1) << 20]
        lines.append(
            {"offset": k << 20, "length": 1 << 20, "crc": zlib.crc32(block), "skipped": False}
        )
    (out / "sd.journal").write_text("".join(json.dumps(x) + "\n" for x in lines))
    with uboot_emu(img, tmp_path / "p", "--at-prompt", "--baud", "0", "--sd", str(card)):
        r = sd_backup(tmp_path / "p", out)
    assert r.returncode == 0, r.stderr
    assert card_as_expected(card, original, flash)
    assert collect(card, out).returncode == 0


def test_sd_collect_of_the_pc_side_prepared_copy_says_so(sd_camera, tmp_path):
    img, template = sd_camera
    card = card_copy(template, tmp_path)
    out = tmp_path / "out"
    pc_copy = tmp_path / "UBDUMP.BIN"
    pc_copy.write_bytes(sdcards.mread(card, "UBDUMP.BIN"))
    with uboot_emu(img, tmp_path / "p", "--at-prompt", "--baud", "0", "--sd", str(card)):
        assert sd_backup(tmp_path / "p", out).returncode == 0
    r = uboot_dump("sd-collect", str(pc_copy), "-o", str(out))
    assert r.returncode == 7
    assert "still holds the prepared pattern" in one_error(r, r.returncode, after_notes=True)
    assert not (out / "sys_y203c").exists()


def test_the_models_dram_map():
    from harness.camera.memory import memory_map

    assert model_table("y203c") is not None
    assert memory_map("y203c").usable == (0x20000000, 0x23000000)


def test_bdinfo_where_the_target_has_it_narrows_the_ram_window(emulator, tmp_path):
    """The Yi cameras' U-Boot has no bdinfo (the model's data decides there); a build that
    has one is believed. The parser on U-Boot 2023.01's own bdinfo (captured under QEMU):
    DRAM 0x40000000 + 128 MiB, lmb reservations from 0x45df3000. Then a camera whose build
    answers bdinfo in that format, with its stack at 0x21800000: a window reaching past
    0x21700000 is refused once the camera has said so, one below passes."""
    import json

    from emulator.profile import load
    from harness.backup.job import Backup
    from harness.backup.plan import Plan
    from harness.base.errors import UsageError
    from harness.camera.memory import memory_map, memory_map_from_bdinfo
    from harness.link.transport import Transport
    from tests.conftest import ROOT

    text = (ROOT / "emulator" / "profiles" / "mainline-bdinfo.txt").read_text()
    mm = memory_map_from_bdinfo(text, memory_map("y203c"))
    assert (mm.dram_start, mm.dram_size) == (0x40000000, 0x8000000)
    assert mm.usable == (0x40000000, 0x45DF3000)
    assert memory_map_from_bdinfo("no bank here", memory_map("y203c")) == memory_map("y203c")

    mstar = load("mstar")
    table = json.loads(mstar.command_table.read_text())
    qemu = json.loads(
        (ROOT / "emulator" / "profiles" / "commands-2023.01-qemu_arm.json").read_text()
    )
    table["commands"]["bdinfo"] = qemu["commands"]["bdinfo"]
    (tmp_path / "table.json").write_text(json.dumps(table))
    said = text.replace("0x40000000", "0x20000000").replace("0x08000000", "0x04000000")
    said = said.replace("0x46df7e90", "0x21800000").replace("0x46df7ea0", "0x21800010")
    said = "\n".join(line for line in said.splitlines() if "reserved[" not in line) + "\n"
    commands = mstar.commands + ("bdinfo",) if mstar.commands else ()
    with_bdinfo = mstar.with_(command_table=tmp_path / "table.json", bdinfo=said, commands=commands)
    emu = emulator(camera_flash(7), with_bdinfo, at_prompt=True)
    for ram in (0x21600000, 0x21000000):
        t = Transport(emu.port)
        try:
            plan = Plan("y203c", tmp_path / hex(ram), (ROOTFS,), ram=ram, via="md")
            job = Backup(t, plan, say=lambda s: None, timeout=3.0, power_timeout=10)
            if ram == 0x21600000:
                with pytest.raises(UsageError, match="the target's bdinfo"):
                    job.run()
            else:
                job.run()
                assert (tmp_path / hex(ram) / "sys_y203c").read_bytes() == camera_flash(7)[
                    ROOTFS.offset : ROOTFS.end
                ]
        finally:
            t.close()


def test_a_file_the_manifest_does_not_describe_is_not_replaced_unasked(tmp_path):
    img = tmp_path / "cam.img"
    img.write_bytes(camera_flash(8))
    out = tmp_path / "out"
    out.mkdir()
    (out / "sys_y203c").write_bytes(b"a file of the user's")
    with uboot_emu(img, tmp_path / "p", "--at-prompt", "--baud", "0"):
        r = backup(tmp_path / "p", out, "--partitions", "ROOTFS")
        assert "--restart" in one_error(r, 2, after_notes=True)
        assert (out / "sys_y203c").read_bytes() == b"a file of the user's"
        r = backup(tmp_path / "p", out, "--partitions", "ROOTFS", "--restart")
    assert r.returncode == 0, r.stderr
    assert (out / "sys_y203c").read_bytes() == camera_flash(8)[ROOTFS.offset : ROOTFS.end]
