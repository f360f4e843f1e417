"""The procedure the community uses today works against the emulator, as against a camera."""

import random

from tests.support import community
from tests.support.camera import ROOTFS
from tests.support.termclient import Term

RAM = 0x21000000


def flash_image(seed: int) -> bytes:
    return random.Random(seed).randbytes(16 << 20)


def test_community_dump_of_rootfs_equals_partition(emulator):
    image = flash_image(7)
    emu = emulator(image, "mstar", at_prompt=True)
    term = Term(emu.port)
    assert term.command("sf probe", b"MStar # ").endswith(b"16 MiB\r\nMStar # ")
    out = term.command(f"sf read 0x{RAM:x} 0x{ROOTFS[0]:x} 0x{ROOTFS[1]:x}", b"MStar # ")
    assert b"SF: 1966080 bytes @ 0x1d0000 Read: OK\r\n" in out
    term.close()
    raw, log = community.dump(emu.port, RAM, RAM + ROOTFS[1] - 16)
    assert all(len(line) == 65 for line in log.split(b"\r\n")[:-1])
    assert raw != image[ROOTFS[0] : ROOTFS[0] + ROOTFS[1]]  # the words come out reversed
    assert community.swap(raw) == image[ROOTFS[0] : ROOTFS[0] + ROOTFS[1]]
