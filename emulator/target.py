"""What a command runs against: the board's memory, flash, environment and console."""

from __future__ import annotations

from dataclasses import dataclass, field

from .events import Reset
from .flash import Flash
from .memory import BusError, Memory
from .profile import Profile
from .uart import Uart

CMD_SUCCESS = 0
CMD_FAILURE = 1
CMD_USAGE = -1


@dataclass
class MdState:
    """`md` remembers where it stopped, for the repeat on an empty line."""

    addr: int = 0
    length: int = 0x40
    size: int = 4


@dataclass
class Target:
    profile: Profile
    uart: Uart
    memory: Memory
    flash: Flash
    env: dict[str, str] = field(default_factory=dict)
    md: MdState = field(default_factory=MdState)
    paced: bool = False

    def out(self, text: str) -> None:
        self.uart.puts(text.encode("latin-1"))

    def abort(self, err: BusError) -> None:
        """A data abort: the CPU prints its registers and resets."""
        self.out(self.profile.abort_text)
        self.uart.flush()
        raise Reset(str(err))

    def busy(self, seconds: float) -> None:
        """Time the real board spends (an SPI transfer, a checksum); only when paced."""
        if self.paced and seconds > 0:
            self.uart.sleep(seconds)


def strtoul(text: str, base: int = 16) -> tuple[int, str]:
    """U-Boot's simple_strtoul: leading digits (an optional 0x for hex), and the rest."""
    s = text
    if base == 16 and s[:2].lower() == "0x":
        s = s[2:]
    digits = "0123456789abcdef"[:base]
    n = 0
    i = 0
    while i < len(s) and s[i].lower() in digits:
        n = n * base + digits.index(s[i].lower())
        i += 1
    return n, s[i:]


def hexarg(text: str) -> int:
    return strtoul(text, 16)[0]


def c_hash_x(value: int) -> str:
    """C's printf("%#x"): no prefix for zero."""
    return "0" if value == 0 else f"{value:#x}"


def data_size(cmd: str, default: int, widths: str) -> int:
    """U-Boot's cmd_get_data_size: the size from a `.b/.w/.l/.q` suffix; -1 if unknown."""
    if len(cmd) > 2 and cmd[-2] == ".":
        sizes = {"b": 1, "w": 2, "l": 4, "q": 8}
        c = cmd[-1]
        if c in sizes and c in widths:
            return sizes[c]
        return -1
    return default
