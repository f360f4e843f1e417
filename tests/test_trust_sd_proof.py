"""The SD write proof against crafted cards: chains cross-linked into another file or into a
copy of UBDUMP.BIN, a block crafted so that its one crc32 equals the pattern's, FAT loops,
a crowded top directory. Nothing of anyone else's is written; the run stops in one line."""

from __future__ import annotations

import shutil
import time
import zlib
from pathlib import Path

import pytest

from harness.sd.staging import pattern
from tests.support import sdcards
from tests.support.cardcraft import Card, forge_crc
from tests.support.run_cli import uboot_dump, uboot_emu
from tests.support.sdfixtures import prepared_file, read_at, same_card, small_flash, snapshot

USER = bytes((i * 131 + 7) & 0xFF for i in range(2 << 20))  # 2 MiB of a user's file
# the block the attacks aim at: the tool copies region by region in blocks of 1 MiB from
# each region's start, and KERNEL's first block is flash 0x50000 .. 0x150000
FIRST = 0x50000 // 512  # its first data sector (2048 of them)
SPC = 2  # sectors per cluster on these cards (1 KiB clusters)


@pytest.fixture(scope="module")
def parts(tmp_path_factory):
    work = tmp_path_factory.mktemp("proof")
    img = small_flash(work / "flash.img")
    card = sdcards.make_card(work / "card.img")
    other = work / "other.dat"
    other.write_bytes(USER)
    sdcards.mcopy(card, other, "OTHER.DAT")
    ubdump = prepared_file(work)
    sdcards.mcopy(card, ubdump, "UBDUMP.BIN")
    sdcards.mcopy(card, ubdump, "COPY.BIN")
    return img, card


def backup(img, card, tmp_path):
    with uboot_emu(img, tmp_path / "port", "--at-prompt", "--baud", "0", "--sd", str(card)):
        t0 = time.monotonic()
        r = uboot_dump(
            "backup", "--port", str(tmp_path / "port"), "--model", "y203c",
            "-o", str(tmp_path / "out"), "--via", "sd", "--timeout", "3",
        )  # fmt: skip
        return r, time.monotonic() - t0


def crafted(parts, tmp_path) -> tuple[Path, Path, Card]:
    """A copy of the module's card to craft: (flash image, card image, its FAT editor)."""
    img, template = parts
    path = tmp_path / "card.img"
    shutil.copyfile(template, path)
    return img, path, Card.open(path)


def refused_untouched(img, card: Card, tmp_path, text: str, span=None) -> None:
    """The crafted card saved, the backup stops on it with exit 13 and writes nothing
    (within `span`, (offset, length), where the blocks before it are copied first)."""
    card.save()
    before = snapshot(card.path)
    r, _ = backup(img, card.path, tmp_path)
    refused(r, text)
    if span is None:
        assert same_card(card.path, before)
    else:
        assert read_at(card.path, *span) == read_at(before, *span)


def refused(r, text: str) -> None:
    err = r.stderr.decode()
    assert r.returncode == 13, err
    assert text in err.strip().splitlines()[-1], err
    assert "Traceback" not in err


