"""What a badge printed at the desk may show for an event: the characters of its title and of every
registration's names, furigana, organization and department (the desk's badge fonts are cut to them)."""

from __future__ import annotations

from sqlalchemy import select

from eventreg.extensions import db
from eventreg.models import Event, Registration

FIELDS = (Registration.family_name, Registration.given_name, Registration.family_kana,
          Registration.given_kana, Registration.organization, Registration.department)


def badge_characters(event: Event) -> str:
    """The distinct characters, sorted (the same set gives the same string, so the same fonts)."""
    seen = set(event.title)
    for row in db.session.execute(select(*FIELDS).where(Registration.event_id == event.id)):
        for value in row:
            seen.update(value or "")
    return "".join(sorted(seen))
