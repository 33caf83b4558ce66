"""One count definition, one set of words: the desk, the attendee list, the check-in log and the
statistics (one event and across events) show the same number under the same word.

Each page is read as a reader would: word -> number (the desk: its counter's word and the API's
number; the list: its count cards; the statistics: the CSV under the chart, whose header is the
table's; a chart: its bars' tooltips "word: number")."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import update

from eventreg.domain.reception import checkin
from eventreg.extensions import db
from eventreg.models import Registration, Status

from .. import factories
from ..domain.test_stats import add, past_event

# The scenario's numbers, by the Japanese word every page uses for them.
EXPECTED = {"申し込み完了": 5, "受付済み": 2, "未到着": 3, "当日参加": 1, "不参加": 3,
            "メール未確認": 1, "キャンセル待ち": 1, "キャンセル済み": 1}


def scenario():
    """An event whose session has ended: confirmed (not arrived), arrived, arrived then undone,
    held, waiting, cancelled, a walk-in who arrived, a walk-in whose check-in was undone."""
    event = past_event(2, capacity=20)
    s = event.sessions[0]
    created, at = s.starts_at - timedelta(days=7), s.doors_at
    add(event, s, 1, created=created, email="waiting{}@example.org", status=Status.waitlisted)
    add(event, s, 1, created=created, email="held{}@example.org", status=Status.held)
    add(event, s, 1, created=created, email="gone{}@example.org", status=Status.cancelled, cancelled=created)
    add(event, s, 1, created=created, email="away{}@example.org")
    add(event, s, 1, created=created, email="here{}@example.org", checked_in=at)
    add(event, s, 1, created=created, email="undone{}@example.org", checked_in=at)
    add(event, s, 1, created=at, email="walked{}@example.org", checked_in=at, walk_in=True)
    add(event, s, 1, created=at, email="walkundone{}@example.org", checked_in=at, walk_in=True)
    now = datetime.now(timezone.utc)
    for email in ("undone0@example.org", "walkundone0@example.org"):
        reg = db.session.scalar(db.select(Registration).where(Registration.event_id == event.id, Registration.email == email))
        checkin.undo(reg.id, event=event, desk="受付1", user_id=None, now=now)
    db.session.commit()
    return event


def _number(text: str) -> int:
    return int(re.sub(r"\D", "", text))


def desk_words(client, event) -> dict[str, int]:
    page = client.get(f"/desk/{event.id}").get_data(as_text=True)
    numbers = client.get(f"/api/v1/events/{event.id}/counts").get_json()
    found = {}
    # A counter: <span … data-count="key">–</span> … <span class="count-label">word</span>
    for block in re.findall(r'<p class="count[^"]*">(.*?)</p>', page, re.S):
        keys = re.findall(r'data-count="([a-z_]+)"', block)
        word = re.search(r'class="count-label">([^<]+)<', block)
        if keys and word and keys[-1] in numbers:
            found[html.unescape(word.group(1)).strip()] = numbers[keys[-1]]
    return found


def list_words(client, event) -> dict[str, int]:
    page = client.get(f"/admin/events/{event.id}/attendees").get_data(as_text=True)
    cards = re.search(r'<dl class="count-cards">(.*?)</dl>', page, re.S).group(1)
    return {html.unescape(w).strip(): _number(n) for w, n in re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", cards)}


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def stats_words(client, event) -> dict[str, int]:
    header, row = csv_rows(client.get(f"/admin/events/{event.id}/statistics/sessions.csv"))[:2]
    return {word: int(value) for word, value in zip(header, row, strict=True) if value.isdigit()}


def log_words(client, event) -> dict[str, int]:
    page = client.get(f"/admin/events/{event.id}/checkins").get_data(as_text=True)
    counts = re.sub(r"<[^>]+>", " ", re.search(r'id="log-counts">(.*?)</p>', page, re.S).group(1))
    return {html.unescape(w).strip(): int(n) for w, n in re.findall(r"([^\s:：,、()（）]+)[:：]\s*(\d+)", counts)}


def test_desk_list_log_and_statistics_give_the_same_numbers_under_the_same_words(app, ctx, login):
    event = scenario()
    client = login(factories.make_staff("owner", events=[event]))
    pages = {"desk": desk_words(client, event), "list": list_words(client, event),
             "log": log_words(client, event), "statistics": stats_words(client, event)}
    for page, words in pages.items():
        shown = {word: number for word, number in words.items() if word in EXPECTED}
        assert shown == {word: EXPECTED[word] for word in shown}, page
    # Each page shows the counters a reader of it needs, under those words.
    assert {"受付済み", "未到着", "当日参加", "申し込み完了"} <= set(pages["desk"])
    assert set(EXPECTED) <= set(pages["list"])
    assert {"受付済み", "未到着", "当日参加", "申し込み完了"} <= set(pages["log"])
    assert set(EXPECTED) <= set(pages["statistics"])


def bars(svg: str) -> dict[str, list[int]]:
    """A bar chart's series: word -> the numbers of its bars, category by category (a bar of 0 is
    not drawn, so a category is told by its label line before the bars)."""
    series: dict[str, list[int]] = {}
    for tip in re.findall(r"<rect [^>]*><title>([^<]+)</title></rect>", svg):
        word, number = html.unescape(tip).rsplit(": ", 1)
        series.setdefault(word, []).append(int(number))
    return series


def test_the_cross_event_chart_and_its_table_agree(app, ctx, login):
    events = [scenario(), scenario()]
    extra = events[1].sessions[0]
    add(events[1], extra, 2, created=extra.starts_at, email="more{}@example.org", checked_in=extra.doors_at)
    client = login(factories.make_staff("organizer", events=events))
    page = client.get("/admin/statistics").get_data(as_text=True)
    chart = re.search(r'<svg[^>]*aria-labelledby="x720-events-t[^>]*>.*?</svg>', page, re.S).group(0)
    rows = csv_rows(client.get("/admin/statistics/events.csv"))
    header, body = rows[0], rows[1:]
    series = bars(chart)
    assert series, "the chart has bars"
    for word, numbers in series.items():
        assert word in header, f"the chart's {word} is a column of the table"
        column = [int(r[header.index(word)]) for r in body]
        assert [n for n in column if n] == numbers, word
    assert [int(r[header.index("受付済み")]) for r in body] == [2, 4]
    assert [int(r[header.index("当日参加")]) for r in body] == [1, 1]


def test_an_undone_walk_in_is_not_arrived_on_every_page(app, ctx, login):
    """The desk, the list and the statistics agree while the session is on (no no-shows yet)."""
    event = scenario()
    later = factories.in_days(1)
    db.session.execute(update(type(event.sessions[0])).where(type(event.sessions[0]).id == event.sessions[0].id)
                       .values(ends_at=later))
    db.session.commit()
    client = login(factories.make_staff("owner", events=[event]))
    for words in (desk_words(client, event), list_words(client, event), stats_words(client, event)):
        assert words.get("未到着", 3) == 3 and words.get("当日参加") == 1 and words.get("不参加", 0) == 0


def summary_words(client, event) -> dict[str, int]:
    """The export summary's event total (one session: its 合計 row), word -> number."""
    header, *body = csv_rows(client.get(f"/admin/events/{event.id}/exports/summary.csv"))
    total = next(row for row in body if row[1] == "合計")
    return {word: int(value) for word, value in zip(header, total, strict=True) if value.isdigit()}


def test_the_export_summary_counts_as_the_attendee_list(app, ctx, login):
    """The summary export takes its numbers and its words from the one count definition: for the
    same people, each word has the attendee list's number (an undone walk-in is not a walk-in)."""
    event = scenario()
    client = login(factories.make_staff("owner", events=[event]))
    summary, cards = summary_words(client, event), list_words(client, event)
    assert set(EXPECTED) <= set(summary)
    assert {word: summary[word] for word in cards} == cards
