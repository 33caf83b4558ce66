"""Outgoing email: build a message from plain values, and send it over SMTP.

Templates live in templates/mail/<lang>/ (subject.txt, <kind>.txt, <kind>.html; the HTML
extends mail/layout.html). The Message-ID is derived from the outbox row, so every retry of
one message carries the same ID and a mail client can drop a duplicate.

Headers. From, To and Reply-To are ``email.headerregistry.Address`` objects in an
``email.message.EmailMessage`` (policy SMTP), never strings put together by hand, and each
folded address header is parsed back and must name exactly its one address, with its name.
They are folded here (``fold_mailboxes``), not by CPython: its folder splits a long ASCII name
that needs quoting (a comma, parentheses, a semicolon: 「Wakamono TECH Office (Sodateage Net),
contact: …; weekdays」 as an event's contact) without its quotes, so the header named two
addresses or none and every mail of the event failed to build. An ASCII name goes out as its
atoms (folded between them) or as one quoted string on a line of its own (never folded inside:
RFC 5322 allows it, but parsers such as ``email.utils.getaddresses`` then split the name; the
line stays far below 998 characters); any other name as RFC 2047 encoded words of at most 75
characters, each whole characters of UTF-8. Flask-Mail's own
``Message`` is not used for headers: its ``sanitize_address`` encodes a display name as RFC 2047
words that decode to ``Eve <eve@evil.example>,`` (shown by clients as two recipients),
double-encodes an already formatted ``"name" <addr>`` string, inserts spaces into long
Japanese names, and its final refold with policy SMTP turns a name written as ``=?utf-8?…?=``
back into raw text. Display names are put on one line (CR, LF and other controls become a
space), and ``=?`` in a name gets an invisible U+2060 between its two characters: CPython's
header folder decodes an encoded word found in a display name and writes the result out
unquoted, which would let a name add a recipient. Flask-Mail still supplies the SMTP settings.

What SMTP can promise: a 250 reply to DATA means the receiving server took responsibility for
the message. It cannot tell us it reached the inbox, and if the connection breaks after DATA but
before the reply we cannot know either way; the worker then retries and the recipient may get
the same message (same Message-ID) twice. At least once, never "exactly once".
"""

from __future__ import annotations

import base64
import email
import email.policy
import re
import smtplib
import time
from datetime import datetime
from email.headerregistry import Address, HeaderRegistry, UniqueAddressHeader
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import NamedTuple

from flask import current_app, render_template

from ..extensions import mail
from . import sheets

SMTP_TIMEOUT = 30  # seconds, for connecting and for every read/write on the socket
LANGUAGES = ("ja", "en")
_SPACE = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u2028\u2029]+")
WORD_JOINER = "\u2060"
_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ ]+")  # RFC 5322 atext (and the spaces between atoms)
_LINE = 78  # RFC 5322's recommended line length
_ENCODED_BYTES = 45  # "=?utf-8?b?" + base64 of 45 bytes (60) + "?=" = 72 <= 75 (RFC 2047)


def _name_words(name: str) -> list[str]:
    """The display name as the words of a phrase, each of which may stand alone on a line."""
    if not name:
        return []
    if name.isascii():
        if _ATOM.fullmatch(name):
            return name.split(" ")
        # One quoted string on one line (at most 998 characters): old parsers split a folded one.
        return ['"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"']
    chunks, chunk = [], ""
    for char in name:
        if len((chunk + char).encode()) > _ENCODED_BYTES:
            chunks.append(chunk)
            chunk = ""
        chunk += char
    chunks.append(chunk)  # adjacent encoded words join without their space (RFC 2047 6.2)
    return [f"=?utf-8?b?{base64.b64encode(c.encode()).decode()}?=" for c in chunks]


def fold_mailboxes(name: str, addresses, linesep: str = "\r\n") -> str:
    """``Name: phrase <addr>, …`` folded before 78 characters where a phrase may be folded."""
    words = []
    for i, address in enumerate(addresses):
        phrase = _name_words(address.display_name)
        words += [*phrase, f"<{address.addr_spec}>" if phrase else address.addr_spec]
        if i < len(addresses) - 1:
            words[-1] += ","
    lines, line = [], f"{name}:"
    for word in words:
        if len(line) + 1 + len(word) > _LINE and line.strip() != f"{name}:":
            lines.append(line)
            line = ""
        line += f" {word}"
    return linesep.join([*lines, line]) + linesep


