"""Response headers, the one redirect guard, and the redaction of secrets in logged paths.

Headers are a few lines of our own rather than Flask-Talisman: what we need depends on the path
(no-store on pass and staff pages, a looser style policy only on the development mail viewer), which
Talisman expresses with per-view decorators on other blueprints' views; Talisman would also redirect
to https and set cookie flags itself, both of which belong to the reverse proxy and to config.py here.
Every response gets them, error pages and JSON included, because ``after_request`` runs for both.

- ``Content-Security-Policy``: only our own scripts, styles and images (the QR is a data: URI on
  the pass page), nothing inline, no plugins, no framing, forms post only to us.
- ``X-Frame-Options: DENY`` for browsers without frame-ancestors; ``nosniff``. PDFs alone may be
  framed by our own pages (the desk's badge page prints the badge PDF from a frame).
- ``Referrer-Policy: no-referrer`` everywhere: pass pages carry a secret in the URL, and a
  referrer is worth nothing to us elsewhere.
- ``Cache-Control: no-store`` on pass pages (``/r/...``), invitations (``/invite/...``) and staff pages (``/staff``, ``/desk``,
  ``/admin``, ``/login`` with its password-reset pages, ``/api``): a shared computer's back button or a proxy must not keep them.
- ``Strict-Transport-Security`` in production only (development runs on http://127.0.0.1).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from urllib.parse import quote, urlsplit

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "media-src 'self' blob:",
    "connect-src 'self'",
    "frame-src 'self'",  # the badge page shows the badge PDF in a frame
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
# The development mail viewer shows caught HTML mail (inline styles) in a sandboxed srcdoc frame.
DEV_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
# The desk camera's decoder worker compiles zxing-wasm (static/desk/camera.js): a worker runs under
# its own response's policy, so only this one script may compile WebAssembly; no page may.
# The desk's modules are served at /desk/app/<version>/ (web/reception.py): the same file there.
WASM_WORKERS = ("/static/desk/decoder-worker.js",)
WASM_WORKER_IN_APP = re.compile(r"/desk/app/[0-9a-f]{12}/decoder-worker\.js")
WASM_CSP = CSP.replace("script-src 'self'", "script-src 'self' 'wasm-unsafe-eval'")
NO_STORE_PREFIXES = ("/r/", "/u/", "/j/", "/invite/", "/staff", "/desk", "/admin", "/login", "/logout", "/api/")
HSTS = "max-age=63072000; includeSubDomains"


# The desk's browser packages (web/desk_vendor.py) and modules (web/reception.py): public code.
PUBLIC_PREFIXES = ("/desk/vendor/", "/desk/app/")


def _no_store(path: str) -> bool:
    if path.startswith(PUBLIC_PREFIXES):
        return False
    return path.startswith(NO_STORE_PREFIXES) or path in ("/api", "/desk", "/admin")


def _policy(path: str) -> str:
    if path.startswith("/_dev/"):
        return DEV_CSP
    return WASM_CSP if path in WASM_WORKERS or WASM_WORKER_IN_APP.fullmatch(path) else CSP


class SignedCookieSessions(SecureCookieSessionInterface):
    """Flask's signed session cookie, its signer made once per set of keys. Flask builds it anew
    on every request, with or without a cookie (about 2 % of a scanner's check-in)."""

    def __init__(self) -> None:
        self._signers: dict[tuple, object] = {}

    def get_signing_serializer(self, app: Flask):
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if keys not in self._signers:  # a rotated key (or a test's) gets a signer of its own
            self._signers[keys] = super().get_signing_serializer(app)
        return self._signers[keys]


def register(app: Flask) -> None:
    production = app.config["ENV"] == "production"
    install_log_filters(app)
    app.session_interface = SignedCookieSessions()

    @app.after_request
    def _headers(response):
        headers = response.headers
        if response.mimetype == "application/pdf":
            # The badge page shows its PDF in a frame of ours; a document policy would only get in
            # the way of the browser's PDF viewer.
            headers.setdefault("Content-Security-Policy", "frame-ancestors 'self'")
            headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        else:
            headers.setdefault("Content-Security-Policy", _policy(request.path))
            headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "no-referrer")
        if production:
            headers.setdefault("Strict-Transport-Security", HSTS)
        if _no_store(request.path):
            headers["Cache-Control"] = "no-store"
            headers.pop("Expires", None)
        return response


