"""Rows for verify and restore: the console options, then their own. The camera of `cam` is
not writable: a restore onto it must find every block equal (it sends no write); the rows
that write run their own writable camera."""

from __future__ import annotations

import time
from typing import Callable

from tests.options.common import code, ok
from tests.support.camera import ROOTFS, mkfs
from tests.support.run_cli import power_switch_cmd, uboot_dump, uboot_emu


def runner(cmd: str):
    def run(cam, tmp, backup, *extra: str):
        return uboot_dump(cmd, str(backup), "--port", cam[0], "--model", "y203c",
                          "--partitions", "ROOTFS", "--record", str(tmp), *extra)  # fmt: skip

    return run


RUNS = {"verify": runner("verify"), "restore": runner("restore")}


def port_row(cmd: str):
    def check(cam, image, tmp, backup):
        assert code(RUNS[cmd](cam, tmp, backup)) == 0
        assert code(RUNS[cmd]((str(tmp / "ttyNONE"), cam[1]), tmp, backup)) == 3

    return check


def baud_row(cmd: str):
    """The rate the port is opened at (a pty carries any); a rate outside 50..4000000 is
    refused before the port is opened."""

    def check(cam, image, tmp, backup):
        assert code(RUNS[cmd](cam, tmp, backup, "--baud", "115200")) == 0
        assert code(RUNS[cmd](cam, tmp, backup, "--baud", "9600")) == 0
        assert code(RUNS[cmd](cam, tmp, backup, "--baud", "12")) == 2

    return check


def prompt_row(cmd: str):
    def check(cam, image, tmp, backup):
        assert code(RUNS[cmd](cam, tmp, backup, "--prompt", "MStar # ")) == 0
        assert code(RUNS[cmd](cam, tmp, backup, "--prompt", "WRONG # ")) == 4

    return check


def timeout_row(cmd: str):
    def check(cam, image, tmp, backup):
        (tmp / "off.img").write_bytes(cam[1])
        with uboot_emu(tmp / "off.img", tmp / "off", "--power-on-after", "600", "--baud", "0"):
            t0 = time.monotonic()
            r = RUNS[cmd]((str(tmp / "off"), cam[1]), tmp, backup, "--timeout", "1",
                          "--power-timeout", "1")  # fmt: skip
            took = time.monotonic() - t0
        assert r.returncode == 4 and took < 8, (r.returncode, took)

    return check


def log_row(cmd: str):
    def check(cam, image, tmp, backup):
        log = tmp / "session.log"
        assert code(RUNS[cmd](cam, tmp, backup, "--log", str(log))) == 0
        said = log.read_bytes()
        assert b"MStar # " in said and b"crc32 " in said and b"sf erase" not in said

    return check


def positional_and_model(cmd: str):
    def check(cam, image, tmp, backup):
        ok(cmd, str(backup), "--port", cam[0], "--model", "y203c", "--partitions", "ROOTFS",
           "--record", str(tmp))  # fmt: skip
        r = uboot_dump(cmd, str(tmp / "none"), "--port", cam[0], "--model", "y203c")
        assert r.returncode == 2 and b"is not a directory" in r.stderr
        r = uboot_dump(cmd, str(backup), "--port", cam[0], "--model", "y25")
        assert r.returncode == 2 and b"not of a y25" in r.stderr

    return check


def partitions_row(cmd: str):
    def check(cam, image, tmp, backup):
        ok(cmd, str(backup), "--port", cam[0], "--model", "y203c", "--partitions", "ROOTFS",
           "--record", str(tmp))  # fmt: skip
        r = uboot_dump(cmd, str(backup), "--port", cam[0], "--model", "y203c")  # HOME too
        assert r.returncode == 2 and b"has no HOME" in r.stderr
        r = uboot_dump(cmd, str(backup), "--port", cam[0], "--model", "y203c",
                       "--partitions", "BOOT")  # fmt: skip
        assert r.returncode == 2 and b"never written" in r.stderr

    return check


def ram_row(cmd: str):
    def check(cam, image, tmp, backup):
        log = tmp / "ram.log"
        assert code(RUNS[cmd](cam, tmp, backup, "--ram", "0x21800000", "--log", str(log))) == 0
        assert b"sf read 21800000 1d0000" in log.read_bytes()
        assert code(RUNS[cmd](cam, tmp, backup, "--ram", "0x22f00000")) == 2  # past U-Boot's

    return check


