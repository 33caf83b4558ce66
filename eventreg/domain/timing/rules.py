"""One time-rule value for everything that happens at a time relative to a session.

A rule is one of:

- ``absolute``: a fixed instant (``at``, aware);
- ``days_before``: N days before the session's local start date, at HH:MM local time in the
  event's time zone ("前日12:00" is ``days=1, hhmm="12:00"``; it stays 前日12:00 across a DST
  change or when the event is cloned to another date);
- ``business_days_before``: N business days before the session's local start date, at HH:MM local
  time: weekends, Japanese public holidays and the year-end closing are skipped
  (domain.timing.business_days holds that calendar);
- ``hours_before``: N hours (may be fractional) before the session starts: elapsed time, so
  "2h" before a 01:00 start is 23:00 the day before, and a DST change in between is counted as
  the clock really moves.
- ``after_end``: N hours (elapsed, may be fractional) after the session *ends*: the post-event
  loop (domain.communication.followups), "end+30m" by default. ``resolve`` needs the end for it.

The registration deadline, the deadline summary and (later) reminders and security lists all use
it. ``resolve`` gives aware UTC. Rules are also written as short text, for files and forms:
``"2019-02-07T12:00+09:00"``, ``"1d@12:00"``, ``"1d"`` (the day before, at the session's own
start time), ``"3bd@17:00"`` (3 business days before at 17:00), ``"2h"``; and as people write them
in Japanese: 「前日12:00」「当日の9:00」「3日前の17:00」「3営業日前の17:00」「開始2時間前」. ``parse`` is
the one reader of that text: the event form's deadline, the reminders, the visitor list's send
rule and the import all go through it. ``from_parts`` builds a rule from a structured form's parts
(kind, number, time) with one error code per wrong part.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from eventreg.domain.errors import DomainError
from eventreg.domain.timing import business_days

_DAYS = re.compile(r"^(\d{1,3})(b?)d(?:@(\d{1,2}):(\d{2}))?$")
_HOURS = re.compile(r"^(\d{1,4}(?:\.\d{1,2})?)h$")
# The same rules as Japanese organizers write them (after NFKC, spaces removed). 「開始の」 may lead.
_JA_TIME = r"(?:の?(\d{1,2})(?::(\d{2})|時(?:(\d{1,2})分)?))?"
_JA_DAYS = re.compile(r"^(?:開始の?)?(前日|当日|(\d{1,3})(営業)?日前)" + _JA_TIME + r"(?:まで)?$")
_JA_HOURS = re.compile(r"^(?:開始の?)?(\d{1,4}(?:\.\d{1,2})?)時間前(?:まで)?$")
# After the end: "end+30m", "end+2h", "30m after the end", 「終了30分後」「終了後2時間」「終了の1時間30分後」.
_AFTER = re.compile(r"^end\+(?:(\d{1,3})h)?(?:(\d{1,4})m)?$")
_AFTER_EN = re.compile(r"^(?:(\d{1,3})h)?(?:(\d{1,4})m)?(?:in)?after(?:the)?end$")
_JA_AFTER = re.compile(r"^終了(?:の|後)?(?:(\d{1,3})時間)?(?:(\d{1,4})分)?後?$")
KINDS = ("absolute", "days_before", "business_days_before", "hours_before", "after_end")
MAX_AFTER_HOURS = 720  # 30 days after the end: later is no follow-up
MAX_DAYS = 999
MAX_BUSINESS_DAYS = 99
MAX_HOURS = 9999


@dataclass(frozen=True)
class TimeRule:
    kind: str  # one of KINDS
    at: datetime | None = None
    days: int = 0  # days_before and business_days_before
    hhmm: str | None = None  # days_before, business_days_before: None is the session's own start time
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
    def business_days_before(cls, days: int, hhmm: str | None) -> TimeRule:
        if hhmm is not None:
            time.fromisoformat(hhmm)
        if days < 1:
            raise ValueError("at least one business day")
        return cls("business_days_before", days=days, hhmm=hhmm)

    @classmethod
    def hours_before(cls, hours: float) -> TimeRule:
        if hours < 0:
            raise ValueError("hours must not be negative")
        return cls("hours_before", hours=float(hours))

    @classmethod
    def after_end(cls, hours: float) -> TimeRule:
        if not 0 <= hours <= MAX_AFTER_HOURS:
            raise ValueError("hours after the end out of range")
        return cls("after_end", hours=float(hours))

    def resolve(self, starts_at: datetime, tz: str, ends_at: datetime | None = None) -> datetime:
        """The instant this rule names for a session starting at ``starts_at`` (aware UTC);
        an ``after_end`` rule needs the session's ``ends_at``."""
        if self.kind == "after_end":
            if ends_at is None:
                raise ValueError("an after-the-end rule needs the session's end")
            return ends_at.astimezone(timezone.utc) + timedelta(hours=self.hours)
        if self.kind == "absolute":
            return self.at.astimezone(timezone.utc)
        if self.kind in ("days_before", "business_days_before"):
            zone = ZoneInfo(tz)
            local = starts_at.astimezone(zone)
            at = time.fromisoformat(self.hhmm) if self.hhmm else local.time().replace(tzinfo=None)
            if self.kind == "days_before":
                day = local.date() - timedelta(days=self.days)
            else:
                day = business_days.before(local.date(), self.days)
            # A wall time that does not exist (skipped by a DST change) is read with the offset
            # before the change (fold=0), as zoneinfo does: the instant is still well defined.
            return datetime.combine(day, at, tzinfo=zone).astimezone(timezone.utc)
        # Elapsed hours: arithmetic on the aware UTC instant, so midnight and DST need no care.
        return (starts_at.astimezone(timezone.utc) - timedelta(hours=self.hours))

    def text(self) -> str:
        if self.kind == "absolute":
            return self.at.isoformat(timespec="minutes")
        if self.kind in ("days_before", "business_days_before"):
            unit = "bd" if self.kind == "business_days_before" else "d"
            return f"{self.days}{unit}@{self.hhmm}" if self.hhmm else f"{self.days}{unit}"
        if self.kind == "after_end":
            minutes = round(self.hours * 60)
            hours, rest = divmod(minutes, 60)
            return "end+" + (f"{hours}h" if hours else "") + (f"{rest}m" if rest or not hours else "")
        return f"{self.hours:g}h"


