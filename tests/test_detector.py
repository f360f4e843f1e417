"""harness.console.detector: what console output means, line-anchored and blind to md data."""

from harness.console.detector import Detector, Kind

MSTAR = b"MStar # "


def kinds(d: Detector, text: bytes):
    seen = d.lines(text)
    return seen.kind if seen else None


def test_markers_count_only_at_the_start_of_a_line():
    d = Detector((MSTAR,))
    assert kinds(d, b"IPL gd156225\r\nD-01.\r\n") is Kind.RESET
    assert kinds(d, b"-----------------------U-Boot 2015.01 (Apr 28 2018 - 17:08:00)---\r\n")
    assert kinds(d, b"data abort\r\npc : [<23f8a6d4>]\r\n") is Kind.RESET
    assert kinds(d, b"Starting kernel ...\r\n") is Kind.LINUX
    assert kinds(d, b"[    0.000000] Booting Linux on physical CPU 0x0\r\n") is Kind.LINUX
    assert kinds(d, b"-sh: q1a2b3c: not found\r\n") is Kind.LINUX
    assert kinds(d, b"version said IPL gd156225\r\n") is None
    assert kinds(d, b"CRC32 for 21000000 ... 2100ffff ==> 903e12ef\r\n") is None


def test_md_lines_are_data_whatever_their_ascii_column_says():
    d = Detector((MSTAR,))
    for text in (b"login: ", b"IPL gd15", b"U-Boot 20", b"Starting", b"MStar # "):
        line = b"21000000: 6e69676c 203a6e   " + b"    " + text.ljust(16, b".") + b"\r\n"
        assert d.lines(line) is None
        assert d.tail(line[:-2]) is None  # an md line cut short is not a prompt either


def test_prompt_only_at_a_line_start_and_the_end_of_the_stream():
    d = Detector((MSTAR,))
    assert d.tail(b"crc32 ...\r\nMStar # ").kind is Kind.PROMPT
    assert d.tail(b"MStar # ").kind is Kind.PROMPT
    assert d.tail(b"xxMStar # ") is None or d.tail(b"xxMStar # ").kind is not Kind.PROMPT
    assert d.tail(b"\r\nMStar # md") is None
    assert d.tail(b"CRC32 for 21000000 ... 2100ffff ==> ") is None  # `=> ` inside a reply


def test_linux_prompts_at_the_end():
    d = Detector((MSTAR,))
    assert d.tail(b"\r\nyi-hack login: ").kind is Kind.LOGIN
    assert d.tail(b"\r\n/ # ").kind is Kind.SHELL
    assert d.tail(b"\r\nroot@camera:~# ").kind is Kind.SHELL
    assert d.tail(b"\r\nMStar # ").kind is Kind.PROMPT  # a known U-Boot prompt wins


def test_a_rule_can_be_set_aside_for_a_command_that_prints_it():
    d = Detector((MSTAR,))
    version = b"\r\nU-Boot 2015.01 (Apr 28 2018 - 17:08:00)\r\narm-linux-gnueabihf-gcc\r\n"
    assert kinds(d, version) is Kind.RESET
    with d.disabled("banner"):
        assert kinds(d, version) is None
    assert kinds(d, version) is Kind.RESET  # and back once the command is done
