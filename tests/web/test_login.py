"""Staff sign-in: sessions that end on the server, equal work for every email, a lock a stranger
cannot use against the real user, and a limit that holds under concurrency."""

from __future__ import annotations

import statistics
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from eventreg import clock
from eventreg.domain.access import accounts, sign_in
from eventreg.extensions import db
from eventreg.models import StaffSession

from .. import factories
from .conftest import csrf_token


@pytest.fixture
def world(make_event):
    event = factories.make_event()
    user = factories.make_staff("reception", events=[event])
    return {"event": event.id, "user": user, "email": user.email}


def _forget_request_globals():
    """Tests that hold an app context share its ``g`` between requests (a server never does):
    Flask-WTF would hand every client the same CSRF token and Flask-Login the last user."""
    from flask import g, has_app_context

    if has_app_context():
        g.pop("csrf_token", None)
        g.pop("_login_user", None)


def _post_login(client, email, password, addr="198.51.100.7", next_url=""):
    _forget_request_globals()
    token = csrf_token(client, "/login")
    return client.post("/login" + next_url, data={"email": email, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": addr})


def _session_cookie(client) -> str:
    return client.get_cookie("session").value


def _replay(app, cookie: str):
    _forget_request_globals()
    fresh = app.test_client()
    fresh.set_cookie("session", cookie)
    return fresh


# ---- sessions end on the server ----------------------------------------------------------------

def test_a_saved_cookie_is_worthless_after_sign_out(app, client, world):
    assert _post_login(client, world["email"], factories.PASSWORD).status_code == 302
    saved = _session_cookie(client)
    counts = f"/api/v1/events/{world['event']}/counts"
    assert _replay(app, saved).get("/staff").status_code == 200
    assert _replay(app, saved).get(counts).status_code == 200

    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/staff")})
    assert response.status_code == 302
    # An offline desk's roster and cached pages go too (tests/browser/test_offline_desk.py).
    assert response.headers["Clear-Site-Data"] == '"storage"'

    replayed = _replay(app, saved)
    staff_page = replayed.get("/staff")
    assert staff_page.status_code == 302 and "/login" in staff_page.headers["Location"]
    assert replayed.get(counts).status_code == 401
    assert replayed.get(f"/desk/{world['event']}").status_code == 302


def test_a_password_change_on_the_command_line_signs_every_browser_out(app, client, world):
    assert _post_login(client, world["email"], factories.PASSWORD).status_code == 302
    other = app.test_client()
    assert _post_login(other, world["email"], factories.PASSWORD, addr="203.0.113.20").status_code == 302
    saved = [_session_cookie(client), _session_cookie(other)]

    result = app.test_cli_runner().invoke(args=["users", "password", world["email"]],
                                          env={"EVENTREG_NEW_PASSWORD": "a-brand-new-password"})
    assert result.exit_code == 0, result.output
    for cookie in saved:
        assert _replay(app, cookie).get("/staff").status_code == 302
        assert _replay(app, cookie).get(f"/api/v1/events/{world['event']}/counts").status_code == 401
    assert _post_login(app.test_client(), world["email"], "a-brand-new-password").status_code == 302


def test_set_password_revokes_the_users_sessions_only(ctx, world):
    user, other = world["user"], factories.make_staff("organizer")
    now = clock.utcnow()
    mine = sign_in.start_session(user, now=now, lifetime=timedelta(hours=1))
    theirs = sign_in.start_session(other, now=now, lifetime=timedelta(hours=1))
    db.session.commit()
    accounts.set_password(user, "another-long-password")
    db.session.commit()
    assert sign_in.user_for_session(mine, now=now) is None
    assert sign_in.user_for_session(theirs, now=now) == other


def test_expired_and_revoked_sessions_are_refused(ctx, world):
    user = world["user"]
    now = clock.utcnow()
    raw = sign_in.start_session(user, now=now, lifetime=timedelta(hours=12))
    db.session.commit()
    assert sign_in.user_for_session(raw, now=now + timedelta(hours=11, minutes=59)) == user
    assert sign_in.user_for_session(raw, now=now + timedelta(hours=12)) is None
    sign_in.end_session(raw, now=now)
    db.session.commit()
    assert sign_in.user_for_session(raw, now=now) is None
    assert sign_in.user_for_session("", now=now) is None
    assert sign_in.user_for_session("x" * 500, now=now) is None


def test_the_cookie_carries_a_random_session_secret_and_the_row_only_its_hash(app, client, world):
    assert _post_login(client, world["email"], factories.PASSWORD).status_code == 302
    with client.session_transaction() as session:
        secret = session["_user_id"]
    assert secret != str(world["user"].id) and len(secret) >= 43  # 32 random bytes, base64
    with app.app_context():
        ids = db.session.scalars(select(StaffSession.id)).all()
    assert len(ids) == 1 and secret not in ids[0] and len(ids[0]) == 64


def test_the_user_loader_costs_one_query(app, client, world):
    from sqlalchemy import event

    assert _post_login(client, world["email"], factories.PASSWORD).status_code == 302
    with client.session_transaction() as session:
        secret = session["_user_id"]
    statements = []
    with app.app_context():
        def listener(_conn, _cursor, statement, *_rest):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert sign_in.user_for_session(secret, now=clock.utcnow()) is not None
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1, statements


# ---- the lock ----------------------------------------------------------------------------------

def test_a_stranger_cannot_lock_the_real_user_out(client, world):
    for _ in range(8):
        assert _post_login(client, world["email"], "wrong-password-1", addr="203.0.113.66").status_code in (401, 429)
    assert _post_login(client, world["email"], factories.PASSWORD, addr="203.0.113.66").status_code == 429
    # The real user, from her own address, signs in.
    assert _post_login(client, world["email"], factories.PASSWORD, addr="198.51.100.7").status_code == 302


def test_five_failures_lock_the_pair_then_the_right_password_is_refused(client, world):
    for _ in range(5):
        assert _post_login(client, world["email"], "wrong-password-1").status_code == 401
    blocked = _post_login(client, world["email"], factories.PASSWORD)
    assert blocked.status_code == 429
    assert "15" in blocked.get_data(as_text=True)  # "wait 15 minutes", in the page's language


def test_one_address_cannot_spray_many_accounts(client, world):
    from eventreg.models import LoginAttempt

    for n in range(sign_in.MAX_FAILURES_PER_ADDRESS - 1):  # as failed sign-ins would leave them
        db.session.add(LoginAttempt(email=f"nobody{n}@example.org", ip="203.0.113.9", at=clock.utcnow()))
    db.session.commit()
    assert _post_login(client, "nobody-last@example.org", "wrong-password-1", addr="203.0.113.9").status_code == 401
    assert _post_login(client, world["email"], factories.PASSWORD, addr="203.0.113.9").status_code == 429


def test_many_addresses_reach_the_per_email_ceiling(ctx, world):
    from eventreg.models import LoginAttempt

    now = clock.utcnow()
    for n in range(sign_in.MAX_FAILURES_PER_EMAIL):
        db.session.add(LoginAttempt(email=world["email"], ip=f"10.0.{n // 250}.{n % 250}", at=now))
    db.session.commit()
    attempt = sign_in.reserve_login_attempt(world["email"], "198.51.100.7", now=now)
    db.session.commit()
    with pytest.raises(Exception, match="login_blocked"):
        sign_in.authenticate(attempt, factories.PASSWORD, now=now)
    # 15 minutes later the window has moved on.
    later = now + sign_in.LOGIN_WINDOW + timedelta(seconds=1)
    attempt = sign_in.reserve_login_attempt(world["email"], "198.51.100.7", now=later)
    assert sign_in.authenticate(attempt, factories.PASSWORD, now=later) == world["user"]


def test_parallel_wrong_attempts_get_at_most_five_password_checks(app, world, monkeypatch):
    checks, lock = [], threading.Lock()
    real_check = sign_in.check_password_hash

    def counting(stored, password):
        with lock:
            checks.append(password)
        return real_check(stored, password)

    monkeypatch.setattr(sign_in, "check_password_hash", counting)
    # The wrapper sees the checks: one wrong attempt from elsewhere is one check.
    lone = app.test_client()
    assert lone.post("/login", data={"email": world["email"], "password": "wrong-password-0",
                                     "csrf_token": csrf_token(lone, "/login")},
                     environ_base={"REMOTE_ADDR": "192.0.2.200"}).status_code == 401
    assert len(checks) == 1
    checks.clear()
    clients = [app.test_client() for _ in range(40)]
    barrier = threading.Barrier(len(clients))
    statuses = []

    def attempt(c):
        token = csrf_token(c, "/login")  # in the thread: its own app context, as a server has
        barrier.wait()
        response = c.post("/login", data={"email": world["email"], "password": "wrong-password-1",
                                          "csrf_token": token}, environ_base={"REMOTE_ADDR": "203.0.113.77"})
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=attempt, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(statuses) == 40 and set(statuses) <= {401, 429}, statuses
    # At most five; possibly none, when all forty attempts were recorded before any was counted
    # (each counts the others' committed reservations: a burst like this is an attack anyway).
    assert len(checks) <= sign_in.MAX_FAILURES_PER_PAIR, len(checks)
    assert statuses.count(401) == len(checks)


# ---- the same work for known and unknown emails ------------------------------------------------

def _median_ms(client, email, password, runs, first_addr):
    times = []
    for n in range(runs):
        token = csrf_token(client, "/login")
        started = time.perf_counter()
        response = client.post("/login", data={"email": email, "password": password, "csrf_token": token},
                               environ_base={"REMOTE_ADDR": f"192.0.2.{first_addr + n}"})
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 401
    return statistics.median(times)


def test_unknown_emails_cost_as_much_as_known_ones(app, client, world):
    inactive = factories.make_staff("reception")
    inactive.active = False
    db.session.commit()
    _median_ms(client, "warm-up@example.org", "x", 1, 200)  # the dummy hash is made once per process
    # Interleaved rounds, so that a busy neighbour on the machine slows both sides alike.
    known, unknown, disabled = [], [], []
    for round_ in range(3):
        known.append(_median_ms(client, world["email"], "wrong-password-1", 3, 10 + 30 * round_))
        unknown.append(_median_ms(client, "nobody-here@example.org", "wrong-password-1", 3, 20 + 30 * round_))
        disabled.append(_median_ms(client, inactive.email, "wrong-password-1", 3, 30 + 30 * round_))
    k, u, d = statistics.median(known), statistics.median(unknown), statistics.median(disabled)
    assert abs(k - u) / max(k, u) < 0.30, (k, u)
    assert abs(k - d) / max(k, d) < 0.30, (k, d)
    assert min(k, u) > 5  # both really hash (werkzeug's scrypt takes tens of ms)


def test_login_attempt_rows_are_kept_for_failures_only(app, client, world):
    from eventreg.models import LoginAttempt

    assert _post_login(client, world["email"], "wrong-password-1").status_code == 401
    assert _post_login(client, world["email"], factories.PASSWORD).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == 0


# ---- the address as typed ----------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["taro@例え.jp", "Taro@XN--R8JZ45G.JP", " ｔａｒｏ＠例え．ｊｐ "])
def test_an_internationalized_domain_signs_in_as_typed(client, make_event, typed):
    """Accounts are stored in IDNA form (taro@xn--r8jz45g.jp); sign-in looks up the same form."""
    user = factories.make_staff("organizer", email="taro@例え.jp")
    assert user.email == "taro@xn--r8jz45g.jp"
    assert _post_login(client, typed, factories.PASSWORD).status_code == 302


@pytest.mark.parametrize("typed", ["not an address", "@", "山田@例え.jp"])
def test_text_that_is_no_address_fails_sign_in_like_a_wrong_password(client, world, typed):
    assert _post_login(client, typed, factories.PASSWORD).status_code == 401


def test_a_nul_in_the_address_is_refused_before_sign_in_reads_it(client, world):
    """web/input_guard.py: 400 in words, nothing counted (a NUL was a 500 on PostgreSQL)."""
    response = _post_login(client, "taro\x00@example.org", factories.PASSWORD)
    assert response.status_code == 400 and "読み取れない文字" in response.get_data(as_text=True)
