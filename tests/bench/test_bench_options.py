"""The benchmarks' command lines: a bad value is refused by argparse (exit 2) with a message
quoting it, before any namespace or server is made; good values are read as numbers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.run import parse_args

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("argv, quoted", [
    (["bench.run", "--repoint-delay", "-3"], "'-3'"),
    (["bench.run", "--repoint-delay", "soon"], "'soon'"),
    (["bench.run", "--sizes", "1000,abc"], "'1000,abc'"),
    (["bench.run", "--scale-runs", "0"], "'0'"),
    (["bench.copy_stall", "--sizes", "abc"], "'abc'"),
    (["bench.switchover", "--runs", "two"], "'two'"),
    (["bench.switchover", "--configurations", "documented,speedy"], "speedy"),
    (["bench.switchover", "--long-lived", "nbctl"], "'nbctl'"),
    (["bench.raft", "--runs", "two"], "'two'"),
    (["bench.raft", "--long-lived", "nbctl"], "'nbctl'"),
])
def test_a_bad_value_is_refused_before_anything_runs(argv: list[str], quoted: str) -> None:
    module, *options = argv
    done = subprocess.run([sys.executable, "-m", module, *options], cwd=REPO, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert quoted in done.stderr and "Traceback" not in done.stderr


def test_good_values_are_read_as_numbers() -> None:
    args = parse_args(["--sizes", "1000, 100000", "--scale-runs", "3", "--repoint-delay", "1.5"])
    assert (args.sizes, args.scale_runs, args.repoint_delay) == ([1000, 100000], [3, 3], 1.5)
    assert parse_args(["--sizes", ""]).sizes == []


def test_the_switchover_report_gives_each_configuration_and_step_its_medians_and_losses() -> None:
    from bench.lab_runs import Run, markdown
    from bench.switchover import ABOUT, TITLE

    runs = [Run("ovn", "switchover", 1, True, "ok", 1.8, 2.1, 1.6, 3, 2, 0, 40),
            Run("held", "switchover", 1, True, "ok", 0.4, 0.5, 0.3, 1, 0, 0, 41),
            Run("held", "crash-promoted", 1, True, "ok", 6.0, 8.0, 5.5, 2, 1, 0, 30),
            Run("held", "switchover", 2, False, "FAILED: nobody promoted")]
    text = markdown(TITLE, ABOUT, runs, {"machine": "test"}, "python -m bench.switchover --runs 2")
    assert "| ovn | switchover | 1.80 (1.80-1.80) | 2.10 (2.10-2.10) | 1.60 (1.60-1.60) | 3.00 (3.00-3.00) |" in text
    assert "| held | switchover | 0.40 (0.40-0.40) |" in text and "| 0 / 41 | 2 (1 failed) |" in text
    assert "| held | crash-promoted | 6.00 (6.00-6.00) | 8.00 (8.00-8.00) |" in text
    assert "- 2 held switchover: FAILED: nobody promoted" in text
