"""Finds lines of a plain-text email that end in the middle of a sentence (shared by the template
test and the rendered-email test)."""

from __future__ import annotations

import re
import unicodedata

_TAGS = re.compile(r"\{%.*?%\}|\{#.*?#\}")
_EXPRESSION = re.compile(r"\{\{.*?\}\}")
_URL = re.compile(r"https?://\S+$")


def mid_sentence(line: str) -> bool:
    """A line that ends in a letter or a comma while it reads as a sentence (long, or with
    punctuation inside): headings ("Venue", "■ 会場"), list items, URLs and data lines are not."""
    text = _TAGS.sub("", line).rstrip()
    if not text or _URL.search(text) or text.endswith(("}}", ":", "：")):
        return False
    if text.lstrip().startswith(("■", "※", "・", "-", "―", "--", "Dear ")) or ": " in text:
        return False  # headings, notes, list items, a salutation, "label: value"
    last = text[-1]
    if last in "、,":
        return True
    if not unicodedata.category(last).startswith("L"):
        return False
    prose = _EXPRESSION.sub("x", text).strip()
    return len(prose) > 40 or any(mark in prose for mark in "、,。.")


def broken_lines(body: str) -> list[str]:
    return [line for line in body.splitlines() if mid_sentence(line)]
