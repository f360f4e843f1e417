"""`pytest -m hil --uboot-port PORT` as a user runs it, from outside the project, against
every target this machine can run: U-Boot 2023.01 under QEMU arm and arm64, the vendor's
2015.01 build, and the emulator's three profiles. No failures; every skip says why.

QEMU's U-Boot polls its UART without rest, so a QEMU target costs a whole core while it runs:
the default run takes arm (the same 2023.01 code as arm64), the slow campaign arm64 too."""

from __future__ import annotations

import re

import pytest

from tests.support.hil_targets import TARGETS, missing, run


@pytest.mark.parametrize(
    "name", [pytest.param(t, marks=pytest.mark.slow) if t == "qemu-arm64" else t for t in TARGETS]
)
def test_hil_suite(name):
    why = missing(name)
    if why:
        pytest.skip(why)
    r = run(name, [])
    out = r.stdout
    assert r.returncode == 0, out[-3000:] + r.stderr[-2000:]
    summary = out.strip().splitlines()[-1]
    assert "failed" not in summary and "error" not in summary, summary
    assert int(re.search(r"(\d+) passed", summary).group(1)) >= 21, summary
    assert "test_hil_sample" not in out  # the README's sample passed (not even skipped)
    skipped = [line for line in out.splitlines() if line.startswith("SKIPPED")]
    assert all(re.search(r"\.py:\d+: \S.{10,}", line) for line in skipped), skipped
    if name.startswith("qemu-") or name == "emu-mainline":
        assert "the target's U-Boot has no `sf`" in out  # skipped, named, not failed
    else:
        assert "has no `sf`" not in out
