"""U-Boot's command-line editor, cread_line() of common/cli_readline.c (CONFIG_CMDLINE_EDITING,
which the vendor's infinity3.h and Debian's qemu builds both set): echo, insert mode,
backspace, ^A ^B ^D ^E ^F ^K ^O ^U ^X, arrows, the history (^P/^N, up/down), the buffer
limit with a bell, and ^C.

Everything printed goes through `putc`/`puts` of the board's UART, so `\\n` leaves as
`\\r\\n` as the serial driver sends it.
"""

from __future__ import annotations

from typing import Callable, Optional

BS = "\b"
HIST_MAX = 20
CREAD_HIST_CHAR = "!"


def ctl(c: str) -> int:
    return ord(c) & 0x1F


class History:
    """cread's ring of HIST_MAX lines (hist_add_idx, hist_cur, hist_max)."""

    def __init__(self) -> None:
        self.lines = [""] * HIST_MAX
        self.add_idx = 0
        self.cur = -1
        self.max = 0

    def add(self, line: str) -> None:
        self.lines[self.add_idx] = line
        self.add_idx += 1
        if self.add_idx >= HIST_MAX:
            self.add_idx = 0
        if self.add_idx > self.max:
            self.max = self.add_idx

    def prev(self) -> Optional[str]:
        if self.cur < 0:
            return None
        old = self.cur
        self.cur -= 1
        if self.cur < 0:
            self.cur = self.max
        if self.cur == self.add_idx:
            self.cur = old
            return None
        return self.lines[self.cur]

    def next(self) -> Optional[str]:
        if self.cur < 0 or self.cur == self.add_idx:
            return None
        self.cur += 1
        if self.cur > self.max:
            self.cur = 0
        return "" if self.cur == self.add_idx else self.lines[self.cur]


class LineEditor:
    """One cread_line() at a time; `size` is CONFIG_SYS_CBSIZE."""

    def __init__(self, size: int, puts: Callable[[str], None], getc: Callable[[], Optional[int]]):
        self.size = size
        self.puts = puts
        self.getc = getc
        self.history = History()

    def read(self) -> Optional[str]:
        """The line typed (without its end), or None for ^C."""
        buf: list[str] = []
        num = 0  # cursor
        insert = True
        esc: list[str] = []
        puts = self.puts

        def add_char(ch: str) -> None:
            nonlocal num
            eol = len(buf)
            if insert or num == eol:
                if eol > self.size - 1:
                    puts("\a")
                    return
            if insert:
                buf.insert(num, ch)
                wlen = len(buf) - num
                puts("".join(buf[num:]))
                num += 1
                puts(BS * (wlen - 1))
            else:
                if num == eol:
                    buf.append(ch)
                else:
                    buf[num] = ch
                puts(ch)
                num += 1

        def beginning() -> None:
            nonlocal num
            puts(BS * num)
            num = 0

        def erase_to_eol() -> None:
            eol = len(buf)
            if num < eol:
                puts(" " * (eol - num))
                puts(BS * (eol - num))
                del buf[num:]

        while True:
            key = self.getc()
            assert key is not None  # getc() without a timeout waits for a key
            c = chr(key)
            if c in "\r\n":
                puts("\n")
                break
            if esc:
                if len(esc) == 1:
                    if c == "[":
                        esc.append(c)
                    else:
                        for e in esc:
                            add_char(e)
                        esc.clear()
                    continue
                arrow = {"D": "b", "C": "f", "H": "a", "A": "p", "B": "n"}.get(c)
                if arrow is None:
                    esc.append(c)
                    for e in esc:
                        add_char(e)
                    esc.clear()
                    continue
                esc.clear()
                c = chr(ctl(arrow))
            o = ord(c)
            if o == 0x1B:
                esc.append(c)
            elif o == ctl("a"):
                beginning()
            elif o == ctl("c"):
                return None
            elif o == ctl("f"):
                if num < len(buf):
                    puts(buf[num])
                    num += 1
            elif o == ctl("b"):
                if num:
                    puts(BS)
                    num -= 1
            elif o == ctl("d"):
                if num < len(buf):
                    del buf[num]
                    wlen = len(buf) - num
                    puts("".join(buf[num:]))
                    puts(" ")
                    puts(BS * (wlen + 1))
            elif o == ctl("k"):
                erase_to_eol()
            elif o == ctl("e"):
                if num < len(buf):
                    puts("".join(buf[num:]))
                    num = len(buf)
            elif o == ctl("o"):
                insert = not insert
            elif o in (ctl("x"), ctl("u")):
                beginning()
                erase_to_eol()
            elif o in (0x7F, 0xFF, 0x08):
                if num:
                    num -= 1
                    del buf[num]
                    wlen = len(buf) - num
                    puts(BS)
                    puts("".join(buf[num:]))
                    puts(" ")
                    puts(BS * (wlen + 1))
            elif o in (ctl("p"), ctl("n")):
                line = self.history.prev() if o == ctl("p") else self.history.next()
                if line is None:
                    puts("\a")
                    continue
                beginning()
                erase_to_eol()
                buf[:] = list(line)
                puts(line)
                num = len(buf)
            else:
                add_char(c)
        line = "".join(buf)
        if line and line[0] != CREAD_HIST_CHAR:
            self.history.add(line)
        self.history.cur = self.history.add_idx
        return line
