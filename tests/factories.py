"""Test data with defaults: ``make_event(capacity=2)``, ``applicant(email=...)``."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

from eventreg.domain import event_spec
from eventreg.domain.registration import Applicant
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
    }
    spec.update(overrides)
    return spec


def make_event(**overrides) -> Event:
    """A saved, committed event (commit, so other threads and the live server see it)."""
    event = event_spec.replace_event(event_spec_dict(**overrides))
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


def make_staff(role: str = "reception", events=(), email: str | None = None, name: str = "受付 太郎"):
    """A committed staff user (password: factories.PASSWORD)."""
    from eventreg.domain import staff
    from eventreg.models import Role

    n = next(_counter)
    user = staff.create_user(email or f"staff{n}@example.org", name, PASSWORD, Role(role),
                             now=datetime.now(timezone.utc))
    for event in events:
        staff.assign(user, event)
    db.session.commit()
    return user


def register_person(event, session_index: int = 0, **overrides):
    """A committed registration through the domain (confirmed while seats last)."""
    from eventreg.domain import registration

    outcome = registration.register(event.sessions[session_index], applicant(**overrides),
                                    now=datetime.now(timezone.utc))
    db.session.commit()
    return outcome.registration
