"""The statistics pages: permissions across events, CSV content, reconciliation with the exports."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from eventreg.extensions import db
from eventreg.models import Sector, Status

from .. import factories
from ..domain.test_stats import add, past_event


def rows_of(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    assert response.data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, like the exports
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def world():
    event = past_event(5, capacity=40)
    s = event.sessions[0]
    created = s.starts_at - timedelta(days=9)
    add(event, s, 12, created=created, checked_in=lambda i: s.doors_at + timedelta(minutes=i), sector=Sector.company)
    add(event, s, 5, created=created, email="n{}@example.org", sector=Sector.university)
    add(event, s, 3, status=Status.waitlisted, created=created, email="w{}@example.org")
    add(event, s, 2, status=Status.cancelled, created=created, cancelled=s.starts_at - timedelta(days=3),
        email="c{}@example.org", sector=Sector.government)
    add(event, s, 2, created=s.starts_at, checked_in=s.starts_at, walk_in=True, email="wk{}@example.org")
    add(event, s, 1, created=created, email="=HYPERLINK(\"x\"){}@example.org")
    return event


def test_the_numbers_reconcile_with_the_exports(app, ctx, login):
    event = world()
    owner = factories.make_staff("owner", events=[event])
    client = login(owner)
    base = f"/admin/events/{event.id}"
    attendees = rows_of(client.get(f"{base}/exports/attendees.csv"))
    cancelled = rows_of(client.get(f"{base}/exports/attendees.csv?status=cancelled"))
    header, people = attendees[0], attendees[1:] + cancelled[1:]
    col = {name: header.index(name) for name in header}
    sessions = rows_of(client.get(f"{base}/statistics/sessions.csv"))
    sh = sessions[0]
    row = dict(zip(sh, sessions[1], strict=True))
    status = [p[col["状態"]] for p in people]
    assert int(row["申し込み完了"]) == status.count("申し込み完了")
    assert int(row["キャンセル待ち"]) == status.count("キャンセル待ち")
    assert int(row["キャンセル済み"]) == status.count("キャンセル済み")
    arrived = [p for p in people if p[col["受付日時"]] and p[col["状態"]] == "申し込み完了"]
    assert int(row["受付済み"]) == len(arrived) == 14
    walk = [p for p in attendees[1:] if p[col["当日参加"]]]
    assert int(row["当日参加"]) == len(walk) == 2
    # The summary export, per sector.
    summary = rows_of(client.get(f"{base}/exports/summary.csv"))
    sectors = rows_of(client.get(f"{base}/statistics/sectors.csv"))
    by_sector = {r[0]: dict(zip(sectors[0], r, strict=True)) for r in sectors[1:]}
    for line in summary[1:]:
        s = dict(zip(summary[0], line, strict=True))
        if s["所属区分"] in by_sector:
            assert by_sector[s["所属区分"]]["申し込み完了"] == s["申し込み完了"]
            assert by_sector[s["所属区分"]]["受付済み"] == s["受付済み"]
            assert by_sector[s["所属区分"]]["キャンセル済み"] == s["キャンセル済み"]
    # The check-in log's counter.
    log = client.get(f"{base}/checkins").get_data(as_text=True)
    assert f"受付済み: {len(arrived)}" in log
    # No-shows = the attendee list's no-show filter.
    no_show = rows_of(client.get(f"{base}/exports/attendees.csv?status=no_show"))
    assert int(row["不参加"]) == len(no_show) - 1 == 6


def test_csv_is_formula_safe_and_the_page_renders(app, ctx, login):
    event = world()
    client = login(factories.make_staff("viewer", events=[event]))
    page = client.get(f"/admin/events/{event.id}/statistics")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'role="img"' in html and "<title" in html and "<table>" in html
    signups = rows_of(client.get(f"/admin/events/{event.id}/statistics/signups.csv"))
    assert signups[0][0] == "日付" and signups[-1][3] == "23"  # walk-ins are not sign-ups
    event.sessions[0].title = "=cmd|' /C calc'!A0"
    db.session.commit()
    sessions = rows_of(client.get(f"/admin/events/{event.id}/statistics/sessions.csv"))
    assert sessions[1][0].startswith("'=")


def test_no_numbers_of_events_without_a_role(app, ctx, login):
    mine, theirs = world(), past_event(8)
    add(theirs, theirs.sessions[0], 7, created=theirs.sessions[0].starts_at - timedelta(days=2),
        checked_in=theirs.sessions[0].starts_at, email="t{}@example.org")
    theirs.title = "他人のイベント"
    db.session.commit()
    client = login(factories.make_staff("viewer", events=[mine]))
    assert client.get(f"/admin/events/{theirs.id}/statistics").status_code == 404
    assert client.get(f"/admin/events/{theirs.id}/statistics/sessions.csv").status_code == 404
    page = client.get(f"/admin/statistics?event={theirs.id}").get_data(as_text=True)
    assert "他人のイベント" not in page
    rows = rows_of(client.get(f"/admin/statistics/events.csv?event={theirs.id}&event={mine.id}"))
    assert [r[0] for r in rows[1:]] == [mine.title]
    reception = login(factories.make_staff("reception", events=[mine]))
    assert reception.get(f"/admin/events/{mine.id}/statistics").status_code == 403
    assert "他人" not in reception.get("/admin/statistics").get_data(as_text=True)


def test_bad_parameters_are_no_500(app, ctx, login):
    event = world()
    client = login(factories.make_staff("owner", events=[event]))
    for url in ("/admin/statistics?event=abc&event=99999999999&organizer=%01x", "/admin/statistics?event=-1",
                "/admin/statistics/events.csv?event=%E3%81%82", f"/admin/events/{event.id}/statistics?x=1",
                f"/admin/events/{event.id}/statistics/nothing.csv", "/admin/statistics/nothing.csv"):
        assert client.get(url).status_code in (200, 404), url
