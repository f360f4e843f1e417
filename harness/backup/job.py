"""`backup`: from power-on to restorable sys_<model>/home_<model> images.

The job wires the pieces: the read-only policy (with the SD write guard when the SD path may
run), the manifest of the output directory, the session keeper (power-on, identity, recovery,
flash -> RAM); then the SD path when the camera has a prepared card (and `--via` allows it),
else the md path. Both publish their files and keep the manifest the same way.
"""

from __future__ import annotations

from typing import Callable, Optional

from harness.backup.manifest import Manifest
from harness.backup.mdpath import MdPath
from harness.backup.plan import Plan
from harness.backup.sdpath import SdPath, find_card
from harness.backup.session import SessionKeeper
from harness.base.errors import SdUnavailable
from harness.camera.partitions import Partition
from harness.console.policy import ReadOnlyPolicy, SdWriteGuard
from harness.link.power import PowerSwitch
from harness.link.transport import Transport
from harness.sd.copier import Region

IDENTITY_WARNING = (
    "vd1 and conf hold the device identity and Wi-Fi credentials, and ROOTFS's etc/back.bin "
    "the P2P/cloud IDs and a password: do not share those files (see `uboot-dump jffs2 clean`)"
)


class Backup:
    def __init__(
        self,
        transport: Transport,
        plan: Plan,
        *,
        prompt: Optional[str] = None,
        timeout: float = 10.0,
        power_timeout: float = 300.0,
        baud: int = 115200,
        power: Optional[PowerSwitch] = None,
        say: Callable[[str], None] = print,
        progress: Callable[[Partition | Region], Optional[Callable[[int], None]]] = lambda p: None,
    ):
        self.plan = plan
        self.say = say
        self.progress = progress
        self.guard = SdWriteGuard() if plan.via != "md" else None
        policy = ReadOnlyPolicy(ram_window=plan.ram_window, sd_guard=self.guard)
        self.manifest = Manifest.open(plan.out_dir, plan.restart)
        self.keeper = SessionKeeper(
            transport,
            policy,
            plan.out_dir / "bootlog.txt",
            model=plan.model,
            check_memory=plan.check_memory,
            prompt=prompt,
            timeout=timeout,
            power_timeout=power_timeout,
            baud=baud,
            power=power,
            say=say,
        )

    def run(self) -> dict:
        plan = self.plan
        plan.out_dir.mkdir(parents=True, exist_ok=True)
        identity = self.keeper.start()
        self.manifest.data.update(identity.as_dict())
        vd1 = next((p for p in plan.table if p.name == "vd1"), None)
        if vd1 is not None:  # which camera this is: restore checks it before it writes
            crc = self.keeper.recovering(
                lambda console: self.keeper.flash_crc(console, vd1, plan.ram), "the check"
            )
            self.manifest.data["camera"] = {"vd1_crc32": f"{crc:08x}"}
        self.manifest.data["model"] = plan.model
        self.manifest.data["partition_source"] = plan.partition_source
        if not self._sd_path():
            MdPath(self.keeper, plan, self.manifest, say=self.say, progress=self.progress).run()
        self.say("Warning: " + IDENTITY_WARNING)
        return self.manifest.data

    def _sd_path(self) -> bool:
        """Copy the flash to the prepared card; False (after saying why) when `--via auto`
        finds no way to (the md path follows)."""
        if self.guard is None:
            return False
        try:
            sdfile = find_card(self.keeper, self.plan, say=self.say)
        except SdUnavailable as exc:
            if self.plan.via == "sd":
                raise
            self.say(f"SD path not used: {exc}; reading over the serial line (md) instead")
            return False
        SdPath(
            self.keeper,
            self.plan,
            self.manifest,
            sdfile,
            self.guard,
            say=self.say,
            progress=self.progress,
        ).run()
        return True
