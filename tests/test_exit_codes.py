"""The README's table of exit codes, walked: every code it lists is produced by a real run
(or, for the two that no input should reach, by the error itself), its one line names a
next step, and where the next step is "run it again" or an option, doing it works."""

from __future__ import annotations

import random
import re
import signal
import subprocess
import sys

import pytest

from harness.base import errors
from tests.conftest import ROOT
from tests.support.run_cli import one_error, uboot_dump


def readme_codes() -> dict[int, str]:
    text = (ROOT / "README.md").read_text()
    table = text.split("| code | meaning | what to do |", 1)[1].split("\n\n", 1)[0]
    rows = re.findall(r"^\| (\d+) \| (.*?) \| (.*?) \|$", table, re.M)
    return {int(code): todo for code, _, todo in rows}


def test_the_readme_table_is_the_error_classes():
    classes = {c.exit_code for c in vars(errors).values() if isinstance(c, type)
               and issubclass(c, errors.DumpError) and c is not errors.DumpError}  # fmt: skip
    assert set(readme_codes()) == classes | {1, 130}
    for c in vars(errors).values():
        if isinstance(c, type) and issubclass(c, errors.DumpError) and c is not errors.DumpError:
            assert errors.ADVICE.search(c.hint) or c.exit_code == 9, c


@pytest.fixture(scope="module")
def image():
    return random.Random(9).randbytes(16 << 20)


def read_mem(port: str, out, *extra: str):
    return uboot_dump(
        "read-mem", "--port", port, "--start", "0x14000000", "--length", "0x4000",
        "--chunk", "0x1000", "-o", str(out), "--timeout", "2", *extra,
    )  # fmt: skip


def test_1_an_image_not_ready_to_restore(tmp_path):
    bad = tmp_path / "x.img"
    bad.write_bytes(random.Random(1).randbytes(4096))
    r = uboot_dump("jffs2", "inspect", str(bad))
    assert r.returncode == 1 and b"JFFS2" in r.stdout


def test_2_bad_arguments_name_the_help(tmp_path):
    line = one_error(uboot_dump("read-mem", "--port", "x", "--start", "xyz"), 2)
    assert "--help" in line


def test_3_a_port_that_cannot_be_opened(tmp_path):
    line = one_error(read_mem(str(tmp_path / "ttyUSB9"), tmp_path / "o.bin"), 3)
    assert "dialout" in line


def test_4_not_the_prompt_given(emulator, image, tmp_path):
    emu = emulator(image, "mstar", at_prompt=True)
    line = one_error(read_mem(emu.port, tmp_path / "o.bin", "--prompt", "WRONG # "), 4)
    assert errors.ADVICE.search(line)


@pytest.mark.parametrize("fault, code", [("reset@40000", 5), ("disconnect@40000:1", 6)])
def test_5_and_6_then_the_same_command_resumes(emulator, image, tmp_path, fault, code):
    link = tmp_path / "port"  # the name stays when the pty comes back as another
    emu = emulator(image, "mstar", at_prompt=True, faults=fault, boot_window=0.1, link=link)
    out = tmp_path / "o.bin"
    line = one_error(read_mem(str(link), out), code)
    assert "run the same command again" in line
    if code == 5:
        emu.power_cycle(at_prompt=True)  # what the user does: power-cycle, stop U-Boot
    for _ in range(40):  # a disconnected port comes back a second later
        r = read_mem(str(link), out)
        if r.returncode not in (3, 6):
            break
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == image[:0x4000]  # the flash, mapped at 0x14000000


def test_7_a_line_too_noisy(emulator, image, tmp_path):
    emu = emulator(image, "mstar", at_prompt=True, faults="flip=0.03", seed=1)
    r = read_mem(emu.port, tmp_path / "o.bin")
    assert r.returncode in (4, 7), r.stderr  # a prompt may already drown in the noise
    assert errors.ADVICE.search(r.stderr.decode().splitlines()[-1])


def test_8_then_restart_works(emulator, image, tmp_path):
    emu = emulator(image, "mstar", at_prompt=True, faults="reset@40000", boot_window=0.1)
    out = tmp_path / "o.bin"
    assert read_mem(emu.port, out).returncode == 5
    emu.power_cycle(at_prompt=True)
    r = uboot_dump(
        "read-mem", "--port", emu.port, "--start", "0x14000000", "--length", "0x8000",
        "--chunk", "0x1000", "-o", str(out), "--timeout", "2",
    )  # fmt: skip
    assert "--restart" in one_error(r, 8)
    r = uboot_dump(
        "read-mem", "--port", emu.port, "--start", "0x14000000", "--length", "0x8000",
        "--chunk", "0x1000", "-o", str(out), "--timeout", "2", "--restart",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr


def test_9_and_10_name_a_step():
    assert "report" in errors.Refused("refused: 'x'").line()
    assert "run the same command again" in errors.CommandFailed("'sf read': ERROR").line()


def test_11_a_build_without_sf(emulator, image, tmp_path):
    emu = emulator(image[: 1 << 17], "mainline", at_prompt=True)
    r = uboot_dump("backup", "--port", emu.port, "--model", "y203c", "-o", str(tmp_path / "o"),
                   "--via", "md", "--timeout", "2")  # fmt: skip
    assert "read-mem" in one_error(r, 11, after_notes=True)


def test_12_a_full_disk(tmp_path):
    import resource

    def small_files():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))

    big = tmp_path / "big.img"
    big.write_bytes(bytes(4096))
    r = subprocess.run([sys.executable, "-m", "harness.cli", "swap", str(big), str(tmp_path / "o")],
                       capture_output=True, timeout=30, preexec_fn=small_files)  # fmt: skip
    assert "free some space" in one_error(r, 12)