# ---- redirects ---------------------------------------------------------------------------------

_ASCII_PRINTABLE = "".join(chr(c) for c in range(0x21, 0x7f))
_SAFE_PATH = re.compile(r"/(?![/\\])[\x21-\x7e]*\Z")  # printable ASCII, no second slash or backslash
# Encoded control characters, DEL and backslash, and an encoded slash right after the first one.
_ENCODED_TRICK = re.compile(r"%(?:[01][0-9a-f]|7f|5c)|\A/%2f", re.IGNORECASE)


def safe_next(target: str | None, default: str = "/") -> str:
    """``target`` if it is a path on this site, else ``default``.

    Browsers ignore tabs and newlines in URLs and read ``\\`` as ``/``, and Werkzeug drops control
    characters from a Location header, so ``/\\t/evil.example`` would become ``//evil.example``.
    Only printable ASCII passes, without a backslash or an encoded control character, backslash or
    leading slash (a later decoding step must not be able to make a host of it either), and the
    result must parse as a path without scheme or host.
    """
    if not target or len(target) > 2000:
        return default
    if not target.isascii():  # a page's own non-ASCII path: visible characters only, then encoded
        if any(unicodedata.category(c)[0] in "CZ" for c in target):
            return default
        target = quote(target, safe=_ASCII_PRINTABLE)
    if not _SAFE_PATH.match(target) or "\\" in target:
        return default
    if _ENCODED_TRICK.search(target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


# ---- logs --------------------------------------------------------------------------------------

# /r/<token>, /r/<token>/pass.pdf, ... : the token is a credential (the attendee's link); so are
# /invite/<token> (a staff invitation), /login/reset/<token> (a password-reset link), /u/<key> (an
# organizer message's unsubscribe link) and /j/<key> (an online registrant's join link). Matched as
# the server decodes the path: any character of the prefix or of the token may be percent-encoded, once (``/%72/Ab%43…`` is served as ``/r/AbC…``)
# or twice (``%252Fr%252F…`` inside an encoded ``?next=``), as in the language
# switch's ``?next=%2Fr%2F<token>`` or the sign-in page's ``?next=%2Finvite%2F<token>``. The
# token ends where its path segment does: at /, ?, &, #, a space or a quote, written or encoded.


def _written_or_encoded(char: str) -> str:
    forms = {f"%{ord(c):02x}" for c in {char.lower(), char.upper()}}
    return "(?:" + "|".join([re.escape(char), *sorted(forms), *sorted("%25" + f[1:] for f in forms)]) + ")"


_ENDS = "(?!2f|3f|26|23|20|09|0a|0d|22|27)"  # hex of what ends a path segment
_TOKEN_CHARACTER = rf"(?:%25{_ENDS}[0-9a-f]{{2}}|%(?!25){_ENDS}[0-9a-f]{{2}}|[^/?&#%\s\"'])"
_SLASH = _written_or_encoded("/")
_PASS_PATH = re.compile(
    rf"({_SLASH}(?:{''.join(map(_written_or_encoded, 'invite'))}|{''.join(map(_written_or_encoded, 'login/reset'))}"
    rf"|{_written_or_encoded('r')}|{_written_or_encoded('u')}|{_written_or_encoded('j')}){_SLASH})"
    rf"{_TOKEN_CHARACTER}+", re.IGNORECASE)
REDACTED = "[redacted]"


def redact_path(path: str) -> str:
    """A request path, request line or URL with pass tokens replaced by ``[redacted]``, for logs."""
    return _PASS_PATH.sub(r"\1" + REDACTED, path) if path else path


class RedactFilter(logging.Filter):
    """Rewrites a log record so that no pass token survives in its message or traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_path(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact_path(logging.Formatter().formatException(record.exc_info))
        return True


def install_log_filters(app: Flask) -> None:
    """Our app's log and the development server's request log (``werkzeug``) are redacted."""
    for logger in (app.logger, logging.getLogger("werkzeug")):
        if not any(isinstance(f, RedactFilter) for f in logger.filters):
            logger.addFilter(RedactFilter())
