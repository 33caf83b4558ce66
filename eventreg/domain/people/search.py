"""One search for people: the desk, the attendee list and both APIs find the same registrations.

A registration stores ``search_text`` (written by domain.people.person_keys on every insert and
change of a person's fields): its name, furigana, organization and email, each folded by ``fold``,
one per line. A query is folded the same way and split into words; every word must be found in
one of the lines (a word has no line break, so it never spans two fields).

``fold`` is what makes different spellings of the same person meet:
- NFKC: full-width Latin and half-width ｶﾀｶﾅ become their ordinary forms;
- hiragana as katakana: ひらがな, カタカナ and ｶﾀｶﾅ find each other;
- lower case (casefold), so the match is case-blind on both databases alike;
- 異体字 as their common form (domain.people.itaiji): 高橋 finds 髙橋 and the other way round;
- variation selectors and control characters dropped.

What a person types is matched literally: LIKE's wildcards (``%`` ``_``) and the escape character
are escaped, never stripped or interpreted, so ``taro_yamada`` finds taro_yamada@… and nothing else.
"""

from __future__ import annotations

import unicodedata

import jaconv
from sqlalchemy.sql import ColumnElement

from eventreg.domain.people import itaiji
from eventreg.models import Registration

MAX_QUERY = 100  # characters of a query that are looked at
MAX_WORDS = 8
_DROPPED = {"Cc", "Cf", "Cs", "Co", "Cn"}  # controls, format characters, surrogates, unassigned
_VARIATION_SELECTORS = {*map(chr, range(0xFE00, 0xFE10)), *map(chr, range(0xE0100, 0xE01F0))}


def fold(text: str | None) -> str:
    """The form in which stored text and typed text are compared."""
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(ch for ch in text if ch not in _VARIATION_SELECTORS and unicodedata.category(ch) not in _DROPPED)
    return itaiji.fold(jaconv.hira2kata(text.casefold()))


def search_text(family_name: str | None, given_name: str | None, family_kana: str | None,
                given_kana: str | None, organization: str | None, email: str | None) -> str:
    """What a registration is found by, as stored: one folded field per line."""
    fields = (f"{family_name or ''}{given_name or ''}", f"{family_kana or ''}{given_kana or ''}",
              organization or "", email or "")
    return "\n".join(fold(field) for field in fields)


def words(query: str | None) -> list[str]:
    """The folded words of a query (at most MAX_WORDS, from its first MAX_QUERY characters)."""
    return fold((query or "")[:MAX_QUERY]).split()[:MAX_WORDS]


def conditions(query: str | None) -> list[ColumnElement]:
    """WHERE conditions on Registration: every word of ``query`` is in its search text."""
    return [Registration.search_text.contains(word, autoescape=True) for word in words(query)]
