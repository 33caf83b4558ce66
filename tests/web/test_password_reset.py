"""A forgotten staff password: the request answers alike for every address, the link comes
through the outbox to a real SMTP server, works once and for an hour, and never reaches a log."""

from __future__ import annotations

import logging
import re
import statistics
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from eventreg import clock
from eventreg.domain.access import password_reset, sign_in
from eventreg.extensions import db
from eventreg.models import AuditEntry, LoginAttempt, MailKind, OutboxMessage
from eventreg.worker import deliver_due

from .. import factories
from .conftest import csrf_token
from .test_login import _forget_request_globals, _post_login
from .test_security import gunicorn_logger

NEW_PASSWORD = "a-fresh-long-password"
LINK = re.compile(r"http://testserver/login/reset/[A-Za-z0-9_.-]{30,}")


@pytest.fixture
def world(make_event):
    event = factories.make_event()
    user = factories.make_staff("reception", events=[event])
    return {"event": event.id, "user": user, "email": user.email}


@pytest.fixture
def dev_clock(app):
    """The development clock, back to real time afterwards."""
    yield clock.set_setting
    clock.set_setting("")


def ask(client, email, addr="198.51.100.7", lang_path="/login/forgot"):
    _forget_request_globals()
    token = csrf_token(client, lang_path)
    return client.post("/login/forgot", data={"email": email, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": addr})


def delivered_links(app, smtp_server, email) -> list[str]:
    """The links of the reset mails delivered to ``email`` (text part; the HTML part has the same)."""
    db.session.rollback()  # the worker has its own connection: end this one's (SQLite) snapshot around it
    deliver_due(app, worker_id="reset-test")
    db.session.rollback()
    links = []
    for mail in smtp_server.to(email):
        text = mail.get_body(preferencelist=("plain",)).get_content()
        html = mail.get_body(preferencelist=("html",)).get_content()
        found = LINK.findall(text)
        assert len(found) == 1, text
        assert found[0] in html
        links.append(found[0].removeprefix("http://testserver"))
    return links


def set_password(client, path, password=NEW_PASSWORD, confirm=None):
    _forget_request_globals()
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True)).group(1)
    return client.post(path, data={"new_password": password, "confirm": confirm or password, "csrf_token": token})


# ---- the whole way, through a real SMTP server ---------------------------------------------------

def test_a_forgotten_password_is_reset_by_the_emailed_link_once(app, client, world, smtp_server):
    login_page = client.get("/login").get_data(as_text=True)
    assert 'href="/login/forgot"' in login_page and "パスワードをお忘れですか" in login_page

    answer = ask(client, world["email"].upper())  # typed as people type it
    assert answer.status_code == 200
    assert "メールをご確認ください" in answer.get_data(as_text=True)
    [link] = delivered_links(app, smtp_server, world["email"])
    [mail] = smtp_server.to(world["email"])
    assert mail["Subject"] == "【パスワードの再設定】eventreg"
    assert "一度だけ使えます" in mail.get_body(preferencelist=("plain",)).get_content()

    form = client.get(link)
    assert form.status_code == 200 and form.headers["Cache-Control"] == "no-store"
    assert world["email"] in form.get_data(as_text=True)
    done = set_password(client, link)
    assert done.status_code == 303 and done.headers["Location"].endswith("/staff")
    assert client.get("/staff").status_code == 200  # signed in at once (as Indico does)

    # The link is dead now: it carried a digest of the old password hash.
    used = client.get(link)
    assert used.status_code == 410 and 'data-state="used"' in used.get_data(as_text=True)
    assert "このリンクはすでに使われています" in used.get_data(as_text=True)
    assert _post_login(app.test_client(), world["email"], factories.PASSWORD, addr="203.0.113.1").status_code == 401
    assert _post_login(app.test_client(), world["email"], NEW_PASSWORD, addr="203.0.113.2").status_code == 302
    db.session.rollback()
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.event_id == world["event"])).all()
    assert actions.count("staff_password_reset") == 1


def test_the_reset_signs_out_every_other_browser(app, client, world, smtp_server):
    other = app.test_client()
    assert _post_login(other, world["email"], factories.PASSWORD, addr="203.0.113.30").status_code == 302
    assert other.get("/staff").status_code == 200
    ask(client, world["email"])
    [link] = delivered_links(app, smtp_server, world["email"])
    assert set_password(client, link).status_code == 303
    _forget_request_globals()
    assert other.get("/staff").status_code == 302


