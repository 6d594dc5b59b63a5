"""Running ``ocf-agents setup`` in-process, as the operator's shell would, and CIB helpers."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ocf_agents import cli

# Our agents installed under this provider for the tests (make install PROVIDER=...): pcs and
# crmsh read an agent's meta-data when a resource is created.
TEST_PROVIDER = "ocfatest-setup"
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Outcome:
    rc: int
    out: str
    err: str

    @property
    def commands(self) -> list[str]:
        """The printed commands, without the comments that explain them."""
        return [line for line in self.out.splitlines() if not line.startswith("#")]


def setup_cli(*args: str) -> Outcome:
    """``ocf-agents setup ARGS``: exit status, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = cli.main(["setup", *args])
        except SystemExit as exit_:  # argparse's own errors
            rc = int(exit_.code or 0)
    return Outcome(rc, out.getvalue(), err.getvalue())


def empty_cib(path: Path) -> Path:
    """A fresh CIB file without fencing (the simulations have no fence device)."""
    with open(path, "w", encoding="utf-8") as cib:
        subprocess.run(["cibadmin", "--empty"], stdout=cib, check=True)
    os.chmod(path, 0o600)
    subprocess.run(
        ["crm_attribute", "--type", "crm_config", "--name", "stonith-enabled", "--update", "false"],
        env={**os.environ, "CIB_file": str(path)}, check=True, capture_output=True,
    )
    return path
