"""docs/runbook.md's upgrade procedures, each run as the runbook writes it (its pcs commands,
inside a node) in a real 3-node lab, with the drill's two clients writing through the VIP
throughout and every acknowledged write checked after each node's turn.

**Upgrading the agent**: a rolling upgrade from release 0.1.0 (:data:`RELEASE_0_1_0`, tagged
``v0.1.0``), node by node, the backups first, then the promoted role moved to an upgraded
node, then the node that held it. 0.1.0 is the release whose published forms differ most from
this one's: its nodes publish their data position without the ``held=`` barrier and commit
barriers as ``<node>:<ms>`` (this version: ``<counter>:<ms>:<node>``), and it knows nothing of
``held=``, which it would take for an address or an offer. So the lab runs both releases at
once, each node its own (Lab.replace_in: 0.1.0's agents in place of the provider directory,
inside that node only, taken from git history by commit), and after each turn every node's
published position is parsed by each release's own code, which must find in it what the
writing node meant, for what each release acts on (:func:`acted_on`). The new promoted node
must hold the 0.1.0 node's final barrier without a copy, and commit no second one.

**Upgrading OVN**: the lab has one OVN, so the cluster first runs an older schema of both
databases (:func:`older_schema`: the installed one without what OVN 22.12 added, bound over the
installed schema in every node, where ovn-ctl creates the databases from it), and "upgrading
OVN" on a node is removing that bind. Node by node, the backups first, then the promoted node
(its standby is the switchover): ovn-ctl's start converts the node's database files to the
installed schema as the agent starts the servers, a converted backup replicates from the active
server of the older schema (ovsdb-server replicates from an older schema, not from a newer one),
and at the end every database runs the installed schema with every write in it.

The module's lab is taken down afterwards (the binds die with its nodes). The old release is
read with git: a checkout without it (a shallow clone, an unpacked tarball) skips this module,
saying so.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest
from lab_pool import REPO, LabPool, brought_up_drill
from test_switchover_fallback import HELD, AgentLog

from ocf_agents import __version__
from ocf_agents.agents.ovndb.barrier import KEY
from ocf_agents.agents.ovndb.position import attribute_of
from ocf_agents.lab.drill import OVNDB, Drill, StepFailed, StepResult, summary
from ocf_agents.lab.drill.resources import OVNDB_CLONE, UNPROMOTED_MONITOR_S
from ocf_agents.lab.lab import CHECKOUT, OCF_ROOT, Lab, checkout_agents, link_agents
from ocf_agents.lab.layout import LabError, Node
from ocf_agents.lab.proc import wait_until
from ocf_agents.status.model import parse_attrd

RELEASE_0_1_0 = "e1a9a21d980b1b8a13d344321250b5386658959d"  # v0.1.0
SCHEMAS = Path("/usr/share/ovn")
# What OVN 22.12 added to both schemas (ovn-org/ovn, v22.09.0..v22.12.0), and 22.09's versions:
# the older schema the lab's cluster starts on.
ADDED_TABLES = ("Mirror", "Chassis_Template_Var")
ADDED_COLUMNS = {"ovn-nb": ("Logical_Switch_Port", "mirror_rules"), "ovn-sb": ("Port_Binding", "mirror_rules")}
OLDER_VERSIONS = {"ovn-nb": "6.3.0", "ovn-sb": "20.25.0"}
DATABASES = {"ovn-nb": ("ovnnb_db", "OVN_Northbound"), "ovn-sb": ("ovnsb_db", "OVN_Southbound")}
SETTLE_S = 2 * UNPROMOTED_MONITOR_S + 10
WAIT_S = "120"  # pcs --wait: a turn's transition (a standby's demote and promotion) ends well before
# 0.1.0's and this version's code alike parse every node's published position.
READ = """import json, sys
sys.path.insert(0, sys.argv[1])
from ocf_agents.agents.ovndb.position import parse_published
published = {node: parse_published(text) for node, text in json.load(sys.stdin).items()}
print(json.dumps({node: [*p.position, p.address, p.offer] for node, p in published.items()}))
"""


def git(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, timeout=120, check=False)


def release(commit: str, name: str, into: Path) -> Path:
    """The tree of ``commit`` (release ``name``) from the checkout's git history, in
    ``into``; the module is skipped, saying why, when the history does not hold it."""
    if shutil.which("git") is None:
        pytest.skip(f"git is not installed: the rolling upgrade starts from release {name}, "
                    f"read from this checkout's history (commit {commit})")
    if git("rev-parse", "--git-dir").returncode != 0:
        pytest.skip(f"{REPO} is not a git checkout: the rolling upgrade starts from release {name} "
                    f"(commit {commit}), read from its history")
    if git("cat-file", "-e", f"{commit}^{{commit}}").returncode != 0:
        shallow = git("rev-parse", "--is-shallow-repository").stdout.strip() == b"true"
        pytest.skip(f"commit {commit} (release {name}, where the rolling upgrade starts) is not in "
                    f"this clone's history{' (a shallow clone: git fetch --unshallow)' if shallow else ''}")
    archive = git("archive", "--format=tar", commit)
    assert archive.returncode == 0, archive.stderr
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True, timeout=60)
    return into


def older_schema(name: str) -> dict:
    """The installed schema ``name`` without what OVN 22.12 added, at 22.09's version: an
    older schema that every later one converts from (columns and tables added)."""
    schema = json.loads((SCHEMAS / f"{name}.ovsschema").read_text())
    table, column = ADDED_COLUMNS[name]
    if not all(t in schema["tables"] for t in ADDED_TABLES) or column not in schema["tables"][table]["columns"]:
        pytest.skip(f"the installed {name} schema ({schema['version']}) is older than OVN 22.12's, "
                    "from which the test's older schema removes what 22.12 added")
    for added in ADDED_TABLES:
        del schema["tables"][added]
    del schema["tables"][table]["columns"][column]
    schema.pop("cksum", None)
    return {**schema, "version": OLDER_VERSIONS[name]}


@pytest.fixture(scope="module")
def release_0_1_0(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return release(RELEASE_0_1_0, "0.1.0", tmp_path_factory.mktemp("release-0.1.0"))


@pytest.fixture(scope="module")
def old_agents(release_0_1_0: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A provider directory of 0.1.0's agents (links into its tree)."""
    provider = tmp_path_factory.mktemp("release-0.1.0-provider")
    link_agents(provider, checkout_agents(release_0_1_0))
    return provider


