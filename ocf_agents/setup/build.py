"""From the operator's options to a checked :class:`~.model.Setup`.

Every value is checked here, so that a setup that renders is one pcs and crmsh accept. Only
the parameters the operator chose are written into the resource: the agent's defaults stay
the agent's, and a later version of the agent can improve them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ocf_agents.ocf.metadata import PROMOTED, UNPROMOTED

from . import checks
from .catalogue import DEFAULT_PROVIDER, OVN_PROVIDER, check_agent_params
from .checks import SetupError
from .model import INFINITY, Agent, Colocation, Group, Op, Order, Primitive, Promotable, Setup

IPADDR2 = Agent("ocf", "heartbeat", "IPaddr2")
YES, NO = "yes", "no"
SSL_FILES = ("nb_privkey", "nb_cert", "nb_cacert", "sb_privkey", "sb_cert", "sb_cacert")


@dataclass
class OvndbOptions:
    """``ocf-agents setup ovndb``: the ovndb-servers promotable clone and its virtual IP."""

    master_ip: str
    name: str = "ovndb_servers"
    clone_name: str | None = None  # default: NAME-clone
    vip_name: str | None = None  # default: NAME-vip
    provider: str = DEFAULT_PROVIDER
    vip_netmask: str | None = None
    vip_nic: str | None = None
    load_balancer: bool = False
    ssl: bool = False
    nb_privkey: str | None = None
    nb_cert: str | None = None
    nb_cacert: str | None = None
    sb_privkey: str | None = None
    sb_cert: str | None = None
    sb_cacert: str | None = None
    manage_northd: bool = False
    # Pacemaker's notifications around each demote and promote (yes, no, or None: the fastest
    # the agent allows): OVN's agent needs them; ours does without (follow.py), and a
    # switchover is then three rounds of actions shorter.
    notify: str | None = None
    # master_ip held by the promoted instance itself (hold_master_ip=yes, on --vip-nic with
    # --vip-netmask): no IPaddr2 resource and no constraints; a switchover is demote + promote.
    held_address: bool = False
    inactive_probe_interval: str | None = None
    inactive_probe_interval_to_master: str | None = None
    # The intervals the agent's meta-data advertises, and OVN's integration guide writes. The
    # unpromoted monitor records a backup's data position: its interval is the election's
    # precision and sets a cut-off backup's grace (2 intervals + 4 s), so it stays short. The
    # promoted one must differ (Pacemaker identifies a monitor by its interval).
    monitor_interval: str = "10"
    promoted_monitor_interval: str = "15"
    vip_monitor_interval: str = "10"
    params: list[str] = field(default_factory=list)


@dataclass
class PortOptions:
    """``ocf-agents setup port``: OVSPort and its addresses in one group."""

    bridge: str
    interface: str
    ip: str
    ip6: str | None = None
    netmask: str = "24"
    netmask6: str = "64"
    mac: str | None = None
    name: str | None = None  # default: INTERFACE-port
    group_name: str | None = None  # default: NAME-group
    provider: str = DEFAULT_PROVIDER
    with_promoted: str | None = None  # a promotable clone the group must follow
    monitor_interval: str = "10"
    params: list[str] = field(default_factory=list)


def ovndb_setup(opts: OvndbOptions) -> Setup:
    name = checks.check_id("--name", opts.name)
    clone_id = checks.check_id("--clone-name", opts.clone_name or f"{name}-clone")
    agent = Agent("ocf", checks.check_provider(opts.provider), "ovndb-servers")
    master_ip = checks.check_address("--master-ip", opts.master_ip)
    monitor = checks.parse_interval("--monitor-interval", opts.monitor_interval)
    promoted_monitor = checks.parse_interval("--promoted-monitor-interval", opts.promoted_monitor_interval)
    if monitor == promoted_monitor:
        raise SetupError(
            f"--monitor-interval and --promoted-monitor-interval are both {monitor}s: Pacemaker "
            "needs a different interval for each role's monitor"
        )
    params = merge_params(agent, ovndb_params(opts, master_ip) + held_params(opts, agent, master_ip), opts.params)
    check_ssl_files(opts, dict(params))
    primitive = Primitive(
        name, agent, params, (Op("monitor", monitor, UNPROMOTED), Op("monitor", promoted_monitor, PROMOTED))
    )
    notify = clone_notify(opts, agent)
    clone = Promotable(clone_id, primitive, (("notify", notify),))
    notes = switchover_notes(opts, agent, notify)
    if opts.held_address:
        if opts.vip_name is not None:
            raise SetupError("--vip-name has no use with --held-address (no IPaddr2 resource)")
        checks.check_unique_ids([name, clone_id])
        return Setup((clone,), notes=notes)
    if opts.load_balancer:
        for option in ("vip_name", "vip_netmask", "vip_nic"):
            if getattr(opts, option) is not None:
                raise SetupError(f"--{option.replace('_', '-')} has no use with --load-balancer (no VIP)")
        checks.check_unique_ids([name, clone_id])
        return Setup((clone,), notes=notes)
    vip = Primitive(
        checks.check_id("--vip-name", opts.vip_name or f"{name}-vip"),
        IPADDR2,
        address_params(master_ip, opts.vip_netmask, opts.vip_nic, "--vip-netmask", "--vip-nic"),
        (Op("monitor", checks.parse_interval("--vip-monitor-interval", opts.vip_monitor_interval)),),
    )
    checks.check_unique_ids([name, clone_id, vip.id])
    return Setup(
        (clone, vip),
        (
            Order(f"{vip.id}-after-{clone_id}", clone_id, "promote", vip.id, "start"),
            Colocation(f"{vip.id}-with-{clone_id}", vip.id, clone_id, PROMOTED, INFINITY),
        ),
        notes,
    )


def clone_notify(opts: OvndbOptions, agent: Agent) -> str:
    """The clone's ``notify`` meta attribute: by default false for this project's agent (the
    fastest switchover, every guarantee kept: follow.py), true for OVN's, which cannot do
    without notifications."""
    if opts.notify not in (YES, NO, None):
        raise SetupError(f"--notify {opts.notify!r} is neither yes nor no")
    needs_them = agent.provider == OVN_PROVIDER
    if opts.notify == NO and needs_them:
        raise SetupError("--notify no: OVN's agent (--provider ovn) re-points its backups in the "
                         "post-promote notification and needs notify=true")
    return "true" if opts.notify == YES or needs_them else "false"


def switchover_notes(opts: OvndbOptions, agent: Agent, notify: str) -> tuple[str, ...]:
    """What the operator reads above the commands: the switchover this configuration gives,
    and the others (docs/guide.md, "A switchover in one transition")."""
    if agent.provider == OVN_PROVIDER:
        return ("notify=true: OVN's agent re-points its backups in the post-promote notification.",)
    if opts.held_address:
        return ("hold_master_ip=yes: the promoted instance holds master_ip itself; a switchover is a demote "
                "and a promote, the fastest (docs/guide.md).",)
    if notify == "false" and opts.load_balancer:
        return ("notify=false: a switchover is a demote and a promote, without the four rounds of "
                "notifications around them; the backups follow the new promoted node without them "
                "(docs/guide.md). --notify yes writes OVN's documented configuration.",)
    if notify == "false":
        return ("notify=false: a switchover is four rounds of actions (the VIP's stop, demote, promote, the "
                "VIP's start) instead of seven; the backups follow the new promoted node without "
                "notifications (docs/guide.md). --notify yes writes OVN's documented configuration; "
                "--held-address, faster still, has the promoted instance hold master_ip itself.",)
    return ("notify=true: OVN's documented configuration; --notify no makes a switchover three rounds "
            "shorter (docs/guide.md).",)


def held_params(opts: OvndbOptions, agent: Agent, master_ip: str) -> list[tuple[str, str]]:
    """--held-address: the agent's hold_master_ip and the address's interface and prefix,
    which IPaddr2 would otherwise have (--vip-nic, --vip-netmask: both required)."""
    if not opts.held_address:
        return []
    if agent.provider == OVN_PROVIDER or opts.load_balancer:
        raise SetupError("--held-address is for this project's agent with master_ip on the promoted node "
                         "(not with --provider ovn or --load-balancer)")
    if opts.vip_nic is None or opts.vip_netmask is None:
        raise SetupError("--held-address needs --vip-nic and --vip-netmask: the agent adds master_ip "
                         "to that interface with that prefix length")
    address = dict(address_params(master_ip, opts.vip_netmask, opts.vip_nic, "--vip-netmask", "--vip-nic"))
    return [("hold_master_ip", YES), ("master_ip_nic", address["nic"]),
            ("master_ip_cidr_netmask", address["cidr_netmask"])]


def ovndb_params(opts: OvndbOptions, master_ip: str) -> list[tuple[str, str]]:
    """The agent parameters the dedicated options stand for, in a readable order."""
    params = [("master_ip", master_ip)]
    if opts.load_balancer:
        params.append(("listen_on_master_ip_only", NO))
    if opts.ssl:
        params += [("nb_master_protocol", "ssl"), ("sb_master_protocol", "ssl")]
    for option in SSL_FILES:
        value = getattr(opts, option)
        if value is not None:
            flag = f"--{option.replace('_', '-')}"
            params.append((f"ovn_{option[:2]}_db_{option[3:]}", checks.check_absolute_path(flag, value)))
    if opts.manage_northd:
        params.append(("manage_northd", YES))
    for option in ("inactive_probe_interval", "inactive_probe_interval_to_master"):
        value = getattr(opts, option)
        if value is not None:
            params.append((option, checks.check_milliseconds(f"--{option.replace('_', '-')}", value)))
    return params


def check_ssl_files(opts: OvndbOptions, params: dict[str, str]) -> None:
    """A database's SSL files are only read when its protocol is ssl (--ssl sets both; a
    --param can set one): a file given for a tcp database is a mistake worth stopping for."""
    for option in SSL_FILES:
        db = option[:2]
        if getattr(opts, option) is not None and params.get(f"{db}_master_protocol") != "ssl":
            raise SetupError(
                f"--{option.replace('_', '-')} is only used when {db}_master_protocol=ssl "
                f"(give --ssl, or --param {db}_master_protocol=ssl)"
            )


def port_setup(opts: PortOptions) -> Setup:
    if opts.provider == OVN_PROVIDER:
        raise SetupError("--provider ovn: OVN ships no OVSPort agent; OVSPort is ours (default provider ovsha)")
    agent = Agent("ocf", checks.check_provider(opts.provider), "OVSPort")
    bridge = checks.check_ifname_option("--bridge", opts.bridge)
    interface = checks.check_ifname_option("--interface", opts.interface)
    name = checks.check_id("--name", opts.name or f"{interface}-port")
    group_id = checks.check_id("--group-name", opts.group_name or f"{name}-group")
    interval = checks.parse_interval("--monitor-interval", opts.monitor_interval)
    own = [("bridge", bridge), ("interface", interface)]
    if opts.mac is not None:
        own.append(("mac", opts.mac))
    members = [Primitive(name, agent, merge_params(agent, own, opts.params), (Op("monitor", interval),))]
    ip4 = checks.check_address("--ip", opts.ip, 4)
    members.append(
        Primitive(f"{name}-ip", IPADDR2, address_params(ip4, opts.netmask, interface, "--netmask", None),
                  (Op("monitor", interval),))
    )
    if opts.ip6 is not None:
        ip6 = checks.check_address("--ip6", opts.ip6, 6)
        members.append(
            Primitive(f"{name}-ip6", IPADDR2, address_params(ip6, opts.netmask6, interface, "--netmask6", None),
                      (Op("monitor", interval),))
        )
    checks.check_unique_ids([group_id, *(m.id for m in members)])
    constraints: tuple[Colocation, ...] = ()
    if opts.with_promoted is not None:
        clone_id = checks.check_id("--with-promoted", opts.with_promoted)
        if clone_id in (group_id, *(m.id for m in members)):
            raise SetupError(f"--with-promoted {clone_id!r} names a resource of this group")
        constraints = (Colocation(f"{group_id}-with-{clone_id}", group_id, clone_id, PROMOTED, INFINITY),)
    return Setup((Group(group_id, tuple(members)),), constraints)


def address_params(
    address: str, netmask: str | None, nic: str | None, netmask_option: str, nic_option: str | None
) -> tuple[tuple[str, str], ...]:
    """IPaddr2's parameters for ``address`` (canonical text), checked for its family."""
    version = 6 if ":" in address else 4
    params = [("ip", address)]
    if netmask is not None:
        params.append(("cidr_netmask", checks.check_prefix(netmask_option, netmask, version)))
    if nic is not None:
        if nic_option is not None:
            checks.check_ifname_option(nic_option, nic)
        params.append(("nic", nic))
    return tuple(params)


def merge_params(agent: Agent, own: list[tuple[str, str]], extra: list[str]) -> tuple[tuple[str, str], ...]:
    """Dedicated options first, then ``--param``s; a key set twice differently is an error."""
    merged = dict(own)
    for text in extra:
        key, value = checks.parse_param(text)
        if key in merged and merged[key] != value:
            raise SetupError(f"--param {text!r} contradicts {key}={merged[key]} set by another option")
        merged[key] = value
    params = tuple(merged.items())
    check_agent_params(agent, params)
    return params
