"""One search and one order for people: the desk (its API, which the desk page calls), the attendee
list page and the organizer API find the same people for the same words, in the same 五十音 order."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from sqlalchemy import event as sa_event

from eventreg.domain.access import api_tokens
from eventreg.domain.communication import building_list
from eventreg.domain.people import gojuon
from eventreg.extensions import db
from eventreg.models import Sector

from .. import factories

API = "/api/v1"

PEOPLE = {  # name: (family, given, family kana, given kana, email, organization)
    "髙橋誠": ("髙橋", "誠", "タカハシ", "マコト", "taro_yamada@example.org", ""),
    "高橋大輔": ("高橋", "大輔", "タカハシ", "ダイスケ", "", ""),
    "山﨑花子": ("山﨑", "花子", "ヤマサキ", "ハナコ", "taroxyamada@example.org", ""),
    "渡邉健": ("渡邉", "健", "ワタナベ", "ケン", "", "100%出資会社"),
    "齋藤陽菜": ("齋藤", "陽菜", "サイトウ", "ヒナ", "", "1000株式会社"),
    "濵田翔": ("濵田", "翔", "ハマダ", "ショウ", "", ""),
    "德永愛": ("德永", "愛", "トクナガ", "アイ", "", ""),
    "櫻井光": ("櫻井", "光", "サクライ", "ヒカル", "", "A\\B事務所"),
    "ターナー": ("Turner", "Anna", "ターナー", "アンナ", "", ""),
    "ヴァン": ("Van", "Ly", "ヴァン", "リー", "", ""),
    "大野": ("大野", "一", "オーノ", "ハジメ", "", ""),
    "服部": ("服部", "二郎", "ハットリ", "ジロウ", "", ""),
    "二十日": ("二十日", "三郎", "ハツカ", "サブロウ", "", ""),
    "清井": ("清井", "四郎", "キヨイ", "シロウ", "", ""),
    "京": ("京", "五郎", "キョウ", "ゴロウ", "", ""),
}

FOUND = {  # what each query finds, in 五十音 order
    "taro_yamada": ["髙橋誠"],  # "_" is a letter, not LIKE's any-one-character (taroxyamada is not found)
    "_": ["髙橋誠"],
    "100%": ["渡邉健"],
    "%": ["渡邉健"],
    "\\": ["櫻井光"],
    "高橋": ["高橋大輔", "髙橋誠"],  # 異体字: the common form finds the variant, and the other way round
    "髙橋": ["高橋大輔", "髙橋誠"],
    "山崎": ["山﨑花子"],
    "渡辺": ["渡邉健"],
    "渡邊": ["渡邉健"],
    "斉藤": ["齋藤陽菜"],
    "斎藤": ["齋藤陽菜"],
    "浜田": ["濵田翔"],
    "徳永": ["德永愛"],
    "桜井": ["櫻井光"],
    "たかはし": ["高橋大輔", "髙橋誠"],  # hiragana, katakana, half-width katakana
    "ﾀｶﾊｼ ﾏｺﾄ": ["髙橋誠"],
    "TURNER": ["ターナー"],
    "はつか": ["二十日"],
}
# Dictionary order (JIS X 4061): ヴァン among the ウ, ターナー before タカハシ, ハツカ before ハットリ,
# キヨイ before キョウ.
ORDER = ["ヴァン", "大野", "清井", "京", "齋藤陽菜", "櫻井光", "ターナー", "高橋大輔", "髙橋誠", "德永愛", "二十日", "服部",
         "濵田翔", "山﨑花子", "渡邉健"]


@pytest.fixture
def world(app, login):
    with app.app_context():
        event = factories.make_event(capacity=50)
        ids = {}
        for name, (family, given, fkana, gkana, email, org) in PEOPLE.items():
            ids[name] = factories.register_person(
                event, family_name=family, given_name=given, family_kana=fkana, given_kana=gkana,
                email=email or f"{len(ids)}@example.org", organization=org, sector=Sector.npo).id
        owner = factories.make_staff("owner", events=[event])
        token = api_tokens.create_api_token(owner, "one search", now=datetime.now(timezone.utc))
        db.session.commit()
        event_id, owner = event.id, SimpleNamespace(email=owner.email)
        db.session.remove()
    login(owner)
    return event_id, ids, token


def desk(client, event_id, token, **args) -> list[int]:
    response = client.get(f"{API}/events/{event_id}/search", query_string=args,
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return [p["id"] for p in response.get_json()["results"]]


def organizer_api(client, event_id, token, q="") -> list[int]:
    response = client.get(f"{API}/events/{event_id}/registrations", query_string={"q": q, "per_page": 500},
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return [r["id"] for r in response.get_json()["registrations"]]


def attendee_list(client, event_id, q="") -> list[int]:
    response = client.get(f"/admin/events/{event_id}/attendees", query_string={"q": q})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return [int(i) for i in dict.fromkeys(re.findall(rf'href="/admin/events/{event_id}/registrations/(\d+)"', html))]


def test_the_same_query_finds_the_same_people_everywhere(client, world):
    event_id, ids, token = world
    name_of = {i: name for name, i in ids.items()}
    found = {}
    for query in FOUND:
        at_desk = desk(client, event_id, token, q=query)
        assert organizer_api(client, event_id, token, query) == at_desk, query
        assert attendee_list(client, event_id, query) == at_desk, query
        found[query] = [name_of[i] for i in at_desk]
    assert found == FOUND


def test_one_order_everywhere(client, world):
    event_id, ids, token = world
    expected = [ids[name] for name in ORDER]
    assert desk(client, event_id, token) == expected
    assert organizer_api(client, event_id, token) == expected
    assert attendee_list(client, event_id) == expected
    # The desk's row buttons are ranges of the same order.
    assert desk(client, event_id, token, row="ta") == [ids[n] for n in ("ターナー", "高橋大輔", "髙橋誠", "德永愛")]
    assert desk(client, event_id, token, row="ha") == [ids[n] for n in ("二十日", "服部", "濵田翔")]


def test_the_list_headings_follow_the_order(client, world):
    event_id, _, token = world
    response = client.get(f"{API}/events/{event_id}/registrations", query_string={"per_page": 500},
                          headers={"Authorization": f"Bearer {token}"})
    headings = [r["kana_row"] for r in response.get_json()["registrations"]]
    assert headings == ["あ行"] * 2 + ["か行"] * 2 + ["さ行"] * 2 + ["た行"] * 4 + ["は行"] * 3 + ["や行", "わ行"]
    html = client.get(f"/admin/events/{event_id}/attendees").get_data(as_text=True)
    assert re.findall(r'scope="rowgroup"[^>]*>([^<]+)<', html) == list(dict.fromkeys(headings))
    assert gojuon.ALL_HEADINGS.index("わ行") == len(gojuon.ALL_HEADINGS) - 2


@pytest.mark.parametrize("people", [1, 20])
def test_the_desk_search_costs_the_same_for_one_person_and_for_twenty(app, client, people):
    """The building-list marker for a page of results is one query, not one per person."""
    with app.app_context():
        event = factories.make_event(capacity=50)
        event.security_email = "security@venue.example"
        for n in range(people):
            factories.register_person(event, family_name="山田", family_kana="ヤマダ", email=f"y{n}@example.org")
        building_list.send_full(event.sessions[0], trigger="manual", now=datetime.now(timezone.utc))
        late = factories.register_person(event, family_name="遅野", family_kana="オソノ", email="late@example.org")
        user = factories.make_staff("reception", events=[event])
        token = api_tokens.create_api_token(user, "desk", now=datetime.now(timezone.utc))
        db.session.commit()
        event_id, late_id = event.id, late.id
        db.session.remove()
    # The token's first use writes last_used_at: not what is measured here.
    assert desk(client, event_id, token, q="オソノ") == [late_id]
    statements = []

    def record(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa_event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get(f"{API}/events/{event_id}/search", query_string={"q": "ヤマダ"},
                              headers={"Authorization": f"Bearer {token}"})
    finally:
        sa_event.remove(engine, "before_cursor_execute", record)
    results = response.get_json()["results"]
    assert len(results) == people and not any(p["not_on_security_list"] for p in results)
    assert desk(client, event_id, token, q="オソノ") == [late_id]
    marked = client.get(f"{API}/events/{event_id}/search", query_string={"q": "オソノ"},
                        headers={"Authorization": f"Bearer {token}"}).get_json()["results"]
    assert marked[0]["not_on_security_list"] is True
    # Token, event, people (+ their sessions) and the last list sent: the same for 1 and for 20.
    assert len(statements) == 5, statements