@pytest.fixture(scope="module")
def old_schemas(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, Path]:
    """Installed schema file -> the older schema's file."""
    directory = tmp_path_factory.mktemp("older-ovn-schemas")
    files = {}
    for name in DATABASES:
        older = directory / f"{name}.ovsschema"
        older.write_text(json.dumps(older_schema(name), indent=1))
        files[SCHEMAS / older.name] = older
    return files


def provider_dir(lab: Lab) -> Path:
    return OCF_ROOT / "resource.d" / lab.state.provider


@pytest.fixture(scope="module")
def drill(lab_pool: LabPool, old_agents: Path, old_schemas: dict[Path, Path]) -> Iterator[Drill]:
    """The documented configuration brought up on 0.1.0's agents and the older OVN schemas,
    on every node."""
    def install_old(lab: Lab) -> None:
        for node in lab.nodes:
            lab.replace_in(node, provider_dir(lab), old_agents)
            for installed, older in old_schemas.items():
                lab.replace_in(node, installed, older)

    with brought_up_drill(lab_pool, 3, prepare=install_old) as drill:
        yield drill


def pcs(drill: Drill, *args: str) -> None:
    """A runbook command, run on a node that is up."""
    drill.lab.run(drill.observer(), ["pcs", *args], timeout=int(WAIT_S) + 30)


