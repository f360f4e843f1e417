"""The command policy: what may reach a camera. The read-only set with the tool's RAM
window, and the SD path's guarded `mmc write` (one write per proof, voided by any other
command); restore's guarded `sf erase`/`sf write` (one block per proof, only inside the
partitions named, voided by any other command)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.base.errors import Refused
from harness.console.policy import FlashWriteGuard, ReadOnlyPolicy, SdWriteGuard

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


# -- restore's flash write guard -----------------------------------------------------------------
RESTORE_WINDOW = (0x21000000, 0x22000000)
ROOTFS_RANGE = (0x1D0000, 0x3B0000)


def flash_policy() -> tuple[ReadOnlyPolicy, FlashWriteGuard]:
    guard = FlashWriteGuard([ROOTFS_RANGE], 0x10000)
    return ReadOnlyPolicy(ram_window=RESTORE_WINDOW, flash_guard=guard), guard


def test_one_block_per_proof_erase_then_write_in_that_order():
    p, guard = flash_policy()
    with pytest.raises(Refused):
        p.check("sf erase 1d0000 10000")  # no proof
    guard.prove(0x21F00000, 0x1D0000, 0x10000)
    with pytest.raises(Refused):
        p.check("sf write 21f00000 1d0000 10000")  # the write before the erase
    guard.prove(0x21F00000, 0x1D0000, 0x10000)
    p.check("sf erase 1d0000 10000")
    p.check("sf write 21f00000 1d0000 10000")
    with pytest.raises(Refused):  # one write per proof
        p.check("sf write 21f00000 1d0000 10000")
    guard.prove(0x21F00000, 0x1D0000, 0x10000)
    p.check("sf erase 1d0000 10000")
    p.check("crc32 21000000 100")  # any other command voids the proof
    with pytest.raises(Refused):
        p.check("sf write 21f00000 1d0000 10000")


def test_an_erase_only_proof_allows_no_write():
    p, guard = flash_policy()
    guard.prove_erased(0x1E0000, 0x10000)
    p.check("sf erase 1e0000 10000")
    with pytest.raises(Refused):
        p.check("sf write 21f00000 1e0000 10000")


@pytest.mark.parametrize(
    "proof",
    [
        (0x21F00000, 0x0, 0x10000),  # BOOT: never among the ranges
        (0x21F00000, 0x3B0000, 0x10000),  # HOME was not named
        (0x21F00000, 0x1D8000, 0x10000),  # not on a block
        (0x21F00000, 0x1D0000, 0x20000),  # two blocks
        (0x21F00000, 0x1C0000, 0x10000),  # the block before ROOTFS
    ],
)
def test_proofs_outside_whole_blocks_of_the_named_partitions_are_refused(proof):
    _, guard = flash_policy()
    with pytest.raises(Refused):
        guard.prove(*proof)


@pytest.mark.parametrize(
    "command",
    [
        "sf erase 1d0000 20000",  # more than the proven block
        "sf erase 1e0000 10000",  # another block
        "sf erase 1d0000 +10000",
        "sf erase 0x1d0000 10000",
        "sf write 21f00000 1d0000 10000",  # no erase yet
        "sf update 21f00000 1d0000 10000",
        "sf write 20000000 1d0000 10000",  # its source outside the RAM window
    ],
)
def test_flash_writes_other_than_the_proven_block_are_refused(command):
    p, guard = flash_policy()
    guard.prove(0x21F00000, 0x1D0000, 0x10000)
    with pytest.raises(Refused):
        p.check(command)


def test_without_a_flash_guard_sf_erase_and_write_are_refused():
    for command in ("sf erase 1d0000 10000", "sf write 21000000 1d0000 10000"):
        with pytest.raises(Refused):
            ReadOnlyPolicy(ram_window=RESTORE_WINDOW).check(command)


COMMANDS = st.sampled_from(
    [
        "sf erase 1d0000 10000",
        "sf erase 1e0000 10000",
        "sf erase 0 10000",
        "sf erase 3b0000 10000",
        "sf write 21f00000 1d0000 10000",
        "sf write 21f00000 1e0000 10000",
        "sf write 21f00000 0 10000",
        "sf write 21000000 1d0000 10000",
        "sf update 21f00000 1d0000 10000",
        "crc32 21f00000 10000",
        "md.l 21000000 40",
        "mw.l 21f00000 0 4000",
        "sf read 21000000 1d0000 10000",
    ]
)
PROOFS = st.one_of(
    st.tuples(
        st.just("write"),
        st.sampled_from([0x21F00000, 0x21000000]),
        st.sampled_from([0x0, 0x1D0000, 0x1E0000, 0x3B0000]),
    ),  # fmt: skip
    st.tuples(st.just("erased"), st.just(None), st.sampled_from([0x1D0000, 0x1E0000, 0x0])),
)


@given(st.lists(st.one_of(COMMANDS, PROOFS), max_size=40))
def test_no_sequence_gets_any_other_flash_write_through(steps):
    """Whatever the order of proofs and commands, a flash write passes only as the proven
    block's erase (and, for a write proof, its write) right after its proof; nothing outside
    ROOTFS, nothing twice."""
    p, guard = flash_policy()
    proof = None  # (ram, offset) of the live proof, and whether its erase passed
    erased = False
    for step in steps:
        if isinstance(step, tuple):
            kind, ram, offset = step
            try:
                if kind == "write":
                    guard.prove(ram, offset, 0x10000)
                else:
                    guard.prove_erased(offset, 0x10000)
            except Refused:
                assert not ROOTFS_RANGE[0] <= offset < ROOTFS_RANGE[1]
                proof = None
                continue
            proof, erased = (ram, offset), False
            continue
        argv = step.split()
        try:
            p.check(step)
        except Refused:
            proof = None  # a refused command voids the proof as any other does
            continue
        if argv[:2] == ["sf", "erase"]:
            assert proof is not None and not erased and int(argv[2], 16) == proof[1]
            erased = True
            if proof[0] is None:
                proof = None
        elif argv[:2] == ["sf", "write"]:
            assert proof is not None and erased
            assert (int(argv[2], 16), int(argv[3], 16)) == proof
            proof = None
        else:
            assert argv[0] != "sf" or argv[1] in ("read", "probe")
            proof = None  # any other command voids it
