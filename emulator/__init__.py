"""uboot-emu: an emulated camera with a U-Boot console on a pseudo-terminal."""

from emulator.server import Emulator

__all__ = ["Emulator"]
