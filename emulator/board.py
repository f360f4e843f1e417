"""The camera: power, boot (IPL and U-Boot log, autoboot), U-Boot's shell, or Linux.

Runs the firmware in one thread, as the real CPU runs one program; `PowerOff` and `Reset`
unwind it from anywhere.
"""

from __future__ import annotations

import threading
import time
from enum import Enum

from emulator.hw.flash import Flash
from emulator.hw.memory import Mapping, Memory, garbage_fill
from emulator.hw.sdcard import Slot
from emulator.hw.uart import Uart
from emulator.profile import Profile
from emulator.uboot.shell import Shell
from emulator.uboot.target import Target
from emulator.wire.events import PowerCut, PowerOff, Reset


class BoardState(str, Enum):
    """Where the emulated camera is (a str: `emu.state == "uboot"` reads as it did)."""

    OFF = "off"
    BOOTING = "booting"
    UBOOT = "uboot"
    LINUX = "linux"


class Board:
    def __init__(
        self,
        profile: Profile,
        flash: Flash,
        uart: Uart,
        *,
        at_prompt: bool = False,
        boot_window: float | None = None,
        paced: bool = False,
        seed: int = 0,
        watchdog: float | None = None,
        slot: Slot | None = None,
    ):
        self.profile = profile
        self.slot = slot or Slot()
        # seconds of no input before the hardware watchdog resets U-Boot (0: off)
        self.watchdog_s = profile.watchdog_s if watchdog is None else (watchdog or None)
        self.flash = flash
        self.uart = uart
        self.paced = paced
        self.seed = seed
        self.boot_window = (
            boot_window if boot_window is not None else float(profile.autoboot.get("window_s", 0.5))
        )
        self._skip_boot = at_prompt
        self._at_prompt_next = False
        self.boots = 0
        self.state = BoardState.OFF
        self._stop = threading.Event()
        self._cv = threading.Condition()
        self._on = False
        self.target = self._new_target()
        self.flash.seed = seed
        self.thread = threading.Thread(target=self._run, name="firmware", daemon=True)

    # -- control (any thread) ----------------------------------------------------------
    def start(self, powered: bool = True) -> None:
        if powered:
            self.power_on()
        self.thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.power_off()
        self.thread.join(5)

    def power_off(self) -> None:
        with self._cv:
            self._on = False
            self.uart.power(False)
            self._cv.notify_all()

    def power_on(self, at_prompt: bool = False) -> None:
        """Power on; with at_prompt, as if Enter were held: straight to the prompt, silently."""
        with self._cv:
            if self._on:
                return
            self._at_prompt_next = at_prompt
            self._on = True
            self.uart.power(True)
            self._cv.notify_all()

    def power_cycle(self, at_prompt: bool = False) -> None:
        self.power_off()
        self.power_on(at_prompt)

    # -- the firmware ------------------------------------------------------------------
    def _renewed(self) -> Target:
        """A fresh target after a power loss or reset: the old DRAM is let go first, so
        that the two never take memory at once (128 MiB on the mainline board)."""
        self.target = None  # type: ignore[assignment]
        return self._new_target()

    def _new_target(self) -> Target:
        p = self.profile
        regions = [
            Mapping("dram", p.dram_base, garbage_fill(p.dram_size, self.seed + self.boots), True)
        ]
        if p.flash.kind == "mapped":
            regions.append(Mapping("flash", p.flash.base, self.flash.data, False))
        for w in p.windows:  # the same flash, seen read-only at another address
            # a view, not a copy: the same chip at another address
            view = memoryview(self.flash.data)[: w.size]
            regions.append(Mapping(w.name, w.base, view, False))  # type: ignore[arg-type]
        self.flash.probed = False
        return Target(
            profile=p,
            uart=self.uart,
            memory=Memory(regions),
            flash=self.flash,
            env=dict(p.env),
            paced=self.paced,
            slot=self.slot,
        )

    def _run(self) -> None:
        power_seen = self.uart.generation if self._on else -1
        while not self._stop.is_set():
            with self._cv:
                while not self._on and not self._stop.is_set():
                    self._cv.wait()
                if self._stop.is_set():
                    return
                gen = self.uart.begin()
            if gen != power_seen:  # power was lost since the last boot: DRAM is gone
                power_seen = gen
                self._skip_boot = self._at_prompt_next
                self.boots += 1
                self.target = self._renewed()
            reset = False
            try:
                if self._skip_boot:
                    self._skip_boot = False
                    self.uart.arm_watchdog(self.watchdog_s)
                    self.state = BoardState.UBOOT
                    Shell(self.target).loop(show_first_prompt=False)
                else:
                    self._boot()
            except PowerCut:  # the flash's armed cut: the power goes and comes back
                self.power_cycle()
                self.state = BoardState.OFF
            except PowerOff:
                self.state = BoardState.OFF
            except Reset:
                reset = True  # renewed below: in here the traceback still holds the old target
            if reset:
                self.boots += 1
                self.target = self._renewed()
                self.uart.reset()

    def _boot(self) -> None:
        self.state = BoardState.BOOTING
        uart = self.uart
        uart.arm_watchdog(self.watchdog_s)
        ab = self.profile.autoboot
        log = self.profile.boot_log.replace(b"{SD_CHECKS}", self._sd_checks())
        init = ab.get("uart_init_at", "").encode("latin-1")
        cut = log.find(init) if init else -1
        if cut >= 0:  # U-Boot's serial init resets the receive FIFO before it prints
            uart.puts(log[:cut])
            uart.sleep(float(ab.get("uart_init_after_s", 0.0)))
            uart.clear_rx()
            log = log[cut:]
        uart.puts(log)
        if ab["kind"] == "keyed":
            stop = self._keyed(ab)
        else:
            n = int(ab.get("bootdelay", 2))
            uart.puts(b"Hit any key to stop autoboot: %2d " % n)
            stop = False
            while n > 0 and not stop:
                n -= 1
                t0 = time.monotonic()
                while (left := 1.0 - (time.monotonic() - t0)) > 0:
                    if uart.getc(timeout=left) is not None:
                        stop, n = True, 0
                        break
                uart.puts(b"\b\b\b%2d " % n)
            uart.puts(b"\n")
        if stop:
            self.state = BoardState.UBOOT
            Shell(self.target).loop()
        else:
            self._linux()

    def _sd_checks(self) -> bytes:
        """The boot's `fatsize mmc 0 NAME` checks, as the card in the slot answers them."""
        sd = self.profile.sd
        if sd is None or not sd.boot_checks:
            return b""
        card = self.slot.card
        names = card.root_names() if card is not None else None
        form = sd.boot_check
        out = []
        for name in sd.boot_checks:
            name = name.replace("{MODEL}", self.profile.model)
            if card is None:
                result = form["no_card"]
            elif names is None:
                result = form["no_fs"]
            elif name.upper() in names:
                result = form["present"]
            else:
                result = form["absent"]
            out.append((form["head"] + result).replace("{NAME}", name))
        return form.get("between", "").join(out).encode("latin-1")

    def _keyed(self, ab: dict) -> bool:
        """abortboot_keyed(): after U-Boot's remaining start-up (`boot_window` s, during
        which typed keys wait in the UART), `checks` characters are read from what has
        arrived (the vendor's etime = 2), and the boot stops if one of them is the key; one
        more pending character is then consumed. Without `checks`, any key within the
        window stops it."""
        uart = self.uart
        key = ord(ab.get("key", "\r"))
        if ab.get("prompt"):
            uart.puts(ab["prompt"].encode("latin-1"))
        checks = ab.get("checks")
        if checks is None:
            deadline = time.monotonic() + self.boot_window
            while (c := uart.getc(timeout=max(0.0, deadline - time.monotonic()))) is not None:
                if c == key:
                    return True
            return False
        uart.sleep(self.boot_window)
        stop = False
        for _ in range(int(checks)):
            if uart.tstc() and uart.getc() == key:
                stop = True
                break
        if uart.tstc():
            uart.getc()
        return stop

    def _linux(self) -> None:
        self.uart.arm_watchdog(None)  # Linux's watchdog daemon takes over
        self.state = BoardState.LINUX
        p = self.profile
        parts = ""
        if p.partitions:
            parts = f'Creating {len(p.partitions)} MTD partitions on "{p.mtd_device}":\n'
            parts += "".join(
                f'0x{x.start:012x}-0x{x.end:012x} : "{x.name}"\n' for x in p.partitions
            )
        self.uart.puts(p.linux_log.replace(b"{PARTITIONS}", parts.encode()))
        sh = LinuxShell(self.target)
        sh.loop()


class LinuxShell:
    """Enough of a BusyBox shell to be recognised, and `reboot` to power-cycle."""

    def __init__(self, target: Target):
        self.target = target

    def loop(self) -> None:
        uart = self.target.uart
        prompt = self.target.profile.linux_prompt
        while True:
            buf = bytearray()
            while True:
                c = uart.getc()
                assert c is not None
                if c in (0x0D, 0x0A):
                    uart.puts(b"\n")
                    break
                if c == 0x03:
                    buf.clear()
                    uart.puts(b"^C\n")
                    break
                buf.append(c)
                uart.puts(bytes((c,)))
            cmd = buf.decode("latin-1").strip()
            if cmd == "reboot":
                uart.puts(b"Restarting system.\n")
                uart.flush()
                raise Reset("reboot")
            if cmd:
                uart.puts(f"-sh: {cmd.split()[0]}: not found\n".encode("latin-1"))
            uart.puts(prompt.encode("latin-1"))
