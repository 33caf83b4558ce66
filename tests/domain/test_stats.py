"""domain.insight.statistics with known data: every number on the statistics page, on both databases."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import insert

from eventreg.domain.insight import statistics
from eventreg.domain.people import person_keys
from eventreg.domain.registration.passes import new_entry_id, new_token
from eventreg.extensions import db
from eventreg.models import Registration, Scan, ScanMethod, ScanResult, Sector, Status

from .. import factories

JST = timezone(timedelta(hours=9))


def add(event, session, n, *, status=Status.confirmed, sector=Sector.npo, created=None, checked_in=None,
        cancelled=None, walk_in=False, email="p{}@example.org", anonymised=False, repeat=None):
    rows = []
    for i in range(n):
        rows.append(dict(
            event_id=event.id, session_id=session.id, token=new_token(), entry_id=new_entry_id(), status=status,
            family_name="山田", given_name="花子", family_kana="ヤマダ", given_kana="ハナコ",
            email=None if anonymised else email.format(i), organization="", department="", sector=sector,
            phone="", answers={}, language="ja", created_at=created, confirmed_at=created,
            cancelled_at=cancelled, checked_in_at=checked_in(i) if callable(checked_in) else checked_in,
            checked_in_desk="", walk_in=walk_in, anonymised_at=created if anonymised else None,
            repeat_attendee=repeat))
    db.session.execute(insert(Registration), [person_keys.with_keys(row) for row in rows])
    db.session.commit()


def past_event(days_ago: int, **kw):
    start = factories.in_days(-days_ago, "14:00")
    return factories.make_event(start=start, capacity=kw.pop("capacity", 50), **kw)


def test_event_numbers(ctx):
    event = past_event(3)
    s = event.sessions[0]
    start = s.starts_at
    signup = start - timedelta(days=10)  # a day in JST
    add(event, s, 10, created=signup, checked_in=lambda i: s.doors_at + timedelta(minutes=2 + i), sector=Sector.company)
    add(event, s, 4, created=signup + timedelta(days=1), email="n{}@example.org")  # no-shows
    add(event, s, 2, status=Status.waitlisted, created=signup + timedelta(days=2), email="w{}@example.org")
    add(event, s, 3, status=Status.cancelled, created=signup, cancelled=start - timedelta(hours=30),
        email="c{}@example.org")
    add(event, s, 1, created=start, checked_in=start, walk_in=True, email="walk{}@example.org",
        sector=Sector.government)
    db.session.add(Scan(event_id=event.id, result=ScanResult.ok, method=ScanMethod.camera, at=start))
    db.session.commit()
    result = statistics.event_stats(event, now=datetime.now(timezone.utc), scope=[event.id])
    row = result.sessions[0].counts
    assert (row.confirmed, row.waitlisted, row.cancelled, row.checked_in, row.walk_ins, row.no_shows) == (15, 2, 3, 11, 1, 4)
    assert result.totals.no_show_rate == 4 / 14
    assert [d["signups"] for d in result.days][:3] == [13, 4, 2]
    assert result.days[-1]["total"] == 19  # walk-ins are not sign-ups
    assert sum(d["cancellations"] for d in result.days) == 3
    company = next(x for x in result.sectors if x["sector"] == "company")
    assert company["counts"].checked_in == 10
    assert sum(b["count"] for b in result.arrivals[s.id]) == 11
    assert result.arrivals[s.id][-1]["total"] == 11
    assert [b["count"] for b in result.arrivals[s.id]] == [3, 5, 2, 1]  # 5-minute bins from 13:30 (+ the walk-in)
    assert {c["lead"]: c["count"] for c in result.cancellations}["day_before"] == 3
    assert result.scans == {"ok": 1}


def test_repeat_attendees_by_email_and_by_the_purge_flag(ctx):
    first, second = past_event(40), past_event(10)
    add(first, first.sessions[0], 5, created=first.sessions[0].starts_at - timedelta(days=3),
        checked_in=first.sessions[0].starts_at)
    s = second.sessions[0]
    add(second, s, 3, created=s.starts_at - timedelta(days=3), checked_in=s.starts_at)  # p0..p2 came back
    add(second, s, 2, created=s.starts_at - timedelta(days=3), checked_in=s.starts_at, anonymised=True, repeat=True)
    add(second, s, 1, created=s.starts_at - timedelta(days=3), checked_in=s.starts_at, email="new{}@example.org")
    now = datetime.now(timezone.utc)
    r = statistics.event_stats(second, now=now, scope=[first.id, second.id])
    assert r.repeat == {"attendees": 6, "repeat": 5, "anonymised_repeat": 2}
    assert statistics.event_stats(second, now=now, scope=[second.id]).repeat["repeat"] == 2  # first not visible
    assert statistics.event_stats(first, now=now, scope=[first.id, second.id]).repeat["repeat"] == 0  # later is not earlier
    cross = statistics.cross_stats([second.id, first.id], now=now)
    assert [e["id"] for e in cross.events] == [first.id, second.id]
    assert [e["returning"] for e in cross.events] == [0, 5]
    assert {f["events"]: f["people"] for f in cross.frequency} == {1: 3, 2: 3}
    assert next(x for x in cross.returners if x["sector"] == "npo")["people"] == 3
    assert cross.sectors[second.id]["npo"] == 6


def test_local_days_follow_the_event_time_zone(ctx):
    event = past_event(3)
    s = event.sessions[0]
    late = datetime(2026, 11, 1, 23, 30, tzinfo=JST)  # 14:30 UTC: the 1st in Tokyo
    add(event, s, 1, created=late)
    add(event, s, 1, created=late + timedelta(minutes=45), email="x{}@example.org")  # the 2nd in Tokyo
    days = statistics.event_stats(event, now=datetime.now(timezone.utc)).days
    assert [(d["day"].isoformat(), d["signups"]) for d in days] == [("2026-11-01", 1), ("2026-11-02", 1)]


def test_an_event_with_nothing(ctx):
    event = factories.make_event()
    r = statistics.event_stats(event, now=datetime.now(timezone.utc))
    assert r.days == [] and r.arrivals == {} and r.totals.no_show_rate is None
    assert statistics.cross_stats([], now=datetime.now(timezone.utc)).events == []
