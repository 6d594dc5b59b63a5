"""ovndb-servers' parameters and actions, as ``meta-data`` prints them, with the checks that
make a value wrong for every host (each validator raises ValueError saying why)."""

from __future__ import annotations

from ocf_agents import __version__
from ocf_agents.ocf.metadata import PROMOTED, UNPROMOTED, Action, MetaData, Parameter

PROTOCOLS = ("tcp", "ssl")
MAX_PORT = 65535


def check_ip(value: str) -> None:
    """An IPv4 or IPv6 address, as the kernel reads one (no host names, no zone ids)."""
    import _socket as socket  # the C module: socket.py pulls enum and selectors into every action

    family = socket.AF_INET6 if ":" in value else socket.AF_INET
    try:
        socket.inet_pton(family, value)
    except OSError:
        raise ValueError("it is not an IPv4 or IPv6 address") from None


def check_port(value: int) -> None:
    if not 1 <= value <= MAX_PORT:
        raise ValueError(f"a TCP port is between 1 and {MAX_PORT}")


def check_protocol(value: str) -> None:
    if value not in PROTOCOLS:
        raise ValueError("it must be tcp or ssl")


def check_milliseconds(value: int) -> None:
    if value < 0:
        raise ValueError("an interval in milliseconds cannot be negative (0 disables probes)")


def check_absolute_path(value: str) -> None:
    if not value.startswith("/") or any(ord(c) < 32 for c in value):
        raise ValueError("it must be an absolute path")


def check_nic(value: str) -> None:
    """A network device's name, as the kernel takes one (IFNAMSIZ: 15 bytes)."""
    from ocf_agents.net.names import check_ifname

    check_ifname(value)


def check_prefix_length(value: int) -> None:
    """A prefix length of either family; held_ip.py checks it against master_ip's."""
    if not 1 <= value <= 128:
        raise ValueError("a prefix length is between 1 and 32 (IPv4) or 128 (IPv6)")


def check_score(value: int) -> None:
    if not 0 <= value <= 1000000:
        raise ValueError("a promotion score is between 0 and 1000000")


def _ssl_files(db: str, long_name: str) -> tuple[Parameter, ...]:
    """The key, certificate and CA certificate parameters of one database (as upstream)."""
    files = (
        ("privkey", "private key", f"ovn{db}-privkey.pem"),
        ("cert", "certificate", f"ovn{db}-cert.pem"),
        ("cacert", "CA certificate", "cacert.pem"),
    )
    return tuple(
        Parameter(
            f"ovn_{db}_db_{suffix}",
            f"OVN {db.upper()} DB {what} file",
            f"Absolute path of the {long_name} database's {what} (PEM), used when "
            f"{db}_master_protocol is ssl: for listening and for replicating from the "
            "promoted node. Checked to exist on this host when the protocol is ssl.",
            default=f"/etc/openvswitch/{name}",
            validate=check_absolute_path,
        )
        for suffix, what, name in files
    )


