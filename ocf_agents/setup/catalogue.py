"""Which parameters each agent takes, to reject a misspelt ``--param`` before pcs runs.

Our agents declare theirs in their ``METADATA``: the names are checked, and each value is
converted and validated by the agent's own rules. OVN's agent (``--provider ovn``) takes the
parameters of OVN's ``ovndb-servers.ocf``; only their names are known here.
"""

from __future__ import annotations

import importlib
from typing import Mapping

from ocf_agents.ocf.codes import ParameterError
from ocf_agents.ocf.metadata import MetaData

from .checks import SetupError
from .model import Agent

OVN_PROVIDER = "ovn"
DEFAULT_PROVIDER = "ovsha"

# OVN's ovndb-servers agent (utilities/ovndb-servers.ocf), parameter names only.
UPSTREAM_OVNDB_PARAMETERS = frozenset({
    "ovn_ctl", "master_ip", "nb_master_port", "nb_master_protocol", "sb_master_port",
    "sb_master_protocol", "manage_northd", "inactive_probe_interval",
    "inactive_probe_interval_to_master", "listen_on_master_ip_only",
    "ovn_nb_db_privkey", "ovn_nb_db_cert", "ovn_nb_db_cacert",
    "ovn_sb_db_privkey", "ovn_sb_db_cert", "ovn_sb_db_cacert",
})

# agent type -> the module of ours that implements it (it exports METADATA)
OUR_AGENTS: Mapping[str, str] = {
    "ovndb-servers": "ocf_agents.agents.ovndb",
    "OVSPort": "ocf_agents.agents.ovsport",
}


def our_metadata(agent_type: str) -> MetaData:
    return importlib.import_module(OUR_AGENTS[agent_type]).METADATA


def check_agent_params(agent: Agent, params: tuple[tuple[str, str], ...]) -> None:
    """Raise SetupError for a parameter the agent does not have, or a value it rejects."""
    if agent.provider == OVN_PROVIDER:
        for name, value in params:
            if name not in UPSTREAM_OVNDB_PARAMETERS:
                raise SetupError(
                    f"--param {name}={value}: {agent} has no parameter {name!r} "
                    f"(it has: {', '.join(sorted(UPSTREAM_OVNDB_PARAMETERS))})"
                )
        return
    metadata = our_metadata(agent.type)
    known = [p.name for p in metadata.parameters]
    for name, value in params:
        try:
            metadata.parameter(name).convert(value)
        except KeyError:
            raise SetupError(
                f"--param {name}={value}: {agent} has no parameter {name!r} (it has: {', '.join(known)})"
            ) from None
        except ParameterError as err:
            raise SetupError(f"{err.reason} (agent {agent})") from None
