"""The common library seen through the real tools, with the sample agent of tests/sample_agent/.

- meta-data: valid against ra-api-1.dtd (as ocf-tester checks it) and the OCF 1.1 RelaxNG
  schema, and produced as ``nobody`` with an empty environment.
- bad input to the executable: the right exit code, an exit reason naming the parameter and
  the value, never a traceback.
- ocf-tester, and after installing under the test provider ``ocfatest-lib``: crm_resource
  --validate and --force-*, crm_resource --show-metadata, pcs resource describe; then the
  agent is uninstalled and nothing is left.
- ``make install`` / ``make uninstall`` into a DESTDIR.

Promotion scores go to a CIB file (``CIB_file``), so start and promote run their real
crm_attribute calls with no cluster running.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path
from typing import Iterator
from xml.sax.saxutils import quoteattr

import pytest
from lxml import etree

from ocf_agents.ocf.codes import Rc

REPO = Path(__file__).resolve().parents[2]
AGENT = REPO / "tests" / "sample_agent" / "SampleStateful"
OCF_ROOT = Path("/usr/lib/ocf")
DTD_DIR = Path("/usr/share/resource-agents")
PROVIDER = "ocfatest-lib"
RESOURCE = "sample"
NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


def needs_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root: runs as nobody and installs under /usr/lib/ocf")


def run(argv: list[str], env: dict[str, str] | None = None, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env, check=False, **kwargs)


def agent_env(params: dict[str, str], **extra: str) -> dict[str, str]:
    """The environment Pacemaker would give: OCF variables, the parameters, little else."""
    base = {"PATH": os.environ["PATH"], "OCF_ROOT": str(OCF_ROOT), "OCF_RESOURCE_INSTANCE": RESOURCE}
    if "CIB_file" in os.environ:
        base["CIB_file"] = os.environ["CIB_file"]
    return base | {f"OCF_RESKEY_{name}": value for name, value in params.items()} | extra


def run_agent(action: str | None, params: dict[str, str], **extra: str) -> subprocess.CompletedProcess[str]:
    return run([str(AGENT)] + ([action] if action else []), agent_env(params, **extra))


def score_in_cib() -> str | None:
    """The sample resource's promotion score on this node, as the CIB file holds it."""
    result = run(["crm_attribute", f"--promotion={RESOURCE}", "-G", "-q"])
    return result.stdout.strip() if result.returncode == 0 else None


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    path = tmp_path / "state"
    path.mkdir()
    return path


@pytest.fixture
def good(state_dir: Path) -> dict[str, str]:
    return {"state_dir": str(state_dir)}


# -- meta-data ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def metadata() -> str:
    result = run([str(AGENT), "meta-data"], env={})
    assert (result.returncode, result.stderr) == (0, "")
    return result.stdout


def test_meta_data_is_valid_for_xmllint_as_ocf_tester_runs_it(metadata: str) -> None:
    result = run(["xmllint", "--noout", "--valid", "-"], input=metadata, cwd=DTD_DIR)
    assert (result.returncode, result.stderr) == (0, "")


def test_meta_data_is_valid_against_the_dtd(metadata: str) -> None:
    dtd = etree.DTD(str(DTD_DIR / "ra-api-1.dtd"))
    assert dtd.validate(etree.fromstring(metadata.encode())), dtd.error_log


def test_meta_data_is_valid_against_the_ocf_1_1_schema(metadata: str, ocf_rng: Path) -> None:
    rng = etree.RelaxNG(etree.parse(str(ocf_rng)))
    assert rng.validate(etree.fromstring(metadata.encode())), rng.error_log


def test_meta_data_declares_promoted_and_unpromoted_monitors(metadata: str) -> None:
    root = etree.fromstring(metadata.encode())
    roles = [action.get("role") for action in root.iter("action") if action.get("name") == "monitor"]
    assert roles == ["Promoted", "Unpromoted"]


