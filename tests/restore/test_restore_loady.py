"""A camera whose U-Boot has `loady` (the Yi cameras' vendor build has not: a camera built
with CONFIG_CMD_LOADB, modelled here as the MStar profile with U-Boot 2023.01's `loady`
added): restore sends a changed block as one YMODEM transfer where that moves fewer
characters than its mw.l lines (dense data; a block of runs of equal words stays mw.l), the
rest unchanged (the RAM's crc32 is still the proof before the erase)."""

from __future__ import annotations

import json
import random

from emulator.profile import load as load_profile
from harness.camera.partitions import model_table
from harness.link.transport import Transport
from harness.link.ymodem import wire_bytes
from harness.restore.images import PartitionImage
from harness.restore.job import Restore
from harness.restore.loader import commands, mw_chars
from tests.support.camera import mkfs

TABLE = model_table("y203c")
assert TABLE is not None


def mstar_with_loady(tmp_path):
    p = load_profile("mstar")
    table = json.loads(p.command_table.read_text())
    qemu = json.loads((p.command_table.parent / "commands-2023.01-qemu_arm.json").read_text())
    table["commands"]["loady"] = qemu["commands"]["loady"]
    path = tmp_path / "commands.json"
    path.write_text(json.dumps(table))
    return p.with_(command_table=path)


def dense_rootfs(tmp_path) -> PartitionImage:
    """A ROOTFS image whose first blocks are incompressible data (a JFFS2 of random bytes)."""
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "random.bin").write_bytes(random.Random(8).randbytes(150_000))
    data = mkfs(tree, tmp_path / "rootfs.jffs2")
    part = next(p for p in TABLE if p.name == "ROOTFS")
    return PartitionImage(part, data + b"\xff" * (part.size - len(data)), len(data), "dense")


def test_restore_sends_each_changed_block_with_loady(emulator, original, hacked, tmp_path):
    emu = emulator(hacked, mstar_with_loady(tmp_path), at_prompt=True, writable=True)
    log = tmp_path / "line.log"
    with open(log, "wb") as f:
        t = Transport(emu.port, log=f)
        try:
            images = [dense_rootfs(tmp_path)]
            summary = Restore(t, images, tmp_path, model="y203c", via="line", timeout=3.0,
                              say=lambda s: None).run()  # fmt: skip
        finally:
            t.close()
    start, image = images[0].partition.offset, images[0].data
    assert emu.flash.data[start : start + len(image)] == image
    assert emu.flash.data[:start] == original[:start]  # nothing else changed
    assert emu.flash.data[start + len(image) :] == hacked[start + len(image) :]
    said = log.read_bytes()
    blocks = {o: d for i in images for o, d in i.blocks()}
    dense = [o for o in summary.written
             if wire_bytes(len(blocks[o])) < mw_chars(commands(0, blocks[o]))]  # fmt: skip
    assert dense, "the hacked camera has a dense block"
    assert said.count(b"## Total Size      = 0x00010000") == len(dense)
    assert (b"mw.l" in said) == (len(dense) < len(summary.written))
