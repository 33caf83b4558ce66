"""Rate limits of public sign-ups: per address, per address and event, per email, in memory and
shared on Redis; form errors not counted; a refusal keeps the form and says when to try again."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import uuid

import httpx
import pytest
import redis

from .. import processes
from .conftest import valid_form

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _app(make_app, app, **config):
    """A second app on the same database, with the limits switched on."""
    return make_app({
        "TESTING": True, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "BASE_URL": "http://testserver", "MAIL_PORT": 1, "RATELIMIT_ENABLED": True,
        "RATELIMIT_PREFIX": f"test-{uuid.uuid4().hex}", **config,
    })


def _post(client, event, email, addr="192.0.2.10"):
    page = client.get(f"/e/{event.slug}", environ_base={"REMOTE_ADDR": addr})
    token = CSRF.search(page.get_data(as_text=True)).group(1)
    data = valid_form(email=email, email_confirm=email, session_id=str(event.sessions[0].id), csrf_token=token)
    return client.post(f"/e/{event.slug}", data=data, environ_base={"REMOTE_ADDR": addr})


def test_per_email_limit_in_memory_is_localized(app, make_app, make_event):
    event = make_event(capacity=50)
    limited = _app(make_app, app, RATELIMIT_SIGNUP_PER_EMAIL="2/hour", RATELIMIT_SIGNUP_PER_ADDRESS="100/hour")
    client = limited.test_client()
    for _ in range(2):  # the same person twice (the second is a "sent again")
        assert _post(client, event, "Same@Example.org").status_code == 302
    refused = _post(client, event, " same@example.org")  # normalised: the same key
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert "お申し込みが多すぎるため" in refused.get_data(as_text=True)
    client.set_cookie("lang", "en")
    english = _post(client, event, "same@example.org")
    assert english.status_code == 429 and "Too many sign-ups" in english.get_data(as_text=True)
    assert _post(client, event, "other@example.org").status_code == 302  # another email is fine
    assert client.get(f"/e/{event.slug}").status_code == 200  # reading is never limited


def test_per_address_limit(app, make_app, make_event):
    event = make_event(capacity=50)
    limited = _app(make_app, app, RATELIMIT_SIGNUP_PER_ADDRESS="3/hour")
    client = limited.test_client()
    for n in range(3):
        assert _post(client, event, f"p{n}@example.org").status_code == 302
    assert _post(client, event, "p9@example.org").status_code == 429
    assert _post(client, event, "p9@example.org", addr="192.0.2.99").status_code == 302


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server(app, port: int, env: dict) -> subprocess.Popen:
    """Another instance in a process of its own (its own memory), as on a second host."""
    code = ("import os; from werkzeug.serving import run_simple; from eventreg import create_app; "
            "run_simple('127.0.0.1', int(os.environ['PORT']), create_app({'TESTING': True}), threaded=True)")
    full = {**os.environ, **env, "PORT": str(port), "EVENTREG_ENV": "development",
            "EVENTREG_SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "EVENTREG_BASE_URL": "http://testserver", "EVENTREG_MAIL_PORT": "1"}
    process = processes.spawn([sys.executable, "-c", code], env=full, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.1)
    processes.stop(process)
    raise AssertionError("the second instance did not start")


def _post_http(base: str, event, email: str) -> int:
    with httpx.Client(base_url=base, timeout=30) as client:
        token = CSRF.search(client.get(f"/e/{event.slug}").text).group(1)
        data = valid_form(email=email, email_confirm=email, session_id=str(event.sessions[0].id), csrf_token=token)
        return client.post(f"/e/{event.slug}", data=data).status_code


@pytest.mark.parametrize("storage", ["redis://127.0.0.1:6379/0", "memory://"])
def test_the_limit_holds_across_two_instances_on_redis(app, make_app, make_event, storage):
    """Two instances (this process and another), requests alternating: with Redis the 5th of
    a 4/hour limit is refused wherever it lands; with memory each instance counts its own."""
    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_timeout=2).ping()
    except redis.exceptions.ConnectionError:
        pytest.fail("Redis on 127.0.0.1:6379 is needed for this test")
    event = make_event(capacity=50)
    prefix = f"eventreg-test-{uuid.uuid4().hex}"
    port = _free_port()
    other = _server(app, port, {"EVENTREG_RATELIMIT_ENABLED": "true", "EVENTREG_RATELIMIT_STORAGE": storage,
                                "EVENTREG_RATELIMIT_PREFIX": prefix,
                                "EVENTREG_RATELIMIT_SIGNUP_PER_ADDRESS": "4/hour"})
    try:
        here = _app(make_app, app, RATELIMIT_STORAGE=storage, RATELIMIT_PREFIX=prefix,
                    RATELIMIT_SIGNUP_PER_ADDRESS="4/hour").test_client()
        answers = []
        for n in range(5):
            if n % 2 == 0:
                answers.append(_post(here, event, f"r{n}@example.org", addr="127.0.0.1"))
            else:
                answers.append(_post_http(f"http://127.0.0.1:{port}", event, f"r{n}@example.org"))
        codes = [a if isinstance(a, int) else a.status_code for a in answers]
    finally:
        processes.stop(other)
        r = redis.Redis(host="127.0.0.1", port=6379)
        for key in r.scan_iter(f"*{prefix}*"):
            r.delete(key)
    assert codes == ([302, 302, 302, 302, 429] if storage.startswith("redis") else [302] * 5)


def test_the_production_default_is_real_protection():
    from eventreg.config import DEFAULTS

    assert DEFAULTS["RATELIMIT_ENABLED"] is True and DEFAULTS["RATELIMIT_STORAGE"] == "memory://"
    assert DEFAULTS["RATELIMIT_SIGNUP_PER_EMAIL"] == "5/hour"
    assert DEFAULTS["RATELIMIT_SIGNUP_PER_EVENT"] == "20 per 10 minutes"
    assert DEFAULTS["RATELIMIT_SIGNUP_PER_ADDRESS"] == "300/hour"


def test_colleagues_behind_one_office_address_are_not_refused_with_the_defaults(app, make_app, make_event):
    """20 colleagues of one company (one NAT address) sign up for the same seminar within minutes."""
    event = make_event(capacity=50)
    client = _app(make_app, app).test_client()
    assert [_post(client, event, f"colleague{n}@example.org").status_code for n in range(20)] == [302] * 20


def test_per_address_and_event_limit(app, make_app, make_event):
    event, other = make_event(capacity=50), make_event(capacity=50)
    client = _app(make_app, app, RATELIMIT_SIGNUP_PER_EVENT="2 per 10 minutes").test_client()
    assert [_post(client, event, f"e{n}@example.org").status_code for n in range(3)] == [302, 302, 429]
    assert _post(client, other, "e9@example.org").status_code == 302  # another event: its own count
    assert _post(client, event, "e8@example.org", addr="192.0.2.99").status_code == 302  # another address


def test_form_errors_do_not_count(app, make_app, make_event):
    event = make_event(capacity=50)
    client = _app(make_app, app, RATELIMIT_SIGNUP_PER_ADDRESS="2/hour", RATELIMIT_SIGNUP_PER_EMAIL="2/hour").test_client()
    for _ in range(4):  # a person fighting the form: each answer is the form with its errors
        page = client.get(f"/e/{event.slug}", environ_base={"REMOTE_ADDR": "192.0.2.10"})
        token = CSRF.search(page.get_data(as_text=True)).group(1)
        data = valid_form(email="typo@example.org", email_confirm="other@example.org",
                          session_id=str(event.sessions[0].id), csrf_token=token)
        assert client.post(f"/e/{event.slug}", data=data, environ_base={"REMOTE_ADDR": "192.0.2.10"}).status_code == 400
    assert [_post(client, event, f"ok{n}@example.org").status_code for n in range(3)] == [302, 302, 429]


def test_a_refusal_keeps_what_was_typed_and_says_when_to_try_again(app, make_app, make_event):
    event = make_event(capacity=50)
    client = _app(make_app, app, RATELIMIT_SIGNUP_PER_ADDRESS="1/hour").test_client()
    assert _post(client, event, "first@example.org").status_code == 302
    refused = _post(client, event, "second@example.org")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 429
    wait = int(refused.headers["Retry-After"])
    assert 0 < wait <= 3600
    assert "入力内容は下に残してあります" in page and "以降にもう一度送信してください" in page
    assert re.search(r"\d+月\d+日\(.\) \d\d:\d\d", page)  # when, in the event's time zone
    assert 'value="second@example.org"' in page and 'value="認定NPO法人 育て上げネット"' in page
    assert 'name="consent" type="checkbox" value="y" checked' in page or re.search(r'<input checked[^>]*name="consent"', page)
    assert 'class="error"' not in page  # nothing in the form is wrong
    client.set_cookie("lang", "en")
    english = _post(client, event, "second@example.org").get_data(as_text=True)
    assert "What you typed is kept below: please send it again after" in english


def test_only_the_routes_without_a_limit_skip_the_limiter(app, make_app, make_event):
    """The shortcut for routes that name no limit (limits._names_no_limit) asks the limiter's own
    records: it must skip the scanner API and the event page, and never the sign-up or /verify."""
    from eventreg.web.limits import _names_no_limit

    limited = _app(make_app, app)
    event = make_event()
    asked = {
        "/api/v1/events/1/checkins": ("POST", True),
        f"/e/{event.slug}": ("POST", False),  # the sign-up: three limits
        "/verify": ("GET", False),
        "/verify/ABCD-EFGH-JKMN": ("GET", False),
        "/": ("GET", True),
    }
    for path, (method, skipped) in asked.items():
        with limited.test_request_context(path, method=method):
            assert _names_no_limit() is skipped, path
    # and the limits it keeps still count: the third /verify lookup within the minute is refused
    verify = _app(make_app, app, RATELIMIT_VERIFY="2/minute").test_client()
    statuses = [verify.get("/verify/ABCD-EFGH-JKMN").status_code for _ in range(4)]
    assert statuses[-1] == 429, statuses
