"""Our agents installed for pcs and crmsh, which read an agent's meta-data on creation."""

from __future__ import annotations

import os
import subprocess

import pytest

from .helpers import REPO, TEST_PROVIDER


@pytest.fixture(scope="session")
def installed_agents(tmp_path_factory: pytest.TempPathFactory) -> str:
    """``make install`` under the test provider into the real $OCF_ROOT, removed afterwards
    (its ocf-agents command in a temporary directory, not over an operator's /usr/sbin one)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to install the agents under /usr/lib/ocf (pcs reads their meta-data)")
    sbin = tmp_path_factory.mktemp("sbin")
    make = ["make", "-s", "-C", str(REPO), f"PROVIDER={TEST_PROVIDER}", f"SBINDIR={sbin}"]
    subprocess.run(make + ["install"], check=True, capture_output=True)
    try:
        yield TEST_PROVIDER
    finally:
        subprocess.run(make + ["uninstall"], check=True, capture_output=True)
