"""No silent corruption: hypothesis-generated fault mixtures on both profiles.

Every run must end with the exact bytes in the output file, or with a DumpError and no
output file. The default run makes 60 such runs, `-m slow` 600, `scripts/campaign` as many as asked.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from emulator import Emulator
from harness.base.errors import DumpError
from harness.console.session import Console
from harness.link.transport import Transport
from harness.read.reader import MemoryReader

PROFILES = {
    "mstar": (0x21000000, "MStar # "),
    "mainline": (0x41000000, "=> "),
}
RATE_KINDS = ("flip", "drop", "dup", "garbage", "in-flip", "in-drop")


@st.composite
def fault_specs(draw) -> str:
    items = []
    for kind in draw(st.lists(st.sampled_from(RATE_KINDS), min_size=1, max_size=4, unique=True)):
        rate = draw(st.sampled_from([1e-5, 1e-4, 5e-4, 2e-3]))
        items.append(f"{kind}={rate}")
    if draw(st.booleans()):
        kind = draw(st.sampled_from(["stall", "reset", "disconnect", "garbage", "drop"]))
        at = draw(st.integers(0, 60000))
        param = {"stall": ":0.2", "disconnect": ":0.1", "garbage": ":20"}.get(kind, "")
        items.append(f"{kind}@{at}{param}")
    return ",".join(items)


def one_run(tmp_path, profile: str, faults: str, seed: int, length: int) -> str:
    """Returns 'exact' or 'failed'; raises AssertionError on silent corruption."""
    ram, prompt = PROFILES[profile]
    image = random.Random(seed).randbytes(1 << 20) if profile == "mainline" else bytes(16 << 20)
    out = tmp_path / f"run{seed}.bin"
    with Emulator(image, profile, at_prompt=True, faults=faults, seed=seed) as emu:
        data = random.Random(seed).randbytes(length // 2) + b"\xff" * (length - length // 2)
        emu.board.target.memory.write(ram, data)
        t = Transport(emu.port)
        try:
            c = Console(t, prompt, quiet=0.1, timeout=0.6)
            c.sync()
            MemoryReader(c, chunk=0x400).read_to_file(ram, length, out)
        except DumpError:
            assert not out.exists(), "a failed run left an output file"
            return "failed"
        finally:
            t.close()
        got = out.read_bytes()
        truth = emu.board.target.memory.read(ram, length)
        assert got == truth, f"silent corruption: profile={profile} faults={faults} seed={seed}"
        if emu.board.boots == 0:
            assert got == data
        return "exact"


@settings(max_examples=30, deadline=None)  # 600 in the slow campaign below
@given(profile=st.sampled_from(sorted(PROFILES)), faults=fault_specs(), seed=st.integers(0, 2**16))
def test_no_silent_corruption(tmp_path_factory, profile, faults, seed):
    outcome = one_run(tmp_path_factory.mktemp("r"), profile, faults, seed, 0x1000)
    event(outcome)


@pytest.mark.slow
@pytest.mark.timeout(1800)
@settings(max_examples=600, deadline=None)
@given(profile=st.sampled_from(sorted(PROFILES)), faults=fault_specs(), seed=st.integers(0, 2**16))
def test_no_silent_corruption_campaign(tmp_path_factory, profile, faults, seed):
    outcome = one_run(tmp_path_factory.mktemp("r"), profile, faults, seed, 0x1000)
    event(outcome)
