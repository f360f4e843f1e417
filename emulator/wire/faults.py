"""Fault specifications and a seeded schedule of where they strike.

Spec grammar (``--faults``): comma-separated items, each ``KIND=RATE[:PARAM]`` (a probability
per character) or ``KIND@COUNT[:PARAM]`` (once, at that character index of the stream).

Output kinds (target to host): flip (PARAM: the bit, 0-7; default random), drop, dup,
garbage (PARAM: burst length, default 1..16 random), stall (PARAM: seconds, default 2),
reset (the board resets mid-output), disconnect (the port vanishes; PARAM: seconds until it
reappears, default 0.5).
Input kinds (host to target): in-flip, in-drop.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

OUTPUT_KINDS = ("flip", "drop", "dup", "garbage", "stall", "reset", "disconnect")
INPUT_KINDS = ("in-flip", "in-drop")
KINDS = OUTPUT_KINDS + INPUT_KINDS

DEFAULT_PARAM = {"stall": 2.0, "disconnect": 0.5, "garbage": 0.0}


class FaultSpecError(ValueError):
    """A --faults spec that does not parse."""


@dataclass(frozen=True)
class Fault:
    kind: str
    rate: float | None = None  # probability per character
    at: int | None = None  # once, at this character index
    param: float | None = None

    @property
    def is_input(self) -> bool:
        return self.kind in INPUT_KINDS

    def value(self) -> float:
        return self.param if self.param is not None else DEFAULT_PARAM.get(self.kind, 0.0)


def parse_spec(spec: str) -> list[Fault]:
    faults: list[Fault] = []
    if not spec.strip():
        return faults
    for item in spec.split(","):
        item = item.strip()
        body, _, param_s = item.partition(":")
        param = None
        if param_s:
            try:
                param = float(param_s)
            except ValueError:
                raise FaultSpecError(
                    f"fault {item!r}: parameter {param_s!r} is not a number"
                ) from None
            if param < 0 or not math.isfinite(param):
                raise FaultSpecError(f"fault {item!r}: parameter must be >= 0")
        if "=" in body:
            kind, _, rate_s = body.partition("=")
            try:
                rate = float(rate_s)
            except ValueError:
                raise FaultSpecError(f"fault {item!r}: rate {rate_s!r} is not a number") from None
            if not 0.0 < rate <= 1.0:
                raise FaultSpecError(f"fault {item!r}: rate must be in (0, 1]")
            fault = Fault(kind.strip(), rate=rate, param=param)
        elif "@" in body:
            kind, _, at_s = body.partition("@")
            try:
                at = int(at_s, 0)
            except ValueError:
                raise FaultSpecError(f"fault {item!r}: count {at_s!r} is not an integer") from None
            if at < 0:
                raise FaultSpecError(f"fault {item!r}: count must be >= 0")
            fault = Fault(kind.strip(), at=at, param=param)
        else:
            raise FaultSpecError(f"fault {item!r} is neither KIND=RATE nor KIND@COUNT")
        if fault.kind in ("flip", "in-flip") and fault.param is not None:
            if fault.param != int(fault.param) or fault.param > 7:
                raise FaultSpecError(f"fault {item!r}: the bit to flip is 0 to 7")
        if fault.kind not in KINDS:
            raise FaultSpecError(f"unknown fault kind {fault.kind!r} (known: {', '.join(KINDS)})")
        faults.append(fault)
    return faults


class Schedule:
    """Where, in a stream of characters, each fault strikes next.

    Rates are drawn as geometric gaps, so a clean stretch costs nothing per character.
    """

    def __init__(self, faults: list[Fault], rng: random.Random):
        self.rng = rng
        self.faults = faults
        self.next_at: list[float] = [self._first(f) for f in faults]

    def _gap(self, rate: float) -> int:
        if rate >= 1.0:
            return 1
        u = self.rng.random()
        return 1 + int(math.log1p(-u) / math.log1p(-rate))

    def _first(self, f: Fault) -> float:
        if f.at is not None:
            return f.at
        assert f.rate is not None
        return self._gap(f.rate) - 1

    def next_event(self) -> tuple[float, int]:
        """(position, fault index) of the earliest pending fault; position inf if none."""
        if not self.next_at:
            return math.inf, -1
        i = min(range(len(self.next_at)), key=self.next_at.__getitem__)
        return self.next_at[i], i

    def fired(self, i: int) -> None:
        f = self.faults[i]
        if f.rate is None:
            self.next_at[i] = math.inf
        else:
            self.next_at[i] += self._gap(f.rate)
