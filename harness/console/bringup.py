"""From whatever state the camera is in to a synchronised U-Boot console.

The states are explicit (labgrid's strategy): OFF (nothing arrives), BOOTING (IPL or U-Boot
start-up text), UBOOT (its prompt is the last thing received), LINUX (kernel messages, a
login or shell prompt). What the console says is decided by harness.console.detector.

What is sent in each state is chosen with the vendor's keyed autoboot in mind: with
bootdelay 0 its abortboot_keyed() reads just two characters from the UART (etime = 2) and
stops the boot only if one of them is Enter. So while a boot may be under way nothing but
Enter is sent (a second Ctrl-C in the FIFO would let the camera boot Linux):

- at the start, one Ctrl-C: it stops an md an interrupted run left going (within a line)
  and is harmless at a prompt; the answer, if the camera is on, says where it is;
- OFF: one Ctrl-C every two seconds (a camera sitting silently at its prompt answers it; a
  powered-off one loses it; a boot prints long before its key check, so at most one can
  wait in the FIFO when it comes);
- BOOTING and LINUX: Enter at once for every line that says a boot started, and every
  20 ms (U-Boot's serial init empties the receive FIFO, so only keys that arrive after its
  banner count; it stops the next autoboot; Linux ignores it);
- UBOOT: nothing more; the console's synchronisation takes over.
Start-up ends on the answer that is expected (a known prompt), never on a fixed silence.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import Enum
from typing import BinaryIO, Callable, Optional

from harness.base.deadline import Deadline
from harness.base.errors import NoPrompt, TargetReset
from harness.console.detector import Detector, Kind
from harness.console.session import Console
from harness.link.transport import Transport

ENTER_EVERY = 0.02
PROBE_EVERY = 2.0
KEEP = 4096  # bytes of recent output kept for the tail checks


class State(Enum):
    UNKNOWN = "unknown"
    OFF = "off"
    BOOTING = "booting"
    UBOOT = "uboot"
    LINUX = "linux"


class Seen(Enum):
    """What the console showed, as the transitions see it (harness.console.detector decides it)."""

    SILENCE = "nothing for PROBE_EVERY"
    TEXT = "a line that fits no rule"
    BOOT = "a line a boot starts with (IPL, the U-Boot banner)"
    KERNEL = "a Linux kernel line"
    PROMPT = "a known U-Boot prompt, last"
    LOGIN = "a login prompt, last"
    UBOOT_PROMPT = "an unknown prompt that answers as U-Boot does"
    OTHER_PROMPT = "an unknown prompt that does not (a Linux shell)"


_ANY = tuple(State)
TRANSITIONS: dict[tuple[State, Seen], State] = {
    (State.UNKNOWN, Seen.SILENCE): State.OFF,
    (State.OFF, Seen.TEXT): State.BOOTING,  # a camera that was off starts printing
    **{(s, Seen.BOOT): State.BOOTING for s in _ANY},
    **{(s, Seen.KERNEL): State.LINUX for s in _ANY},
    **{(s, Seen.PROMPT): State.UBOOT for s in _ANY},
    **{(s, Seen.LOGIN): State.LINUX for s in _ANY},
    **{(s, Seen.UBOOT_PROMPT): State.UBOOT for s in _ANY if s is not State.LINUX},
    **{(s, Seen.OTHER_PROMPT): State.LINUX for s in _ANY},
}

# what is sent in each state, and how often (see the module's docstring)
ACTIONS: dict[State, Optional[tuple[bytes, float]]] = {
    State.UNKNOWN: (b"\x03", PROBE_EVERY),
    State.OFF: (b"\x03", PROBE_EVERY),
    State.BOOTING: (b"\r", ENTER_EVERY),
    State.LINUX: (b"\r", ENTER_EVERY),
    State.UBOOT: None,
}


def next_state(state: State, seen: Seen) -> State:
    """The bring-up's transitions, pure: what is not in TRANSITIONS leaves the state."""
    return TRANSITIONS.get((state, seen), state)


@dataclass
class Tally:
    """What the bring-up counts beside its state, for the message when it gives up: boots
    seen (an IPL line and the U-Boot banner after it are one boot), unreadable bytes, and
    whether the user was told to power-cycle a camera running Linux."""

    boots: int = 0
    garbage: int = 0
    linux_said: bool = False
    ipl_seen: bool = False  # this boot's IPL line was counted; its banner is not another

    def boot_line(self, text: bytes) -> None:
        if text.startswith(b"IPL "):
            self.boots += 1
            self.ipl_seen = True
        elif b"U-Boot" in text[:40]:
            self.boots += 0 if self.ipl_seen else 1
            self.ipl_seen = False


