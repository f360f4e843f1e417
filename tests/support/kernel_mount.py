"""What the camera's kernel makes of a JFFS2 partition: ../shared/oracles/linux-jffs2-mount/
boots a stock Debian kernel under QEMU (x86_64, TCG; about 7 s an image on this machine),
turns the image into an MTD device with block2mtd, mounts it read-only and lists the tree it
reads (every byte of every file, so data CRCs are checked).

Where the oracle cannot run here (no ../shared in a user's clone, or its packages missing),
`skip_reason()` says why. scripts/setup installs the packages and builds the oracle's kernel
cache, so a test does not pay for the kernel's download."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from tests.support.targets import SHARED

MOUNT_ORACLE = SHARED / "oracles" / "linux-jffs2-mount" / "mount_jffs2.py"
NEEDS = {  # what the oracle runs, and the Debian package that brings it
    "qemu-system-x86_64": "qemu-system-x86",
    "busybox": "busybox-static",
    "cpio": "cpio",
}


def skip_reason() -> Optional[str]:
    if not MOUNT_ORACLE.exists():
        return f"the kernel-mount oracle is not here ({MOUNT_ORACLE}: ../shared is CI's)"
    for program, package in NEEDS.items():
        if not shutil.which(program, path="/usr/bin:/bin:/usr/sbin:/sbin"):
            return f"{program} is missing (Debian package {package}; scripts/setup)"
    return None


@dataclass(frozen=True)
class Verdict:
    code: int  # the oracle's: 0 mounted cleanly (and equal), 1 complaints, 2 refused, 4 differs
    mounted: bool
    differences: list
    problems: list
    files: list

    def equal_clean(self) -> bool:
        return self.code == 0 and self.mounted and not self.differences and not self.problems


def mount(partition: bytes, expect_tree: Path, work: Path, name: str = "part.img") -> Verdict:
    """Mount `partition` (a whole partition's bytes, as the flash holds them) and compare
    what the kernel reads with `expect_tree`."""
    image = work / name
    image.write_bytes(partition)
    argv = [sys.executable, str(MOUNT_ORACLE), str(image), "--expect-tree", str(expect_tree)]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    if r.returncode == 3 or not r.stdout.strip():
        raise AssertionError(f"the kernel-mount oracle failed (exit {r.returncode}): {r.stderr}")
    out = json.loads(r.stdout)
    return Verdict(
        r.returncode,
        bool(out.get("mounted")),
        list(out.get("tree_differences") or []),
        list(out.get("problems") or []),
        list(out.get("files") or []),
    )
