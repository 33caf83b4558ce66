"""An app on a real loopback port, served by a threaded werkzeug server (one thread per request,
as many at once as clients send), for tests that need real HTTP: races, a second app with other
settings beside the live server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from werkzeug.serving import WSGIRequestHandler, make_server


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # hundreds of request lines would bury a failure
        pass


@contextmanager
def served(app) -> Iterator[str]:
    """Serves ``app`` while the block runs; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
    server.daemon_threads = True
    # shutdown() waits for the loop's next poll: 0.5 s by default, on every test.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="test-server",
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
