"""Test data made once for all the xdist workers of a run (each worker would otherwise make
its own copy of a package's fixtures): the first worker to ask makes it under a lock in the
run's shared temporary directory; the others wait for it and use it."""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import Callable

import pytest


def shared_dir(factory: pytest.TempPathFactory, name: str, make: Callable[[Path], None]) -> Path:
    """The directory `name`, filled by make(directory) once per run."""
    root = factory.getbasetemp()
    if root.name.startswith("popen-gw"):  # an xdist worker: the run's directory is above
        root = root.parent
    done = root / f"{name}.done"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        directory = root / name
        if not done.exists():
            directory.mkdir(exist_ok=True)
            make(directory)
            done.touch()
    return directory
