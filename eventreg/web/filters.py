"""Jinja filters: the only place that formats dates and Markdown for people."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import markdown
import nh3
from flask import Flask
from babel.dates import format_date
from flask_babel import get_locale
from markupsafe import Markup

from .messages import message

WEEKDAYS_JA = "月火水木金土日"
_ALLOWED_TAGS = {
    "p", "br", "strong", "em", "ul", "ol", "li", "a", "h2", "h3", "h4",
    "blockquote", "code", "pre", "hr", "table", "thead", "tbody", "tr", "th", "td",
}


def _lang(lang: str | None) -> str:
    return lang or str(get_locale() or "ja")


def local(value: datetime, tz: str) -> datetime:
    return value.astimezone(ZoneInfo(tz))


def hm(value: datetime, tz: str) -> str:
    return local(value, tz).strftime("%H:%M")


def hms(value: datetime, tz: str) -> str:
    return local(value, tz).strftime("%H:%M:%S")


def day(value: datetime, tz: str, lang: str | None = None, *, year: bool = True) -> str:
    """2019年2月8日(金) / Fri, 8 Feb 2019."""
    d = local(value, tz)
    if _lang(lang) == "ja":
        head = f"{d.year}年{d.month}月{d.day}日" if year else f"{d.month}月{d.day}日"
        return f"{head}({WEEKDAYS_JA[d.weekday()]})"
    return format_date(d.date(), "EEE, d MMM y" if year else "EEE, d MMM", locale="en")


def when(session, tz: str, lang: str | None = None) -> str:
    """「2019年2月8日(金) 14:00–17:00(13:30開場)」 / "Fri, 8 Feb 2019, 14:00–17:00 (doors open 13:30)".

    ``session`` is a model or the plain dict of domain.passes.pass_context.
    """
    get = session.get if isinstance(session, dict) else lambda name: getattr(session, name)
    starts = get("starts_at")
    times = f"{hm(starts, tz)}–{hm(get('ends_at'), tz)}"
    doors = hm(get("doors_at"), tz)
    if _lang(lang) == "ja":
        return f"{day(starts, tz, 'ja')} {times}({doors}開場)"
    return f"{day(starts, tz, 'en')}, {times} (doors open {doors})"


def deadline(value: datetime, tz: str, lang: str | None = None) -> str:
    """「2月7日(木) 12:00 締切」 / "Closes Thu, 7 Feb, 12:00"."""
    if _lang(lang) == "ja":
        return f"{day(value, tz, 'ja', year=False)} {hm(value, tz)} 締切"
    return f"Closes {day(value, tz, 'en', year=False)}, {hm(value, tz)}"


def render_markdown(text: str) -> Markup:
    html = markdown.markdown(text or "", extensions=["tables", "sane_lists"])
    return Markup(nh3.clean(html, tags=_ALLOWED_TAGS, link_rel="noopener noreferrer nofollow"))


def register(app: Flask) -> None:
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale() or "ja")
    app.jinja_env.globals["message"] = message
    app.jinja_env.filters.update(
        hm=hm, hms=hms, day=day, when=when, deadline=deadline, markdown=render_markdown
    )
