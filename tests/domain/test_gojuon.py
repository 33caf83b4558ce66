"""The one 五十音 key (domain.people.gojuon): dictionary order after JIS X 4061, and its row headings."""

from __future__ import annotations

import pytest

from eventreg.domain.people import gojuon


def key(family_kana: str, given_kana: str = "", family_name: str = "", given_name: str = "") -> str:
    return gojuon.sort_key(family_kana, given_kana, family_name, given_name)


@pytest.mark.parametrize(("first", "second"), [
    # The pairs: code-point order had each of them the other way round.
    ("ヴァン", "オーノ"),      # ヴ is ウ with a voiced mark: among the ウ
    ("ターナー", "タカハシ"),  # ー lengthens the vowel before it: タアナア < タカハシ
    ("ハツカ", "ハットリ"),    # ッ is read ツ first: ハツカ < ハツト
    ("キヨイ", "キョウ"),      # ョ is read ヨ first: キヨイ < キヨウ
    # Level 2, marks: plain < voiced < semi-voiced, from the first letter on.
    ("ハン", "バン"),
    ("バン", "パン"),
    ("カトウ", "ガトウ"),
    ("ガトウ", "カトウア"),    # the plain letters decide before any mark
    ("カキ", "カギ"),
    ("ウエノ", "ヴエノ"),
    # Level 3, size: small before large.
    ("キョウ", "キヨウ"),
    ("ハッタ", "ハツタ"),
    # Level 4, how a sound is written: the letter before ー, ヽ.
    ("オオノ", "オーノ"),
    ("ササキ", "サヽキ"),
    ("サヽキ", "ササギ"),      # a mark (level 2) outranks how it is written (level 4)
    # Length: a prefix first.
    ("ヤマ", "ヤマダ"),
    ("ヤマダ", "ヤマダア"),
    # ー after ョ, ン, ー.
    ("キョウコ", "キョーコ"),
    ("コーン", "コオンア"),
    ("シンア", "シンー"),      # ー after ン stays ン: シンア < シンン
    # Rows and the end of the syllabary.
    ("ワタナベ", "ヰノ"),
    ("ヱモト", "ヲノ"),
    ("ヲノ", "ンジャイ"),
    ("ンジャイ", "Anna"),      # no kana: after わ行
    ("Anna", "anne"),          # case-blind
    ("ーノ", "ヽノ"),          # ー or ヽ with nothing before: not kana, 他
])
def test_dictionary_order(first, second):
    assert key(first) < key(second)
    assert sorted([second, first], key=key) == [first, second]


@pytest.mark.parametrize(("first", "second"), [
    (("ヤマダ", "ハナコ"), ("ヤマダア", "アイ")),   # the family reading first, completely
    (("ヤマダ", "アイ"), ("ヤマダ", "ハナコ")),     # then the given reading
    (("ヤマタ", "ジロウ"), ("ヤマダ", "アキラ")),   # a mark in the family name outranks the given name
    (("ヤマダ", ""), ("ヤマダ", "ア")),
])
def test_family_reading_before_given_reading(first, second):
    assert key(*first) < key(*second)


def test_the_written_name_breaks_ties():
    assert key("ヤマダ", "ハナコ", "山田", "花子") < key("ヤマダ", "ハナコ", "山田", "華子")


@pytest.mark.parametrize("same", ["やまだ", "ﾔﾏﾀﾞ", "ヤマダ", " ヤマダ ", "ヤ・マダ"])
def test_every_form_of_a_reading_has_one_key(same):
    assert key(same) == key("ヤマダ")


def test_a_person_without_furigana_is_read_by_the_name():
    assert key("", "", "Smith", "John") == key("Smith", "John", "Smith", "John")
    assert gojuon.heading(key("", "", "Smith", "John")) == gojuon.OTHER
    assert gojuon.heading(key("", "", "アンナ", "")) == "あ行"  # a name in kana sorts in its row
    assert key("", "") > key("ン")  # nothing at all: last


@pytest.mark.parametrize(("reading", "heading"), [
    ("アオキ", "あ行"), ("ヴィクトリア", "あ行"), ("ォノ", "あ行"), ("がとう", "か行"), ("ｶﾞﾄｳ", "か行"),
    ("ヶ谷", "か行"), ("ヵ", "か行"), ("ザイツ", "さ行"), ("ヂ", "た行"), ("ッ", "た行"), ("ノダ", "な行"),
    ("パク", "は行"), ("ミウラ", "ま行"), ("ャ", "や行"), ("リン", "ら行"), ("ヮ", "わ行"), ("ヰノ", "わ行"),
    ("ヲノ", "わ行"), ("ン", "わ行"), ("ヺ", "わ行"), ("", "他"), ("ー", "他"), ("Smith", "他"), ("山田", "他"),
])
def test_headings(reading, heading):
    assert gojuon.heading(key(reading)) == heading


def test_rows_are_ranges_of_the_key_in_order():
    """The desk's row filter (a key range), the headings and the order cannot disagree."""
    readings = ["アオキ", "ヴァン", "オーノ", "カトウ", "ガトウ", "ヶ谷", "サトウ", "ダテ", "タナカ", "ッ", "ナカ",
                "パク", "ハセガワ", "マツモト", "ャ", "ヤマダ", "ヨシダ", "ラン", "ワタナベ", "ヰノ", "ヲノ", "ン", "Smith"]
    keys = sorted(key(r) for r in readings)
    headings = [gojuon.heading(k) for k in keys]
    assert headings == sorted(headings, key=gojuon.ALL_HEADINGS.index)
    for row, name in gojuon.HEADINGS.items():
        low, high = gojuon.row_range(row)
        assert [k for k in keys if low <= k < high] == [k for k in keys if gojuon.heading(k) == name]


def test_display_strings_give_the_stored_key():
    """Sent building lists keep "ヤマダ ハナコ" / "山田 花子": the same key as the fields."""
    assert gojuon.display_sort_key("ヤマダ ハナコ", "山田 花子") == key("ヤマダ", "ハナコ", "山田", "花子")
    assert gojuon.display_sort_key(" ", "Anna Schmidt") == key("", "", "Anna", "Schmidt")
