"""A real SMTP server for tests (aiosmtpd in a thread) that keeps what it receives.

``stop()`` then ``start()`` simulates an outage: connections are refused in between, and the
server comes back on the same port. ``reject`` makes it answer DATA with a temporary error
(the message is still recorded in ``rejected``, to compare what each attempt looked like).
Addresses in ``refuse`` are refused at RCPT TO with a permanent 550 that names them, as real
servers do. ``raw`` keeps each accepted message's bytes and ``envelopes`` its MAIL FROM and
RCPT TO, so tests can parse headers themselves and compare them with the envelope.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SMTPRecorder:
    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.messages: list[EmailMessage] = []
        self.rejected: list[EmailMessage] = []
        self.reject: str | None = None  # e.g. "451 4.3.0 try again later"
        self.refuse: set[str] = set()  # recipients refused at RCPT TO
        self.raw: list[bytes] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    # aiosmtpd handler hooks
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            if self.reject:
                self.rejected.append(message)
                return self.reject
            self.messages.append(message)
            self.raw.append(bytes(envelope.content))
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"

    def start(self) -> SMTPRecorder:
        assert self._controller is None, "already running"
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def received(self) -> list[EmailMessage]:
        with self._lock:
            return list(self.messages)

    def message_ids(self) -> list[str]:
        return [m["Message-ID"] for m in self.received]

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.received if address in m["To"]]
