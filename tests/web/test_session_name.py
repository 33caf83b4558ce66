"""One session name: every list, filter, export, statistics table, the desk, the reception list
and the venue's visitor list name a session alike (its title, or its day and start time), in
Japanese and English, for one-session and multi-session events."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from html import unescape

import pytest
from flask_babel import refresh

from eventreg import clock
from eventreg.domain.backoffice import exports, roster
from eventreg.domain.timing.session_name import session_name
from eventreg.extensions import db

from .. import factories

START = factories.in_days(10, "14:00")


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def _options(html: str, select_id: str) -> list[str]:
    block = re.search(rf'<select[^>]*id="{select_id}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return [_text(o) for value, o in re.findall(r'<option value="(\d+)"[^>]*>(.*?)</option>', block, re.S)]


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def _sessions(several: bool) -> list[dict]:
    one = {"date": START.date().isoformat(), "doors": "13:30", "start": "14:00", "end": "17:00", "capacity": 10}
    if not several:
        return [one]
    later = START + timedelta(days=7)
    return [{**one, "title": "第1回 基礎編"},
            {**one, "date": later.date().isoformat(), "start": "10:00", "doors": "09:30", "end": "12:00"}]


@pytest.mark.parametrize("several", [False, True], ids=["one-session", "multi-session"])
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_place_names_a_session_alike(app, client, login, make_event, lang, several):
    event = make_event(sessions=_sessions(several), language=lang)
    for index in range(len(event.sessions)):
        factories.register_person(event, index, family_name=f"山田{index}")
    event.security_email = "security@venue.example"
    db.session.commit()
    names = [session_name(s, event.timezone, lang) for s in event.sessions]
    if lang == "ja":
        wd = "月火水木金土日"[START.weekday()]
        assert names[0] == ("第1回 基礎編" if several else f"{START.month}月{START.day}日({wd}) 14:00")
    login(factories.make_staff("organizer", [event]))
    client.set_cookie("lang", lang)
    refresh()  # the test's app context holds the language of the sign-in page's request
    base = f"/admin/events/{event.id}"

    listing = client.get(f"{base}/attendees").get_data(as_text=True)
    if several:
        assert _options(listing, "f-session") == names
    cells = [_text(c) for c in re.findall(r'<td class="col-session"[^>]*>(.*?)</td>', listing, re.S)]
    assert sorted(cells) == sorted(names)

    attendees = _csv(client.get(f"{base}/exports/attendees.csv"))
    column = attendees[0].index("参加する回" if lang == "ja" else "Session")
    assert sorted(row[column] for row in attendees[1:]) == sorted(names)
    summary = _csv(client.get(f"{base}/exports/summary.csv"))
    assert {row[0] for row in summary[1:]} - {"合計", "Total"} == set(names)
    stats = _csv(client.get(f"{base}/statistics/sessions.csv"))
    assert [row[0] for row in stats[1:]] == names

    for session, name in zip(event.sessions, names, strict=True):
        preview = client.get(f"{base}/security/{session.id}/preview").get_data(as_text=True)
        assert f"<h1>{_text(re.search(r'<h1>(.*?)</h1>', preview, re.S).group(1))}</h1>".endswith(f": {name}</h1>")
        table = preview.split("<tbody>", 1)[1]
        assert name in {_text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", table, re.S)}
    settings = client.get(f"{base}/security").get_data(as_text=True)
    assert [_text(h) for h in re.findall(r"<h3>(.*?)</h3>", settings, re.S)] == names

    reception = exports.reception_list(event, roster.ListFilter(), now=clock.utcnow())
    assert sorted(p["session"] for g in reception["groups"] for p in g["people"]) == sorted(names)

    desk = client.get(f"/desk/{event.id}").get_data(as_text=True)
    if several:
        assert _options(desk, "desk-session") == names

    person = factories.register_person(event, 0, family_name="田中")
    page = client.get(f"{base}/registrations/{person.id}").get_data(as_text=True)
    if several:  # the move form offers the others
        assert [o.split(" — ")[0] for o in _options(page, "move-session")] == names[1:]
