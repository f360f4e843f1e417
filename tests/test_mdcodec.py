"""The harness's md parser, against the real captures and against generated damage."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.uboot.commands.md import render_lines
from harness.console.mdcodec import MdError, MdFormat, decode_exact, decode_range, split_lines
from tests.conftest import CAPTURES

GOLDEN = (CAPTURES / "golden.img").read_bytes()
FLASH = 0x04000000


def body(name: str) -> bytes:
    raw = (CAPTURES / f"{name}.bin").read_bytes()
    return raw[raw.index(b"\r\n") + 2 : -len(b"=> ")]


@pytest.mark.parametrize(
    "name, start, length, width",
    [
        ("md_l", FLASH, 0x100, 4),
        ("md_default", FLASH + 0x100, 0x100, 4),
        ("md_repeat", FLASH + 0x200, 0x100, 4),
        ("md_b", FLASH, 0x30, 1),
        ("md_w", FLASH, 0x30, 2),
        ("md_l_unaligned_count", FLASH, 0x18, 4),
        ("md_b_partial", FLASH + 0x100, 0x13, 1),
    ],
)
def test_captures_decode_to_the_image(name, start, length, width):
    text = body(name) if name != "md_repeat" else (CAPTURES / "md_repeat.bin").read_bytes()[2:-3]
    fmt = MdFormat(width=width)
    assert decode_exact(text, start, length, fmt) == GOLDEN[start - FLASH : start - FLASH + length]
    # each full line votes for its gap; three agreeing ones fix it
    full = length // 16
    assert fmt.seen.get(("gap", 2), 0) == min(full, 3) and (fmt.gap == 2) == (full >= 3)


def test_prompt_look_alikes_in_the_ascii_column_are_data():
    text = body("md_default")
    assert b"MStar # " in text and b"=> " in text
    data = decode_exact(text, FLASH + 0x100, 0x100, MdFormat(width=4))
    assert b"Hello, MStar # world! => crc32 ==> " in data


def test_line_endings_crlf_crcrlf_and_lf_only():
    text = body("md_l")
    want = GOLDEN[:0x100]
    for ending in (b"\r\n", b"\r\r\n", b"\n"):
        t = text.replace(b"\r\n", ending)
        assert decode_exact(t, FLASH, 0x100, MdFormat(width=4)) == want


def test_unpadded_short_last_line_of_old_u_boot():
    text = body("md_l_unaligned_count")
    last = text.split(b"\r\n")[-2]
    unpadded = text.replace(last, last.replace(b" " * 18, b""))
    assert unpadded != text
    assert decode_exact(unpadded, FLASH, 0x18, MdFormat(width=4)) == GOLDEN[:0x18]
    for width, gap in ((1, 4), (2, 2), (4, 4), (8, 2)):
        n = max(1, 16 // width - 3)
        data = bytes(range(0x41, 0x41 + n * width))
        line = b"".join(render_lines(0x100, data, width, gap)).rstrip(b"\n")
        squeezed = line.replace(b" " * ((16 // width - n) * (2 * width + 1)), b"", 1)
        assert len(squeezed) < len(line)
        assert MdFormat(width=width).parse_line(squeezed).data == data


def test_line_cut_by_a_disconnect_is_damaged_not_data():
    text = body("md_l")
    cut = text[: text.index(b"04000050: ") + 30]
    good, missing = decode_range(cut, FLASH, 0x100, MdFormat(width=4))
    assert sorted(good) == [FLASH + 16 * i for i in range(5)]
    assert missing[0] == FLASH + 0x50 and len(missing) == 11


def test_mstar_line_with_4_space_gap_and_big_endian():
    data = bytes(range(0x40, 0x50))
    line = b"21000000: 40414243 44454647 48494a4b 4c4d4e4f    @ABCDEFGHIJKLMNO"
    fmt = MdFormat(width=4)
    assert decode_exact(line + b"\r\n", 0x21000000, 16, fmt) == data
    assert fmt.votes["big"] == 1 and fmt.seen[("gap", 4)] == 1
    assert fmt.gap is None and fmt.endian is None  # one line does not fix the format


def test_terminal_log_with_noise_around_the_lines():
    log = (
        b"MStar # md.l 21000000 8\r\n"
        + b"\r\n".join(render_lines(0x21000000, GOLDEN[:32], 4, 4)).replace(b"\n", b"\r\n")
        + b"MStar # "
    )
    good, missing = decode_range(log, 0x21000000, 32, MdFormat(width=4))
    assert not missing and good[0x21000010] == GOLDEN[16:32]


def test_split_lines_keeps_a_cut_last_line():
    assert split_lines(b"a\r\nb\r\r\nc\n\nd") == [b"a", b"b", b"c", b"d"]


WIDTH = st.sampled_from([1, 2, 4, 8])


@given(
    data=st.binary(min_size=1, max_size=200),
    width=WIDTH,
    gap=st.sampled_from([2, 4]),
    endian=st.sampled_from(["little", "big"]),
    addr=st.integers(0, 2**28 - 16).map(lambda a: a * 16),
)
def test_parse_of_render_is_identity(data, width, gap, endian, addr):
    data = data[: len(data) - len(data) % width] or bytes(width)
    text = b"".join(render_lines(addr, data, width, gap, 8, endian)).replace(b"\n", b"\r\n")
    fmt = MdFormat(width=width, endian=endian)
    assert decode_exact(text, addr, len(data), fmt) == data


@given(
    data=st.binary(min_size=16, max_size=64),
    width=WIDTH,
    pos=st.integers(0, 10**6),
    kind=st.sampled_from(["drop", "dup", "insert"]),
)
def test_a_line_that_changed_length_is_never_accepted(data, width, pos, kind):
    data = data[: len(data) - len(data) % 16]
    lines = list(render_lines(0x1000, data, width, 4))
    i = pos % len(lines)
    line = lines[i].rstrip(b"\n")
    j = pos % len(line)
    if kind == "drop":
        bad = line[:j] + line[j + 1 :]
    elif kind == "dup":
        bad = line[:j] + line[j : j + 1] * 2 + line[j + 1 :]
    else:
        bad = line[:j] + b"\x07" + line[j:]
    with pytest.raises(MdError):
        MdFormat(width=width, gap=4).parse_line(bad)


def test_a_damaged_address_does_not_push_out_the_lines_after_it():
    lines = body("md_l").split(b"\r\n")
    lines[3] = lines[3].replace(b"04000030", b"040000b0")  # a flipped address digit
    good, missing = decode_range(b"\r\n".join(lines), FLASH, 0x100, MdFormat(width=4))
    assert missing == [FLASH + 0x30]
    assert all(good[a] == GOLDEN[a - FLASH : a - FLASH + 16] for a in good)


def test_one_damaged_line_does_not_teach_a_wrong_format():
    """The first line lost two spaces of its 4-space gap: it still decodes (a 2-space gap is
    valid md), but the format is not fixed from it, and the good lines after it are read."""
    data = bytes(range(96))
    text = b"".join(render_lines(0x21000000, data, 4, 4, 8, "little"))
    first, rest = text.split(b"\n", 1)
    damaged = first.replace(b"    ", b"  ", 1)
    fmt = MdFormat(width=4)
    good, missing = decode_range(damaged + b"\n" + rest, 0x21000000, 96, fmt)
    assert sorted(good) == [0x21000000 + 16 * k for k in range(6)]
    assert fmt.gap == 4  # fixed once 4 good lines outvote the damaged one
    assert b"".join(good[a] for a in sorted(good)) == data


def test_the_byte_order_is_fixed_once_lines_agree():
    text = b"".join(render_lines(0x100, b"ABCD" * 40, 4, 4, 8, "big"))
    fmt = MdFormat(width=4)
    decode_range(text, 0x100, 160, fmt)
    assert fmt.endian == "big" and fmt.votes["little"] == 0


def test_no_mutable_default_arguments_anywhere():
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    found = []
    for path in [*root.glob("harness/**/*.py"), *root.glob("emulator/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                args = node.args
                for d in [*args.defaults, *args.kw_defaults]:
                    if isinstance(d, (ast.List, ast.Dict, ast.Set)) or (
                        isinstance(d, ast.Call)
                        and getattr(d.func, "id", "") in ("list", "dict", "set")
                    ):
                        found.append(f"{path.name}:{node.lineno}")
    assert found == []
