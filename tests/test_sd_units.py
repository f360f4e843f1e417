"""The SD path's pure pieces: the mmc reply parser, the UBDUMP.BIN header and pattern,
FAT32 parsing against images mkfs.vfat and mtools make (its write guard: test_policy.py)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.console.replies import MmcFailed, ReplyError, mmc_reply
from harness.sd import fat32
from harness.sd.staging import Header, SdFileError, pattern, pattern_sector
from tests.support import sdcards

OK = b"\nMMC read: dev # 0, block # 2048, count 1024 ... 1024 blocks read: OK\n"


def test_mmc_reply():
    mmc_reply(OK, "read", 2048, 1024)
    with pytest.raises(ReplyError):
        mmc_reply(OK, "read", 2049, 1024)
    with pytest.raises(ReplyError):
        mmc_reply(OK, "write", 2048, 1024)
    for damaged in (b"1O24 blocks", b"1025 blocks"):  # a line fault, not a card failure
        with pytest.raises(ReplyError):
            mmc_reply(OK.replace(b"1024 blocks", damaged), "read", 2048, 1024)
    with pytest.raises(MmcFailed) as err:
        mmc_reply(OK.replace(b"1024 blocks read: OK", b"0 blocks read: ERROR"), "read", 2048, 1024)
    assert err.value.reason == "error"
    beyond = (
        b"\nMMC read: dev # 0, block # 262143, count 2 ... MMC: block number 0x40001 "
        b"exceeds max(0x40000)\n0 blocks read: ERROR\n"
    )
    with pytest.raises(MmcFailed) as err:
        mmc_reply(beyond, "read", 262143, 2)
    assert err.value.reason == "range"
    wp = b"\nMMC write: dev # 0, block # 8, count 1 ... Error: card is write protected!\n"
    with pytest.raises(MmcFailed) as err:
        mmc_reply(wp, "write", 8, 1)
    assert err.value.reason == "protected"


def test_header_round_trip_and_damage():
    h = Header.new(16 << 20, "y203c")
    raw = h.pack()
    assert len(raw) == 512 and Header.unpack(raw) == h
    for i in range(56):
        bad = bytearray(raw)
        bad[i] ^= 0x10
        with pytest.raises(SdFileError):
            Header.unpack(bytes(bad))


@given(st.binary(min_size=16, max_size=16), st.integers(0, 2**32 - 2))
def test_pattern_sectors_name_their_file_and_place(file_id, j):
    a = pattern_sector(file_id, j)
    assert len(a) == 512
    assert a != pattern_sector(file_id, j + 1)
    other = bytes([file_id[0] ^ 1]) + file_id[1:]
    assert a != pattern_sector(other, j)
    assert pattern(file_id, j, 2) == a + pattern_sector(file_id, j + 1)


@given(
    st.lists(st.integers(2, 5000), min_size=1, max_size=60, unique=True),
    st.integers(1, 8),
    st.data(),
)
def test_runs_and_pieces_cover_the_file_exactly(chain, spc, data):
    vol = fat32.Volume(0, spc, 32, 2, 1000, 2, 32 + 2000 + 6000 * spc)
    runs = fat32.runs(chain, vol)
    by_sector = {}
    for r in runs:
        for k in range(r.count):
            by_sector[r.file_sector + k] = r.card_sector + k
    expect = {
        i * spc + k: vol.cluster_sector(c) + k for i, c in enumerate(chain) for k in range(spc)
    }
    assert by_sector == expect
    total = len(chain) * spc
    first = data.draw(st.integers(0, total - 1))
    count = data.draw(st.integers(1, total - first))
    got = [p.card_sector + k for p in fat32.pieces(runs, first, count) for k in range(p.count)]
    assert got == [expect[s] for s in range(first, first + count)]
    with pytest.raises(fat32.FatError):
        fat32.pieces(runs, first, total - first + 1)


def test_a_card_made_by_mkfs_and_mtools(tmp_path):
    card = sdcards.make_card(tmp_path / "c.img")
    for name, size in (("a.txt", 3000), ("Long file name.dat", 5000), ("UBDUMP.BIN", 70000)):
        f = tmp_path / "f"
        f.write_bytes(bytes([len(name)]) * size)
        sdcards.mcopy(card, f, name)
    img = memoryview(card.read_bytes())  # slices of a view copy nothing (the card is 128 MiB)
    found = sdcards.file_on_card(lambda o, n: bytes(img[o : o + n]), "UBDUMP.BIN")
    assert found.volume.start == sdcards.PART_START
    named = dict(fat32.named_entries(found.root)[0])
    assert set(named) == {"a.txt", "Long file name.dat", "UBDUMP.BIN"}
    assert found.entry.size == 70000
    data = b"".join(
        bytes(img[r.card_sector * 512 : (r.card_sector + r.count) * 512]) for r in found.runs
    )
    assert data[:70000] == sdcards.mread(card, "UBDUMP.BIN")


@pytest.mark.parametrize(
    "ptype, why", [(0x07, "exFAT or NTFS"), (0x06, "FAT16"), (0x83, "Linux"), (0xEE, "GPT")]
)
def test_partition_types_that_are_not_fat32(ptype, why):
    mbr = bytearray(512)
    mbr[446:462] = struct.pack("<B3sB3sII", 0, b"\0" * 3, ptype, b"\0" * 3, 2048, 100000)
    mbr[510:] = b"\x55\xaa"
    with pytest.raises(fat32.FatError, match=why):
        fat32.partition_start(bytes(mbr))
    with pytest.raises(fat32.FatError, match="neither an MBR"):
        fat32.partition_start(bytes(512))


MOUNTINFO = """\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
40 22 8:17 / /media/me/CAMERA\\040CARD rw,nosuid - vfat /dev/sdb1 rw,fmask=0022
41 22 8:33 / /media/me/BIG rw - exfat /dev/sdc1 rw
"""


@pytest.mark.parametrize(
    "path, kind",
    [
        ("/home/me/backup", "ext4"),
        ("/media/me/CAMERA CARD", "vfat"),
        ("/media/me/CAMERA CARD/sub", "vfat"),
        ("/media/me/BIG/x", "exfat"),
        ("/media/me/BIGGER", "ext4"),
    ],
)
def test_mount_type_finds_the_card(path, kind):
    from harness.sd.card import mount_type

    assert mount_type(Path(path), MOUNTINFO) == kind
