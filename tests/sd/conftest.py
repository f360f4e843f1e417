"""The SD path's fixtures: the camera's flash (JFFS2 images of fixtures/trees), a prepared
card as a user makes one, and one where UBDUMP.BIN lies in three pieces."""

from __future__ import annotations

import pytest

from tests.support import sdcards
from tests.support.camera import FIXTURE_TREES, flash_from_trees
from tests.support.sdfixtures import prepared_card, prepared_file


@pytest.fixture(scope="module")
def flash(tmp_path_factory):
    work = tmp_path_factory.mktemp("flash")
    return flash_from_trees(work, FIXTURE_TREES / "rootfs", FIXTURE_TREES / "home")


@pytest.fixture(scope="module")
def blank_card(tmp_path_factory):
    """A FAT32 card with a file of the user's, then UBDUMP.BIN (contiguous)."""
    return prepared_card(tmp_path_factory.mktemp("card"))


@pytest.fixture(scope="module")
def fragmented_card(tmp_path_factory):
    """UBDUMP.BIN in three pieces: mtools fills the holes other files left."""
    work = tmp_path_factory.mktemp("fcard")
    card = sdcards.make_card(work / "card.img")
    for i, mib in enumerate((7, 3, 7, 3, 7)):
        f = work / f"f{i}"
        f.write_bytes(bytes([i]) * (mib << 20))
        sdcards.mcopy(card, f, f"F{i}.DAT")
    filler = work / "filler"
    free = sdcards.free_bytes(card)
    filler.write_bytes(b"\xaa" * free)
    sdcards.mcopy(card, filler, "FILLER.DAT")
    for i in (0, 2, 4):
        sdcards.mdel(card, f"F{i}.DAT")
    sdcards.mcopy(card, prepared_file(work), "UBDUMP.BIN")
    return card
