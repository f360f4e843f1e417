"""One run per camera: the port belongs to the run that opened it."""

from __future__ import annotations

from harness.link.transport import Transport
from tests.support.camera import FIXTURE_TREES, HOME, ROOTFS, flash_from_trees
from tests.support.run_cli import one_error, uboot_dump, uboot_emu


def test_one_run_per_camera_a_second_is_refused_at_the_door(tmp_path):
    """Two runs on one camera would take half of each other's answers: the port is locked
    by the run that has it (flock, as pyserial's exclusive mode takes it), and a second
    run on it ends at once with exit 3, before it sends anything."""
    flash = flash_from_trees(tmp_path, FIXTURE_TREES / "rootfs", FIXTURE_TREES / "home")
    (tmp_path / "flash.img").write_bytes(flash)
    with uboot_emu(tmp_path / "flash.img", tmp_path / "tty", "--baud", "0", "--at-prompt"):
        first = Transport(str(tmp_path / "tty"))  # a run in progress
        try:
            r = uboot_dump("backup", "--port", str(tmp_path / "tty"), "--model", "y203c",
                           "-o", str(tmp_path / "out"))  # fmt: skip
            one_error(r, 3, "another program has it open")
        finally:
            first.close()
        r = uboot_dump("backup", "--port", str(tmp_path / "tty"), "--model", "y203c", "-o",
                       str(tmp_path / "out"), "--via", "md", "--partitions", "HOME")  # fmt: skip
        assert r.returncode == 0, r.stderr.decode()


def test_three_cameras_at_once_and_one_unplugged_mid_run(tmp_path):
    """Three cameras, three ports, three runs at the same time (each its own -o and
    journal): two finish exact while the third's adapter is pulled in the middle (exit 6);
    the same command again on the third resumes and finishes exact."""
    import os
    import subprocess
    import sys
    import time
    from contextlib import ExitStack

    flash = flash_from_trees(tmp_path, FIXTURE_TREES / "rootfs", FIXTURE_TREES / "home")
    faults = {"a": (), "b": (), "c": ("--faults", "disconnect@60000:2")}
    with ExitStack() as stack:
        for name, extra in faults.items():
            (tmp_path / f"{name}.img").write_bytes(flash)
            stack.enter_context(uboot_emu(tmp_path / f"{name}.img", tmp_path / f"tty{name}",
                                          "--baud", "0", "--at-prompt", *extra))  # fmt: skip

        def run(name: str) -> subprocess.Popen:
            argv = [sys.executable, "-m", "harness.cli", "backup", "--port",
                    str(tmp_path / f"tty{name}"), "--model", "y203c", "-o",
                    str(tmp_path / f"out-{name}"), "--via", "md", "--timeout", "3"]  # fmt: skip
            return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

        procs = {name: run(name) for name in faults}
        codes = {name: p.wait(120) for name, p in procs.items()}
        assert codes == {"a": 0, "b": 0, "c": 6}, {n: p.stderr.read() for n, p in procs.items()}
        for p in procs.values():
            p.stdout.close()
            p.stderr.close()
        deadline = time.monotonic() + 20  # the adapter comes back (2 s after it went)
        while not os.path.exists(tmp_path / "ttyc") and time.monotonic() < deadline:
            time.sleep(0.05)
        again = run("c")  # the same command resumes
        out, err = again.communicate(timeout=120)
        assert again.returncode == 0, err.decode()
    for name in faults:
        for file, (start, size) in (("sys_y203c", ROOTFS), ("home_y203c", HOME)):
            assert (tmp_path / f"out-{name}" / file).read_bytes() == flash[start : start + size]
