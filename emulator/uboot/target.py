"""What a command runs against: the board's memory, flash, environment and console, and the
few globals U-Boot's commands share (md's last address, the base address, Ctrl-C)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Optional

from emulator.hw.flash import Flash
from emulator.hw.memory import BusError, Memory
from emulator.hw.uart import Uart
from emulator.profile import Profile
from emulator.uboot.cnum import strtoul
from emulator.wire.events import Reset

if TYPE_CHECKING:
    from emulator.hw.sdcard import Slot

CMD_SUCCESS = 0
CMD_FAILURE = 1
CMD_USAGE = -1


@dataclass
class MdState:
    """`md` remembers where it stopped, for the repeat on an empty line (dp_last_*)."""

    addr: int = 0
    length: int = 0x40
    size: int = 4


@dataclass
class MmcState:
    """cmd_mmc.c's curr_device and the device's has_init (as the slot's insertion count it
    was initialised at: a card pulled and put back needs initialising again)."""

    current: int = -1
    init_at: Optional[int] = None


@dataclass
class Target:
    profile: Profile
    uart: Uart
    memory: Memory
    flash: Flash
    env: dict[str, str] = field(default_factory=dict)
    md: MdState = field(default_factory=MdState)
    paced: bool = False
    base_address: int = 0
    ctrlc_pressed: bool = False
    baudrate: int = 0  # gd->baudrate
    caches: dict[str, bool] = field(default_factory=lambda: {"icache": False, "dcache": False})
    slot: Optional[Slot] = None
    mmc: MmcState = field(default_factory=MmcState)
    run_command: Callable[[str, int], int] = lambda line, flag: -1  # set by the shell

    def __post_init__(self) -> None:
        self.baudrate = self.baudrate or self.profile.baudrate

    @property
    def mask(self) -> int:
        return (1 << self.profile.word_bits) - 1

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

    def ctrlc(self) -> bool:
        """U-Boot's ctrlc(): reads (and so eats) one pending input byte; True for ^C."""
        if self.uart.tstc() and self.uart.getc() == 0x03:
            self.ctrlc_pressed = True
            return True
        return False

    def strtoul(self, text: str, base: int = 16) -> tuple[int, str]:
        p = self.profile
        return strtoul(text, base, p.number_parser, p.word_bits)

    def hexarg(self, text: str) -> int:
        return self.strtoul(text, 16)[0]


def data_size(cmd: str, default: int, profile: Profile) -> int:
    """cmd_get_data_size(): 1, 2, 4 (8 with 64-bit data) from a `.b/.w/.l/.q` suffix, -2 for
    `.s`, -1 for anything else after a dot in the second-to-last place; else `default`."""
    if len(cmd) > 2 and cmd[-2] == ".":
        c = cmd[-1]
        if c == "q":
            return 8 if profile.data_64bit else -1
        return {"b": 1, "w": 2, "l": 4, "s": -2}.get(c, -1)
    return default
