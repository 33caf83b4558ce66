"""Driving the app through its HTTP edge, as browsers and scanner apps do, for race tests.

Everything here speaks HTTP (httpx) to a running server: a threaded werkzeug server in this
process (tests/races/conftest.py) or separate gunicorn processes (tests/multi). The one place
that knows what a pass's QR carries, or where an attendee cancels, is ``pass_payload`` and
``cancel_path`` below: when those formats change, change them here.
"""

from __future__ import annotations

import re
import ssl
import threading
from collections.abc import Callable, Sequence

import httpx

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SIGNUP_KEY = re.compile(r'name="signup_key"[^>]*value="([^"]+)"')
TIMEOUT = httpx.Timeout(60.0)
_TLS = ssl.create_default_context()  # made once: httpx would load the CA bundle per client (~0.15 s)
SESSION_FULL = "この回は満席です。"  # the form's error, in the default language


def pass_payload(registration) -> str:
    """What a scanner reads from ``registration``'s pass (its QR code)."""
    from eventreg.domain.registration import passes

    return passes.qr_payload(registration)


def cancel_path(registration) -> str:
    """The attendee's own cancel page (the link in their email)."""
    return f"/r/{registration.token}/cancel"


def client(base_url: str, **options) -> httpx.Client:
    """An HTTP client of its own (its own cookies), cheap to make."""
    return httpx.Client(base_url=base_url, timeout=TIMEOUT, verify=_TLS, **options)


def csrf_from(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def signup_key_from(html: str) -> str:
    """The sign-up form's one-time key: every copy of one POST carries the same."""
    match = SIGNUP_KEY.search(html)
    assert match, "no signup_key on the page"
    return match.group(1)


def form(session_id: int, email: str, **overrides) -> dict:
    """The registration form as a person fills it in (the CSRF token is added by the caller)."""
    data = {
        "family_name": "山田", "given_name": "花子", "family_kana": "ヤマダ", "given_kana": "ハナコ",
        "email": email, "email_confirm": email, "organization": "育て上げネット", "department": "",
        "sector": "npo", "phone": "", "consent": "y", "session_id": str(session_id),
    }
    data.update(overrides)
    return data


class SignUp:
    """One visitor: opens the event page (session cookie, CSRF token, the form's one-time key),
    later presses "register"."""

    def __init__(self, base_url: str, slug: str, session_id: int, email: str):
        self.client = client(base_url)
        self.path, self.session_id, self.email = f"/e/{slug}", session_id, email
        page = self.client.get(self.path)
        assert page.status_code == 200, page.status_code
        self.token = csrf_from(page.text)
        self.signup_key = signup_key_from(page.text)

    def submit(self) -> httpx.Response:
        data = form(self.session_id, self.email, csrf_token=self.token, signup_key=self.signup_key)
        try:
            return self.client.post(self.path, data=data)
        finally:
            self.client.close()


def outcome(response: httpx.Response) -> str:
    """What a sign-up's answer says, from the response alone: the page it leads to, or its error."""
    if response.status_code == 302:
        location = response.headers["location"]
        return "resent" if location.rstrip("/").endswith("/sent") else "registered"
    if response.status_code == 400 and SESSION_FULL in response.text:
        return "session_full"
    return f"http_{response.status_code}"


def at_once(jobs: Sequence[Callable[[], object]], *, timeout: float = 120) -> list[object]:
    """Runs every job in its own thread, released together by a barrier; their results, in order.

    An exception in a job becomes its result (so a test can count them), never a hang.
    """
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)

    def run(i: int, job):
        try:
            barrier.wait(timeout=30)
            results[i] = job()
        except BaseException as exc:  # counted by the caller
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, job), daemon=True) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a request never came back"
    return results


def scan_request(base_url: str, event_id: int, api_token: str, payload: str, desk: str):
    """A job: one scanner app posting one pass; returns the JSON result or the HTTP status."""

    def job():
        with client(base_url) as http:
            response = http.post(f"/api/v1/events/{event_id}/checkins", json={"payload": payload, "desk": desk},
                                 headers={"Authorization": f"Bearer {api_token}"})
        return response.json()["result"] if response.status_code == 200 else f"http_{response.status_code}"

    return job


def interleaved(monkeypatch, module, name: str, first: Callable[[], object], second: Callable[[], object], *,
                hold: float = 0.5) -> tuple[object, object]:
    """Runs ``first`` until it calls ``module.name`` (a domain function it calls after its read
    and before its write), holds it there while ``second`` runs to its answer (at most ``hold``
    seconds: on SQLite ``second`` waits for ``first``'s write lock instead), then lets it go on.
    Forces the stale read a slow request would have. Returns both results."""
    reached, done = threading.Event(), threading.Event()
    real = getattr(module, name)

    def held_once(*args, **kwargs):
        if not reached.is_set():  # the first call is ``first``'s: ``second`` starts only after it
            reached.set()
            done.wait(hold)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, held_once)
    results: list[object] = []
    thread = threading.Thread(target=lambda: results.append(first()), daemon=True)
    thread.start()
    assert reached.wait(30), f"the first request never reached {name}"
    other = second()
    done.set()
    thread.join(60)
    assert not thread.is_alive() and results, "the first request never came back"
    return results[0], other


class Staff:
    """One signed-in browser of a staff member, with the page of their next action open."""

    def __init__(self, base_url: str, user, page: str):
        from .. import factories

        self.http = client(base_url)
        login = self.http.get("/login")
        response = self.http.post("/login", data={"email": user.email, "password": factories.PASSWORD,
                                                  "csrf_token": csrf_from(login.text)})
        assert response.status_code == 302, response.status_code
        opened = self.http.get(page)
        assert opened.status_code == 200, (page, opened.status_code)
        self.token = csrf_from(opened.text)

    def post(self, path: str, data: dict):
        def job():
            try:
                return self.http.post(path, data={**data, "csrf_token": self.token}).status_code
            finally:
                self.http.close()

        return job
