"""`backup` end to end: a camera powered on by the test, restorable images, resume, errors."""

import json
import threading
from pathlib import Path

import pytest

from harness.backup.job import Backup
from harness.backup.plan import Plan
from harness.base.errors import CommandFailed
from harness.camera.partitions import model_table, select
from harness.link.transport import Transport
from tests.support.camera import (
    FIXTURE_TREES,
    HOME,
    ROOTFS,
    flash_from_trees,
    jefferson_extract,
    tree_listing,
)
from tests.support.run_cli import uboot_dump


@pytest.fixture(scope="module")
def flash(tmp_path_factory):
    work = tmp_path_factory.mktemp("flash")
    return flash_from_trees(work, FIXTURE_TREES / "rootfs", FIXTURE_TREES / "home")


def plan(out: Path, which="ROOTFS,HOME", chunk=0x4000) -> Plan:
    return Plan("y203c", out, select(model_table("y203c"), which), all_=which == "all", chunk=chunk)


def run_backup(emu, out, *, which="ROOTFS,HOME", on_say=None, progress=None, **kw):
    messages = []

    def say(text):
        messages.append(text)
        if on_say:
            on_say(text)

    t = Transport(emu.port)
    try:
        job = Backup(
            t,
            plan(out, which),
            say=say,
            timeout=2.0,
            power_timeout=30,
            progress=progress or (lambda p: None),
            **kw,
        )
        manifest = job.run()
    finally:
        t.close()
    return manifest, messages


def check_files(out: Path, flash: bytes, tmp_path: Path):
    assert (out / "sys_y203c").read_bytes() == flash[ROOTFS[0] : sum(ROOTFS)]
    assert (out / "home_y203c").read_bytes() == flash[HOME[0] : sum(HOME)]
    assert (out / "sys_y203c").read_bytes()[:2] == b"\x85\x19"  # flash order, little-endian JFFS2
    for name, tree in (("sys_y203c", "rootfs"), ("home_y203c", "home")):
        got = jefferson_extract(out / name, tmp_path / f"x-{name}")
        assert got == tree_listing(FIXTURE_TREES / tree)


def test_from_power_on_to_restorable_images(emulator, flash, tmp_path):
    emu = emulator(flash, "mstar", powered=False)
    out = tmp_path / "b"
    timer = threading.Timer(0.3, emu.power_on)  # the user switches the camera on
    timer.start()
    manifest, messages = run_backup(emu, out)
    timer.join()
    assert messages[0].startswith("Power the camera on now")
    assert any("etc/back.bin" in m for m in messages)
    check_files(out, flash, tmp_path)
    boot = (out / "bootlog.txt").read_bytes()
    assert b"IPL gd156225" in boot and b"MStar # " in boot
    rootfs = manifest["partitions"]["ROOTFS"]
    assert rootfs["offset"] == ROOTFS[0] and rootfs["size"] == ROOTFS[1]
    assert rootfs["jffs2"]["layout"] == "little" and rootfs["jffs2"]["crc_errors"] == 0
    assert manifest["uboot_version"] == "U-Boot 2015.01 (Apr 28 2018 - 17:08:00)"
    assert "SF: Detected nor0 with total size 16 MiB" in manifest["flash"]
    on_disk = json.loads((out / "manifest.json").read_text())
    assert on_disk["partitions"]["HOME"]["sha256"] == manifest["partitions"]["HOME"]["sha256"]


def test_with_faults_on_the_line(emulator, flash, tmp_path):
    emu = emulator(flash, "mstar", powered=False, faults="flip=1e-4,drop=5e-5,dup=2e-5", seed=5)
    out = tmp_path / "f"
    timer = threading.Timer(0.3, emu.power_on)
    timer.start()
    manifest, _ = run_backup(emu, out)
    timer.join()
    check_files(out, flash, tmp_path)
    assert sum(p["lines_reread"] for p in manifest["partitions"].values()) > 0


def test_camera_that_boots_linux_is_power_cycled(emulator, flash, tmp_path):
    emu = emulator(flash, "mstar", boot_window=0.05, powered=False)
    emu.power_on()
    while emu.state != "linux":
        threading.Event().wait(0.02)  # the camera was switched on long before the tool ran

    def on_say(text):
        if "booting Linux" in text:
            emu.power_cycle()  # the user does as told

    manifest, messages = run_backup(emu, tmp_path / "l", which="ROOTFS", on_say=on_say)
    assert any("switch it off and on again" in m for m in messages)
    assert (tmp_path / "l" / "sys_y203c").read_bytes() == flash[ROOTFS[0] : sum(ROOTFS)]


