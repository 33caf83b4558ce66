"""Hard characters for the PDF fonts: what people put in names and organizations.

Each category is a string of characters in the form they are STORED (after domain.people.text's NFKC):
a half-width ｶﾞ typed in the form arrives here as ガ, ① as 1, （株） as (株). The raw inputs that
NFKC changes are in ``TYPED``, with what the form stores for them.

Print the coverage table of docs/fonts.md (font × category):

    .venv/bin/python tests/adapters/font_cases.py
"""

from __future__ import annotations

# Kanji outside the BMP that occur in Japanese names: JIS X 0213 plane 2 and 人名用漢字 variants
# (𠮷 つちよし, 𩸽 ほっけ, 𠮟 the 常用漢字 form of 叱, 𡈽, 𣘺 …), and CJK Ext. B–F characters of
# Chinese names.
NON_BMP = (
    "\U00020BB7\U00029E3D\U0002000B\U00020B9F\U0002A6B2\U00020089\U000200A2\U000200A4"
    "\U000201A2\U00020213\U0002032B\U00020381\U00020371\U000203F9\U0002044A\U00020509"
    "\U000205D6\U00020628\U0002074F\U00020807\U0002083A\U000208B9\U0002097C\U0002099D"
    "\U00020AD3\U00020B1D\U00020D45\U00020DE1\U00020E95\U00020E6D\U00020E64\U00020F5F"
    "\U0002123D\U0002131B\U0002146E\U000218BD\U000233CC\U000234BA\U00025771\U000269F2"
    "\U00026C21\U00028EF6\U0002A6B2\U0002B81C"
)
# 旧字体 and 異体字 of family names (髙橋, 山﨑, 德永, 濵田, 渡邊/渡邉, 齋藤/齊藤, 櫻井, 國分 …).
# 﨑 U+FA11 and 﨔 U+FA14 are unified ideographs inside the compatibility block: NFKC keeps them.
KYUJITAI = "髙﨑德濵邊邉齋齊櫻國澤廣眞惠龍榮藏凜彌條曻冨逹濱嶋嶌嵜槗舘﨔桒栁靜黑顯淸檜鷗𠮷"
# Kana, iteration marks and the marks that NFKC leaves of half-width forms (ｱﾞ → ア + U+3099).
KANA = "ヴヵヶゝゞヽヾ々〆〻ヿゟー・ぁゎゐゑヰヱヲ\u3099\u309a゛゜"
# Latin with diacritics: Hepburn macrons, Western/Central/Eastern European, Turkish, Vietnamese.
LATIN = (
    "āēīōūĀĒĪŌŪâêîôûéèëüöäñçåøæœßẞłŁńśźżšžčřěůőűșțăîđĐıİğşþðÿ"
    "ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹươƯƠ"
)
GREEK_CYRILLIC = "ΑαΒβΓγΔδΕεΖζΗηΘθΚκΛλΜμΞξΠπΡρΣσςΤτΦφΧχΨψΩωάέήίόύώϊϋΐ" "АаБбВвГгДдЁёЖжЗзИиЙйЛлФфЦцЧчШшЩщЪъЫыЬьЭэЮюЯяЇїЄєҐґІіЎў"
HANGUL = "김이박최정강조윤장임한오서신권황안송류홍전고문양손배백허유남심노하곽성차주우구민진지엄채원천방공현함변염여추도소석선설마길연위표명기반라왕금옥육인맹제모탁국어은편용예경봉사부가복태목형피두감호제갈"  # noqa: E501 (one string of sample glyphs)
CHINESE = (
    "张王李刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
    "陳黃劉張鄭謝蕭葉鍾賴鄧許曾蘇盧蔣羅鄒譚顧龔嚴錢湯喆堃昇玥珺镕䶮㐀"
)
# Punctuation and symbols of organization names, as stored (NFKC turns （株） into (株), ㈱ too).
PUNCTUATION = "・〜ー「」『』【】〔〕《》〈〉、。‐–—―‥…‘’“”〃〇○◯※〒♪☆★°℃¥€£&@#%+/:;!?()[]'\"-_.,~"

CATEGORIES = {
    "non-BMP kanji": NON_BMP,
    "旧字体・異体字": KYUJITAI,
    "kana, marks": KANA,
    "Latin diacritics": LATIN,
    "Greek, Cyrillic": GREEK_CYRILLIC,
    "Hangul": HANGUL,
    "Chinese (S/T)": CHINESE,
    "punctuation, symbols": PUNCTUATION,
}

# What people type → what the form stores (NFKC, whitespace collapsed).
TYPED = {
    "ﾜﾀﾅﾍﾞ ﾏﾕﾐ": "ワタナベ マユミ",
    "ｶﾞｷﾞｸﾞ": "ガギグ",
    "ＡＢＣ商事": "ABC商事",
    "（株）ＡＢＣ": "(株)ABC",
    "㈱ABC": "(株)ABC",
    "①支部": "1支部",
    "㍿エイビーシー": "株式会社エイビーシー",
    "ＮＰＯ法人　あいうえお": "NPO法人 あいうえお",
    "Nguye\u0302\u0303n": "Nguyễn",  # combining marks composed by NFKC
    "神奈川": "神奈川",  # U+FA19 → U+795E
}

# Names and organizations used by the rendering tests: one string per category, all accepted.
SAMPLE_NAMES = {
    "non-BMP kanji": "𠮷野 𩸽子 𠀋𠮟𪚲",
    "旧字体・異体字": "髙橋 﨑山 德永 濵田 渡邊 渡邉 齋藤 齊藤 櫻井 國分",
    "kana, marks": "ヴァン ゝゞヽヾ 佐々木 〆",
    "Latin diacritics": "Ōno Sātō Łukasz Ștefan Nguyễn Thị Ánh Đặng Iğdır Weiß",
    "Greek, Cyrillic": "Αλέξανδρος Παπαδόπουλος Иван Ёлкин Їжак",
    "Hangul": "김민준 이서연 박지훈",
    "Chinese (S/T)": "张伟 刘洋 陳黃劉 鄭謝蕭 朱镕基",
    "punctuation, symbols": "(株)ABC・〜ー「1支部」※〒 ☆★ 株式会社エイビーシー",
}


def coverage_table() -> str:
    """A Markdown table: each chain font, and the chain as a whole, against each category."""
    from eventreg.adapters import fonts

    chain = fonts.chain_fonts()
    header = "| category | chars | " + " | ".join(f.family for f in chain) + " | whole chain |"
    lines = [header, "|" + " --- |" * (len(chain) + 3)]
    for name, chars in CATEGORIES.items():
        chars = "".join(dict.fromkeys(chars))
        cells = []
        for font in [*chain, None]:
            missing = [ch for ch in chars if not (font.covers(ch) if font else fonts.covers(ch))]
            cells.append("all" if not missing else f"{len(chars) - len(missing)}/{len(chars)}, lacks "
                         + "".join(missing[:8]) + ("…" if len(missing) > 8 else ""))
        lines.append(f"| {name} | {len(chars)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    print(coverage_table())