def test_an_english_page_asks_for_an_english_mail(app, client, world, smtp_server):
    client.get("/lang/en?next=/login/forgot")
    answer = ask(client, world["email"])
    assert "Check your email" in answer.get_data(as_text=True)
    delivered_links(app, smtp_server, world["email"])
    [mail] = smtp_server.to(world["email"])
    assert mail["Subject"] == "Choose a new password for eventreg"


def test_a_newer_link_used_kills_the_older_one(app, client, world, smtp_server):
    ask(client, world["email"])
    ask(client, world["email"])
    first, second = delivered_links(app, smtp_server, world["email"])
    assert set_password(client, second).status_code == 303
    assert client.get(first).status_code == 410


def test_the_link_works_for_an_hour_on_the_development_clock(app, client, world, smtp_server, dev_clock):
    ask(client, world["email"])
    [link] = delivered_links(app, smtp_server, world["email"])
    dev_clock("+59m")
    assert client.get(link).status_code == 200
    dev_clock("+61m")
    expired = client.get(link)
    assert expired.status_code == 410 and 'data-state="expired"' in expired.get_data(as_text=True)
    assert "60分間" in expired.get_data(as_text=True)  # from password_reset.LIFETIME
    _forget_request_globals()
    token = csrf_token(client, "/login/forgot")
    refused = client.post(link, data={"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": token})
    assert refused.status_code == 410
    dev_clock("")
    assert _post_login(client, world["email"], factories.PASSWORD).status_code == 302  # unchanged


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-3] + ("AAA" if not t.endswith("AAA") else "BBB"),  # the signature
    lambda t: "W1sxLCJ4Il0" + t[11:],  # the payload
    lambda t: t[: len(t) // 2],  # cut short
    lambda t: "x" * 400,
    lambda t: "not-a-token",
    lambda t: t + ".extra",
])
def test_a_tampered_link_gets_a_clear_page_never_a_500(app, client, world, mangle):
    token = password_reset.make_token(world["user"], secret_key=app.secret_key, now=clock.utcnow())
    page = client.get(f"/login/reset/{mangle(token)}")
    assert page.status_code == 404
    text = page.get_data(as_text=True)
    assert 'data-state="invalid"' in text and "このリンクは無効です" in text
    assert world["email"] not in text


def test_a_token_signed_for_something_else_is_no_reset_link(app, client, world):
    from itsdangerous import URLSafeTimedSerializer

    other = URLSafeTimedSerializer(app.secret_key, salt="something-else").dumps([world["user"].id, "0" * 16])
    assert client.get(f"/login/reset/{other}").status_code == 404


def test_a_deactivated_account_gets_no_mail_and_its_links_die(app, client, world, smtp_server):
    token = password_reset.make_token(world["user"], secret_key=app.secret_key, now=clock.utcnow())
    world["user"].active = False
    db.session.commit()
    assert ask(client, world["email"]).status_code == 200
    assert delivered_links(app, smtp_server, world["email"]) == []
    assert client.get(f"/login/reset/{token}").status_code == 404


def test_the_new_password_follows_the_password_rules(app, client, world):
    token = password_reset.make_token(world["user"], secret_key=app.secret_key, now=clock.utcnow())
    path = f"/login/reset/{token}"
    short = set_password(client, path, password="short")
    assert short.status_code == 400 and "10" in short.get_data(as_text=True)
    differs = set_password(client, path, confirm="another-long-password")
    assert differs.status_code == 400
    assert client.get(path).status_code == 200  # still unused


# ---- the same answer for every address ---------------------------------------------------------

def _body_without(response, typed: str) -> str:
    return response.get_data(as_text=True).replace(typed, "<typed>")


def test_known_unknown_and_deactivated_addresses_get_the_same_page(app, client, world):
    inactive = factories.make_staff("reception")
    inactive.active = False
    db.session.commit()
    answers = {email: ask(client, email, addr=f"192.0.2.{n}") for n, email in
               enumerate([world["email"], "nobody-here@example.org", inactive.email, "not an address"], start=1)}
    assert {r.status_code for r in answers.values()} == {200}
    bodies = {_body_without(r, email) for email, r in answers.items()}
    assert len(bodies) == 1
    db.session.rollback()
    queued = db.session.scalars(select(OutboxMessage.to_address).where(OutboxMessage.kind == MailKind.password_reset)).all()
    assert queued == [world["email"]]


def _median_ms(client, emails, first_addr):
    times = []
    for n, email in enumerate(emails):
        _forget_request_globals()
        token = csrf_token(client, "/login/forgot")
        started = time.perf_counter()
        response = client.post("/login/forgot", data={"email": email, "csrf_token": token},
                               environ_base={"REMOTE_ADDR": f"192.0.2.{first_addr + n}"})
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return statistics.median(times)


