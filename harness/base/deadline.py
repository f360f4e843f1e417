"""A deadline as a value (pyserial's serialutil.Timeout, kept to what the tool needs): made
once from a number of seconds, then asked how much time is left. A wait that passes one
around cannot forget to count the time already spent."""

from __future__ import annotations

import time


class Deadline:
    __slots__ = ("end",)

    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return max(0.0, self.end - time.monotonic())

    def expired(self) -> bool:
        return time.monotonic() >= self.end

    def within(self, seconds: float) -> Deadline:
        """The sooner of this deadline and `seconds` from now (one step of a longer wait)."""
        step = Deadline(seconds)
        step.end = min(step.end, self.end)
        return step
