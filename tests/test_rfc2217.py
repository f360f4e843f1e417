"""A lab's remote port: ser2net exports the emulator's pty over RFC 2217 on 127.0.0.1, and
read-mem and backup run through rfc2217://127.0.0.1:PORT."""

import os
import shutil
import socket
import subprocess
import time

import pytest

from tests.support.camera import FIXTURE_TREES, ROOTFS, flash_from_trees
from tests.support.run_cli import uboot_dump

RAM = 0x21000000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def ser2net(tmp_path):
    exe = shutil.which("ser2net") or (
        "/usr/sbin/ser2net" if os.path.exists("/usr/sbin/ser2net") else None
    )
    if not exe:
        pytest.skip("ser2net is missing (Debian package ser2net; scripts/setup installs it)")
    procs = []

    def start(device: str) -> str:
        port = free_port()
        config = (
            f"connection: &cam#  accepter: telnet(rfc2217),tcp,127.0.0.1,{port}#"
            f"  connector: serialdev,{os.path.realpath(device)},115200n81,local#"
            "  options:#    kickolduser: true"
        )
        p = subprocess.Popen(
            [exe, "-n", "-u", "-P", str(tmp_path / "ser2net.pid"), "-Y", config],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append(p)
        deadline = time.monotonic() + 10
        while True:  # until ser2net accepts connections
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert p.poll() is None, "ser2net exited"
                assert time.monotonic() < deadline, "ser2net did not listen"
                time.sleep(0.05)
        return f"rfc2217://127.0.0.1:{port}"

    yield start
    for p in procs:
        p.terminate()
        p.wait(10)


def test_read_mem_and_backup_over_rfc2217(emulator, ser2net, tmp_path):
    flash = flash_from_trees(tmp_path, FIXTURE_TREES / "rootfs", FIXTURE_TREES / "home")
    emu = emulator(flash, "mstar", at_prompt=True, baud=115200)
    url = ser2net(emu.port)
    r = uboot_dump(
        "read-mem",
        "--port",
        url,
        "--start",
        hex(RAM),
        "--length",
        "0x800",
        "-o",
        str(tmp_path / "ram.bin"),
    )
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "ram.bin").read_bytes() == emu.board.target.memory.read(RAM, 0x800)
    r = uboot_dump(
        "backup",
        "--port",
        url,
        "--model",
        "y203c",
        "-o",
        str(tmp_path / "b"),
        "--partitions",
        "ROOTFS",
        "--chunk",
        "16K",
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "b" / "sys_y203c").read_bytes() == flash[ROOTFS[0] : sum(ROOTFS)]
