"""Response headers, the redirect guard, ids in URLs, and secrets kept out of logs."""

from __future__ import annotations

import logging
import runpy
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.utils import redirect

from eventreg.extensions import db
from eventreg.web.security import redact_path, safe_next

from .. import factories
from .conftest import csrf_token

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def world(make_event):
    event = factories.make_event()
    person = factories.register_person(event)
    organizer = factories.make_staff("organizer")
    return {"event": event, "slug": event.slug, "token": person.token, "person": person.id, "organizer": organizer}


def _assert_common(response):
    csp = response.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "Strict-Transport-Security" not in response.headers  # development: http://127.0.0.1


def test_headers_on_public_pages_error_pages_and_json(client, world):
    pages = ["/", f"/e/{world['slug']}", "/no-such-page", "/api/v1/openapi.json", "/api/v1/events/1/counts"]
    for url in pages:
        response = client.get(url)
        _assert_common(response)
    assert client.get("/no-such-page").status_code == 404
    assert client.get("/api/v1/events/1/counts").status_code == 401  # JSON error, same headers
    # Public pages may be cached by the browser; pass and staff pages never.
    assert "no-store" not in client.get(f"/e/{world['slug']}").headers.get("Cache-Control", "")


def test_no_store_on_pass_and_staff_pages(client, login, world):
    token = world["token"]
    anonymous = [f"/r/{token}", f"/r/{token}/calendar.ics", "/login", "/staff", "/api/v1/events/1/counts"]
    for url in anonymous:
        response = client.get(url)
        assert response.headers["Cache-Control"] == "no-store", url
        _assert_common(response)
    login(world["organizer"])
    signed_in = ["/staff", f"/desk/{world['event'].id}", f"/admin/events/{world['event'].id}/checkins",
                 f"/api/v1/events/{world['event'].id}/counts", f"/desk/{2**31}"]
    for url in signed_in:
        response = client.get(url)
        assert response.status_code in (200, 404), url
        assert response.headers["Cache-Control"] == "no-store", url
        _assert_common(response)


def test_pdfs_may_be_framed_only_by_our_own_pages(client, login, world):
    login(world["organizer"])
    response = client.get(f"/desk/{world['event'].id}/badge/{world['person']}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Security-Policy"] == "frame-ancestors 'self'"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert response.headers["Cache-Control"] == "no-store"


def test_no_template_has_inline_script_style_or_handlers():
    import re

    served = [p for p in (ROOT / "templates").rglob("*.html") if p.relative_to(ROOT / "templates").parts[0] not in ("mail", "pdf")]
    assert served
    for path in served:
        html = path.read_text("utf-8")
        for script in re.findall(r"<script\b([^>]*)>", html):
            assert "src=" in script or 'type="application/json"' in script, (path, script)
        assert not re.search(r"<style\b", html), path
        assert not re.search(r"\son[a-z]+\s*=", html), path
        assert "javascript:" not in html, path


# ---- redirects ---------------------------------------------------------------------------------

EVIL = ["//evil.example", "/%09/evil.example", "/\t/evil.example", "/\\evil.example", "/\r\n/evil.example",
        "https://evil.example/", "\\\\evil.example", "/%5Cevil.example", "/%2F/evil.example", "/\n/evil.example",
        "javascript:alert(1)", " /x", "/\u3000/evil.example", "/%0d%0aSet-Cookie:x=1"]


@pytest.mark.parametrize("target", EVIL)
def test_login_next_never_leaves_the_site(client, world, target):
    from urllib.parse import quote

    response = client.post("/login?next=" + quote(target, safe=""), data={
        "email": world["organizer"].email, "password": factories.PASSWORD,
        "csrf_token": csrf_token(client, "/login")})
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff"


def test_login_keeps_a_same_site_next(client, world):
    response = client.post("/login?next=/desk/1%3Fdesk%3DA", data={
        "email": world["organizer"].email, "password": factories.PASSWORD,
        "csrf_token": csrf_token(client, "/login")})
    assert response.headers["Location"] == "/desk/1?desk=A"


