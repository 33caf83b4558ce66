"""Past demo events with a history, for the statistics: deterministic (seeded random), fast.

A seminar like the 2019 seed (11 weeks ago) and a series 説明会 第1回 / 第2回 (7 and 3 weeks ago),
by the same organizer as the future seed seminar, with a few hundred sign-ups spread over the
weeks before each deadline, several sectors, cancellations, a waiting list, walk-ins, check-ins
spread from doors-open, no-shows, and people who come back across the series. Rows are written
with bulk INSERTs (no emails: this is history). Scheduled work of past sessions is marked done.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import insert, update

from ..domain.backoffice import event_import
from ..domain.people import person_keys
from ..domain.registration.passes import new_entry_id, new_token
from ..extensions import db
from ..models import Event, EventSession, Registration, Scan, ScanMethod, ScanResult, ScheduledTask, Status

FAMILIES = [("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"), ("渡邊", "ワタナベ"),
            ("伊藤", "イトウ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"), ("小林", "コバヤシ"), ("加藤", "カトウ"),
            ("吉田", "ヨシダ"), ("山田", "ヤマダ"), ("齋藤", "サイトウ"), ("松本", "マツモト"), ("井上", "イノウエ"),
            ("木村", "キムラ"), ("林", "ハヤシ"), ("清水", "シミズ"), ("森", "モリ"), ("池田", "イケダ")]
GIVENS = [("真由美", "マユミ"), ("大輔", "ダイスケ"), ("花子", "ハナコ"), ("翔太", "ショウタ"), ("美咲", "ミサキ"),
          ("健一", "ケンイチ"), ("由紀子", "ユキコ"), ("誠", "マコト"), ("陽菜", "ヒナ"), ("浩二", "コウジ"),
          ("智恵", "チエ"), ("拓也", "タクヤ"), ("恵", "メグミ"), ("直樹", "ナオキ")]
ORGS = {
    "company": ["日本マイクロソフト株式会社", "株式会社ミライ会計", "株式会社ユニアス", "EY新日本有限責任監査法人"],
    "npo": ["認定NPO法人 育て上げネット", "特定非営利活動法人 WELgee", "特定非営利活動法人 ソーシャルバリュージャパン",
            "一般社団法人 地域福祉ネットワーク"],
    "government": ["厚生労働省", "八王子市役所 協働推進課", "東京都 生活文化局"],
    "university": ["東京大学 公共政策大学院", "明治大学", "立教大学 社会デザイン研究所"],
    "individual": [""],
    "other": ["若者自立支援中央センター"],
}
SECTOR_WEIGHTS = {"company": 30, "npo": 34, "government": 14, "university": 12, "individual": 7, "other": 3}
ORGANIZER = "若者TECHプロジェクト"


def _spec(slug: str, title: str, day: date, capacity: int, description: str) -> dict:
    return {
        "slug": slug, "title": title, "language": "ja", "timezone": "Asia/Tokyo", "description": description,
        "venue_name": "日本マイクロソフト株式会社 セミナールーム", "venue_address": "東京都港区港南2-16-3 品川グランドセントラルタワー",
        "access_notes": "2階正面玄関裏手のセミナー受付", "organizer": ORGANIZER, "contact_email": "ms.tech@example.org",
        "fee_note": "参加費無料", "privacy_notice": "ご記入いただいた個人情報は、本イベントの運営にのみ使用します。",
        "waitlist": True, "deadline": {"days_before": 1, "time": "12:00"}, "status": "closed",
        "sessions": [{"date": day.isoformat(), "doors": "13:30", "start": "14:00", "end": "17:00", "capacity": capacity}],
    }


def past_specs(today: date) -> list[tuple[dict, int]]:
    """(spec, sign-ups) of the past demo events, oldest first."""
    return [
        (_spec("csr-npo-case-study-2019", "ケーススタディ「企業CSR×NPO」の協働が「政策」になるまで(前回開催)",
               today - timedelta(days=77), 80, "2019年2月開催のセミナーと同じ内容の回です。"), 118),
        (_spec("impact-briefing-1", "社会的インパクト・マネジメント説明会 第1回 〜 評価の始め方",
               today - timedelta(days=49), 60, "評価を支援の改善に活かす方法をご紹介します。"), 92),
        (_spec("impact-briefing-2", "社会的インパクト・マネジメント説明会 第2回 〜 データを支援の改善に活かす",
               today - timedelta(days=21), 60, "第1回の続きです。はじめての方も歓迎します。"), 88),
    ]


def people(rng: random.Random, count: int = 260) -> list[dict]:
    sectors = list(SECTOR_WEIGHTS)
    out = []
    for n in range(count):
        (family, fkana), (given, gkana) = FAMILIES[n % len(FAMILIES)], GIVENS[(n * 7 // len(FAMILIES)) % len(GIVENS)]
        sector = rng.choices(sectors, weights=[SECTOR_WEIGHTS[s] for s in sectors])[0]
        out.append({"family_name": family, "given_name": given, "family_kana": fkana, "given_kana": gkana,
                    "email": f"demo-p{n + 1}@example.org", "organization": rng.choice(ORGS[sector]),
                    "department": "", "sector": sector})
    return out


def _signup_time(rng: random.Random, closes: datetime, zone: ZoneInfo) -> datetime:
    # Weeks before the deadline, more towards the end; an announcement bump 4 weeks before.
    days = rng.choice([rng.uniform(26, 29)] * 1 + [rng.triangular(0.05, 35, 2)] * 3)
    moment = closes - timedelta(days=days)
    local = moment.astimezone(zone)
    hour = rng.choice([8, 9, 10, 11, 12, 12, 13, 15, 17, 20, 21, 22])
    return local.replace(hour=hour, minute=rng.randrange(60)).astimezone(timezone.utc)


def add_history(event: Event, pool: list[dict], attended_before: set[str], signups: int, rng: random.Random) -> set[str]:
    """Registrations, cancellations, check-ins and scans of a past event; returns who came."""
    session = event.sessions[0]
    zone = ZoneInfo(event.timezone)
    returning = [p for p in pool if p["email"] in attended_before]
    others = [p for p in pool if p["email"] not in attended_before]
    back = min(len(returning), int(signups * 0.35))
    chosen = rng.sample(returning, back) + rng.sample(others, signups - back)
    rows = sorted(({**p, "created_at": _signup_time(rng, session.closes_at, zone)} for p in chosen),
                  key=lambda r: r["created_at"])
    walk_ins = 4 + rng.randrange(4)
    seats = session.capacity - walk_ins
    for i, row in enumerate(rows):
        row["status"] = Status.confirmed if i < seats else Status.waitlisted
    # Cancellations: some confirmed people cancel (lead times from weeks to the last hours);
    # each frees a seat for the first person waiting.
    for row in rng.sample(rows[:seats], max(1, len(rows) // 11)):
        lead = timedelta(hours=rng.choice([rng.uniform(1, 23), rng.uniform(24, 47), rng.uniform(48, 160), rng.uniform(170, 400)]))
        row["cancelled_at"] = max(row["created_at"] + timedelta(hours=1), session.starts_at - lead)
        row["status"] = Status.cancelled
        waiting = next((r for r in rows if r["status"] == Status.waitlisted), None)
        if waiting is not None:
            waiting["status"] = Status.confirmed
    came = set()
    for row in rows:
        if row["status"] == Status.confirmed and rng.random() < (0.85 if row["email"] in attended_before else 0.74):
            minutes = min(max(rng.gauss(24, 11), -6), 75)  # around 13:54, from before the doors to late
            row["checked_in_at"] = session.doors_at + timedelta(minutes=minutes, seconds=rng.randrange(60))
            came.add(row["email"])
    taken_emails = {r["email"] for r in rows}
    strangers = [p for p in others if p["email"] not in taken_emails]
    for n in range(walk_ins):
        p = strangers[-(n + 1)]
        at = session.doors_at + timedelta(minutes=rng.uniform(15, 60))
        rows.append({**p, "email": None if n % 2 else p["email"], "created_at": at, "checked_in_at": at,
                     "status": Status.confirmed, "walk_in": True})
    values, scans = [], []
    for row in rows:
        created = row["created_at"]
        values.append(dict(
            event_id=event.id, session_id=session.id, token=new_token(), entry_id=new_entry_id(), status=row["status"],
            family_name=row["family_name"], given_name=row["given_name"], family_kana=row["family_kana"],
            given_kana=row["given_kana"], email=row["email"], organization=row["organization"], department="",
            sector=row["sector"], phone="", answers={}, language="ja", created_at=created,
            confirmed_at=created if row["status"] == Status.confirmed else None,
            cancelled_at=row.get("cancelled_at"), checked_in_at=row.get("checked_in_at"),
            checked_in_desk="受付1" if row.get("checked_in_at") else "", walk_in=row.get("walk_in", False)))
    db.session.execute(insert(Registration), [person_keys.with_keys(v) for v in values])
    db.session.flush()
    ids = dict(db.session.execute(
        Registration.__table__.select().with_only_columns(Registration.entry_id, Registration.id)
        .where(Registration.event_id == event.id)).all())
    for value in values:
        if value["checked_in_at"] is not None:
            result = ScanResult.walk_in if value["walk_in"] else ScanResult.ok
            scans.append(dict(event_id=event.id, session_id=session.id, registration_id=ids[value["entry_id"]],
                              token_hash="", result=result, desk="受付1",
                              method=ScanMethod.walk_in if value["walk_in"] else ScanMethod.camera,
                              at=value["checked_in_at"]))
    for extra in scans[:6:2]:  # someone scanned twice
        scans.append({**extra, "result": ScanResult.already_checked_in, "at": extra["at"] + timedelta(seconds=40)})
    db.session.execute(insert(Scan), scans)
    taken = sum(1 for v in values if v["status"] == Status.confirmed)
    db.session.execute(update(EventSession).where(EventSession.id == session.id).values(seats_taken=taken))
    done = session.ends_at
    db.session.execute(update(ScheduledTask).where(ScheduledTask.event_id == event.id, ScheduledTask.done_at.is_(None))
                       .values(done_at=done, outcome="missed"))
    return came


def create_past_events(today: date) -> list[Event]:
    """(Re)creates the past demo events with their history; returns them, oldest first."""
    rng = random.Random(2019)
    pool = people(rng)
    attended: set[str] = set()
    events = []
    for spec, signups in past_specs(today):
        event = event_import.replace_event(spec)
        attended |= add_history(event, pool, attended, signups, rng)
        events.append(event)
    return events