class BringUp:
    def __init__(
        self,
        transport: Transport,
        prompts: tuple[bytes, ...],
        *,
        timeout: float,
        say: Callable[[str], None] = lambda s: None,
        log: Optional[BinaryIO] = None,
        booting: bool = False,
        power_cycle: Optional[Callable[[], None]] = None,
    ):
        """`power_cycle`: switches the camera off and on (--power-cmd); without it a person
        is asked to, when the camera is found running Linux."""
        self.transport = transport
        self.power_cycle = power_cycle
        self.detector = Detector(prompts)
        self.timeout = timeout
        self.say = say
        self.log = log
        self.state = State.BOOTING if booting else State.UNKNOWN
        self.tally = Tally(boots=1 if booting else 0)

    def _see(self, seen: Seen) -> None:
        """The transition (next_state) and what goes with entering a state: the message."""
        state = next_state(self.state, seen)
        if state is State.BOOTING and self.state is not State.BOOTING:
            self.tally.linux_said = False
        if state is State.LINUX and not self.tally.linux_said:
            self.tally.linux_said = True
            if self.power_cycle is not None:
                self.say("The camera is booting Linux: switching it off and on (--power-cmd).")
                self.power_cycle()
            else:
                self.say("The camera is booting Linux: switch it off and on again.")
        self.state = state

    def run(self) -> bytes:
        """Until a known U-Boot prompt is the last thing received; returns that prompt."""
        deadline = Deadline(self.timeout)
        buf = bytearray()
        scanned = 0
        if self.state is State.UNKNOWN:
            self.transport.write(b"\x03")
        last_sent = {b"\x03": time.monotonic(), b"\r": 0.0}
        last_rx = time.monotonic()
        while True:
            now = time.monotonic()
            if deadline.expired():
                raise self._gave_up()
            action = ACTIONS[self.state]
            if action is not None and now - last_sent[action[0]] >= action[1]:
                self.transport.write(action[0])
                last_sent[action[0]] = now
            data = self.transport.read(ENTER_EVERY)
            if not data:
                if now - last_rx > PROBE_EVERY:
                    self._see(Seen.SILENCE)
                continue
            last_rx = time.monotonic()
            if self.log:
                self.log.write(data)
            buf += data
            nl = buf.rfind(b"\n")
            if nl >= scanned:
                if self._classify_lines(bytes(buf[scanned : nl + 1])):
                    self.transport.write(b"\r")  # a boot line: its autoboot check is near
                    last_sent[b"\r"] = time.monotonic()
                scanned = nl + 1
            tail = self.detector.tail(buf)
            if tail is not None and tail.kind is Kind.PROMPT:
                self._see(Seen.PROMPT)
                return tail.text
            if tail is not None and tail.kind is Kind.LOGIN:
                self._see(Seen.LOGIN)
            elif tail is not None and tail.kind is Kind.SHELL and self.state is not State.LINUX:
                # a prompt this tool does not know: U-Boot's, or a Linux shell's? Ask.
                prompt = self._identify()
                if prompt is not None:
                    self._see(Seen.UBOOT_PROMPT)
                    return prompt
                self._see(Seen.OTHER_PROMPT)
                buf.clear()
                scanned = 0
            if self.state in (State.UNKNOWN, State.OFF) and tail is None and len(buf) > 256:
                self.tally.garbage += len(data)
            if len(buf) > 2 * KEEP:
                cut = len(buf) - KEEP
                del buf[:cut]
                scanned = max(0, scanned - cut)

    def _identify(self) -> Optional[bytes]:
        """A prompt this tool does not know (or a damaged one): U-Boot's or Linux's? The
        console's synchronisation answers it (a random word is U-Boot's `Unknown command`);
        the prompt it finds, or None for Linux and anything else."""
        console = Console(self.transport, timeout=3.0, log=self.log)
        try:
            return console.sync().encode("latin-1")
        except (TargetReset, NoPrompt):
            return None

    def _classify_lines(self, text: bytes) -> bool:
        """Move between states on what the lines say; True if one of them starts a boot."""
        booting = False
        for line in text.split(b"\n"):
            seen = self.detector.line(line, anywhere=True)
            if seen is None:
                if line.strip():
                    if self.state is State.OFF:
                        self.tally.boots += 1  # a camera that was off starts printing
                    self._see(Seen.TEXT)
                continue
            if seen.kind is Kind.RESET:
                self.tally.boot_line(seen.text)
                self._see(Seen.BOOT)
                booting = True
            elif seen.kind is Kind.LINUX:
                self._see(Seen.KERNEL)
        return booting

    def _gave_up(self) -> Exception:
        secs = f"{self.timeout:.0f} s"
        if self.state is State.LINUX:
            return TargetReset(
                f"the camera runs Linux, and no U-Boot prompt came within {secs}: switch it off "
                "and on again while this waits (it presses Enter for you)"
            )
        if self.tally.boots > 1:
            return TargetReset(
                f"the camera keeps resetting ({self.tally.boots} boots seen in {secs}, no U-Boot "
                "prompt): check its power supply"
            )
        if self.state is State.BOOTING:
            return NoPrompt(
                f"the camera printed its boot but no known U-Boot prompt within {secs}: give "
                "the prompt with --prompt, or check the baud rate"
            )
        if self.tally.garbage:
            return NoPrompt(
                f"only unreadable bytes arrived in {secs}: is the baud rate right (115200)?"
            )
        return NoPrompt(
            f"no U-Boot prompt within {secs}: check the wiring (TX, RX, GND), the baud rate "
            "and the power"
        )
