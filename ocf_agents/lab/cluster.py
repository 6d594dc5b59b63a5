"""The lab's Corosync and Pacemaker: configuration files, and reading the cluster's state.

Timings follow ``cluster-lab.md``: token 1000 ms and a pre-seeded ``dc-deadtime`` of 2 s bring
a cluster up in about 5 s instead of 23 s. Fencing is on, as in production: the CIB is seeded
with ``stonith-enabled=true`` and a fence device of class stonith, ``fence_ocfalab``
(``fence_agent.py``), which powers a lab node off the way ``lab crash`` does.
"""

from __future__ import annotations

import html
import os
import pwd
import grp
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from .fence_agent import AGENT_NAME
from .layout import Node
from .proc import run

CLUSTER_NAME = "ocfalab"
TOKEN_MS = 1000
FENCE_RESOURCE = "lab-fence"
FENCING_NOTICE = (f"fencing is ON (stonith-enabled=true, device {FENCE_RESOURCE}: {AGENT_NAME});\n"
                  "  a fenced node stays off until `ocf-agents lab start NODE`")  # within 120 columns
# The lab's fence device, one for every node. A reboot is carried out as "off": a fenced node
# stays down (as `lab crash` leaves it) until the drill's restore or `lab start` boots it.
# No pcmk_delay_max in a 2-node lab: the device carries out one power action at a time and
# drops a request whose sender was powered off meanwhile, so of two nodes fencing each other
# the first request wins (fence_device.py); a real shared device needs the delay.
FENCE_DEVICE = (
    f'<primitive id="{FENCE_RESOURCE}" class="stonith" type="{AGENT_NAME}">'
    f'<instance_attributes id="{FENCE_RESOURCE}-ia"><nvpair id="{FENCE_RESOURCE}-reboot-action" '
    'name="pcmk_reboot_action" value="off"/></instance_attributes>'
    f'<operations><op id="{FENCE_RESOURCE}-monitor" name="monitor" interval="60s"/></operations>'
    "</primitive>"
)


def corosync_conf(members: list[Node]) -> str:
    """corosync.conf for the whole cluster (the same file on every node)."""
    nodelist = "".join(
        f"    node {{\n        name: {n.name}\n        nodeid: {n.index}\n"
        f"        ring0_addr: {n.address}\n    }}\n"
        for n in members
    )
    two_node = "    two_node: 1\n" if len(members) == 2 else ""
    return (
        "totem {\n    version: 2\n"
        f"    cluster_name: {CLUSTER_NAME}\n"
        "    transport: knet\n    crypto_cipher: none\n    crypto_hash: none\n"
        f"    token: {TOKEN_MS}\n}}\n"
        f"nodelist {{\n{nodelist}}}\n"
        f"quorum {{\n    provider: corosync_votequorum\n{two_node}}}\n"
        "logging {\n    to_logfile: yes\n    logfile: /var/log/pacemaker/corosync.log\n"
        "    to_syslog: no\n    to_stderr: no\n    timestamp: on\n}\n"
    )


def cluster_properties(node_count: int) -> dict[str, str]:
    """Pre-seeded cluster options: fast DC election, fencing, quorum as usual."""
    return {
        "stonith-enabled": "true",
        "dc-deadtime": "2s",
        # Two nodes: quorum is handled by corosync's two_node; three: a lone node stops.
        "no-quorum-policy": "ignore" if node_count == 2 else "stop",
    }


# Most clusters give resources some stickiness; without it Pacemaker shuffles resources that
# have nothing to do with a fail-over, only to even out the count per node.
RESOURCE_DEFAULTS = (
    '<rsc_defaults><meta_attributes id="rsc-options"><nvpair '
    'id="rsc-options-resource-stickiness" name="resource-stickiness" value="1"/>'
    "</meta_attributes></rsc_defaults>"
)


def seed_cib(path: Path, node_count: int) -> None:
    """Write the initial CIB (hacluster, mode 600) that every node starts from."""
    cib = run(["cibadmin", "--empty"]).stdout
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(cib)
    env = {**os.environ, "CIB_file": str(path)}
    for name, value in cluster_properties(node_count).items():
        run(["crm_attribute", "--type", "crm_config", "--name", name, "--update", value], env=env)
    run(["cibadmin", "--create", "-o", "configuration", "-X", RESOURCE_DEFAULTS], env=env)
    run(["cibadmin", "--create", "-o", "resources", "-X", FENCE_DEVICE], env=env)
    os.chown(path, pwd.getpwnam("hacluster").pw_uid, grp.getgrnam("haclient").gr_gid)


@dataclass(frozen=True)
class Placement:
    """One active resource instance, as crm_mon reports it."""

    resource: str  # the primitive's id (clone instances without their :N)
    role: str  # Started, Promoted, Unpromoted, Stopped...
    node: str
    failed: bool
    pending: bool  # an action (start, promote...) is still running: not settled yet


@dataclass(frozen=True)
class ClusterView:
    """What one node's crm_mon says about the cluster."""

    dc: str | None
    online: frozenset[str]
    placements: tuple[Placement, ...]
    failures: tuple[str, ...]  # "op on node: exit reason", as crm_mon lists failed actions

    def nodes_with(self, resource: str, role: str | None = None) -> list[str]:
        return sorted(p.node for p in self.placements
                      if p.resource == resource and (role is None or p.role == role)
                      and not p.failed and not p.pending)

    def promoted(self, resource: str) -> list[str]:
        return self.nodes_with(resource, "Promoted")


def parse_crm_mon(xml_text: str) -> ClusterView:
    """Parse ``crm_mon -1 --output-as=xml`` (Pacemaker 2.1)."""
    root = ET.fromstring(xml_text)
    dc = root.find("./summary/current_dc")
    dc_name = dc.get("name") if dc is not None and dc.get("present") == "true" else None
    online = frozenset(n.get("name", "") for n in root.iterfind("./nodes/node")
                       if n.get("online") == "true")
    placements = tuple(  # the lab's fence device is not one of the resources under test
        Placement(r.get("id", "").split(":")[0], r.get("role", ""), n.get("name", ""),
                  r.get("failed") == "true", bool(r.get("pending")))
        for r in root.iter("resource")
        if not r.get("resource_agent", "").startswith("stonith:")
        for n in r.iterfind("node")
    )
    failures = tuple(  # crm_mon escapes exit reasons once more than XML needs
        f"{f.get('op_key')} on {f.get('node')}: "
        f"{html.unescape(f.get('exitreason') or f.get('exitstatus') or '')}"
        for f in root.iterfind("./failures/failure")
    )
    return ClusterView(dc_name, online, placements, failures)
