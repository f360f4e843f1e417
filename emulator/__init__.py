"""uboot-emu: an emulated camera with a U-Boot console on a pseudo-terminal."""

from .server import Emulator

__all__ = ["Emulator"]