@pytest.fixture(scope="module")
def nobody_agent() -> Iterator[Path]:
    """The sample agent as nobody can run it: the checkout's when nobody can read it, else a
    copy of the agent and the package in a temporary directory nobody can read (reported)."""
    needs_root()
    library = REPO / "ocf_agents" / "ocf" / "agent.py"
    readable = run(NOBODY + ["test", "-x", str(AGENT), "-a", "-r", str(library)])
    if readable.returncode == 0:
        yield AGENT
        return
    copy = Path(tempfile.mkdtemp(prefix="ocfa-lib-nobody-"))
    try:
        copy.chmod(0o755)
        ignore = shutil.ignore_patterns("__pycache__")
        shutil.copytree(REPO / "ocf_agents", copy / "ocf_agents", ignore=ignore)
        (copy / "tests" / "sample_agent").mkdir(parents=True)
        shutil.copy2(AGENT, copy / "tests" / "sample_agent")
        run(["chmod", "-R", "a+rX", str(copy)])
        warnings.warn(f"the checkout is not readable by nobody: the agent runs from a copy in {copy}")
        yield copy / "tests" / "sample_agent" / AGENT.name
    finally:
        shutil.rmtree(copy)


def test_meta_data_runs_as_nobody_with_an_empty_environment(nobody_agent: Path, metadata: str) -> None:
    result = run(NOBODY + [str(nobody_agent), "meta-data"], env={}, cwd="/")
    assert (result.returncode, result.stderr, result.stdout) == (0, "", metadata)


# -- bad input to the executable --------------------------------------------------------------
BAD_INPUT = [
    # (parameters that override good ones, exit code, the exit reason)
    ({"state_dir": "relative/dir"}, Rc.ERR_CONFIGURED,
     "Parameter state_dir='relative/dir' is invalid: it must be an absolute path"),
    ({"state_dir": ""}, Rc.ERR_CONFIGURED,
     "Parameter state_dir='' is invalid: it is required and was not given"),
    ({"promoted_score": "ten"}, Rc.ERR_CONFIGURED,
     "Parameter promoted_score='ten' is invalid: it is not an integer"),
    ({"promoted_score": "0"}, Rc.ERR_CONFIGURED,
     "Parameter promoted_score='0' is invalid: it must be at least 1"),
    ({"unpromoted_score": "-1"}, Rc.ERR_CONFIGURED,
     "Parameter unpromoted_score='-1' is invalid: it must not be negative"),
    ({"unpromoted_score": "10"}, Rc.ERR_CONFIGURED,
     "Parameter unpromoted_score='10' is invalid: it must be lower than promoted_score (10)"),
    ({"record_notifications": "maybe"}, Rc.ERR_CONFIGURED,
     "Parameter record_notifications='maybe' is invalid: it is not a boolean"),
    ({"state_dir": "/nonexistent/ocfa"}, Rc.ERR_INSTALLED,
     "Parameter state_dir='/nonexistent/ocfa' is not a directory on this host"),
]
BAD_IDS = [f"{next(iter(bad))}={next(iter(bad.values()))}" for bad, _, _ in BAD_INPUT]


@pytest.mark.parametrize("action", ["start", "validate-all", "promote"])
@pytest.mark.parametrize("bad, rc, reason", BAD_INPUT, ids=BAD_IDS)
def test_bad_input_gives_its_code_and_a_reason_naming_it(
    good: dict[str, str], action: str, bad: dict[str, str], rc: int, reason: str
) -> None:
    result = run_agent(action, good | bad)
    assert result.returncode == rc
    assert f"ocf-exit-reason:{reason}" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize("bad, rc, reason", BAD_INPUT, ids=BAD_IDS)
def test_with_bad_input_stop_succeeds_and_a_probe_says_stopped(
    good: dict[str, str], bad: dict[str, str], rc: int, reason: str
) -> None:
    assert run_agent("stop", good | bad).returncode == Rc.SUCCESS
    assert run_agent("monitor", good | bad, OCF_RESKEY_CRM_meta_interval="0").returncode == Rc.NOT_RUNNING


@pytest.mark.parametrize("bad, rc, reason", BAD_INPUT[:3], ids=BAD_IDS[:3])
def test_a_recurring_monitor_with_bad_input_reports_it(
    good: dict[str, str], bad: dict[str, str], rc: int, reason: str
) -> None:
    result = run_agent("monitor", good | bad, OCF_RESKEY_CRM_meta_interval="10000")
    assert (result.returncode, reason in result.stderr) == (rc, True)


