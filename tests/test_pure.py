"""Direct tests of the pure pieces: the journal (torn lines, header mismatches, damage),
mtdparts parsing, units and the progress line (the command policy: test_policy.py)."""

from __future__ import annotations

import io
import json
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.errors import ResumeRefused, UsageError
from harness.journal import Entry, Journal
from harness.partitions import Partition, from_bootlog, parse_mtdparts
from harness.progress import Progress
from harness.units import human_bytes, human_time, parse_seconds, parse_size

# -- the journal --------------------------------------------------------------------------------
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


# -- partition tables ---------------------------------------------------------------------------
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


# -- units and progress -------------------------------------------------------------------------
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


def test_one_file_holds_each_models_partition_table():
    """harness/models.json: the emulator's profiles, the backup, the tests, the demo and the
    benchmarks read it; no other file spells a table out (HOME's size is the tell)."""

    from emulator.profile import load
    from harness.partitions import MODELS_FILE, model_table, models

    table = model_table("y203c")
    for profile in ("mstar", "sigmastar"):
        parts = load(profile).partitions
        assert [(p.name, p.start, p.size) for p in parts] == [
            (p.name, p.offset, p.size) for p in table
        ]
    assert set(models()) == {"y203c", "h201c", "y25", "y23"}
    root = MODELS_FILE.parent.parent
    spelled = []
    for sub in ("harness", "emulator", "tests", "scripts", "benchmarks", "fixtures"):
        for path in (root / sub).rglob("*"):
            if path.is_file() and path.suffix in ("", ".py", ".json", ".log", ".sh"):
                if path != MODELS_FILE and "c3" + "0000" in path.read_text("latin-1").lower():
                    spelled.append(str(path.relative_to(root)))
    assert spelled == [], spelled


def test_only_the_node_module_knows_the_jffs2_layout():
    """One module (harness/jffs2/nodes.py) reads node fields; the others go through it, and
    jefferson is used only for its decompressors (no jefferson.jffs2, no global state)."""
    from pathlib import Path

    pkg = Path(__file__).resolve().parent.parent / "harness" / "jffs2"
    for path in pkg.glob("*.py"):
        text = path.read_text()
        if path.name != "nodes.py":
            assert "unpack_from" not in text and ".unpack(" not in text, path.name
            assert "0x1985" not in text and "Struct(" not in text, path.name
        if "jefferson" in text:
            assert path.name == "decompress.py", path.name
            assert "jefferson.jffs2" not in text and "jefferson.compression" in text
