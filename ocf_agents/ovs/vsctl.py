"""Open vSwitch's configuration database through ``ovs-vsctl``, for agents that manage ports.

Reads are one ``ovs-vsctl`` run with several ``find`` commands and JSON output (one process,
one consistent view of the bridge, the port and its interface); writes are one transaction, so
that a port is added with its MAC, VLAN settings and external_ids or not at all. ``ovs-vsctl``
waits until ``ovs-vswitchd`` has applied a change, and gets the action's remaining time as its
own ``--timeout`` so that a stuck daemon is reported, not waited on forever.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping

from ocf_agents.ocf.codes import GenericError
from ocf_agents.ocf.run import Runner

VSCTL = "ovs-vsctl"
RC_NO_SUCH_BRIDGE = 2  # what `ovs-vsctl br-exists` returns for a bridge that does not exist
UNREACHABLE_MARK = "database connection failed"


class OVSDBUnreachable(GenericError):
    """ovs-vsctl could not connect to the database: Open vSwitch is not running here."""


@dataclass(frozen=True)
class Port:
    """What the database says about one port and its interface of the same name."""

    name: str
    bridge: str | None  # the bridge that lists the port (None: none does)
    tag: int | None = None
    vlan_mode: str | None = None
    type: str = ""
    mac: str | None = None  # the Interface's configured mac column
    error: str | None = None  # the Interface's error column: why ovs-vswitchd could not set it up
    external_ids: Mapping[str, str] = field(default_factory=dict)


def _value(datum: Any) -> Any:
    """An OVSDB JSON datum as Python: an empty set is None, a map a dict, a uuid its string."""
    if isinstance(datum, list) and datum:
        kind, body = datum[0], datum[1]
        if kind == "set":
            return [_value(d) for d in body] if body else None
        if kind == "map":
            return {_value(k): _value(v) for k, v in body}
        if kind == "uuid":
            return body
    return datum


def _members(value: Any) -> list:
    """A set column's members: OVSDB writes a one-member set as the bare member."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _rows(line: str) -> list[dict[str, Any]]:
    table = json.loads(line)
    return [dict(zip(table["headings"], map(_value, row))) for row in table["data"]]


def quoted(value: str) -> str:
    """A string as an OVSDB atom: quoted, so that ':', '=' or ',' in it stay part of it."""
    return json.dumps(value)


class Vsctl:
    """ovs-vsctl for one agent invocation; ``db`` is its --db (None: ovs-vsctl's default)."""

    def __init__(self, runner: Runner, db: str | None = None) -> None:
        self.runner = runner
        self.db = db

    def argv(self, *commands: str) -> list[str]:
        timeout = max(1, int(self.runner.budget.remaining()))
        argv = [VSCTL, f"--timeout={timeout}"]
        if self.db:
            argv.append(f"--db={self.db}")
        return argv + list(commands)

    def _run(self, *commands: str):
        result = self.runner.run(self.argv(*commands))
        if not result.ok:
            if UNREACHABLE_MARK in result.stderr:
                raise OVSDBUnreachable(f"Open vSwitch's database is not reachable: {result.describe()}")
            raise GenericError(result.describe())
        return result

    # -- reads ---------------------------------------------------------------------------
    def bridge_exists(self, bridge: str) -> bool:
        result = self.runner.run(self.argv("br-exists", bridge))
        if result.rc in (0, RC_NO_SUCH_BRIDGE):
            return result.rc == 0
        if UNREACHABLE_MARK in result.stderr:
            raise OVSDBUnreachable(f"Open vSwitch's database is not reachable: {result.describe()}")
        raise GenericError(result.describe())

    def port(self, name: str) -> Port | None:
        """The port ``name`` with its interface and bridge, or None when there is no such port."""
        result = self._run(
            "--format=json",
            "--", "--columns=name,ports", "find", "Bridge",
            "--", "--columns=_uuid,tag,vlan_mode", "find", "Port", f"name={name}",
            "--", "--columns=type,mac,error,external_ids", "find", "Interface", f"name={name}",
        )
        bridges, ports, interfaces = (_rows(line) for line in result.stdout.splitlines())
        if not ports:
            return None
        port = ports[0]
        owner = next((b["name"] for b in bridges if port["_uuid"] in _members(b["ports"])), None)
        iface = interfaces[0] if interfaces else {}
        return Port(
            name=name,
            bridge=owner,
            tag=port["tag"],
            vlan_mode=port["vlan_mode"],
            type=iface.get("type") or "",
            mac=iface.get("mac"),
            error=iface.get("error"),
            external_ids=iface.get("external_ids") or {},
        )

    # -- writes --------------------------------------------------------------------------
    def replace_internal_port(
        self,
        bridge: str,
        name: str,
        mac: str,
        port_columns: Mapping[str, str | int],
        external_ids: Mapping[str, str],
    ) -> None:
        """Add port ``name`` to ``bridge`` as an internal interface with ``mac``, in one
        transaction; a port of that name already on ``bridge`` is replaced by a fresh one, so
        that nothing of an earlier configuration survives."""
        port_settings = [f"{column}={value}" for column, value in port_columns.items()]
        iface_settings = [f"external_ids:{key}={quoted(value)}" for key, value in external_ids.items()]
        self._run(
            "--", "--if-exists", "del-port", bridge, name,
            "--", "add-port", bridge, name, *port_settings,
            "--", "set", "Interface", name, "type=internal", f"mac={quoted(mac)}", *iface_settings,
        )

    def delete_port(self, bridge: str, name: str) -> None:
        self._run("--", "--if-exists", "del-port", bridge, name)