def test_an_unknown_action_is_3(good: dict[str, str]) -> None:
    result = run_agent("frobnicate", good)
    assert result.returncode == Rc.ERR_UNIMPLEMENTED
    assert "usage: SampleStateful {" in result.stderr
    assert "ocf-exit-reason:Action 'frobnicate' is not implemented by SampleStateful" in result.stderr


def test_the_action_comes_from_argv_then_from_ocf_action(good: dict[str, str], state_dir: Path) -> None:
    assert run_agent("monitor", good, __OCF_ACTION="start").returncode == Rc.NOT_RUNNING
    assert list(state_dir.iterdir()) == []  # start did not run
    assert run_agent(None, good, __OCF_ACTION="monitor").returncode == Rc.NOT_RUNNING
    assert run_agent(None, good).returncode == Rc.ERR_ARGS


def test_status_is_monitor(good: dict[str, str], state_dir: Path) -> None:
    assert run_agent("status", good).returncode == Rc.NOT_RUNNING
    (state_dir / f"{RESOURCE}.state").write_text("Promoted\n")
    assert run_agent("status", good, OCF_RESKEY_CRM_meta_interval="10000").returncode == Rc.RUNNING_PROMOTED


def test_an_unexpected_failure_is_1_with_a_reason_and_no_traceback(
    good: dict[str, str], state_dir: Path
) -> None:
    (state_dir / f"{RESOURCE}.state").mkdir()  # a state "file" the agent cannot read
    result = run_agent("monitor", good, OCF_RESKEY_CRM_meta_interval="10000")
    assert result.returncode == Rc.ERR_GENERIC
    assert "ocf-exit-reason:Unexpected error during monitor: IsADirectoryError:" in result.stderr
    assert "Traceback" not in result.stderr
    debug = run_agent("monitor", good, OCF_RESKEY_CRM_meta_interval="10000", HA_debug="1")
    assert debug.returncode == Rc.ERR_GENERIC
    assert "Traceback (most recent call last)" in debug.stderr


def test_notifications_reach_the_agent_parsed(good: dict[str, str], state_dir: Path) -> None:
    notify = {
        "OCF_RESKEY_CRM_meta_notify_type": "pre",
        "OCF_RESKEY_CRM_meta_notify_operation": "promote",
        "OCF_RESKEY_CRM_meta_notify_promote_uname": " node-b  node-c ",
    }
    assert run_agent("notify", good | {"record_notifications": "Yes"}, **notify).returncode == 0
    assert (state_dir / "notifications.log").read_text() == "pre-promote promote=node-b,node-c\n"


