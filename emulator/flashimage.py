"""Assemble a flash image from partition contents (for tests, the demo, and users).

    python -m emulator.flashimage --profile mstar --part ROOTFS=rootfs.jffs2 \\
        --part HOME=home.jffs2 -o flash.bin

Each partition's bytes are placed at its offset; everything else is erased flash (0xFF).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from emulator import profile as profiles
from emulator.profile import FlashPartition


class LayoutError(ValueError):
    pass


def assemble(
    size: int, partitions: tuple[FlashPartition, ...], contents: dict[str, bytes]
) -> bytes:
    image = bytearray(b"\xff") * size
    by_name = {p.name: p for p in partitions}
    for name, data in contents.items():
        p = by_name.get(name)
        if p is None:
            raise LayoutError(f"no partition {name!r} (have {', '.join(by_name)})")
        if len(data) > p.size:
            raise LayoutError(f"{name}: {len(data)} bytes do not fit in 0x{p.size:x}")
        image[p.start : p.start + len(data)] = data
    return bytes(image)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m emulator.flashimage", description=__doc__)
    ap.add_argument("--profile", default="mstar")
    ap.add_argument("--part", action="append", default=[], metavar="NAME=FILE")
    ap.add_argument("-o", "--output", type=Path, required=True)
    args = ap.parse_args(argv)
    try:
        prof = profiles.load(args.profile)
        contents = {}
        for item in args.part:
            name, _, path = item.partition("=")
            contents[name] = Path(path).read_bytes()
        args.output.write_bytes(assemble(prof.flash.size, prof.partitions, contents))
    except (OSError, LayoutError, profiles.ProfileError) as exc:
        sys.stderr.write(f"flashimage: error: {exc}\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
