"""Bytes to and from anything pyserial opens: a device, a pty, socket:// or rfc2217://.

Knows the quirks of each kind of port and nothing about U-Boot: a pty has no modem lines, an
unplugged USB adapter raises on read, a URL needs serial_for_url. Every failure is a PortError
(cannot open) or PortGone (it went away).
"""

from __future__ import annotations

import serial

from .errors import PortError, PortGone

READ_CHUNK = 1 << 16


class Transport:
    def __init__(self, port: str, baud: int = 115200):
        self.port = port
        try:
            self.s = serial.serial_for_url(
                port,
                baudrate=baud,
                timeout=0.05,
                write_timeout=10,
                rtscts=False,
                dsrdtr=False,
                xonxoff=False,
            )
        except (serial.SerialException, OSError, ValueError) as exc:
            raise PortError(f"cannot open {port}: {_reason(exc)}") from None

    def read(self, timeout: float) -> bytes:
        """What has arrived, waiting at most `timeout` seconds for the first byte."""
        try:
            self.s.timeout = timeout
            waiting = self.s.in_waiting
            return self.s.read(min(max(1, waiting), READ_CHUNK))
        except (serial.SerialException, OSError, TypeError, AttributeError) as exc:
            raise PortGone(f"{self.port}: {_reason(exc)}") from None

    def write(self, data: bytes) -> None:
        try:
            self.s.write(data)
        except (serial.SerialException, OSError, TypeError, AttributeError) as exc:
            raise PortGone(f"{self.port}: {_reason(exc)}") from None

    def close(self) -> None:
        try:
            self.s.close()
        except (serial.SerialException, OSError):
            pass


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
