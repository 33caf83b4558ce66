"""The attendee list: who matches a filter, in which order, and the numbers at the top.

One place for the list's rules, used by the back-office page, the organizer API and the exports:

- ``ListFilter``: what the organizer asked for (session, status, sector, walk-in, an answer, a
  free-text search, a sort); ``ListFilter.from_args`` reads it from a query string and never raises.
- ``matching(event, flt, now=)``: a Select of the event's registrations, filtered and sorted.
- ``count``: the number that matches (the counters at the top are domain.insight.counts').

The free-text search is the one of domain.people.search (the desk finds the same people), the
order the one 五十音 key of domain.people.gojuon.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime

from sqlalchemy import Text, and_, cast, exists, false, func, literal, select, true
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql import ColumnElement, Select

from eventreg.domain.people import search, text
from eventreg.extensions import db
from eventreg.models import Event, EventSession, QuestionKind, Registration, Sector, Status

STATUSES = ("", "confirmed", "held", "waitlisted", "cancelled", "checked_in", "not_arrived", "no_show")
SORTS = ("kana", "organization", "created", "arrival")
MAX_QUERY = search.MAX_QUERY  # characters of a typed filter value that are looked at


@dataclass(frozen=True)
class ListFilter:
    session_id: int | None = None
    # "" is everyone who is still registered (confirmed or waitlisted); "cancelled" shows the
    # cancelled; checked_in / not_arrived / no_show are about confirmed people.
    status: str = ""
    sector: str = ""  # a models.Sector value, or "" for any
    walk_in: bool | None = None
    question_id: int | None = None
    # For a choice question, one of its choices (for a yes/no checkbox: "yes" or "no"); for a
    # text question, text the answer contains. Ignored without question_id.
    answer: str = ""
    q: str = ""  # free text: name, furigana in any kana form, organization, email
    sort: str = "kana"

    @classmethod
    def from_args(cls, args: Mapping) -> ListFilter:
        """From a query string (request.args or a dict). Tolerant: a value that makes no sense is
        the default, nothing raises."""
        get = args.get
        walk_in = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}
        status, sort, sector = text.loose(get("status")), text.loose(get("sort")), text.loose(get("sector"))
        return cls(
            session_id=parse_id(get("session")) if get("session") is not None else parse_id(get("session_id")),
            status=status if status in STATUSES else "",
            sector=sector if sector in Sector.__members__ else "",
            walk_in=walk_in.get(text.loose(get("walk_in")).lower()),
            question_id=parse_id(get("question")) if get("question") is not None else parse_id(get("question_id")),
            answer=text.loose(get("answer"))[:MAX_QUERY],
            q=text.loose(get("q"))[:MAX_QUERY],
            sort=sort if sort in SORTS else "kana",
        )

    def as_args(self) -> dict[str, str]:
        """The query string that gives this filter back (defaults left out), for links."""
        names = {"session_id": "session", "question_id": "question"}
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value == f.default or value is None:
                continue
            if isinstance(value, bool):
                value = "1" if value else "0"
            out[names.get(f.name, f.name)] = str(value)
        return out

    def but(self, **changes) -> ListFilter:
        return replace(self, **changes)


def parse_id(value) -> int | None:
    value = text.loose(value)
    if not value.isascii() or not value.isdigit() or len(value) > 10:
        return None
    number = int(value)
    return number if 1 <= number <= 2**31 - 1 else None


def matching(event: Event, flt: ListFilter, *, now: datetime) -> Select:
    """The event's registrations that ``flt`` selects, in its order (a Select of Registration)."""
    return select(Registration).where(*_conditions(event, flt, now)).order_by(*_order(flt.sort))


def count(event: Event, flt: ListFilter, *, now: datetime) -> int:
    return db.session.scalar(select(func.count()).select_from(Registration).where(*_conditions(event, flt, now)))


