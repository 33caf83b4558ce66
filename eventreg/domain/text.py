"""Normalisation and checks for what people type: names, furigana, email, phone.

Every function takes raw text and returns the stored form or raises DomainError.
NFKC first, so full-width Latin and half-width katakana become their ordinary forms.
"""

from __future__ import annotations

import re
import unicodedata

import jaconv
from email_validator import EmailNotValidError, validate_email

from .errors import DomainError

# Cc (controls), Cf (format: zero-width, bidi overrides), Cs/Co/Cn: never legitimate in a name.
_FORBIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}
_SPACES = re.compile(r"\s+")
# Katakana letters, the long vowel mark, the middle dot and iteration marks.
_KATAKANA = re.compile(r"^[\u30a1-\u30f6\u30fc\u30fb\u30fd\u30fe]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9\- ()]{5,24}$")


def clean(value: str | None, *, max_length: int, multiline: bool = False) -> str:
    """NFKC, trimmed, inner whitespace collapsed (kept as newlines when multiline)."""
    value = unicodedata.normalize("NFKC", value or "")
    allowed = {"\n", "\r", "\t"} if multiline else set()
    if any(
        unicodedata.category(ch) in _FORBIDDEN_CATEGORIES and ch not in allowed for ch in value
    ):
        raise DomainError("control_characters")
    if multiline:
        value = "\n".join(_SPACES.sub(" ", line).strip() for line in value.splitlines()).strip()
    else:
        value = _SPACES.sub(" ", value).strip()
    if len(value) > max_length:
        raise DomainError("too_long", str(max_length))
    return value


def normalize_kana(value: str | None, *, max_length: int = 50) -> str:
    """Furigana as full-width katakana: accepts hiragana and half-width katakana."""
    value = clean(value, max_length=max_length).replace(" ", "")
    value = jaconv.hira2kata(value)
    if value and not _KATAKANA.match(value):
        raise DomainError("not_katakana")
    return value


def normalize_email(value: str | None) -> str:
    value = clean(value, max_length=254)
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise DomainError("invalid_email", str(exc)) from None
    # Compared and stored lower-case: nobody registers twice by changing the case.
    return checked.normalized.lower()


def normalize_phone(value: str | None) -> str:
    value = clean(value, max_length=30)
    if value and not _PHONE.match(value):
        raise DomainError("invalid_phone")
    return value

