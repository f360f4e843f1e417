"""The camera models this tool knows (harness/camera/models.json: each model's flash
layout, DRAM and where U-Boot keeps itself; the one place they are written down)."""

from __future__ import annotations

import functools
import json
from pathlib import Path

MODELS_FILE = Path(__file__).with_name("models.json")


@functools.cache
def models_data() -> dict:
    return json.loads(MODELS_FILE.read_text())


def models() -> tuple[str, ...]:
    """The camera models with a built-in table (harness/camera/models.json)."""
    return tuple(models_data()["models"])


def flash_size(model: str) -> int | None:
    name = models_data()["models"].get(model)
    return int(models_data()["tables"][name]["flash_size"], 16) if name else None
