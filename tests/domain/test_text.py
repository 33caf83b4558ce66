"""domain.people.text: names need visible letters, no emoji, no pile of marks; email is deliverable."""

from __future__ import annotations

import pytest

from eventreg.domain.errors import DomainError
from eventreg.domain.people import text


def refused(value, **kw) -> tuple[str, str]:
    with pytest.raises(DomainError) as caught:
        text.clean_name(value, max_length=kw.pop("max_length", 50), **kw)
    return caught.value.code, caught.value.detail


# ---- names: what used to be stored -------------------------------------------------------------

@pytest.mark.parametrize("value, code", [
    ("\u3164", "invisible_characters"),            # Hangul filler, alone
    ("\u3164\u3164\u3164", "invisible_characters"),
    ("\u2800", "invisible_characters"),            # braille blank
    ("\u115f\u1160", "invisible_characters"),
    ("\uffa0", "invisible_characters"),            # half-width Hangul filler
    ("山田\u3164", "invisible_characters"),         # hidden inside a real name too
    ("a" + "\u0301" * 30, "stacked_marks"),        # 30 stacked combining marks (Zalgo)
    ("e\u0301\u0302\u0303\u0304", "stacked_marks"),
    ("\u0301abc", "stacked_marks"),                 # a mark with no base character
    ("山田 \u3099", "stacked_marks"),
    ("\ufffd", "replacement_character"),
    ("山\ufffd田", "replacement_character"),
    ("・", "no_visible_letters"),
    ("--- ...", "no_visible_letters"),
    ("😀", "emoji"),
])
def test_names_without_visible_letters_are_refused(value, code):
    assert refused(value)[0] == code


def test_an_invisible_character_is_named_as_typed():
    assert refused("\u3164") == ("invisible_characters", "\u3164")  # not the U+1160 NFKC makes of it


@pytest.mark.parametrize("value, emoji", [
    ("山田😀", "😀"), ("🇯🇵", "🇯🇵"), ("❤️", "❤️"), ("1️⃣", "1️⃣"), ("👍🏽さん", "👍🏽"),
    ("👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧"),  # ZWJ sequence: an emoji, not a control character
    ("🈁", "🈁"),
])
def test_emoji_are_refused_and_named(value, emoji):
    assert refused(value) == ("emoji", emoji)


# ---- names: legitimate input keeps working -----------------------------------------------------

@pytest.mark.parametrize("value, stored", [
    ("ヴァン", "ヴァン"),
    ("ｳﾞｧﾝ", "ヴァン"),                                # half-width + voiced mark: NFKC composes
    ("ｱﾞ", "ア\u3099"),                                # no precomposed form: one mark is fine
    ("Nguye\u0302\u0303n Thi\u0323", "Nguyễn Thị"),   # Vietnamese: composed by NFKC
    ("a\u0301\u0301", "á\u0301"),                       # two marks on a base is the limit
    ("髙橋 﨑", "髙橋 﨑"),
    ("𠮷野", "𠮷野"),
    ("（株）ＡＢＣ", "(株)ABC"),
    ("①", "1"),
    ("佐々木", "佐々木"),
    ("葛\U000e0100城", "葛城"),                          # ideographic variation selector dropped
    ("☆★♪ 企画", "☆★♪ 企画"),                           # text-style symbols are not emoji
    ("김민준", "김민준"),
    ("", ""),                                          # optional fields stay optional
])
def test_legitimate_names_are_kept(value, stored):
    assert text.clean_name(value, max_length=50) == stored


def test_a_character_the_caller_cannot_print_is_refused_and_named():
    def covers(ch):
        return ch != "𣒺"

    assert text.clean_name("𠮷田", max_length=50, covers=covers) == "𠮷田"
    assert refused("𣒺田", covers=covers) == ("unprintable_character", "𣒺")


def test_clean_refuses_the_replacement_character_in_every_field():
    with pytest.raises(DomainError) as caught:
        text.clean("回答\ufffd", max_length=100, multiline=True)
    assert caught.value.code == "replacement_character"


def test_length_and_control_characters_still_apply():
    assert refused("佐" * 51)[0] == "too_long"
    assert refused("山田\u200b")[0] == "control_characters"


# ---- email -------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, stored", [
    ("Taro@Example.COM", "taro@example.com"),
    ("taro@例え.jp", "taro@xn--r8jz45g.jp"),                  # IDNA: what SMTP carries
    ("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ", "taro@example.jp"),          # full-width: NFKC first
    ("hanako@bücher.example", "hanako@xn--bcher-kva.example"),
])
def test_email_is_stored_in_its_deliverable_ascii_form(value, stored):
    assert text.normalize_email(value) == stored


@pytest.mark.parametrize("value", ["山田@example.jp", "josé@example.com", "ユーザー@例え.jp"])
def test_non_ascii_local_parts_are_refused(value):
    with pytest.raises(DomainError) as caught:
        text.normalize_email(value)
    assert caught.value.code == "email_not_ascii"


def test_the_same_idn_address_typed_twice_normalises_the_same():
    assert text.normalize_email("Taro@例え.JP") == text.normalize_email("taro@xn--r8jz45g.jp")
