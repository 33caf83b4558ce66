"""The one search (domain.people.search), its 異体字 table, the keys every write path stores
(domain.people.person_keys), and one 五十音 order in every list a person reads."""

from __future__ import annotations

import unicodedata
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from eventreg.domain.backoffice import exports, jobs, roster
from eventreg.domain.backoffice import registration_edits as edits
from eventreg.domain.backoffice.roster import ListFilter
from eventreg.domain.communication import building_list_sheet
from eventreg.domain.people import gojuon, itaiji, person_keys, search
from eventreg.domain.privacy import retention
from eventreg.domain.reception import desk_search, walk_ins
from eventreg.extensions import db
from eventreg.models import Registration

from .. import factories

NOW = datetime.now(timezone.utc)


@pytest.mark.parametrize(("typed", "folded"), [
    ("やまだ", "ヤマダ"), ("ﾔﾏﾀﾞ", "ヤマダ"), ("ＹＡＭＡＤＡ", "yamada"), ("Taro_Yamada", "taro_yamada"),
    ("100%", "100%"), ("a\\b", "a\\b"),  # wildcards and the escape character stay: escaped, never stripped
    ("髙橋", "高橋"), ("山﨑", "山崎"), ("渡邊", "渡辺"), ("渡邉", "渡辺"), ("齋藤", "斎藤"), ("斉藤", "斎藤"),
    ("齊藤", "斎藤"), ("濵田", "浜田"), ("濱田", "浜田"), ("德永", "徳永"), ("櫻井", "桜井"), ("𠮷田", "吉田"),
    ("\ufa10", "塚"),  # a compatibility ideograph: NFKC
    ("葛\U000e0100西", "葛西"),  # an ideographic variation selector
    ("山\x00田\u200b", "山田"),  # NUL and format characters
])
def test_fold(typed, folded):
    assert search.fold(typed) == folded


def test_the_itaiji_table_is_consistent():
    variants = [v for vs in itaiji.VARIANTS.values() for v in vs]
    assert len(variants) == len(set(variants))  # each variant has one common form
    assert not set(variants) & set(itaiji.VARIANTS)  # folding twice changes nothing
    assert all(unicodedata.normalize("NFKC", ch) == ch for ch in [*variants, *itaiji.VARIANTS])  # NFKC first
    assert all(len(common) == 1 for common in itaiji.VARIANTS)


def test_words_are_bounded():
    assert search.words("あ " * 20) == ["ア"] * search.MAX_WORDS
    assert search.words("x" * 500) == ["x" * search.MAX_QUERY]
    assert search.words(None) == search.words("\x00 \u200b") == []


def stored(reg: Registration) -> dict:
    db.session.refresh(reg)
    return {"search_text": reg.search_text, "sort_key": reg.sort_key}


def expected(reg: Registration) -> dict:
    return person_keys.keys({name: getattr(reg, name) for name in person_keys.SOURCES})


def test_every_write_path_stores_the_keys(make_event):
    event = make_event(capacity=10)
    signed_up = factories.register_person(event, family_name="髙橋", family_kana="タカハシ")
    walked = walk_ins.walk_in(event.sessions[0], factories.applicant(family_name="濵田", family_kana="ハマダ",
                                                                    email=None), desk="d", user_id=None, now=NOW)
    by_hand = edits.add_by_hand(event.sessions[0], factories.applicant(family_name="櫻井", family_kana="サクライ"),
                                actor=None, now=NOW)
    db.session.commit()
    for reg in (signed_up, walked, by_hand):
        assert stored(reg) == expected(reg)
    assert desk_search.find(event.id, "高橋") == [signed_up]

    edits.edit(signed_up, {"family_name": "德永", "family_kana": "とくなが"}, actor=None, now=NOW)
    db.session.commit()
    assert stored(signed_up) == expected(signed_up)
    assert desk_search.find(event.id, "徳永") == [signed_up] and desk_search.find(event.id, "高橋") == []
    assert gojuon.heading(signed_up.sort_key) == "た行"

    retention.anonymise([walked], NOW)
    db.session.commit()
    assert stored(walked) == expected(walked) and "浜田" not in walked.search_text
    assert gojuon.heading(walked.sort_key) == gojuon.OTHER


def test_the_keys_cannot_be_forgotten(make_event):
    """NOT NULL and no default: an insert without the keys fails instead of hiding a person."""
    from sqlalchemy.exc import IntegrityError

    event = make_event()
    values = dict(event_id=event.id, session_id=event.sessions[0].id, token="t" * 32, entry_id="e" * 16,
                  status="confirmed", family_name="山田", given_name="花子", family_kana="ヤマダ", given_kana="ハナコ",
                  email="x@example.org", sector="npo", created_at=NOW)
    db.session.add(Registration(**values))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


READINGS = [("ハットリ", "服部"), ("ハツカ", "二十日"), ("キョウ", "京"), ("キヨイ", "清井"), ("オーノ", "大野"),
            ("ヴァン", "Van"), ("タカハシ", "高橋"), ("ターナー", "Turner"), ("ダテ", "伊達"), ("タナカ", "田中")]


def test_one_order_in_every_list(make_event):
    """The attendee list, the desk, the badge sheet, the 受付名簿, the exports and the building's
    入館者リスト put people in the same order: the one key, whether SQL or Python sorts."""
    event = make_event(capacity=50)
    event.security_email = "security@venue.example"
    for n, (kana, name) in enumerate(READINGS):
        factories.register_person(event, family_name=name, family_kana=kana, email=f"o{n}@example.org")
    people = db.session.scalars(select(Registration).where(Registration.event_id == event.id)).all()
    python = [r.id for r in sorted(people, key=lambda r: (gojuon.sort_key(
        r.family_kana, r.given_kana, r.family_name, r.given_name), r.id))]
    names = {r.id: r.family_name for r in people}
    assert [names[i] for i in python] == ["Van", "大野", "清井", "京", "Turner", "高橋", "伊達", "田中", "二十日", "服部"]

    assert [r.id for r in db.session.scalars(roster.matching(event, ListFilter(), now=NOW))] == python
    assert [r.id for r in desk_search.find(event.id)] == python
    assert [r.id for r in jobs.badge_sheet_people(event.id)] == python
    assert [r.id for r in exports.people(event, "attendees", ListFilter(), now=NOW)] == python
    reception = exports.reception_list(event, ListFilter(), now=NOW)
    assert [p["name"] for g in reception["groups"] for p in g["people"]] == [
        f"{names[i]} 花子" for i in python]
    assert [g["heading"] for g in reception["groups"]] == ["あ行", "か行", "た行", "は行"]
    session = event.sessions[0]
    assert list(building_list_sheet.current_people(session)) == [str(i) for i in python]
    _, rows = building_list_sheet.preview(session)
    assert [row[0] for row in rows] == [f"{names[i]} 花子" for i in python]
    # A sent list keeps display strings only: sorted from them, the same order.
    people_dict = building_list_sheet.current_people(session)
    shuffled = dict(reversed(list(people_dict.items())))
    assert [rid for rid, _ in building_list_sheet.ordered(shuffled)] == [str(i) for i in python]