class _MailboxHeader(UniqueAddressHeader):
    """From, To, Reply-To: parsed as CPython does, folded by ``fold_mailboxes``."""

    def fold(self, *, policy):
        return fold_mailboxes(self.name, self.addresses, policy.linesep)


_HEADERS = HeaderRegistry()
for _name in ("from", "to", "reply-to", "sender"):
    _HEADERS.map_to_type(_name, _MailboxHeader)
# 7bit: bodies go out base64 or quoted-printable, so no server needs 8BITMIME.
POLICY = email.policy.SMTP.clone(cte_type="7bit", header_factory=_HEADERS)


class Outgoing(NamedTuple):
    message: EmailMessage
    envelope_from: str
    envelope_to: str


class File(NamedTuple):
    filename: str
    content_type: str  # e.g. "application/pdf", "text/calendar; method=CANCEL"
    data: bytes


def display_name(name: str | None) -> str:
    """A person's name as it may stand in an address header (see the module docstring)."""
    return _SPACE.sub(" ", name or "").strip().replace("=?", "=" + WORD_JOINER + "?")


def mailbox(name: str | None, address: str) -> Address:
    """``Address`` for a header; raises ValueError for an address that is not one addr-spec."""
    username, at, domain = (address or "").rpartition("@")
    if not at or not username or not domain or _SPACE.search(address):
        raise ValueError("not an email address")
    return Address(display_name=display_name(name), username=username, domain=domain)


def sender() -> Address:
    name, address = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])
    return mailbox(name, address)


def _domain(address: Address) -> str:
    return address.domain or "localhost"


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _check_address_header(message: EmailMessage, name: str, expected: str) -> None:
    """The folded header, parsed again, must hold exactly the one address it was built from."""
    line = message.policy.fold(name, message[name])
    parsed = email.message_from_string(line + message.policy.linesep, policy=email.policy.default)[name]
    if [a.addr_spec for a in parsed.addresses] != [expected]:
        raise ValueError(f"the {name} header does not parse back to its one address")


def _list_unsubscribe(message: EmailMessage, url: str | None) -> None:
    """List-Unsubscribe (RFC 2369) with the caller's link; with an https link also
    List-Unsubscribe-Post (RFC 8058), which lets a mail client unsubscribe with one POST. RFC 8058
    requires https (a development site on http gets the link alone), and the DKIM signature that
    mail providers want over both headers is the sending server's, not ours."""
    if not url:
        return
    if any(char in url for char in "<>\r\n \t"):
        raise ValueError("an unsubscribe link must be one URL")
    message["List-Unsubscribe"] = f"<{url}>"
    if url.startswith("https://"):
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"


def build_message(*, kind: str, lang: str, values: dict, to: tuple[str, str], message_id_left: str,
                  date: datetime, reply_to: tuple[str, str] | None = None,
                  files: list[File] = ()) -> Outgoing:
    """The email of ``kind`` in ``lang`` rendered from ``values``, to ``to`` = (name, address)."""
    lang = lang if lang in LANGUAGES else "ja"
    values = dict(values, kind=kind, lang=lang)
    values.setdefault("ctx", values)
    From, To = sender(), mailbox(*to)
    message = EmailMessage(policy=POLICY)
    message["Subject"] = _one_line(render_template(f"mail/{lang}/subject.txt", **values))
    message["From"] = From
    message["To"] = To
    if reply_to and reply_to[1]:
        message["Reply-To"] = mailbox(*reply_to)
        _check_address_header(message, "Reply-To", message["Reply-To"].addresses[0].addr_spec)
    _check_address_header(message, "To", To.addr_spec)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = f"<{message_id_left}@{_domain(From)}>"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    _list_unsubscribe(message, values.get("list_unsubscribe"))
    message.set_content(render_template(f"mail/{lang}/{kind}.txt", **values))
    message.add_alternative(render_template(f"mail/{lang}/{kind}.html", **values), subtype="html")
    for file in files:
        content_type, *params = (part.strip() for part in file.content_type.split(";"))
        maintype, subtype = content_type.split("/")
        every = dict(param.split("=", 1) for param in params if "=" in param)
        extra = {key: value for key, value in every.items() if key != "charset"}
        if maintype == "text" and subtype == "calendar":
            message.add_attachment(file.data.decode("utf-8"), subtype=subtype, filename=file.filename,
                                   params=extra or None)
        else:  # as bytes, base64: a CSV keeps its BOM or its CP932 bytes exactly
            if maintype == "text":
                every.setdefault("charset", "utf-8")  # text without a charset has always been UTF-8 here
            message.add_attachment(file.data, maintype=maintype, subtype=subtype, filename=file.filename,
                                   params=every or None)
    return Outgoing(message, From.addr_spec, To.addr_spec)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def security_list_file(fmt: str, header: list[str], rows: list[list[str]], filename: str,
                       *, sheet: str = "入館者リスト") -> tuple[File, list[tuple[int, str, str]]]:
    """The building-security list file in ``fmt`` ("xlsx", "csv", "csv_cp932"), and the CP932
    problems: a CP932 list that cannot carry every name goes as UTF-8 CSV with BOM instead (never
    with a character replaced), and the problems (row, column, character) are returned so the
    email can say so."""
    if fmt == "xlsx":
        return File(filename, XLSX, sheets.xlsx_bytes(header, rows, sheet=sheet)), []
    problems: list[tuple[int, str, str]] = []
    if fmt == "csv_cp932":
        try:
            return File(filename, "text/csv; charset=shift_jis", sheets.csv_bytes(header, rows, encoding="cp932")), []
        except sheets.Unencodable as exc:
            problems = exc.problems
    return File(filename, "text/csv; charset=utf-8", sheets.csv_bytes(header, rows)), problems


