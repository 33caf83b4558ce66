"""A TCP proxy for HTTP/1.1 that can lose the answer to a desk batch, as a flaky network does.

The desk pages talk to gunicorn through it (it is their origin). Each connection carries one
request (the proxy asks both sides for ``Connection: close``), so it sees every request whole.
A ``POST …/desk-batches`` is always forwarded to the server and its answer read in full; while
``drop_batches`` is above zero the proxy then closes the browser's connection without relaying
that answer: the server did the work, the page never heard of it and must send the batch again.
Every batch's request and answer bytes are kept in ``batches`` for the test to replay and compare.

``start``/``stop`` open and close the listening socket on the same port: stopped, the page's
connections are refused as they would be by a stopped server.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass


@dataclass
class Batch:
    request: bytes  # the request as the browser sent it, with Connection: close
    response: bytes  # the server's whole answer (head and body)
    dropped: bool  # True when the browser never got it
    arrived: float  # time.monotonic() when the request reached the proxy
    seconds: float  # from then to the server's whole answer


class DroppingProxy:
    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.port = 0
        self.drop_batches = 0
        self.batches: list[Batch] = []
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.base_events.Server | None = None
        self._transports: set[asyncio.BaseTransport] = set()  # every socket it opened, both sides
        self._thread = threading.Thread(target=self._loop.run_forever, name="dropping-proxy", daemon=True)
        self._thread.start()

    def _run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    def start(self) -> int:
        """Listens (on the same port as before, after the first start); returns the port."""
        async def listen():
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True)
            return self._server.sockets[0].getsockname()[1]

        self.port = self._run(listen())
        return self.port

    def stop(self) -> None:
        """Stops listening: new connections are refused (those in flight finish)."""
        async def close():
            if self._server is not None:
                self._server.close()
                await self._server.wait_closed()
                self._server = None

        self._run(close())

    def close(self) -> None:
        self.stop()

        async def end_connections():  # idle browser connections too: each closes its sockets
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            # A transport closed without waiting releases its socket on a later turn of the loop:
            # abort what is left and give the loop those turns, so that no socket outlives it.
            for transport in self._transports:
                transport.abort()
            for _ in range(3):
                await asyncio.sleep(0)

        self._run(end_connections())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._transports.add(writer.transport)
        try:
            await self._relay(reader, writer)
        finally:  # whatever happened (cancelled at close, a request it cannot read): no socket left open
            if not writer.transport.is_closing():
                writer.close()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request, is_batch = await self._read_request(reader)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
            writer.transport.abort()
            return
        started = time.monotonic()
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:  # the server is down: the browser sees its connection fail
            writer.transport.abort()
            return
        self._transports.add(up_writer.transport)
        try:
            up_writer.write(request)
            await up_writer.drain()
            response = await up_reader.read()  # until the server closes (Connection: close)
        except OSError:  # the server was killed while answering: so is the browser's connection
            writer.transport.abort()
            return
        finally:
            up_writer.close()
        if is_batch:
            dropped = self.drop_batches > 0 and bool(response)
            self.batches.append(Batch(request, response, dropped, started, time.monotonic() - started))
            if dropped:
                self.drop_batches -= 1
                writer.transport.abort()  # the answer is lost on the way back
                return
        try:
            writer.write(response)
            await writer.drain()
        except ConnectionError:
            pass
        writer.close()

    @staticmethod
    async def _read_request(reader: asyncio.StreamReader) -> tuple[bytes, bool]:
        head = await reader.readuntil(b"\r\n\r\n")
        first, *fields = head[:-4].split(b"\r\n")
        method, target, _version = first.split(b" ", 2)
        kept, length = [], 0
        for field in fields:
            name, _, value = field.partition(b":")
            name = name.strip().lower()
            if name in (b"connection", b"keep-alive"):
                continue
            if name == b"transfer-encoding":
                raise ConnectionError("chunked request bodies are not supported by this proxy")
            if name == b"content-length":
                length = int(value)
            kept.append(field)
        body = await reader.readexactly(length)
        is_batch = method == b"POST" and target.split(b"?")[0].endswith(b"/desk-batches")
        return b"\r\n".join([first, *kept, b"Connection: close", b"", b""]) + body, is_batch
