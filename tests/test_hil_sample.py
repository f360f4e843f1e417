import re

import pytest


@pytest.mark.hil
def test_md_shows_what_mw_wrote(uboot, uboot_target):
    addr = uboot_target.ram[0]
    c = uboot.console  # pexpect: sendline, expect, before, match
    c.sendline(f"mw.l {addr:x} 12345678 4")
    c.expect_exact(uboot.prompt.decode())
    c.sendline(f"md.l {addr:x} 4")
    c.expect(r"[0-9a-f]{8}:((?: [0-9a-f]{8}){4})")
    assert c.match.group(1).split() == ["12345678"] * 4
    c.expect_exact(uboot.prompt.decode())
    assert re.search(r"U-Boot \d{4}\.\d{2}", uboot.run("version").decode())
