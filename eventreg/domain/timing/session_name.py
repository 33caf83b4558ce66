"""How a session is named for people, in one line: its title, or, when it has none, its local day
and start time 「2月8日(金) 14:00」 / "Fri, 8 Feb, 14:00". Every list, filter, export, statistics
table, PDF, the desk and the venue's visitor list name a session with ``session_name`` (pages
through the ``session_name`` Jinja filter). Pages and emails that print a session's whole time
next to it (the ``when`` filter) add only its title.

Plain Python (Babel's date names, no Flask), so the domain's files and the web agree; the web's
date filters (eventreg.web.filters.day) use ``local_day`` too.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date

WEEKDAYS_JA = "月火水木金土日"


def local_day(value: datetime, tz: str, lang: str, *, year: bool = True) -> str:
    """2019年2月8日(金) / Fri, 8 Feb 2019 (without the year: 2月8日(金) / Fri, 8 Feb)."""
    d = value.astimezone(ZoneInfo(tz))
    if lang == "ja":
        head = f"{d.year}年{d.month}月{d.day}日" if year else f"{d.month}月{d.day}日"
        return f"{head}({WEEKDAYS_JA[d.weekday()]})"
    return format_date(d.date(), "EEE, d MMM y" if year else "EEE, d MMM", locale="en")


def session_name(session, tz: str, lang: str) -> str:
    """``session``: a model, a row or a dict with ``title`` and ``starts_at``."""
    get = session.get if isinstance(session, dict) else lambda name: getattr(session, name)
    if get("title"):
        return get("title")
    starts = get("starts_at")
    clock = starts.astimezone(ZoneInfo(tz)).strftime("%H:%M")
    separator = " " if lang == "ja" else ", "
    return f"{local_day(starts, tz, lang, year=False)}{separator}{clock}"
