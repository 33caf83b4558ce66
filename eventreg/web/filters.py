"""Jinja filters: the only place that formats dates and Markdown for people."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import markdown
import nh3
from babel.dates import get_timezone_name
from flask import Flask
from flask_babel import get_locale
from markupsafe import Markup

from ..domain.access import invitations
from ..domain.people import names
from ..domain.timing import periodic
from ..domain.timing import session_name as session_names
from .count_words import count_word
from .error_words import message
from .field_words import field_titles, sector_names
from .status_words import mode_words, registration_state, registration_words, status_word

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
    return session_names.local_day(value, tz, _lang(lang), year=year)


def session_name(session, tz: str, lang: str | None = None) -> str:
    """A session in one line (domain.timing.session_name): its title, or its day and start."""
    return session_names.session_name(session, tz, _lang(lang))


def zone(value: datetime, tz: str, lang: str | None = None) -> str:
    """The time zone, named as people say it: 「日本時間」「中央ヨーロッパ時間」 / "JST", "CEST".

    English uses the abbreviation in force at ``value`` (summer time included); where a zone has
    none (Asia/Dubai's "+04"), the UTC offset. Every time a person reads carries one of these,
    so nobody abroad, and nobody reading an event held in another zone, has to guess.
    """
    local_value = local(value, tz)
    if _lang(lang) == "ja":
        name = _generic_name_ja(tz)
        if "不明" not in name:
            return name
    abbreviation = local_value.tzname() or ""
    if abbreviation.isalpha():
        return abbreviation
    offset = local_value.strftime("%z")
    return f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"


@lru_cache(maxsize=64)
def _generic_name_ja(tz: str) -> str:
    # Babel reads its locale data on every call; a zone's name does not change while we run.
    return get_timezone_name(ZoneInfo(tz), width="long", locale="ja", zone_variant="generic")


def when(session, tz: str, lang: str | None = None) -> str:
    """「2019年2月8日(金) 14:00–17:00 日本時間(13:30開場)」 /
    "Fri, 8 Feb 2019, 14:00–17:00 JST (doors open 13:30)".

    ``session`` is a model or the plain dict of domain.registration.passes.pass_context.
    """
    get = session.get if isinstance(session, dict) else lambda name: getattr(session, name)
    return _when(get("starts_at"), get("ends_at"), get("doors_at"), tz, _lang(lang))


# Every scan's answer and every list of people words its session's times: the words depend on
# these five values alone, and a desk repeats the same few sessions all day.
@lru_cache(maxsize=1024)
def _when(starts: datetime, ends: datetime, doors_at: datetime, tz: str, lang: str) -> str:
    times = f"{hm(starts, tz)}–{hm(ends, tz)} {zone(starts, tz, lang)}"
    doors = hm(doors_at, tz)
    if lang == "ja":
        return f"{day(starts, tz, 'ja')} {times}({doors}開場)"
    return f"{day(starts, tz, 'en')}, {times} (doors open {doors})"


def deadline(value: datetime, tz: str, lang: str | None = None) -> str:
    """「2月7日(木) 12:00 締切(日本時間)」 / "Closes Thu, 7 Feb, 12:00 JST"."""
    if _lang(lang) == "ja":
        return f"{day(value, tz, 'ja', year=False)} {hm(value, tz)} 締切({zone(value, tz, 'ja')})"
    return f"Closes {day(value, tz, 'en', year=False)}, {hm(value, tz)} {zone(value, tz, 'en')}"


def moment(value: datetime, tz: str, lang: str | None = None) -> str:
    """A single instant with its zone: 「2月1日(月) 10:00(日本時間)」 / "Mon, 1 Feb, 10:00 JST"."""
    if _lang(lang) == "ja":
        return f"{day(value, tz, 'ja', year=False)} {hm(value, tz)}({zone(value, tz, 'ja')})"
    return f"{day(value, tz, 'en', year=False)}, {hm(value, tz)} {zone(value, tz, 'en')}"


def person_name(registration, lang: str | None = None) -> str:
    """A registration's name in the page's language (domain.people.names.display_name)."""
    return names.display_name(registration.family_name, registration.given_name, _lang(lang))


def person_kana(registration) -> str:
    return names.display_kana(registration.family_kana, registration.given_kana)


def render_markdown(text: str) -> Markup:
    html = markdown.markdown(text or "", extensions=["tables", "sane_lists"])
    return Markup(nh3.clean(html, tags=_ALLOWED_TAGS, link_rel="noopener noreferrer nofollow"))


def register(app: Flask) -> None:
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale() or "ja")
    app.jinja_env.globals["message"] = message
    # Field titles and sector names: one table (domain.people.field_words), in the page's language.
    app.jinja_env.globals.update(field_titles=field_titles, sector_names=sector_names)
    # The words for every state shown to people: one table (status_words).
    app.jinja_env.globals.update(status_word=status_word, registration_words=registration_words,
                                 registration_state=registration_state, mode_words=mode_words)
    # Numbers the pages state, from where each rule lives: {{ _("… %(days)s days", days=rule_numbers.invitation_days) }}
    app.jinja_env.globals["rule_numbers"] = {"invitation_days": invitations.LIFETIME.days,
                                      "missed_hours": int(periodic.MISSED_AFTER.total_seconds() // 3600)}
    app.jinja_env.globals["count_word"] = count_word
    app.jinja_env.filters.update(
        hm=hm, hms=hms, day=day, when=when, deadline=deadline, moment=moment, zone=zone,
        markdown=render_markdown, person_name=person_name, person_kana=person_kana, session_name=session_name,
    )
