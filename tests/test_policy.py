"""The command policy: what may reach a camera. The read-only set with the tool's RAM
window, and the SD path's guarded `mmc write` (one write per proof, voided by any other
command)."""

from __future__ import annotations

import pytest

from harness.base.errors import Refused
from harness.console.policy import ReadOnlyPolicy, SdWriteGuard

WINDOW = ReadOnlyPolicy(ram_window=(0x21000000, 0x21100000))
SD_WINDOW = (0x21000000, 0x22C00000)


# -- the read-only set -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "command",
    [
        "md.l 21000000 40",
        "md 0",
        "crc32 21000000 100",
        "help",
        "help md",
        "version",
        "printenv",
        "bdinfo",
        "sf probe",
        "sf read 21000000 1d0000 100000",
        "mw.b 21000000 ff 100000",
        "mw.l 210ffffc 0",
        "cp.b 14000000 21000000 100",
        "q1abcdef",
    ],
)
def test_policy_allows(command):
    WINDOW.check(command)


@pytest.mark.parametrize(
    "command",
    [
        "mw 20fffffc 0",  # below the window
        "mw.l 210ffffd 0",  # one byte past its end
        "mw.b 21000000 ff 100001",
        "cp.b 21000000 20000000 10",
        "sf read 22000000 0 10",
        "sf read 21000000 0 100001",
        "sf write 21000000 0 10",
        "sf erase 0 10000",
        "crc32 21000000 10 21000100",  # a store address writes memory
        "setenv a b",
        "saveenv",
        "md 0;saveenv",
        "md 0 'x'",
        "md $addr",
        "md\t0\r",
        "",
        "   ",
        "mw.x 21000000 0",
        "mw 21000000 0 1g",
        "help.l",
        "q1abcdeg",
        "md é",
    ],
)
def test_policy_refuses(command):
    with pytest.raises(Refused):
        WINDOW.check(command)


def test_policy_without_a_window_refuses_every_write():
    with pytest.raises(Refused, match="outside the RAM window"):
        ReadOnlyPolicy().check("mw.b 21000000 ff 1")


# -- the SD path's write guard -------------------------------------------------------------------
def policy() -> tuple[ReadOnlyPolicy, SdWriteGuard]:
    guard = SdWriteGuard()
    return ReadOnlyPolicy(ram_window=SD_WINDOW, sd_guard=guard), guard


def test_mmc_write_only_of_just_proven_sectors_once_each():
    p, guard = policy()
    with pytest.raises(Refused, match="not just proven"):
        p.check("mmc write 21000000 800 800")
    guard.prove([(0x800, 0x800), (0x2000, 0x10)])
    p.check("mmc write 21000000 800 800")
    with pytest.raises(Refused):  # out of order
        p.check("mmc write 21000000 800 800")
    guard.prove([(0x800, 0x800)])
    p.check("crc32 21000000 100")  # any other command voids the proof
    with pytest.raises(Refused):
        p.check("mmc write 21000000 800 800")
    guard.prove([(0x800, 0x800)])
    with pytest.raises(Refused):  # a different count
        p.check("mmc write 21000000 800 801")


@pytest.mark.parametrize(
    "command",
    [
        "mmc erase 0 10",
        "mmc write 21000000 0 1",  # no proof
        "mmc read 20000000 0 1",  # outside the RAM window
        "mmc read 22bfff00 0 1",  # runs past its end
        "mmc read 21000000 0x10 1",  # not plain hex
        "mmc read 21000000 1g 1",
        "mmc part",
        "mmc setdsr 1",
        "mmc dev 0 1 2",
        "sf read 21000000 0X0 10",
    ],
)
def test_sd_policy_refuses(command):
    p, _ = policy()
    with pytest.raises(Refused):
        p.check(command)


def test_mmc_write_without_a_guard_is_refused_even_if_proven_elsewhere():
    with pytest.raises(Refused, match="outside the SD path"):
        ReadOnlyPolicy(ram_window=SD_WINDOW).check("mmc write 21000000 0 1")


@pytest.mark.parametrize(
    "command", ["mmc dev 0", "mmc rescan", "mmc list", "mmc read 21000000 800 800"]
)
def test_sd_policy_allows(command):
    policy()[0].check(command)