def upgrade(drill: Drill, node: Node, install: Callable[[Node], None]) -> None:
    """One node's turn, as docs/runbook.md has it: standby (its instance stops, demoted first
    and the promoted role moved elsewhere when it held it), ``install``, unstandby; returns once
    the node is a replicating backup again."""
    pcs(drill, "node", "standby", node.name, f"--wait={WAIT_S}")
    drill.wait_view(f"{node.name} in standby", lambda v: node.name not in v.nodes_with(OVNDB))
    drill.promoted()
    install(node)
    pcs(drill, "node", "unstandby", node.name, f"--wait={WAIT_S}")
    drill.wait_view(f"{node.name} back unpromoted", lambda v: node.name in v.nodes_with(OVNDB, "Unpromoted"))
    drill.wait_replicating([node])


def nothing_lost_nor_failed(drill: Drill, r: StepResult, since: float, turn: str) -> None:
    """After ``turn``: no acknowledged write missing, no failed action."""
    drill.count_lost(r, since)
    lost = {name: tally.lost for name, tally in r.clients.items() if tally.lost}
    if lost:
        raise StepFailed(f"{turn}: acknowledged writes lost: {lost}")
    failures = drill.lab.view(drill.observer()).failures
    if failures:
        raise StepFailed(f"{turn}: failed actions: {' | '.join(failures)}")


def status_seen(drill: Drill, node: Node, turn: str, old: frozenset[str] = frozenset()) -> None:
    """``ocf-agents status`` as the runbook has the operator run it on ``node`` (this
    checkout's, by the system python3), printed once it reads every node, of either version,
    and finds no reason not to promote a replicating backup but, on the nodes that run 0.1.0
    (``old``), their version's lower score. Within two monitors: a backup just started scores
    stale until a monitor finds it connected, when its start did not within a second or two."""
    command = ["env", f"PYTHONPATH={REPO}", "/usr/bin/python3", "-B", "-m", "ocf_agents.cli", "status"]
    seen: list[object] = []

    def as_expected() -> bool:
        answer = drill.lab.run(node, [*command, "--json"], check=False, timeout=60)
        data = json.loads(answer.stdout) if answer.stdout.strip() else {"problems": [answer.describe()], "nodes": []}
        seen[:] = data["problems"] or {n["name"]: n["why_not"] for n in data["nodes"] if n["role"] == "Unpromoted" and [
            why for why in n["why_not"] if n["name"] not in old or not why.startswith("score ")]}
        return not seen

    try:
        wait_until(f"ocf-agents status on {node.name}", as_expected, SETTLE_S, 1.0)
    except LabError:
        raise StepFailed(f"{turn}: ocf-agents status on {node.name} after {SETTLE_S} s: {seen}") from None
    print(f"--- {turn}: ocf-agents status on {node.name}\n{drill.lab.run(node, command, check=False).stdout}")


def agent_version(drill: Drill, node: Node) -> str:
    """The version of the agent ``node`` runs, as the runbook has the operator read it."""
    metadata = drill.lab.run(node, ["crm_resource", "--show-metadata",
                                    f"ocf:{drill.lab.state.provider}:ovndb-servers"]).stdout
    return re.search(r'<resource-agent name="ovndb-servers" version="([^"]+)"', metadata).group(1)


def acted_on(fields: list, promoted: bool) -> tuple:
    """What an agent does with a node's published position, 0.1.0's code and this one's alike:
    its time position (the election); the promoted node's address, which the backups
    replicate from; another node's hand-off offer, its address and barrier (a demoted node's,
    read in an election and in a post-demote notification). A promoted node is asked for no
    offer: its demote publishes one first. (0.1.0 takes this version's ``held=`` for the
    offer of a promoted node, and for the address of a backup, which it never reads.)"""
    ms, was_promoted, interval, address, offer = fields
    if promoted:
        return ms, was_promoted, interval, address
    return ms, was_promoted, interval, (address, offer) if address and offer else None


