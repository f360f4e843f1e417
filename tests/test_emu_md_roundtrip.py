"""Hypothesis: whatever bytes are in memory, the emulator's md output decodes back to them."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.termclient import Term

WIDTHS = {"b": 1, "w": 2, "l": 4, "q": 8}


def reference_decode(text: bytes, width: int, gap: int) -> tuple[int, bytes]:
    """A deliberately plain decoder: address of the first line and the bytes, memory order."""
    out = bytearray()
    first = None
    for line in text.split(b"\r\n"):
        if not line:
            continue
        head, _, rest = line.partition(b": ")
        addr = int(head, 16)
        if first is None:
            first = addr
        assert addr == first + len(out), "lines out of sequence"
        hexpart = rest[: 16 // width * (2 * width + 1) - 1]
        chunk = b"".join(int(tok, 16).to_bytes(width, "little") for tok in hexpart.split())
        ascii_col = rest[len(hexpart) + gap :]
        printable = bytes(b if 0x20 <= b <= 0x7E else 0x2E for b in chunk)
        assert ascii_col == printable, "ASCII column is not memory order"
        out += chunk
    return first or 0, bytes(out)


PROFILES = {  # profile: (RAM, prompt, md gap, widths)
    "mainline": (0x41000000, b"=> ", 2, "bwl"),  # qemu_arm: md.q prints nothing (32-bit)
    "mstar": (0x21000000, b"MStar # ", 4, "bwl"),
}


@pytest.fixture(scope="module", params=sorted(PROFILES))
def console(request, golden_image):
    from emulator import Emulator

    name = request.param
    image = golden_image if name == "mainline" else bytes(16 << 20)
    with Emulator(image, name, at_prompt=True) as emu:
        term = Term(emu.port)
        yield emu, term, PROFILES[name]
        term.close()


@given(
    data=st.binary(min_size=1, max_size=300),
    width=st.sampled_from(sorted(WIDTHS)),
    offset=st.integers(0, 64),
)
def test_md_output_decodes_to_memory(console, data, width, offset):
    emu, term, (ram, prompt, gap, widths) = console
    if width not in widths:
        width = "l"
    size = WIDTHS[width]
    data = data[: len(data) - len(data) % size] or bytes(size)
    addr = ram + offset * size
    emu.board.target.memory.write(addr, data)  # as a JTAG probe would load RAM
    cmd = f"md.{width} {addr:x} {len(data) // size:x}"
    out = term.command(cmd, prompt)
    assert out.startswith(cmd.encode() + b"\r\n") and out.endswith(b"\r\n" + prompt)
    body = out[len(cmd) + 2 : -len(prompt)]
    first, decoded = reference_decode(body, size, gap=gap)
    assert first == addr
    assert decoded == data
    # every line but the last has full width: 8 + 1 + 16/w*(2w+1) + gap + 16 characters
    lines = body.split(b"\r\n")[:-1]
    for line in lines[:-1]:
        assert len(line) == 8 + 1 + 16 // size * (2 * size + 1) + gap + 16
