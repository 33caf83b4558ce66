"""The table of field titles and sector names (domain.people.field_words) in the page's language,
for forms, pages and exports. Lazy, so a form class built at import reads the request's language."""

from __future__ import annotations

from flask_babel import LazyString, get_locale

from ..domain.people import field_words


def page_language() -> str:
    return field_words.language(str(get_locale() or "ja"))


def field_title(key: str) -> LazyString:
    return LazyString(lambda: field_words.field_title(key, page_language()))


def sector_name(code) -> LazyString:
    return LazyString(lambda: field_words.sector_name(code, page_language()))


# (code, name) for radio buttons and filters, in the form's order.
SECTORS = [(code, sector_name(code)) for code, _ in field_words.sector_choices("ja")]


def sector_names() -> dict[str, str]:
    """code -> name in the page's language."""
    return dict(field_words.sector_choices(page_language()))


def field_titles() -> dict[str, str]:
    """key -> title in the page's language."""
    return dict(field_words.FIELD_TITLES[page_language()])
