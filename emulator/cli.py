"""`uboot-emu`: serve an emulated U-Boot console until SIGTERM/SIGINT (SIGUSR1 power-cycles,
SIGUSR2 takes the SD card out or puts it back)."""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import threading
from pathlib import Path
from typing import NoReturn

import serial

from emulator import profile as profiles
from emulator.hw.flash import ImageError
from emulator.server import CardError, Emulator, read_image
from emulator.wire.faults import KINDS, FaultSpecError, parse_spec


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2
        sys.stderr.write(f"uboot-emu: error: {message}\n")
        sys.exit(2)


def _host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT (a port from 0 to 65535)")
    return host or "127.0.0.1", int(port)


def _partitions(text: str):
    try:
        return profiles.parse_partition_spec(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="uboot-emu", description=__doc__)
    p.add_argument("--image", help="flash image to serve")
    p.add_argument(
        "--relay",
        metavar="PORT",
        help="no emulated camera: put the emulated line (--baud pacing, --faults) in front of "
        "a real console at PORT (a U-Boot under QEMU, the vendor build, a lab's port)",
    )
    p.add_argument(
        "--profile",
        default="mstar",
        help=f"board profile ({', '.join(profiles.available())}, or a JSON path)",
    )
    p.add_argument(
        "--baud",
        type=int,
        default=115200,
        help="line rate (8N1: baud/10 characters/s); 0 = unpaced",
    )
    p.add_argument("--link", help="make this path a symlink to the pty")
    p.add_argument(
        "--listen", type=_host_port, metavar="HOST:PORT", help="serve over TCP instead of a pty"
    )
    p.add_argument("--at-prompt", action="store_true", help="start stopped at the U-Boot prompt")
    p.add_argument(
        "--power-on-after",
        type=float,
        metavar="SECONDS",
        help="start unpowered; power the camera on after SECONDS (as a user would)",
    )
    p.add_argument(
        "--boot-window",
        type=float,
        help="seconds after power-on in which Enter stops a keyed autoboot",
    )
    p.add_argument(
        "--faults",
        default="",
        help="KIND=RATE[:PARAM] or KIND@COUNT[:PARAM], comma-separated, e.g. "
        f"'flip=1e-4,drop@5000,disconnect@90000:1'; kinds: {', '.join(KINDS)}",
    )
    p.add_argument("--seed", type=int, default=0, help="seed for faults and DRAM contents")
    p.add_argument(
        "--writable",
        action="store_true",
        help="let sf erase/write/update change the image file itself, as they happen",
    )
    p.add_argument(
        "--partitions", type=_partitions, help="kernel partition table, NAME=START-END,..."
    )
    p.add_argument(
        "--watchdog",
        type=float,
        metavar="SECONDS",
        help="hardware watchdog: reset when U-Boot reads no input for SECONDS (0: off; "
        "default: the profile's, 60 on mstar)",
    )
    p.add_argument(
        "--sd",
        metavar="CARD.img",
        help="an SD card in the slot: an image of the whole card (MBR + FAT32); mmc write "
        "changes the file. SIGUSR2 takes the card out and puts it back",
    )
    p.add_argument(
        "--control",
        metavar="SOCKET",
        help="a Unix socket that switches the power: `python -m emulator.control SOCKET "
        "on|off|cycle` (what a farm's --power-cmd runs)",
    )
    p.add_argument(
        "--sd-write-protected",
        action="store_true",
        help="the card's write-protect switch is on (only hosts that read it refuse writes)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not 0 <= args.baud <= 4_000_000:
        return _fail("--baud must be from 0 (unpaced) to 4000000")
    for name in ("power_on_after", "boot_window", "watchdog"):
        value = getattr(args, name)
        if value is not None and not (math.isfinite(value) and 0 <= value <= 86400):
            return _fail(f"--{name.replace('_', '-')} must be from 0 to 86400 seconds")
    if args.link and os.path.lexists(args.link) and not os.path.islink(args.link):
        return _fail(f"--link {args.link} exists and is not a link: it is left alone")
    if (args.image is None) == (args.relay is None):
        return _fail("give either --image (an emulated camera) or --relay PORT")
    if args.relay:
        return _relay(args)
    done = _until_signalled()  # before the port is announced: a client may signal at once
    try:
        parse_spec(args.faults)
        read_image(args.image)  # a readable image, or the one-line error below
        emu = Emulator(
            Path(args.image),
            args.profile,
            baud=args.baud,
            at_prompt=args.at_prompt,
            faults=args.faults,
            seed=args.seed,
            link=args.link,
            listen=args.listen,
            boot_window=args.boot_window,
            writable=args.writable,
            partitions=args.partitions,
            powered=args.power_on_after is None,
            on_new_path=_announce,
            watchdog=args.watchdog,
            sd=args.sd,
            sd_write_protected=args.sd_write_protected,
        )
    except (ImageError, CardError, FaultSpecError, profiles.ProfileError) as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"cannot open the port: {exc}")
    signal.signal(signal.SIGUSR1, lambda *_: emu.power_cycle())
    signal.signal(signal.SIGUSR2, lambda *_: emu.slot.toggle())
    timer = threading.Timer(args.power_on_after or 0, emu.power_on)
    timer.daemon = True  # SIGTERM ends the program before a pending power-on, at once
    control = None
    if args.control:
        from emulator.control import ControlServer

        def act(state: str) -> None:
            timer.cancel()  # switched by hand: no pending power-on
            {"on": emu.power_on, "off": emu.power_off, "cycle": emu.power_cycle}[state]()

        try:
            control = ControlServer(args.control, act)
        except OSError as exc:
            _bounded(emu.stop)
            return _fail(f"--control {args.control}: {exc.strerror}")
    emu.start()  # the port is announced: the switch is there already
    if args.listen:
        _announce(emu.port)
    if args.power_on_after is not None:
        timer.start()
    try:
        while not done.wait(0.1):
            pass
    finally:
        timer.cancel()
        if control is not None:
            control.close()
        _bounded(emu.stop)
    return 0


def _bounded(stop, seconds: float = 2.0) -> None:
    """Stop, but never for longer than `seconds`: a signal ends the program in every state
    (the threads left are daemons and end with it)."""
    t = threading.Thread(target=stop, name="stop", daemon=True)
    t.start()
    t.join(seconds)


def _until_signalled() -> threading.Event:
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    return done


def _relay(args: argparse.Namespace) -> int:
    from emulator.wire.relay import Relay

    done = _until_signalled()
    try:
        parse_spec(args.faults)
        relay = Relay(
            args.relay,
            baud=args.baud,
            faults=args.faults,
            seed=args.seed,
            link=args.link,
            listen=args.listen,
            on_new_path=_announce,
        )
    except FaultSpecError as exc:
        return _fail(str(exc))
    except (OSError, serial.SerialException) as exc:
        return _fail(f"cannot open {args.relay}: {exc}")
    relay.start()
    if args.listen:
        _announce(relay.port)
    try:
        while not done.wait(0.5):
            pass
    finally:
        _bounded(relay.stop)
    return 0


def _announce(path: str) -> None:
    print(path, flush=True)


def _fail(message: str) -> int:
    sys.stderr.write(f"uboot-emu: error: {message}\n")
    return 2


if __name__ == "__main__":
    sys.exit(main())
