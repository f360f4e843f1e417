"""An emulated camera, assembled: profile + flash + board + UART + line + endpoint.

with Emulator(image, profile="mstar", at_prompt=True) as emu:
    serial.serial_for_url(emu.port) ...
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from emulator import profile as profiles
from emulator.board import Board
from emulator.hw.flash import Flash, ImageError
from emulator.hw.sdcard import CardError, SdCard, Slot
from emulator.hw.uart import Uart
from emulator.profile import FlashPartition, Profile
from emulator.wire.endpoint import PtyEndpoint, TcpEndpoint
from emulator.wire.faults import parse_spec
from emulator.wire.line import Line

__all__ = ["CardError", "Emulator", "ImageError"]


def read_image(path: str | Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ImageError(f"cannot read image {path}: {exc.strerror}") from None


class Emulator:
    def __init__(
        self,
        image: bytes | str | Path,
        profile: str | Profile = "mstar",
        *,
        baud: int = 0,
        at_prompt: bool = False,
        faults: str = "",
        seed: int = 0,
        link: str | None = None,
        listen: tuple[str, int] | None = None,
        boot_window: float | None = None,
        writable: bool = False,
        powered: bool = True,
        partitions: tuple[FlashPartition, ...] | None = None,
        on_new_path: Callable[[str], None] | None = None,
        watchdog: float | None = None,
        sd: str | Path | None = None,
        sd_write_protected: bool = False,
    ):
        self.profile = profile if isinstance(profile, Profile) else profiles.load(profile)
        if partitions is not None:
            self.profile = self.profile.with_partitions(partitions)
        data = image if isinstance(image, (bytes, bytearray)) else read_image(image)
        backing = Path(image) if writable and isinstance(image, (str, Path)) else None
        self.flash = Flash(self.profile.flash, bytes(data), writable=writable, backing=backing)
        fault_list = parse_spec(faults)
        # the card before the port: a bad card image is reported before a pty is announced
        self.slot = Slot(SdCard(sd, sd_write_protected) if sd is not None else None)
        if listen is not None:
            self.endpoint: PtyEndpoint | TcpEndpoint = TcpEndpoint(*listen)
        else:
            self.endpoint = PtyEndpoint(link=link, on_new_path=on_new_path)
        self.line = Line(self.endpoint, baud, fault_list, seed)
        self.uart = Uart(self.line)
        self.board = Board(
            self.profile,
            self.flash,
            self.uart,
            at_prompt=at_prompt,
            boot_window=boot_window,
            paced=baud > 0,
            seed=seed,
            watchdog=watchdog,
            slot=self.slot,
        )
        self._powered_at_start = powered
        self._started = False

    @property
    def port(self) -> str:
        """What a client opens: a pty path (or the link), or a socket:// URL."""
        return self.endpoint.url

    def start(self) -> Emulator:
        self.board.start(powered=self._powered_at_start)  # powered before input can arrive
        self.endpoint.start(self.uart.feed)
        self._started = True
        return self

    def stop(self) -> None:
        if self._started:
            self.board.stop()
            self.endpoint.close()
            self.slot.close()
            self._started = False
        self.flash.close()

    def power_cycle(self, at_prompt: bool = False) -> None:
        self.board.power_cycle(at_prompt)

    def power_off(self) -> None:
        self.board.power_off()

    def cut_power_in_flash_op(self, after: int = 0) -> None:
        """Cut the power in the middle of the flash erase or program that comes after
        `after` others (0: the next one); it is left half done (emulator.hw.flash)."""
        self.flash.cut_in = after

    def power_on(self, at_prompt: bool = False) -> None:
        self.board.power_on(at_prompt)

    def sd_remove(self) -> None:
        """Pull the SD card out of the slot (it can be put back)."""
        self.slot.remove()

    def sd_insert(self) -> None:
        self.slot.insert()

    @property
    def state(self) -> str:
        return self.board.state

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
