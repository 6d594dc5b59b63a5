"""The drill's steps: each acts on the cluster (a move, a kill, a crash, a cut) and checks
that the cluster did what a healthy HA setup does, recording how long it took.

A step starts from a settled cluster and leaves the lab whole again (nodes running, links up,
failure counts cleaned up), so that any step can run alone, as the tests run them.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Callable

from .. import agents
from ..idl_writer import ClientSettings
from ..lab import Lab
from ..layout import CLIENT_ADDRESS, OVNDB_VIP, PORT_TABLE, PORT_VIP, REPORT_DIR, LabError, Node
from ..network import set_client_rto_max
from .load import load_ports
from .probes import (address_marks, client_capture, client_neighbour, client_ping,
                     flush_client_neighbours, frame_senders, interface_mac, northd_pids,
                     replicating)
from .resources import DBS, DOCUMENTED, OVNDB, OVNDB_CLONE, PORT_IFACE, PORT_RSC, apply_setup
from .picture import write_picture
from .results import LONG_LIVED, StepFailed, StepResult, report_name, summary, write_details
from .runner import Runner
from .samplers import ActiveSampler
from .watch import wait_or_fail

# The stale-replica step cuts one backup's replication, whichever address it replicates from
# (our agent: the promoted node's own; OVN's: the VIP), and nothing else: Corosync must go on.
CUT_TABLE = "ocfa_cut_replication"
CUT_REPLICATION = f"""table inet {CUT_TABLE} {{
    chain out {{
        type filter hook output priority 0;
        tcp dport {{ 6641, 6642 }} reject with tcp reset
    }}
}}
"""


class Drill(Runner):
    """The scenarios: each fills in its step's result, run as ``drill.step(name,
    drill.bring_up)``; ``run_all`` runs them all in order."""

    def bring_up(self, r: StepResult) -> None:
        """``ocf-agents setup`` applies the ovndb-servers clone (or the same clone of the
        lab's agent, agents.py) with its VIP, and the OVSPort group; one node is promoted,
        the others replicate; both writing clients start."""
        t0 = time.monotonic()
        apply_setup(self.lab, self.observer(), self.profile, self.server_probe_ms)
        r.timings["setup commands"] = time.monotonic() - t0
        self.say(r.name, f"setup applied in {r.timings['setup commands']:.1f}s")
        t1 = time.monotonic()
        self.bind_port_after(t1)
        promoted = self.promoted()
        r.promoted_after = promoted.name
        r.timings["promoted+VIP"] = time.monotonic() - t1
        self.say(r.name, f"{promoted.name} promoted ({self.agent}), VIP {OVNDB_VIP} there")
        backups = [n for n in self.lab.nodes if n != promoted]
        if agents.replicated(self.agent):
            self.wait_replicating(backups)
            r.timings["backups replicating"] = time.monotonic() - t1
            self.say(r.name, f"{', '.join(n.name for n in backups)} replicating")
        if self.ports:
            t_load = time.monotonic()
            load_ports(self.ports)
            r.timings[f"{self.ports} ports loaded"] = time.monotonic() - t_load
            self.say(r.name, f"{self.ports} logical switch ports loaded through the VIP")
        view = self.wait_view("the OVSPort group started",
                              lambda v: len(v.nodes_with(PORT_RSC)) == 1)
        r.facts["port group on"] = view.nodes_with(PORT_RSC)[0]
        t2 = time.monotonic()
        self.start_clients()
        r.timings["first write"] = self.wait_write_after(t2)
        self.say(r.name, f"writer acknowledged its first write after "
                         f"{r.timings['first write']:.2f}s")
        r.timings["first long-lived write"] = self.wait_write_after(t2, client=LONG_LIVED)
        self.say(r.name, f"the long-lived client acknowledged its first write after "
                         f"{r.timings['first long-lived write']:.2f}s")
        self.count_lost(r, t0)

    def switchover(self, r: StepResult,
                   before_move: Callable[[Node], None] = lambda target: None) -> None:
        """A planned move of the promoted role: demote, then promote elsewhere; no
        acknowledged write may be lost. ``before_move(target)`` runs right before the move,
        once the target is chosen (a test withholds the hand-off's proof from it there)."""
        self.needs()
        before = self.settled()
        target = next(n for n in self.lab.nodes if n != before and replicating(self.lab, n))
        before_move(target)
        r.promoted_before = before.name
        t0, r.moments["move"] = time.monotonic(), time.time()
        self.say(r.name, f"crm_resource --move {OVNDB_CLONE} to {target.name} --promoted")
        self.lab.run(self.observer(), ["crm_resource", "--move", "-r", OVNDB_CLONE, "-N",
                                       target.name, "--promoted"])
        self.bind_port_after(t0)
        # The move's constraint is cleared once the VIP is up, as an operator would: Pacemaker
        # shows a promotion while it is still pending, and a clear then aborts the move.
        try:
            after = self.promoted(other_than=before)
            r.promoted_after = after.name
            r.timings["moved"] = time.monotonic() - t0
            r.timings["first write"] = self.wait_write_after(t0)
            self.count_transitions(r, r.moments["move"])
        finally:
            self.lab.run(self.observer(), ["crm_resource", "--clear", "-r", OVNDB_CLONE])
        self.wait_replicating([n for n in self.lab.nodes if n != after])
        self.measure_outage(r, t0)
        self.say(r.name, f"{after.name} promoted after {r.timings['moved']:.2f}s")
        self.count_lost(r, t0)
        if after != target:
            raise StepFailed(f"{after.name} was promoted, not the move's target {target.name}")
        lost = {name: tally.lost for name, tally in r.clients.items() if tally.lost}
        if lost:
            raise StepFailed("acknowledged writes lost in a planned switchover: " + ", ".join(
                f"{n} by the {name} client" for name, n in lost.items()))

    def kill_db_server(self, r: StepResult) -> None:
        """SIGKILL the northbound ovsdb-server of the promoted node: Pacemaker's monitor
        notices and recovers; how long until writes are accepted again."""
        self.needs()
        before = self.settled()
        r.promoted_before = before.name
        pid = self.lab.run(before, ["cat", "/run/ovn/ovnnb_db.pid"]).stdout.strip()
        t0, r.moments["kill"] = time.monotonic(), time.time()
        self.lab.run(before, ["kill", "-KILL", pid])
        self.bind_port_after(t0)
        self.say(r.name, f"killed ovsdb-server (NB, pid {pid} in {before.name})")
        r.timings["first write"] = self.wait_write_after(t0)
        after = self.promoted()
        r.promoted_after = after.name
        self.say(r.name, f"writes accepted again after {r.timings['first write']:.2f}s "
                         f"({after.name} promoted)")
        self.wait_replicating([n for n in self.lab.nodes if n != after])
        r.timings["all replicating"] = time.monotonic() - t0
        self.measure_outage(r, t0)
        self.count_lost(r, t0)

    def kill_northd(self, r: StepResult) -> None:
        """SIGKILL ovn-northd on the promoted node (its ``--monitor`` parent, named
        ``monitor``, restarts it only after a crash signal, not after SIGKILL): the agent's
        monitor must notice and the cluster recover it; a port created after the kill must
        come up."""
        self.needs()
        before = self.settled()
        r.promoted_before = before.name
        pids = northd_pids(self.lab).get(before.name)
        if not pids:
            raise StepFailed(f"no ovn-northd runs on the promoted node {before.name}")
        t0, r.moments["kill"] = time.monotonic(), time.time()
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        self.bind_port_after(t0)
        self.say(r.name, f"killed ovn-northd (pids {pids}) of {before.name}")
        view = self.wait_view("a failed monitor of the promoted instance", lambda v: any(
            f.startswith(f"{OVNDB}_monitor") for f in v.failures))
        r.timings["monitor failed"] = time.monotonic() - t0
        r.facts["failed"] = next(f for f in view.failures if f.startswith(f"{OVNDB}_monitor"))
        wait_or_fail("ovn-northd on the promoted node only",
                     lambda: sorted(northd_pids(self.lab)) == [self.promoted().name])
        r.timings["northd back"] = time.monotonic() - t0
        r.promoted_after = self.promoted().name
        self.say(r.name, f"the monitor failed after {r.timings['monitor failed']:.2f}s; "
                         f"ovn-northd back on {r.promoted_after} after "
                         f"{r.timings['northd back']:.2f}s")
        self.count_lost(r, t0)

    def crash_promoted(self, r: StepResult) -> None:
        """SIGKILL the promoted node's whole namespace; the cluster fences it (the device
        finds it off) before promoting another node; the time to the fence and to the first
        write accepted by the new promoted node, and the acknowledged writes that did not
        survive. Then the node boots again and must rejoin as a replicating backup."""
        before = self.settled()
        r.promoted_before = before.name
        t0 = time.monotonic()
        r.moments["crash"] = time.time()
        self.lab.crash(before)
        self.bind_port_after(t0)
        self.say(r.name, f"crashed {before.name}")
        r.timings["first write"] = self.wait_write_after(t0)
        after = self.promoted(other_than=before)
        r.promoted_after = after.name
        r.timings["promoted elsewhere"] = time.monotonic() - t0
        self.say(r.name, f"{after.name} promoted; first write accepted after "
                         f"{r.timings['first write']:.2f}s")
        self.wait_fenced(r, before, r.moments["crash"])
        r.timings["fenced to first write"] = r.timings["first write"] - r.timings["fenced"]
        self.count_transitions(r, r.moments["crash"])
        self._rejoin(r, before)
        self.measure_outage(r, t0)
        self.count_lost(r, t0)

    def _rejoin(self, r: StepResult, node: Node) -> None:
        """Boot a crashed node: it must come back as a backup replicating from the VIP."""
        t0 = time.monotonic()
        self.lab.start(node)
        self.wait_view(f"{node.name} back unpromoted",
                       lambda v: node.name in v.nodes_with(OVNDB, "Unpromoted"))
        self.wait_replicating([node])
        r.timings["rejoined"] = time.monotonic() - t0
        r.facts["rejoined as"] = ("replicating backup" if agents.replicated(self.agent)
                                  else "unpromoted")
        self.say(r.name, f"{node.name} rejoined as {r.facts['rejoined as']} after "
                         f"{r.timings['rejoined']:.2f}s")

    def stale_replica(self, r: StepResult) -> None:
        """Cut one backup's replication, keep writing, crash the promoted node: the fresh
        backup must be promoted, not the stale one."""
        self.needs(nodes=3)
        before = self.settled()
        r.promoted_before = before.name
        stale, fresh = [n for n in self.lab.nodes if n != before]
        self.say(r.name, f"cutting {stale.name}'s replication (database ports refused, "
                         f"connections dropped)")
        self.lab.run(stale, ["nft", "-f", "-"], input=CUT_REPLICATION)
        try:
            for db in DBS:  # established sessions outlive a new rule: reconnect (refused now)
                self.lab.run(stale, ["ovs-appctl", "-t", f"/run/ovn/{db}.ctl",
                                     "ovsdb-server/connect-active-ovsdb-server"])
            t_cut = time.monotonic()
            self.wait_stale(stale, fresh)
            self.say(r.name, f"{stale.name} scored {self.score(stale)}, "
                             f"{fresh.name} {self.score(fresh)}")
            self.wait_write_after(time.monotonic())  # a write the stale one cannot have
            r.facts["stale"], r.facts["fresh"] = stale.name, fresh.name
            t0 = time.monotonic()
            r.timings["cut before crash"] = t0 - t_cut
            r.moments["crash"] = time.time()
            self.lab.crash(before)
            self.bind_port_after(t0)
            self.say(r.name, f"crashed {before.name}")
            after = self.promoted(other_than=before)
            r.promoted_after = after.name
            r.timings["promoted elsewhere"] = time.monotonic() - t0
            r.timings["first write"] = self.wait_write_after(t0)
            self.say(r.name, f"{after.name} promoted after {r.timings['promoted elsewhere']:.2f}s")
        finally:
            self.lab.run(stale, ["nft", "delete", "table", "inet", CUT_TABLE], check=False)
        if after != fresh:
            raise StepFailed(f"the stale replica {stale.name} was promoted")
        self.wait_fenced(r, before, r.moments["crash"])
        self._rejoin(r, before)
        self.wait_replicating([stale])
        self.measure_outage(r, t0)
        self.count_lost(r, t0)

    def partition(self, r: StepResult) -> None:
        """Cut the promoted node off a 3-node cluster: the majority fences it (powered off:
        the lab's fence device kills it as ``lab crash`` does), then promotes another node;
        never two databases active at once, let alone accepting writes; the fenced node then
        boots again and rejoins as a backup."""
        self.needs(nodes=3)
        before = self.settled()
        r.promoted_before = before.name
        with ActiveSampler(self.lab) as sampler:
            t0 = time.monotonic()
            r.moments["cut"] = time.time()
            self.lab.isolate(before)
            self.bind_port_after(t0)
            self.say(r.name, f"isolated {before.name}")
            after = self.promoted(exclude=before, other_than=before)
            r.promoted_after = after.name
            r.timings["majority promoted"] = time.monotonic() - t0
            self.wait_fenced(r, before, r.moments["cut"])
            self.say(r.name, f"majority promoted {after.name} after "
                             f"{r.timings['majority promoted']:.2f}s")
            r.timings["first write"] = self.wait_write_after(t0)
        r.facts["max writable at once"] = sampler.max_writable
        r.facts["max active at once"] = sampler.max_active
        r.facts["max VIP holders at once"] = sampler.max_vip_holders
        self.lab.heal(before)  # its links: a fenced node got a fresh network namespace
        self._rejoin(r, before)
        self.measure_outage(r, t0)
        self.count_lost(r, t0)
        if sampler.max_writable > 1:
            raise StepFailed(f"{sampler.max_writable} nodes that clients could reach accepted "
                             f"writes through the VIP at the same time ({sampler.overlap})")
        if sampler.max_active > 1:
            raise StepFailed(f"{sampler.max_active} servers were active at once for about "
                             f"{sampler.active_overlap_s:.1f}s although the cut-off node was "
                             "to be fenced before another was promoted")

    def port_failover(self, r: StepResult) -> None:
        """Crash the node that holds the OVSPort group: the port, its MAC and its address
        move together, so the client's neighbour entry stays right and traffic resumes. Each
        node has an interface of its own in the port's subnet on the same bridge
        (docs/ovsport-guide.md's shared bridge): before and after the move, every ARP reply
        for the address and every frame from it carries the port's MAC."""
        view = self.wait_view("the OVSPort group placed",
                              lambda v: len(v.nodes_with(PORT_RSC)) == 1)
        holder = self.lab.node(view.nodes_with(PORT_RSC)[0])
        r.promoted_before = f"port@{holder.name}"
        if not client_ping(PORT_VIP):
            raise StepFailed(f"{PORT_VIP} does not answer the client before the fail-over")
        mac_before = client_neighbour(PORT_VIP)
        r.facts["MAC before"] = mac_before
        self.check_port_frames(r, holder, "before")
        t0 = time.monotonic()
        r.moments["crash"] = time.time()
        self.lab.crash(holder)
        self.say(r.name, f"crashed {holder.name}, which held {PORT_RSC} ({mac_before})")
        wait_or_fail(f"{PORT_VIP} to answer again", lambda: client_ping(PORT_VIP), interval=0)
        r.timings["traffic resumed"] = time.monotonic() - t0
        mac_after = client_neighbour(PORT_VIP)
        r.facts["MAC after"] = mac_after
        view = self.wait_view("the OVSPort group started elsewhere",
                              lambda v: v.nodes_with(PORT_RSC) not in ([], [holder.name]),
                              exclude=holder)
        new_holder = self.lab.node(view.nodes_with(PORT_RSC)[0])
        r.promoted_after = f"port@{new_holder.name}"
        self.wait_fenced(r, holder, r.moments["crash"])
        self.say(r.name, f"traffic resumed after {r.timings['traffic resumed']:.2f}s, "
                         f"neighbour entry {mac_after}")
        if mac_after != mac_before:
            raise StepFailed(f"the client's neighbour entry changed: {mac_before} -> {mac_after}")
        self.wait_source_routed(new_holder)
        r.timings["routed from the port"] = time.monotonic() - t0
        self.check_port_frames(r, new_holder, "after")
        # The crashed node may have held the promoted databases too: count what that lost.
        self.promoted(exclude=holder)
        self.count_lost(r, t0)

    def wait_source_routed(self, holder: Node) -> None:
        """Until the OVSPort resource on ``holder`` routes traffic from its address through
        its own table (the rule follows IPaddr2's address from the port's next monitor)."""
        wait_or_fail(f"a rule from {PORT_VIP} to table {PORT_TABLE} on {holder.name}",
                     lambda: f"lookup {PORT_TABLE}" in self.lab.run(
                         holder, ["ip", "rule", "show", "from", PORT_VIP]).stdout)

    def check_port_frames(self, r: StepResult, holder: Node, when: str) -> None:
        """The client asks for the port's address and pings it, and ``holder`` pings the
        client from it (asking for the client's MAC first): every frame answering for the
        address or sent from it must carry the port's MAC, none the node's own interfaces'."""
        port_mac = interface_mac(holder, PORT_IFACE)
        self.wait_source_routed(holder)
        flush_client_neighbours()
        with client_capture(f"arp or src host {PORT_VIP}") as pcap:
            client_ping(PORT_VIP)
            self.lab.run(holder, ["ip", "neigh", "flush", "dev", PORT_IFACE])
            self.lab.run(holder, ["ping", "-c", "1", "-W", "2", "-I", PORT_VIP, CLIENT_ADDRESS],
                         check=False)
        senders = frame_senders(pcap, address_marks(PORT_VIP))
        r.facts[f"frames {when}"] = ", ".join(
            f"{kind} {'/'.join(sorted(macs)) or 'none'}" for kind, macs in senders.items())
        wrong = {kind: macs - {port_mac} for kind, macs in senders.items() if macs - {port_mac}}
        missing = [kind for kind, macs in senders.items() if not macs]
        if wrong or missing:
            raise StepFailed(f"{when} the move, on {holder.name} (port MAC {port_mac}): "
                             f"frames for {PORT_VIP} from other MACs {wrong or 'none'}, "
                             f"kinds not seen {missing or 'none'}")

    STEPS: dict[str, str] = {
        "switchover": "switchover",
        "kill-db-server": "kill_db_server",
        "kill-northd": "kill_northd",
        "crash-promoted": "crash_promoted",
        "stale-replica": "stale_replica",
        "partition": "partition",
        "port-failover": "port_failover",
    }

    def run_all(self, only: list[str] | None = None) -> bool:
        """The bring-up, then the steps (``only`` those, if given); True if all went well."""
        try:
            if not self.step("bring-up", self.bring_up).ok:
                return False
            for name, method in self.STEPS.items():
                if not only or name in only:
                    self.step(name, getattr(self, method))
        finally:
            self.stop_clients()
        return all(r.ok for r in self.results)


def run_drill(lab: Lab, only: list[str] | None = None, ports: int = 0,
              client_rto_max_ms: int | None = None, client: ClientSettings = ClientSettings(),
              profile: str = DOCUMENTED, report_dir: str = REPORT_DIR,
              server_probe_ms: int | None = None) -> int:
    """``ocf-agents drill``: the steps, the summary, its details file and the steps' picture
    in ``report_dir`` (on a database of ``ports`` logical switch ports, the long-lived client
    run as ``client`` says, the clients' TCP retransmission timeout capped at
    ``client_rto_max_ms``, the bring-up's ``profile``, the servers probing clients every
    ``server_probe_ms``); the exit status."""
    unknown = set(only or ()) - set(Drill.STEPS)
    if unknown:
        raise LabError(f"unknown step {', '.join(sorted(unknown))} "
                       f"(steps: {', '.join(Drill.STEPS)})")
    if client_rto_max_ms is not None:
        set_client_rto_max(client_rto_max_ms)
    drill = Drill(lab, ports=ports, client=client, profile=profile,
                  server_probe_ms=server_probe_ms)
    ok = drill.run_all(only)
    name = report_name()
    details = saved(lambda: write_details(drill, report_dir, name))
    picture = saved(lambda: write_picture(drill.results, report_dir, name))
    print("\n" + summary(drill, details, picture))
    return 0 if ok else 1


def saved(write: Callable[[], str]) -> str:
    """The path ``write`` wrote to, or why it could not: the summary matters more than the
    files beside it, and is printed all the same."""
    try:
        return write()
    except OSError as err:
        return f"not written ({err})"
