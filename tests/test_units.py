"""Numbers as a U-Boot user types them, times, and the progress line."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.base.units import human_bytes, human_time, parse_seconds, parse_size
from harness.cli.progress import Progress


@pytest.mark.parametrize(
    "text, value",
    [
        ("0x1e0000", 0x1E0000),
        ("1966080", 1966080),
        ("64K", 65536),
        ("12M", 12 << 20),
        ("1KiB", 1024),
    ],
)
def test_parse_size(text, value):
    assert parse_size(text) == value


@pytest.mark.parametrize("text", ["1e0000", "0x", "-1", "12Q", "", "0x1z", "1.5M"])
def test_parse_size_refuses(text):
    with pytest.raises(ValueError):
        parse_size(text)


def test_addresses_need_0x():
    with pytest.raises(ValueError, match="write addresses with 0x"):
        parse_size("21000000", address=True)
    assert parse_size("0x21000000", address=True) == 0x21000000


@given(st.integers(0, 2**64 - 1))
def test_parse_size_round_trip(n):
    assert parse_size(hex(n)) == n


@pytest.mark.parametrize("text", ["0", "-1", "nan", "inf", "1e9", "x"])
def test_parse_seconds_refuses(text):
    with pytest.raises(ValueError):
        parse_seconds(text)


def test_human_units():
    assert human_bytes(512) == "512 B"
    assert human_bytes(1536) == "1.5 KiB"
    assert human_bytes(12 << 20) == "12.0 MiB"
    assert human_time(59.4) == "59s"
    assert human_time(61) == "1m01s"
    assert human_time(3 * 3600 + 120) == "3h02m"


def test_progress_line():
    out = io.StringIO()
    p = Progress(0x2000, stream=out, enabled=True)
    p(0)
    p(0x2000)
    p.close()
    text = out.getvalue()
    assert "\r0 B / 8.0 KiB" in text and "\r8.0 KiB / 8.0 KiB" in text and text.endswith("\n")
    quiet = io.StringIO()
    q = Progress(10, stream=quiet)  # not a terminal: silent
    q(5)
    q.close()
    assert quiet.getvalue() == ""
