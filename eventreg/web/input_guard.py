"""One guard, before anything reads the request, for input no page or API can use: a NUL
character (PostgreSQL cannot store it, and no person types it) or bytes that are not UTF-8
(Werkzeug would keep them percent-encoded, so ``a%ED%A0%80b`` would be saved as text). Such a
request is refused with 400 and words in the person's language, and nothing runs, so nothing
changes.

- the path and the query string: checked as raw bytes, after percent-decoding;
- a urlencoded form: its raw body, the same way (read once; Flask parses the cached bytes);
- a multipart form: its text fields for NUL (Werkzeug has already decoded them; no form of ours
  is multipart, and files may hold any bytes);
- JSON: the API's schemas refuse NUL per field; JSON nested too deeply for Python's parser is
  bad JSON (a ValueError, so ``get_json`` answers 400), not a RecursionError and a 500.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest


class UnreadableInput(BadRequest):
    """400: the request holds a NUL character or bytes that are not UTF-8."""


def _readable(raw: bytes) -> bool:
    try:
        return "\x00" not in raw.decode("utf-8")
    except UnicodeDecodeError:
        return False


def _url_encoded_readable(raw: bytes) -> bool:
    return _readable(unquote_to_bytes(raw.replace(b"+", b" ")))


def _raw_path() -> bytes:
    """The path as the client sent it. Werkzeug's and gunicorn's servers keep the request target
    in RAW_URI (Werkzeug's own decoding of PATH_INFO has already replaced what is not UTF-8);
    WSGI strings are Latin-1 text of the raw bytes."""
    environ = request.environ
    target = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if target:
        return unquote_to_bytes(target.split("?", 1)[0].encode("latin-1"))
    return environ.get("PATH_INFO", "").encode("latin-1")


def _request_is_readable() -> bool:
    try:
        path = _raw_path()
    except UnicodeEncodeError:  # not Latin-1: not what a WSGI server hands over
        return False
    if not (_readable(path) and _url_encoded_readable(request.query_string)):
        return False
    if request.mimetype == "application/x-www-form-urlencoded":
        return _url_encoded_readable(request.get_data(cache=True))
    if request.mimetype == "multipart/form-data":
        return not any("\x00" in key + value for key, value in request.form.items(multi=True))
    return True


def refuse_unreadable_input() -> None:
    if not _request_is_readable():
        raise UnreadableInput(_("What was sent contains characters that cannot be read (a NUL character, "
                                "or bytes that are not UTF-8 text), so nothing was done. Please type it "
                                "again and send it once more."))


class JSONProvider(DefaultJSONProvider):
    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


def register(app: Flask) -> None:
    app.json = JSONProvider(app)
    # First of all before-request functions: CSRF protection and the rate limiter read the form.
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_unreadable_input)
