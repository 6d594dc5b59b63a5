"""An interface's own kernel settings (``net.ipv4.conf.IFACE.*``, ``net.ipv6.conf.IFACE.*``).

Read and written as files under /proc/sys, not with ``sysctl``: a monitor checks them every
few seconds, and a file read costs no process. They live and die with the device, so nothing
written here needs undoing when the device is deleted.
"""

from __future__ import annotations

from ocf_agents.ocf.record import Record

TYPE_CHECKING = False  # typing is imported by type checkers only (see ocf_agents/ocf/record.py)
if TYPE_CHECKING:
    from typing import Iterable

ROOT = "/proc/sys/net"


class Setting(Record):
    """One per-interface setting and the value it must have."""

    family: str  # "ipv4" or "ipv6", as in the sysctl's name
    key: str  # e.g. "arp_ignore"
    value: int

    def path(self, iface: str, root: str = ROOT) -> str:
        return f"{root}/{self.family}/conf/{iface}/{self.key}"

    def name(self, iface: str) -> str:
        """As ``sysctl`` spells it (a '.' in an interface name becomes '/')."""
        return f"net.{self.family}.conf.{iface.replace('.', '/')}.{self.key}"


def read(path: str) -> int | None:
    """The setting's value, or None when the kernel has no such file (no IPv6, no device)."""
    try:
        with open(path, encoding="ascii") as file:
            return int(file.read().split()[0])
    except FileNotFoundError:
        return None


def enforce(iface: str, settings: Iterable[Setting], root: str = ROOT) -> list[str]:
    """Give ``iface`` each of ``settings``, and say what was changed ("NAME: OLD -> NEW").

    A setting of a family the kernel does not run (IPv6 disabled at boot) is skipped: there is
    nothing there to configure. A device that does not exist is OSError.
    """
    changes = []
    for setting in settings:
        path = setting.path(iface, root)
        current = read(path)
        if current is None and setting.family == "ipv6" and read(f"{root}/ipv6/conf/all/{setting.key}") is None:
            continue
        if current != setting.value:
            with open(path, "w", encoding="ascii") as file:
                file.write(f"{setting.value}\n")
            changes.append(f"{setting.name(iface)}: {current} -> {setting.value}")
    return changes


def answers_for_any_address(iface: str, root: str = ROOT) -> bool:
    """True when ``iface`` answers ARP requests for every address of the host, not only its
    own: ``arp_filter`` and ``arp_ignore`` both 0, in its settings and in ``all`` (the kernel
    takes ``arp_filter`` from either and the larger ``arp_ignore``)."""
    return not any(read(f"{root}/ipv4/conf/{name}/{key}") for name in (iface, "all")
                   for key in ("arp_filter", "arp_ignore"))