def test_13_then_via_md_works(emulator, image, tmp_path):
    flash = bytearray(b"\xff" * (16 << 20))
    flash[0x1D0000:0x1D0100] = bytes(range(256))
    emu = emulator(bytes(flash), "mstar", at_prompt=True)
    args = ["backup", "--port", emu.port, "--model", "y203c", "-o", str(tmp_path / "o"),
            "--timeout", "2", "--partitions", "ROOTFS"]  # fmt: skip
    assert "--via md" in one_error(uboot_dump(*args, "--via", "sd"), 13, after_notes=True)
    r = uboot_dump(*args, "--via", "md")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "o" / "sys_y203c").read_bytes() == flash[0x1D0000:0x3B0000]


def test_14_then_restore_makes_verify_pass(emulator, tmp_path):
    """verify lists what differs and exits 14; the restore it advises, run as advised, makes
    the next verify exit 0."""
    kernel = 0x50000
    want = bytearray(b"\xff" * (16 << 20))
    want[kernel : kernel + 0x100] = bytes(range(256))
    image = tmp_path / "kernel.bin"
    image.write_bytes(bytes(want[kernel : kernel + 0x100]))
    flash = bytearray(want)
    flash[kernel + 0x10] ^= 0xFF  # the camera differs in one byte
    emu = emulator(bytes(flash), "mstar", at_prompt=True, writable=True)
    args = ["--port", emu.port, "--model", "y203c", "--record", str(tmp_path),
            "--image", f"KERNEL={image}"]  # fmt: skip
    line = one_error(uboot_dump("verify", *args), 14, after_notes=True)
    assert "uboot-dump restore" in line
    r = uboot_dump("restore", *args)
    assert r.returncode == 0 and b"1 written" in r.stdout, r.stderr.decode()
    assert uboot_dump("verify", *args).returncode == 0
    assert emu.flash.data == bytes(want)


def test_15_then_other_camera_works(emulator, tmp_path):
    """A backup of one camera, restored onto another (its vd1 differs): 15; with
    --other-camera, as advised, it restores and leaves the other camera's vd1 alone."""
    from harness.camera.partitions import span

    vd1, _ = span("y203c", "vd1")
    rootfs, _ = span("y203c", "ROOTFS")
    mine = bytearray(b"\xff" * (16 << 20))
    mine[rootfs : rootfs + 0x100] = bytes(range(256))
    mine[vd1 : vd1 + 8] = b"camera A"
    emu = emulator(bytes(mine), "mstar", at_prompt=True)
    r = uboot_dump("backup", "--port", emu.port, "--model", "y203c", "-o", str(tmp_path / "b"),
                   "--via", "md", "--partitions", "ROOTFS")  # fmt: skip
    assert r.returncode == 0, r.stderr.decode()
    other = bytearray(mine)
    other[vd1 : vd1 + 8] = b"camera B"
    other[rootfs] ^= 1
    emu = emulator(bytes(other), "mstar", at_prompt=True, writable=True)
    args = ["restore", str(tmp_path / "b"), "--port", emu.port, "--model", "y203c",
            "--partitions", "ROOTFS", "--record", str(tmp_path)]  # fmt: skip
    assert "--other-camera" in one_error(uboot_dump(*args), 15, after_notes=True)
    r = uboot_dump(*args, "--other-camera")
    assert r.returncode == 0, r.stderr.decode()
    assert bytes(emu.flash.data[vd1 : vd1 + 8]) == b"camera B"


def test_130_then_the_same_command_resumes(emulator, image, tmp_path):
    emu = emulator(image, "mstar", at_prompt=True, baud=115200)
    out = tmp_path / "o.bin"
    args = [sys.executable, "-m", "harness.cli", "read-mem", "--port", emu.port,
            "--start", "0x14000000", "--length", "0x2000", "-o", str(out)]  # fmt: skip
    proc = subprocess.Popen(args, stderr=subprocess.PIPE)
    part = tmp_path / "o.bin.part"
    for _ in range(300):
        if part.exists() and part.stat().st_size > 0:
            break
        try:
            proc.wait(0.05)
        except subprocess.TimeoutExpired:
            pass
    proc.send_signal(signal.SIGINT)
    err = proc.communicate(timeout=30)[1].decode()
    assert proc.returncode == 130 and "run the same command again" in err, err
    r = subprocess.run(args, capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == image[:0x2000]