def describe_error(exc: BaseException) -> tuple[str, bool]:
    """(words for a log line, permanent?) about a failed send.

    SMTPRecipientsRefused, SMTPSenderRefused and the server's replies carry addresses in their
    text, so a log line gets only the exception's name and the SMTP codes. A 5xx refusal of
    the recipient or of the message is permanent: retrying cannot help.
    """
    name = type(exc).__name__
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in exc.recipients.values()})
        return f"{name} {','.join(map(str, codes))}", bool(codes) and all(code >= 500 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        return f"{name} {code}", isinstance(exc, (smtplib.SMTPDataError, smtplib.SMTPSenderRefused)) and code >= 500
    if isinstance(exc, OSError):
        return f"{name}: {exc.strerror or exc}" if exc.errno else f"{name}: {exc}", False
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"{name}: the server lacks an extension this message needs (SMTPUTF8?)", True
    return name, False


class _Deadline:
    """An smtplib client whose whole conversation ends by ``deadline`` (time.monotonic()).

    smtplib's timeout is per socket operation; a server that answers slowly to every line could
    hold one message far longer than the worker's lease. Each command and each reply gets the
    time that is left (at most SMTP_TIMEOUT).
    """

    deadline: float | None = None

    def _arm(self):
        if self.deadline is not None and self.sock is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("timed out: the SMTP conversation took longer than its deadline")
            self.sock.settimeout(min(left, SMTP_TIMEOUT))

    def send(self, s):
        self._arm()
        return super().send(s)

    def getreply(self):
        self._arm()
        return super().getreply()


class _SMTP(_Deadline, smtplib.SMTP):
    pass


class _SMTP_SSL(_Deadline, smtplib.SMTP_SSL):
    pass


def _connect(state, deadline: float | None):
    """Flask-Mail 0.10 opens smtplib.SMTP without a timeout; a stuck server would hang forever."""
    host = (_SMTP_SSL if state.use_ssl else _SMTP)(timeout=SMTP_TIMEOUT)
    host.deadline = deadline
    try:
        host.connect(state.server, state.port)
        if state.use_tls:
            host.starttls()
        if state.username and state.password:
            host.login(state.username, state.password)
    except BaseException:
        host.close()
        raise
    return host


def send(outgoing: Outgoing, *, within: float | None = None) -> None:
    """Sends one message. Raises smtplib.SMTPException or OSError when delivery fails.

    ``within`` bounds the whole SMTP conversation, in seconds. The SMTP settings are read from
    the current app's config at each call (Flask-Mail copies them once in init_app), so a changed
    MAIL_SERVER/MAIL_PORT takes effect. Unlike Flask-Mail, TESTING does not suppress sending;
    MAIL_SUPPRESS_SEND=True still does. smtplib asks for SMTPUTF8 when an address needs it.
    """
    app = current_app._get_current_object()
    state = mail.init_mail(app.config, app.debug, testing=False)
    if state.suppress:
        return
    host = _connect(state, time.monotonic() + within if within else None)
    try:
        host.send_message(outgoing.message, outgoing.envelope_from, [outgoing.envelope_to])
    except BaseException:
        host.close()
        raise
    try:
        host.quit()
    except (smtplib.SMTPException, OSError):
        # The message was accepted already; a failed QUIT must not make us send it again.
        host.close()