def misreadings(drill: Drill, runs: dict[Node, Path]) -> list[str]:
    """Every node's published position as each release running now parses it, where one
    finds something else than the others in what :func:`acted_on` names; empty: none."""
    attrd = drill.lab.run(drill.observer(), ["attrd_updater", "-Q", "-A", "-n", attribute_of(OVNDB)])
    published = parse_attrd(attrd.stdout)
    promoted = drill.promoted().name
    readings = {}
    for tree in set(runs.values()):
        read = subprocess.run([sys.executable, "-I", "-c", READ, str(tree)], input=json.dumps(published),
                              capture_output=True, text=True, check=True, timeout=30)
        readings[tree] = json.loads(read.stdout)
    return [f"{node} published {text!r}, read as " + " / ".join(
                f"{acted_on(reading[node], node == promoted)} by {tree}" for tree, reading in readings.items())
            for node, text in published.items()
            if len({acted_on(reading[node], node == promoted) for reading in readings.values()}) > 1]


def barrier_of(drill: Drill, node: Node) -> str:
    """The barrier ``node``'s northbound database holds."""
    value = drill.lab.run(node, ["ovn-nbctl", "--db=unix:/run/ovn/ovnnb_db.sock", "--if-exists", "get",
                                 "NB_Global", ".", f"external_ids:{KEY}"]).stdout
    return value.strip().strip('"')


def rolling_agent_upgrade(drill: Drill, r: StepResult, old_tree: Path, old_agents: Path) -> None:
    """docs/runbook.md, "Upgrading the agent", from 0.1.0 (``old_tree``, its agents in the
    provider directory ``old_agents``) on every node."""
    lab = drill.lab
    versions = {old_tree: "0.1.0", CHECKOUT: __version__}
    runs = dict.fromkeys(lab.nodes, old_tree)  # the release each node's agents come from
    promoted = drill.settled()
    r.promoted_before = promoted.name
    t0 = time.monotonic()
    drill.bind_port_after(t0)

    def install_current(node: Node) -> None:
        lab.replace_in(node, provider_dir(lab), None)
        runs[node] = CHECKOUT

    def check(turn: str) -> None:
        running = {node: agent_version(drill, node) for node in lab.nodes}
        wrong = [f"{n.name} runs {version}" for n, version in running.items() if version != versions[runs[n]]]
        misread = misreadings(drill, runs)
        if wrong or misread:
            raise StepFailed(f"{turn}: {'; '.join(wrong + misread)}")
        nothing_lost_nor_failed(drill, r, t0, turn)
        upgraded = [node for node in lab.nodes if runs[node] == CHECKOUT]
        if upgraded:  # 0.1.0 has no status command
            status_seen(drill, upgraded[0], turn, frozenset(n.name for n in lab.nodes if runs[n] == old_tree))

    check("before the upgrade")
    backups = [node for node in lab.nodes if node != promoted]
    for node in backups:
        upgrade(drill, node, install_current)
        check(f"{node.name} upgraded")
    successor = backups[0]
    log = AgentLog(successor)
    pcs(drill, "resource", "move", OVNDB_CLONE, successor.name, "--promoted", f"--wait={WAIT_S}")
    if drill.promoted(other_than=promoted) != successor:
        raise StepFailed(f"the move promoted another node than {successor.name}")
    check(f"promoted role moved to {successor.name}")
    held = [m.group(1) for line in log.lines(HELD) for m in [re.search(r"\(barrier ([^)]+)\)", line)] if m]
    r.facts["0.1.0 barrier held"] = held[-1] if held else None
    r.facts["barrier after the move"] = barrier_of(drill, successor)
    upgrade(drill, promoted, install_current)
    check(f"{promoted.name} upgraded")
    r.promoted_after = drill.promoted().name
    drill.measure_outage(r, t0)


@pytest.fixture(scope="module")
def agent_upgrade(drill: Drill, release_0_1_0: Path, old_agents: Path) -> StepResult:
    """The agent's rolling upgrade, run once for the module: the OVN upgrade runs after it,
    on this version's agents."""
    result = drill.step("agent-upgrade", lambda r: rolling_agent_upgrade(drill, r, release_0_1_0, old_agents))
    print(summary(drill))
    return result


