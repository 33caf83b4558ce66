"""Normalisation and checks for what people type: names, furigana, email, phone.

Every function takes raw text and returns the stored form or raises DomainError.
NFKC first, so full-width Latin and half-width katakana become their ordinary forms.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

import jaconv
import regex
from email_validator import EmailNotValidError, validate_email

from eventreg.domain.errors import DomainError

# Cc (controls), Cf (format: zero-width, bidi overrides), Cs/Co/Cn: never legitimate in a name.
_FORBIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}
_SPACES = re.compile(r"\s+")
# Katakana letters, the long vowel mark, the middle dot and iteration marks.
_KATAKANA = re.compile(r"^[\u30a1-\u30f6\u30fc\u30fb\u30fd\u30fe]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9\- ()]{5,24}$")

REPLACEMENT_CHARACTER = "\ufffd"  # what a decoder leaves of text it could not read
# A character shown as a colour emoji by default, a skin-tone modifier, the emoji presentation
# selector U+FE0F or the keycap mark U+20E3 (ZWJ and tags are Cf, refused as control characters).
# Text-style symbols (☆ ★ ♪ ☎ ©) are not emoji here: they print like letters when a font has them.
_EMOJI = regex.compile(r"[\p{Emoji_Presentation}\p{Emoji_Modifier}\uFE0F\u20E3]")
# Letters that draw nothing (Hangul fillers, which NFKC makes of U+3164 and U+FFA0 too, the braille
# blank, Khmer inherent vowels, Mongolian selectors, the grapheme joiner, the object placeholder):
# the rest of Unicode's default-ignorable characters are Cf and refused already.
_INVISIBLE = regex.compile(r"[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u2800\u3164\uffa0\ufffc]")
# Variation selectors (VS1–VS15 and the ideographic ones, e.g. 葛 + U+E0100): dropped, the base
# character is kept. The PDFs, CP932 exports and most mail clients draw the default form anyway.
_VARIATION_SELECTORS = regex.compile(r"[\ufe00-\ufe0e\U000e0100-\U000e01ef]")
MAX_MARKS = 2  # combining marks on one base character after NFKC (Vietnamese ệ is composed: 0)
_MARKS = regex.compile(r"(^|\s|\P{M})([\p{Mn}\p{Me}]+)")


def refused(ch: str) -> bool:
    """A character no text may hold: a control, format, surrogate, private-use or unassigned one
    (``clean`` refuses it, ``loose`` drops it)."""
    return unicodedata.category(ch) in _FORBIDDEN_CATEGORIES


def variation_selector(ch: str) -> bool:
    """A variation selector: dropped, its base character kept."""
    return _VARIATION_SELECTORS.fullmatch(ch) is not None


def loose(value: str | None) -> str:
    """The lenient form of ``clean``, for what is looked up rather than stored (a search, a filter,
    an address typed at sign-in): NFKC, control and format characters and variation selectors
    dropped instead of refused (no column holds them, and PostgreSQL refuses a NUL), trimmed."""
    value = unicodedata.normalize("NFKC", value if isinstance(value, str) else "")
    value = _VARIATION_SELECTORS.sub("", value)
    return "".join(ch for ch in value if not refused(ch)).strip()


def clean(value: str | None, *, max_length: int, multiline: bool = False, fold: bool = True,
          keep_spacing: bool = False) -> str:
    """The one text cleaner: every field people type goes through it (the sign-up form, the API,
    staff forms, the event editor, the import, the desk's name).

    Refuses text a decoder could not read (``replacement_character``), control and invisible
    format characters (``control_characters``; NUL included; newlines and tabs only when
    ``multiline``) and text longer than ``max_length`` (``too_long``, detail: the limit).
    ``fold``: NFKC first, so full-width Latin and half-width katakana become their ordinary forms
    (off for an organizer's prose, kept as written). Whitespace is trimmed and collapsed; with
    ``keep_spacing`` a multiline text keeps its lines as typed (Markdown indentation).
    """
    value = value or ""
    if fold:
        value = unicodedata.normalize("NFKC", value)
    if REPLACEMENT_CHARACTER in value:
        raise DomainError("replacement_character")
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    allowed = {"\n", "\t"} if multiline else set()
    if any(refused(ch) and ch not in allowed for ch in value):
        raise DomainError("control_characters")
    if multiline and keep_spacing:
        value = value.strip()
    elif multiline:
        value = "\n".join(_SPACES.sub(" ", line).strip() for line in value.splitlines()).strip()
    else:
        value = _SPACES.sub(" ", value).strip()
    if len(value) > max_length:
        raise DomainError("too_long", str(max_length))
    return value


def clean_name(value: str | None, *, max_length: int, covers: Callable[[str], bool] | None = None) -> str:
    """A name, an organization or a department: ``clean``, then refused when it holds an emoji,
    an invisible letter, a combining mark without a base or more than MAX_MARKS on one character,
    a character that ``covers`` (the PDF fonts, given by the caller) cannot draw, or no visible
    letter or digit at all. Variation selectors are dropped.

    Errors name what they found in ``detail``: emoji, invisible_characters, stacked_marks,
    unprintable_character; no_visible_letters has none.
    """
    # Emoji first: a ZWJ sequence (👨‍👩‍👧) would otherwise be refused as a control character.
    # As typed too: NFKC turns 🈁 into ココ.
    raw = value or ""
    for form in (raw, unicodedata.normalize("NFKC", raw)):
        if _EMOJI.search(form):
            raise DomainError("emoji", next(g.group() for g in regex.finditer(r"\X", form) if _EMOJI.search(g.group())))
    value = clean(raw, max_length=max_length)
    # Named as typed: NFKC turns U+3164 into U+1160.
    if found := _INVISIBLE.search(raw) or _INVISIBLE.search(value):
        raise DomainError("invisible_characters", found.group())
    value = _VARIATION_SELECTORS.sub("", value)
    for found in _MARKS.finditer(value):
        base, marks = found.group(1), found.group(2)
        if not base or base.isspace() or len(marks) > MAX_MARKS:
            raise DomainError("stacked_marks", found.group().strip())
    if covers is not None:
        for ch in dict.fromkeys(value):
            if not ch.isspace() and not covers(ch):
                raise DomainError("unprintable_character", ch)
    if value and not any(unicodedata.category(ch)[0] in "LN" for ch in value):
        raise DomainError("no_visible_letters")
    return value


def normalize_kana(value: str | None, *, max_length: int = 50) -> str:
    """Furigana as full-width katakana: accepts hiragana and half-width katakana."""
    value = clean(value, max_length=max_length).replace(" ", "")
    value = jaconv.hira2kata(value)
    if value and not _KATAKANA.match(value):
        raise DomainError("not_katakana")
    return value


@lru_cache(maxsize=256)  # a sign-up asks twice (its rate limit's key, then the form): one check
def normalize_email(value: str | None) -> str:
    """An address our mail can deliver, stored lower-case with an internationalized domain in its
    ASCII (IDNA) form: ``山田@例え.jp`` is refused (email_not_ascii: a non-ASCII local part needs
    SMTPUTF8, which neither our sending path nor most receiving servers promise), while
    ``taro@例え.jp`` is stored as ``taro@xn--r8jz45g.jp``."""
    value = clean(value, max_length=254)
    local = value.rpartition("@")[0]
    if not local.isascii():
        raise DomainError("email_not_ascii")
    try:
        checked = validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise DomainError("invalid_email", str(exc)) from None
    # Compared and stored lower-case: nobody registers twice by changing the case.
    return (checked.ascii_email or checked.normalized).lower()


def email_key(value: str | None) -> str:
    """The form an address is looked up by (sign-in, the command line): ``normalize_email``'s, so
    ``taro@例え.jp`` finds the account stored as ``taro@xn--r8jz45g.jp``. Text that is no address
    keeps a lower-case form without control characters: it finds nobody and fails like a wrong password."""
    try:
        return normalize_email(value)
    except DomainError:
        return loose(value).lower()[:254]


def normalize_phone(value: str | None) -> str:
    value = clean(value, max_length=30)
    if value and not _PHONE.match(value):
        raise DomainError("invalid_phone")
    return value

