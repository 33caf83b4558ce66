"""Shared by the PDF tests: hard Japanese test data, a context builder, and poppler helpers."""

from __future__ import annotations

import re
import subprocess
from datetime import datetime, timezone

from eventreg.domain.registration.passes import sign_pass

PAYLOAD = sign_pass("a seed", 1, 1234, 1)  # a pass as printed: 163 digits, a version 5 QR code
TITLE = "NPO法人のための会計・税務実務セミナー ―― 寄附税制と髙﨑・齋藤・渡邉の実例で学ぶ"
NAME = "渡邊 真由美"
KANA = "わたなべ まゆみ"
ORGANIZATION = "特定非営利活動法人 ちば市民活動・市民事業サポートクラブ"
DEPARTMENT = "事業推進部"


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def make_ctx(*, event=None, session=None, attendee=None, qr_payload=PAYLOAD) -> dict:
    """A context as domain.registration.passes.pass_context builds it; each part can be partly overridden."""
    return {
        "token": "Zq3xY8vLm2Pk7sT1wR5nB4cD6fG9hJ0a",  # the management secret: never printed
        "qr_payload": qr_payload,
        "status": "confirmed",
        "event": {
            "id": 1, "slug": "kaikei-2019", "title": TITLE,
            "venue_name": "千葉市民活動支援センター 会議室A",
            "venue_address": "〒260-0013 千葉県千葉市中央区中央4-5-1 きぼーる15階",
            "access_notes": "JR千葉駅東口から徒歩10分。\n15階でエレベーターを降り、右手の受付へお越しください。",
            "organizer": "ちば市民活動・市民事業サポートクラブ", "contact_name": "事務局 齋藤",
            "contact_phone": "043-227-0000", "contact_email": "jimukyoku@example.org",
            "fee_note": "無料", "timezone": "Asia/Tokyo", "language": "ja",
            "url": "http://testserver/e/kaikei-2019",
            **(event or {}),
        },
        "session": {
            "id": 1, "title": "第1部 基礎編",
            "doors_at": utc(2019, 2, 8, 4, 30), "starts_at": utc(2019, 2, 8, 5, 0),
            "ends_at": utc(2019, 2, 8, 8, 0),
            **(session or {}),
        },
        "attendee": {
            "full_name": NAME, "full_kana": KANA, "organization": ORGANIZATION,
            "department": DEPARTMENT, "email": "mayumi@example.jp",
            **(attendee or {}),
        },
        "links": {},
    }


def run(*args) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def text_of(path) -> str:
    return run("pdftotext", "-enc", "UTF-8", str(path), "-")


def squeezed(text: str) -> str:
    """Text without any white space: wrapped CJK lines join up again."""
    return re.sub(r"\s+", "", text)


def page_count(path) -> int:
    return int(re.search(r"^Pages:\s+(\d+)", run("pdfinfo", str(path)), re.M).group(1))


def drawn_glyphs(pdf: bytes) -> list[tuple[str, int, str]]:
    """(character, glyph id, font name) of every character drawn in ``pdf``, read with PyMuPDF.
    Glyph id 0 is .notdef: the empty box a printer draws for a character the font lacks."""
    import pymupdf

    with pymupdf.open(stream=pdf, filetype="pdf") as document:
        return [(chr(c[0]), c[1], span["font"])
                for page in document for span in page.get_texttrace() for c in span["chars"]]


def missing_glyphs(pdf: bytes) -> list[tuple[str, str]]:
    """The characters drawn as .notdef, with their font."""
    return [(ch, font) for ch, gid, font in drawn_glyphs(pdf) if gid == 0 and not ch.isspace()]


def chain_postscript_names() -> set[str]:
    """The PostScript names of the font chain's files (adapters.fonts), as a PDF names a font."""
    from fontTools.ttLib import TTFont

    from eventreg.adapters import fonts

    names = set()
    for font in fonts.chain_fonts():
        with TTFont(font.file, fontNumber=font.index, lazy=True) as ttf:
            names.add(ttf["name"].getDebugName(6))
    return names


def assert_drawn_by_the_chain(pdf: bytes, value: str) -> None:
    """Every character of ``value`` is drawn in ``pdf`` with a real glyph (not id 0) of a font of
    the chain; whichever typesetter made it (typst names a font 'ABCDEF+IPAexGothic' or
    'ABCDEF+NotoSansCJKjp-Regular-Identity-H')."""
    assert missing_glyphs(pdf) == []
    chain = chain_postscript_names()
    drawn = {ch: font for ch, gid, font in drawn_glyphs(pdf) if gid != 0}
    for ch in set(value) - {" "}:
        assert ch in drawn, f"{ch!r} (U+{ord(ch):04X}) is not drawn"
        font = drawn[ch].split("+")[-1].removesuffix("-Identity-H")
        assert font in chain, f"{ch!r} drawn by {font}, outside the chain {sorted(chain)}"
