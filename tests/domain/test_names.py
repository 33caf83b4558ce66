"""domain.people.names: the order of a name, and when furigana is needed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventreg.domain.errors import DomainError
from eventreg.domain.people import fields, names


@pytest.mark.parametrize(("family", "given", "lang", "shown"), [
    ("Schmidt", "Anna", "en", "Anna Schmidt"),
    ("Schmidt", "Anna", "ja", "Schmidt Anna"),
    ("山田", "太郎", "en", "山田 太郎"),
    ("山田", "太郎", "ja", "山田 太郎"),
    ("やまだ", "Taro", "en", "やまだ Taro"),  # any Japanese script: family first
    ("김", "민준", "en", "김 민준"),  # Hangul: family first too
    ("Иванов", "Иван", "en", "Иван Иванов"),
    ("Nguyễn", "Văn An", "en", "Văn An Nguyễn"),
    ("Schmidt", "", "en", "Schmidt"),
])
def test_display_name(family, given, lang, shown):
    assert names.display_name(family, given, lang) == shown


latin = st.text(st.characters(min_codepoint=0x41, max_codepoint=0x7A, whitelist_categories=("Lu", "Ll")),
                min_size=1, max_size=20)
kanji = st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=1, max_size=10)


@given(latin, latin)
def test_latin_names_swap_in_english_only(family, given):
    assert names.display_name(family, given, "en") == f"{given} {family}"
    assert names.display_name(family, given, "ja") == f"{family} {given}"
    assert not names.needs_kana(family, given)


@given(kanji, st.one_of(kanji, latin), st.sampled_from(["ja", "en"]))
def test_japanese_names_are_family_first_in_every_language(family, given, lang):
    assert names.display_name(family, given, lang) == f"{family} {given}"
    assert names.needs_kana(family, given)


def person(**overrides):
    values = {"family_name": "山田", "given_name": "花子", "family_kana": "ヤマダ", "given_kana": "ハナコ",
              "email": "a@example.org", "sector": "npo"}
    values.update(overrides)
    return values


def test_furigana_is_optional_for_a_latin_name():
    cleaned = fields.clean_person(person(family_name="Schmidt", given_name="Anna", family_kana="", given_kana=""))
    assert (cleaned["family_kana"], cleaned["given_kana"]) == ("", "")


def test_furigana_is_required_for_a_japanese_name():
    with pytest.raises(fields.InvalidFields) as caught:
        fields.clean_person(person(family_kana="", given_kana=""))
    assert {name: e.code for name, e in caught.value.errors.items()} == {
        "family_kana": "kana_required", "given_kana": "kana_required"}


def test_a_too_long_name_says_its_limit():
    with pytest.raises(fields.InvalidFields) as caught:
        fields.clean_person(person(family_name="あ" * 51))
    error = caught.value.errors["family_name"]
    assert isinstance(error, DomainError) and (error.code, error.detail) == ("too_long", "50")
