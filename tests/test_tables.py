"""Partition tables as boot logs give them: `mtdparts=` and the kernel's `Creating N MTD
partitions` lines; the models' built-in tables."""

from __future__ import annotations

import pytest

from harness.base.errors import UsageError
from harness.camera.partitions import Partition, from_bootlog, parse_mtdparts


def test_mtdparts():
    parts = parse_mtdparts("hi_sfc:256k(boot)ro,64k(env),0x300000(kernel),-(rootfs)", 16 << 20)
    assert parts == (
        Partition(0, "boot", 0, 0x40000),
        Partition(1, "env", 0x40000, 0x10000),
        Partition(2, "kernel", 0x50000, 0x300000),
        Partition(3, "rootfs", 0x350000, 0x1000000 - 0x350000),
    )
    at = parse_mtdparts("nor0:1m@0x100000(a),2m(b)", 16 << 20)
    assert at == (Partition(0, "a", 0x100000, 0x100000), Partition(1, "b", 0x200000, 0x200000))
    with pytest.raises(UsageError):
        parse_mtdparts("nor0:256k(boot,64k(env)", 16 << 20)


def test_bootlog_tables():
    log = (
        'Creating 2 MTD partitions on "nor0":\r\n'
        '0x000000000000-0x000000050000 : "BOOT"\r\n'
        '0x000000050000-0x0000001d0000 : "KERNEL"\r\n'
    )
    assert from_bootlog(log) == (
        Partition(0, "BOOT", 0, 0x50000),
        Partition(1, "KERNEL", 0x50000, 0x180000),
    )
    with pytest.raises(UsageError, match="expected 2 partition lines"):
        from_bootlog(log.rsplit("0x0000000500", 1)[0])
    with pytest.raises(UsageError, match="no partition table"):
        from_bootlog("U-Boot 2015.01\n")


def test_one_file_holds_each_models_partition_table():
    """harness/camera/models.json: the emulator's profiles, the backup, the tests, the demo and the
    benchmarks read it; no other file spells a table out (HOME's size is the tell)."""

    from emulator.profile import load
    from harness.camera.models import MODELS_FILE, models
    from harness.camera.partitions import model_table

    table = model_table("y203c")
    for profile in ("mstar", "sigmastar"):
        parts = load(profile).partitions
        assert [(p.name, p.start, p.size) for p in parts] == [
            (p.name, p.offset, p.size) for p in table
        ]
    assert set(models()) == {"y203c", "h201c", "y25", "y23"}
    root = MODELS_FILE.parent.parent
    spelled = []
    for sub in ("harness", "emulator", "tests", "scripts", "benchmarks", "fixtures"):
        for path in (root / sub).rglob("*"):
            if path.is_file() and path.suffix in ("", ".py", ".json", ".log", ".sh"):
                if path != MODELS_FILE and "c3" + "0000" in path.read_text("latin-1").lower():
                    spelled.append(str(path.relative_to(root)))
    assert spelled == [], spelled
