"""Test data with defaults: ``make_event(capacity=2)``, ``applicant(email=...)``."""

from __future__ import annotations

import functools
import itertools
from datetime import datetime, timedelta, timezone
from unittest import mock

from eventreg.domain.backoffice import event_import
from eventreg.domain.registration.signup import Applicant
from eventreg.extensions import db
from eventreg.models import Event, Sector

_counter = itertools.count(1)
JST = timezone(timedelta(hours=9))


def in_days(days: int, hhmm: str = "14:00") -> datetime:
    """A JST wall-clock time ``days`` from today (real today: pages use the real clock)."""
    today = datetime.now(JST).date() + timedelta(days=days)
    h, m = map(int, hhmm.split(":"))
    return datetime(today.year, today.month, today.day, h, m, tzinfo=JST)


def event_spec_dict(**overrides) -> dict:
    n = next(_counter)
    start = overrides.pop("start", in_days(14))
    spec = {
        "slug": f"event-{n}",
        "title": f"テストセミナー {n}",
        "description": "説明 **太字**",
        "venue_name": "セミナールーム",
        "venue_address": "東京都港区港南2-16-3",
        "access_notes": "2階正面玄関裏手の受付",
        "organizer": "若者TECHプロジェクト",
        "contact_email": "office@example.org",
        "privacy_notice": "個人情報は本イベントの運営にのみ使用します。",
        "language": "ja",
        "timezone": "Asia/Tokyo",
        "deadline": {"days_before": 1, "time": "12:00"},
        "sessions": [{
            "date": start.date().isoformat(),
            "doors": (start - timedelta(minutes=30)).strftime("%H:%M"),
            "start": start.strftime("%H:%M"),
            "end": (start + timedelta(hours=3)).strftime("%H:%M"),
            "capacity": overrides.pop("capacity", 50),
        }],
        # Off, unlike a new event's default: the tests written before the loop count every mail.
        "after_event": {"survey": False, "noshow": False, "certificate": False},
    }
    spec.update(overrides)
    return spec


def make_event(**overrides) -> Event:
    """A saved, committed event (commit, so other threads and the live server see it)."""
    event = event_import.replace_event(event_spec_dict(**overrides), now=datetime.now(timezone.utc))
    db.session.commit()
    return event


def applicant(**overrides) -> Applicant:
    n = next(_counter)
    values = dict(
        family_name="山田", given_name="花子", family_kana="ヤマダ", given_kana="ハナコ",
        email=f"person{n}@example.org", sector=Sector.npo, organization="育て上げネット",
    )
    values.update(overrides)
    return Applicant(**values)


PASSWORD = "correct-horse-battery"


@functools.cache
def _password_hash(password: str) -> str:
    from werkzeug.security import generate_password_hash

    return generate_password_hash(password)


def make_staff(role: str = "reception", events=(), email: str | None = None, name: str = "受付 太郎"):
    """A committed staff user (password: factories.PASSWORD).

    ``role`` is "organizer" (an account that may create events; owner of ``events``, or of every
    event that exists now when none are given) or an event role (owner, editor, reception,
    viewer) on each of ``events``, for a "staff" account."""
    from sqlalchemy import select

    from eventreg.domain.access import accounts
    from eventreg.models import EventRole, Role

    n = next(_counter)
    now = datetime.now(timezone.utc)
    account = Role.organizer if role == "organizer" else Role.staff
    # One scrypt hash of PASSWORD per run instead of one per user (~0.12 s of CPU each, hundreds
    # of users): the stored hash is still a real one, and signing in still checks it.
    with mock.patch.object(accounts, "generate_password_hash", _password_hash):
        user = accounts.create_user(email or f"staff{n}@example.org", name, PASSWORD, account, now=now)
    event_role = EventRole.owner if role == "organizer" else EventRole(role)
    if role == "organizer" and not events:
        events = db.session.scalars(select(Event)).all()
    for event in events:
        accounts.assign(user, event, event_role, now=now)
    db.session.commit()
    return user


def register_person(event, session_index: int = 0, **overrides):
    """A committed registration through the domain (confirmed while seats last)."""
    from eventreg.domain.registration import signup

    outcome = signup.register(event.sessions[session_index], applicant(**overrides),
                                    now=datetime.now(timezone.utc))
    db.session.commit()
    return outcome.registration


FAMILIES = [("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"), ("渡邊", "ワタナベ"),
            ("伊藤", "イトウ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"), ("小林", "コバヤシ"), ("加藤", "カトウ"),
            ("吉田", "ヨシダ"), ("山田", "ヤマダ"), ("齋藤", "サイトウ"), ("長谷川", "ハセガワ"), ("勅使河原", "テシガワラ"),
            ("青木", "アオキ"), ("石井", "イシイ"), ("松本", "マツモト"), ("井上", "イノウエ"), ("木村", "キムラ")]
GIVENS = [("真由美", "マユミ"), ("大輔", "ダイスケ"), ("花子", "ハナコ"), ("翔太", "ショウタ"), ("美咲", "ミサキ"),
          ("健一", "ケンイチ"), ("由紀子", "ユキコ"), ("誠", "マコト"), ("陽菜", "ヒナ"), ("浩二", "コウジ"),
          ("智恵", "チエ"), ("龍之介", "リュウノスケ")]
ORGANIZATIONS = ["特定非営利活動法人 ちば市民活動・市民事業サポートクラブ", "千葉市役所", "株式会社ミライ会計",
                 "一般社団法人 地域福祉ネットワーク", "", "Chiba International Volunteers"]


def bulk_confirmed(session, count: int) -> list[str]:
    """``count`` confirmed registrations for ``session`` in one Core INSERT (a few hundred ms for
    1,000; the domain's register() takes a seat per person and is far slower). Person i is
    FAMILIES[i % 20] GIVENS[i // 20 % 12]; returns their full names in that order. Commits."""
    from sqlalchemy import insert, update

    from eventreg.domain.people import person_keys
    from eventreg.domain.registration.passes import new_entry_id, new_token
    from eventreg.models import EventSession, Registration, Status

    now = datetime.now(timezone.utc)
    rows, names = [], []
    for i in range(count):
        (family, family_kana), (given, given_kana) = FAMILIES[i % 20], GIVENS[i // 20 % 12]
        names.append(f"{family} {given}")
        rows.append({
            "event_id": session.event_id, "session_id": session.id, "token": new_token(),
            "entry_id": new_entry_id(), "entry_version": 1, "status": Status.confirmed,
            "family_name": family, "given_name": given, "family_kana": family_kana, "given_kana": given_kana,
            "email": f"bulk{i}.{session.id}@example.org", "organization": ORGANIZATIONS[i % len(ORGANIZATIONS)],
            "department": "", "sector": Sector.npo, "phone": "", "answers": {}, "language": "ja",
            "created_at": now, "confirmed_at": now, "checked_in_desk": "", "walk_in": False,
        })
    db.session.execute(insert(Registration), [person_keys.with_keys(row) for row in rows])
    db.session.execute(update(EventSession).where(EventSession.id == session.id)
                       .values(seats_taken=EventSession.seats_taken + count))
    db.session.commit()
    return names
