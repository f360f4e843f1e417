"""Where a client connects: a pseudo-terminal in raw mode, or a TCP socket.

Clients come and go; while none is connected the board's output is lost, as a camera's is
when no terminal is open. `vanish()` makes the port disappear for a while, as an unplugged
USB adapter does, then come back (at a new pty path, re-linked if a link was asked for).
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import socket
import threading
import time
import tty
from typing import Callable

Receiver = Callable[[bytes], None]
POLL_S = 0.05
ABSENT_POLL_S = 0.02


class PtyEndpoint:
    def __init__(self, link: str | None = None, on_new_path: Callable[[str], None] | None = None):
        self.link = link
        self.on_new_path = on_new_path
        self.receiver: Receiver = lambda data: None
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._vanish_until = 0.0
        self.fd = -1
        self.path = ""
        self._open()
        self._thread = threading.Thread(target=self._read_loop, name="pty-reader", daemon=True)

    @property
    def url(self) -> str:
        return self.link or self.path

    def _open(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        os.close(slave)
        os.set_blocking(master, False)
        self.fd = master
        if self.link:
            tmp = f"{self.link}.{os.getpid()}.tmp"
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            os.symlink(self.path, tmp)
            os.replace(tmp, self.link)
        if self.on_new_path:
            self.on_new_path(self.path)

    def _drop(self) -> None:
        with self._lock:
            if self.fd >= 0:
                os.close(self.fd)
                self.fd = -1
        if self.link:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.link)

    def start(self, receiver: Receiver) -> None:
        self.receiver = receiver
        self._thread.start()

    def close(self) -> None:
        self._closed.set()
        self._thread.join(2)
        self._drop()

    def vanish(self, seconds: float) -> None:
        self._vanish_until = time.monotonic() + seconds
        self._drop()

    def _read_loop(self) -> None:
        poller = None
        polled_fd = -1
        while not self._closed.is_set():
            if self.fd < 0:
                if time.monotonic() < self._vanish_until:
                    time.sleep(ABSENT_POLL_S)
                    continue
                self._open()
            if polled_fd != self.fd:
                poller = select.poll()
                poller.register(self.fd, select.POLLIN)
                polled_fd = self.fd
            assert poller is not None
            try:
                events = poller.poll(POLL_S * 1000)
            except OSError:
                continue
            if not events:
                continue
            ev = events[0][1]
            if ev & select.POLLIN:
                try:
                    data = os.read(self.fd, 4096)
                except OSError:
                    data = b""
                if data:
                    self.receiver(data)
                    continue
            if ev & (select.POLLHUP | select.POLLERR | select.POLLNVAL):
                time.sleep(ABSENT_POLL_S)  # no client has the port open

    def write(self, data: bytes, check: Callable[[], None]) -> None:
        """Send to the client; dropped when none is connected or the port is gone."""
        view = memoryview(data)
        while view:
            with self._lock:
                fd = self.fd
            if fd < 0:
                return
            try:
                r = select.poll()
                r.register(fd, select.POLLOUT)
                events = r.poll(POLL_S * 1000)
            except (OSError, ValueError):
                return
            if not events:
                check()  # a client that does not read: keep waiting, unless power is lost
                continue
            if events[0][1] & (select.POLLHUP | select.POLLERR | select.POLLNVAL):
                return
            try:
                n = os.write(fd, view)
            except BlockingIOError:
                continue
            except OSError as exc:
                if exc.errno in (errno.EIO, errno.EBADF):
                    return
                raise
            view = view[n:]


class TcpEndpoint:
    """One client at a time over TCP (pyserial's socket:// URLs); a new one replaces the old."""

    def __init__(self, host: str, port: int):
        self.host = host
        self.port = port
        self.receiver: Receiver = lambda data: None
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._vanish_until = 0.0
        self.client: socket.socket | None = None
        self.server: socket.socket | None = None
        self._listen()
        self._thread = threading.Thread(target=self._loop, name="tcp-endpoint", daemon=True)

    @property
    def url(self) -> str:
        return f"socket://{self.host}:{self.port}"

    def _listen(self) -> None:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.host, self.port))
        s.listen(1)
        self.port = s.getsockname()[1]
        self.server = s

    def start(self, receiver: Receiver) -> None:
        self.receiver = receiver
        self._thread.start()

    def _drop_client(self) -> None:
        with self._lock:
            if self.client is not None:
                with contextlib.suppress(OSError):
                    self.client.close()
                self.client = None

    def close(self) -> None:
        self._closed.set()
        self._thread.join(2)
        self._drop_client()
        if self.server is not None:
            self.server.close()

    def vanish(self, seconds: float) -> None:
        self._vanish_until = time.monotonic() + seconds
        self._drop_client()
        with self._lock:
            if self.server is not None:
                self.server.close()
                self.server = None

    def _loop(self) -> None:
        while not self._closed.is_set():
            if self.server is None:
                if time.monotonic() < self._vanish_until:
                    time.sleep(ABSENT_POLL_S)
                    continue
                self._listen()
            socks = [s for s in (self.server, self.client) if s is not None]
            try:
                ready, _, _ = select.select(socks, [], [], POLL_S)
            except (OSError, ValueError):
                continue
            for s in ready:
                if s is self.server:
                    try:
                        conn, _ = s.accept()
                    except OSError:
                        continue
                    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    self._drop_client()
                    with self._lock:
                        self.client = conn
                elif s is self.client:
                    try:
                        data = s.recv(4096)
                    except OSError:
                        data = b""
                    if data:
                        self.receiver(data)
                    else:
                        self._drop_client()

    def write(self, data: bytes, check: Callable[[], None]) -> None:
        with self._lock:
            client = self.client
        if client is None:
            return
        try:
            client.sendall(data)
        except OSError:
            self._drop_client()