METADATA = MetaData(
    name="ovndb-servers",
    version=__version__,
    shortdesc="OVN northbound and southbound databases, active on the promoted node",
    longdesc=(
        "Manages OVN's two ovsdb-server databases (OVN_Northbound and OVN_Southbound) as a "
        "promotable clone: the promoted node's servers are active and accept writes, the "
        "unpromoted nodes' servers are backups replicating from master_ip, the address that "
        "follows the promoted instance (an IPaddr2 VIP colocated with the promoted role, or "
        "a load balancer with listen_on_master_ip_only=no). Configure it with notify=true. "
        "A drop-in replacement for OVN's ocf:ovn:ovndb-servers (same parameters), which "
        "also: reads the servers' state from their control sockets; reports mixed and "
        "half-dead states instead of calling them stopped; never returns promoted from "
        "start; promotes synchronously; prefers the replica with the freshest data when "
        "choosing whom to promote; in a planned switchover, copies the demoted node's final "
        "data before taking writes; and never lets a backup replicate from itself."
    ),
    parameters=(
        Parameter(
            "ovn_ctl",
            "ovn-ctl script",
            "Path of OVN's ovn-ctl script, used to start and stop the servers (and "
            "ovn-northd when manage_northd=yes).",
            default="/usr/share/ovn/scripts/ovn-ctl",
            validate=check_absolute_path,
        ),
        Parameter(
            "master_ip",
            "Address of the promoted node",
            "The IP address (IPv4 or IPv6) that reaches the promoted node's databases: the "
            "virtual IP colocated with the promoted role, or a load balancer's address. "
            "Backups replicate from it. With listen_on_master_ip_only=yes the databases "
            "also listen on it, and the promoted node's Connection rows name it. Required "
            "(OVN's agent accepted it empty and then never replicated).",
            validate=check_ip,
        ),
        Parameter(
            "nb_master_port",
            "Northbound database port",
            "TCP port the northbound database listens on and backups replicate from.",
            type="integer",
            default="6641",
            validate=check_port,
        ),
        Parameter(
            "nb_master_protocol",
            "Northbound database protocol",
            "tcp or ssl: how the northbound database listens and how backups replicate.",
            default="tcp",
            validate=check_protocol,
        ),
        Parameter(
            "sb_master_port",
            "Southbound database port",
            "TCP port the southbound database listens on and backups replicate from.",
            type="integer",
            default="6642",
            validate=check_port,
        ),
        Parameter(
            "sb_master_protocol",
            "Southbound database protocol",
            "tcp or ssl: how the southbound database listens and how backups replicate.",
            default="tcp",
            validate=check_protocol,
        ),
        Parameter(
            "manage_northd",
            "Run ovn-northd on the promoted node",
            "yes: ovn-northd runs on the promoted node only (started on promote, stopped on "
            "demote and stop), and a promoted instance without it is failed.",
            type="boolean",
            default="no",
        ),
        Parameter(
            "inactive_probe_interval",
            "Client inactivity probe (ms)",
            "inactivity_probe, in milliseconds, of the Connection rows the promoted node "
            "writes for both databases (0 disables it). Applied to existing rows too.",
            type="integer",
            default="5000",
            validate=check_milliseconds,
        ),
        Parameter(
            "inactive_probe_interval_to_master",
            "Backup-to-promoted probe (ms)",
            "Inactivity probe, in milliseconds, of a backup's replication connection to the "
            "promoted node (0 disables it).",
            type="integer",
            default="60000",
            validate=check_milliseconds,
        ),
        Parameter(
            "listen_on_master_ip_only",
            "Listen on master_ip only",
            "yes: the databases listen on master_ip (use with a VIP colocated with the "
            "promoted role). no: load-balancer mode: they listen on listen_ip (by default "
            "0.0.0.0), backups ignore the Connection rows, and the promoted node's rows "
            "target that address.",
            type="boolean",
            default="yes",
        ),
        Parameter(
            "hold_master_ip",
            "The promoted instance holds master_ip itself",
            "yes (with listen_on_master_ip_only=yes): promote adds master_ip to master_ip_nic "
            "with prefix master_ip_cidr_netmask and announces it (a gratuitous ARP, or an "
            "unsolicited neighbour advertisement for IPv6), demote and stop remove it, the "
            "promoted monitor checks it is there, and a probe that finds it on a node that is "
            "not promoted reports an error (Pacemaker then stops the instance, which removes "
            "it). Use it instead of an IPaddr2 resource and its constraints: a switchover is "
            "then demote and promote, two rounds of actions (docs/guide.md). A demote that cannot "
            "remove the address fails, and Pacemaker's recovery (stop, or fencing) takes it away. "
            "no: an IPaddr2 resource or a load balancer moves master_ip.",
            type="boolean",
            default="no",
        ),
        Parameter(
            "master_ip_nic",
            "Interface of a held master_ip",
            "With hold_master_ip=yes: the network device master_ip is added to (IPaddr2's nic), "
            "on every node.",
            validate=check_nic,
        ),
        Parameter(
            "master_ip_cidr_netmask",
            "Prefix length of a held master_ip",
            "With hold_master_ip=yes: master_ip's prefix length (IPaddr2's cidr_netmask), 1 to "
            "32 for IPv4, 1 to 128 for IPv6.",
            type="integer",
            validate=check_prefix_length,
        ),
        Parameter(
            "reset_clients",
            "Reset the lost promoted node's clients",
            "yes (with listen_on_master_ip_only=yes): the promoted node's monitor publishes "
            "its clients' long-lived sessions to master_ip (client address and port, at most "
            "128, in a permanent node attribute <resource>-clients, written only when they "
            "change), and a new promoted node, once master_ip is up on it, announces it and "
            "sends each session of the other nodes' clients a TCP SYN from it: the client answers it, this "
            "node answers that with a reset, and the client reconnects at once instead of "
            "retransmitting into a crashed node for 6 to 13 s. Needs raw sockets (root). no: "
            "nothing is published or sent (docs/guide.md).",
            type="boolean",
            default="yes",
        ),
        *_ssl_files("nb", "northbound"),
        *_ssl_files("sb", "southbound"),
        Parameter(
            "listen_ip",
            "Listening address in load-balancer mode",
            "With listen_on_master_ip_only=no: the address the databases listen on instead of "
            "0.0.0.0 (for example this node's own address, so that the databases are not "
            "exposed on every interface). Ignored with listen_on_master_ip_only=yes.",
            validate=check_ip,
        ),
        Parameter(
            "nowhere_ip",
            "Address a backup waits on when nobody is promoted",
            "A backup started while no node is promoted is pointed at this address, where "
            "no database answers, so that it keeps its data until a promoted node exists "
            "(an empty replica would otherwise be copied over it). OVN's agent hard-codes "
            "192.0.2.254 (TEST-NET-1, RFC 5737). It must not reach this node's own "
            "databases: a backup that replicates from itself turns itself active.",
            default="192.0.2.254",
            validate=check_ip,
        ),
        Parameter(
            "ovn_rundir",
            "Run directory (OVN_RUNDIR)",
            "Directory of the servers' pidfiles, database sockets and control sockets, "
            "passed to ovn-ctl as OVN_RUNDIR. Different per instance when several run on "
            "one host.",
            default="/var/run/ovn",
            validate=check_absolute_path,
        ),
        Parameter(
            "ovn_dbdir",
            "Database directory (OVN_DBDIR)",
            "Directory of the database files ovnnb_db.db and ovnsb_db.db, passed to ovn-ctl "
            "as OVN_DBDIR.",
            default="/var/lib/ovn",
            validate=check_absolute_path,
        ),
        Parameter(
            "ovn_logdir",
            "Log directory (OVN_LOGDIR)",
            "Directory of the servers' log files, passed to ovn-ctl as OVN_LOGDIR.",
            default="/var/log/ovn",
            validate=check_absolute_path,
        ),
        Parameter(
            "ovn_sysconfdir",
            "System configuration directory (OVN_SYSCONFDIR)",
            "Directory whose ovn/ subdirectory holds ovn-ctl's replication settings "
            "(ovnnb-active.conf, ovnsb-active.conf), passed to ovn-ctl as OVN_SYSCONFDIR.",
            default="/etc",
            validate=check_absolute_path,
        ),
        Parameter(
            "promoted_score",
            "Promotion score of the promoted node",
            "Promotion score the promoted node keeps (OVN's agent: 10).",
            type="integer",
            default="10",
            validate=check_score,
        ),
        Parameter(
            "replicating_score",
            "Promotion score of a replicating backup",
            "Promotion score of a backup that replicates from the promoted node, and of the "
            "last promoted node when nobody is promoted (OVN's agent: 5 for every backup). "
            "Equal to promoted_score by default: on a tie Pacemaker keeps the promoted instance "
            "where it is (it prefers the current role), and a switchover then changes no score. "
            "A score written while Pacemaker runs a transition aborts it: with a lower value "
            "every switchover takes two transitions more.",
            type="integer",
            default="10",
            validate=check_score,
        ),
        Parameter(
            "stale_score",
            "Promotion score of a backup that does not replicate",
            "Promotion score of a backup whose data may be behind: one pointed at nowhere_ip, "
            "or not connected to the promoted node. Lower than replicating_score, so that "
            "Pacemaker promotes a stale replica only when no fresh one is available.",
            type="integer",
            default="1",
            validate=check_score,
        ),
    ),
    actions=(
        Action("start", timeout=30),
        Action("stop", timeout=20),
        Action("promote", timeout=50),
        Action("demote", timeout=50),
        Action("notify", timeout=20),
        # 10 s unpromoted: that monitor records a backup's data position, whose precision the
        # election and the grace of a cut-off backup depend on; 15 s promoted, as OVN's
        # integration guide and `ocf-agents setup` (OVN's own meta-data says 10 s / 30 s).
        Action("monitor", timeout=20, interval=15, role=PROMOTED, depth=0),
        Action("monitor", timeout=20, interval=10, role=UNPROMOTED, depth=0),
        Action("meta-data", timeout=5),
        Action("validate-all", timeout=20),
    ),
)
