"""What the building's visitor list (入館者リスト) holds: its columns, their titles, and each
person's values as the venue sees them, in 五十音 order. The sends (domain.communication.building_list)
freeze these values; the tick's change detection (domain.communication.building_list_changes)
compares them.
"""

from __future__ import annotations

from sqlalchemy import select

from eventreg.domain.errors import DomainError
from eventreg.domain.people import field_words, gojuon
from eventreg.domain.timing.session_name import session_name
from eventreg.extensions import db
from eventreg.models import DEFAULT_SECURITY_COLUMNS, Event, EventSession, Registration, Status

# Every column the venue may get, in the order the settings page offers them.
COLUMNS = ("name", "kana", "organization", "department", "session", "email", "phone", "sector")


# Always frozen with a send, whatever the columns: a difference email names people by them.
IDENTITY = ("name", "kana", "organization")


def language_of(event: Event) -> str:
    return field_words.language(event.language)


def columns_of(event: Event) -> list[str]:
    """The event's columns, known ones only, in its order (the default when none are left)."""
    chosen = [c for c in (event.security_columns or []) if c in COLUMNS]
    return list(dict.fromkeys(chosen)) or list(DEFAULT_SECURITY_COLUMNS)


def check_columns(values: list[str]) -> list[str]:
    """Columns chosen on the settings page: known, without repeats, at least one."""
    chosen = list(dict.fromkeys(v for v in values if v))
    if not chosen or any(c not in COLUMNS for c in chosen):
        raise DomainError("invalid_security_columns")
    return chosen


def labels(language: str) -> dict[str, str]:
    """Each column's title in ``language``: the titles every page and export uses."""
    return {c: field_words.field_title(c, language) for c in COLUMNS}


def header(columns: list[str], language: str) -> list[str]:
    names = labels(language)
    return [names[c] for c in columns]


def session_label(event: Event, session: EventSession) -> str:
    """The session column: the session's name in the event's language."""
    return session_name(session, event.timezone, language_of(event))


def person_values(reg, event: Event, session_text: str, wanted: list[str]) -> dict[str, str]:
    """A person's values; ``reg`` is a Registration or a row of ``_PERSON`` columns."""
    every = {
        "name": f"{reg.family_name} {reg.given_name}", "kana": f"{reg.family_kana} {reg.given_kana}",
        "organization": reg.organization or "",
        "department": reg.department or "", "session": session_text, "email": reg.email or "",
        "phone": reg.phone or "", "sector": field_words.sector_name(reg.sector, language_of(event)),
    }
    return {c: every[c] for c in wanted}


def frozen_columns(columns: list[str]) -> list[str]:
    return list(dict.fromkeys([*columns, *IDENTITY]))


def key_columns(columns: list[str]) -> list[str]:
    """The frozen columns that tell people apart when a list is compared with the last one sent:
    all but the session, which is the same on every row of a session's list (a renamed session,
    or a new way of writing its name, changes no one on it)."""
    return [c for c in frozen_columns(columns) if c != "session"]


def key_value(column: str, value: str) -> str:
    """A value of a sent list as it would be written today (a sector renamed since)."""
    return field_words.FORMER_SECTOR_NAMES.get(value, value) if column == "sector" else value


def current_people(session: EventSession, columns: list[str] | None = None) -> dict[str, dict[str, str]]:
    """The confirmed people of ``session`` now, in 五十音 order: registration id (text) -> the
    values of ``columns`` (default: the event's) plus name, furigana and organization."""
    event = session.event
    wanted = frozen_columns(columns or columns_of(event))
    text = session_label(event, session)
    regs = db.session.scalars(
        select(Registration)
        .where(Registration.session_id == session.id, Registration.status == Status.confirmed)
        .order_by(Registration.sort_key, Registration.id)
    )
    return {str(reg.id): person_values(reg, event, text, wanted) for reg in regs}


def ordered(people: dict[str, dict[str, str]]) -> list[tuple[str, dict[str, str]]]:
    """(id, values) in 五十音 order (domain.people.gojuon), then id: the order of every list and email.
    Sent lists keep display strings only, so the key is made from them."""
    def key(item):
        rid, values = item
        return gojuon.display_sort_key(values.get("kana", ""), values.get("name", "")), int(rid)

    return sorted(people.items(), key=key)


def sheet(columns: list[str], people: dict[str, dict[str, str]], language: str) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of a list: what the file holds, as plain strings."""
    return header(columns, language), [[values.get(c, "") for c in columns] for _, values in ordered(people)]


def preview(session: EventSession) -> tuple[list[str], list[list[str]]]:
    """The list as it would go now (header, rows), in the event's columns and language."""
    event = session.event
    columns = columns_of(event)
    return sheet(columns, current_people(session, columns), language_of(event))