def test_known_and_unknown_addresses_take_the_same_time(app, client, world):
    """Like the sign-in timing test: interleaved rounds, medians. A known address queues a mail
    (one user per request, so no address reaches the mail limit and every known request writes)."""
    known = [factories.make_staff("reception").email for _ in range(9)]
    inactive = [factories.make_staff("reception") for _ in range(9)]
    for user in inactive:
        user.active = False
    db.session.commit()
    inactive = [u.email for u in inactive]
    _median_ms(client, ["warm-up@example.org"], 250)
    k, u, d = [], [], []
    for round_ in range(3):
        k.append(_median_ms(client, known[3 * round_:3 * round_ + 3], 10 + 30 * round_))
        u.append(_median_ms(client, [f"nobody{round_}-{n}@example.org" for n in range(3)], 20 + 30 * round_))
        d.append(_median_ms(client, inactive[3 * round_:3 * round_ + 3], 30 + 30 * round_))
    k, u, d = statistics.median(k), statistics.median(u), statistics.median(d)
    assert abs(k - u) / max(k, u) < 0.15, (k, u)
    assert abs(k - d) / max(k, d) < 0.15, (k, d)
    assert min(k, u, d) >= password_reset.ANSWER_FLOOR_SECONDS * 1000
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.kind == MailKind.password_reset)) == 9


# ---- limits --------------------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["known", "unknown"])
def test_requests_are_limited_like_sign_in_whoever_is_asked_for(client, world, who):
    email = world["email"] if who == "known" else "nobody-here@example.org"
    for _ in range(sign_in.MAX_FAILURES_PER_PAIR):
        assert ask(client, email, addr="203.0.113.66").status_code == 200
    blocked = ask(client, email, addr="203.0.113.66")
    assert blocked.status_code == 429 and "15" in blocked.get_data(as_text=True)
    assert ask(client, email, addr="198.51.100.9").status_code == 200  # her own address still works


def test_reset_requests_count_toward_the_sign_in_lock_and_a_reset_clears_it(app, client, world, smtp_server):
    for _ in range(sign_in.MAX_FAILURES_PER_PAIR):
        ask(client, world["email"])
    assert _post_login(client, world["email"], factories.PASSWORD).status_code == 429
    links = delivered_links(app, smtp_server, world["email"])
    assert len(links) == password_reset.MAILS_PER_WINDOW  # the inbox is not flooded
    assert set_password(client, links[-1]).status_code == 303
    client.post("/logout", data={"csrf_token": csrf_token(client, "/staff")})
    assert _post_login(client, world["email"], NEW_PASSWORD).status_code == 302
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(LoginAttempt)
                             .where(LoginAttempt.email == world["email"])) == 0


def test_at_most_three_mails_an_hour_to_one_address(app, client, world, smtp_server, dev_clock):
    for n in range(5):
        ask(client, world["email"], addr=f"203.0.113.{100 + n}")
    assert len(delivered_links(app, smtp_server, world["email"])) == password_reset.MAILS_PER_WINDOW
    dev_clock(clock.format_shift(password_reset.MAIL_WINDOW + timedelta(minutes=1)))
    ask(client, world["email"], addr="203.0.113.120")
    assert len(delivered_links(app, smtp_server, world["email"])) == password_reset.MAILS_PER_WINDOW + 1


# ---- the link in no log ----------------------------------------------------------------------------

def test_the_link_is_redacted_in_the_access_log_and_absent_from_the_workers_log(app, client, world, smtp_server,
                                                                               caplog, capsys):
    import datetime

    with caplog.at_level(logging.DEBUG):
        ask(client, world["email"])
        [link] = delivered_links(app, smtp_server, world["email"])
        set_password(client, link)
    token = link.removeprefix("/login/reset/")
    assert token not in caplog.text

    logger, response = gunicorn_logger()
    environ = {"REQUEST_METHOD": "POST", "RAW_URI": link, "PATH_INFO": link, "QUERY_STRING": "",
               "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "203.0.113.5",
               "HTTP_REFERER": f"https://e.example/login?next=%2Flogin%2Freset%2F{token}"}
    logger.access(response, environ, environ, datetime.timedelta(milliseconds=3))
    logger.error("Error handling request %s", link)
    out = capsys.readouterr()
    text = out.out + out.err
    assert "/login/reset/[redacted]" in text and "%2Flogin%2Freset%2F[redacted]" in text
    assert token not in text
