"""The JFFS2 fuzzer's worker: hypothesis mutates the fields of a real image's nodes (with
their CRCs made right again, so the mutation reaches the code behind the CRC checks, or
left wrong) and each mutant goes through inspect, read_fs and extract, the code behind
`jffs2 inspect` and `jffs2 unpack`.

    python tests/jffs2_fuzz.py SEED_IMAGE WORKDIR COUNT

Run by tests/test_hostile_jffs2.py in a child process under a memory limit. Each mutant has
SECONDS (an alarm); any exception but the tool's own clean refusals, any file outside the
destination, or a partial tree left behind is a failure (exit 1, the mutant described).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import struct
import sys
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from harness.jffs2.extract import ExtractError, extract  # noqa: E402
from harness.jffs2.fs import Jffs2Error, read_fs  # noqa: E402
from harness.jffs2.inspect import inspect  # noqa: E402
from harness.jffs2.nodes import (  # noqa: E402
    DIRENT_FIELDS,
    HEADER,
    INODE_FIELDS,
    Node,
    field_offset,
    jffs2_crc,
    parse_inode,
    walk,
)

SECONDS = 10
INTERESTING = [0, 1, 2, 3, 0x7F, 0x80, 0xFF, 0x1000, 0x1001, 0xFFFF, 0x10000, 0x7FFFFFFF,
               0x80000000, 0xFFFFFFFE, 0xFFFFFFFF]  # fmt: skip
SIZES = {"B": 1, "H": 2, "I": 4}


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout()


# the fields that size or place things come first, and more often
FIELDS = ["dsize", "csize", "isize", "offset", "compr", "nsize", "totlen", "mode", "ino",
          "pino", "version", "type", "nodetype"]  # fmt: skip
VALUES = INTERESTING + [0x06, 0x07, 0x08, 0x15, 0o100644, 0o40755, 0o120777, 0o20644]


def mutate(image: bytes, nodes: list[Node], pick: int, changes, fix: bool):
    node = nodes[pick % len(nodes)]
    layout = {0xE002: INODE_FIELDS, 0xE001: DIRENT_FIELDS}.get(node.kind, HEADER)
    names = layout[1]
    out = bytearray(image)
    said = []
    for field, value in changes:
        name = field if field in names else names[hash(field) % len(names)]
        code = layout[0][names.index(name)]
        off = node.offset + field_offset(layout, name)
        struct.pack_into("<" + code, out, off, value & ((1 << (8 * SIZES[code])) - 1))
        said.append(f"{name}={value:#x}")
    if fix:  # the CRCs right again, so the value reaches what reads it
        struct.pack_into(
            "<I", out, node.offset + 8, jffs2_crc(bytes(out[node.offset : node.offset + 8]))
        )
        if layout is not HEADER:
            crc_at = field_offset(layout, "node_crc")
            span = 60 if layout is INODE_FIELDS else 32
            struct.pack_into(
                "<I",
                out,
                node.offset + crc_at,
                jffs2_crc(bytes(out[node.offset : node.offset + span])),
            )
    return bytes(out), f"node at 0x{node.offset:x} {' '.join(said)} fix={fix}"


def main() -> int:
    seed_image = Path(sys.argv[1]).read_bytes()
    work = Path(sys.argv[2])
    count = int(sys.argv[3])
    work.mkdir(parents=True, exist_ok=True)
    nodes = [n for n in walk(seed_image, "<") if isinstance(n, Node)]
    signal.signal(signal.SIGALRM, _alarm)
    done = {"n": 0, "slowest": 0.0}

    inodes = [k for k, n in enumerate(nodes) if n.kind == 0xE002]

    files = [k for k in inodes if (parse_inode(seed_image, nodes[k], "<").mode >> 12) == 8]

    def value(r: random.Random, name: str) -> int:
        if name == "compr":
            return r.choice([1, 1, 2, 2, 6, 6, 0, 8, 0x15, 7, 3, 0xFF])
        if name == "mode" and r.random() < 0.7:
            return r.choice(VALUES[-4:])
        if r.random() < 0.5:
            return r.choice(INTERESTING)
        return r.getrandbits(32) >> r.choice([0, 0, 8, 16, 24])

    def plan(seed: int):
        """A mutation from a seed. Half are sizing plans: on a file's inode node, each of
        compr, csize, dsize, isize, offset changed or not (fields that only matter together
        meet); the other half change one to three fields of any node."""
        r = random.Random(seed)
        if r.random() < 0.5 and files:
            pick = r.choice(files)
            names = [n for n in FIELDS[:5] if r.random() < 0.5] or [r.choice(FIELDS[:5])]
        else:
            pick = r.randrange(len(nodes))
            names = list(dict.fromkeys(r.sample(FIELDS + FIELDS[:5], r.choice([1, 2, 3]))))
        changes = [(name, value(r, name)) for name in names]
        fix = r.random() < 0.8
        cut = r.randrange(12, len(seed_image)) if r.random() < 0.15 else None
        return pick, changes, fix, cut

    @settings(
        max_examples=count, deadline=None, derandomize=True, database=None,
        suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    @given(seed=st.integers(0, 2**64 - 1))
    def one(seed):
        pick, changes, fix, cut = plan(seed)
        image, what = mutate(seed_image, nodes, pick, changes, fix)
        if cut is not None:
            image = image[:cut]
        box = Path(tempfile.mkdtemp(dir=work))
        t0 = time.monotonic()
        signal.alarm(SECONDS)
        try:
            inspect(image)
            fs = read_fs(image)
            extract(fs.entries, box / "dest")
        except (Jffs2Error, ExtractError):
            pass  # a clean refusal
        except Timeout:
            raise AssertionError(f"over {SECONDS} s: {what} cut={cut}") from None
        except BaseException as exc:
            raise AssertionError(f"{type(exc).__name__}: {exc} ({what} cut={cut})") from None
        finally:
            signal.alarm(0)
        done["slowest"] = max(done["slowest"], time.monotonic() - t0)
        left = os.listdir(box)
        assert left in ([], ["dest"]), f"{left} beside dest: {what}"
        shutil.rmtree(box)
        done["n"] += 1

    one()
    print(f"{done['n']} mutants, slowest {done['slowest']:.2f} s, no failure")
    return 0


if __name__ == "__main__":
    sys.exit(main())
