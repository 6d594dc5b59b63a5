"""Fixtures shared by every test tier: the OCF 1.1 schema and a CIB file with two nodes."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# The strict schema of the OCF 1.1 specification, next to a developer's checkout; a user's
# clone has none, and then the (more permissive) copy pcs installs is what we can check.
STRICT_RNG = REPO.parent / "shared" / "spec" / "ocf-1.1" / "ra-api.rng"
PCS_RNG = Path("/usr/share/pcs/data/ocf-1.1.rng")
PEER = "peer"


def ocf_rng_path() -> Path:
    return STRICT_RNG if STRICT_RNG.is_file() else PCS_RNG


def pytest_report_header(config: pytest.Config) -> str:
    kind = "the specification's strict schema" if ocf_rng_path() == STRICT_RNG else "pcs's copy"
    return f"OCF 1.1 RelaxNG schema: {ocf_rng_path()} ({kind})"


@pytest.fixture(scope="session")
def ocf_rng() -> Path:
    """The OCF 1.1 RelaxNG schema meta-data must satisfy (which one is in the report header)."""
    path = ocf_rng_path()
    if not path.is_file():
        pytest.fail(f"no OCF 1.1 RelaxNG schema: neither {STRICT_RNG} nor {PCS_RNG} exists")
    return path


@pytest.fixture
def cib_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A CIB file holding this host and a peer as online nodes, exported as ``CIB_file``.

    With ``CIB_file`` set, crm_attribute and crm_resource work on the file instead of a live
    cluster, and transient (``reboot``) attributes go into each node's ``node_state``.
    """
    path = tmp_path / "cib.xml"
    empty = subprocess.run(["cibadmin", "--empty"], check=True, capture_output=True, text=True)
    path.write_text(empty.stdout)
    path.chmod(0o600)
    monkeypatch.setenv("CIB_file", str(path))
    for node_id, uname in (("1", socket.gethostname()), ("2", PEER)):
        for section, xml in (
            ("nodes", f'<node id="{node_id}" uname="{uname}"/>'),
            ("status", f'<node_state id="{node_id}" uname="{uname}" in_ccm="true" crmd="online"/>'),
        ):
            create = ["cibadmin", "--create", "-o", section, "-X", xml]
            subprocess.run(create, check=True, capture_output=True)
    return path
