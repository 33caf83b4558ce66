"""A time rule (domain.timing.rules.TimeRule) in words: 「前日12:00」「3営業日前の17:00」「開始2時間前」
「開始時刻まで」 or a date. One wording for the deadline (event settings, sessions, overview) and the
reminders page."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _

from ..domain.timing.rules import TimeRule
from .filters import hm, moment


def rule_words(rule: TimeRule | None, tz: str, starts_at: datetime | None = None) -> str:
    """``rule`` for people. A day rule without its own time closes at the session's start time
    (``starts_at``; without one: 「開始時刻」). None: until the session starts."""
    if rule is None:
        return _("until the session starts")
    if rule.kind == "absolute":
        return moment(rule.at, tz)
    if rule.kind == "hours_before":
        return _("%(hours)s hours before the start", hours=f"{rule.hours:g}")
    if rule.kind == "after_end":
        hours, minutes = divmod(round(rule.hours * 60), 60)
        if hours and minutes:
            return _("%(hours)s h %(minutes)s min after the end", hours=hours, minutes=minutes)
        if hours:
            return _("%(hours)s hours after the end", hours=hours)
        return _("%(minutes)s minutes after the end", minutes=minutes)
    at = rule.hhmm or (hm(starts_at, tz) if starts_at else _("the start time"))
    if rule.kind == "business_days_before":
        return _("%(days)s business days before at %(time)s", days=rule.days, time=at)
    if rule.days == 0:
        return _("on the day at %(time)s", time=at)
    if rule.days == 1:
        return _("the day before at %(time)s", time=at)
    return _("%(days)s days before at %(time)s", days=rule.days, time=at)
