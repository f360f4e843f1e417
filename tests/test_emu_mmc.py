"""The emulated `mmc`, byte for byte as the vendor's 2015.01 common/cmd_mmc.c, drivers/mmc/
mmc.c and mmc_write.c print it with MStar's host driver (linux-chenxing/uboot_msc313e@e98ba4e),
and as the vendor build with that SD host (../shared/oracles, bin/u-boot-sd) answers `mmc
dev`, `list`, `info` and `part` on the same card image."""

from __future__ import annotations

import pytest

from tests.support import sdcards
from tests.support.sdfixtures import read_at, same_card, snapshot, write_at
from tests.support.termclient import Term

P = b"MStar # "


@pytest.fixture
def camera(emulator, tmp_path):
    card = sdcards.make_card(tmp_path / "card.img")
    emu = emulator(bytes(16 << 20), "mstar", at_prompt=True, sd=card)
    term = Term(emu.port)
    yield emu, term, card
    term.close()


def answer(term: Term, line: str, prompt: bytes = P) -> bytes:
    out = term.command(line, prompt)
    assert out.startswith(line.encode() + b"\r\n")
    return out[len(line) + 2 : -len(prompt)]


def test_read_write_dev_list(camera):
    emu, term, card = camera
    assert answer(term, "mmc list") == b"MStar SD/MMC: 0\r\n"
    assert answer(term, "mmc dev 0") == b"switch to partitions #0, OK\r\nmmc0 is current device\r\n"
    assert answer(term, "mmc read 21000000 0 1") == (
        b"\r\nMMC read: dev # 0, block # 0, count 1 ... 1 blocks read: OK\r\n"
    )
    assert answer(term, "md.b 210001fe 2").startswith(b"210001fe: 55 aa")
    # 0x800 blocks: split in two 1024-block transfers inside, one line outside
    assert answer(term, "mmc read 21000000 800 800") == (
        b"\r\nMMC read: dev # 0, block # 2048, count 2048 ... 2048 blocks read: OK\r\n"
    )
    before = snapshot(card)
    assert answer(term, "mmc write 21000000 10 2") == (
        b"\r\nMMC write: dev # 0, block # 16, count 2 ... 2 blocks written: OK\r\n"
    )
    assert read_at(card, 16 * 512, 1024) == read_at(before, 2048 * 512, 1024)
    write_at(before, 16 * 512, read_at(card, 16 * 512, 1024))
    assert same_card(card, before)  # and nothing else changed


def test_errors(camera):
    emu, term, card = camera
    last = card.stat().st_size // 512
    assert answer(term, f"mmc read 21000000 {last - 1:x} 2") == (
        f"\r\nMMC read: dev # 0, block # {last - 1}, count 2 ... MMC: block number "
        f"0x{last + 1:x} exceeds max(0x{last:x})\r\n0 blocks read: ERROR\r\n".encode()
    )
    assert answer(term, "mmc read 21000000 0 0") == (
        b"\r\nMMC read: dev # 0, block # 0, count 0 ... 0 blocks read: OK\r\n"
    )
    assert answer(term, "mmc dev 1") == b"MMC Device 1 not found\r\nno mmc device at slot 1\r\n"
    assert answer(term, "mmc erase 0 1").startswith(b"mmc - MMC sub system\r\n\r\nUsage:\r\n")
    assert answer(term, "mmc read 21000000 0").startswith(b"mmc - MMC sub system")


def test_a_pulled_card_fails_until_rescan(camera):
    emu, term, card = camera
    answer(term, "mmc rescan")
    emu.sd_remove()
    # has_init is still set: the transfer fails silently
    assert answer(term, "mmc read 21000000 0 1") == (
        b"\r\nMMC read: dev # 0, block # 0, count 1 ... 0 blocks read: ERROR\r\n"
    )
    emu.sd_insert()  # back, but not initialised again: still failing
    assert answer(term, "mmc read 21000000 0 1").endswith(b"0 blocks read: ERROR\r\n")
    assert answer(term, "mmc rescan") == b""
    assert answer(term, "mmc read 21000000 0 1").endswith(b"1 blocks read: OK\r\n")
    # a rescan of an empty slot clears has_init: the next access initialises on its own
    emu.sd_remove()
    assert answer(term, "mmc rescan") == b"_[sdmmc_0] Card Detect Fail! \r\n"
    emu.sd_insert()
    assert answer(term, "mmc read 21000000 0 1").endswith(b"1 blocks read: OK\r\n")


def test_without_a_card_and_without_an_sd_host(emulator):
    emu = emulator(bytes(16 << 20), "mstar", at_prompt=True)
    term = Term(emu.port)
    try:
        assert answer(term, "mmc dev 0") == b"_[sdmmc_0] Card Detect Fail! \r\n"
        assert answer(term, "mmc read 21000000 0 1") == b"_[sdmmc_0] Card Detect Fail! \r\n"
    finally:
        term.close()
    emu = emulator(bytes(16 << 20), "sigmastar", at_prompt=True)  # no SD host in the profile
    term = Term(emu.port)
    try:
        assert answer(term, "mmc dev 0", b"SigmaStar # ") == b"No MMC device available\r\n"
    finally:
        term.close()


def test_the_same_answers_as_the_vendor_builds_sd_host(emulator, tmp_path):
    """Against bin/u-boot-sd (the vendor's own SD host code over a model of a card): the
    same card image, the same bytes back."""
    import shutil

    from tests.support.targets import stop_at_prompt, vendor_build

    lines = ["mmc dev 0", "mmc list", "mmc info", "mmc part"]
    card = sdcards.make_card(tmp_path / "card.img")
    shutil.copyfile(card, tmp_path / "vendor.img")
    (tmp_path / "flash.img").write_bytes(b"\xff" * (16 << 20))
    with vendor_build(tmp_path / "flash.img", sd=tmp_path / "vendor.img") as target:
        stop_at_prompt(target.port, P)
        vendor = Term(target.port)
        try:
            want = [answer(vendor, line) for line in lines]
        finally:
            vendor.close()
    emu = emulator(bytes(16 << 20), "mstar", at_prompt=True, sd=card)
    term = Term(emu.port)
    try:
        for line, w in zip(lines, want):
            assert answer(term, line) == w, line
    finally:
        term.close()
