"""The plugin's settings as a user gives them: `--uboot-port=PATH` or with a space (from any
directory), $UBOOT_PORT, or an ini file; a uboot-emu started by hand stands in for a camera."""

import os
import random
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.support.run_cli import uboot_emu


@pytest.fixture(scope="module")
def camera(tmp_path_factory):
    work = tmp_path_factory.mktemp("cam")
    image = work / "flash.bin"
    image.write_bytes(random.Random(1).randbytes(16 << 20))
    link = work / "ttyCAM"
    with uboot_emu(image, link, "--baud", "0", "--at-prompt"):
        yield link


def pytest_run(args, cwd, port_env=None):
    env = {k: v for k, v in os.environ.items() if k != "UBOOT_PORT"}
    if port_env:
        env["UBOOT_PORT"] = port_env
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env=env,
    )


@pytest.mark.parametrize("form", ["equals", "env", "ini"])
def test_port_given_every_way(camera, tmp_path, form):
    tests = str(ROOT / "tests" / "test_hil.py")
    port_env = None
    args = ["-m", "hil"]
    if form == "equals":
        args += [f"--uboot-port={camera}"]
    elif form == "env":
        port_env = str(camera)
    else:
        (tmp_path / "pytest.ini").write_text(f"[pytest]\nuboot_port = {camera}\n")
        args += ["-c", str(tmp_path / "pytest.ini"), "--rootdir", str(tmp_path)]
    r = pytest_run([*args, tests], cwd=tmp_path, port_env=port_env)
    assert r.returncode == 0, r.stdout[-2000:]
    assert "23 passed, 2 skipped" in r.stdout
    assert r.stdout.count("emulator_only: needs fault injection or power control") == 2
    assert str(camera) in r.stdout  # the skips name the port: it was used


def test_a_rootdir_taken_from_the_port_stops_with_the_equals_form(camera, tmp_path):
    """pytest takes a separate value that is an existing path for a test path when it
    picks its rootdir (before plugins load): the session stops at once and says how."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    sample = (ROOT / "tests" / "test_hil_sample.py").read_text()
    (tmp_path / "test_sample.py").write_text(sample)
    pty = os.path.realpath(camera)  # /dev/pts/N, as the README's example writes it
    r = pytest_run(["-m", "hil", "--uboot-port", pty], cwd=tmp_path)
    assert r.returncode == 4, r.stdout[-2000:] + r.stderr[-2000:]
    errors = [line for line in r.stderr.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1 and f"--uboot-port={pty}" in errors[0], r.stderr
    assert "passed" not in r.stdout
    r = pytest_run(["-m", "hil", f"--uboot-port={pty}"], cwd=tmp_path)
    assert r.returncode == 0 and "1 passed" in r.stdout, r.stdout[-2000:]


def test_a_port_that_cannot_be_opened_ends_the_session_once(tmp_path):
    tests = str(ROOT / "tests" / "test_hil.py")
    r = pytest_run(["-m", "hil", f"--uboot-port={tmp_path / 'ttyNONE'}", tests], cwd=tmp_path)
    out = r.stdout + r.stderr
    assert r.returncode == 3, out[-2000:]
    assert out.count("cannot open") == 1 and "Traceback" not in out, out[-2000:]


def test_settings_do_not_leak_into_other_runs(tmp_path):
    """The options are prefixed: a plain --port is not ours (pytest-embedded has one)."""
    r = pytest_run(["--port", "/dev/null", "--co", str(ROOT / "tests" / "test_hil.py")], tmp_path)
    assert r.returncode != 0 and "unrecognized arguments: --port" in r.stderr


def test_the_readme_sample_is_this_file(tmp_path):
    sample = (ROOT / "tests" / "test_hil_sample.py").read_text()
    assert "```python\n" + sample + "```" in (ROOT / "README.md").read_text()


def test_a_failing_test_shows_its_console_log(camera, tmp_path):
    (tmp_path / "test_fails.py").write_text(
        "import pytest\n"
        "@pytest.mark.hil\n"
        "def test_it(uboot):\n"
        "    uboot.console.sendline('version')\n"
        "    uboot.console.expect('U-Boot')\n"
        "    assert False, 'on purpose'\n"
    )
    r = pytest_run(["-m", "hil", f"--uboot-port={camera}", "test_fails.py"], tmp_path)
    assert r.returncode == 1
    assert "uboot console (" in r.stdout and "U-Boot 2015.01" in r.stdout


def test_needs_and_writes_markers(camera, tmp_path):
    (tmp_path / "test_marks.py").write_text(
        "import pytest\n"
        "from harness.base.errors import Refused\n"
        "@pytest.mark.uboot_needs('sf', 'usb', 'nand')\n"
        "def test_needs(uboot):\n"
        "    pass\n"
        "def test_read_only(uboot):\n"
        "    with pytest.raises(Refused):\n"
        "        uboot.run('setenv x 1')\n"
        "@pytest.mark.uboot_writes\n"
        "def test_writes(uboot):\n"
        "    uboot.run('setenv x 1')\n"
        "    assert b'x=1' in uboot.run('printenv x')\n"
    )
    r = pytest_run([f"--uboot-port={camera}", "test_marks.py"], tmp_path)
    assert r.returncode == 0, r.stdout[-2000:]
    assert "2 passed, 1 skipped" in r.stdout
    assert "the target's U-Boot has no `usb`, `nand`" in r.stdout


def test_reprovision_needs_the_writes_marker(camera, tmp_path):
    (tmp_path / "test_reprov.py").write_text(
        "def test_unmarked(uboot_reprovision):\n"
        "    pass\n"
    )  # fmt: skip
    r = pytest_run([f"--uboot-port={camera}", "test_reprov.py"], tmp_path)
    assert r.returncode == 1
    assert "uboot_reprovision writes the flash: mark the test" in r.stdout