def test_a_rolling_upgrade_from_0_1_0_loses_nothing_and_no_node_misreads_another(agent_upgrade: StepResult) -> None:
    assert agent_upgrade.ok, agent_upgrade.outcome
    # The 0.1.0 node's <node>:<ms> barrier, offered at its demote, held by the successor (no
    # copy) and taken for the barrier it holds: no second one committed by its promotion.
    offered = agent_upgrade.facts["0.1.0 barrier held"]
    assert offered and re.fullmatch(r"node\d:\d+", offered), offered
    assert agent_upgrade.facts["barrier after the move"] == offered


def schema_versions(drill: Drill, node: Node) -> dict[str, str]:
    """The schema version each database of ``node`` runs now."""
    return {name: drill.lab.run(node, ["ovsdb-client", "get-schema-version", f"unix:/run/ovn/{db}.sock",
                                       schema]).stdout.strip()
            for name, (db, schema) in DATABASES.items()}


def ovn_upgrade(drill: Drill, r: StepResult, old_schemas: dict[Path, Path]) -> None:
    """docs/runbook.md, "Upgrading OVN": the older schemas' binds removed node by node."""
    lab = drill.lab
    installed = {name: json.loads((SCHEMAS / f"{name}.ovsschema").read_text())["version"] for name in DATABASES}
    promoted = drill.settled()
    r.promoted_before = promoted.name
    t0 = time.monotonic()
    drill.bind_port_after(t0)

    def install_ovn(node: Node) -> None:
        for schema in old_schemas:
            lab.replace_in(node, schema, None)

    def runs(node: Node, versions: dict[str, str], turn: str) -> None:
        running = schema_versions(drill, node)
        if running != versions:
            raise StepFailed(f"{turn}: {node.name}'s databases run {running}, not {versions}")

    def converted(node: Node, turn: str) -> None:
        """The node's databases run the installed schemas, converted by ovn-ctl's start,
        which left a copy of each file as it was (``<file>.backup<version>-<checksum>``)."""
        runs(node, installed, turn)
        files = lab.run(node, ["ls", "/var/lib/ovn"]).stdout.split()
        copies = [f for f in files if re.fullmatch(r"ovn[ns]b_db\.db\.backup[\d.]+-\d*", f)]
        if len(copies) != len(DATABASES):
            raise StepFailed(f"{turn}: ovn-ctl's copies before the conversion on {node.name}: {copies} ({files})")
        r.facts[f"{node.name}'s copies"] = ", ".join(sorted(copies))

    for node in lab.nodes:
        runs(node, OLDER_VERSIONS, "before the upgrade")
    for node in [n for n in lab.nodes if n != promoted]:
        upgrade(drill, node, install_ovn)
        converted(node, f"{node.name} upgraded")
        runs(promoted, OLDER_VERSIONS, f"{node.name} upgraded")  # and replicated from
        nothing_lost_nor_failed(drill, r, t0, f"{node.name} upgraded")
        status_seen(drill, node, f"{node.name} upgraded")
    logs = {node: AgentLog(node) for node in lab.nodes if node != promoted}
    upgrade(drill, promoted, install_ovn)
    after = drill.promoted()
    r.promoted_after = after.name
    if not logs[after].lines(HELD):  # a converted backup of the older schema's active server
        raise StepFailed(f"{after.name} did not hold the final barrier of {promoted.name} (older schema)")
    for node in lab.nodes:
        converted(node, f"{promoted.name} upgraded")
    drill.wait_replicating([n for n in lab.nodes if n != after])
    nothing_lost_nor_failed(drill, r, t0, f"{promoted.name} upgraded")
    status_seen(drill, promoted, f"{promoted.name} upgraded")
    drill.measure_outage(r, t0)


def test_an_ovn_schema_upgrade_converts_node_by_node_while_the_cluster_runs_and_loses_nothing(
        drill: Drill, agent_upgrade: StepResult, old_schemas: dict[Path, Path]) -> None:
    if not agent_upgrade.ok:
        pytest.fail(f"the OVN upgrade runs on this version's agents, and their upgrade failed: {agent_upgrade.outcome}")
    result = drill.step("ovn-upgrade", lambda r: ovn_upgrade(drill, r, old_schemas))
    print(summary(drill))
    assert result.ok, result.outcome
