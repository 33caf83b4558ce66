"""domain.insight.counts: one definition of the counters, and the desk, the attendee list and the
statistics (one event, by sector, across events) all giving the same numbers, on both databases."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from eventreg.domain.insight import counts, statistics
from eventreg.domain.insight.counts import Counts
from eventreg.domain.reception import checkin, walk_ins
from eventreg.domain.registration import passes, signup
from eventreg.extensions import db
from eventreg.models import EventSession, Registration, Sector, Status
from eventreg.models.registration import SEATED
from eventreg.web.count_words import COUNT_WORDS

from .. import factories
from .test_roster import add, two_session_event

NOW = datetime.now(timezone.utc)


def set_capacity(session, capacity: int) -> None:
    db.session.execute(EventSession.__table__.update().where(EventSession.id == session.id).values(capacity=capacity))
    db.session.commit()


def scenario(make_event):
    """confirmed (not arrived), held, waiting, cancelled, arrived, arrived then undone, a walk-in
    who arrived, a walk-in whose check-in was undone; through the domain, seats and all."""
    event = make_event(capacity=20)
    session = event.sessions[0]
    factories.register_person(event)
    here, undone = factories.register_person(event), factories.register_person(event)
    held = factories.register_person(event)
    db.session.execute(Registration.__table__.update().where(Registration.id == held.id).values(status="held"))
    gone = factories.register_person(event)
    signup.cancel(gone, now=NOW)
    set_capacity(session, 4)  # the four seated people fill it: the next one waits
    waiting = factories.register_person(event)
    assert waiting.status == Status.waitlisted
    set_capacity(session, 6)  # room for the two walk-ins
    for person in (here, undone):
        assert checkin.scan(passes.qr_payload(person), event=event, method="camera", desk="d", user_id=None,
                            now=NOW).ok
    walked = walk_ins.walk_in(session, factories.applicant(family_name="当日", email=None), desk="d", user_id=None,
                             now=NOW)
    walked_back = walk_ins.walk_in(session, factories.applicant(family_name="取消", email=None), desk="d",
                                  user_id=None, now=NOW)
    for person in (undone, walked_back):
        checkin.undo(person.id, event=event, desk="d", user_id=None, now=NOW)
    db.session.commit()
    assert walked.checked_in_at is not None
    return event


DURING = dict(held=1, waitlisted=1, cancelled=1, checked_in=2, not_arrived=3, walk_ins=1, no_shows=0)


def test_the_scenario_gives_the_same_numbers_at_the_desk_in_the_list_and_in_the_statistics(make_event):
    event = scenario(make_event)
    session = event.sessions[0]
    for now, expected in ((NOW, Counts(**DURING)),
                          (session.ends_at, Counts(**{**DURING, "no_shows": 3, "registered_arrivals_ended": 1}))):
        desk = counts.of_event(event.id, now=now)
        desk_session = counts.of_event(event.id, now=now, session_id=session.id)
        listed = counts.summed(counts.per_session(event.id, now=now).values())
        st = statistics.event_stats(event, now=now, scope=[event.id])
        by_sector = counts.summed(x["counts"] for x in st.sectors)
        across = statistics.cross_stats([event.id], now=now).events[0]["counts"]
        for found in (desk, desk_session, listed, st.totals, st.sessions[0].counts, by_sector, across):
            assert found == expected
        assert desk.confirmed == 5 and desk.registered_arrivals == 1 and desk.active == 7 and desk.seated == 6
    assert desk.no_show_rate == 3 / 4  # the two not-arrived registered people and the undone walk-in, of four
    # The seats: exactly the seated registrations hold one.
    db.session.refresh(session)
    assert session.seats_taken == desk.seated == db.session.scalar(
        select(func.count()).where(Registration.session_id == session.id, Registration.status.in_(SEATED)))


def test_the_counters_add_up(make_event):
    event = scenario(make_event)
    c = counts.of_event(event.id, now=event.sessions[0].ends_at)
    assert c.confirmed == c.checked_in + c.not_arrived
    assert c.checked_in == c.registered_arrivals + c.walk_ins
    assert c.active == c.confirmed + c.held + c.waitlisted
    assert c.no_shows <= c.not_arrived
    total = db.session.scalar(select(func.count()).where(Registration.event_id == event.id))
    assert c.held + c.waitlisted + c.cancelled + c.checked_in + c.not_arrived == total


def test_every_counter_has_its_words():
    assert set(COUNT_WORDS) == set(counts.NAMES)
    assert Counts(held=2)["held"] == 2 and Counts(checked_in=3, not_arrived=1)["confirmed"] == 4


def test_the_list_counts_in_one_query(ctx):
    event = two_session_event()
    first, second = (s.id for s in event.sessions)
    add(event)
    add(event, checked_in_at=NOW)
    add(event, walk_in=True, checked_in_at=NOW)
    add(event, walk_in=True)  # a walk-in whose check-in was taken back: not arrived, not a walk-in
    add(event, status=Status.waitlisted)
    add(event, status=Status.cancelled)
    add(event, session_index=1)
    add(event, session_index=1, status=Status.cancelled, walk_in=True, checked_in_at=NOW)

    statements = []

    def count_statement(*args):
        if args[2].startswith("SELECT"):
            statements.append(args[2])

    engine, event_id = db.session.get_bind(), event.id
    sa_event.listen(engine, "before_cursor_execute", count_statement)
    try:
        per = counts.per_session(event_id, now=NOW)
    finally:
        sa_event.remove(engine, "before_cursor_execute", count_statement)
    assert len(statements) == 1
    assert per[first] == Counts(waitlisted=1, cancelled=1, checked_in=2, not_arrived=2, walk_ins=1)
    assert per[second] == Counts(cancelled=1, not_arrived=1)
    later = counts.per_session(event.id, now=event.sessions[0].ends_at)
    assert later[first].no_shows == 2 and later[second].no_shows == 0
    assert counts.per_session(factories.make_event().id, now=NOW) == {}


def test_counts_by_sector_and_across_events_group_in_sql(ctx):
    event = two_session_event()
    add(event, sector=Sector.company, checked_in_at=NOW)
    add(event, sector=Sector.company)
    add(event, sector=Sector.university, walk_in=True, checked_in_at=NOW)
    by_sector = counts.grouped(Registration.sector, where=[Registration.event_id == event.id], now=NOW)
    assert {(s.value if hasattr(s, "value") else s): c for s, c in by_sector.items()} == {
        "company": Counts(checked_in=1, not_arrived=1), "university": Counts(checked_in=1, walk_ins=1)}
    both = counts.grouped(Registration.event_id, Registration.session_id, where=[Registration.event_id == event.id],
                          now=NOW)
    assert both == {(event.id, event.sessions[0].id): Counts(checked_in=2, not_arrived=1, walk_ins=1)}


def test_an_ended_session_counts_its_not_arrived_as_no_shows_only_once_ended(ctx):
    event = two_session_event()
    add(event)
    add(event, session_index=1)
    ended = event.sessions[0].ends_at + timedelta(seconds=1)
    per = counts.per_session(event.id, now=ended)
    assert per[event.sessions[0].id].no_shows == 1 and per[event.sessions[1].id].no_shows == 0
    assert counts.per_session(event.id, now=event.sessions[0].ends_at - timedelta(seconds=1))[
        event.sessions[0].id].no_shows == 0
