"""``ocf-agents drill``: fail-over scenarios on the lab, with a timeline, a summary and a picture.

Each scenario is one step: it acts on the cluster (a crash, a move, a kill, a partition),
watches what Pacemaker and our agents do, and records the outcome (who is promoted, where the
addresses are, which acknowledged writes are missing) and how long things took. Timings are
printed, never judged: a slow machine is not a failed drill.

    resources   what the bring-up creates (resource names, monitors) and the setup commands
    results     a step's result, how it ends (StepFailed, StepSkipped), the summary table
    probes      one-shot looks: a server's sync status, an address, the client's view
    samplers    watchers sampling the lab beside a step (the active servers in a partition)
    timeline    what a step's picture shows, recorded as plain data while it runs
    picture     the steps' timelines drawn as one SVG after the drill
    watch       the waits: Pacemaker's view, replication, scores, writes; the agent's facts
    runner      one step run and the lab restored after it
    scenarios   the steps themselves, and ``run_drill``
"""

from .probes import replicating
from .resources import OVNDB, OVNDB_SETUP, OVNDB_VIP_RSC, ovndb_setup_argv
from .results import StepFailed, StepResult, StepSkipped, summary
from .scenarios import Drill, run_drill

__all__ = ["OVNDB", "OVNDB_SETUP", "OVNDB_VIP_RSC", "Drill", "StepFailed", "StepResult",
           "StepSkipped", "ovndb_setup_argv", "replicating", "run_drill", "summary"]
