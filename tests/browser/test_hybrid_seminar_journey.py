"""A hybrid seminar from sign-up to the survey results, in real Chromium and over HTTP (issue 17's
"What it must show", first bullet).

One date, 会場 (on site) and オンライン (its online twin), with a meeting URL this test serves; a survey
with the usual questions; the post-event loop's three parts on and a materials link set.

- 20 on-site and 20 online people sign up on the public form (one of each on a phone in Chromium,
  the rest as HTTP posts of the same form); a 21st online person signs up and cancels.
- Before doors open (the development clock): the join link shows the countdown; the meeting URL is
  in no page, mail (confirmations and reminders at the real SMTP server), .ics, export, back-office
  page or API answer.
- Inside the window: the join link leads into the meeting; the cancelled person's link is refused.
  15 on-site people are checked in through the desk API, 12 online people open their links.
- End + 30 minutes: three workers tick at once. The numbers the rule implies: 40 confirmed (the
  cancelled 21st is not), 27 came (15 + 12) -> 27 survey invitations, 27 certificates, and
  40 - 27 = 13 no-show notes, each person's exactly once at the SMTP server.
- 10 of the 27 answer the survey from the link in their mail (two on a phone, eight by HTTP posts
  of the same form); the results page, its CSV and the statistics page agree.
"""

from __future__ import annotations

import csv as csv_module
import io
import re
import threading
import time
from collections import Counter
from datetime import timedelta
from email.message import EmailMessage
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from eventreg import clock
from eventreg.domain.access import api_tokens
from eventreg.domain.backoffice import hybrid
from eventreg.domain.communication import followups
from eventreg.domain.insight import surveys
from eventreg.domain.registration import passes
from eventreg.extensions import db
from eventreg.models import Certificate, EventSession, Registration, Status, Survey
from eventreg.web.links import join_key
from eventreg.worker import deliver_due, tick

from .. import factories
from ..races.test_periodic_once import tick_together
from ..web.conftest import csrf_token, valid_form
from ..web.test_hybrid_leak import _body, back_office_paths
from .organizer import sign_in
from .test_join_link import Meeting, meeting_server, sign_up
from .test_registration_flow import assert_no_horizontal_overflow, database
from .test_survey import _answer

pytestmark = pytest.mark.browser

ONSITE, ONLINE, CAME_ONSITE, CAME_ONLINE, ANSWERED = 20, 20, 15, 12, 10
MATERIALS = "https://example.org/materials/hybrid-seminar"
SUBJECTS = {"survey": "【アンケートのお願い】", "noshow": "【資料と次回のご案内】", "certificate": "【参加証明書】"}


class Timer:
    def __init__(self):
        self.start = self.last = time.monotonic()

    def __call__(self, what: str) -> None:
        now = time.monotonic()
        print(f"[journey] {what}: {now - self.last:.1f} s (total {now - self.start:.1f} s)")
        self.last = now


