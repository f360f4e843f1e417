"""Hostile consoles (issue 13, item 4): the tool ends against each, in bounded time, with one
line and the documented exit code."""

from __future__ import annotations

import time

import pytest

from tests.support.fakeports import FakePort
from tests.support.run_cli import uboot_dump


@pytest.mark.parametrize(
    "kind, code, text, most",
    [
        ("trickle", 7, "answers too slowly", 40),  # one byte every 0.5 s inside an md
        ("endless", 7, "did not end", 60),  # md output that never stops, deaf to Ctrl-C
        ("random", 4, "not as U-Boot does", 15),  # a wrong baud rate
        ("echo", 4, "", 15),  # a console that only echoes
        ("linux", 5, "runs Linux", 15),  # a Linux shell
    ],
)
def test_read_mem_ends_against_a_hostile_console(tmp_path, kind, code, text, most):
    with FakePort(kind) as fake:
        t0 = time.monotonic()
        r = uboot_dump(
            "read-mem", "--port", fake.port, "--start", "0x21000000", "--length", "0x400",
            "-o", str(tmp_path / "out.bin"), "--timeout", "5", timeout=most + 30,
        )  # fmt: skip
        took = time.monotonic() - t0
    err = r.stderr.decode()
    assert r.returncode == code, err
    assert len(err.splitlines()) == 1 and text in err and "Traceback" not in err
    assert took < most, f"{took:.0f} s"
    assert not (tmp_path / "out.bin").exists()
