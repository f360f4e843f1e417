"""Things that unwind the firmware: the power going away and the CPU resetting."""


class PowerOff(Exception):
    """Power was cut: whatever the firmware was doing stops here."""


class Reset(Exception):
    """The CPU resets (the `reset` command, a data abort, a fault): the board boots again."""


class PowerCut(PowerOff):
    """The power goes in the middle of a flash operation (an armed cut): the board cuts it
    and brings it back."""
