"""The ``ocf-agents`` command line as a whole (each sub-command has its own tests)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_a_reader_that_went_away_ends_the_command_quietly() -> None:
    """``ocf-agents status | head -3`` printed a traceback (BrokenPipeError) once head had
    read its lines; a closed pipe now ends any sub-command as SIGPIPE ends other tools."""
    read, write = os.pipe()
    os.close(read)  # gone before the command writes anything
    try:
        proc = subprocess.run([sys.executable, "-m", "ocf_agents.cli", "setup", "ovndb", "--master-ip", "192.0.2.10"],
                              stdout=write, stderr=subprocess.PIPE, text=True, cwd=REPO, timeout=60)
    finally:
        os.close(write)
    assert (proc.returncode, proc.stderr) == (128 + signal.SIGPIPE, "")
