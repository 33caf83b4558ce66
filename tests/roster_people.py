"""Realistic attendees for the attendee-list tests, screenshots and bench: furigana from every
五十音 row (ヴ and small kana included), organizations of every sector, two sessions, some checked
in, some walk-ins, some waiting, some cancelled, and answers to the event's questions."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from sqlalchemy import insert, update

from eventreg.domain.people import person_keys
from eventreg.domain.registration.passes import new_entry_id, new_token
from eventreg.extensions import db
from eventreg.models import EventSession, Registration, Sector, Status

FAMILIES = [
    ("青木", "アオキ"), ("井上", "イノウエ"), ("上田", "ウエダ"), ("遠藤", "エンドウ"), ("大野", "オオノ"),
    ("ヴィレット", "ヴィレット"), ("加藤", "カトウ"), ("菊地", "キクチ"), ("工藤", "クドウ"), ("後藤", "ゴトウ"),
    ("権田", "ゴンダ"), ("佐藤", "サトウ"), ("清水", "シミズ"), ("鈴木", "スズキ"), ("関口", "セキグチ"),
    ("曽我", "ソガ"), ("座間", "ザマ"), ("高橋", "タカハシ"), ("千葉", "チバ"), ("土屋", "ツチヤ"),
    ("寺田", "テラダ"), ("伊達", "ダテ"), ("中村", "ナカムラ"), ("西田", "ニシダ"), ("沼田", "ヌマタ"),
    ("根本", "ネモト"), ("野口", "ノグチ"), ("長谷川", "ハセガワ"), ("平野", "ヒラノ"), ("福田", "フクダ"),
    ("朴", "パク"), ("堀", "ホリ"), ("馬場", "ババ"), ("松本", "マツモト"), ("三浦", "ミウラ"),
    ("村上", "ムラカミ"), ("森", "モリ"), ("山田", "ヤマダ"), ("湯浅", "ユアサ"), ("吉田", "ヨシダ"),
    ("李", "リ"), ("林", "リン"), ("若林", "ワカバヤシ"), ("渡邊", "ワタナベ"), ("齋藤", "サイトウ"),
    ("勅使河原", "テシガワラ"), ("髙橋", "タカハシ"), ("ガルシア", "ガルシア"), ("ジョーンズ", "ジョーンズ"),
]
GIVENS = [
    ("真由美", "マユミ"), ("大輔", "ダイスケ"), ("花子", "ハナコ"), ("翔太", "ショウタ"), ("美咲", "ミサキ"),
    ("健一", "ケンイチ"), ("由紀子", "ユキコ"), ("誠", "マコト"), ("陽菜", "ヒナ"), ("浩二", "コウジ"),
    ("智恵", "チエ"), ("龍之介", "リュウノスケ"), ("あおい", "アオイ"), ("蓮", "レン"), ("結衣", "ユイ"),
    ("Maria", "マリア"),
]
ORGANIZATIONS = [
    ("株式会社ミライ会計", "経理部", Sector.company), ("千葉市役所", "市民自治推進課", Sector.government),
    ("特定非営利活動法人 ちば市民活動・市民事業サポートクラブ", "事務局", Sector.npo),
    ("一般社団法人 地域福祉ネットワーク", "", Sector.npo), ("千葉大学", "教育学部", Sector.university),
    ("", "", Sector.individual), ("Chiba International Volunteers", "Coordinator", Sector.npo),
    ("株式会社サンプル商事", "CSR推進室 課長", Sector.company), ("認定NPO法人 育て上げネット", "", Sector.npo),
    ("船橋市社会福祉協議会", "地域福祉課", Sector.other),
]


def insert_people(event, count: int, *, now: datetime | None = None, seed: int = 7) -> None:
    """``count`` registrations for ``event`` (its first two sessions), in one INSERT; commits.
    Session seats are set to the confirmed numbers; capacities must allow them."""
    rng = random.Random(seed)
    now = now or datetime.now(timezone.utc)
    sessions = event.sessions[:2]
    questions = {q.kind.value: str(q.id) for q in event.questions}
    rows, seated = [], {s.id: 0 for s in sessions}
    for i in range(count):
        (family, family_kana), (given, given_kana) = rng.choice(FAMILIES), rng.choice(GIVENS)
        organization, department, sector = rng.choice(ORGANIZATIONS)
        session = sessions[i % len(sessions)]
        roll = rng.random()
        status = Status.cancelled if roll < 0.06 else Status.waitlisted if roll < 0.09 else Status.confirmed
        walk_in = status == Status.confirmed and rng.random() < 0.03
        checked_in = walk_in or (status == Status.confirmed and rng.random() < 0.35)
        created = now - timedelta(days=30) + timedelta(seconds=i * 300)
        answers = {}
        if "single" in questions:
            answers[questions["single"]] = rng.choice(["情報収集", "ネットワーク作り", "登壇者の話を聞きたい"])
        if "multiple" in questions:
            answers[questions["multiple"]] = rng.sample(["教育", "福祉", "環境", "まちづくり"], rng.randint(0, 3))
        if "text" in questions:
            answers[questions["text"]] = rng.choice(["", "", "駐車場はありますか", "車椅子で参加します", "資料がほしい"])
        if "checkbox" in questions:
            answers[questions["checkbox"]] = rng.random() < 0.4
        if status == Status.confirmed:
            seated[session.id] += 1
        rows.append({
            "event_id": event.id, "session_id": session.id, "token": new_token(), "entry_id": new_entry_id(),
            "entry_version": 1, "status": status, "family_name": family, "given_name": given,
            "family_kana": family_kana, "given_kana": given_kana,
            "email": None if walk_in and rng.random() < 0.5 else f"person{i}.{event.id}@example.org",
            "organization": organization, "department": department, "sector": sector, "phone": "",
            "answers": answers, "language": "ja", "created_at": created,
            "confirmed_at": created if status == Status.confirmed else None,
            "cancelled_at": created + timedelta(days=1) if status == Status.cancelled else None,
            "checked_in_at": now - timedelta(minutes=rng.randint(1, 120)) if checked_in else None,
            "checked_in_desk": "desk 1" if checked_in else "", "walk_in": walk_in,
        })
    db.session.execute(insert(Registration), [person_keys.with_keys(row) for row in rows])
    for session_id, taken in seated.items():
        db.session.execute(update(EventSession).where(EventSession.id == session_id).values(seats_taken=taken))
    db.session.commit()