@pytest.mark.parametrize("target", EVIL)
def test_language_switch_never_leaves_the_site(client, target):
    response = client.get("/lang/en", query_string={"next": target})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def _browser_view(location: str) -> str:
    """What a browser makes of a Location: it drops tabs and newlines and reads \\ as /."""
    return location.replace("\t", "").replace("\n", "").replace("\r", "").replace("\\", "/").strip()


PIECES = list("/\\\t\n\r %:@.?#09aZ") + ["%09", "%2f", "%5c", "%0a", "\u3000", "é", "//", "http:"]
TRICKY = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)


@settings(max_examples=400, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=st.one_of(TRICKY, st.text(max_size=30), st.from_regex(r"\A/[\x00-\x7f]{0,12}\Z")))
def test_the_guard_output_never_leaves_the_site(app, target):
    with app.test_request_context("/"):
        result = safe_next(target, "/fallback")
        response = redirect(result)
        headers = dict(response.get_wsgi_headers({"SERVER_NAME": "x", "wsgi.url_scheme": "http"}))
        location = headers["Location"]
    for seen in (location, _browser_view(location)):
        parts = urlsplit(seen)
        assert not parts.scheme and not parts.netloc, (target, location)
        assert seen.startswith("/") and not seen.startswith("//"), (target, location)


# ---- ids in URLs -------------------------------------------------------------------------------

HUGE = [str(2**31), str(2**63), "9" * 20, "-1", "0", "+1"]


@pytest.mark.parametrize("value", HUGE)
def test_ids_out_of_range_are_404_not_500(client, login, world, value):
    login(world["organizer"])
    event_id = world["event"].id
    urls = [f"/desk/{value}", f"/desk/{event_id}/badge/{value}", f"/desk/{event_id}/badge/{value}.pdf",
            f"/admin/events/{value}/checkins", f"/admin/events/{value}/badges.pdf",
            f"/api/v1/events/{value}/counts", f"/api/v1/events/{value}/search?q=a"]
    for url in urls:
        assert client.get(url).status_code == 404, url
    token = csrf_token(client, "/staff")
    for url in [f"/api/v1/events/{event_id}/registrations/{value}/checkin",
                f"/api/v1/events/{event_id}/registrations/{value}/undo", f"/api/v1/events/{value}/checkins"]:
        response = client.post(url, json={}, headers={"X-CSRFToken": token})
        assert response.status_code == 404 and response.json["error"]["code"] == "not_found", url


def test_the_largest_id_still_routes(client, login, world):
    login(world["organizer"])
    assert client.get(f"/desk/{2**31 - 1}").status_code == 404  # routed, then no such event


# ---- logs --------------------------------------------------------------------------------------

@pytest.mark.parametrize("line, expected", [
    ("GET /r/AbC_d-9/pass.pdf HTTP/1.1", "GET /r/[redacted]/pass.pdf HTTP/1.1"),
    ("/r/tok123", "/r/[redacted]"),
    ("POST /invite/Inv-Tok_9 HTTP/1.1", "POST /invite/[redacted] HTTP/1.1"),
    ("/login?next=%2Finvite%2FInvTok", "/login?next=%2Finvite%2F[redacted]"),
    ("/r/tok123?welcome=1", "/r/[redacted]?welcome=1"),
    ("/lang/en?next=%2Fr%2Ftok123%3Fwelcome%3D1", "/lang/en?next=%2Fr%2F[redacted]%3Fwelcome%3D1"),
    ("/lang/en?next=/r/tok123/cancel", "/lang/en?next=/r/[redacted]/cancel"),
    ("http://events.example.org/r/tok123", "http://events.example.org/r/[redacted]"),
    ("/e/some-event", "/e/some-event"),
])
def test_redaction(line, expected):
    assert redact_path(line) == expected


def _encoded(text: str, at: int, form: str) -> str:
    return text[:at] + form.format(ord(text[at])) + text[at + 1:]