def test_power_loss_in_the_middle_resumes(emulator, flash, tmp_path):
    emu = emulator(flash, "mstar", at_prompt=True, boot_window=5)
    cut = {"done": False}

    def progress(p):
        def hook(done):
            # done: bytes read over md so far (erased chunks are not counted)
            if p.name == "HOME" and done >= 0x4000 and not cut["done"]:
                cut["done"] = True
                emu.power_cycle()  # the power goes and comes back: RAM is gone

        return hook

    manifest, messages = run_backup(emu, tmp_path / "p", progress=progress)
    assert cut["done"]
    assert any("waiting for U-Boot again" in m for m in messages)
    assert manifest["partitions"]["HOME"]["resumed_from"] >= 0x4000
    check_files(tmp_path / "p", flash, tmp_path)


def test_all_partitions_and_rerun_skips_finished(emulator, flash, tmp_path):
    emu = emulator(flash, "mstar", at_prompt=True)
    out = tmp_path / "a"
    run_backup(emu, out, which="all")
    names = sorted(p.name for p in out.iterdir())
    assert "mtd0_BOOT.bin" in names and "mtd5_conf.bin" in names and "sys_y203c" in names
    assert (out / "mtd3_HOME.bin").read_bytes() == flash[HOME[0] : sum(HOME)]
    _, messages = run_backup(emu, out, which="all")
    assert sum("already backed up" in m for m in messages) == 6


def test_sf_read_failing(emulator, flash, tmp_path, open_port):
    from harness.camera.partitions import Partition

    emu = emulator(flash, "mstar", at_prompt=True)
    t = open_port(emu)
    bad = Plan("y203c", tmp_path / "s", (Partition(2, "ROOTFS", 0xFF0000, 0x20000),))
    with pytest.raises(CommandFailed, match="attempting read past flash size"):
        Backup(t, bad, say=lambda s: None, timeout=2).run()
    assert not (tmp_path / "s" / "sys_y203c").exists()


def test_disagreeing_bootlog_stops_and_says_how(emulator, flash, tmp_path):
    log = tmp_path / "boot.log"
    log.write_text(
        'Creating 6 MTD partitions on "NOR_FLASH":\n'
        '0x000000000000-0x000000050000 : "BOOT"\n0x000000050000-0x0000001d0000 : "KERNEL"\n'
        '0x0000001d0000-0x0000003c0000 : "ROOTFS"\n0x0000003c0000-0x000000fe0000 : "HOME"\n'
        '0x000000fe0000-0x000000ff0000 : "vd1"\n0x000000ff0000-0x000001000000 : "conf"\n'
    )
    r = uboot_dump(
        "backup",
        "--port",
        "/dev/null",
        "--model",
        "y203c",
        "-o",
        str(tmp_path / "o"),
        "--bootlog",
        str(log),
    )
    err = r.stderr.decode()
    assert r.returncode == 2 and len(err.splitlines()) == 1
    assert "ROOTFS: mtd2 ROOTFS 0x1d0000-0x3c0000 vs mtd2 ROOTFS 0x1d0000-0x3b0000" in err
    assert "--table-from" in err
    emu = emulator(flash, "mstar", at_prompt=True)
    r = uboot_dump(
        "backup",
        "--port",
        emu.port,
        "--model",
        "y203c",
        "-o",
        str(tmp_path / "o"),
        "--bootlog",
        str(log),
        "--table-from",
        "model",
        "--partitions",
        "ROOTFS",
    )
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "o" / "sys_y203c").read_bytes() == flash[ROOTFS[0] : sum(ROOTFS)]


def test_unknown_model_needs_a_bootlog(tmp_path):
    r = uboot_dump("backup", "--port", "/dev/null", "--model", "x1", "-o", str(tmp_path / "o"))
    assert r.returncode == 2 and "give --bootlog" in r.stderr.decode()


def test_sigmastar_profile_cost_replies_and_its_prompt(emulator, flash, tmp_path):
    """A newer SDK build: `SigmaStar # `, `Read: OK (cost N ms)`, `Autobooting in 1 s`."""
    emu = emulator(flash, "sigmastar", powered=False)
    timer = threading.Timer(0.3, emu.power_on)
    timer.start()
    manifest, _ = run_backup(emu, tmp_path / "s", which="ROOTFS")
    timer.join()
    assert (tmp_path / "s" / "sys_y203c").read_bytes() == flash[ROOTFS[0] : sum(ROOTFS)]
    assert b"Autobooting in 1 seconds" in (tmp_path / "s" / "bootlog.txt").read_bytes()
