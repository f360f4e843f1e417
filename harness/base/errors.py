"""The ways a dump can fail, each with its own exit code and next step (README: "Errors")."""

from __future__ import annotations

import re

# words with which a message already tells the user what to do next
ADVICE = re.compile(
    r"\b(run|rerun|prepare|give|check|choose|remove|add|use|switch|put|replug|free|format|"
    r"repair|copy|power-cycle|read the)\b|--[a-z]"
)


class DumpError(Exception):
    exit_code = 1
    hint = ""  # the next step, where the message itself names none

    def line(self) -> str:
        """The one line the user is shown: the message and, where it names no next step,
        the class's."""
        text = str(self)
        if self.hint and not ADVICE.search(text):
            text = f"{text}: {self.hint}"
        return text


class UsageError(DumpError):
    exit_code = 2
    hint = "see `uboot-dump COMMAND --help`"


class PortError(DumpError):
    """The port cannot be opened."""

    exit_code = 3
    hint = "check the device name and that you may use it (Linux: the dialout group)"


class NoPrompt(DumpError):
    """No U-Boot prompt (or not the one given)."""

    exit_code = 4
    hint = "check the wiring and the baud rate, or give the prompt with --prompt"


class TargetReset(DumpError):
    """The target reset or booted Linux while we were talking to it."""

    exit_code = 5
    hint = "power-cycle the camera and run the same command again: it resumes"


class PortGone(DumpError):
    """The adapter vanished, or the line went dead."""

    exit_code = 6
    hint = "replug the adapter and run the same command again: it resumes"


class VerifyFailed(DumpError):
    """Retries ran out before the data could be verified."""

    exit_code = 7
    hint = "run the same command again (it resumes); shorter wires and a good ground help"


class ResumeRefused(DumpError):
    """A journal exists that does not fit this run, or the target's memory changed."""

    exit_code = 8
    hint = "rerun with the same arguments, or add --restart to begin again"


class Refused(DumpError):
    """A command outside the read-only set: never sent."""

    exit_code = 9
    hint = "this is a bug of uboot-dump: please report it with the command line"


class CommandFailed(DumpError):
    """U-Boot answered a command with an error."""

    exit_code = 10
    hint = "run the same command again; if it fails the same way, the camera's reply is above"


class CommandMissing(DumpError):
    """The target's U-Boot lacks a command the job cannot do without."""

    exit_code = 11
    hint = "use read-mem, which needs only md (README: Checked against)"


class OutputError(DumpError):
    """An output cannot be written (a full disk, no permission); nothing partial is left."""

    exit_code = 12
    hint = "free some space or choose another directory; nothing partial was left"


class SdUnavailable(DumpError):
    """The SD path cannot be used (no mmc, no card, not FAT32, no prepared file, a sector of
    it that holds something else); nothing was written to the card because of it."""

    exit_code = 13
    hint = "or back up over the serial line with --via md"

    def line(self) -> str:
        text = str(self)
        return text if "--via " in text else f"{text}; {self.hint}"


class FlashDiffers(DumpError):
    """`verify`: the camera's flash differs from the images in some blocks (listed above)."""

    exit_code = 14
    hint = "run `uboot-dump restore` with the same arguments: it writes only those blocks"


class OtherCamera(DumpError):
    """`restore`: the backup is of another camera (its identity, vd1, differs)."""

    exit_code = 15
    hint = "add --other-camera to restore its ROOTFS/HOME here anyway (never its vd1 or conf)"
