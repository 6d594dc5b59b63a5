"""OVSPort's configuration: the parameters as the actions use them, and the host's checks."""

from __future__ import annotations

import shutil

from ocf_agents.net.link import IFDOWN, IFUP, IP, Links
from ocf_agents.net.names import derived_mac, normalize_mac
from ocf_agents.net.policy import SourceRouting
from ocf_agents.net.tables import table_number
from ocf_agents.ocf.agent import Context
from ocf_agents.ocf.codes import ArgsError, NotInstalledError
from ocf_agents.ovs.vsctl import VSCTL, Vsctl


class Config:
    """The parameters as the actions use them, built once per call from the checked values
    (``configure``); ``ctx`` gives the log, the runner and the environment."""

    def __init__(self, ctx: Context) -> None:
        p = ctx.params
        self.ctx = ctx
        self.bridge: str = p["bridge"]
        self.interface: str = p["interface"]
        self.mac: str | None = p["mac"]  # as configured: see expected_mac
        self.tag: int | None = p["tag"]
        self.vlan_mode: str | None = p["vlan_mode"]
        self.iface_id: str | None = p["iface_id"]
        self.attached_mac: str | None = p["attached_mac"]
        self.vm_id: str | None = p["vm_id"]
        self.iface_status: str = p["iface_status"]
        self.bringup: str = p["bringup"]
        self.announce: bool = p["announce"]
        self.ovsdb: str | None = p["ovsdb"]
        self.route_table: str | None = p["route_table"]  # as configured: a number or a name
        self.arp_isolation: bool = p["arp_isolation"]
        self.ipv6_autoconf: bool = p["ipv6_autoconf"]
        self.vsctl = Vsctl(ctx.runner, self.ovsdb)
        self.links = Links(ctx.runner)
        self.routing: SourceRouting | None = self._routing(p["rule_priority"]) if self.route_table else None

    def _routing(self, priority: int) -> SourceRouting:
        """The port's source-based routing, with route_table as this host's number for it.

        What a name stands for is this host's (rt_tables): no file here defining it is 5,
        a file here mapping it to one of the kernel's tables is 2."""
        try:
            table = table_number(self.route_table)
        except LookupError as err:
            raise NotInstalledError(f"Parameter route_table={self.route_table!r}: {err}") from None
        except ValueError as err:
            raise ArgsError(f"Parameter route_table={self.route_table!r}: {err}") from None
        return SourceRouting(self.ctx.runner, self.interface, table, priority)

    def expected_mac(self) -> str:
        """The ``mac`` parameter, or the address every node derives from the same names.

        Asked only by the actions that compare or set the address, so that a missing resource
        name fails those (2), not stop or a probe."""
        if self.mac:
            return normalize_mac(self.mac)
        if not self.ctx.env.resource_name:
            raise ArgsError("Parameter mac is empty and OCF_RESOURCE_INSTANCE is not set: no name to derive the MAC from")
        return derived_mac(self.ctx.env.resource_name, self.interface)

    def port_columns(self) -> dict[str, str | int]:
        columns: dict[str, str | int] = {}
        if self.tag is not None:
            columns["tag"] = self.tag
        if self.vlan_mode:
            columns["vlan_mode"] = self.vlan_mode
        return columns

    def external_ids(self, mac: str) -> dict[str, str]:
        """The integration guide's keys: attached-mac and iface-status always, the others when given."""
        ids = {
            "attached-mac": normalize_mac(self.attached_mac or mac),
            "iface-status": self.iface_status,
        }
        if self.iface_id:
            ids["iface-id"] = self.iface_id
        if self.vm_id:
            ids["vm-id"] = self.vm_id
        return ids


def require_bridge(cfg: Config) -> None:
    """A bridge missing here is this host's problem (5), not the configuration's."""
    if not cfg.vsctl.bridge_exists(cfg.bridge):
        raise NotInstalledError(f"Parameter bridge={cfg.bridge!r}: no such bridge on this host")


def check_programs(cfg: Config) -> None:
    """What only this host can get wrong before any action: the programs the agent runs."""
    programs = [VSCTL, IP] + ([IFUP, IFDOWN] if cfg.bringup == "ifupdown" else [])
    for program in programs:
        if shutil.which(program) is None:
            raise NotInstalledError(f"Program {program} is not installed on this host")