@pytest.mark.parametrize("form", ["%{:02X}", "%{:02x}", "%25{:02X}"])
def test_redaction_of_a_path_with_percent_encoded_characters(client, ctx, make_event, form):
    """The server decodes the path (``/r/%41bc`` is ``/r/Abc``): what is logged is redacted as
    that decoded path would be, whichever character (of the token or of ``/r/``) is encoded."""
    person = factories.register_person(make_event())
    path = f"/r/{person.token}/cancel"
    assert client.get(_encoded(path, 3, "%{:02X}")).status_code == 200  # the server reads it as the link
    for at in range(len(path) - len("/cancel")):
        line = redact_path(f"GET {_encoded(path, at, form)} HTTP/1.1")
        assert person.token[:3] not in line and person.token[-3:] not in line, line
        assert line.endswith("[redacted]/cancel HTTP/1.1"), line
    assert redact_path(f"/lang/en?next={_encoded(path, 5, form)}%3Fwelcome%3D1").endswith("%3Fwelcome%3D1")


def gunicorn_logger():
    """gunicorn's logger as gunicorn.conf.py sets it up, and a response for its access lines."""
    from gunicorn.config import Config

    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    cfg = Config()
    for key in ("accesslog", "access_log_format", "logger_class"):
        cfg.set(key, conf[key])

    class Response:
        status, sent, headers = "200 OK", 10, []

    return cfg.logger_class(cfg), Response()


def test_gunicorn_access_log_redacts_pass_tokens(capsys):
    import datetime

    logger, response = gunicorn_logger()
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/r/SECRET-token_1/pass.pdf?x=1", "PATH_INFO":
               "/r/SECRET-token_1/pass.pdf", "QUERY_STRING": "x=1", "SERVER_PROTOCOL": "HTTP/1.1",
               "REMOTE_ADDR": "203.0.113.5", "HTTP_REFERER": "https://e.example/r/SECRET-token_1"}
    logger.access(response, environ, environ, datetime.timedelta(milliseconds=3))
    logger.error("Error handling request %s", "/r/SECRET-token_1")
    out = capsys.readouterr()
    text = out.out + out.err
    assert "/r/[redacted]/pass.pdf?x=1" in text
    assert "SECRET-token_1" not in text


def test_app_and_development_server_logs_redact_pass_tokens(app, world, caplog):
    from werkzeug.serving import WSGIRequestHandler

    token = world["token"]
    handler = WSGIRequestHandler.__new__(WSGIRequestHandler)  # only its log method is used
    handler.client_address, handler.requestline = ("127.0.0.1", 1), f"GET /r/{token} HTTP/1.1"
    handler.address_string = lambda: "127.0.0.1"
    with caplog.at_level(logging.INFO):
        handler.log_request(200, 10)
        app.logger.error("Exception on /r/%s [GET]", token)
    assert caplog.records and token not in caplog.text
    assert all(token not in r.getMessage() for r in caplog.records)
    assert "/r/[redacted]" in caplog.text


def test_database_errors_are_logged_without_parameter_values(app, caplog):
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    secret = "hanako-secret@example.org"
    with app.app_context(), caplog.at_level(logging.ERROR):
        try:
            db.session.execute(text("INSERT INTO no_such_table (x) VALUES (:x)"), {"x": secret})
        except SQLAlchemyError as exc:
            message = str(exc)
            app.logger.exception("boom")
        finally:
            db.session.rollback()
    assert "no_such_table" in message
    assert secret not in message and secret not in caplog.text
    assert "hidden due to hide_parameters" in message


def test_a_500_page_shows_no_trace_and_logs_no_parameters(database_url, tmp_path, caplog):
    from sqlalchemy import text

    from eventreg import create_app

    fresh = create_app({"ENV": "development", "SQLALCHEMY_DATABASE_URI": database_url,
                        "MAILBOX_DIR": str(tmp_path)})
    secret = "tok-" + "z" * 20

    @fresh.get("/_test/boom")
    def _boom():
        # A broken statement (a missing table would be the 503 of a schema not upgraded yet).
        db.session.execute(text("SELECT :x AS boom_marker FROM event WHERE WHERE"), {"x": secret})

    with caplog.at_level(logging.ERROR):
        response = fresh.test_client().get("/_test/boom")
    with fresh.app_context():
        db.engine.dispose()
    assert response.status_code == 500
    assert secret not in response.get_data(as_text=True)
    assert "boom_marker" in caplog.text and secret not in caplog.text