def power_timeout_row(cmd: str):
    def check(cam, image, tmp, backup):
        (tmp / "later.img").write_bytes(cam[1])
        with uboot_emu(tmp / "later.img", tmp / "later", "--power-on-after", "3", "--baud", "0"):
            r = RUNS[cmd]((str(tmp / "later"), cam[1]), tmp, backup, "--power-timeout", "1")
        assert r.returncode == 4
        with uboot_emu(tmp / "later.img", tmp / "later2", "--power-on-after", "2", "--baud", "0"):
            r = RUNS[cmd]((str(tmp / "later2"), cam[1]), tmp, backup, "--power-timeout", "30")
        assert r.returncode == 0, r.stderr.decode()

    return check


def power_cmd_row(cmd: str):
    """A camera that is off until its switch is used (the emulator's --control): with
    --power-cmd the run switches it on itself; without, it waits for a person (exit 4)."""

    def check(cam, image, tmp, backup):
        (tmp / "off.img").write_bytes(cam[1])
        sock = tmp / "power.sock"
        with uboot_emu(tmp / "off.img", tmp / "off", "--power-on-after", "600", "--baud", "0",
                       "--control", str(sock)):  # fmt: skip
            port = (str(tmp / "off"), cam[1])
            assert code(RUNS[cmd](port, tmp, backup, "--power-timeout", "1")) == 4
            r = RUNS[cmd](
                port, tmp, backup, "--power-cmd", power_switch_cmd(sock), "--power-timeout", "30"
            )
        assert r.returncode == 0 and b"(--power-cmd)" in r.stderr, r.stderr.decode()

    return check


def record_row(cmd: str):
    def check(cam, image, tmp, backup):
        assert code(RUNS[cmd](cam, tmp / "no" / "rec", backup)) == 2  # its parent must exist
        assert code(RUNS[cmd](cam, tmp / "rec", backup)) == 0  # made where its parent is
        assert b"MStar # " in (tmp / "rec" / "bootlog.txt").read_bytes()

    return check


def image_row(cmd: str):
    """A single image: verify finds it differs (exit 14); restore writes it, after which
    verify is clean."""

    def check(cam, image, tmp, backup):
        tree = tmp / "tree"
        tree.mkdir()
        (tree / "new.txt").write_text("restored\n")
        new = tmp / "new.jffs2"
        mkfs(tree, new)
        (tmp / "w.img").write_bytes(cam[1])
        with uboot_emu(tmp / "w.img", tmp / "w", "--at-prompt", "--baud", "0", "--writable"):
            args = ("--port", str(tmp / "w"), "--model", "y203c", "--record", str(tmp))
            image_arg = ("--image", f"ROOTFS={new}")
            if cmd == "verify":
                assert code(uboot_dump("verify", *args, *image_arg)) == 14
                ok("verify", *args, "--image", f"ROOTFS={image}")  # the camera's own ROOTFS
            else:
                ok("restore", *args, *image_arg)
                ok("verify", *args, *image_arg)
        if cmd == "restore":  # --writable: the image file is the flash, across restarts
            data = new.read_bytes()
            assert (tmp / "w.img").read_bytes()[ROOTFS[0] : ROOTFS[0] + len(data)] == data
            with uboot_emu(tmp / "w.img", tmp / "w2", "--at-prompt", "--baud", "0"):
                ok("verify", "--port", str(tmp / "w2"), "--model", "y203c", "--record",
                   str(tmp), *image_arg)  # fmt: skip

    return check


def restore_via(cam, image, tmp, backup):
    """line: nothing asked of a card; sd: the card or exit 13 (the camera of `cam` has none);
    auto: the line, after saying why."""
    log = tmp / "line.log"
    assert code(RUNS["restore"](cam, tmp, backup, "--via", "line", "--log", str(log))) == 0
    assert b"mmc dev" not in log.read_bytes() and b"mmc read" not in log.read_bytes()
    r = RUNS["restore"](cam, tmp, backup, "--via", "sd")
    assert r.returncode == 13, r.stderr.decode()
    r = RUNS["restore"](cam, tmp, backup, "--via", "auto")
    assert r.returncode == 0 and b"SD path not used" in r.stderr


def prepare_restore(cam, image, tmp, backup):
    from harness.sd.restorefile import RestoreHeader

    for which, extents in ((("--partitions", "ROOTFS"), 1), ((), 2)):
        mnt = tmp / f"mnt{extents}"
        mnt.mkdir()
        r = uboot_dump("sd-prepare", str(mnt), "--restore", str(backup), *which)
        if extents == 2:  # the backup of `cam` holds ROOTFS alone: HOME cannot be staged
            assert r.returncode == 2 and b"has no HOME" in r.stderr
            continue
        assert r.returncode == 0, r.stderr.decode()
        header = RestoreHeader.unpack((mnt / "UBRESTOR.BIN").read_bytes()[:512])
        assert [e[:2] for e in header.extents] == [(ROOTFS[0], ROOTFS[1])]


