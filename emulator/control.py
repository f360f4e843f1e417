"""The emulated camera's power switch, for a test or a farm's `--power-cmd`: `uboot-emu
--control SOCKET` listens on a Unix socket for a line `on`, `off` or `cycle` and answers `ok`;

    python -m emulator.control SOCKET on|off|cycle

sends one (exit 0 once the emulator has done it; 1 with a one-line error otherwise)."""

from __future__ import annotations

import os
import socket
import sys
import threading
from typing import Callable

STATES = ("on", "off", "cycle")


class ControlServer:
    """Answers each connection's line by switching: `act(state)`."""

    def __init__(self, path: str, act: Callable[[str], None]):
        if os.path.lexists(path):
            os.unlink(path)
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(4)
        self.act = act
        self.thread = threading.Thread(target=self._serve, name="control", daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return  # closed
            with conn:
                word = conn.recv(64).decode("ascii", "replace").strip()
                if word in STATES:
                    self.act(word)
                    conn.sendall(b"ok\n")
                else:
                    conn.sendall(f"unknown state {word!r}: on, off or cycle\n".encode())

    def close(self) -> None:
        self.sock.close()
        if os.path.lexists(self.path):
            os.unlink(self.path)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1] not in STATES:
        sys.stderr.write("usage: python -m emulator.control SOCKET on|off|cycle\n")
        return 2
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(argv[0])
            s.sendall(argv[1].encode() + b"\n")
            answer = s.recv(256).decode("ascii", "replace").strip()
    except OSError as exc:
        sys.stderr.write(f"emulator.control: {argv[0]}: {exc.strerror or exc}\n")
        return 1
    if answer != "ok":
        sys.stderr.write(f"emulator.control: {answer}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
