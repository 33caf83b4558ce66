"""One time-rule value for everything that happens at a time relative to a session.

A rule is one of:

- ``absolute``: a fixed instant (``at``, aware);
- ``days_before``: N days before the session's local start date, at HH:MM local time in the
  event's time zone ("前日12:00" is ``days=1, hhmm="12:00"``; it stays 前日12:00 across a DST
  change or when the event is cloned to another date);
- ``hours_before``: N hours (may be fractional) before the session starts.

The registration deadline, the deadline summary and (later) reminders and security lists all use
it. ``resolve`` gives aware UTC. Rules are also written as short text, for files and forms:
``"2019-02-07T12:00+09:00"``, ``"1d@12:00"``, ``"2h"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from eventreg.domain.errors import DomainError

_DAYS = re.compile(r"^(\d{1,3})d@([01]\d|2[0-3]):([0-5]\d)$")
_HOURS = re.compile(r"^(\d{1,4}(?:\.\d{1,2})?)h$")


@dataclass(frozen=True)
class TimeRule:
    kind: str  # "absolute" | "days_before" | "hours_before"
    at: datetime | None = None
    days: int = 0
    hhmm: str = "00:00"
    hours: float = 0.0

    @classmethod
    def absolute(cls, at: datetime) -> "TimeRule":
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError("an absolute rule needs an aware datetime")
        return cls("absolute", at=at)

    @classmethod
    def days_before(cls, days: int, hhmm: str) -> "TimeRule":
        time.fromisoformat(hhmm)  # raises ValueError when not HH:MM
        if days < 0:
            raise ValueError("days must not be negative")
        return cls("days_before", days=days, hhmm=hhmm)

    @classmethod
    def hours_before(cls, hours: float) -> "TimeRule":
        if hours < 0:
            raise ValueError("hours must not be negative")
        return cls("hours_before", hours=float(hours))

    def resolve(self, starts_at: datetime, tz: str) -> datetime:
        """The instant this rule names for a session starting at ``starts_at`` (aware UTC)."""
        if self.kind == "absolute":
            return self.at.astimezone(timezone.utc)
        if self.kind == "days_before":
            zone = ZoneInfo(tz)
            day = starts_at.astimezone(zone).date() - timedelta(days=self.days)
            return datetime.combine(day, time.fromisoformat(self.hhmm), tzinfo=zone).astimezone(timezone.utc)
        return (starts_at - timedelta(hours=self.hours)).astimezone(timezone.utc)

    def text(self) -> str:
        if self.kind == "absolute":
            return self.at.isoformat(timespec="minutes")
        if self.kind == "days_before":
            return f"{self.days}d@{self.hhmm}"
        return f"{self.hours:g}h"


def parse(value: str) -> TimeRule:
    """A rule from its text form; DomainError("invalid_rule") when it is none of the three."""
    value = (value or "").strip()
    if match := _DAYS.match(value):
        return TimeRule.days_before(int(match.group(1)), f"{match.group(2)}:{match.group(3)}")
    if match := _HOURS.match(value):
        return TimeRule.hours_before(float(match.group(1)))
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise DomainError("invalid_rule", value[:40]) from None
    if at.tzinfo is None:
        raise DomainError("invalid_rule", "an absolute time needs its UTC offset")
    return TimeRule.absolute(at)
