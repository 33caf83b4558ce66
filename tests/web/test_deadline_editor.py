"""The deadline editor through its HTTP forms (issue 16): each kind saved and shown again, the
server's live answer, a session's own deadline, bad parts refused with words (Japanese and
English) and nothing changed, and the old typed rule still read by the form and the import."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from eventreg.domain.backoffice import event_import
from eventreg.extensions import db
from eventreg.models import Event, EventSession

from .. import factories
from .test_admin_events import add_session, create, future, organizer, post, seed_fields, the_event  # noqa: F401

TOKYO = ZoneInfo("Asia/Tokyo")


def editor(kind: str, **parts) -> dict:
    """The editor's fields as the browser sends them: every part, the chosen kind."""
    fields = {"deadline_kind": kind, "deadline_days": "1", "deadline_days_at": "12:00",
              "deadline_business_days": "3", "deadline_business_at": "17:00", "deadline_hours": "2",
              "deadline_when": ""}
    fields.update({f"deadline_{name}": value for name, value in parts.items()})
    return fields


def edit(client, event_id: int, fields: dict):
    data = seed_fields(**{"deadline": None, **fields})
    return post(client, f"/admin/events/{event_id}/edit", data)


def local(moment: datetime) -> str:
    return moment.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M")


def one_session(event_id: int) -> EventSession:
    db.session.expire_all()
    return db.session.get(Event, event_id).sessions[0]


@pytest.fixture
def seminar(client, organizer):  # noqa: F811 (the fixture imported above)
    """An event (前日12:00) with one session 40 days ahead."""
    event_id = create(client)
    day = future(40)
    assert add_session(client, event_id, day).status_code == 303
    return event_id


@pytest.mark.parametrize("kind, parts, expect", [
    ("days_before", {"days": "2", "days_at": "17:00"}, lambda s: (s - timedelta(days=2)).replace(hour=17, minute=0)),
    ("hours_before", {"hours": "2"}, lambda s: s - timedelta(hours=2)),
    ("hours_before", {"hours": "１.５"}, lambda s: s - timedelta(minutes=90)),
    ("none", {}, lambda s: s),
])
def test_each_kind_round_trips_and_stores_the_window(client, seminar, kind, parts, expect):
    response = edit(client, seminar, editor(kind, **parts))
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    session = one_session(seminar)
    starts = session.starts_at.astimezone(TOKYO)
    assert local(session.closes_at) == local(expect(starts))
    page = client.get(f"/admin/events/{seminar}/edit").get_data(as_text=True)
    assert _checked(page, kind)
    assert "締切: " in page and 'class="deadline-list"' in page  # the resolved deadline, under the editor
    assert "&lt;ul" not in page  # the fragment is HTML, not text


def _checked(page: str, kind: str) -> bool:
    """Whether the radio of ``kind`` is the checked one (attribute order is WTForms')."""
    for tag in page.split("<input")[1:]:
        tag = tag.split(">")[0]
        if 'name="deadline_kind"' in tag and f'value="{kind}"' in tag:
            return "checked" in tag
    return False


def test_business_days_round_trip_with_their_parts(client, seminar):
    assert edit(client, seminar, editor("business_days_before", business_days="3", business_at="17:30")).status_code == 303
    event = the_event(seminar)
    assert (event.deadline_days_before, event.deadline_time, event.deadline_business_days) == (3, "17:30", True)
    page = client.get(f"/admin/events/{seminar}/edit").get_data(as_text=True)
    assert _checked(page, "business_days_before") and 'name="deadline_business_at"' in page and 'value="17:30"' in page
    closes = one_session(seminar).closes_at.astimezone(TOKYO)
    assert closes.strftime("%H:%M") == "17:30" and closes.weekday() < 5
    overview = client.get(f"/admin/events/{seminar}").get_data(as_text=True)
    assert "3営業日前の17:30" in overview


def test_the_live_answer_resolves_each_session_without_saving(client, seminar):
    before = one_session(seminar).closes_at
    response = post(client, f"/admin/events/{seminar}/deadline-preview",
                    {"scope": "event", **editor("hours_before", hours="3")}, page=f"/admin/events/{seminar}/edit")
    html = response.get_data(as_text=True)
    starts = one_session(seminar).starts_at.astimezone(TOKYO)
    expected = starts - timedelta(hours=3)
    assert response.status_code == 200 and "締切: " in html
    assert f"{expected.month}月{expected.day}日" in html and expected.strftime("%H:%M") in html
    assert one_session(seminar).closes_at == before  # nothing saved
    bad = post(client, f"/admin/events/{seminar}/deadline-preview",
               {"scope": "event", **editor("days_before", days_at="25:00")}, page=f"/admin/events/{seminar}/edit")
    assert bad.status_code == 200 and "時刻を「12:00」のように入力してください" in bad.get_data(as_text=True)


