"""Fault injection: each kind does exactly what it says, where it says, reproducibly."""

import random
import time

import pytest
import serial
from hypothesis import given
from hypothesis import strategies as st

from emulator.wire.faults import KINDS, FaultSpecError, parse_spec
from tests.support.termclient import Term

MSTAR = b"MStar # "
CMD = "md.l 21000000 40"  # echo 16 characters, then 16 lines of 67


@pytest.fixture(scope="module")
def image():
    return random.Random(5).randbytes(16 << 20)


def run(emulator, image, faults="", seed=1):
    emu = emulator(image, "mstar", at_prompt=True, faults=faults, seed=seed)
    t = Term(emu.port, timeout=5)
    t.send(CMD.encode() + b"\r")
    return emu, t


@pytest.fixture(scope="module")
def clean(image):
    from emulator import Emulator

    with Emulator(image, "mstar", at_prompt=True, seed=1) as emu:
        t = Term(emu.port)
        out = t.command(CMD, MSTAR)
        t.close()
    assert len(out) == 16 + 2 + 16 * 67 + len(MSTAR)
    return out


def test_flip(emulator, image, clean):
    _, t = run(emulator, image, "flip@100")
    out = t.read_until(MSTAR)
    assert len(out) == len(clean)
    diff = [i for i in range(len(out)) if out[i] != clean[i]]
    assert diff == [100] and bin(out[100] ^ clean[100]).count("1") == 1
    _, t = run(emulator, image, "flip@100:3")  # the bit chosen
    out = t.read_until(MSTAR)
    assert out[:100] == clean[:100] and out[100] ^ clean[100] == 8 and out[101:] == clean[101:]


def test_drop_dup_garbage(emulator, image, clean):
    _, t = run(emulator, image, "drop@100")
    assert t.read_until(MSTAR) == clean[:100] + clean[101:]
    _, t = run(emulator, image, "dup@100")
    assert t.read_until(MSTAR) == clean[:101] + clean[100:]
    _, t = run(emulator, image, "garbage@100:8")
    out = t.read_until(MSTAR)
    assert len(out) == len(clean) + 8
    assert out[:101] == clean[:101] and out[109:] == clean[101:]


def test_stall_delays_without_changing_bytes(emulator, image, clean):
    t0 = time.monotonic()
    _, t = run(emulator, image, "stall@100:0.3")
    assert t.read_until(MSTAR) == clean
    assert time.monotonic() - t0 >= 0.3  # a lower bound, never flaky


def test_spontaneous_reset_prints_the_boot_banner_mid_output(emulator, image, clean):
    emu, t = run(emulator, image, "reset@300")
    out = t.read_until(b"U-Boot 2015.01", anywhere=True)
    assert out[:301] == clean[:301]
    assert out[301:].startswith(b"IPL gd156225\r\n")


def test_disconnect_vanishes_then_the_port_returns(tmp_path, emulator, image):
    link = str(tmp_path / "ttyCAM")
    emulator(image, "mstar", at_prompt=True, faults="disconnect@200:0.3", link=link)
    s = serial.serial_for_url(link, timeout=2)
    s.write(CMD.encode() + b"\r")
    with pytest.raises(serial.SerialException):
        while True:
            if not s.read(4096):
                raise AssertionError("the port did not vanish")
    s.close()
    t = None
    deadline = time.monotonic() + 5
    while t is None:
        try:
            t = Term(link)
        except serial.SerialException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)  # polling for the device node, as udev users do
    assert t.command("base", MSTAR).endswith(b"Base Address: 0x00000000\r\n" + MSTAR)


def test_input_faults(emulator, image):
    emu = emulator(image, "mstar", at_prompt=True, faults="in-drop@1")
    t = Term(emu.port)
    assert t.command("bxase", MSTAR) == b"base\r\nBase Address: 0x00000000\r\n" + MSTAR


def test_rates_are_seeded_and_reproducible(emulator, image, clean):
    outs = []
    for seed in (11, 11, 12):
        _, t = run(emulator, image, "flip=0.01,drop=0.005,dup=0.005", seed=seed)
        outs.append(_drain(t))
        t.close()
    assert outs[0] == outs[1] != outs[2]
    assert outs[0] != clean


def _drain(t: Term) -> bytes:
    """Everything until the line has been idle for half a second (the prompt may be damaged)."""
    t.s.timeout = 0.5
    out = bytearray()
    while True:
        chunk = t.s.read(65536)
        if not chunk:
            return bytes(out)
        out += chunk


@pytest.mark.parametrize(
    "spec",
    [
        "flip",
        "flip=2",
        "flip=0",
        "flip=x",
        "drop@-1",
        "drop@x",
        "bogus=0.1",
        "stall@3:x",
        "stall@3:-1",
        "flip@3:8",
        "flip=0.1:1.5",
    ],
)
def test_bad_specs_are_refused(spec):
    with pytest.raises(FaultSpecError):
        parse_spec(spec)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(KINDS),
            st.one_of(
                st.floats(1e-9, 1.0).map(lambda r: f"={r!r}"),
                st.integers(0, 10**9).map(lambda n: f"@{n}"),
            ),
            st.one_of(st.just(""), st.floats(0, 10).map(lambda p: f":{p!r}")),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_valid_specs_parse(items):
    def param(kind, p):  # a flip's parameter is the bit to flip
        return f":{int(float(p[1:])) % 8}" if p and "flip" in kind else p

    spec = ",".join(k + w + param(k, p) for k, w, p in items)
    faults = parse_spec(spec)
    assert [f.kind for f in faults] == [k for k, _, _ in items]
