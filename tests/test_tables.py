"""Partition tables as boot logs give them: `mtdparts=` and the kernel's `Creating N MTD
partitions` lines; the models' built-in tables."""

from __future__ import annotations

import pytest

from harness.errors import UsageError
from harness.partitions import Partition, from_bootlog, parse_mtdparts


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
