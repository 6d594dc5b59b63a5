"""JSON-RPC without the json package: the same text as json, echo requests answered, and json
loaded only for the unusual. (Against real ovsdb-servers: every integration test.)"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ocf_agents.ovs import jsonrpc

REPO = str(Path(__file__).resolve().parents[2])
VALUES = [
    {"id": 1, "method": "transact", "params": ["OVN_Northbound", {"op": "select", "where": []}]},
    ["set", [["uuid", "0b7e"], ["named-uuid", "conn"]]],
    {"text": "é\n\"quoted\"\t\u2028", "n": -12, "x": 2.5, "none": None, "yes": True},
]


@pytest.mark.parametrize("value", VALUES)
def test_dumps_writes_what_json_writes(value: object) -> None:
    assert jsonrpc.dumps(value) == json.dumps(value, separators=(",", ":"))


def test_a_value_json_cannot_write_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="set is not JSON serializable"):
        jsonrpc.dumps({"x": {1, 2}})


@pytest.mark.parametrize("value", VALUES)
def test_decode_prefix_reads_one_value_and_says_where_it_ends(value: object) -> None:
    text = json.dumps(value)
    assert jsonrpc.decode_prefix(text + ' {"next": 1}') == (value, len(text))


@pytest.mark.parametrize("text", ['{"id":0,"res', "", "nonsense"])
def test_an_incomplete_or_malformed_text_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        jsonrpc.decode_prefix(text)


def test_the_usual_exchange_imports_no_json() -> None:
    code = ("import sys; from ocf_agents.ovs import jsonrpc; "
            "jsonrpc.decode_prefix(jsonrpc.dumps({'id': 0, 'result': 'state: active'})); "
            "print(sorted(m for m in ('json', 'socket', 're', 'enum') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-IS", "-c", f"import sys; sys.path.insert(0, {REPO!r}); {code}"],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_echo_requests_are_answered_and_other_ids_skipped(tmp_path: Path) -> None:
    path = str(tmp_path / "db.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)
    heard: list[dict] = []

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            request = json.loads(conn.recv(65536))
            conn.sendall(b'{"id":"echo","method":"echo","params":[]}')
            heard.append(json.loads(conn.recv(65536)))  # the client's answer to the echo
            conn.sendall(b'{"id":99,"result":[],"error":null}')
            conn.sendall(json.dumps({"id": request["id"], "result": ["ok"], "error": None}).encode())
            conn.recv(1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        reply = jsonrpc.call(path, "transact", ["OVN_Northbound"], 7, timeout=5)
    finally:
        listener.close()
    assert reply == {"id": 7, "result": ["ok"], "error": None}
    assert heard == [{"id": "echo", "result": []}]
