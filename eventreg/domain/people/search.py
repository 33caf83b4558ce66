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

import sys
import unicodedata
from functools import cache

import jaconv
from sqlalchemy.sql import ColumnElement

from eventreg.domain.people import itaiji, text
from eventreg.domain.people.text import loose
from eventreg.models import Registration

MAX_QUERY = 100  # characters of a query that are looked at
MAX_WORDS = 8


def fold(text: str | None) -> str:
    """The form in which stored text and typed text are compared."""
    return itaiji.fold(jaconv.hira2kata(loose(text).casefold()))


def search_text(family_name: str | None, given_name: str | None, family_kana: str | None,
                given_kana: str | None, organization: str | None, email: str | None) -> str:
    """What a registration is found by, as stored: one folded field per line."""
    fields = (f"{family_name or ''}{given_name or ''}", f"{family_kana or ''}{given_kana or ''}",
              organization or "", email or "")
    return "\n".join(fold(field) for field in fields)


def without_email(stored: str) -> str:
    """A stored ``search_text`` less its email line (kept empty): what a desk's device may hold.
    The same text the server searches, so the device finds by name, furigana and organization
    exactly as the server does."""
    return "\n".join([*stored.split("\n")[:3], ""])


def words(query: str | None) -> list[str]:
    """The folded words of a query (at most MAX_WORDS, from its first MAX_QUERY characters)."""
    return fold((query or "")[:MAX_QUERY]).split()[:MAX_WORDS]


def conditions(query: str | None) -> list[ColumnElement]:
    """WHERE conditions on Registration: every word of ``query`` is in its search text."""
    return [Registration.search_text.contains(word, autoescape=True) for word in words(query)]


def _ranges(code_points: list[int]) -> list[int]:
    """Sorted code points as runs, flat and relative: start, length, gap to the next start, length …"""
    runs: list[list[int]] = []
    for cp in code_points:
        if runs and cp == runs[-1][0] + runs[-1][1]:
            runs[-1][1] += 1
        else:
            runs.append([cp, 1])
    flat, end = [], 0
    for start, length in runs:
        flat += [start - end, length]
        end = start + length
    return flat


def _changed(convert, chars: str) -> dict[str, str]:
    """The characters of ``chars`` that ``convert`` (one character to one, like str.translate)
    changes, found in one call over all of them (a conversion that changed the length fails)."""
    return {a: b for a, b in zip(chars, convert(chars), strict=True) if a != b}


@cache
def tables() -> dict:
    """What the desk's fold.js (static/desk/fold.js) needs to apply ``fold`` and ``words`` exactly
    as here, on a device without the server: computed from the rules above by running them over
    every code point, never copied, so a change here reaches the devices at their next sync.

    ``refused`` and ``selectors``: what ``loose`` drops (domain.people.text), as ``_ranges``;
    ``spaces``: what strip() and split() treat as space; ``casefold``: the characters whose
    casefold differs from lower() (the device lower-cases the others itself); ``kana``:
    hiragana -> katakana; ``itaiji``: variant -> common form; ``max_query``, ``max_words``.
    The device runs NFKC itself: Unicode keeps the normalization of assigned characters stable,
    and what this Python's Unicode has not assigned is ``refused`` (dropped before NFKC there).
    """
    refused, kept_chars = [], []  # one pass over the 1,114,112 code points (~0.4 s, once per process)
    for cp in range(sys.maxunicode + 1):
        if text.refused(ch := chr(cp)):
            refused.append(cp)
        else:
            kept_chars.append(ch)
    kept = "".join(kept_chars)
    return {
        "unicode": unicodedata.unidata_version,
        "refused": _ranges(refused),
        "selectors": _ranges([ord(ch) for ch in kept if text.variation_selector(ch)]),
        "spaces": "".join(ch for ch in kept if ch.isspace()),
        "casefold": {ch: ch.casefold() for ch in kept if ch.casefold() != ch.lower()},
        "kana": _changed(jaconv.hira2kata, kept),
        "itaiji": _changed(itaiji.fold, kept),
        "max_query": MAX_QUERY,
        "max_words": MAX_WORDS,
    }
