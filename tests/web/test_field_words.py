"""One vocabulary for what a registration holds: the sign-up form, the desk's walk-in form, the
attendee list, the CSV export, the statistics and the building's visitor list (入館者リスト) name
every sector and every field with the same words, in Japanese and in English."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

import pytest
from flask_babel import refresh

from eventreg.extensions import db
from eventreg.models import Sector

from .. import factories

FIELDS = ("name", "kana", "organization", "department", "session", "email", "phone", "sector")


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def _radio_words(html: str, name: str) -> dict[str, str]:
    """value -> the label text of each radio button called ``name``."""
    words = {}
    for value, label in re.findall(
            rf'<input[^>]*name="{name}"[^>]*value="([^"]+)"[^>]*>\s*<span>(.*?)</span>', html, re.S):
        words[value] = _text(label)
    return words


def _legend(html: str, field_id: str) -> str:
    block = re.search(rf'id="{field_id}-field".*?<(?:legend|label)[^>]*>(.*?)(?:<span class="req"|</legend>|</label>)',
                      html, re.S)
    return _text(block.group(1))


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


@pytest.fixture
def event(make_event):
    return make_event(capacity=20)


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_place_uses_the_same_words_for_sectors_and_fields(app, client, login, event, lang):
    people = {}
    for n, sector in enumerate(Sector):
        reg = factories.register_person(event, family_name=f"山田{n}", family_kana="ヤマダ", sector=sector.value,
                                        organization=f"団体{n}", department="総務部", phone="03-1234-5678")
        people[reg.family_name] = sector.value
    event.language = lang  # the venue's file is in the event's language
    event.security_columns = list(FIELDS)
    db.session.commit()
    login(factories.make_staff("organizer", [event]))
    client.set_cookie("lang", lang)
    refresh()  # the test's app context holds the language of the sign-in page's request

    form = client.get(f"/e/{event.slug}").get_data(as_text=True)
    sectors = _radio_words(form, "sector")
    assert set(sectors) == {s.value for s in Sector}
    titles = {key: _legend(form, key) for key in ("family_name", "given_name", "family_kana", "given_kana",
                                                   "email", "organization", "department", "sector", "phone")}
    added = client.get(f"/admin/events/{event.id}/registrations/new").get_data(as_text=True)
    assert {key: _legend(added, key) for key in titles} == titles  # the organizer's form
    titles["session"] = _legend(added, "session_id")  # one session: the public form does not ask

    desk = client.get(f"/desk/{event.id}").get_data(as_text=True)
    assert _radio_words(desk, "sector") == sectors

    listing = client.get(f"/admin/events/{event.id}/attendees").get_data(as_text=True)
    head = [_text(h) for h in re.findall(r'<th scope="col">(.*?)</th>', listing.split("roster-table")[1], re.S)]
    assert [titles["organization"], titles["sector"], titles["session"]] == head[2:5]
    cells = [_text(c) for c in re.findall(r'<td class="col-sector"[^>]*>(.*?)</td>', listing, re.S)]
    assert sorted(cells) == sorted(sectors.values())

    exported = _csv(client.get(f"/admin/events/{event.id}/exports/attendees.csv"))
    column = {title: i for i, title in enumerate(exported[0])}
    for key in ("family_name", "given_name", "family_kana", "given_kana", "email", "organization", "department",
                "sector", "phone", "session"):
        assert titles[key] in column, key
    for row in exported[1:]:
        assert row[column[titles["sector"]]] == sectors[people[row[column[titles["family_name"]]]]]

    preview = client.get(f"/admin/events/{event.id}/security/{event.sessions[0].id}/preview").get_data(as_text=True)
    table = preview.split("<table", 1)[1]
    venue_head = [_text(h) for h in re.findall(r"<th[^>]*>(.*?)</th>", table, re.S)]
    for key in ("organization", "department", "session", "email", "phone", "sector"):
        assert titles[key] in venue_head, key
    venue_cells = {_text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", table, re.S)}
    assert set(sectors.values()) <= venue_cells

    stats = client.get(f"/admin/events/{event.id}/statistics/sectors.csv")
    rows = _csv(stats)
    assert rows[0][0] == titles["sector"]
    assert [r[0] for r in rows[1:]] == list(sectors.values())


def test_the_table_has_every_word_in_both_languages():
    from eventreg.domain.people import field_words

    for lang in field_words.LANGUAGES:
        assert set(field_words.SECTOR_NAMES[lang]) == {s.value for s in Sector}
        assert set(field_words.FIELD_TITLES[lang]) == set(field_words.FIELD_TITLES["ja"])
        assert all(field_words.FIELD_TITLES[lang].values()) and all(field_words.SECTOR_NAMES[lang].values())
