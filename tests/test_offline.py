"""parse-log and swap: the community procedure's log and image back to the partition."""

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.jffs2.nodes import swap_words
from harness.read.logparse import LogError, decode_log
from tests.conftest import FIXTURES
from tests.support import community
from tests.support.run_cli import uboot_dump

LOG = FIXTURES / "logs" / "community-rootfs-head.log"
IMG = FIXTURES / "logs" / "community-rootfs-head.img"
CONTENT = random.Random(11).randbytes(0x800)  # see fixtures/make_community_logs.py


def test_parse_log_of_the_community_procedure_equals_the_partition(tmp_path):
    assert b"\r\n" in LOG.read_bytes() and b"\x2e\n2" in LOG.read_bytes()  # mixed line ends
    r = uboot_dump("parse-log", str(LOG), "-o", str(tmp_path / "p.bin"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "p.bin").read_bytes() == CONTENT


def test_swap_of_the_community_image_equals_the_partition(tmp_path):
    r = uboot_dump("swap", str(IMG), str(tmp_path / "s.bin"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "s.bin").read_bytes() == CONTENT
    assert IMG.read_bytes() != CONTENT


def test_parse_log_start_and_length(tmp_path):
    r = uboot_dump(
        "parse-log",
        str(LOG),
        "-o",
        str(tmp_path / "p.bin"),
        "--start",
        "0x21000108",
        "--length",
        "0x20",
    )
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "p.bin").read_bytes() == CONTENT[0x108:0x128]


def test_gaps_and_duplicates_are_reported_by_address(tmp_path):
    lines = LOG.read_bytes().split(b"\n")
    i = next(k for k, ln in enumerate(lines) if ln.startswith(b"21000100: "))
    j = next(k for k, ln in enumerate(lines) if ln.startswith(b"21000200: "))
    damaged = lines[:i] + lines[i + 1 : j] + [lines[j], lines[j]] + lines[j + 1 :]
    bad = tmp_path / "gap.log"
    bad.write_bytes(b"\n".join(damaged))
    r = uboot_dump("parse-log", str(bad), "-o", str(tmp_path / "g.bin"))
    err = r.stderr.decode()
    assert r.returncode == 2 and len(err.splitlines()) == 1
    assert "1 gaps (0x21000100+16)" in err and "nothing written" in err
    assert not (tmp_path / "g.bin").exists()
    only_duplicate = lines[:j] + [lines[j], lines[j]] + lines[j + 1 :]
    (tmp_path / "dup.log").write_bytes(b"\n".join(only_duplicate))
    r = uboot_dump("parse-log", str(tmp_path / "dup.log"), "-o", str(tmp_path / "d.bin"))
    assert r.returncode == 0 and "duplicate line at 0x21000200" in r.stderr.decode()


def test_damaged_line_is_a_gap_not_data(tmp_path):
    text = LOG.read_bytes().replace(b"21000030: 2f45e678", b"21000030: 2f45e6x8")
    with pytest.raises(LogError, match=r"1 gaps \(0x21000030\+16\); 1 damaged lines"):
        decode_log(text)


def test_swap_refuses_odd_lengths(tmp_path):
    odd = tmp_path / "odd.img"
    odd.write_bytes(b"abcdefg")
    r = uboot_dump("swap", str(odd), str(tmp_path / "o"))
    assert r.returncode == 2 and "not a multiple of 4" in r.stderr.decode()
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "args", [["parse-log", "/nonexistent.log", "-o", "x"], ["swap", "/nonexistent", "x"]]
)
def test_missing_input(args, tmp_path):
    r = uboot_dump(*args)
    assert r.returncode == 2 and len(r.stderr.decode().splitlines()) == 1


@given(st.binary(max_size=64).map(lambda b: b[: len(b) - len(b) % 4]))
def test_swap_twice_is_identity(data):
    assert swap_words(swap_words(data)) == data
    assert swap_words(data) == community.swap(data)
