"""One time-rule value for everything that happens at a time relative to a session.

A rule is one of:

- ``absolute``: a fixed instant (``at``, aware);
- ``days_before``: N days before the session's local start date, at HH:MM local time in the
  event's time zone ("前日12:00" is ``days=1, hhmm="12:00"``; it stays 前日12:00 across a DST
  change or when the event is cloned to another date);
- ``hours_before``: N hours (may be fractional) before the session starts.

The registration deadline, the deadline summary and (later) reminders and security lists all use
it. ``resolve`` gives aware UTC. Rules are also written as short text, for files and forms:
``"2019-02-07T12:00+09:00"``, ``"1d@12:00"``, ``"1d"`` (the day before, at the session's own
start time), ``"2h"``. ``parse`` is the one reader of that text: the event form's deadline, the
reminders, the visitor list's send rule and the import all go through it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from eventreg.domain.errors import DomainError

_DAYS = re.compile(r"^(\d{1,3})d(?:@(\d{1,2}):(\d{2}))?$")
_HOURS = re.compile(r"^(\d{1,4}(?:\.\d{1,2})?)h$")


@dataclass(frozen=True)
class TimeRule:
    kind: str  # "absolute" | "days_before" | "hours_before"
    at: datetime | None = None
    days: int = 0
    hhmm: str | None = None  # days_before: None is the session's own start time
    hours: float = 0.0

    @classmethod
    def absolute(cls, at: datetime) -> TimeRule:
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError("an absolute rule needs an aware datetime")
        return cls("absolute", at=at)

    @classmethod
    def days_before(cls, days: int, hhmm: str | None) -> TimeRule:
        if hhmm is not None:
            time.fromisoformat(hhmm)  # raises ValueError when not HH:MM
        if days < 0:
            raise ValueError("days must not be negative")
        return cls("days_before", days=days, hhmm=hhmm)

    @classmethod
    def hours_before(cls, hours: float) -> TimeRule:
        if hours < 0:
            raise ValueError("hours must not be negative")
        return cls("hours_before", hours=float(hours))

    def resolve(self, starts_at: datetime, tz: str) -> datetime:
        """The instant this rule names for a session starting at ``starts_at`` (aware UTC)."""
        if self.kind == "absolute":
            return self.at.astimezone(timezone.utc)
        if self.kind == "days_before":
            zone = ZoneInfo(tz)
            local = starts_at.astimezone(zone)
            at = time.fromisoformat(self.hhmm) if self.hhmm else local.time().replace(tzinfo=None)
            day = local.date() - timedelta(days=self.days)
            return datetime.combine(day, at, tzinfo=zone).astimezone(timezone.utc)
        return (starts_at - timedelta(hours=self.hours)).astimezone(timezone.utc)

    def text(self) -> str:
        if self.kind == "absolute":
            return self.at.isoformat(timespec="minutes")
        if self.kind == "days_before":
            return f"{self.days}d@{self.hhmm}" if self.hhmm else f"{self.days}d"
        return f"{self.hours:g}h"


def parse(value: str, *, zone: ZoneInfo | None = None) -> TimeRule:
    """A rule from the text people type (NFKC first: full-width １ｄ＠１２：００ reads as 1d@12:00).
    A date-time without its UTC offset is read in ``zone`` when given. DomainError("invalid_rule")
    when the text is none of the three kinds."""
    value = unicodedata.normalize("NFKC", value or "").strip()
    compact = value.replace(" ", "")
    if match := _DAYS.match(compact):
        hhmm = None
        if match.group(2) is not None:
            hour, minute = int(match.group(2)), int(match.group(3))
            if hour > 23 or minute > 59:
                raise DomainError("invalid_rule", value[:40])
            hhmm = f"{hour:02d}:{minute:02d}"
        return TimeRule.days_before(int(match.group(1)), hhmm)
    if match := _HOURS.match(compact):
        return TimeRule.hours_before(float(match.group(1)))
    try:
        at = datetime.fromisoformat(value) if len(value) <= 40 else None
    except ValueError:
        at = None
    if at is None:
        raise DomainError("invalid_rule", value[:40])
    if at.tzinfo is None or at.utcoffset() is None:
        if zone is None:
            raise DomainError("invalid_rule", "an absolute time needs its UTC offset")
        at = at.replace(tzinfo=zone)
    return TimeRule.absolute(at)