def block_clusters(chain: list[int]) -> tuple[int, int]:
    """Indexes in UBDUMP.BIN's chain of the first and last cluster wholly in the block."""
    first_sector = 1 + FIRST  # file sector (the header is sector 0)
    return -(-first_sector // SPC), (first_sector + 2048) // SPC - 1


def test_a_chain_cross_linked_into_another_file_with_a_forged_crc(parts, tmp_path):
    img, path, card = crafted(parts, tmp_path)
    ours, other = card.chain("UBDUMP.BIN"), card.chain("OTHER.DAT")
    lo, hi = block_clusters(ours)
    n = hi - lo + 1
    card.set_fat(ours[lo - 1], other[10])  # into OTHER.DAT's middle ...
    card.set_fat(other[10 + n - 1], ours[hi + 1])  # ... and back
    # the block as the camera would read it, forged to the pattern's crc32
    first_sector = 1 + FIRST
    sectors = []
    for s in range(first_sector, first_sector + 2048):
        i = s // SPC
        c = other[10 + i - lo] if lo <= i <= hi else ours[i]
        off = card.cluster_offset(c) + (s % SPC) * 512
        sectors.append(bytes(card.data[off : off + 512]))
    block = b"".join(sectors)
    file_id = bytes(
        card.data[card.cluster_offset(ours[0]) + 12 : card.cluster_offset(ours[0]) + 28]
    )
    slot = (lo * SPC - first_sector) * 512 + 100  # inside OTHER.DAT's part
    forged = forge_crc(block, slot, zlib.crc32(pattern(file_id, FIRST, 2048)))
    c = other[10]
    card.data[card.cluster_offset(c) + 100 : card.cluster_offset(c) + 104] = forged[slot : slot + 4]
    card.save()
    refused_untouched(img, card, tmp_path, "cross-linked FAT")  # nothing written at all


def test_a_chain_into_free_space_holding_a_forged_block(parts, tmp_path):
    """The chain leaves through clusters no file claims (so no structural check sees a
    second owner); the crafted sectors' one crc32 matches the pattern's: the per-piece and
    random-span crc32s do not, so nothing is written there."""
    img, path, card = crafted(parts, tmp_path)
    ours = card.chain("UBDUMP.BIN")
    lo, hi = block_clusters(ours)
    n = hi - lo + 1
    free0 = card.vol.clusters - n - 100  # near the end of the card: free
    assert all(card.fat(free0 + k) == 0 for k in range(-1, n))
    card.set_fat(ours[lo - 1], free0)
    for k in range(n - 1):
        card.set_fat(free0 + k, free0 + k + 1)
    card.set_fat(free0 + n - 1, ours[hi + 1])
    for k in range(lo, hi + 1):
        card.set_fat(ours[k], 0)  # orphaned: nothing links into the way back
    file_id = bytes(
        card.data[card.cluster_offset(ours[0]) + 12 : card.cluster_offset(ours[0]) + 28]
    )
    first_sector = 1 + FIRST
    head = b"".join(
        bytes(memoryview(card.data)[card.cluster_offset(ours[s // SPC]) + (s % SPC) * 512 :][:512])
        for s in range(first_sector, lo * SPC)
    )
    tail = b"".join(
        bytes(memoryview(card.data)[card.cluster_offset(ours[s // SPC]) + (s % SPC) * 512 :][:512])
        for s in range((hi + 1) * SPC, first_sector + 2048)
    )
    middle = USER[: n * SPC * 512]
    forged = forge_crc(
        head + middle + tail, len(head) + 64, zlib.crc32(pattern(file_id, FIRST, 2048))
    )
    middle = forged[len(head) : len(head) + len(middle)]
    start = card.cluster_offset(free0)
    card.data[start : start + len(middle)] = middle
    card.save()
    refused_untouched(img, card, tmp_path, "not in part", span=(start, len(middle)))


def test_a_copy_of_ubdump_cross_linked_into_the_chain(parts, tmp_path):
    img, path, card = crafted(parts, tmp_path)
    ours, copy = card.chain("UBDUMP.BIN"), card.chain("COPY.BIN")
    card.set_fat(ours[1999], copy[2000])  # the same pattern at the same place: content agrees
    refused_untouched(img, card, tmp_path, "cross-linked FAT")


def test_a_directory_entry_pointing_into_another_files_clusters(parts, tmp_path):
    img, path, card = crafted(parts, tmp_path)
    card.set_first_cluster("UBDUMP.BIN", card.chain("COPY.BIN")[0])
    refused_untouched(img, card, tmp_path, "starts inside")


def test_a_looping_chain_stops_at_once(parts, tmp_path):
    img, path, card = crafted(parts, tmp_path)
    ours = card.chain("UBDUMP.BIN")
    card.set_fat(ours[5000], ours[100])
    card.save()
    r, seconds = backup(img, path, tmp_path)
    refused(r, "comes back to a cluster")
    assert seconds < 30  # was 126 s unpaced before the loop check


def test_a_crowded_top_directory_is_searched(tmp_path):
    """4,200 files before UBDUMP.BIN: found (the old limit was 4,096 entries)."""
    img = tmp_path / "flash.img"
    img.write_bytes(b"\xff" * (16 << 20))
    card = sdcards.make_card(tmp_path / "card.img")
    many = tmp_path / "many"
    many.mkdir()
    names = []
    for i in range(4200):
        (many / f"F{i:05d}.TXT").write_bytes(b"")
        names.append(str(many / f"F{i:05d}.TXT"))
    import subprocess

    subprocess.run([sdcards.tool("mcopy"), "-i", sdcards.target(card), *names, "::"], check=True)
    sdcards.mcopy(card, prepared_file(tmp_path), "UBDUMP.BIN")
    r, _ = backup(img, card, tmp_path)
    err = r.stderr.decode()
    assert r.returncode == 0, err
    assert "more than 4096 entries" in err and "UBDUMP.BIN found" in err


def test_a_block_of_the_file_itself_crafted_to_the_patterns_crc(parts, tmp_path):
    """One piece, no FAT change: only the random-span crc32s stand between the crafted
    sectors and a write."""
    img, path, card = crafted(parts, tmp_path)
    ours = card.chain("UBDUMP.BIN")
    lo, hi = block_clusters(ours)
    first_sector = 1 + FIRST
    file_id = bytes(memoryview(card.data)[card.cluster_offset(ours[0]) + 12 :][:16])
    offsets = [
        card.cluster_offset(ours[s // SPC]) + (s % SPC) * 512
        for s in range(first_sector, first_sector + 2048)
    ]
    assert offsets == list(range(offsets[0], offsets[0] + 2048 * 512, 512))  # contiguous
    start = offsets[0]
    block = bytes(card.data[start : start + 512]) + USER[: 2047 * 512]
    forged = forge_crc(block, 4096, zlib.crc32(pattern(file_id, FIRST, 2048)))
    card.data[start : start + len(forged)] = forged
    card.save()
    r, _ = backup(img, path, tmp_path)
    refused(r, "not in part")
    assert read_at(path, start, len(forged)) == forged


@pytest.mark.parametrize(
    "answers, differs",
    [
        ([0x1234], False),  # the expected value at once
        ([0xDEAD, 0x1234], False),  # one reply damaged on the line, then the true one
        ([0xDEAD, 0xDEAD], True),  # the same other value twice: the content differs
        ([0xDEAD, 0xBEEF, 0xDEAD], True),
    ],
)
def test_one_crc_reply_damaged_on_the_line_is_asked_again(answers, differs):
    """A flipped hex digit of a crc32 reply parses like a true one: the pattern proof asks
    again before it calls a card crafted (a noisy line once made the SD path refuse)."""
    from harness.sd.copier import SdCopy

    class Replies:
        def __init__(self, values):
            self.values = list(values)

        def target_crc(self, addr, n):
            return self.values.pop(0)

    copier = SdCopy.__new__(SdCopy)
    copier.reader = Replies(answers)
    assert copier._steadily_differs(0x21000000, 0x200, 0x1234) is differs


def test_replies_that_never_agree_are_a_noisy_line():
    from harness.base.errors import VerifyFailed
    from harness.sd.copier import SdCopy

    class Replies:
        values = iter([1, 2, 3, 4])

        def target_crc(self, addr, n):
            return next(self.values)

    copier = SdCopy.__new__(SdCopy)
    copier.reader = Replies()
    with pytest.raises(VerifyFailed, match="too noisy"):
        copier._steadily_differs(0x21000000, 0x200, 0x1234)
