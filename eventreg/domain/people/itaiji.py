"""異体字 folding: the variant forms of a kanji that people's names are written with, read as the
common form, so that 高橋 finds 髙橋 and 髙橋 finds 高橋 (the search folds both sides).

A kept table, not a library. Of the packages on PyPI, ja-itaiji (a 16,000-entry table) joins
characters that are not variants of each other (濵 with 頻, 澤 with 途, 吉 with 桔), its groups are
not closed (so a common form cannot be chosen), it lacks 𠮷 and calls itself "planning"; kyujipy
knows the official 旧字体 ↔ 新字体 pairs only, not the 俗字 and extension characters that names
actually carry (髙 﨑 𠮷 濵 邉). A search that finds a stranger is worse than one that finds
nobody, so this table is small, reviewed by eye, and about names. Add a line when a person is
not found; tests/domain/test_people_search.py checks that the table is consistent.

What Unicode already says is not repeated: NFKC folds the compatibility ideographs (塚 U+FA10,
神 U+FA19, 隆 U+F9DC …) and ``fold`` drops variation selectors (葛 + U+E0100).
"""

from __future__ import annotations

# The common form (what people type) -> its variants in names.
VARIANTS = {
    "高": "髙",
    "崎": "﨑嵜碕",
    "辺": "邊邉",
    "斎": "齋斉齊",
    "浜": "濵濱",
    "徳": "德",
    "桜": "櫻",
    "沢": "澤",
    "広": "廣",
    "国": "國",
    "真": "眞",
    "恵": "惠",
    "竜": "龍",
    "島": "嶋嶌",
    "富": "冨",
    "吉": "𠮷",
    "桑": "桒",
    "曽": "曾",
    "槙": "槇",
    "関": "關",
    "滝": "瀧",
    "峰": "峯",
    "黒": "黑",
    "実": "實",
    "栄": "榮",
    "亜": "亞",
    "桧": "檜",
    "淵": "渕渊",
    "礼": "禮",
    "穂": "穗",
    "学": "學",
    "会": "會",
    "県": "縣",
    "条": "條",
    "寿": "壽",
    "弥": "彌",
    "芦": "蘆",
    "万": "萬",
    "与": "與",
    "遥": "遙",
    "顕": "顯",
    "巌": "巖",
    "来": "來",
    "瀬": "瀨",
    "将": "將",
    "壮": "壯",
    "団": "團",
    "伝": "傳",
    "円": "圓",
    "鉄": "鐵",
    "薮": "藪籔",
    "柳": "栁",
    "館": "舘",
    "恒": "恆",
    "壱": "壹",
    "継": "繼",
    "楽": "樂",
    "経": "經",
    "覚": "覺",
    "亀": "龜",
    "亘": "亙",
    "凛": "凜",
    "尭": "堯",
    "勲": "勳",
    "聡": "聰",
    "研": "硏",
    "剣": "劍劒",
    "塩": "鹽",
    "晃": "晄",
    "豊": "豐",
    "蔵": "藏",
    "蛍": "螢",
    "鶴": "靏",
    "鴎": "鷗",
}

FOLD = str.maketrans({variant: common for common, variants in VARIANTS.items() for variant in variants})


def fold(text: str) -> str:
    """Each variant in ``text`` replaced by its common form."""
    return text.translate(FOLD)
