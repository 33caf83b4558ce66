"""The meeting URL is a secret until the window: no page, mail, .ics, export, API answer or log
carries it. A hybrid event is set up through the organizer's session form, people sign up on the
public form (会場 and オンライン), the confirmation and the reminder go through the worker to a real
SMTP server, and then every page staff and attendees can open (every GET route of the back office,
filled in for this event), every export, the .ics, the pass and the organizer API are searched for
the distinctive URL, as is every mail and every log line.
"""

from __future__ import annotations

import io
import logging
import zipfile
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from eventreg import clock
from eventreg.domain.access import api_tokens
from eventreg.domain.backoffice import hybrid
from eventreg.extensions import db
from eventreg.models import AttendanceMode, EventSession, Registration, ScheduledTask, TaskKind
from eventreg.worker import deliver_due, tick

from .. import factories
from .conftest import csrf_token, valid_form

SECRET_URL = "https://zoom.example.com/j/83100042?pwd=LEAKCANARY7f3e"
CANARY = "LEAKCANARY7f3e"


def _body(response) -> str:
    data = response.get_data()
    if data[:2] == b"PK":  # an XLSX: its XML parts
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            return "".join(book.read(name).decode("utf-8", "replace") for name in book.namelist())
    return data.decode("utf-8", "replace")


def _session_form(event, session, **overrides):
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(event.timezone)
    data = {"title": "第1回", "date": session.starts_at.astimezone(tz).date().isoformat(),
            "doors": session.doors_at.astimezone(tz).strftime("%H:%M"),
            "start": session.starts_at.astimezone(tz).strftime("%H:%M"),
            "end": session.ends_at.astimezone(tz).strftime("%H:%M"), "capacity": "30",
            "mode": "both", "online_capacity": "300", "meeting_url": SECRET_URL}
    data.update(overrides)
    return data


def back_office_paths(values: dict):
    """Every GET path of the back office for one event: ``values`` fills event_id, session_id and
    registration_id; routes that need another id (a job, a message, a question, a sent list: none
    holds the meeting URL) are left out; each list, export format and statistics table is named."""
    for rule in current_app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin.") or "GET" not in rule.methods:
            continue
        if set(rule.arguments) - set(values) - {"which", "fmt", "table"}:
            continue
        for which in ({"which": w} for w in ("attendees", "arrivals", "reception")) if "which" in rule.arguments else [{}]:
            for fmt in ({"fmt": f} for f in ("csv", "xlsx")) if "fmt" in rule.arguments else [{}]:
                for table in ([{"table": t} for t in ("signups", "sessions", "sectors", "arrivals", "cancellations",
                                                      "events", "returners")] if "table" in rule.arguments else [{}]):
                    args = {k: v for k, v in values.items() if k in rule.arguments} | which | fmt | table
                    try:
                        path = rule.build(args, append_unknown=False)[1]
                    except Exception:  # noqa: BLE001 - a converter's value that does not fit this rule
                        continue
                    yield path


