"""Bytes to and from anything pyserial opens: a device, a pty, socket:// or rfc2217://.

Knows the quirks of each kind of port and nothing about U-Boot: a pty has no modem lines, an
unplugged USB adapter raises on read, a URL needs serial_for_url. Every failure is a PortError
(cannot open) or PortGone (it went away).
"""

from __future__ import annotations

import time
from typing import BinaryIO, Optional

import serial

from harness.base.errors import PortError, PortGone

READ_CHUNK = 1 << 16
POLL_S = 0.02  # the port's own read timeout; never changed after opening (pyserial
# reconfigures the port, and an RFC 2217 client renegotiates with its server, on every change)


def port_url(port: str) -> str:
    """RFC 2217 servers in front of a pty (ser2net) never acknowledge modem-line changes:
    tell pyserial not to wait for that answer."""
    if port.startswith("rfc2217://") and "ign_set_control" not in port:
        port += ("&" if "?" in port else "?") + "ign_set_control"
    return port


class Transport:
    def __init__(self, port: str, baud: int = 115200, log: Optional[BinaryIO] = None):
        self.port = port
        self.log = log  # everything received is appended here (the CLI's --log)
        # a write timeout only on local ports: pyserial's rfc2217 client does not support one;
        # and a local port is this run's alone (flock): a second run on the same camera would
        # take half of each answer and corrupt both, so it is refused at the door instead
        extra = {} if "://" in port else {"write_timeout": 10, "exclusive": True}
        try:
            self.s = serial.serial_for_url(
                port_url(port),
                baudrate=baud,
                timeout=POLL_S,
                rtscts=False,
                dsrdtr=False,
                xonxoff=False,
                **extra,
            )
        except (serial.SerialException, OSError, ValueError, NotImplementedError) as exc:
            raise PortError(f"cannot open {port}: {_reason(exc)}") from None

    def read(self, timeout: float) -> bytes:
        """What has arrived, waiting at most `timeout` seconds for the first byte."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                data = self.s.read(min(max(1, self.s.in_waiting), READ_CHUNK))
                if data and self.log is not None:
                    self.log.write(data)
                    self.log.flush()
                if data or time.monotonic() >= deadline:
                    return data
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
    if "Could not exclusively lock port" in text:
        return "another program has it open (one run per camera: wait for it, or stop it)"
    return text.splitlines()[0]
