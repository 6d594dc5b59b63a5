"""The documentation's code and commands do what the documentation says.

docs/writing-an-agent.md builds an agent, ``Flag``; this runs that exact code through the
real dispatcher, with the system python3 as Pacemaker would, and checks each behaviour the
page claims. The operator guides' ``ocf-agents setup`` commands are run in print mode.
"""

from __future__ import annotations

import ast
import functools
import os
import re
import shlex
import stat
import subprocess
from pathlib import Path

import pytest

from man_pages import REPO

DOCS = REPO / "docs"
DTD = Path("/usr/share/resource-agents/ra-api-1.dtd")


def code_blocks(markdown: Path, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", markdown.read_text(), flags=re.M | re.S)


@pytest.fixture(scope="module")
def flag_agent(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The guide's agent module and its heartbeat script, laid out as in a checkout."""
    module, script = code_blocks(DOCS / "writing-an-agent.md", "python")
    root = tmp_path_factory.mktemp("flag")
    # The guide's module lives in ocf_agents/agents/; here it is its own package beside a
    # link to the real library, so that nothing is added to the working tree.
    (root / "ocf_agents" / "agents").mkdir(parents=True)
    for name in ("__init__.py", "ocf"):
        (root / "ocf_agents" / name).symlink_to(REPO / "ocf_agents" / name)
    (root / "ocf_agents" / "agents" / "__init__.py").write_text("")
    (root / "ocf_agents" / "agents" / "flag.py").write_text(module)
    (root / "heartbeat").mkdir()
    executable = root / "heartbeat" / "Flag"
    executable.write_text(script)
    executable.chmod(0o755)
    return executable


def run(agent: Path, action: str, **params: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "OCF_ROOT": "/usr/lib/ocf", "HA_LOGFACILITY": "none",
           "OCF_RESKEY_CRM_meta_interval": "10000"}
    env.update({f"OCF_RESKEY_{k}": v for k, v in params.items()})
    return subprocess.run([str(agent), action], env=env, capture_output=True, text=True, timeout=30)


def test_flag_meta_data_is_valid(flag_agent: Path, tmp_path: Path) -> None:
    xml = tmp_path / "flag.xml"
    xml.write_text(run(flag_agent, "meta-data").stdout)
    subprocess.run(["xmllint", "--noout", "--dtdvalid", str(DTD), str(xml)], check=True, capture_output=True)


def test_flag_starts_monitors_and_stops(flag_agent: Path, tmp_path: Path) -> None:
    state = tmp_path / "flag.state"
    assert run(flag_agent, "monitor", state_file=str(state)).returncode == 7
    assert run(flag_agent, "start", state_file=str(state)).returncode == 0
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    assert run(flag_agent, "monitor", state_file=str(state)).returncode == 0
    assert run(flag_agent, "status", state_file=str(state)).returncode == 0
    assert run(flag_agent, "stop", state_file=str(state)).returncode == 0
    assert not state.exists()
    assert run(flag_agent, "stop", state_file=str(state)).returncode == 0


def test_flag_rejects_a_relative_path_as_the_guide_shows(flag_agent: Path) -> None:
    result = run(flag_agent, "start", state_file="relative/path")
    assert result.returncode == 6
    shown = re.search(r"`(ocf-exit-reason:Parameter state_file=[^`]*)`", (DOCS / "writing-an-agent.md").read_text())
    assert shown and result.stderr.splitlines()[-1] == shown.group(1)


def test_flag_host_check_and_invalid_environment_rules(flag_agent: Path, tmp_path: Path) -> None:
    missing = str(tmp_path / "no-such-dir" / "flag.state")
    assert run(flag_agent, "start", state_file=missing).returncode == 5
    assert run(flag_agent, "validate-all", state_file=missing).returncode == 5
    assert run(flag_agent, "stop", state_file=missing).returncode == 0
    probe = run(flag_agent, "monitor", state_file=missing, CRM_meta_interval="0")
    assert probe.returncode == 7


def test_flag_unknown_action_is_unimplemented(flag_agent: Path) -> None:
    assert run(flag_agent, "migrate_to").returncode == 3


def setup_examples() -> list[object]:
    """(guide, argv, the output the guide shows or None) for every ``ocf-agents setup`` line
    in the guides' shell blocks; the output is the ``text`` block right after a shell block
    holding one such command."""
    found = []
    for guide in ("guide.md", "ovsport-guide.md"):
        text = (DOCS / guide).read_text()
        for block in re.finditer(r"^```sh\n(.*?)^```\n(?:\n```text\n(.*?)^```$)?", text, flags=re.M | re.S):
            lines = block.group(1).replace("\\\n", " ").splitlines()
            commands = [shlex.split(line) for line in lines if line.startswith("ocf-agents setup")]
            shown = block.group(2) if len(commands) == 1 else None
            found += [pytest.param(guide, argv, shown, id=f"{guide}:{' '.join(argv[2:])}") for argv in commands]
    return found


@pytest.mark.parametrize("guide, argv, shown", setup_examples())
def test_guide_setup_commands_print_what_the_guide_shows(guide: str, argv: list[str], shown: str | None) -> None:
    """In print mode (no --apply) the command checks its input and prints pcs/crm commands;
    where the guide shows them, they are exactly what it prints (for pcs 0.11)."""
    assert "--apply" not in argv
    result = subprocess.run(
        ["/usr/bin/python3", "-m", "ocf_agents.cli", *argv[1:], "--pcs-version", "0.11"],
        cwd=REPO, capture_output=True, text=True, timeout=60, env={"PATH": os.environ["PATH"]},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(("pcs ", "crm ", "# "))  # comments say why, then the commands
    if shown is not None:
        assert result.stdout == shown, f"{guide} shows other output for: {' '.join(argv)}"


# -- the troubleshooting pages quote exit reasons the code can produce ------------------------------
MIN_LITERAL = 12  # a message template with less fixed text than this would match anything


@functools.cache
def message_templates() -> list[re.Pattern[str]]:
    """Every string and f-string in the package, as a pattern where each interpolated value
    (quoted when the code uses ``!r``) matches any text."""
    patterns = []
    for source in (REPO / "ocf_agents").rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.JoinedStr):
                parts = [
                    re.escape(part.value) if isinstance(part, ast.Constant)
                    else "'.*'" if part.conversion == ord("r") else ".*"
                    for part in node.values
                ]
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                parts = [re.escape(node.value)]
            else:
                continue
            literal = "".join(p for p in parts if p not in (".*", "'.*'"))
            if len(literal) >= MIN_LITERAL:
                patterns.append(re.compile("".join(parts), re.S))
    return patterns


def documented_reasons() -> list[str]:
    """Exit reasons quoted in the tables of troubleshooting.md and ovndb-monitor-states.md:
    in the first cell of a row when the next cell is an exit code alone, or right after an exit
    code cell (a measurement like ``6.9 ms`` in the next cell is not an exit code)."""
    text = (DOCS / "troubleshooting.md").read_text() + (DOCS / "ovndb-monitor-states.md").read_text()
    return re.findall(r"^\| `([^`]+)` \| \d+ \|", text, flags=re.M) + re.findall(r"\| \d+ \| `([^`]+ [^`]+)`", text)


@pytest.mark.parametrize("reason", documented_reasons())
def test_documented_exit_reason_is_one_the_code_produces(reason: str) -> None:
    """``<placeholders>`` stand for values: the reason must be an instance of a message
    template of the package (an f-string's fixed text in order, values anywhere)."""
    instance = re.sub(r"<[^>]+>", "X", reason)
    assert any(p.fullmatch(instance) for p in message_templates()), f"no code produces: {reason}"