def restore_other_camera(cam, image, tmp, backup):
    """On the backup's own camera it changes nothing; it refuses vd1 and conf (before the
    port is opened); its effect on another camera is tests/restore's and test_exit_codes'."""
    assert code(RUNS["restore"](cam, tmp, backup, "--other-camera")) == 0
    r = uboot_dump("restore", str(backup), "--port", str(tmp / "none"), "--model", "y203c",
                   "--partitions", "conf", "--other-camera")  # fmt: skip
    assert r.returncode == 2 and b"never writes conf" in r.stderr


def restore_no_undo(cam, image, tmp, backup):
    """Nothing to keep on an unchanged camera either way; --no-undo says it keeps nothing
    (what is kept when blocks are written: tests/restore)."""
    r = RUNS["restore"](cam, tmp, backup, "--no-undo")
    assert r.returncode == 0 and b"--no-undo: the old content" in r.stderr
    r = RUNS["restore"](cam, tmp, backup)
    assert r.returncode == 0 and b"--no-undo" not in r.stderr


SHOWN_TOGETHER = {c: positional_and_model(c) for c in RUNS}  # one run shows both


def sd_undo_row(cam, image, tmp):
    """The block undo.json keeps on the card, fetched from the card's UBRESTOR.BIN into
    UNDO_DIR; --model is the undo list's (another model's is refused); a missing file or a
    directory without undo.json is refused."""
    import json
    import zlib

    from harness.sd.restorefile import RestoreHeader, file_bytes

    data = bytes(range(256)) * 256
    header = RestoreHeader.new("y203c", [(ROOTFS[0], data)])
    old = bytes(reversed(data))
    raw = bytearray(file_bytes(header, [data]))
    at = 512 * (1 + header.undo_sector(ROOTFS[0]))
    raw[at : at + len(old)] = old  # what the camera copied there before the erase
    card = tmp / "UBRESTOR.BIN"
    card.write_bytes(bytes(raw))
    undo = tmp / "undo"
    undo.mkdir()
    block = {"offset": ROOTFS[0], "size": len(old), "crc32": f"{zlib.crc32(old):08x}",
             "file": f"0x{ROOTFS[0]:08x}.bin", "on_card": header.file_id.hex()}  # fmt: skip
    (undo / "undo.json").write_text(json.dumps({"model": "y203c", "blocks": [block]}))
    assert code(uboot_dump("sd-undo", str(card), str(undo), "--model", "h201c")) == 2
    assert code(uboot_dump("sd-undo", str(tmp / "none.bin"), str(undo))) == 2
    assert code(uboot_dump("sd-undo", str(card), str(tmp))) == 2
    ok("sd-undo", str(card), str(undo), "--model", "y203c")
    assert (undo / block["file"]).read_bytes() == old


ROWS: dict[str, Callable] = {
    "sd-undo card_file": sd_undo_row,
    "sd-undo undo_dir": sd_undo_row,
    "sd-undo --model": sd_undo_row,
    "restore --no-undo": restore_no_undo,
    "restore --other-camera": restore_other_camera,
    "restore --via": restore_via,
    "sd-prepare --restore": prepare_restore,
    "sd-prepare --partitions": prepare_restore,
    **{f"{c} --port": port_row(c) for c in RUNS},
    **{f"{c} --baud": baud_row(c) for c in RUNS},
    **{f"{c} --prompt": prompt_row(c) for c in RUNS},
    **{f"{c} --timeout": timeout_row(c) for c in RUNS},
    **{f"{c} --log": log_row(c) for c in RUNS},
    **{f"{c} backup": SHOWN_TOGETHER[c] for c in RUNS},
    **{f"{c} --model": SHOWN_TOGETHER[c] for c in RUNS},
    **{f"{c} --partitions": partitions_row(c) for c in RUNS},
    **{f"{c} --image": image_row(c) for c in RUNS},
    **{f"{c} --ram": ram_row(c) for c in RUNS},
    **{f"{c} --power-timeout": power_timeout_row(c) for c in RUNS},
    **{f"{c} --record": record_row(c) for c in RUNS},
    **{f"{c} --power-cmd": power_cmd_row(c) for c in RUNS},
}
