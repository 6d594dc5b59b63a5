"""A northbound database of a realistic size before the steps: logical switch ports written
through the VIP, as a cloud's provider would have created them.

Why: a switchover's cost used to grow with the database (every replica re-copied it), so a
drill on an empty database hides exactly what an operator of a large deployment sees.
"""

from __future__ import annotations

import subprocess

from ..layout import LabError
from ..writer import in_client_netns, nb_db

BATCH = 1000  # ports per transaction: one ovn-nbctl, a few hundred milliseconds each
SWITCH_PREFIX = "drill-load"


def load_ports(count: int, remote: str | None = None) -> None:
    """Add ``count`` logical switch ports (with MACs and addresses, ``BATCH`` per switch and
    transaction) through ``remote`` (an ovn-nbctl ``--db``, the VIP by default); a failed
    batch stops the drill with the reason."""
    for first in range(0, count, BATCH):
        switch = f"{SWITCH_PREFIX}{first // BATCH}"
        argv = ["ovn-nbctl", f"--db={remote or nb_db()}", "--timeout=60", "--may-exist", "ls-add", switch]
        for i in range(first, min(first + BATCH, count)):
            port = f"{switch}-p{i}"
            mac = f"0a:00:{i >> 16 & 0xff:02x}:{i >> 8 & 0xff:02x}:{i & 0xff:02x}:01"
            ip = f"10.{i >> 16 & 0xff}.{i >> 8 & 0xff}.{i & 0xff}"
            argv += ["--", "lsp-add", switch, port, "--", "lsp-set-addresses", port, f"{mac} {ip}"]
        proc = subprocess.run(in_client_netns(argv), capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=120)
        if proc.returncode != 0:
            raise LabError(f"loading ports {first}-{first + BATCH - 1}: {proc.stderr.strip()}")
