"""The agent's own files on this node, beside the servers' files, each behind a named accessor.

The role marker, the score cache, the candidates of an election and the hand-off address live
in the run directory: they describe the running servers and must not survive a reboot (the
servers do not either). The data position and the "outranked" mark live beside the database
files, because they describe the data.
"""

from __future__ import annotations

import os


class NodeFile:
    """One small text file, written atomically with tight permissions (the directory may be
    shared with other services); reading a missing or unreadable file gives None."""

    def __init__(self, directory: str, name: str) -> None:
        self.path = os.path.join(directory, name)

    def read(self) -> str | None:
        try:
            with open(self.path, encoding="utf-8") as f:
                return f.read().strip()
        except OSError:
            return None

    def write(self, text: str) -> None:
        os.makedirs(os.path.dirname(self.path), mode=0o755, exist_ok=True)
        tmp = f"{self.path}.{os.getpid()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text + "\n")
        os.replace(tmp, self.path)

    def remove(self) -> None:
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass

    def exists(self) -> bool:
        return os.path.exists(self.path)

    def take(self) -> str | None:
        """Read and remove: a value meant for one use (the election's candidates)."""
        text = self.read()
        self.remove()
        return text


class NodeFiles:
    """Every file the agent keeps on this node."""

    def __init__(self, rundir: str, dbdir: str) -> None:
        # This node was promoted and not demoted since; the promoted servers' pids.
        self.role = NodeFile(rundir, "ovndb-servers.promoted")
        # The promotion score last written, so that a monitor writes only changes.
        self.score = NodeFile(rundir, "ovndb-servers.score")
        # The nodes the node to be promoted compares positions with (pre-promote to promote).
        self.candidates = NodeFile(rundir, "ovndb-servers.candidates")
        # The address this node's databases listen on for the backups' replication while it is
        # promoted, and for its successor's hand-off once demoted (handoff.py).
        self.handoff = NodeFile(rundir, "ovndb-servers.handoff")
        # A demoted node's hand-off offer: the barrier it committed, or "-" (handoff.py).
        self.offer = NodeFile(rundir, "ovndb-servers.offer")
        # The clients' sessions the promoted node's last monitor saw, and those it published
        # (clients.py).
        self.clients = NodeFile(rundir, "ovndb-servers.clients")
        # Whether OVN_REPL_INFO names this node yet, or when it is due (repl_info.py).
        self.repl_info = NodeFile(rundir, "ovndb-servers.repl-info")
        # The servers found working but not answering, and since when (monitor.py).
        self.busy = NodeFile(rundir, "ovndb-servers.busy")
        # How fresh this node's data is (position.py).
        self.position = NodeFile(dbdir, "ovndb-servers.position")
        # The position an election refused: no restart may raise its score again (score.py).
        self.outranked = NodeFile(dbdir, "ovndb-servers.outranked")

    def clear_on_stop(self) -> None:
        """What must not outlive the servers: the role, the score cache, the hand-off offer
        (its listeners go with the servers), the clients seen, the busy servers, the
        OVN_REPL_INFO record. The position and the outranked mark stay."""
        for file in (self.role, self.score, self.handoff, self.offer, self.clients, self.busy, self.repl_info):
            file.remove()
