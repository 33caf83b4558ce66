"""The offline desk's roster, GET /api/v1/events/<id>/roster (web/api/desk_roster.py,
domain.reception.roster_sync): everyone, then deltas that carry every change to a person, never
an email, a phone number or an answer, only for the event's desk staff, with a device key only
for a staff session."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select, update

from eventreg.domain.access import api_tokens
from eventreg.domain.backoffice import bulk_actions, registration_edits
from eventreg.domain.communication import building_list
from eventreg.domain.privacy import person_requests, retention
from eventreg.domain.reception import checkin, roster_sync, walk_ins
from eventreg.domain.registration import holds, passes, signup, waitlist
from eventreg.extensions import db
from eventreg.models import CheckinConflict, DeskTask, Event, Registration, ScanMethod, Status

from .. import factories
from .test_openapi import check

API = "/api/v1"
HOUR_US = 3600 * 1_000_000


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _two_sessions(capacity: int = 3) -> list[dict]:
    first = factories.event_spec_dict(capacity=capacity)["sessions"][0]
    return [first, dict(first, doors="17:30", start="18:00", end="20:00", capacity=10)]


@pytest.fixture
def world(app):
    """An event of two sessions: a, b, c in the first (full; c checked in), w waiting for it, d and
    a held seat h in the second; a reception user with a token; an event of someone else."""
    with app.app_context():
        event = factories.make_event(sessions=_two_sessions())
        s1, s2 = event.sessions
        people = {name: factories.register_person(event, family_name=family, family_kana=kana,
                                                  email=f"{name}@example.org", phone="090-1234-5678")
                  for name, family, kana in (("a", "青木", "アオキ"), ("b", "伊藤", "イトウ"), ("c", "上田", "ウエダ"))}
        people["w"] = factories.register_person(event, family_name="和田", family_kana="ワダ", email="w@example.org")
        people["d"] = factories.register_person(event, 1, family_name="江藤", family_kana="エトウ", email="d@example.org")
        event.confirm_email = True
        db.session.commit()
        people["h"] = factories.register_person(event, 1, family_name="堀", family_kana="ホリ", email="h@example.org")
        checkin.check_in_by_id(people["c"].id, event=event, method=ScanMethod.search, desk="受付1", user_id=None,
                               now=_now())
        user = factories.make_staff("reception", events=[event])
        other = factories.make_event()
        db.session.commit()
        assert people["w"].status == Status.waitlisted and people["h"].status == Status.held
        values = SimpleNamespace(
            event=event.id, s1=s1.id, s2=s2.id, other=other.id, email=user.email, user_id=user.id,
            token=api_tokens.create_api_token(user, "desk", now=_now()),
            **{name: r.id for name, r in people.items()})
        db.session.commit()
        db.session.remove()
    return values


def get_roster(client, world, since: str | None = None, token: str | None = None, event_id: int | None = None):
    headers = {"Authorization": f"Bearer {token or world.token}"}
    url = f"{API}/events/{event_id or world.event}/roster"
    response = client.get(url, query_string={"since": since} if since is not None else {}, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return check(response, url, "get")


def backdate(app, event_id: int) -> None:
    """Every registration of the event last changed an hour ago (the value is given, so
    SQLAlchemy's onupdate leaves it): only what changes from now on is in a delta."""
    with app.app_context():
        db.session.execute(update(Registration).where(Registration.event_id == event_id)
                           .values(changed_us=Registration.changed_us - HOUR_US))
        db.session.commit()


def test_everyone_then_only_what_changed(app, client, world):
    first = get_roster(client, world)
    assert first["full"] is True and first["total"] == len(first["rows"]) == 6
    names = [r["family_name"] for r in first["rows"]]
    assert names == ["青木", "伊藤", "上田", "江藤", "堀", "和田"]  # 五十音 order (sort_key, id)
    by_name = {r["family_name"]: r for r in first["rows"]}
    assert by_name["上田"]["checked_in_desk"] == "受付1" and by_name["和田"]["status"] == "waitlisted"
    assert by_name["青木"]["search"] == "青木花子\nアオキハナコ\n育テ上ゲネット\n"  # folded; no email line
    assert first["event"]["id"] == world.event and first["key"]["event_id"] == world.event
    assert first["result_of_status"] == {"confirmed": "ok", "held": "unconfirmed", "waitlisted": "waitlisted",
                                         "cancelled": "cancelled"}
    assert first["kana_rows"]["ka"] == ["カ", "サ"] and first["fold"]["itaiji"]["髙"] == "高"
    assert [s["seats_left"] for s in first["sessions"]] == [0, 8]

    backdate(app, world.event)
    quiet = get_roster(client, world, since=first["cursor"])
    assert quiet["full"] is False and quiet["rows"] == [] and quiet["total"] == 6
    assert quiet["cursor"] != first["cursor"]

    with app.app_context():
        event = db.session.get(Event, world.event)
        checkin.check_in_by_id(world.a, event=event, method=ScanMethod.search, desk="受付2", user_id=None, now=_now())
        db.session.commit()
    delta = get_roster(client, world, since=quiet["cursor"])
    assert delta["full"] is False and [r["id"] for r in delta["rows"]] == [world.a]
    assert delta["rows"][0]["checked_in_desk"] == "受付2"
    # The overlap: asked again at once, the same row comes again (a commit may still be on its way).
    assert [r["id"] for r in get_roster(client, world, since=delta["cursor"])["rows"]] == [world.a]


@pytest.mark.parametrize("since", ["", "nonsense", "1.2.3", "1.2.3.x", "-1.0.0.0", "１.2.3.4", "9" * 30])
def test_an_unreadable_cursor_gives_everything(client, world, since):
    answer = get_roster(client, world, since=since)
    assert answer["full"] is True and len(answer["rows"]) == 6


def test_a_cursor_of_another_event_or_from_the_future_gives_everything(app, client, world):
    cursor = roster_sync.Cursor.parse(get_roster(client, world)["cursor"])
    backdate(app, world.event)
    assert get_roster(client, world, since=str(cursor))["full"] is False
    other = roster_sync.Cursor(world.other, cursor.at_us, cursor.lists, cursor.last_list)
    assert get_roster(client, world, since=str(other))["full"] is True
    future = roster_sync.Cursor(world.event, cursor.at_us + HOUR_US, cursor.lists, cursor.last_list)
    assert get_roster(client, world, since=str(future))["full"] is True


def test_a_building_list_sent_since_the_cursor_gives_everything(app, client, world):
    """The "not on the building's list" marker of every person depends on the list: a delta
    could not say it changed for people who did not."""
    before = get_roster(client, world)
    assert not any(r["not_on_security_list"] for r in before["rows"])
    backdate(app, world.event)
    with app.app_context():
        event = db.session.get(Event, world.event)
        event.security_email = "security@venue.example"
        event.confirm_email = False  # people who register now are confirmed at once
        building_list.send_full(event.sessions[0], trigger="manual", now=_now())
        db.session.commit()
        # Someone confirmed after the list went out: the building has no pass for them.
        late = factories.register_person(event, 1, family_name="遅野", family_kana="オソノ", email="late@example.org")
        late_id = late.id
        db.session.remove()
    after = get_roster(client, world, since=before["cursor"])
    assert after["full"] is True and after["total"] == len(after["rows"]) == 7
    marked = {r["id"] for r in after["rows"] if r["not_on_security_list"]}
    # The second session's list was never sent: nobody there is marked.
    assert marked == set()
    with app.app_context():
        building_list.send_full(db.session.get(Event, world.event).sessions[1], trigger="manual", now=_now())
        db.session.commit()
        factories.register_person(db.session.get(Event, world.event), 1, family_name="更遅", family_kana="サラオソ",
                                  email="later@example.org")
        db.session.remove()
    again = get_roster(client, world, since=after["cursor"])
    assert again["full"] is True
    marked = {r["family_name"] for r in again["rows"] if r["not_on_security_list"]}
    assert marked == {"更遅"} and late_id in {r["id"] for r in again["rows"]}
    # With nothing sent since, a delta again.
    assert get_roster(client, world, since=again["cursor"])["full"] is False


# --- every way a person changes reaches the desks ------------------------------------------------


def _event(w):
    return db.session.get(Event, w.event)


def _reg(rid):
    return db.session.get(Registration, rid)


def _staff(w):
    from eventreg.models import StaffUser

    return db.session.get(StaffUser, w.user_id)


def _applicant(**overrides):
    return factories.applicant(family_name="飛込", given_name="一郎", family_kana="トビコミ", given_kana="イチロウ",
                               **overrides)


def _free_a_seat_without_promoting(w):
    """a leaves the full first session behind the queue's back (so staff can promote by hand)."""
    from eventreg.domain.registration import capacity

    db.session.execute(update(Registration).where(Registration.id == w.a)
                       .values(status=Status.cancelled, changed_us=Registration.changed_us))
    capacity.release_seat(w.s1)


PATHS = {  # name: (what is done before the snapshot, or None; the change)
    "scan": (None, lambda w, now: checkin.scan(
        passes.qr_payload(_reg(w.a)), event=_event(w), method=ScanMethod.camera, desk="受付1", user_id=None, now=now)),
    "check-in from the search": (None, lambda w, now: checkin.check_in_by_id(
        w.b, event=_event(w), method=ScanMethod.search, desk="受付1", user_id=None, now=now)),
    "undo": (None, lambda w, now: checkin.undo(w.c, event=_event(w), desk="受付1", user_id=None, now=now)),
    "walk-in": (None, lambda w, now: walk_ins.walk_in(_event(w).sessions[1], _applicant(), desk="受付1",
                                                      user_id=None, now=now)),
    "the attendee cancels (the waiting person is promoted)": (None, lambda w, now: signup.cancel(_reg(w.a), now=now)),
    "staff cancel": (None, lambda w, now: registration_edits.cancel(_reg(w.b), actor=_staff(w), now=now)),
    "staff move": (None, lambda w, now: registration_edits.move(_reg(w.a), _event(w).sessions[1], actor=_staff(w),
                                                                now=now)),
    "move into a freed seat": (_free_a_seat_without_promoting,
                               lambda w, now: signup.move(_reg(w.d), _event(w).sessions[0], now=now)),
    "staff edit": (None, lambda w, now: registration_edits.edit(
        _reg(w.d), {"family_name": "江頭", "family_kana": "エガシラ"}, actor=_staff(w), now=now)),
    "staff promote": (_free_a_seat_without_promoting,
                      lambda w, now: registration_edits.promote(_reg(w.w), actor=_staff(w), now=now)),
    "the waiting person switches session": (None, lambda w, now: waitlist.switch_from_waitlist(
        _reg(w.w), _event(w).sessions[1], now=now)),
    "bulk cancel": (None, lambda w, now: bulk_actions.run([_reg(w.a), _reg(w.d)], bulk_actions.Action.cancel,
                                                          actor=_staff(w), now=now)),
    "added by staff": (None, lambda w, now: registration_edits.add_by_hand(_event(w).sessions[1], _applicant(),
                                                                           actor=_staff(w), now=now)),
    "public sign-up": (None, lambda w, now: signup.register(_event(w).sessions[1], _applicant(), now=now)),
    "email confirmed (held seat)": (None, lambda w, now: holds.confirm(_reg(w.h), now=now)),
    "hold expired": (None, lambda w, now: holds.expire(w.h, now + timedelta(days=30))),
    "person's request (APPI deletion)": (None, lambda w, now: person_requests.delete_person("d@example.org", now)),
    "retention purge": (None, lambda w, now: retention.purge(w.event, now)),
}


def _snapshot(event_id: int) -> dict[int, tuple]:
    """Every column of the event's registrations but changed_us."""
    columns = [c for c in Registration.__table__.c if c.name != "changed_us"]
    return {row[0]: tuple(row) for row in db.session.execute(
        select(*columns).where(Registration.event_id == event_id).order_by(Registration.id))}


@pytest.mark.parametrize("path", list(PATHS))
def test_every_change_to_a_person_is_in_the_next_delta(app, client, world, path):
    """Whatever changes a registration (each way the code has, run for real) puts exactly the
    rows it changed in the next delta: changed_us is written on every path, and a path that
    wrote a row without it (raw SQL) would leave that row out and fail here. The SQL of every
    UPDATE of a registration is checked to set changed_us as well."""
    since = get_roster(client, world)["cursor"]
    backdate(app, world.event)
    prepare, change = PATHS[path]
    updates = []

    def record(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("UPDATE REGISTRATION"):
            updates.append(statement)

    with app.app_context():
        if prepare is not None:
            prepare(world)
            db.session.commit()
        before = _snapshot(world.event)
        engine = db.engine
        sa_event.listen(engine, "before_cursor_execute", record)
        try:
            change(world, _now())
            db.session.commit()
        finally:
            sa_event.remove(engine, "before_cursor_execute", record)
        after = _snapshot(world.event)
        db.session.remove()
    changed = {rid for rid in after if before.get(rid) != after[rid]}
    assert changed, "the path changed nobody: the case tests nothing"
    delta = get_roster(client, world, since=since)
    assert delta["full"] is False
    assert {r["id"] for r in delta["rows"]} == changed
    assert delta["total"] == len(after)
    assert all("changed_us" in statement for statement in updates), updates


def test_no_code_writes_registrations_in_raw_sql_without_changed_us():
    """SQLAlchemy writes changed_us on every INSERT and UPDATE it builds; only hand-written SQL
    could change a person without the desks' next delta carrying it. The one hand-written write
    (the desk's one-statement scan, domain.reception.scan_statement) sets it in its SET clause."""
    import re
    from pathlib import Path

    import eventreg

    raw = re.compile(r"(?is)\b(update\s+\"?registration\"?\s+set\b.*?\bwhere\b|insert\s+into\s+\"?registration\b[^)]*\))")
    writes = [(path.name, match.group(0)) for path in Path(eventreg.__file__).parent.rglob("*.py")
              for match in raw.finditer(path.read_text("utf-8"))]
    assert [name for name, _ in writes] == ["scan_statement.py"]
    assert [name for name, sql in writes if "changed_us" not in sql] == []


# --- what the answer never holds, and who gets it ---------------------------------------------------


def test_no_email_phone_or_answer_in_the_raw_answer(app, client, world):
    with app.app_context():
        event = _event(world)
        from eventreg.models import Question, QuestionKind

        question = Question(event_id=event.id, position=1, kind=QuestionKind.text, label="ご質問", required=False)
        db.session.add(question)
        db.session.flush()
        db.session.execute(update(Registration).where(Registration.event_id == event.id)
                           .values(answers={str(question.id): "秘密の回答です"}))
        db.session.commit()
        emails = [r.email for r in db.session.scalars(select(Registration).where(Registration.event_id == event.id))]
        db.session.remove()
    login_page = client.get(f"{API}/events/{world.event}/roster", headers={"Authorization": f"Bearer {world.token}"})
    raw = login_page.get_data(as_text=True)
    decoded = json.dumps(login_page.get_json(), ensure_ascii=False)
    for text in (raw, decoded):
        for email in emails:
            assert email not in text
        assert "@example.org" not in text and "090-1234-5678" not in text and "秘密の回答" not in text
    row_keys = set(login_page.get_json()["rows"][0])
    assert not row_keys & {"email", "phone", "answers", "token"}


def test_only_the_events_desk_staff(app, client, world):
    url = f"{API}/events/{world.event}/roster"
    with app.app_context():
        event = _event(world)
        other = db.session.get(Event, world.other)
        strangers = factories.make_staff("reception", events=[other])
        viewer = factories.make_staff("viewer", events=[event])
        tokens = {"another event's reception": api_tokens.create_api_token(strangers, "x", now=_now()),
                  "the event's viewer": api_tokens.create_api_token(viewer, "v", now=_now())}
        db.session.commit()
        db.session.remove()
    assert client.get(url).status_code == 401
    answer = client.get(url, headers={"Authorization": f"Bearer {tokens['another event' + chr(39) + 's reception']}"})
    assert answer.status_code == 404 and answer.get_json()["error"]["code"] == "not_found"
    answer = client.get(url, headers={"Authorization": f"Bearer {tokens['the event' + chr(39) + 's viewer']}"})
    assert answer.status_code == 403 and answer.get_json()["error"]["code"] == "forbidden"
    check(answer, url, "get")
    assert "青木" not in answer.get_data(as_text=True)


def _key_bytes(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def test_a_store_key_for_a_staff_session_only(app, client, world, login):
    url = f"{API}/events/{world.event}/roster"
    assert get_roster(client, world)["store_key"] is None  # a bearer token keeps its own storage
    desk = login(SimpleNamespace(email=world.email))
    first = desk.get(url).get_json()["store_key"]
    assert len(_key_bytes(first)) == 32
    assert desk.get(url).get_json()["store_key"] == first  # the same session: the same key
    with desk.session_transaction() as cookie:
        secret = cookie["_user_id"]
    assert first == roster_sync.store_key(secret, world.event)
    assert roster_sync.store_key(secret, world.other) != first  # another event: another key
    desk.post("/logout", data={"csrf_token": _csrf(desk)})
    assert desk.get(url).status_code == 401
    login(SimpleNamespace(email=world.email))
    assert desk.get(url).get_json()["store_key"] not in (None, first)  # a new sign-in: a new key


def _csrf(client) -> str:
    from .conftest import csrf_token

    return csrf_token(client, "/staff")


def test_conflicts_open_tasks_and_when_to_wipe(app, client, world):
    with app.app_context():
        event = _event(world)
        kept = datetime(2026, 12, 15, 4, 42, 5, tzinfo=timezone.utc)  # 13:42:05 in Tokyo
        db.session.add(CheckinConflict(event_id=event.id, registration_id=world.a, kept_at=kept, kept_desk="受付1",
                                       other_at=kept + timedelta(seconds=65), other_desk="受付2", recorded_at=_now()))
        db.session.add_all([
            DeskTask(event_id=event.id, session_id=world.s2, registration_id=world.d, kind="seat_overflow",
                     desk="受付2", created_at=_now()),
            DeskTask(event_id=event.id, kind="walk_in_duplicate", registration_id=world.b, desk="受付1",
                     created_at=_now(), done_at=_now()),
        ])
        db.session.commit()
        last_end = max(s.ends_at for s in event.sessions)
        db.session.remove()
    answer = get_roster(client, world)
    [conflict] = answer["conflicts"]
    assert conflict["text"] == "13:42:05 受付1 / 13:43:10 受付2" and conflict["name"] == "青木 花子"
    [task] = answer["tasks"]  # the one done is not listed
    assert task["kind"] == "seat_overflow" and "江藤 花子" in task["text"] and "受付2" in task["text"]
    assert datetime.fromisoformat(answer["event"]["wipe_after"]) == last_end + timedelta(hours=6)
    assert datetime.fromisoformat(answer["event"]["ends_at"]) == last_end


@pytest.mark.parametrize("people", [1, 40])
def test_the_cost_does_not_grow_with_the_people(app, client, people):
    """A few queries for any number of people (the building-list marker included), not one per row."""
    with app.app_context():
        event = factories.make_event(capacity=100)
        event.security_email = "security@venue.example"
        factories.bulk_confirmed(event.sessions[0], people)
        building_list.send_full(event.sessions[0], trigger="manual", now=_now())
        user = factories.make_staff("reception", events=[event])
        token = api_tokens.create_api_token(user, "desk", now=_now())
        db.session.commit()
        event_id = event.id
        engine = db.engine
        db.session.remove()
    world = SimpleNamespace(event=event_id, token=token)
    get_roster(client, world)  # the token's first use writes last_used_at; the tables are made once
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    sa_event.listen(engine, "before_cursor_execute", record)
    try:
        answer = get_roster(client, world)
    finally:
        sa_event.remove(engine, "before_cursor_execute", record)
    assert len(answer["rows"]) == people
    # token, event, lists sent, rows, sessions, the latest list (marker), conflicts, tasks
    assert len(statements) <= 9, statements


def test_utf8_and_gzip_when_the_client_takes_it(client, world):
    """2,000 people are about 1 MB of JSON: UTF-8 rather than \\u escapes, gzipped for a client
    that says it takes gzip (every browser), as it is for one that does not."""
    import gzip

    url = f"{API}/events/{world.event}/roster"
    auth = {"Authorization": f"Bearer {world.token}"}
    plain = client.get(url, headers=auth)
    packed = client.get(url, headers={**auth, "Accept-Encoding": "gzip, deflate, br"})
    assert "Content-Encoding" not in plain.headers and "青木" in plain.get_data(as_text=True)
    assert packed.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed.headers["Vary"]
    assert len(packed.data) < len(plain.data) / 2
    unpacked = json.loads(gzip.decompress(packed.data))
    assert unpacked["rows"] == plain.get_json()["rows"] and unpacked["total"] == 6
