"""The words for what a registration holds: each field's title and each sector's name, in Japanese
and English. One table for every place a person reads them: the sign-up form, the desk's walk-in
form, the attendee list and a registration's page, exports, statistics, the reception PDF and the
building's visitor list (入館者リスト).

A plain ja/en table in the domain rather than Babel catalogs, because the visitor list is made by
the scheduled task (no request, so no page language) in the *event's* language, and its values are
frozen when sent; the domain cannot use Flask-Babel. Pages read the same table in the page's
language (eventreg.web.field_words). A third language is a third column here.
"""

from __future__ import annotations

from eventreg.models import Sector

LANGUAGES = ("ja", "en")

# Every field a person fills in, and the combined columns lists show (name, kana).
FIELD_TITLES = {
    "ja": {
        "name": "氏名", "kana": "フリガナ", "family_name": "姓", "given_name": "名",
        "family_kana": "セイ(フリガナ)", "given_kana": "メイ(フリガナ)", "email": "メールアドレス",
        "phone": "電話番号", "organization": "会社名・団体名", "department": "部署・役職",
        "sector": "所属区分", "session": "参加する回",
    },
    "en": {
        "name": "Name", "kana": "Furigana", "family_name": "Family name", "given_name": "Given name",
        "family_kana": "Family name (furigana)", "given_kana": "Given name (furigana)", "email": "Email",
        "phone": "Phone", "organization": "Organization", "department": "Department / title",
        "sector": "Sector", "session": "Session",
    },
}

# In the form's order (Sector's order).
SECTOR_NAMES = {
    "ja": {"company": "企業", "npo": "NPO・NGO", "government": "行政・自治体", "university": "大学・研究機関",
           "individual": "個人", "other": "その他"},
    "en": {"company": "Company", "npo": "NPO / NGO", "government": "Government",
           "university": "University / research", "individual": "Individual", "other": "Other"},
}

# Names a sector had in lists already sent; read as today's name, so a renamed sector is not a
# change of the people on a sent list (domain.communication.building_list compares values).
FORMER_SECTOR_NAMES = {"行政": "行政・自治体"}


def language(lang: str | None) -> str:
    """``lang`` when the table has it, else Japanese (the default language)."""
    return lang if lang in LANGUAGES else "ja"


def field_title(key: str, lang: str | None) -> str:
    return FIELD_TITLES[language(lang)][key]


def sector_name(code: Sector | str | None, lang: str | None) -> str:
    """The sector's name; "" for no sector."""
    if code is None or code == "":
        return ""
    return SECTOR_NAMES[language(lang)][Sector(code).value]


def sector_choices(lang: str | None) -> list[tuple[str, str]]:
    """(code, name) in the form's order."""
    return [(s.value, sector_name(s, lang)) for s in Sector]