def _hhmm(hour: str | None, minute: str | None, typed: str) -> str | None:
    if hour is None:
        return None
    hour_, minute_ = int(hour), int(minute or 0)
    if hour_ > 23 or minute_ > 59:
        raise DomainError("invalid_rule", typed[:40])
    return f"{hour_:02d}:{minute_:02d}"


def _days_rule(days: int, business: bool, hhmm: str | None, typed: str) -> TimeRule:
    if business:
        if not 1 <= days <= MAX_BUSINESS_DAYS:
            raise DomainError("invalid_rule", typed[:40])
        return TimeRule.business_days_before(days, hhmm)
    return TimeRule.days_before(days, hhmm)


def parse(value: str, *, zone: ZoneInfo | None = None, after_end: bool = False) -> TimeRule:
    """A rule from the text people type (NFKC first: full-width １ｄ＠１２：００ reads as 1d@12:00).
    A date-time without its UTC offset is read in ``zone`` when given. DomainError("invalid_rule")
    when the text is none of the three kinds. An ``after_end`` rule ("end+30m") is read only when
    the caller asks for it (the post-event loop): a deadline or a reminder is never after the end."""
    value = unicodedata.normalize("NFKC", value or "").strip()
    compact = value.replace(" ", "")
    if match := _DAYS.match(compact):
        hhmm = _hhmm(match.group(3), match.group(4), value)
        return _days_rule(int(match.group(1)), bool(match.group(2)), hhmm, value)
    if match := _JA_DAYS.match(compact):
        days = {"前日": 1, "当日": 0}.get(match.group(1))
        hhmm = _hhmm(match.group(4), match.group(5) or match.group(6), value)
        return _days_rule(int(match.group(2)) if days is None else days, bool(match.group(3)), hhmm, value)
    if match := _HOURS.match(compact) or _JA_HOURS.match(compact):
        return TimeRule.hours_before(float(match.group(1)))
    if after_end and (match := _AFTER.match(compact.lower()) or _AFTER_EN.match(compact.lower())
                      or _JA_AFTER.match(compact)):
        if match.group(1) is None and match.group(2) is None:
            raise DomainError("invalid_rule", value[:40])
        hours = int(match.group(1) or 0) + int(match.group(2) or 0) / 60
        if hours > MAX_AFTER_HOURS:
            raise DomainError("invalid_rule", value[:40])
        return TimeRule.after_end(hours)
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


def _number(text: str, code: str, *, low: float, high: float, decimals: bool = False) -> float:
    """A number typed in a form part (NFKC'd), within low … high; DomainError(code) otherwise."""
    pattern = r"\d{1,4}(?:\.\d{1,2})?" if decimals else r"\d{1,4}"
    if not re.fullmatch(pattern, text) or not low <= float(text) <= high:
        raise DomainError(code, text[:10])
    return float(text)


def from_parts(kind: str, *, days: str = "", at: str = "", hours: str = "", when: str = "",
               zone: ZoneInfo | None = None) -> TimeRule | None:
    """The rule a structured form describes, each part as typed (full-width digits are fine).

    ``kind``: "none" (no rule: until the start; None is returned), "days_before" (``days`` 0 …
    MAX_DAYS, ``at`` HH:MM), "business_days_before" (``days`` 1 … MAX_BUSINESS_DAYS, ``at``),
    "hours_before" (``hours``, up to two decimals, 0 … MAX_HOURS) or "absolute" (``when``: a
    date-time read in ``zone``, or with its offset). DomainError with the code of the first wrong
    part: ``deadline_kind``, ``deadline_days``, ``deadline_business_days``, ``deadline_time``,
    ``deadline_hours``, ``deadline_datetime``."""
    days, at, hours, when = (unicodedata.normalize("NFKC", part or "").strip() for part in (days, at, hours, when))
    if kind == "none":
        return None
    if kind in ("days_before", "business_days_before"):
        business = kind == "business_days_before"
        count = int(_number(days, "deadline_business_days" if business else "deadline_days",
                            low=1 if business else 0, high=MAX_BUSINESS_DAYS if business else MAX_DAYS))
        match = re.fullmatch(r"(\d{1,2}):(\d{2})", at)
        if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
            raise DomainError("deadline_time", at[:10])
        hhmm = f"{int(match.group(1)):02d}:{match.group(2)}"
        return TimeRule.business_days_before(count, hhmm) if business else TimeRule.days_before(count, hhmm)
    if kind == "hours_before":
        return TimeRule.hours_before(_number(hours, "deadline_hours", low=0, high=MAX_HOURS, decimals=True))
    if kind == "absolute":
        try:
            rule = parse(when, zone=zone)
        except DomainError:
            rule = None
        if rule is None or rule.kind != "absolute":
            raise DomainError("deadline_datetime", when[:40])
        return rule
    raise DomainError("deadline_kind", str(kind)[:20])
