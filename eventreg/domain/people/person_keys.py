"""The two keys stored with each registration, written here and nowhere else.

- ``search_text``: what the one search matches (domain.people.search);
- ``sort_key``: its place in 五十音 order (domain.people.gojuon).

Both are functions of the person's fields, so every insert passes its values through ``keys`` and
every change of those fields calls ``refresh``; a migration backfills existing rows with the same
functions. The columns are NOT NULL without a default: an insert that forgets them fails loudly.
"""

from __future__ import annotations

from collections.abc import Mapping

from eventreg.domain.people import gojuon, search
from eventreg.models import Registration

# The fields the keys are made of.
SOURCES = ("family_name", "given_name", "family_kana", "given_kana", "organization", "email")


def keys(person: Mapping) -> dict[str, str]:
    """{"search_text": …, "sort_key": …} of a person's values (a dict of Registration fields)."""
    get = person.get
    return {
        "search_text": search.search_text(*(get(name) for name in SOURCES)),
        "sort_key": gojuon.sort_key(get("family_kana"), get("given_kana"), get("family_name"), get("given_name")),
    }


def with_keys(person: Mapping) -> dict:
    """The values of an insert, with the keys added."""
    return {**person, **keys(person)}


def refresh(registration: Registration) -> None:
    """Recomputes the keys of a registration whose fields were changed in Python."""
    for name, value in keys({name: getattr(registration, name) for name in SOURCES}).items():
        setattr(registration, name, value)
