"""The control-socket client against small socket servers that misbehave on purpose.

(Against real ovsdb-servers it is exercised by every integration test.)"""

from __future__ import annotations

import json
import socket
import threading

import pytest

from ocf_agents.ovs import unixctl


@pytest.fixture
def server(tmp_path):
    """A unix socket server whose reply to the request is chosen by the test."""
    path = str(tmp_path / "ctl")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)
    replies: list[bytes] = []
    seen: list[dict] = []

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            seen.append(json.loads(conn.recv(65536)))
            for part in replies:
                conn.sendall(part)
            conn.recv(1)  # hold the connection open until the client goes

    thread = threading.Thread(target=serve, daemon=True)
    yield path, replies, seen, thread
    listener.close()


def test_result_arriving_in_pieces(server):
    path, replies, seen, thread = server
    replies += [b'{"id":0,"error":null,', b'"result":"state: active\\n"}']
    thread.start()
    assert unixctl.call(path, "ovsdb-server/sync-status", ["x"]) == "state: active\n"
    assert seen == [{"id": 0, "method": "ovsdb-server/sync-status", "params": ["x"]}]


def test_error_reply_names_the_command(server):
    path, replies, _, thread = server
    replies.append(b'{"id":0,"error":"\\"nope\\" is not a valid command","result":null}')
    thread.start()
    with pytest.raises(unixctl.UnixctlError, match="nope failed"):
        unixctl.call(path, "nope")


def test_a_server_that_never_finishes_its_reply_is_given_up_on(server):
    path, replies, _, thread = server
    replies.append(b'{"id":0,')
    thread.start()
    with pytest.raises(unixctl.UnixctlError, match="did not answer"):
        unixctl.call(path, "ovsdb-server/sync-status", timeout=0.3)


def test_no_socket():
    with pytest.raises(unixctl.UnixctlError, match="did not answer"):
        unixctl.call("/nonexistent/ctl", "ovsdb-server/sync-status")
