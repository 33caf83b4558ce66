"""The desk's search for people without a pass: the one search (domain.people.search), active
registrations only, optionally one 五十音 row, in 五十音 order; and the desk's marker for people
the building was not told about, for a whole page of results in one query."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from eventreg.domain.backoffice import hybrid_rules
from eventreg.domain.communication import building_list
from eventreg.domain.people import gojuon, search
from eventreg.extensions import db
from eventreg.models import Registration, Status

LIMIT = 30


def find(event_id: int, query: str = "", *, kana_row: str | None = None, session_id: int | None = None,
         limit: int = LIMIT) -> list[Registration]:
    """Active registrations of the event by name, furigana (カナ or ひらがな, partial), organization
    or email, optionally only those whose reading starts in ``kana_row`` ("a", "ka" … "wa")."""
    where = [Registration.event_id == event_id, Registration.status != Status.cancelled, hybrid_rules.at_the_venue(),
             *search.conditions(query)]
    if session_id is not None:
        where.append(Registration.session_id == session_id)
    if kana_row in gojuon.ROWS:
        low, high = gojuon.row_range(kana_row)
        where += [Registration.sort_key >= low, Registration.sort_key < high]
    return list(db.session.scalars(
        select(Registration).where(*where).order_by(Registration.sort_key, Registration.id).limit(limit)
        .options(selectinload(Registration.session))
    ))


def not_on_security_list(registrations: list[Registration]) -> set[int]:
    """The ids the desk marks: confirmed, and missing from the building's last list for their
    session (so the building has no pass for them). Nobody is marked before a list was sent, and
    people who are not confirmed are not (the desk turns them away anyway)."""
    return building_list.not_on_sent_lists(registrations)
