"""A minimal OVSDB JSON-RPC client (RFC 7047) over a unix socket or TCP, and the seed databases.

The benchmark needs three things from a database server that the command-line tools do badly:
one transaction with 100 000 inserts (too long for one argv string), a cheap, fast poll of a
backup's contents while it catches up, and a client's write that costs the same whatever the
database's size (``ovn-nbctl`` first downloads every row of the tables it touches: at 100 000
ports, all of them, for each write).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from pathlib import Path

NB_SCHEMA = "/usr/share/ovn/ovn-nb.ovsschema"
PORTS_PER_SWITCH = 100
MARKER_KEY = "bench-marker"


class RpcError(Exception):
    pass


class Client:
    """One connection to an ovsdb-server, at a unix socket's path or a (host, port) pair;
    answers the server's echo requests."""

    def __init__(self, path: str | tuple[str, int], timeout: float = 60.0) -> None:
        self.sock = socket.socket(socket.AF_INET if isinstance(path, tuple) else socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(path)
        except OSError:
            self.sock.close()
            raise
        self.buffer = ""
        self.decoder = json.JSONDecoder()
        self.next_id = 0

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _message(self) -> dict:
        while True:
            text = self.buffer.lstrip()
            if text:
                try:
                    message, end = self.decoder.raw_decode(text)
                    self.buffer = text[end:]
                    return message
                except json.JSONDecodeError:
                    pass
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise RpcError("the server closed the connection")
            self.buffer += chunk.decode("utf-8")

    def call(self, method: str, params: list) -> object:
        self.next_id += 1
        self.sock.sendall(json.dumps({"method": method, "params": params, "id": self.next_id}).encode())
        while True:
            message = self._message()
            if message.get("method") == "echo":
                self.sock.sendall(json.dumps({"result": message["params"], "error": None,
                                              "id": message["id"]}).encode())
            elif message.get("id") == self.next_id:
                if message.get("error"):
                    raise RpcError(str(message["error"]))
                return message["result"]

    def transact(self, database: str, *operations: dict) -> list:
        result = self.call("transact", [database, *operations])
        errors = [r for r in result if isinstance(r, dict) and "error" in r]
        if errors:
            raise RpcError(str(errors[0]))
        return result


DATABASES = {"nb": ("OVN_Northbound", "NB_Global"), "sb": ("OVN_Southbound", "SB_Global")}


def marker(client: Client, db: str) -> str | None:
    """The marker the benchmark writes on the promoted node (None when absent)."""
    database, table = DATABASES[db]
    rows = client.transact(database, {"op": "select", "table": table, "where": [], "columns": ["external_ids"]})
    for row in rows[0]["rows"]:
        for key, value in row["external_ids"][1]:
            if key == MARKER_KEY:
                return value
    return None


def set_marker(client: Client, db: str, value: str) -> None:
    """Write the marker into the global row (created when missing: nothing has written the
    southbound one when no ovn-northd runs)."""
    database, table = DATABASES[db]
    found = client.transact(database, {"op": "select", "table": table, "where": [], "columns": ["_uuid"]})
    if not found[0]["rows"]:
        client.transact(database, {"op": "insert", "table": table, "row": {}})
    client.transact(database, {"op": "mutate", "table": table, "where": [],
                               "mutations": [["external_ids", "delete", ["set", [MARKER_KEY]]],
                                             ["external_ids", "insert", ["map", [[MARKER_KEY, value]]]]]})


def add_switch(client: Client, name: str) -> None:
    """One client write: a logical switch named ``name`` (a root row: it stays alone)."""
    client.transact("OVN_Northbound", {"op": "insert", "table": "Logical_Switch", "row": {"name": name}})


def switches(client: Client, prefix: str) -> dict[str, str]:
    """The logical switches whose name starts with ``prefix``: name -> row UUID."""
    rows = client.transact("OVN_Northbound",
                           {"op": "select", "table": "Logical_Switch", "where": [], "columns": ["_uuid", "name"]})
    return {row["name"]: row["_uuid"][1] for row in rows[0]["rows"] if row["name"].startswith(prefix)}


def delete_switches(client: Client, prefix: str) -> None:
    """Delete the logical switches ``switches`` finds, in one transaction."""
    found = switches(client, prefix)
    if found:
        client.transact("OVN_Northbound", *({"op": "delete", "table": "Logical_Switch",
                                             "where": [["_uuid", "==", ["uuid", uuid]]]} for uuid in found.values()))


def count_ports(client: Client) -> int:
    rows = client.transact("OVN_Northbound",
                           {"op": "select", "table": "Logical_Switch_Port", "where": [], "columns": ["_uuid"]})
    return len(rows[0]["rows"])


def _uuid(kind: int, index: int) -> str:
    """Deterministic, distinct row UUIDs (the file format needs explicit ones). The index
    leads: ovsdb-server hashes rows by a UUID's first 32 bits."""
    return f"{index:08x}-{kind:04x}-4000-8000-000000000000"


def seed_rows(ports: int) -> dict[str, dict]:
    """NB_Global, and ``ports`` logical switch ports spread over switches of 100 ports each
    (a port must belong to a switch, or OVSDB collects it as garbage)."""
    lsps: dict[str, dict] = {}
    switches: dict[str, dict] = {}
    for s in range(0, ports, PORTS_PER_SWITCH):
        members = []
        for i in range(s, min(s + PORTS_PER_SWITCH, ports)):
            mac = f"0a:00:00:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}"
            lsps[_uuid(1, i)] = {"name": f"lsp{i}", "addresses": f"{mac} 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"}
            members.append(["uuid", _uuid(1, i)])
        switches[_uuid(2, s)] = {"name": f"ls{s // PORTS_PER_SWITCH}", "ports": ["set", members]}
    return {"NB_Global": {_uuid(3, 0): {}}, "Logical_Switch": switches, "Logical_Switch_Port": lsps}


def _record(value: object) -> bytes:
    """One record of OVSDB's standalone file format: a header with the length and SHA-1 of
    the JSON text (its newline included), then the text."""
    body = (json.dumps(value, separators=(",", ":")) + "\n").encode()
    return f"OVSDB JSON {len(body)} {hashlib.sha1(body).hexdigest()}\n".encode() + body


def make_seed(ports: int, path: Path) -> None:
    """A northbound database file with ``ports`` logical switch ports: the schema and one
    transaction, written directly (ovsdb-server checks every row when it loads the file;
    a 100 000-row transaction through a server takes half a minute, this a second)."""
    schema = json.loads(Path(NB_SCHEMA).read_text())
    txn = {"_date": int(time.time() * 1000), "_comment": "ocf-agents bench seed", **seed_rows(ports)}
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(_record(schema) + _record(txn))
    os.replace(tmp, path)