# -- ocf-tester -------------------------------------------------------------------------------
def test_ocf_tester_passes(nobody_agent: Path, cib_file: Path, state_dir: Path) -> None:
    result = run(["ocf-tester", "-n", RESOURCE, "-o", f"state_dir={state_dir}", str(nobody_agent)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{nobody_agent} passed all tests" in result.stdout
    assert score_in_cib() is None  # its last stop cleared the promotion score
    assert list(state_dir.iterdir()) == []


# -- installed under a test provider ----------------------------------------------------------
def install_sample(provider: str) -> Path:
    """Install the sample agent and the package the way `make install` installs agents."""
    agent_dir, lib_dir = OCF_ROOT / "resource.d" / provider, OCF_ROOT / "lib" / provider
    agent_dir.mkdir(mode=0o755, exist_ok=True)
    shutil.copyfile(AGENT, agent_dir / AGENT.name)
    (agent_dir / AGENT.name).chmod(0o755)
    for source in sorted((REPO / "ocf_agents").rglob("*.py")):
        target = lib_dir / source.relative_to(REPO)
        target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        target.chmod(0o644)
    return agent_dir / AGENT.name


def uninstall_sample(provider: str) -> None:
    agent_dir, lib_dir = OCF_ROOT / "resource.d" / provider, OCF_ROOT / "lib" / provider
    (agent_dir / AGENT.name).unlink(missing_ok=True)
    shutil.rmtree(lib_dir / "ocf_agents", ignore_errors=True)
    for directory in (lib_dir, agent_dir):
        if directory.is_dir():
            directory.rmdir()


@pytest.fixture(scope="module")
def installed() -> Iterator[Path]:
    needs_root()
    try:
        yield install_sample(PROVIDER)
    finally:
        uninstall_sample(PROVIDER)


def validate(params: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """crm_resource --validate; an empty value is left out, as crm_resource refuses it."""
    options = [f"--option={name}={value}" for name, value in params.items() if value]
    agent = ["--class", "ocf", "--provider", PROVIDER, "--agent", AGENT.name]
    return run(["crm_resource", "--validate"] + agent + options)


def test_crm_resource_validate_accepts_good_parameters(installed: Path, good: dict[str, str]) -> None:
    result = validate(good)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("bad, rc, reason", BAD_INPUT, ids=BAD_IDS)
def test_crm_resource_validate_rejects_bad_parameters(
    installed: Path, good: dict[str, str], bad: dict[str, str], rc: int, reason: str
) -> None:
    result = validate(good | bad)
    assert result.returncode == rc
    assert reason in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def add_sample_resource(params: dict[str, str]) -> None:
    """A promotable clone of the installed sample agent in the CIB file."""
    nvpairs = "".join(
        f"<nvpair id={quoteattr(f'{RESOURCE}-ia-{name}')} name={quoteattr(name)} value={quoteattr(value)}/>"
        for name, value in params.items()
    )
    xml = (
        f'<clone id="{RESOURCE}-clone"><meta_attributes id="{RESOURCE}-clone-meta">'
        f'<nvpair id="{RESOURCE}-clone-promotable" name="promotable" value="true"/></meta_attributes>'
        f'<primitive id="{RESOURCE}" class="ocf" provider="{PROVIDER}" type="{AGENT.name}">'
        f'<instance_attributes id="{RESOURCE}-ia">{nvpairs}</instance_attributes></primitive></clone>'
    )
    run(["cibadmin", "--create", "-o", "resources", "-X", xml]).check_returncode()


def force(operation: str) -> subprocess.CompletedProcess[str]:
    return run(["crm_resource", "-r", RESOURCE, f"--force-{operation}"])


def test_crm_resource_force_operations_walk_the_roles(
    installed: Path, cib_file: Path, good: dict[str, str]
) -> None:
    add_sample_resource(good)
    # (operation, its exit code, the promotion score afterwards)
    expected = [
        ("check", Rc.NOT_RUNNING, None),
        ("promote", Rc.NOT_RUNNING, None),
        ("start", Rc.SUCCESS, "5"),
        ("check", Rc.SUCCESS, "5"),
        ("promote", Rc.SUCCESS, "10"),
        ("check", Rc.RUNNING_PROMOTED, "10"),
        ("demote", Rc.SUCCESS, "5"),
        ("check", Rc.SUCCESS, "5"),
        ("stop", Rc.SUCCESS, None),
        ("check", Rc.NOT_RUNNING, None),
        ("stop", Rc.SUCCESS, None),
    ]
    seen = [(operation, force(operation).returncode, score_in_cib()) for operation, _, _ in expected]
    assert seen == expected


def test_crm_resource_force_operations_with_a_bad_parameter(
    installed: Path, cib_file: Path, good: dict[str, str]
) -> None:
    add_sample_resource(good | {"promoted_score": "ten"})
    start = force("start")
    assert start.returncode == Rc.ERR_CONFIGURED
    assert "Parameter promoted_score='ten' is invalid: it is not an integer" in start.stdout
    assert (force("check").returncode, force("stop").returncode) == (Rc.NOT_RUNNING, Rc.SUCCESS)


def test_crm_resource_shows_the_installed_meta_data(installed: Path, metadata: str) -> None:
    result = run(["crm_resource", f"--show-metadata=ocf:{PROVIDER}:{AGENT.name}"])
    assert (result.returncode, result.stdout.strip()) == (0, metadata.strip())


def test_pcs_describes_the_installed_agent(installed: Path) -> None:
    """What every pcs shows: the title, each parameter, state_dir marked required, and the
    descriptions. Not the layout: pcs 0.11 (Debian 12) prints "  name: description", pcs
    0.12 (Debian 13) "  name" with an indented "Description: ..." line under it."""
    result = run(["pcs", "resource", "describe", f"ocf:{PROVIDER}:{AGENT.name}"])
    assert result.returncode == 0, result.stderr
    title = f"ocf:{PROVIDER}:{AGENT.name} - Sample promotable agent of the ocf_agents test suite"
    assert result.stdout.startswith(title)
    assert re.search(r"^  state_dir \(required\)", result.stdout, re.MULTILINE)
    assert "Directory holding one <resource>.state file per resource" in result.stdout
    for name in ("promoted_score", "unpromoted_score", "record_notifications"):
        assert re.search(rf"^  {name}(:|$)", result.stdout, re.MULTILINE), name
    assert "Score published while promoted; must exceed unpromoted_score." in result.stdout


def test_uninstalling_leaves_nothing() -> None:
    needs_root()
    provider = PROVIDER + "-uninstall"
    try:
        install_sample(provider)
        assert run(["crm_resource", f"--show-metadata=ocf:{provider}:{AGENT.name}"]).returncode == 0
    finally:
        uninstall_sample(provider)
    assert not (OCF_ROOT / "resource.d" / provider).exists()
    assert not (OCF_ROOT / "lib" / provider).exists()
    assert provider not in run(["crm_resource", "--list-ocf-providers"]).stdout.split()
    assert run(["crm_resource", f"--show-metadata=ocf:{provider}:{AGENT.name}"]).returncode != 0


# -- make install / uninstall -----------------------------------------------------------------
def test_make_install_and_uninstall_into_a_destdir(tmp_path: Path) -> None:
    dest, provider = tmp_path / "root", "ocfatest-make"
    make = ["make", "-s", "-C", str(REPO), f"DESTDIR={dest}", f"PROVIDER={provider}"]
    run(make + ["install"]).check_returncode()
    agent_dir, lib_dir = dest / "usr/lib/ocf/resource.d" / provider, dest / "usr/lib/ocf/lib" / provider

    agents = sorted(p.name for p in (REPO / "heartbeat").iterdir() if os.access(p, os.X_OK))
    assert sorted(p.name for p in agent_dir.iterdir()) == agents
    assert all((agent_dir / a).stat().st_mode & 0o777 == 0o755 for a in agents)
    package = sorted(str(p.relative_to(REPO)) for p in (REPO / "ocf_agents").rglob("*.py"))
    assert sorted(str(p.relative_to(lib_dir)) for p in lib_dir.rglob("*.py")) == package
    compiled = list(lib_dir.rglob("*.pyc"))  # byte code, naming the installed path, not DESTDIR
    assert len(compiled) == len(package)
    assert all(str(dest).encode() not in p.read_bytes() for p in compiled)
    agent_pyc = next((lib_dir / "ocf_agents/ocf/__pycache__").glob("agent.*.pyc"))
    assert f"/usr/lib/ocf/lib/{provider}/ocf_agents/".encode() in agent_pyc.read_bytes()
    for name in agents:  # each finds the installed package, not the checkout
        result = run([str(agent_dir / name), "meta-data"], env={}, cwd="/")
        assert (result.returncode, result.stdout.startswith("<?xml")) == (0, True), result.stderr
    command = dest / "usr/sbin/ocf-agents"  # where the .deb puts it, importing the installed library
    assert command.stat().st_mode & 0o777 == 0o755
    assert f'LIBRARY = "/usr/lib/ocf/lib/{provider}"' in command.read_text()
    helped = run([str(command), "--help"], env={"PYTHONPATH": str(lib_dir)}, cwd="/")
    assert helped.stdout.startswith("usage: ocf-agents"), helped.stderr

    run(make + ["uninstall"]).check_returncode()
    assert [p for p in dest.rglob("*") if not p.is_dir()] == []
    assert not agent_dir.exists() and not lib_dir.exists()
