"""How a person's name is written for people: the order of family and given name, and whether
furigana is needed. One rule, used by every page, email, pass and badge (docs/english-and-names.md).

- A name containing Japanese script (kanji, hiragana, katakana) or Hangul is always written family
  name first: 「山田 太郎」, in Japanese and in English.
- Any other name (Latin, Cyrillic, Greek …) is written given name first where the text is English
  ("Anna Schmidt"), and family name first in Japanese ("Schmidt Anna"), like a Japanese list.
- Furigana is required when the name contains Japanese script, optional otherwise; a name without
  furigana sorts under 他 in 五十音 order, then by its Latin letters.
"""

from __future__ import annotations

import regex

_JAPANESE = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}]")
_FAMILY_FIRST = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}]")


def has_japanese(*parts: str | None) -> bool:
    """Whether any part holds kanji, hiragana or katakana."""
    return any(_JAPANESE.search(part or "") for part in parts)


def needs_kana(family: str | None, given: str | None) -> bool:
    """Furigana is required for a name written (partly) in Japanese script."""
    return has_japanese(family, given)


def given_first(family: str | None, given: str | None, lang: str | None) -> bool:
    return (lang or "ja") == "en" and not any(_FAMILY_FIRST.search(p or "") for p in (family, given))


def display_name(family: str | None, given: str | None, lang: str | None) -> str:
    """「山田 太郎」, "Anna Schmidt" (English), "Schmidt Anna" (Japanese); one part alone if the
    other is empty."""
    parts = (given, family) if given_first(family, given, lang) else (family, given)
    return " ".join(p for p in parts if p)


def display_kana(family_kana: str | None, given_kana: str | None) -> str:
    """The furigana, family first (as the name it reads in Japanese); "" when there is none."""
    return " ".join(p for p in (family_kana, given_kana) if p)