def test_the_show_button_works_without_javascript(client, seminar):
    before = the_event(seminar).deadline_days_before
    response = edit(client, seminar, {**editor("days_before", days="5", days_at="09:00"), "action": "deadline_preview"})
    html = response.get_data(as_text=True)
    starts = one_session(seminar).starts_at.astimezone(TOKYO)
    expected = (starts - timedelta(days=5)).replace(hour=9, minute=0)
    assert response.status_code == 200 and f"{expected.month}月{expected.day}日" in html and "09:00" in html
    assert the_event(seminar).deadline_days_before == before


@pytest.mark.parametrize("fields, words", [
    (editor("days_before", days="一"), "何日前かを0〜999の整数で入力してください"),
    (editor("days_before", days_at="25:00"), "時刻を「12:00」のように入力してください"),
    (editor("business_days_before", business_days="0"), "何営業日前かを1〜99の整数で入力してください"),
    (editor("hours_before", hours="two"), "何時間前かを0〜9999の数で入力してください"),
    (editor("absolute", when="someday"), "締切の日時を入力してください"),
    (editor("whenever"), "締切の決め方を選んでください"),
])
def test_bad_parts_give_a_message_and_change_nothing(client, seminar, fields, words):
    before = (the_event(seminar).deadline_days_before, one_session(seminar).closes_at)
    response = edit(client, seminar, {**fields, "title": "Changed"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "error-summary" in html and words in html
    assert 'href="#deadline_kind-field"' in html and 'id="deadline_kind-field"' in html
    assert (the_event(seminar).deadline_days_before, one_session(seminar).closes_at) == before
    assert the_event(seminar).title != "Changed"


def test_bad_parts_in_english(client, seminar):
    client.set_cookie("lang", "en")
    response = edit(client, seminar, editor("business_days_before", business_days="100"))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Enter the business days before the start as a whole number from 1 to 99." in html
    page = client.get(f"/admin/events/{seminar}/edit").get_data(as_text=True)
    assert "Business days before, at a time" in page and "days before the start, at" in page


def test_the_typed_rule_is_still_read(client, seminar):
    """A scripted post (no editor parts) may still send the rule as text, 前日12:00 included."""
    assert edit(client, seminar, {"deadline": "前日12:00"}).status_code == 303
    assert (the_event(seminar).deadline_days_before, the_event(seminar).deadline_time) == (1, "12:00")
    assert edit(client, seminar, {"deadline": "3bd@17:00"}).status_code == 303
    assert the_event(seminar).deadline_business_days is True


def session_form(day, **overrides) -> dict:
    fields = {"title": "第1回", "date": day.isoformat(), "doors": "18:30", "start": "19:00", "end": "20:30",
              "capacity": "30", "session_deadline_kind": "event", "session_deadline_days": "1",
              "session_deadline_days_at": "12:00", "session_deadline_business_days": "3",
              "session_deadline_business_at": "17:00", "session_deadline_hours": "2", "session_deadline_when": ""}
    fields.update(overrides)
    return fields


def test_a_session_has_its_own_deadline(client, organizer):  # noqa: F811
    event_id = create(client)  # the event's rule: 前日12:00
    day = future(30)
    added = post(client, f"/admin/events/{event_id}/sessions",
                 session_form(day, session_deadline_kind="hours_before", session_deadline_hours="4"),
                 page=f"/admin/events/{event_id}/edit")
    assert added.status_code == 303, added.get_data(as_text=True)[:2000]
    session = one_session(event_id)
    assert session.deadline_rule == "4h" and local(session.closes_at) == f"{day} 15:00"
    url = f"/admin/events/{event_id}/sessions/{session.id}"
    page = client.get(url).get_data(as_text=True)
    assert "この回だけの締切" in page and f"{day.month}月{day.day}日" in page and "15:00" in page
    overview = client.get(f"/admin/events/{event_id}").get_data(as_text=True)
    assert "開始4時間前" in overview
    # An absolute time of its own, then back to the event's rule.
    assert post(client, url, session_form(day, session_deadline_kind="absolute",
                                          session_deadline_when=f"{day - timedelta(days=3)}T10:00")).status_code == 303
    session = one_session(event_id)
    assert session.deadline_at is not None and local(session.closes_at) == f"{day - timedelta(days=3)} 10:00"
    assert post(client, url, session_form(day)).status_code == 303
    session = one_session(event_id)
    assert (session.deadline_at, session.deadline_rule) == (None, None)
    assert local(session.closes_at) == f"{day - timedelta(days=1)} 12:00"


def test_a_bad_session_deadline_changes_nothing(client, organizer):  # noqa: F811
    event_id = create(client)
    day = future(30)
    assert post(client, f"/admin/events/{event_id}/sessions", session_form(day),
                page=f"/admin/events/{event_id}/edit").status_code == 303
    session = one_session(event_id)
    before = session.closes_at
    url = f"/admin/events/{event_id}/sessions/{session.id}"
    response = post(client, url, session_form(day, session_deadline_kind="business_days_before",
                                              session_deadline_business_days="x", capacity="31"))
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "何営業日前かを" in html and 'href="#session_deadline_kind-field"' in html
    session = one_session(event_id)
    assert (session.closes_at, session.capacity, session.deadline_rule) == (before, 30, None)


def test_the_session_live_answer(client, organizer):  # noqa: F811
    event_id = create(client)
    day = future(30)
    response = post(client, f"/admin/events/{event_id}/deadline-preview",
                    {"scope": "session", **session_form(day, session_deadline_kind="days_before",
                                                        session_deadline_days="2", session_deadline_days_at="09:30")},
                    page=f"/admin/events/{event_id}/edit")
    html = response.get_data(as_text=True)
    expected = day - timedelta(days=2)
    assert response.status_code == 200 and f"{expected.month}月{expected.day}日" in html and "09:30" in html
    assert "この回だけの締切" in html


def test_the_import_still_reads_the_old_and_new_forms(ctx):
    """docs/example-event.yaml's mapping, a typed rule (前日12:00, 3bd@17:00) and a session's own."""
    start = factories.in_days(20, "14:00")
    spec = factories.event_spec_dict(start=start, deadline="前日12:00")
    spec["sessions"][0]["deadline"] = {"hours_before": 2}
    event = event_import.replace_event(spec, now=datetime.now(TOKYO))
    db.session.commit()
    assert (event.deadline_days_before, event.deadline_time) == (1, "12:00")
    assert event.sessions[0].deadline_rule == "2h" and event.sessions[0].closes_at == start - timedelta(hours=2)
    business = event_import.replace_event(factories.event_spec_dict(
        start=start, deadline={"business_days_before": 3, "time": "17:00"}), now=datetime.now(TOKYO))
    assert business.deadline_business_days and business.deadline_days_before == 3
    typed = event_import.replace_event(factories.event_spec_dict(start=start, deadline="3bd@17:00"), now=datetime.now(TOKYO))
    assert typed.deadline_business_days and typed.deadline_time == "17:00"
    old = event_import.replace_event(factories.event_spec_dict(start=start), now=datetime.now(TOKYO))  # {days_before: 1, time: "12:00"}
    assert (old.deadline_days_before, old.deadline_time, old.deadline_business_days) == (1, "12:00", False)
    db.session.commit()


@pytest.mark.parametrize("deadline, words", [
    ({"business_days_before": 0, "time": "17:00"}, "deadline.business_days_before: must be a whole number from 1 to 99"),
    ({"hours_before": "two"}, "deadline.hours_before: must be a number"),
    ("yesterday-ish", "invalid_deadline"),
])
def test_a_bad_imported_deadline_is_refused(ctx, deadline, words):
    from eventreg.domain.errors import DomainError

    with pytest.raises(DomainError) as caught:
        event_import.build_event(factories.event_spec_dict(deadline=deadline))
    assert words in caught.value.detail or words == "invalid_deadline" and "deadline:" in caught.value.detail


def test_a_post_without_the_editor_keeps_the_sessions_own_deadline(client, organizer):  # noqa: F811
    """A script changing a session's capacity (no session_deadline_* fields) changes nothing else."""
    event_id = create(client)
    day = future(30)
    assert post(client, f"/admin/events/{event_id}/sessions",
                session_form(day, session_deadline_kind="hours_before", session_deadline_hours="4"),
                page=f"/admin/events/{event_id}/edit").status_code == 303
    session = one_session(event_id)
    plain = {k: v for k, v in session_form(day, capacity="35").items() if not k.startswith("session_deadline")}
    assert post(client, f"/admin/events/{event_id}/sessions/{session.id}", plain).status_code == 303
    session = one_session(event_id)
    assert (session.capacity, session.deadline_rule, local(session.closes_at)) == (35, "4h", f"{day} 15:00")
