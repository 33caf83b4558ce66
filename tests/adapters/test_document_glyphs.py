"""Every hard character of docs/fonts.md (font_cases.py) prints with a real glyph of the chain on
the entry pass and on the reception list (typst): no .notdef (glyph id 0, read with PyMuPDF), and
the glyph comes from a font of the chain. A character no font has is shown to be caught."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from eventreg import create_app
from eventreg.web import documents

from . import font_cases
from .pdf_checks import assert_drawn_by_the_chain, make_ctx, missing_glyphs, utc

UNCOVERED = "\U000234BA"  # 𣒺: no font of the chain has it (the form refuses it)


@pytest.fixture(scope="module")
def app_ctx():
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True})
    with app.app_context(), force_locale("ja"):
        yield


def reception_ctx(people: list[tuple[str, str, str]]) -> dict:
    """domain.backoffice.exports.reception_list's context for ``people`` (kana, name, organization)."""
    return {
        "title": "受付名簿 𠮷野・髙﨑の会", "timezone": "Asia/Tokyo", "language": "ja", "venue": "きぼーる15階",
        "sessions": [{"title": "第1部", "doors_at": utc(2019, 2, 8, 4, 30), "starts_at": utc(2019, 2, 8, 5),
                      "ends_at": utc(2019, 2, 8, 8)}],
        "several_sessions": False,
        "groups": [{"heading": "あ行", "people": [
            {"kana": kana, "name": name, "organization": org, "department": org[:20], "session": "第1部"}
            for kana, name, org in people]}],
        "count": len(people), "made_at": utc(2019, 2, 1, 3),
    }


@pytest.mark.parametrize("category", list(font_cases.SAMPLE_NAMES))
def test_every_hard_character_prints_on_the_pass(app_ctx, category):
    name = font_cases.SAMPLE_NAMES[category]
    rendered = documents.pass_pdf(make_ctx(attendee={"full_name": name[:50], "organization": name}))
    assert_drawn_by_the_chain(rendered, name)


def test_every_hard_character_prints_on_the_reception_list(app_ctx):
    names = list(font_cases.SAMPLE_NAMES.values())
    rendered = documents.reception_list_pdf(reception_ctx([("ヨシノ ホッケコ", n[:50], n) for n in names]))
    for name in names:
        assert_drawn_by_the_chain(rendered, name)


def test_a_character_no_font_has_is_caught_on_both(app_ctx):
    """The check above can fail: 𣒺 prints as the empty box (glyph 0) on the pass and the list."""
    on_pass = documents.pass_pdf(make_ctx(attendee={"full_name": f"{UNCOVERED}田 一"}))
    on_list = documents.reception_list_pdf(reception_ctx([("タ ハジメ", f"{UNCOVERED}田 一", "")]))
    for rendered in (on_pass, on_list):
        assert len(missing_glyphs(rendered)) == 1
        with pytest.raises(AssertionError):
            assert_drawn_by_the_chain(rendered, f"{UNCOVERED}田")


def test_a_row_heading_never_ends_a_page(app_ctx):
    """Sweeping the first group's length moves the next row heading down the first page until it
    no longer fits with a person under it: there it goes to the next page with that person, even
    where it alone would still have fitted (typst's orphan prevention of a subheader)."""
    import pymupdf

    moved_with_room_left = 0
    for n in range(22, 30):
        ctx = reception_ctx([("アオキ ケンイチ", "青木 健一", "千葉市役所")] * n)
        for person in ctx["groups"][0]["people"]:
            person["department"] = ""  # one-line rows: steps smaller than a heading and a row
        ctx["groups"].append({"heading": "か行", "people": [
            {"kana": "カトウ ハジメ", "name": "加藤 一", "organization": "", "department": "", "session": ""}] * 3})
        with pymupdf.open(stream=documents.reception_list_pdf(ctx), filetype="pdf") as document:
            body_bottom = document[0].rect.height - 16 / 25.4 * 72  # the bottom margin
            for page in document:
                words = [w for w in page.get_text("words") if w[3] < body_bottom]
                assert max(words, key=lambda w: w[3])[4] != "か行", (n, page.number)
            first_page_end = max(w[3] for w in document[0].get_text("words") if w[3] < body_bottom)
            heading_height = 8 / 25.4 * 72  # 2.2 + 0.8 mm of padding and a 10.5 pt line
            if "か行" not in document[0].get_text() and first_page_end + heading_height < body_bottom:
                moved_with_room_left += 1
    assert moved_with_room_left  # the sweep met the case the rule is for