def _conditions(event: Event, flt: ListFilter, now: datetime) -> list[ColumnElement]:
    where: list[ColumnElement] = [Registration.event_id == event.id]
    if flt.session_id is not None:
        where.append(Registration.session_id == flt.session_id)
    where += _status(event, flt.status, now)
    if flt.sector in Sector.__members__:
        where.append(Registration.sector == Sector(flt.sector))
    if flt.walk_in is not None:
        where.append(Registration.walk_in.is_(true()) if flt.walk_in else Registration.walk_in.is_(false()))
    if flt.question_id is not None:
        where.append(_answer(event, flt.question_id, flt.answer))
    where += search.conditions(flt.q)
    return where


def _status(event: Event, status: str, now: datetime) -> list[ColumnElement]:
    confirmed = Registration.status == Status.confirmed
    if status in ("confirmed", "held", "waitlisted", "cancelled"):
        return [Registration.status == Status(status)]
    if status == "checked_in":
        return [confirmed, Registration.checked_in_at.is_not(None)]
    if status == "not_arrived":
        return [confirmed, Registration.checked_in_at.is_(None)]
    if status == "no_show":
        ended = select(EventSession.id).where(EventSession.event_id == event.id, EventSession.ends_at <= now)
        return [confirmed, Registration.checked_in_at.is_(None), Registration.session_id.in_(ended)]
    return [Registration.status != Status.cancelled]


YES = ("yes", "1", "true")


def _answer(event: Event, question_id: int, answer: str) -> ColumnElement:
    """Registrations whose answer to the question matches. A question of another event matches
    nobody. Answers are JSON (question id as a string -> a string, a list of strings, or a
    boolean for a checkbox); the test is written per database (SQLite json1, PostgreSQL jsonb)."""
    question = next((q for q in event.questions if q.id == question_id), None)
    if question is None:
        return false()
    answer = text.loose(answer)[:MAX_QUERY]
    key = str(question.id)
    postgres = db.session.get_bind().dialect.name == "postgresql"
    if question.kind == QuestionKind.checkbox:
        ticked = (cast(Registration.answers, JSONB)[key] == cast(literal("true"), JSONB) if postgres
                  else func.json_type(Registration.answers, f'$."{key}"') == "true")
        if not answer:
            return true()
        return ticked if answer.lower() in YES else ~func.coalesce(ticked, false())
    if not answer:  # "answered at all"
        return _answered(key, postgres)
    if question.kind == QuestionKind.text:
        value = (cast(Registration.answers, JSONB)[key].astext if postgres
                 else func.json_extract(Registration.answers, f'$."{key}"'))
        return value.icontains(answer, autoescape=True)
    # single / multiple: one of the chosen values equals the answer (a list contains it).
    if postgres:
        return cast(Registration.answers, JSONB)[key].contains(func.to_jsonb(cast(literal(answer), Text)))
    each = func.json_each(Registration.answers, f'$."{key}"').table_valued("value")
    return exists(select(literal(1)).select_from(each).where(each.c.value == answer))


def _answered(key: str, postgres: bool) -> ColumnElement:
    if postgres:
        value = cast(Registration.answers, JSONB)[key]
        return and_(value.is_not(None), value.not_in([cast(literal(v), JSONB) for v in ('null', '""', "[]")]))
    value = func.json_extract(Registration.answers, f'$."{key}"')
    return and_(value.is_not(None), value.not_in(["", "[]"]))


def _kana_order() -> list[ColumnElement]:
    """五十音 order (domain.people.gojuon): the stored key, then the id for people with the same one."""
    return [Registration.sort_key, Registration.id]


def _order(sort: str) -> list[ColumnElement]:
    if sort == "organization":  # those without one last
        return [Registration.organization == "", Registration.organization, *_kana_order()]
    if sort == "created":  # newest first: the organizer watches sign-ups come in
        return [Registration.created_at.desc(), Registration.id.desc()]
    if sort == "arrival":  # first to arrive first; not arrived last, in 五十音 order
        return [Registration.checked_in_at.is_(None), Registration.checked_in_at, *_kana_order()]
    return _kana_order()
