"""The ways a dump can fail, each with its own exit code (see README: "Errors")."""

from __future__ import annotations


class DumpError(Exception):
    exit_code = 1


class UsageError(DumpError):
    exit_code = 2


class PortError(DumpError):
    """The port cannot be opened."""

    exit_code = 3


class NoPrompt(DumpError):
    """No U-Boot prompt (or not the one given)."""

    exit_code = 4


class TargetReset(DumpError):
    """The target reset or booted Linux while we were talking to it."""

    exit_code = 5


class PortGone(DumpError):
    """The adapter vanished, or the line went dead."""

    exit_code = 6


class VerifyFailed(DumpError):
    """Retries ran out before the data could be verified."""

    exit_code = 7


class ResumeRefused(DumpError):
    """A journal exists that does not fit this run, or the target's memory changed."""

    exit_code = 8


class Refused(DumpError):
    """A command outside the read-only set: never sent."""

    exit_code = 9


class CommandFailed(DumpError):
    """U-Boot answered a command with an error."""

    exit_code = 10


class CommandMissing(DumpError):
    """The target's U-Boot lacks a command the job cannot do without."""

    exit_code = 11


class OutputError(DumpError):
    """An output cannot be written (a full disk, no permission); nothing partial is left."""

    exit_code = 12


class SdUnavailable(DumpError):
    """The SD path cannot be used (no mmc, no card, not FAT32, no prepared file, a sector of
    it that holds something else); nothing was written to the card because of it."""

    exit_code = 13
