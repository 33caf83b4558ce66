"""Katakana as the search and the 五十音 order read it: one letter's plain form, its marks, its vowel.

Furigana is stored as full-width katakana (domain.people.text.normalize_kana); what people type
may be hiragana or half-width katakana, so everything that compares kana goes through
``to_katakana`` first. The letter tables are built from Unicode's own data (the canonical
decomposition of ガ is カ + the voiced mark; the name of ャ is "KATAKANA LETTER SMALL YA"), so no
hand-written table can miss a letter.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import jaconv

VOICED, SEMI_VOICED = "\u3099", "\u309a"  # the combining marks of ガ and パ
LONG_VOWEL = "ー"
ITERATION, VOICED_ITERATION = "ヽ", "ヾ"
# The plain letters, in 五十音 order (ヰ ヱ between ワ and ヲ): Unicode keeps them in this order.
PLAIN = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヰヱヲン"
_VOWELS = "アイウエオ"


@dataclass(frozen=True)
class Letter:
    plain: str  # the large, unmarked letter: ガ -> カ, ャ -> ヤ, ヴ -> ウ, ヶ -> ケ
    mark: int  # 0 plain, 1 voiced (゛), 2 semi-voiced (゜)
    small: bool  # ァ ィ ゥ ェ ォ ッ ャ ュ ョ ヮ ヵ ヶ


def to_katakana(value: str) -> str:
    """NFKC (half-width ｶﾞ becomes ガ), then hiragana as katakana, trimmed."""
    return jaconv.hira2kata(unicodedata.normalize("NFKC", value or "")).strip()


def _letter(ch: str) -> Letter | None:
    decomposed = unicodedata.normalize("NFD", ch)
    mark = {VOICED: 1, SEMI_VOICED: 2}.get(decomposed[1:], 0)
    name = unicodedata.name(decomposed[0], "")
    small = name.startswith("KATAKANA LETTER SMALL ")
    if small:
        decomposed = unicodedata.lookup(name.replace("SMALL ", ""))
    plain = decomposed[0]
    return Letter(plain, mark, small) if plain in PLAIN and len(decomposed) <= 2 else None


LETTERS: dict[str, Letter] = {
    ch: letter for ch in map(chr, range(0x30A1, 0x30FB)) if (letter := _letter(ch)) is not None
}


def vowel(plain: str) -> str:
    """The vowel that ー lengthens after ``plain``: カ -> ア, キ -> イ, ヤ -> ア; ン stays ン."""
    if plain == "ン":
        return "ン"
    position = PLAIN.index(plain)
    if plain in "ヤユヨ":  # the や row has three letters: ヤ ユ ヨ are a, u, o
        return "アウオ"["ヤユヨ".index(plain)]
    if plain in "ワヰヱヲ":
        return "アイエオ"["ワヰヱヲ".index(plain)]
    if position >= PLAIN.index("ラ"):  # ら row, after the short や row
        return _VOWELS[(position - PLAIN.index("ラ")) % 5]
    return _VOWELS[position % 5]
