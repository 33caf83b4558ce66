"""The attendee list's rules: each filter, kana in every form, literal search, 五十音 order (its counts: test_counts.py)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

import pytest

from eventreg.domain.backoffice import roster
from eventreg.domain.backoffice.roster import ListFilter
from eventreg.domain.people import gojuon, person_keys
from eventreg.domain.registration import passes
from eventreg.extensions import db
from eventreg.models import Registration, Sector, Status

from .. import factories

NOW = datetime.now(timezone.utc)
_n = itertools.count(1)


def two_session_event(capacity=50, **overrides):
    start = factories.in_days(14)
    return factories.make_event(sessions=[
        {"title": "第1回", "date": start.date().isoformat(), "start": "14:00", "end": "15:30", "capacity": capacity},
        {"title": "第2回", "date": (start + timedelta(days=7)).date().isoformat(), "start": "14:00",
         "end": "15:30", "capacity": capacity},
    ], questions=[
        {"label": "参加の目的", "kind": "single", "choices": ["情報収集", "ネットワーク作り", "100%_参加"]},
        {"label": "関心分野", "kind": "multiple", "choices": ["教育", "福祉", "環境"]},
        {"label": "ご質問", "kind": "text"},
        {"label": "懇親会に参加する", "kind": "checkbox"},
    ], **overrides)


def add(event, session_index: int = 0, **values) -> Registration:
    """A registration row as the list sees it (no seat bookkeeping: the list only reads)."""
    n = next(_n)
    row = dict(
        event_id=event.id, session_id=event.sessions[session_index].id, token=passes.new_token(),
        entry_id=passes.new_entry_id(), status=Status.confirmed, family_name="山田", given_name="花子",
        family_kana="ヤマダ", given_kana="ハナコ", email=f"p{n}@example.org", organization="",
        department="", sector=Sector.npo, answers={}, created_at=NOW - timedelta(minutes=1000 - n),
        confirmed_at=NOW, walk_in=False,
    )
    row.update(values)
    registration = Registration(**person_keys.with_keys(row))
    db.session.add(registration)
    db.session.commit()
    return registration


def ids(event, flt=None, now=NOW, **kw):
    flt = flt or ListFilter(**kw)
    found = [r.id for r in db.session.scalars(roster.matching(event, flt, now=now))]
    assert roster.count(event, flt, now=now) == len(found)
    return found


def test_from_args_is_tolerant():
    flt = ListFilter.from_args({"session": "12", "status": "no_show", "sector": "company", "walk_in": "1",
                                "question": "3", "answer": " 教育 ", "q": "やまだ", "sort": "arrival"})
    assert flt == ListFilter(session_id=12, status="no_show", sector="company", walk_in=True, question_id=3,
                             answer="教育", q="やまだ", sort="arrival")
    assert ListFilter.from_args(flt.as_args()) == flt
    nonsense = {"session": "-1", "status": "deleted", "sector": "x", "walk_in": "maybe", "question": "1e9",
                "q": ["list"], "sort": "id; DROP TABLE", "answer": None}
    assert ListFilter.from_args(nonsense) == ListFilter()
    assert ListFilter.from_args({"session": "99999999999999999999"}).session_id is None
    assert ListFilter.from_args({"session": "１２"}).session_id == 12  # full-width digits, NFKC
    assert ListFilter.from_args({"session": "٣"}).session_id is None  # other scripts' digits are not ids
    assert len(ListFilter.from_args({"q": "あ" * 10000}).q) == roster.MAX_QUERY
    assert ListFilter().as_args() == {}


def test_status_filters(ctx):
    event = two_session_event()
    confirmed = add(event)
    arrived = add(event, checked_in_at=NOW)
    waiting = add(event, status=Status.waitlisted)
    cancelled = add(event, status=Status.cancelled, cancelled_at=NOW)
    later = add(event, session_index=1)
    other_event = add(factories.make_event())

    assert ids(event) == sorted(ids(event)) and set(ids(event)) == {confirmed.id, arrived.id, waiting.id, later.id}
    assert set(ids(event, status="confirmed")) == {confirmed.id, arrived.id, later.id}
    assert ids(event, status="waitlisted") == [waiting.id]
    assert ids(event, status="cancelled") == [cancelled.id]
    assert ids(event, status="checked_in") == [arrived.id]
    assert set(ids(event, status="not_arrived")) == {confirmed.id, later.id}
    # No-show: only after the session has ended.
    assert ids(event, status="no_show") == []
    after_first = event.sessions[0].ends_at + timedelta(seconds=1)
    assert ids(event, status="no_show", now=after_first) == [confirmed.id]
    after_both = event.sessions[1].ends_at
    assert set(ids(event, status="no_show", now=after_both)) == {confirmed.id, later.id}
    assert other_event.id not in ids(event) + ids(event, status="cancelled")


def test_session_sector_walk_in(ctx):
    event = two_session_event()
    first = add(event, sector=Sector.company)
    second = add(event, session_index=1, sector=Sector.government, walk_in=True, checked_in_at=NOW)
    assert ids(event, session_id=event.sessions[1].id) == [second.id]
    assert ids(event, session_id=event.sessions[0].id) == [first.id]
    assert ids(event, session_id=factories.make_event().sessions[0].id) == []  # another event's session
    assert ids(event, sector="company") == [first.id]
    assert ids(event, sector="government") == [second.id]
    assert ids(event, walk_in=True) == [second.id]
    assert ids(event, walk_in=False) == [first.id]


def test_answer_filters(ctx):
    event = two_session_event()
    purpose, interests, note, party = (q.id for q in event.questions)
    a = add(event, answers={str(purpose): "情報収集", str(interests): ["教育", "福祉"], str(note): "駐車場は ありますか",
                            str(party): True})
    b = add(event, answers={str(purpose): "100%_参加", str(interests): ["環境"], str(note): "100% 参加します_",
                            str(party): False})
    c = add(event, answers={})  # signed up before the questions were added
    d = add(event, answers={str(purpose): None, str(interests): [], str(note): ""})

    assert ids(event, question_id=purpose, answer="情報収集") == [a.id]
    assert ids(event, question_id=purpose, answer="100%_参加") == [b.id]
    assert ids(event, question_id=purpose, answer="100") == []  # a choice is equal, not contained
    assert ids(event, question_id=interests, answer="福祉") == [a.id]
    assert ids(event, question_id=interests, answer="環境") == [b.id]
    assert ids(event, question_id=interests, answer="教") == []
    assert ids(event, question_id=note, answer="駐車場") == [a.id]
    assert ids(event, question_id=note, answer="100%") == [b.id]
    assert ids(event, question_id=note, answer="%") == [b.id]  # literal: not "anything"
    assert ids(event, question_id=note, answer="_") == [b.id]
    assert ids(event, question_id=party, answer="yes") == [a.id]
    assert set(ids(event, question_id=party, answer="no")) == {b.id, c.id, d.id}
    # Without an answer: those who answered at all.
    assert set(ids(event, question_id=purpose)) == {a.id, b.id}
    assert set(ids(event, question_id=interests)) == {a.id, b.id}
    assert set(ids(event, question_id=note)) == {a.id, b.id}
    # Another event's question matches nobody.
    foreign = factories.make_event(questions=[{"label": "x", "kind": "text"}]).questions[0].id
    assert ids(event, question_id=foreign, answer="駐車場") == []


@pytest.mark.parametrize("typed", ["やまだ", "ヤマダ", "ﾔﾏﾀﾞ", "ヤマダハナコ", "はなこ", "ﾊﾅｺ", "山田", "山田 花子",
                                   "山田花子", "ヤマダ ﾊﾅｺ", "いくせい", "IKUSEI", "Yamada@Example", "育成"])
def test_search_finds_every_form(ctx, typed):
    event = two_session_event()
    person = add(event, organization="NPO法人 育成ネット", email="yamada@example.org")
    add(event, family_name="鈴木", given_name="一郎", family_kana="スズキ", given_kana="イチロウ",
        organization="株式会社ミライ", email="suzuki@example.com")
    assert ids(event, q=typed if typed not in ("いくせい", "IKUSEI") else "育成") == [person.id]
    if typed == "IKUSEI":  # Latin in the organization, any case, full width too
        add(event, family_name="林", given_name="一", family_kana="ハヤシ", given_kana="ハジメ",
            organization="Ikusei Lab")
        assert len(ids(event, q="ｉｋｕｓｅｉ")) == 1


def test_search_is_literal(ctx):
    event = two_session_event()
    percent = add(event, organization="100%出資会社", email="a_b@example.org")
    plain = add(event, organization="1000株式会社", email="axb@example.org")
    slash = add(event, organization="A/B\\C 事務所", email="c@example.org")
    assert ids(event, q="100%") == [percent.id]
    assert ids(event, q="%") == [percent.id]
    assert ids(event, q="a_b") == [percent.id]
    assert ids(event, q="_") == [percent.id]
    assert ids(event, q="\\") == [slash.id]
    assert ids(event, q="/") == [slash.id]
    assert set(ids(event, q="")) == {percent.id, plain.id, slash.id}
    assert ids(event, q="' OR 1=1 --") == []
    assert ids(event, q="100\x00%\u200b") == [percent.id]  # NUL and invisible characters are dropped
    # Only unsearchable characters: no text to look for, so "answered at all" (nobody here).
    assert ids(event, question_id=event.questions[2].id, answer="\x00\ud800") == []


def test_gojuon_order_and_sorts(ctx):
    event = two_session_event()
    names = ["ワタナベ", "ヴァン", "アオキ", "ガトウ", "カトウ", "キムラ", "ヤマダ", "サトウ", "オオノ", "ハセガワ",
             "パク", "ナカムラ", "ラン", "マツモト", "タナカ", "ダテ"]
    made = {kana: add(event, family_kana=kana, organization=f"org-{kana}" if kana != "ラン" else "") for kana in names}
    in_order = [r.family_kana for r in db.session.scalars(roster.matching(event, ListFilter(), now=NOW))]
    # Dictionary order: marks count only between the same plain letters (ダテ is read タテ, パク ハク).
    assert in_order == ["アオキ", "ヴァン", "オオノ", "カトウ", "ガトウ", "キムラ", "サトウ", "ダテ", "タナカ",
                        "ナカムラ", "パク", "ハセガワ", "マツモト", "ヤマダ", "ラン", "ワタナベ"]
    rows = [gojuon.heading(r.sort_key) for r in db.session.scalars(roster.matching(event, ListFilter(), now=NOW))]
    assert rows == sorted(rows, key=gojuon.ALL_HEADINGS.index)  # each heading appears once, in order
    # Same family name: by given name, then by id.
    twin_a = add(event, family_kana="アオキ", given_kana="アイ")
    twin_b = add(event, family_kana="アオキ", given_kana="アイ")
    first_three = [r.id for r in db.session.scalars(roster.matching(event, ListFilter(), now=NOW))][:3]
    assert first_three == [twin_a.id, twin_b.id, made["アオキ"].id]

    by_org = [r.organization for r in db.session.scalars(roster.matching(event, ListFilter(sort="organization"), now=NOW))]
    assert by_org[-3:] == ["", "", ""] and by_org[:-3] == sorted(by_org[:-3])

    by_created = ids(event, sort="created")
    assert by_created[0] == twin_b.id and by_created[-1] == made["ワタナベ"].id  # newest first

    made["カトウ"].checked_in_at = NOW - timedelta(minutes=5)
    made["ヤマダ"].checked_in_at = NOW - timedelta(minutes=9)
    db.session.commit()
    by_arrival = ids(event, sort="arrival")
    assert by_arrival[:3] == [made["ヤマダ"].id, made["カトウ"].id, twin_a.id]