def test_the_meeting_url_appears_nowhere_before_its_window(app, ctx, client, login, smtp_server, caplog):
    caplog.set_level(logging.DEBUG)
    seen: list[tuple[str, str]] = []

    def check(where: str, text: str):
        seen.append((where, text))
        assert CANARY not in text, f"the meeting URL leaked in {where}"

    event = factories.make_event(capacity=30)
    owner = factories.make_staff("organizer", events=[event])
    onsite = event.sessions[0]
    login(owner)
    url = f"/admin/events/{event.id}/sessions/{onsite.id}"
    saved = client.post(url, data={**_session_form(event, onsite), "csrf_token": csrf_token(client, url)})
    assert saved.status_code in (302, 303), saved.get_data(as_text=True)[:2000]
    check("the session form's answer", _body(saved))
    db.session.expire_all()
    online = hybrid.twin_of(db.session.get(EventSession, onsite.id))
    assert online.meeting_url == SECRET_URL and online.capacity == 300
    page = client.get(url)
    check("the session form", page.get_data(as_text=True))
    assert "設定済み" in page.get_data(as_text=True)  # staff see that it is set …
    assert db.session.get(type(event), event.id).reminders  # the event's reminder (1d@10:00) is due for both

    # The public form offers both, with the seats of each.
    public = client.get(f"/e/{event.slug}").get_data(as_text=True)
    check("the event page", public)
    assert "会場" in public and "オンライン" in public and "残り300席" in public and "残り30席" in public
    people = {}
    for mode, session_id, email in (("onsite", onsite.id, "kaijo@example.org"), ("online", online.id, "online@example.org")):
        form = valid_form(session_id=str(session_id), email=email, email_confirm=email)
        form["csrf_token"] = csrf_token(client, f"/e/{event.slug}")
        answer = client.post(f"/e/{event.slug}", data=form)
        assert answer.status_code in (302, 303), answer.get_data(as_text=True)[:500]
        check("the sign-up answer", _body(answer))
        people[mode] = db.session.scalar(select(Registration).where(Registration.email == email))
    assert people["online"].session.attendance_mode == AttendanceMode.online

    # Confirmations, then the reminder (the worker's tick at its time), through real SMTP.
    db.session.commit()
    while deliver_due(app, worker_id="test", batch=20):
        pass
    due = db.session.scalar(select(ScheduledTask.due_at).where(ScheduledTask.session_id == online.id,
                                                               ScheduledTask.kind == TaskKind.reminder))
    db.session.commit()
    assert tick(app, now=due + timedelta(minutes=1))["done"] >= 2
    while deliver_due(app, worker_id="test", batch=20, now=due + timedelta(minutes=2)):
        pass
    raw = [m.decode("utf-8", "replace") if isinstance(m, bytes) else str(m) for m in smtp_server.raw]
    assert len(raw) >= 4, len(raw)  # two confirmations, two reminders
    for i, message in enumerate(smtp_server.messages):
        text = "".join(part.get_content() if part.get_content_maintype() == "text" else
                       (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
                       for part in message.walk() if not part.is_multipart())
        check(f"mail {i} ({message['Subject']})", text + raw[i])
    online_mails = [m for m in smtp_server.messages if m["To"] and "online@" in m["To"]]
    join_path = "/j/" + str(people["online"].id) + "."
    joined = ["".join(p.get_content() for p in m.walk() if p.get_content_type() == "text/plain") for m in online_mails]
    assert all(join_path in text for text in joined), "confirmation and reminder carry the join link"
    assert any("から終了まで" in text for text in joined)
    onsite_mails = [m for m in smtp_server.messages if m["To"] and "kaijo@" in m["To"]]
    # Their text parts (the mail and its .ics): the base64 of a PDF or an image holds "/j/" by chance.
    onsite_texts = ["".join(p.get_content() for p in m.walk() if p.get_content_maintype() == "text") for m in onsite_mails]
    assert onsite_mails and not any("/j/" in text for text in onsite_texts)

    # The attendees' own pages and files.
    for person in people.values():
        for suffix in ("", "/calendar.ics", "/pass.pdf", "/cancel"):
            check(f"/r/…{suffix}", _body(client.get(f"/r/{person.token}{suffix}")))
    ics = client.get(f"/r/{people['online'].token}/calendar.ics").get_data(as_text=True)
    assert join_path in ics.replace("\r\n ", "")  # the .ics's place is the join link
    # Before doors: the join link itself.
    clock.set_setting((online.doors_at - timedelta(hours=1)).isoformat())
    try:
        wrong = client.get(f"/j/{people['online'].id}.wrongproof")
        assert wrong.status_code == 404
        check("a wrong join key", _body(wrong))
        from eventreg.web.links import join_key

        check("the countdown", _body(client.get("/j/" + join_key(people["online"]))))
    finally:
        clock.set_setting("")

    # Every GET page of the back office for this event (signed in again: the clock's jump ended the session).
    login(owner)
    values = {"event_id": event.id, "session_id": onsite.id, "registration_id": people["online"].id}
    statuses: dict[str, int] = {}
    for path in back_office_paths(values):
        response = client.get(path)
        statuses[path] = response.status_code
        check(path, _body(response))
    assert statuses[f"/admin/events/{event.id}/exports/attendees.xlsx"] == 200
    assert statuses[f"/admin/events/{event.id}/attendees"] == 200
    assert any(where.endswith(f"/sessions/{onsite.id}") for where, _ in seen)

    # The organizer API.
    token = api_tokens.create_api_token(owner, "leak test", now=clock.utcnow())
    db.session.commit()
    listing = client.get(f"/api/v1/events/{event.id}/registrations", headers={"Authorization": f"Bearer {token}"})
    assert listing.status_code == 200
    body = listing.get_data(as_text=True)
    check("the API list", body)
    assert '"mode": "online"' in body or '"mode":"online"' in body
    one = client.get(f"/api/v1/events/{event.id}/registrations/{people['online'].id}",
                     headers={"Authorization": f"Bearer {token}"})
    check("the API's one registration", one.get_data(as_text=True))

    # And no log line.
    for record in caplog.records:
        check("the log", record.getMessage())
    assert len(seen) > 60, len(seen)