def text_of(message: EmailMessage) -> str:
    """Every part of a mail as text (attachments decoded as far as they go)."""
    return "".join(part.get_content() if part.get_content_maintype() == "text" else
                   (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
                   for part in message.walk() if not part.is_multipart())


def to(message: EmailMessage) -> str:
    return message["To"].split("<")[-1].rstrip(">")


def deliver_all(app, now=None) -> None:
    """Three delivery workers at once, until the outbox has nothing due."""
    def run(n: int) -> None:
        while deliver_due(app, worker_id=f"deliver-{n}", batch=10, now=now):
            pass

    threads = [threading.Thread(target=run, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    while deliver_due(app, worker_id="deliver-last", batch=50, now=now):  # a claim a busy thread gave back
        pass


@pytest.fixture
def meeting():
    """The meeting: a local page (tests/browser/test_join_link.py) for the whole test; the visits it
    records are this test's only (the list is the class's, shared with test_join_link.py)."""
    Meeting.referers.clear()
    with meeting_server() as url:
        yield url
    Meeting.referers.clear()


@pytest.fixture(autouse=True)
def real_time_after():
    """The development clock is a file every process of the instance reads: back to real time after."""
    yield
    clock.set_setting("")


def test_a_hybrid_seminar_from_sign_up_to_survey_results(app, live_server, client, login, smtp_server, phone,
                                                         desktop, shot, meeting):
    lap = Timer()
    meeting_url = meeting
    with database(app) as s:
        canaries = (meeting_url, meeting_url.split("?")[0], "browsercanary")
        event = factories.make_event(capacity=30, title="第1回 協働セミナー(会場・オンライン)")
        onsite = event.sessions[0]
        zone = factories.JST
        hybrid.apply_mode(onsite, {"title": "", "date": onsite.starts_at.astimezone(zone).date().isoformat(),
                                   "doors": onsite.doors_at.astimezone(zone).strftime("%H:%M"),
                                   "start": onsite.starts_at.astimezone(zone).strftime("%H:%M"),
                                   "end": onsite.ends_at.astimezone(zone).strftime("%H:%M"), "capacity": "30",
                                   "mode": "both", "online_capacity": "300", "meeting_url": meeting_url},
                          actor=None, now=clock.utcnow())
        surveys.create_survey(event, with_defaults=True, title="セミナーアンケート", actor=None, now=clock.utcnow())
        followups.update(event, rule="end+30m", parts={"survey": True, "noshow": True, "certificate": True},
                         noshow_text="当日の資料をお送りします。次回もどうぞよろしくお願いします。",
                         materials_url=MATERIALS, actor=None, now=clock.utcnow())
        owner = factories.make_staff("organizer", events=[event], email="journey@example.org")
        api_token = api_tokens.create_api_token(owner, "受付端末", now=clock.utcnow())
        s.commit()
        slug, event_id, onsite_id, online_id = event.slug, event.id, onsite.id, hybrid.twin_of(onsite).id
        doors, ends = onsite.doors_at, onsite.ends_at
        owner_email = owner.email
    lap("set-up")

    seen: list[str] = []

    def check(where: str, text: str) -> None:
        seen.append(where)
        for canary in canaries:
            assert canary not in text, f"the meeting URL leaked in {where}"

    # --- sign-ups: one of each mode on a phone, the rest as posts of the same public form -------
    sign_up(phone, live_server, slug, onsite_id, "kaijo00@example.org")
    check("the phone's on-site welcome page", phone.content())
    sign_up(phone, live_server, slug, online_id, "online00@example.org")
    check("the phone's online welcome page", phone.content())
    assert phone.locator("section.join-link a.button").count() == 1
    check("the event page", client.get(f"/e/{slug}").get_data(as_text=True))
    people = [("kaijo", onsite_id, n) for n in range(1, ONSITE)] + [("online", online_id, n) for n in range(1, ONLINE + 1)]
    for prefix, session_id, n in people:
        family, kana = factories.FAMILIES[n % len(factories.FAMILIES)]
        email = f"{prefix}{n:02d}@example.org" if n < ONLINE else "cancelled@example.org"
        form = valid_form(session_id=str(session_id), email=email, email_confirm=email, family_name=family,
                          family_kana=kana, sector=("npo", "company", "government", "individual")[n % 4])
        form["csrf_token"] = csrf_token(client, f"/e/{slug}")
        answer = client.post(f"/e/{slug}", data=form)
        assert answer.status_code in (302, 303), answer.get_data(as_text=True)[:500]
        check(f"the sign-up answer of {email}", _body(answer))
    lap(f"{ONSITE + ONLINE + 1} sign-ups")

    with database(app) as s:
        everyone = {r.email: r for r in s.scalars(select(Registration).join(EventSession)
                                                 .where(EventSession.event_id == event_id))}
        assert Counter(r.status for r in everyone.values()) == Counter({Status.confirmed: 41})
        came_onsite = [everyone[f"kaijo{n:02d}@example.org"] for n in range(CAME_ONSITE)]
        came_online = [everyone[f"online{n:02d}@example.org"] for n in range(CAME_ONLINE)]
        keys = {r.email: join_key(r) for r in everyone.values() if r.session_id == online_id}
        qr = {r.email: passes.qr_payload(r) for r in came_onsite}
        tokens = {r.email: r.token for r in everyone.values()}
        ids = {r.email: r.id for r in everyone.values()}
        came = {r.email for r in came_onsite + came_online}
    assert len(keys) == ONLINE + 1

    # The 21st online person cancels on their own page.
    cancel_url = f"/r/{tokens['cancelled@example.org']}/cancel"
    answer = client.post(cancel_url, data={"csrf_token": csrf_token(client, cancel_url)})
    assert answer.status_code in (302, 303)

    # --- before the window: confirmations and reminders at the SMTP server, every page searched ---
    dev = doors - timedelta(hours=2)
    clock.set_setting(dev.isoformat())
    tick(app, now=dev)  # the reminder (the day before, 10:00) is due by now
    deliver_all(app, now=dev)
    before = smtp_server.received
    for i, message in enumerate(before):
        check(f"mail {i} ({message['Subject']})", text_of(message) + smtp_server.raw[i].decode("utf-8", "replace"))
    online_mails = [m for m in before if to(m).startswith("online")]
    assert len(online_mails) >= 2 * ONLINE  # confirmation and reminder, each with the join link
    assert all("/j/" in text_of(m) for m in online_mails)
    for email in ("kaijo03@example.org", "online03@example.org"):
        for suffix in ("", "/calendar.ics", "/pass.pdf", "/cancel"):
            check(f"/r/…{suffix} of {email}", _body(client.get(f"/r/{tokens[email]}{suffix}")))
    login(SimpleNamespace(email=owner_email))
    some = everyone["online03@example.org"].id
    with app.app_context():
        paths = list(back_office_paths({"event_id": event_id, "session_id": online_id, "registration_id": some}))
    for path in paths:
        check(path, _body(client.get(path)))
    headers = {"Authorization": f"Bearer {api_token}"}
    listing = client.get(f"/api/v1/events/{event_id}/registrations", headers=headers)
    assert listing.status_code == 200 and '"online"' in listing.get_data(as_text=True)
    check("the API list", listing.get_data(as_text=True))
    check("the API's one registration",
          client.get(f"/api/v1/events/{event_id}/registrations/{some}", headers=headers).get_data(as_text=True))
    lap(f"leak search before the window ({len(seen)} answers and mails)")

    # The countdown on the phone, ten minutes before doors.
    clock.set_setting((doors - timedelta(minutes=10)).isoformat())
    phone.goto(f"{live_server}/j/{keys['online00@example.org']}")
    countdown = phone.locator("#join-countdown")
    assert countdown.is_visible() and re.search(r"00:(10:00|09:[45]\d)", countdown.inner_text())  # the clock runs on
    check("the countdown", phone.content())
    assert_no_horizontal_overflow(phone)
    shot(phone, "journey-join-countdown-phone")
    check("a countdown over HTTP", _body(client.get(f"/j/{keys['online05@example.org']}")))

    # --- inside the window: 15 desk check-ins, 12 joins, the cancelled link refused ------------
    inside = doors + timedelta(minutes=5)
    clock.set_setting(inside.isoformat())
    phone.goto(f"{live_server}/j/{keys['online00@example.org']}")
    phone.wait_for_url(meeting_url)
    assert phone.locator("#room").inner_text() == "MEETING ROOM"
    assert [referer for path, referer in Meeting.referers if path.startswith("/room")] == [None]  # no-referrer
    for r in came_online[1:]:
        answer = client.get(f"/j/{keys[r.email]}")
        assert answer.status_code in (302, 303) and answer.headers["Location"] == meeting_url
    refused = client.get(f"/j/{keys['cancelled@example.org']}")
    assert refused.status_code == 410
    check("the refused link", _body(refused))
    operations = [{"id": f"scan-{n}", "seq": n + 1, "at": (inside + timedelta(seconds=20 * n)).isoformat(),
                   "kind": "scan", "method": "camera", "payload": qr[r.email]} for n, r in enumerate(came_onsite)]
    batch = client.post(f"/api/v1/events/{event_id}/desk-batches", headers=headers, json={
        "device": "受付1", "desk": "受付1", "sent_at": (inside + timedelta(minutes=6)).isoformat(),
        "operations": operations})
    assert batch.status_code == 200, batch.get_data(as_text=True)
    with database(app) as s:
        arrived = {r.email: r.checked_in_desk for r in s.scalars(select(Registration).where(
            Registration.checked_in_at.is_not(None)))}
    assert set(arrived) == came
    assert Counter(arrived.values()) == Counter({"受付1": CAME_ONSITE, "online": CAME_ONLINE})
    lap("countdown, joins and check-ins")

    # --- end + 30 minutes: three workers tick at once, three delivery workers send --------------
    after = ends + timedelta(minutes=31)
    clock.set_setting(after.isoformat())
    sent_before = len(smtp_server.received)
    results = tick_together(app, after)
    assert not any(result["error"] for result in results)
    deliver_all(app, now=after)
    tick(app, now=after + timedelta(hours=1))  # a restarted worker an hour later: nothing more
    deliver_all(app, now=after + timedelta(hours=1))
    loop_mails = smtp_server.received[sent_before:]
    lap("three workers: the loop and its mails")
    arrivals = {part: Counter(to(m) for m in loop_mails
                              if m["Subject"].startswith(subject)) for part, subject in SUBJECTS.items()}
    confirmed = set(everyone) - {"cancelled@example.org"}
    assert len(confirmed) == ONSITE + ONLINE == 40
    assert arrivals["survey"] == Counter({email: 1 for email in came}) and len(came) == 27
    assert arrivals["certificate"] == Counter({email: 1 for email in came})
    assert arrivals["noshow"] == Counter({email: 1 for email in confirmed - came})
    assert len(arrivals["noshow"]) == 40 - 27 == 13
    for message in loop_mails:
        check(f"loop mail {message['Subject']}", text_of(message))
    assert all(MATERIALS in text_of(m) for m in loop_mails if m["Subject"].startswith(SUBJECTS["noshow"]))
    certificates = [m for m in loop_mails if m["Subject"].startswith(SUBJECTS["certificate"])]
    assert all([a.get_content_type() for a in m.iter_attachments()] == ["application/pdf"] for m in certificates)
    with database(app) as s:
        assert s.scalar(select(db.func.count(Certificate.id))) == 27

    # --- 10 answer the survey from the link in their mail: 2 on a phone, 8 by HTTP ---------------
    links = {to(m): re.search(r"https?://\S+/s/[A-Za-z0-9._-]+", text_of(m)).group(0)
             for m in loop_mails if m["Subject"].startswith(SUBJECTS["survey"])}
    answering = [r.email for r in came_onsite[:6]] + [r.email for r in came_online[:4]]
    for email in answering[:1] + answering[6:7]:
        _answer(phone, links[email], scale="5", nps="9", text="グループワークが役に立ちました")
    assert_no_horizontal_overflow(phone)
    with database(app) as s:
        survey = s.scalar(select(Survey).where(Survey.event_id == event_id))
        questions = {q.kind.value: f"q{q.id}" for q in survey.questions}
    for n, email in enumerate(answering[1:6] + answering[7:]):
        path = "/" + links[email].split("://", 1)[1].split("/", 1)[1]
        form = {questions["scale5"]: str(3 + n % 3), questions["come_again"]: "yes", questions["nps"]: str(6 + n % 5),
                "csrf_token": csrf_token(client, path)}
        answer = client.post(path, data=form)
        assert answer.status_code in (200, 302, 303), answer.get_data(as_text=True)[:500]
    lap("ten survey answers")

    # --- the results page, its CSV and the statistics agree --------------------------------------
    sign_in(desktop, live_server, owner_email, then=f"/admin/events/{event_id}/survey")
    assert desktop.inner_text("#survey-came") == "27" and desktop.inner_text("#survey-responded") == "10"
    assert desktop.inner_text("#survey-rate") == "37%"  # 10 / 27
    rows = {row[0]: row[1:] for row in (r.split("\t") for r in desktop.locator("#survey-rates tbody tr").all_inner_texts())}
    assert rows["会場"][:2] == ["15", "6"] and rows["オンライン"][:2] == ["12", "4"], rows
    assert desktop.locator(".free-texts li").count() == 2
    check("the results page", desktop.content())
    shot(desktop, "journey-survey-results-desktop")
    login(SimpleNamespace(email=owner_email))
    text = client.get(f"/admin/events/{event_id}/survey/responses.csv").get_data(as_text=True).lstrip("\ufeff")
    check("the survey CSV", text)
    header, *data = list(csv_module.reader(io.StringIO(text)))
    assert len(data) == ANSWERED
    assert Counter(row[header.index("attendance_mode")] for row in data) == Counter({"onsite": 6, "online": 4})
    assert {int(row[header.index("registration_id")]) for row in data} == {ids[email] for email in answering}
    # The attendee export's checked-in people are the people the survey asked (27: 15 by desk, 12 online).
    attendees = client.get(f"/admin/events/{event_id}/exports/attendees.csv").get_data(as_text=True).lstrip("\ufeff")
    check("the attendee export", attendees)
    desks = Counter(row[-1] for row in list(csv_module.reader(io.StringIO(attendees)))[1:])
    assert (desks["受付1"], desks["online"]) == (CAME_ONSITE, CAME_ONLINE), desks
    statistics = client.get(f"/admin/events/{event_id}/statistics").get_data(as_text=True)
    check("the statistics page", statistics)
    found = re.search(r'mode-onsite-registered">(\d+)<.*?mode-onsite-came">(\d+)<.*?'
                      r'mode-online-registered">(\d+)<.*?mode-online-came">(\d+)<', statistics, re.S)
    assert found and found.groups() == ("20", "15", "20", "12"), found and found.groups()
    survey_row = re.search(r'id="survey-events".*?<tbody><tr><th scope="row">[^<]*</th><td>(\d+)</td><td>(\d+)</td>'
                           r'<td>([^<]*)</td>', statistics, re.S)
    assert survey_row and survey_row.groups() == ("27", "10", "37%"), survey_row and survey_row.groups()
    lap("results, CSV and statistics")
    # After the window too (the contract: the meeting URL is never shown): the check-in log with
    # the 12 openings, the lists and exports with the arrivals, the API.
    for path in paths:
        check(f"{path} after the event", _body(client.get(path)))
    check("the API list after the event",
          client.get(f"/api/v1/events/{event_id}/registrations", headers=headers).get_data(as_text=True))
    checkins = client.get(f"/admin/events/{event_id}/checkins").get_data(as_text=True)
    methods = Counter(re.findall(r'data-method="([a-z_]+)"', checkins))
    # Every opening of a join link is in the log: the 12 joins, the two countdowns, the refused one.
    assert methods == Counter({"join": CAME_ONLINE + 2 + 1, "camera": CAME_ONSITE}), methods
    lap("leak search after the event")
    assert len(seen) > 100, len(seen)

