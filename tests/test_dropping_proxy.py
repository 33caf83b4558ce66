"""The outage test's proxy does what it claims: the server gets the batch, the client never hears back."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from .dropping_proxy import DroppingProxy


class Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    received: list[tuple[str, bytes]] = []

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.received.append((self.path, body))
        answer = b'{"n": %d}' % len(self.received)
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = _answer

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def proxy():
    Recorder.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    proxy = DroppingProxy(server.server_address[1])
    proxy.start()
    yield proxy
    proxy.close()
    server.shutdown()
    server.server_close()


def test_a_dropped_batch_reaches_the_server_and_its_answer_does_not_come_back(proxy):
    url = f"http://127.0.0.1:{proxy.port}"
    # No keep-alive: the proxy closes every connection after one answer (it asks both sides for
    # Connection: close), and a pooled client could send on a closed one before it notices.
    with httpx.Client(base_url=url, limits=httpx.Limits(max_keepalive_connections=0)) as http:
        assert http.post("/api/v1/events/1/desk-batches", json={"a": 1}).json() == {"n": 1}
        proxy.drop_batches = 1
        assert http.get("/desk/1").json() == {"n": 2}  # only batches are dropped
        with pytest.raises(httpx.TransportError):
            http.post("/api/v1/events/1/desk-batches", json={"a": 2})
        assert http.post("/api/v1/events/1/desk-batches", json={"a": 3}).json() == {"n": 4}  # once
    assert [body for path, body in Recorder.received if path.endswith("desk-batches")] == [
        b'{"a":1}', b'{"a":2}', b'{"a":3}']
    assert [b.dropped for b in proxy.batches] == [False, True, False]
    assert proxy.batches[1].response.endswith(b'{"n": 3}')  # what the client did not get


def test_stopped_it_refuses_connections_and_starts_again_on_its_port(proxy):
    port = proxy.port
    proxy.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/")
    assert proxy.start() == port
    assert httpx.get(f"http://127.0.0.1:{port}/").status_code == 200
