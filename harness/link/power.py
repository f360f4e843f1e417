"""The camera's power, switched by a command of the user's (`--power-cmd`): a relay board's
tool, a PoE switch's CLI, a smart plug's, or the emulator's (`python -m emulator.control
SOCKET {}`). `{}` in the command stands for `on` or `off` (without it the word is added at
the end); the command runs without a shell, and must exit 0 within 30 s."""

from __future__ import annotations

import shlex
import subprocess

from harness.base.errors import PortError

TIMEOUT_S = 30.0


class PowerSwitchFailed(PortError):
    """The --power-cmd failed."""

    hint = "check the command by hand: it must switch the camera and exit 0"


class PowerSwitch:
    def __init__(self, command: str):
        try:
            words = shlex.split(command)
        except ValueError as exc:
            raise PowerSwitchFailed(f"--power-cmd {command!r}: {exc}") from None
        if not words:
            raise PowerSwitchFailed("--power-cmd is empty")
        self.words = words

    def argv(self, state: str) -> list[str]:
        if any("{}" in w for w in self.words):
            return [w.replace("{}", state) for w in self.words]
        return [*self.words, state]

    def set(self, state: str) -> None:
        """Switch the camera `on` or `off`."""
        argv = self.argv(state)
        shown = shlex.join(argv)
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT_S)
        except FileNotFoundError:
            raise PowerSwitchFailed(f"--power-cmd: {argv[0]}: no such program") from None
        except subprocess.TimeoutExpired:
            raise PowerSwitchFailed(f"`{shown}` did not end within {TIMEOUT_S:.0f} s") from None
        except OSError as exc:
            raise PowerSwitchFailed(f"`{shown}`: {exc.strerror}") from None
        if r.returncode != 0:
            last = (r.stderr.strip().splitlines() or ["no message"])[-1]
            raise PowerSwitchFailed(f"`{shown}` failed (exit {r.returncode}): {last}")

    def cycle(self) -> None:
        self.set("off")
        self.set("on")
