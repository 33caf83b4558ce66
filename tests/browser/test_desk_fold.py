"""The desk's offline search (static/desk/fold.js) finds what the server's one search finds.

fold.js holds no rule of its own: it interprets the tables the roster sync sends
(domain.people.search.tables). Here the same queries go to the server's desk search and,
in real Chromium, through fold.js over the rows of the roster the server sent: the same people
in the same order, the 五十音 rows too; and ``fold`` of every code point, ``words`` and
``cleanName`` of tricky text equal Python's. The only difference allowed is the one meant: the
device holds no email, so a query that matched only an email finds nobody there.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone

import pytest

from eventreg.domain.access import api_tokens
from eventreg.domain.errors import DomainError
from eventreg.domain.people import search, text
from eventreg.domain.registration import signup
from eventreg.extensions import db
from eventreg.models import Sector

from .. import factories
from ..web.test_one_search import FOUND, PEOPLE

pytestmark = pytest.mark.browser

API = "/api/v1"
EXTRA = {  # name: (family, given, family kana, given kana, organization)
    # The same reading as 山﨑花子: the written name decides, by code point (U+FA11 < U+20BB7),
    # which a browser's default string order (UTF-16 units) would turn round.
    "山𠮷花子": ("山𠮷", "花子", "ヤマサキ", "ハナコ", ""),
    "ßの人": ("Straße", "Eva", "シュトラーセ", "エヴァ", "ＡＢＣ商事"),
    "葛": ("葛\U000e0100城", "太郎", "カツラギ", "タロウ", "ﾃｽﾄ株式会社"),
}
QUERIES = [
    *FOUND, "", "ヤマサキ", "やまさき", "ﾔﾏｻｷ", "山吉", "𠮷", "山崎", "高橋 誠", "髙橋　まこと", " たかはし ",
    "ｔａｋａｈａｓｈｉ", "STRASSE", "straße", "ＡＢＣ", "abc商事", "テスト", "葛城", "葛\U000e0100", "渡\ufe00辺",
    "キャンセル", "株式", "100", "A\\B", "a\u200bb", "ﾊﾞ", "ハナコ " * 12, "ア" * 150, "渡邉 健 ワタナベ ケン 渡 邉 ワ タ ナ ベ",
]
EMAIL_ONLY = {"taro_yamada", "_"}  # found by the email line, which the device does not hold


@pytest.fixture
def roster_world(app):
    with app.app_context():
        event = factories.make_event(capacity=50)
        people = {name: (family, given, fkana, gkana, org) for name, (family, given, fkana, gkana, _, org) in
                  PEOPLE.items()}
        people.update(EXTRA)
        emails = {name: email for name, (*_, email, _) in PEOPLE.items()}
        for n, (name, (family, given, fkana, gkana, org)) in enumerate(people.items()):
            factories.register_person(event, family_name=family, given_name=given, family_kana=fkana,
                                      given_kana=gkana, email=emails.get(name) or f"{n}@example.org",
                                      organization=org, sector=Sector.npo)
        gone = factories.register_person(event, family_name="取消", given_name="キャンセル", family_kana="トリケシ",
                                         given_kana="キャンセル", email="gone@example.org")
        signup.cancel(gone, now=datetime.now(timezone.utc))
        user = factories.make_staff("reception", events=[event])
        token = api_tokens.create_api_token(user, "desk", now=datetime.now(timezone.utc))
        db.session.commit()
        event_id = event.id
        db.session.remove()
    return event_id, token


@pytest.fixture
def fold_page(live_server, desktop):
    """A page of the app (its CSP, script-src 'self') that has imported fold.js."""
    desktop.goto(f"{live_server}/login")
    desktop.evaluate("async () => { window.fold = await import('/static/desk/fold.js'); }")
    return desktop


def _get(client, url: str, token: str, **args) -> dict:
    response = client.get(url, query_string=args, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_the_device_finds_the_same_people_in_the_same_order(client, roster_world, fold_page):
    event_id, token = roster_world
    roster = _get(client, f"{API}/events/{event_id}/roster", token)
    rows = {r["id"]: r for r in roster["rows"]}
    on_device = fold_page.evaluate(
        "([rows, tables, queries]) => queries.map((q) => window.fold.find(rows, q, tables).map((r) => r.id))",
        [roster["rows"], roster["fold"], QUERIES])
    for query, device in zip(QUERIES, on_device, strict=True):
        server = [p["id"] for p in _get(client, f"{API}/events/{event_id}/search", token, q=query)["results"]]
        # What the server found by the email line alone, the device cannot find.
        by_name = [i for i in server if all(w in rows[i]["search"] for w in search.words(query))]
        assert (by_name != server) == (query in EMAIL_ONLY), query
        assert device == by_name, (query, device, by_name)
    assert on_device[QUERIES.index("ヤマサキ")] == [i for i in rows if rows[i]["family_kana"] == "ヤマサキ"]
    assert on_device[QUERIES.index("山吉")] and on_device[QUERIES.index("ア" * 150)] == []


def test_the_kana_rows_are_the_servers(client, roster_world, fold_page):
    event_id, token = roster_world
    roster = _get(client, f"{API}/events/{event_id}/roster", token)
    for row, bounds in roster["kana_rows"].items():
        device = fold_page.evaluate(
            "([rows, tables, bounds]) => window.fold.find(rows, '', tables, {kanaRow: bounds}).map((r) => r.id)",
            [roster["rows"], roster["fold"], bounds])
        server = [p["id"] for p in _get(client, f"{API}/events/{event_id}/search", token, row=row)["results"]]
        assert device == server, row


def test_fold_of_every_code_point_is_pythons(fold_page):
    """Each of the 1,112,064 characters alone, folded in the browser and in Python."""
    tables = search.tables()
    fold_page.evaluate("(tables) => { window.tables = tables; }", tables)
    different = []
    for plane in range(17):
        code_points = [cp for cp in range(plane << 16, (plane + 1) << 16) if not 0xD800 <= cp < 0xE000]
        device = fold_page.evaluate(
            "([first, last]) => { const out = []; for (let cp = first; cp <= last; cp++) {"
            " if (cp >= 0xd800 && cp < 0xe000) continue;"
            " out.push(window.fold.fold(String.fromCodePoint(cp), window.tables)); } return out.join('\\0'); }",
            [code_points[0], code_points[-1]]).split("\0")
        python = [search.fold(chr(cp)) for cp in code_points]
        different += [(hex(cp), got, want) for cp, got, want in zip(code_points, device, python, strict=True)
                      if got != want]
    assert different == [], different[:20]
    assert sys.maxunicode == 0x10FFFF


TRICKY = [
    None, "", "   ", "\u3000たかはし\u3000", "ﾀﾞｲｽｹ", "ＡＢＣ", "Σίσυφος ΟΔΟΣ", "İstanbul", "ﬁle", "Ꮳherokee ꮳ",
    "e\u0301", "e\u0378\u0301", "\u1100\u1161", "가\u11a8", "葛\U000e0100", "a\ufe0fb", "a\u200bb", "a\u00adb",
    "x\U000f0000y", "①②", "㍻", "ｶﾞｷﾞｸﾞ", "ゔゝゞ", "𠮷野家", "髙﨑", "a\tb\nc", "a\x85b", "\u2028x\u2029",
    "one two  three\u00a0four\u2003five six seven eight nine ten", "か" * 120, "𠮷" * 120 + " x",
]


def test_words_and_clean_name_of_tricky_text(fold_page):
    tables = search.tables()
    device = fold_page.evaluate(
        "([texts, tables]) => texts.map((t) => [window.fold.fold(t, tables), window.fold.words(t, tables),"
        " window.fold.cleanName(t, tables)])", [TRICKY, tables])
    for value, (folded, words, cleaned) in zip(TRICKY, device, strict=True):
        assert folded == search.fold(value), value
        assert words == search.words(value), value
        assert cleaned == _clean_name(value), value


def _clean_name(value):
    """What the walk-in form stores as a name, or None when it refuses the text as unreadable."""
    try:
        return text.clean_name(value, max_length=10_000)
    except DomainError as exc:
        if exc.code in ("control_characters", "replacement_character"):
            return None
        # Refusals fold.js does not make (emoji, stacked marks…): the form refuses those names, so
        # they are never stored to be compared; what clean alone makes of them is compared.
        return "".join(ch for ch in text.clean(value, max_length=10_000) if not text.variation_selector(ch))
