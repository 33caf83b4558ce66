"""五十音 order: one sort key, in dictionary order, and the row headings (あ行 … わ行, 他) that go with it.

Every list of people is in this order: the attendee list and its API, the exports, the 受付名簿 PDF,
the badge sheet, the desk's search and the building's 入館者リスト. The key is stored per
registration (``Registration.sort_key``, written by domain.people.person_keys), so SQL ``ORDER BY
sort_key`` and Python ``sorted(key=…)`` agree; it compares by code point (PostgreSQL's "C"
collation, SQLite's BINARY).

The rule, after JIS X 4061 (日本語文字列照合順番), for the reading (the furigana; a person without
furigana is read by their name):

1. Letters are first compared as their plain form: voiced and semi-voiced marks dropped, small
   kana read as large, ヴ as ウ, ー as the vowel it lengthens (ターナー is read タアナア, キョー
   キヨオ, ラーメン ラアメン; ー after ン stays ン), ヽ as the letter before it. So ハツカ comes before
   ハットリ (ハツカ < ハツト), キヨイ before キョウ (キヨイ < キヨウ), ヴァン among the ウ (before
   オーノ), ターナー before タカハシ.
2. Then, where the plain forms are equal, the marks from the first letter on: plain < voiced (゛)
   < semi-voiced (゜): ハン < バン < パン.
3. Then the size: small before large, as JIS X 4061 has it: キョウ < キヨウ, ハッタ < ハツタ.
4. Then how a sound is written: a letter before ー or ヽ for the same sound: オオノ < オーノ.
   (Hiragana vs katakana, JIS X 4061's last level, never decides: furigana is stored as katakana.)

The family name's reading is compared first, completely (all four levels), then the given
name's, then the written name: people of one family name stay together. A reading that does not
start with a kana (Latin letters, an empty one) comes after わ行, under 他, ordered by code point.

The key is a string: for each part, level 1 (one plain letter per kana; ``NON_KANA`` + the
character for anything else), then levels 2–4 as digits, separated by spaces, which sort below
every letter and digit; parts are separated by ``PART``. A row of the 五十音 is then a range of keys
(``row_range``), so the desk's row filter, the headings and the order cannot disagree.
"""

from __future__ import annotations

import unicodedata

from eventreg.domain.people.kana import ITERATION, LETTERS, LONG_VOWEL, VOICED_ITERATION, to_katakana, vowel

NON_KANA = "\uf8ff"  # a private-use character (never stored: text cleaning refuses them), above every kana
LEVEL = " "
PART = " / "
_IGNORED = {"・", " "}

# The rows, each as its first plain letter; a row ends where the next starts, わ行 at NON_KANA.
ROWS = {"a": "ア", "ka": "カ", "sa": "サ", "ta": "タ", "na": "ナ", "ha": "ハ", "ma": "マ", "ya": "ヤ",
        "ra": "ラ", "wa": "ワ"}
HEADINGS = {"a": "あ行", "ka": "か行", "sa": "さ行", "ta": "た行", "na": "な行", "ha": "は行", "ma": "ま行",
            "ya": "や行", "ra": "ら行", "wa": "わ行"}
OTHER = "他"  # a reading that starts with no kana
ALL_HEADINGS = [*HEADINGS.values(), OTHER]


def _units(reading: str) -> list[tuple[str, int, int, int]]:
    """(level-1 text, mark, size, written) per character of the reading."""
    units: list[tuple[str, int, int, int]] = []
    previous = None  # the plain letter of the previous kana, for ー and ヽ
    for ch in to_katakana(reading):
        if ch in _IGNORED:
            continue
        letter = LETTERS.get(ch)
        if letter is not None:
            previous = letter.plain
            units.append((letter.plain, letter.mark, 0 if letter.small else 1, 0))
        elif ch == LONG_VOWEL and previous is not None:
            previous = vowel(previous)
            units.append((previous, 0, 1, 1))
        elif ch in (ITERATION, VOICED_ITERATION) and previous is not None:
            units.append((previous, 1 if ch == VOICED_ITERATION else 0, 1, 1))
        else:
            previous = None
            units.append((NON_KANA + unicodedata.normalize("NFKC", ch).casefold(), 0, 1, 0))
    return units


def reading_key(reading: str) -> str:
    """The key of one reading (a family or a given name's furigana), levels 1 to 4."""
    units = _units(reading)
    if not units:
        return ""
    levels = ["".join(u[0] for u in units)]
    levels += ["".join(str(u[i]) for u in units) for i in (1, 2, 3)]
    return LEVEL.join(levels)


def sort_key(family_kana: str | None, given_kana: str | None, family_name: str | None = "",
             given_name: str | None = "") -> str:
    """The person's key: the family reading, then the given reading, then the written name. A
    person without furigana is read by their name."""
    if not (family_kana or given_kana):
        family_kana, given_kana = family_name, given_name
    name = unicodedata.normalize("NFKC", f"{family_name or ''} {given_name or ''}").casefold()
    # No reading at all (a deleted person's row): with the other non-kana, after わ行.
    family = reading_key(family_kana or "") or NON_KANA
    return PART.join((family, reading_key(given_kana or ""), name))


def display_sort_key(kana: str, name: str) -> str:
    """The key of a person given as display strings ("ヤマダ ハナコ", "山田 花子"), as the building
    lists store them. Furigana has no inner spaces, so the first space splits family from given."""
    family_kana, _, given_kana = (kana or "").strip().partition(" ")
    family_name, _, given_name = (name or "").strip().partition(" ")
    return sort_key(family_kana, given_kana, family_name, given_name)


def row_of(key: str) -> str:
    """The row key ("a" … "wa") of a sort key, or "" for 他."""
    first = key[:1]
    found = ""
    for row, letter in ROWS.items():
        if letter <= first < NON_KANA:
            found = row
    return found


def heading(key: str) -> str:
    """The heading of a sort key's row: "あ行" … "わ行", or "他"."""
    return HEADINGS.get(row_of(key), OTHER)


def row_range(row: str) -> tuple[str, str]:
    """The keys of a row as a half-open range [low, high): for SQL ``key >= low AND key < high``."""
    rows = list(ROWS)
    following = rows.index(row) + 1
    return ROWS[row], ROWS[rows[following]] if following < len(rows) else NON_KANA

