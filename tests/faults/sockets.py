"""Loopback servers that fail the way real dependencies do: a TCP gate in front of PostgreSQL that
can go down and come back, and a server that accepts connections and never answers (hung)."""

from __future__ import annotations

import socket
import threading


class _Listener:
    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def _accept_loop(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:  # closed: stopped
                return
            self.accepted(conn)

    def accepted(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def _hold(self, *socks: socket.socket) -> None:
        with self._lock:
            self.held.extend(socks)

    def _drop_all(self) -> None:
        with self._lock:
            socks, self.held = self.held, []
        for sock in socks:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def stop(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() that close() alone would leave waiting
        except OSError:
            pass
        self.sock.close()
        self._drop_all()
        self._thread.join(timeout=5)


class Hung(_Listener):
    """Accepts every connection and never sends a byte: a frozen Redis, not a dead one."""

    connections = 0

    def accepted(self, conn: socket.socket) -> None:
        self.connections += 1
        self._hold(conn)


class Gate(_Listener):
    """Forwards to ``target`` until ``shut()``: then every open connection is cut and each new one
    is closed as soon as it is accepted (counted in ``refused``: one per attempt to reach the
    database), until ``reopen()``."""

    def __init__(self, target: tuple[str, int]):
        super().__init__()
        self.target = target
        self.down = False
        self.forwarded = 0
        self.refused = 0

    def accepted(self, conn: socket.socket) -> None:
        if self.down:
            self.refused += 1
            conn.close()
            return
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            conn.close()
            return
        upstream.settimeout(None)
        self.forwarded += 1
        self._hold(conn, upstream)
        for source, sink in ((conn, upstream), (upstream, conn)):
            threading.Thread(target=_pump, args=(source, sink), daemon=True).start()

    def shut(self) -> None:
        self.down = True
        self._drop_all()

    def reopen(self) -> None:
        self.down = False


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
