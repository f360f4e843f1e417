"""The journal of a read: it resumes where it stopped, and a torn, mismatched or damaged one
(or a .part that does not match it) is said as such, never trusted."""

from __future__ import annotations

import json
import zlib

import pytest

from harness.base.errors import ResumeRefused
from harness.read.journal import Entry, Journal

HEADER = {"start": 0x21000000, "length": 0x3000, "chunk": 0x1000}


def journal_with(path, n=2):
    j = Journal.open(path, HEADER)
    for k in range(n):
        j.append(Entry(k * 0x1000, 0x1000, zlib.crc32(bytes([k]) * 0x1000), False))
    return j


def test_journal_resumes_where_it_stopped(tmp_path):
    path = tmp_path / "j"
    journal_with(path)
    again = Journal.open(path, HEADER)
    assert again.done == 0x2000 and len(again.entries) == 2


def test_journal_torn_last_line_is_read_again(tmp_path):
    path = tmp_path / "j"
    journal_with(path)
    text = path.read_text()
    path.write_text(text[:-7])  # the crash came while the last line was written
    again = Journal.open(path, HEADER)
    assert again.done == 0x1000


def test_journal_damaged_in_the_middle_is_refused(tmp_path):
    path = tmp_path / "j"
    journal_with(path, 3)
    lines = path.read_text().splitlines()
    lines[2] = lines[2].replace('"offset": 4096', '"offset": 4097')
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ResumeRefused, match="damaged \\(line 3\\)"):
        Journal.open(path, HEADER)


@pytest.mark.parametrize("field", ["start", "length", "chunk"])
def test_journal_of_another_read_is_refused(tmp_path, field):
    path = tmp_path / "j"
    journal_with(path)
    other = dict(HEADER, **{field: HEADER[field] + 0x1000})
    with pytest.raises(ResumeRefused, match=f"{field}: "):
        Journal.open(path, other)
    assert Journal.open(path, other, restart=True).done == 0


@pytest.mark.parametrize("first", ["", "not json", "[1, 2]", json.dumps({"version": 99})])
def test_journal_unreadable_header(tmp_path, first):
    path = tmp_path / "j"
    path.write_text(first + "\n")
    with pytest.raises(ResumeRefused):
        Journal.open(path, HEADER)


def test_journal_entries_past_the_length_are_refused(tmp_path):
    path = tmp_path / "j"
    journal_with(path, 3)
    with open(path, "a") as f:
        f.write(json.dumps({"offset": 0x3000, "length": 0x1000, "crc": 1, "skipped": False}))
        f.write("\n" + json.dumps({"offset": 0x4000, "length": 1, "crc": 1, "skipped": False}))
        f.write("\n")
    with pytest.raises(ResumeRefused):
        Journal.open(path, HEADER)


def test_check_part_finds_a_changed_byte(tmp_path):
    path = tmp_path / "j"
    j = Journal.open(path, HEADER)
    part = tmp_path / "p"
    data = bytes(range(256)) * 16
    part.write_bytes(data)
    j.append(Entry(0, 0x1000, zlib.crc32(data), False))
    j.check_part(part)
    part.write_bytes(data[:100] + b"\0" + data[101:])
    with pytest.raises(ResumeRefused, match="does not match its journal"):
        j.check_part(part)
